//! Keep results small for a model's context: drop empty values, shorten
//! long text, keep only the fields asked for, and say plainly when a
//! listing was cut and how to continue.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ghl_core::{CallArgs, Error};
use serde_json::{Map, Value, json};

/// Longest string kept whole (message bodies, HTML).
const MAX_STRING: usize = 1500;
/// Keys that only cost context.
const NOISE: &[&str] = &["traceId", "__v"];

/// Remove nulls, empty strings/arrays/objects and noise keys; shorten long
/// strings. Returns whether the value is itself empty.
pub fn prune(v: &mut Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => {
            if s.chars().count() > MAX_STRING {
                let cut: String = s.chars().take(MAX_STRING).collect();
                let rest = s.chars().count() - MAX_STRING;
                *s = format!("{cut}…[+{rest} chars]");
            }
            s.is_empty()
        }
        Value::Array(a) => {
            a.retain_mut(|x| !prune(x));
            a.is_empty()
        }
        Value::Object(m) => {
            m.retain(|k, x| !NOISE.contains(&k.as_str()) && !prune(x));
            m.is_empty()
        }
        _ => false,
    }
}

/// Copies HighLevel sends next to the real field (`firstNameLowerCase`,
/// `contactName`), paging internals and the location every record of a
/// sub-account shares: about a third of a contact page, and nothing a
/// model needs. `fields: ["*"]` keeps them.
fn redundant(key: &str, record: &Map<String, Value>) -> bool {
    key.ends_with("LowerCase")
        || key == "searchAfter"
        || key == "locationId"
        || (key == "contactName"
            && (record.contains_key("name") || record.contains_key("firstName")))
}

/// Drop [`redundant`] keys at every depth.
pub fn drop_redundant(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let drop: Vec<String> = m.keys().filter(|k| redundant(k, m)).cloned().collect();
            for k in drop {
                m.remove(&k);
            }
            m.values_mut().for_each(drop_redundant);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_redundant),
        _ => {}
    }
}

/// `fields: ["*"]`: everything, nothing dropped.
pub fn wants_all(fields: &[String]) -> bool {
    fields.iter().any(|f| f.trim() == "*")
}

/// Fields asked for that no record has: a warning naming the ones it has,
/// so a misspelt name is not read as "no such data".
pub fn unknown_fields(records: &[&Value], fields: &[String]) -> Option<String> {
    if wants_all(fields) || records.is_empty() {
        return None;
    }
    let has = |head: &str| {
        records
            .iter()
            .any(|r| r.as_object().is_some_and(|m| m.contains_key(head)))
    };
    let unknown: Vec<&str> = fields
        .iter()
        .map(|f| f.split('.').next().unwrap_or(f))
        .filter(|h| !has(h))
        .collect();
    if unknown.is_empty() {
        return None;
    }
    let mut known: Vec<&str> = records
        .iter()
        .filter_map(|r| r.as_object())
        .flat_map(|m| m.keys().map(String::as_str))
        .collect();
    known.sort_unstable();
    known.dedup();
    Some(format!(
        "no record has {} (unknown or empty here); fields present: {}",
        unknown.join(", "),
        known.join(", ")
    ))
}

/// Keep only `fields` (top-level names, or dotted paths like
/// `contact.email`) of a record; `id` is always kept.
pub fn select(record: &Value, fields: &[String]) -> Value {
    let Value::Object(m) = record else {
        return record.clone();
    };
    let mut out = Map::new();
    for key in ["id", "_id"] {
        if let Some(v) = m.get(key) {
            out.insert(key.to_string(), v.clone());
        }
    }
    for f in fields {
        let (head, rest) = f.split_once('.').unwrap_or((f.as_str(), ""));
        let Some(v) = m.get(head) else { continue };
        if rest.is_empty() {
            out.insert(head.to_string(), v.clone());
        } else {
            let inner = select(v, &[rest.to_string()]);
            match out.get_mut(head) {
                Some(Value::Object(existing)) => {
                    if let Value::Object(add) = inner {
                        existing.extend(add);
                    }
                }
                _ => {
                    out.insert(head.to_string(), inner);
                }
            }
        }
    }
    Value::Object(out)
}

/// Apply `fields` to a single result: to the object itself or, when the
/// body wraps one record (`{"contact": {...}}`), to that record.
pub fn select_single(body: &Value, fields: &[String]) -> Value {
    if wants_all(fields) {
        return body.clone();
    }
    let mut body = body.clone();
    if fields.is_empty() {
        drop_redundant(&mut body);
        return body;
    }
    if let Value::Object(m) = &body
        && m.len() == 1
        && let Some((k, inner @ Value::Object(_))) = m.iter().next()
    {
        let mut out = json!({ k: select(inner, fields) });
        if let Some(w) = unknown_fields(&[inner], fields) {
            out["warning"] = json!(w);
        }
        return out;
    }
    let mut out = select(&body, fields);
    if let Some(w) = unknown_fields(&[&body], fields) {
        out["warning"] = json!(w);
    }
    out
}

