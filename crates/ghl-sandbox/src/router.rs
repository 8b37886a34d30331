//! Matching a request path against the catalog's path templates.
//!
//! Literal segments beat placeholders, segment by segment from the left, so
//! `/contacts/search` wins over `/contacts/{contactId}`. Trailing slashes are
//! significant, as in the catalog.
//!
//! v2 and v3 share many paths; the request's Version header picks between
//! operations on the same template. A v3 operation on a v2 operation's path
//! is served by the v2 operation's handler (same resource, same state).

use std::collections::HashMap;
use std::sync::OnceLock;

use ghl_catalog::{Api, Operation};

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
    /// Path parameters, by the template's names and, for a v3 operation
    /// served by its v2 twin, by the twin's names too.
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

    /// The operation for a request; among equally specific templates the
    /// one whose Version matches `version` (or, with no header, the one that
    /// wants none) wins, else the first (v2's).
    pub fn find(&self, method: &str, path: &str, version: Option<&str>) -> Found {
        let parts = split(path);
        let mut best: Option<((Vec<bool>, bool), &Route)> = None;
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
            let key = (score, r.op.version.as_deref() == version);
            if best.as_ref().is_none_or(|(b, _)| key > *b) {
                best = Some((key, r));
            }
        }
        match best {
            Some((_, r)) => {
                let mut params: HashMap<String, String> = HashMap::new();
                let twin_segs = v2_twin(r.op).map(|t| split(&t.path));
                for (i, (seg, part)) in r.segs.iter().zip(&parts).enumerate() {
                    if let Seg::Param(name) = seg {
                        params.insert(name.clone(), decode(part));
                        if let Some(twin) = twin_segs.as_ref().and_then(|t| t.get(i))
                            && let Some(n) =
                                twin.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
                        {
                            params.entry(n.to_string()).or_insert_with(|| decode(part));
                        }
                    }
                }
                Found::Op(Matched { op: r.op, params })
            }
            None if path_matched => Found::WrongMethod,
            None => Found::None,
        }
    }
}

/// The v2 operation with the same method and path template (placeholder
/// names aside) as v3 operation `op`: the handler that serves it.
pub fn v2_twin(op: &Operation) -> Option<&'static Operation> {
    static TWINS: OnceLock<HashMap<(ghl_catalog::Method, String), &'static Operation>> =
        OnceLock::new();
    if op.api != Api::V3 {
        return None;
    }
    let twins = TWINS.get_or_init(|| {
        ghl_catalog::operations_of(Api::V2)
            .iter()
            .map(|o| ((o.method, shape(&o.path)), o))
            .collect()
    });
    twins.get(&(op.method, shape(&op.path))).copied()
}

/// A path template with its placeholders' names left out.
fn shape(path: &str) -> String {
    split(path)
        .iter()
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The name handlers know an operation by: a v3 operation served by its v2
/// twin goes by the twin's name.
pub fn model_name(op: &'static Operation) -> &'static str {
    v2_twin(op).map_or(op.name.as_str(), |t| t.name.as_str())
}

pub fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}
