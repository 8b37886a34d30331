//! Matching a request path against the catalog's path templates.
//!
//! Literal segments beat placeholders, segment by segment from the left, so
//! `/contacts/search` wins over `/contacts/{contactId}`. Trailing slashes are
//! significant, as in the catalog.

use std::collections::HashMap;

use ghl_catalog::Operation;

enum Seg {
    Lit(String),
    Param(String),
}

struct Route {
    op: &'static Operation,
    segs: Vec<Seg>,
}

pub struct Router {
    routes: Vec<Route>,
}

pub struct Matched {
    pub op: &'static Operation,
    pub params: HashMap<String, String>,
}

pub enum Found {
    Op(Matched),
    /// The path exists but not with this method.
    WrongMethod,
    None,
}

fn split(path: &str) -> Vec<&str> {
    path.strip_prefix('/').unwrap_or(path).split('/').collect()
}

impl Router {
    pub fn from_catalog() -> Router {
        let routes = ghl_catalog::operations()
            .iter()
            .map(|op| Route {
                op,
                segs: split(&op.path)
                    .into_iter()
                    .map(
                        |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                            Some(name) => Seg::Param(name.to_string()),
                            None => Seg::Lit(s.to_string()),
                        },
                    )
                    .collect(),
            })
            .collect();
        Router { routes }
    }

    pub fn find(&self, method: &str, path: &str) -> Found {
        let parts = split(path);
        let mut best: Option<(Vec<bool>, &Route)> = None;
        let mut path_matched = false;
        for r in &self.routes {
            if r.segs.len() != parts.len() {
                continue;
            }
            let mut score = Vec::with_capacity(parts.len());
            let ok = r.segs.iter().zip(&parts).all(|(seg, part)| match seg {
                Seg::Lit(l) => {
                    score.push(true);
                    l == part
                }
                Seg::Param(_) => {
                    score.push(false);
                    !part.is_empty()
                }
            });
            if !ok {
                continue;
            }
            path_matched = true;
            if r.op.method.as_str() != method {
                continue;
            }
            if best.as_ref().is_none_or(|(b, _)| score > *b) {
                best = Some((score, r));
            }
        }
        match best {
            Some((_, r)) => {
                let params = r
                    .segs
                    .iter()
                    .zip(&parts)
                    .filter_map(|(seg, part)| match seg {
                        Seg::Param(name) => Some((name.clone(), decode(part))),
                        Seg::Lit(_) => None,
                    })
                    .collect();
                Found::Op(Matched { op: r.op, params })
            }
            None if path_matched => Found::WrongMethod,
            None => Found::None,
        }
    }
}

pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