/// Where a listing continues: the operation, the arguments of its next
/// page, records already shown, for unpaged operations the number of
/// records to skip locally, and the `fields` and `limit` of the first call
/// (a cursor passed alone keeps them).
#[derive(Debug, Clone, Default)]
pub struct Cursor {
    pub op: String,
    pub args: CallArgs,
    pub seen: usize,
    pub skip: usize,
    pub fields: Vec<String>,
    pub limit: Option<usize>,
    /// The total the list stated when the walk began.
    pub total: Option<u64>,
}

impl Cursor {
    /// An opaque string the model passes back. It carries only arguments
    /// the caller could have sent anyway: they are validated and policed
    /// again when used, so it needs no signature.
    pub fn encode(&self) -> String {
        let v = json!({
            "o": self.op,
            "p": self.args.params,
            "b": self.args.body,
            "n": self.seen,
            "s": self.skip,
            "f": self.fields,
            "l": self.limit,
            "t": self.total,
        });
        URL_SAFE_NO_PAD.encode(v.to_string())
    }

    pub fn decode(s: &str) -> Result<Cursor, Error> {
        let bad = || {
            Error::validation("the cursor is not valid")
                .with_hint("pass the cursor string exactly as the previous result gave it")
        };
        let raw = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
        let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
        let op = v.get("o").and_then(Value::as_str).ok_or_else(bad)?;
        let params = match v.get("p") {
            Some(Value::Object(m)) => m.clone(),
            _ => return Err(bad()),
        };
        let body = v.get("b").filter(|b| !b.is_null()).cloned();
        let num = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0) as usize;
        Ok(Cursor {
            op: op.to_string(),
            args: CallArgs {
                params,
                body,
                files: Vec::new(),
            },
            seen: num("n"),
            skip: num("s"),
            fields: v
                .get("f")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            limit: v.get("l").and_then(Value::as_u64).map(|l| l as usize),
            total: v.get("t").and_then(Value::as_u64),
        })
    }
}

/// The answer to a listing.
pub fn listing(
    mut records: Vec<Value>,
    fields: &[String],
    total: Option<u64>,
    seen_before: usize,
    next: Option<&Cursor>,
) -> Value {
    let warning = unknown_fields(&records.iter().collect::<Vec<_>>(), fields);
    if fields.is_empty() {
        records.iter_mut().for_each(drop_redundant);
    } else if !wants_all(fields) {
        // Fields named explicitly are kept, redundant or not.
        records = records.iter().map(|r| select(r, fields)).collect();
    }
    for r in records.iter_mut() {
        prune(r);
    }
    let count = records.len();
    let mut out = json!({ "count": count });
    if let Some(w) = warning {
        out["warning"] = json!(w);
    }
    if let Some(t) = total {
        out["total"] = json!(t);
    }
    if let Some(c) = next {
        let token = c.encode();
        let shown = seen_before + count;
        let more = match total {
            Some(t) if t as usize > shown => format!("{} more", t as usize - shown),
            _ => "more results".to_string(),
        };
        out["truncated"] = json!(format!("{more}; call again with only `cursor` to continue"));
        out["cursor"] = json!(token);
    }
    out["records"] = Value::Array(records);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prunes_and_selects() {
        let mut v = json!({"a": null, "b": "", "c": [], "d": {"e": null}, "f": 1, "traceId": "x"});
        prune(&mut v);
        assert_eq!(v, json!({"f": 1}));
        let r = json!({"id": "1", "email": "a@b", "name": "N", "x": {"y": 1, "z": 2}});
        assert_eq!(
            select(&r, &["email".into(), "x.y".into()]),
            json!({"id": "1", "email": "a@b", "x": {"y": 1}})
        );
        assert_eq!(
            select_single(&json!({"contact": r}), &["name".into()]),
            json!({"contact": {"id": "1", "name": "N"}})
        );
    }

    #[test]
    fn redundant_fields_go_unless_all_are_asked() {
        let r = json!({"id": "1", "firstName": "Jane", "firstNameLowerCase": "jane",
            "contactName": "Jane Doe", "locationId": "L", "searchAfter": [1, "x"]});
        let out = listing(vec![r.clone()], &[], None, 0, None);
        assert_eq!(out["records"][0], json!({"id": "1", "firstName": "Jane"}));
        let out = listing(vec![r.clone()], &["*".into()], None, 0, None);
        assert_eq!(out["records"][0], r);
        let out = listing(vec![r], &["emial".into()], None, 0, None);
        assert!(out["warning"].as_str().unwrap().contains("emial"), "{out}");
    }

    #[test]
    fn cursor_round_trip() {
        let c = Cursor {
            op: "contacts.get-contacts".into(),
            args: CallArgs::new().param("startAfterId", "x"),
            seen: 20,
            skip: 0,
            total: Some(57),
            ..Cursor::default()
        };
        let d = Cursor::decode(&c.encode()).unwrap();
        assert_eq!(
            (d.op, d.args.params, d.seen, d.total),
            (c.op, c.args.params, c.seen, c.total)
        );
        assert!(Cursor::decode("!!").is_err());
    }
}
