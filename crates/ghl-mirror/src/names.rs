//! Names for ids: people say "Sales" and "Proposal sent", the API wants
//! ids. Each kind of id declares where its names live; resolution accepts
//! an id as is, a name (case-insensitive) when it is unique, and otherwise
//! fails with the candidates or a did-you-mean, before any request.

use ghl_core::Error;
use ghl_store::{QueryLimits, Value};

/// The kinds of id a command may take by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Pipeline,
    Stage,
    User,
    Calendar,
}

impl IdKind {
    pub fn label(self) -> &'static str {
        match self {
            IdKind::Pipeline => "pipeline",
            IdKind::Stage => "stage",
            IdKind::User => "user",
            IdKind::Calendar => "calendar",
        }
    }

    /// `id`, `name`, and a scope column (`pipeline_id` for stages).
    fn sql(self) -> &'static str {
        match self {
            IdKind::Pipeline => "SELECT id, name, '' AS scope FROM pipelines",
            IdKind::Stage => {
                "SELECT s.id, s.name, s.pipeline_id AS scope, p.name AS scope_name FROM stages s LEFT JOIN pipelines p ON p.id = s.pipeline_id"
            }
            IdKind::User => {
                "SELECT id, COALESCE(NULLIF(name, ''), email) AS name, '' AS scope FROM users"
            }
            IdKind::Calendar => "SELECT id, name, '' AS scope FROM calendars",
        }
    }

    /// Where to list the choices when a name is not found.
    fn listing(self) -> &'static str {
        match self {
            IdKind::Pipeline | IdKind::Stage => "`ghl pipelines list`",
            IdKind::User => "`ghl users list`",
            IdKind::Calendar => "`ghl calendars list`",
        }
    }
}

/// One known id with its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: String,
    /// For stages: the pipeline id and name.
    pub scope: String,
    pub scope_name: String,
}

/// The names of one kind, from wherever they came (mirror or API).
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub items: Vec<Named>,
}

impl Directory {
    /// Load a kind's names from the mirror.
    pub fn from_mirror(mirror: &crate::Mirror, kind: IdKind) -> Result<Directory, Error> {
        let r = mirror.query(
            kind.sql(),
            QueryLimits {
                max_rows: 100_000,
                ..QueryLimits::default()
            },
        )?;
        let col = |row: &[Value], i: usize| {
            row.get(i)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(Directory {
            items: r
                .rows
                .iter()
                .map(|row| Named {
                    id: col(row, 0),
                    name: col(row, 1),
                    scope: col(row, 2),
                    scope_name: col(row, 3),
                })
                .filter(|n| !n.id.is_empty())
                .collect(),
        })
    }

    /// The name of an id, for tables.
    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.name.as_str())
    }

    /// Like [`Directory::resolve`], but a single word that is neither a
    /// known id, a name, nor close to one is taken as an id this directory
    /// does not know yet (new since the last sync): the API judges it.
    pub fn resolve_or_keep(
        &self,
        kind: IdKind,
        input: &str,
        scope: Option<&str>,
    ) -> Result<String, Error> {
        match self.resolve(kind, input, scope) {
            Ok(id) => Ok(id),
            Err(e) => {
                let word = !input.trim().contains(char::is_whitespace);
                let unknown = e.message.starts_with("no ");
                let near = e
                    .hint
                    .as_deref()
                    .is_some_and(|h| h.starts_with("did you mean"));
                let elsewhere: Vec<String> = self
                    .items
                    .iter()
                    .filter(|n| n.name.trim().eq_ignore_ascii_case(input.trim()))
                    .map(describe)
                    .collect();
                if !elsewhere.is_empty() {
                    // A name, but of another pipeline's stage.
                    return Err(e.with_hint(format!(
                        "{} is not in this pipeline; pass a {} of the deal's pipeline",
                        elsewhere.join("; "),
                        kind.label()
                    )));
                }
                if word && unknown && !near {
                    Ok(input.trim().to_string())
                } else {
                    Err(e)
                }
            }
        }
    }

    /// An id for what the user typed; `scope` narrows stages to a pipeline.
    pub fn resolve(&self, kind: IdKind, input: &str, scope: Option<&str>) -> Result<String, Error> {
        let input = input.trim();
        if self.items.iter().any(|n| n.id == input) {
            return Ok(input.to_string());
        }
        let in_scope: Vec<&Named> = self
            .items
            .iter()
            .filter(|n| scope.is_none_or(|s| n.scope == s || n.scope_name.eq_ignore_ascii_case(s)))
            .collect();
        let hits: Vec<&&Named> = in_scope
            .iter()
            .filter(|n| n.name.trim().eq_ignore_ascii_case(input))
            .collect();
        match hits.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => {
                let near = suggest(input, &in_scope);
                let e = Error::validation(format!("no {} named \"{input}\"", kind.label()));
                Err(if near.is_empty() {
                    e.with_hint(format!(
                        "{} shows them; after changes, `ghl sync` refreshes the names",
                        kind.listing()
                    ))
                } else {
                    e.with_hint(format!("did you mean {}?", near.join(", ")))
                })
            }
            many => {
                let choices: Vec<String> = many.iter().map(|n| describe(n)).collect();
                Err(Error::validation(format!(
                    "\"{input}\" names {} {}s: {}",
                    many.len(),
                    kind.label(),
                    choices.join("; ")
                ))
                .with_hint("pass the id instead, or name the pipeline too (--pipeline NAME)"))
            }
        }
    }
}

