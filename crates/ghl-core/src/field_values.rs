//! A custom field value checked against its definition before sending:
//! an option field takes one of its options (did-you-mean when close), a
//! number field a number, a date field a date. HighLevel stores what it is
//! given, so a wrong value would silently land in the CRM.

use serde_json::{Map, Value, json};

use crate::custom_fields::{CustomField, FieldSet};
use crate::error::{Error, Result};
use crate::values::closest;

/// The value to send for `field`, or why it does not fit. An option
/// written in another case becomes the option's own spelling.
pub fn check(field: &CustomField, value: &Value) -> Result<Value> {
    let ty = field
        .data_type
        .as_deref()
        .unwrap_or("")
        .to_ascii_uppercase();
    let label = if field.key.is_empty() {
        field.name.clone()
    } else {
        field.key.clone()
    };
    match ty.as_str() {
        "SINGLE_OPTIONS" | "RADIO" | "DROPDOWN" if !field.options.is_empty() => {
            option(field, &label, value).map(Value::String)
        }
        "MULTIPLE_OPTIONS" | "CHECKBOX" if !field.options.is_empty() => {
            let items: Vec<Value> = match value {
                Value::Array(a) => a.clone(),
                v => vec![v.clone()],
            };
            let picked = items
                .iter()
                .map(|v| option(field, &label, v).map(Value::String))
                .collect::<Result<Vec<_>>>()?;
            Ok(Value::Array(picked))
        }
        "NUMERICAL" | "MONETORY" | "MONETARY" | "NUMBER" => {
            let ok = value.is_number()
                || value
                    .as_str()
                    .is_some_and(|s| s.trim().parse::<f64>().is_ok());
            if ok {
                Ok(value.clone())
            } else {
                Err(
                    Error::validation(format!("custom field {label} takes a number; got {value}"))
                        .with_hint(format!("e.g. {{\"{label}\": 5000}}")),
                )
            }
        }
        "DATE" => {
            let ok = value.is_i64()
                || value.as_str().is_some_and(|s| {
                    let d = s.get(..10).unwrap_or("");
                    d.len() == 10
                        && d.chars().enumerate().all(|(i, c)| {
                            if i == 4 || i == 7 {
                                c == '-'
                            } else {
                                c.is_ascii_digit()
                            }
                        })
                });
            if ok {
                Ok(value.clone())
            } else {
                Err(
                    Error::validation(format!("custom field {label} takes a date; got {value}"))
                        .with_hint(format!("e.g. {{\"{label}\": \"2026-07-01\"}}")),
                )
            }
        }
        _ => Ok(value.clone()),
    }
}

fn option(field: &CustomField, label: &str, value: &Value) -> Result<String> {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(o) = field.options.iter().find(|o| **o == text) {
        return Ok(o.clone());
    }
    if let Some(o) = field
        .options
        .iter()
        .find(|o| o.trim().eq_ignore_ascii_case(text.trim()))
    {
        return Ok(o.clone());
    }
    let all = field.options.join(", ");
    let e = Error::validation(format!(
        "{text:?} is not an option of custom field {label} ({})",
        field.name
    ));
    Err(
        match closest(&text, field.options.iter().map(String::as_str)) {
            Some(near) => e.with_hint(format!("did you mean {near:?}? options: {all}")),
            None => e.with_hint(format!("options: {all}")),
        },
    )
}

/// Check the API's own `customFields` array (`[{id|key, value|field_value}]`)
/// against `set`, returning it with option spellings normalised.
pub fn check_items(set: &FieldSet, items: &Value, model: Option<&str>) -> Result<Value> {
    let Value::Array(list) = items else {
        return Ok(items.clone());
    };
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        let Value::Object(m) = item else {
            out.push(item.clone());
            continue;
        };
        let wanted = m
            .get("id")
            .or_else(|| m.get("key"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let value_key = if m.contains_key("field_value") {
            "field_value"
        } else {
            "value"
        };
        let mut m: Map<String, Value> = m.clone();
        if let Some(f) = set.find(wanted, model)
            && let Some(v) = m.get(value_key).cloned()
        {
            m.insert(value_key.to_string(), check(f, &v)?);
        }
        out.push(Value::Object(m));
    }
    Ok(json!(out))
}

/// A request's values must be spelled as the options are: `sent` is what
/// the caller gave, `checked` what [`check_items`] made of it.
pub fn same_spelling(sent: &Value, checked: &Value) -> Result<()> {
    let (Value::Array(a), Value::Array(b)) = (sent, checked) else {
        return Ok(());
    };
    for (x, y) in a.iter().zip(b) {
        if x != y {
            let value = |v: &Value| v.get("field_value").or_else(|| v.get("value")).cloned();
            let (given, option) = (value(x).unwrap_or_default(), value(y).unwrap_or_default());
            return Err(Error::validation(format!(
                "custom field value {given} is not spelled as its option"
            ))
            .with_hint(format!("did you mean {option}?")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lead_source() -> CustomField {
        CustomField {
            id: "f1".into(),
            name: "Lead Source".into(),
            key: "contact.lead_source".into(),
            data_type: Some("SINGLE_OPTIONS".into()),
            model: Some("contact".into()),
            options: vec!["Google Ads".into(), "Facebook".into()],
        }
    }

    #[test]
    fn options_numbers_dates() {
        let f = lead_source();
        let e = check(&f, &json!("Ads")).unwrap_err();
        assert!(
            e.hint
                .clone()
                .unwrap()
                .contains("did you mean \"Google Ads\"")
        );
        assert_eq!(check(&f, &json!("facebook")).unwrap(), json!("Facebook"));
        let n = CustomField {
            data_type: Some("NUMERICAL".into()),
            options: vec![],
            ..f.clone()
        };
        assert!(check(&n, &json!("ten")).is_err());
        assert!(check(&n, &json!(10)).is_ok());
        let d = CustomField {
            data_type: Some("DATE".into()),
            options: vec![],
            ..f
        };
        assert!(check(&d, &json!("next week")).is_err());
        assert!(check(&d, &json!("2026-07-01")).is_ok());
    }
}
