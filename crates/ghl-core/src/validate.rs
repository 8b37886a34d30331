//! Checks on single values, done before any network I/O.

use ghl_catalog::{Param, ValueType};
use serde_json::Value;

use crate::error::{Error, Result};

/// Longest value accepted in a path segment.
pub const MAX_PATH_VALUE: usize = 256;
/// Longest value accepted in one query parameter.
pub const MAX_QUERY_VALUE: usize = 4096;

/// A path value must stay one segment: no separators, no encodings the
/// server might decode again, no dot segments. Dotted keys such as
/// `contact.first_name` are legitimate and pass.
pub fn path_value(name: &str, value: &str) -> Result<()> {
    let refuse = |why: &str| {
        Err(
            Error::validation(format!("path parameter {name}={value:?} is refused: {why}"))
                .with_hint(format!(
                    "pass the bare id for {name}, e.g. {name}=ve9EPM428h8vShlRW1KT"
                )),
        )
    };
    if value.is_empty() {
        return refuse("it is empty");
    }
    if value.len() > MAX_PATH_VALUE {
        return Err(Error::validation(format!(
            "path parameter {name} is {} characters long; the limit is {MAX_PATH_VALUE}",
            value.len()
        )));
    }
    if value == "." || value == ".." {
        return refuse("dot segments are not ids");
    }
    if let Some(c) = value
        .chars()
        .find(|c| matches!(c, '/' | '\\' | '?' | '#' | '%') || c.is_whitespace() || c.is_control())
    {
        return refuse(&format!("it contains {c:?}"));
    }
    Ok(())
}

pub fn query_value(name: &str, value: &str) -> Result<()> {
    if value.len() > MAX_QUERY_VALUE {
        return Err(Error::validation(format!(
            "query parameter {name} is {} characters long; the limit is {MAX_QUERY_VALUE}",
            value.len()
        )));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(Error::validation(format!(
            "query parameter {name} contains a control character"
        )));
    }
    Ok(())
}

/// Convert a user's value to the parameter's declared type. Strings typed on
/// a command line become numbers or booleans; an ISO date given where the
/// API wants epoch milliseconds is converted, since that mistake is common.
pub fn coerce(param: &Param, value: Value) -> Result<Value> {
    let bad = |want: &str, got: &Value| {
        Error::validation(format!("{} must be {want}; got {}", param.name, short(got)))
    };
    let coerced = match (param.value_type, value) {
        (ValueType::Integer, Value::String(s)) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                Value::from(i)
            } else if let Some(ms) = wants_epoch_ms(param).then(|| iso_to_epoch_ms(t)).flatten() {
                Value::from(ms)
            } else {
                return Err(bad("an integer", &Value::String(s)));
            }
        }
        (ValueType::Number, Value::String(s)) => {
            let t = s.trim();
            if let Ok(i) = t.parse::<i64>() {
                Value::from(i)
            } else if let Some(n) = t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Value::Number(n)
            } else if let Some(ms) = wants_epoch_ms(param).then(|| iso_to_epoch_ms(t)).flatten() {
                Value::from(ms)
            } else {
                let mut e = bad("a number", &Value::String(s));
                if wants_epoch_ms(param) {
                    e = e.with_hint(format!(
                        "{} takes epoch milliseconds (e.g. 1735689600000) or an ISO date (2025-01-01)",
                        param.name
                    ));
                }
                return Err(e);
            }
        }
        (ValueType::Integer, Value::Number(n)) if n.is_f64() => {
            return Err(bad("an integer", &Value::Number(n)));
        }
        (ValueType::Integer | ValueType::Number, v @ Value::Number(_)) => v,
        (ValueType::Boolean, Value::String(s)) => match s.trim() {
            "true" | "1" | "yes" => Value::Bool(true),
            "false" | "0" | "no" => Value::Bool(false),
            _ => return Err(bad("true or false", &Value::String(s))),
        },
        (ValueType::Boolean, v @ Value::Bool(_)) => v,
        (ValueType::Array, Value::String(s)) => {
            let t = s.trim();
            if t.starts_with('[') {
                serde_json::from_str(t)
                    .map_err(|e| bad(&format!("a JSON array ({e})"), &Value::String(s.clone())))?
            } else {
                let items = t
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(|x| Value::String(x.to_string()))
                    .collect::<Vec<_>>();
                let item_param = Param {
                    value_type: param.items.unwrap_or(ValueType::String),
                    ..param.clone()
                };
                Value::Array(
                    items
                        .into_iter()
                        .map(|x| coerce(&item_param, x))
                        .collect::<Result<_>>()?,
                )
            }
        }
        (ValueType::Array, v @ Value::Array(_)) => v,
        (ValueType::Object, Value::String(s)) => {
            let v: Value = serde_json::from_str(&s)
                .map_err(|_| bad("a JSON object", &Value::String(s.clone())))?;
            if !v.is_object() {
                return Err(bad("a JSON object", &v));
            }
            v
        }
        (ValueType::Object, v @ Value::Object(_)) => v,
        (ValueType::String, Value::String(s)) => Value::String(s),
        // A number or boolean where a string is wanted is harmless to send
        // as text (ids typed as numbers, `limit` declared as string).
        (ValueType::String, v @ (Value::Number(_) | Value::Bool(_))) => {
            Value::String(v.to_string())
        }
        (ValueType::Any, v) => v,
        (t, v) => return Err(bad(&format!("of type {}", t.as_str()), &v)),
    };
    check_enum(param, &coerced)?;
    check_range(param, &coerced)?;
    Ok(coerced)
}

