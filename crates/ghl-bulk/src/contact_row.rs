//! One input record to one upsert body, or the reason it is refused.
//! Everything here happens before any request: a refused row costs nothing.

use serde_json::{Map, Value, json};

use crate::mapping::{Mapping, Target};
use crate::normalize::{self, Country};

/// Why a row is not sent; `code` is stable for scripts and the failures file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

/// An upsert ready to send, with the values it matches on.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    pub body: Map<String, Value>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

impl ContactRow {
    /// The key that de-duplicates rows inside one file: HighLevel's own
    /// match order, email first, then phone.
    pub fn match_key(&self) -> String {
        match (&self.email, &self.phone) {
            (Some(e), _) => format!("email:{e}"),
            (None, Some(p)) => format!("phone:{p}"),
            (None, None) => String::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RowOptions {
    pub default_country: Option<Country>,
    /// Tags added to every row (`--tag`).
    pub tags: Vec<String>,
}

/// Build the upsert for one record.
pub fn build(
    fields: &Map<String, Value>,
    mapping: &Mapping,
    opts: &RowOptions,
) -> Result<ContactRow, Refusal> {
    let mut body = Map::new();
    let mut tags: Vec<String> = opts.tags.clone();
    let mut customs = Map::new();
    let mut full_name = None;
    for (header, value) in fields {
        // JSON Lines may carry the API's own shapes.
        if header == "customFields" {
            if let Value::Object(m) = value {
                customs.extend(m.clone());
                continue;
            }
            return Err(Refusal::new(
                "malformed_row",
                "customFields must be an object of key: value",
            ));
        }
        if let Value::Array(items) = value
            && mapping.target(header) == Target::Tags
        {
            tags.extend(items.iter().filter_map(Value::as_str).map(str::to_string));
            continue;
        }
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.trim().to_string(),
            Value::Bool(_) | Value::Number(_) => value.to_string(),
            _ => {
                return Err(Refusal::new(
                    "malformed_row",
                    format!("{header} holds a list or object where text was expected"),
                ));
            }
        };
        if text.is_empty() {
            continue;
        }
        match mapping.target(header) {
            Target::Field(f) => {
                body.insert(f.to_string(), json!(text));
            }
            Target::FullName => full_name = Some(text),
            Target::Tags => tags.extend(
                text.split([',', ';'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            ),
            Target::Custom(key) => {
                customs.insert(key, json!(text));
            }
            Target::Skip => {}
        }
    }
    let email = match body.get("email").and_then(Value::as_str) {
        Some(raw) => Some(normalize::email(raw).map_err(|m| Refusal::new("bad_email", m))?),
        None => None,
    };
    let phone = match body.get("phone").and_then(Value::as_str) {
        Some(raw) => Some(
            normalize::phone(raw, opts.default_country)
                .map_err(|m| Refusal::new("bad_phone", m))?,
        ),
        None => None,
    };
    if email.is_none() && phone.is_none() {
        return Err(Refusal::new(
            "missing_email_and_phone",
            "the row has neither an email nor a phone, so it cannot be matched; upsert would create a duplicate on every run",
        ));
    }
    if let Some(e) = &email {
        body.insert("email".into(), json!(e));
    }
    if let Some(p) = &phone {
        body.insert("phone".into(), json!(p));
    }
    if let Some(name) = full_name
        && !body.contains_key("firstName")
        && !body.contains_key("lastName")
    {
        let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
        body.insert("firstName".into(), json!(first.trim()));
        if !last.trim().is_empty() {
            body.insert("lastName".into(), json!(last.trim()));
        }
    }
    let mut seen = std::collections::HashSet::new();
    tags.retain(|t| seen.insert(t.to_lowercase()));
    if !tags.is_empty() {
        body.insert("tags".into(), json!(tags));
    }
    if !customs.is_empty() {
        let resolved = mapping
            .customs()
            .resolve(&customs, Some("contact"))
            .map_err(|e| {
                Refusal::new(
                    "unknown_custom_field",
                    match &e.hint {
                        Some(h) => format!("{} ({h})", e.message),
                        None => e.message.clone(),
                    },
                )
            })?;
        body.insert("customFields".into(), Value::Array(resolved));
    }
    Ok(ContactRow { body, email, phone })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ghl_core::custom_fields::FieldSet;

    fn mapping() -> Mapping {
        let customs = FieldSet::from_body(&json!({"customFields": [
            {"id": "f1", "name": "Lead Source", "fieldKey": "contact.lead_source", "model": "contact"}
        ]}));
        Mapping::new(&["Plan=contact.plan".into()], customs).unwrap()
    }

    fn rec(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect()
    }

    #[test]
    fn a_full_row() {
        let opts = RowOptions {
            default_country: Country::parse("US"),
            tags: vec!["event-2025".into()],
        };
        let r = build(
            &rec(&[
                ("Full Name", "Jane van Doe"),
                ("E-mail", " Jane@Example.com"),
                ("Phone", "(555) 123-4567"),
                ("Tags", "VIP; newsletter, vip"),
                ("Lead Source", "Ads"),
                ("Unmapped", "x"),
            ]),
            &mapping(),
            &opts,
        )
        .unwrap();
        assert_eq!(r.match_key(), "email:jane@example.com");
        assert_eq!(r.body["phone"], "+15551234567");
        assert_eq!(r.body["firstName"], "Jane");
        assert_eq!(r.body["lastName"], "van Doe");
        assert_eq!(r.body["tags"], json!(["event-2025", "VIP", "newsletter"]));
        assert_eq!(r.body["customFields"][0]["id"], "f1");
        assert!(!r.body.contains_key("Unmapped"));
    }

    #[test]
    fn refusals_say_why() {
        let m = mapping();
        let o = RowOptions::default();
        let code = |pairs: &[(&str, &str)]| build(&rec(pairs), &m, &o).unwrap_err().code;
        assert_eq!(code(&[("Email", "not-an-email")]), "bad_email");
        assert_eq!(code(&[("Phone", "555 1234")]), "bad_phone");
        assert_eq!(code(&[("First Name", "Jo")]), "missing_email_and_phone");
        assert_eq!(
            code(&[("Email", "a@x.com"), ("Plan", "gold")]),
            "unknown_custom_field"
        );
        // An empty unknown custom field is no reason to refuse.
        assert!(build(&rec(&[("Email", "a@x.com"), ("Plan", "")]), &m, &o).is_ok());
        let phone_only = build(&rec(&[("Phone", "+44 20 7946 0958")]), &m, &o).unwrap();
        assert_eq!(phone_only.match_key(), "phone:+442079460958");
    }
}
