//! Checks on values the published spec cannot express or gets wrong,
//! done before sending: contact search filters (the spec leaves that body
//! untyped), enums an operation shares with another (the update of an
//! opportunity offers the search filter's `all`), and did-you-mean for a
//! value close to an allowed one.

use ghl_catalog::contact_search;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::request::{Prepared, RequestBody};

/// Opportunity statuses a deal can have; `all` only filters a search.
const DEAL_STATUS: &[&str] = &["open", "won", "lost", "abandoned"];

/// (operation, body field, allowed values) where the spec's enum is wrong
/// for that operation.
const ENUM_ERRATA: &[(&str, &str, &[&str])] = &[
    ("opportunities.update-opportunity", "status", DEAL_STATUS),
    (
        "opportunities.update-opportunity-status",
        "status",
        DEAL_STATUS,
    ),
    ("opportunities.create-opportunity", "status", DEAL_STATUS),
    ("opportunities.upsert-opportunity", "status", DEAL_STATUS),
];

/// Every check of this module on a prepared request.
pub fn check(req: &Prepared) -> Result<()> {
    let body = match &req.body {
        Some(RequestBody::Json(b)) => Some(b),
        _ => None,
    };
    if req.op.name == "contacts.search-contacts-advanced"
        && let Some(filters) = body.and_then(|b| b.get("filters"))
    {
        contact_search::check_filters(filters).map_err(|why| {
            Error::validation(format!("malformed contact search filter: {why}")).with_hint(format!(
                "a filter looks like {}; operators: {}",
                contact_search::EXAMPLE,
                contact_search::OPERATORS.join(", ")
            ))
        })?;
    }
    for (op, field, allowed) in ENUM_ERRATA {
        if req.op.name != *op {
            continue;
        }
        if let Some(v) = body.and_then(|b| b.get(*field)).filter(|v| !v.is_null()) {
            one_of(field, v, allowed)?;
        }
    }
    Ok(())
}

/// `value` must be one of `allowed` (text compared exactly).
pub fn one_of(name: &str, value: &Value, allowed: &[&str]) -> Result<()> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if allowed.contains(&text.as_str()) {
        return Ok(());
    }
    let mut e = Error::validation(format!("{name}={text:?} is not one of the allowed values"));
    e = match closest(&text, allowed.iter().copied()) {
        Some(near) => e.with_hint(format!(
            "did you mean {near:?}? allowed: {}",
            allowed.join(", ")
        )),
        None => e.with_hint(format!("allowed: {}", allowed.join(", "))),
    };
    Err(e)
}

/// The allowed value nearest to `got`: same letters in another case, one
/// containing the other, or a small edit away.
pub fn closest<'a>(got: &str, allowed: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let g = got.trim().to_lowercase();
    if g.is_empty() {
        return None;
    }
    let mut best: Option<(usize, &str)> = None;
    for a in allowed {
        let l = a.to_lowercase();
        let score = if l == g {
            0
        } else if l.contains(&g) || g.contains(&l) {
            1
        } else {
            let d = edit_distance(&l, &g);
            if d > (l.len().max(g.len()) / 3).max(1) {
                continue;
            }
            1 + d
        };
        if best.is_none_or(|(s, _)| score < s) {
            best = Some((score, a));
        }
    }
    best.map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn near_values() {
        let opts = ["Google Ads", "Facebook", "Referral"];
        assert_eq!(closest("Ads", opts.iter().copied()), Some("Google Ads"));
        assert_eq!(closest("facebok", opts.iter().copied()), Some("Facebook"));
        assert_eq!(closest("zzz", opts.iter().copied()), None);
        let e = one_of("status", &json!("all"), DEAL_STATUS).unwrap_err();
        assert!(
            e.hint
                .clone()
                .unwrap()
                .contains("open, won, lost, abandoned")
        );
    }
}