fn describe(n: &Named) -> String {
    if n.scope_name.is_empty() {
        format!("\"{}\" ({})", n.name, n.id)
    } else {
        format!("\"{}\" in {} ({})", n.name, n.scope_name, n.id)
    }
}

/// Names close to what was typed: containing it, or a few edits away.
fn suggest(input: &str, items: &[&Named]) -> Vec<String> {
    let want = input.to_lowercase();
    let mut scored: Vec<(usize, String)> = items
        .iter()
        .filter_map(|n| {
            let name = n.name.to_lowercase();
            let d = distance(&want, &name);
            let close = name.contains(&want) || want.contains(&name) || d <= want.len().max(3) / 3;
            (close && !name.is_empty()).then(|| (d, describe(n)))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, s)| s).collect()
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != *cb) as usize)
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        let n = |id: &str, name: &str, scope: &str, scope_name: &str| Named {
            id: id.into(),
            name: name.into(),
            scope: scope.into(),
            scope_name: scope_name.into(),
        };
        Directory {
            items: vec![
                n("s1", "Proposal sent", "p1", "Sales"),
                n("s2", "Won", "p1", "Sales"),
                n("s3", "Proposal sent", "p2", "Partners"),
                n("s4", "New lead", "p2", "Partners"),
            ],
        }
    }

    #[test]
    fn ids_names_scopes_and_mistakes() {
        let d = dir();
        assert_eq!(d.resolve(IdKind::Stage, "s2", None).unwrap(), "s2");
        assert_eq!(d.resolve(IdKind::Stage, "won", None).unwrap(), "s2");
        assert_eq!(
            d.resolve(IdKind::Stage, "Proposal sent", Some("Partners"))
                .unwrap(),
            "s3"
        );
        let e = d.resolve(IdKind::Stage, "proposal sent", None).unwrap_err();
        assert!(e.message.contains("2 stages"), "{}", e.message);
        assert!(e.message.contains("Sales") && e.message.contains("Partners"));
        let e = d
            .resolve(IdKind::Stage, "Propsal sent", Some("p1"))
            .unwrap_err();
        assert!(
            e.hint
                .as_deref()
                .unwrap()
                .contains("did you mean \"Proposal sent\"")
        );
        let e = d.resolve(IdKind::Stage, "zzz", None).unwrap_err();
        assert!(e.hint.as_deref().unwrap().contains("ghl pipelines list"));
        // An unknown single word may be an id newer than the directory.
        assert_eq!(
            d.resolve_or_keep(IdKind::Stage, "abc123", None).unwrap(),
            "abc123"
        );
        assert!(
            d.resolve_or_keep(IdKind::Stage, "new lead x", None)
                .is_err()
        );
        assert!(d.resolve_or_keep(IdKind::Stage, "Wom", None).is_err());
        assert!(
            d.resolve_or_keep(IdKind::Stage, "proposal sent", None)
                .is_err()
        );
        let e = d
            .resolve_or_keep(IdKind::Stage, "New lead", Some("p1"))
            .unwrap_err();
        assert!(e.hint.as_deref().unwrap().contains("in Partners"), "{e:?}");
    }
}