fn check_range(param: &Param, value: &Value) -> Result<()> {
    let Some(n) = value.as_f64() else {
        return Ok(());
    };
    let below = param.minimum.is_some_and(|m| n < m);
    let above = param.maximum.is_some_and(|m| n > m);
    if below || above {
        let range = match (param.minimum, param.maximum) {
            (Some(lo), Some(hi)) => format!("from {lo} to {hi}"),
            (Some(lo), None) => format!("at least {lo}"),
            (None, Some(hi)) => format!("at most {hi}"),
            (None, None) => String::new(),
        };
        return Err(Error::validation(format!(
            "{}={n} is out of range: it must be {range}",
            param.name
        )));
    }
    Ok(())
}

fn check_enum(param: &Param, value: &Value) -> Result<()> {
    if param.enum_values.is_empty() {
        return Ok(());
    }
    let values: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    for v in values {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !param.enum_values.contains(&text) {
            return Err(Error::validation(format!(
                "{}={} is not one of the allowed values",
                param.name,
                short(v)
            ))
            .with_hint(format!("allowed: {}", param.enum_values.join(", "))));
        }
    }
    Ok(())
}

fn wants_epoch_ms(param: &Param) -> bool {
    let n = param.name.to_ascii_lowercase();
    n.ends_with("date") || n.ends_with("time") || n.ends_with("at") || n == "from" || n == "to"
}

/// `2025-01-31` or `2025-01-31T15:00:00Z` / `+02:00` to epoch milliseconds.
pub fn iso_to_epoch_ms(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some((t.unix_timestamp_nanos() / 1_000_000) as i64);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s, &fmt).ok()?;
    Some(d.midnight().assume_utc().unix_timestamp() * 1000)
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_values() {
        for ok in [
            "ve9EPM428h8vShlRW1KT",
            "contact.first_name",
            "custom_objects.pet",
            "ocQHyuzHvysMo5N5VsXc_1729821600000_1800",
            "act_123",
            "550e8400-e29b-41d4-a716-446655440000",
        ] {
            assert!(path_value("id", ok).is_ok(), "{ok}");
        }
        for bad in [
            "", ".", "..", "a/b", "a\\b", "a?b=1", "a#b", "a%2Fb", "a b", "a\nb", "a\u{0}b", "a\tb",
        ] {
            assert!(path_value("id", bad).is_err(), "{bad:?}");
        }
        assert!(path_value("id", &"x".repeat(257)).is_err());
    }

    fn p(t: ValueType) -> Param {
        Param {
            name: "startDate".into(),
            location: ghl_catalog::ParamIn::Query,
            value_type: t,
            items: None,
            required: false,
            enum_values: vec![],
            format: None,
            example: None,
            minimum: None,
            maximum: None,
            declared: true,
        }
    }

    #[test]
    fn coercions() {
        assert_eq!(
            coerce(&p(ValueType::Number), "2025-01-01".into()).unwrap(),
            Value::from(1735689600000i64)
        );
        assert_eq!(
            coerce(&p(ValueType::Number), "1735689600000".into()).unwrap(),
            Value::from(1735689600000i64)
        );
        assert!(coerce(&p(ValueType::Number), "tomorrow".into()).is_err());
        assert_eq!(
            coerce(&p(ValueType::Boolean), "true".into()).unwrap(),
            Value::Bool(true)
        );
        let mut e = p(ValueType::String);
        e.enum_values = vec!["open".into(), "won".into()];
        assert!(coerce(&e, "won".into()).is_ok());
        assert!(coerce(&e, "maybe".into()).is_err());
        let mut r = p(ValueType::Integer);
        r.maximum = Some(50.0);
        r.minimum = Some(1.0);
        assert!(coerce(&r, "50".into()).is_ok());
        assert!(coerce(&r, "51".into()).is_err());
        assert!(coerce(&r, "0".into()).is_err());
        let mut a = p(ValueType::Array);
        a.items = Some(ValueType::String);
        assert_eq!(
            coerce(&a, "a,b".into()).unwrap(),
            serde_json::json!(["a", "b"])
        );
    }
}
