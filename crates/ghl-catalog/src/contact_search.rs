//! The filters of HighLevel's contact search (POST /contacts/search), whose
//! body the published spec leaves untyped. Hand-written facts, shared by
//! the client (which refuses a malformed filter before sending) and the
//! sandbox (which refuses it as HighLevel does), so the two agree.
//!
//! A filter is `{"field": F, "operator": OP, "value": V}`; a group is
//! `{"group": "AND"|"OR", "filters": [...]}`.

use serde_json::Value;

/// The operators a filter takes.
pub const OPERATORS: &[&str] = &[
    "eq",
    "not_eq",
    "contains",
    "not_contains",
    "exists",
    "not_exists",
    "range",
];

/// Operators that take no value.
pub const VALUELESS: &[&str] = &["exists", "not_exists"];

/// Standard contact fields a filter may name; custom fields are
/// `customFields.<field id>`.
pub const FIELDS: &[&str] = &[
    "id",
    "firstName",
    "firstNameLowerCase",
    "lastName",
    "lastNameLowerCase",
    "fullNameLowerCase",
    "name",
    "email",
    "phone",
    "companyName",
    "businessName",
    "address1",
    "city",
    "state",
    "country",
    "postalCode",
    "website",
    "timezone",
    "source",
    "type",
    "tags",
    "dnd",
    "assignedTo",
    "followers",
    "dateOfBirth",
    "dateAdded",
    "dateUpdated",
    "lastActivity",
    "validEmail",
];

/// A correct filter, shown when one is refused.
pub const EXAMPLE: &str = r#"{"field": "tags", "operator": "eq", "value": "vip"}"#;

/// The filter that finds contacts with any of `tags`.
pub fn tag_filter(tags: &[String]) -> Value {
    let value = match tags {
        [one] => Value::String(one.clone()),
        many => Value::Array(many.iter().cloned().map(Value::String).collect()),
    };
    serde_json::json!({"field": "tags", "operator": "eq", "value": value})
}

/// Why `filters` (the body's `filters` array) is malformed, if it is.
pub fn check_filters(filters: &Value) -> Result<(), String> {
    let Value::Array(items) = filters else {
        return Err("`filters` must be an array of filters".into());
    };
    for (i, f) in items.iter().enumerate() {
        check_filter(f).map_err(|why| format!("filters[{i}]: {why}"))?;
    }
    Ok(())
}

fn check_filter(f: &Value) -> Result<(), String> {
    let Value::Object(m) = f else {
        return Err("a filter must be an object".into());
    };
    if let Some(group) = m.get("filters") {
        let kind = m.get("group").and_then(Value::as_str).unwrap_or("AND");
        if !kind.eq_ignore_ascii_case("and") && !kind.eq_ignore_ascii_case("or") {
            return Err(format!("group must be AND or OR, not {kind:?}"));
        }
        if let Some(k) = m
            .keys()
            .find(|k| !matches!(k.as_str(), "group" | "filters"))
        {
            return Err(format!("a group takes `group` and `filters`, not `{k}`"));
        }
        return check_filters(group);
    }
    if let Some(k) = m
        .keys()
        .find(|k| !matches!(k.as_str(), "field" | "operator" | "value"))
    {
        return Err(format!(
            "unknown key `{k}`: a filter has `field`, `operator` and `value`"
        ));
    }
    let field = m
        .get("field")
        .and_then(Value::as_str)
        .ok_or("`field` is missing")?;
    if !known_field(field) {
        return Err(format!(
            "`{field}` is not a searchable contact field (custom fields are customFields.<id>)"
        ));
    }
    let op = m
        .get("operator")
        .and_then(Value::as_str)
        .ok_or("`operator` is missing")?;
    if !OPERATORS.contains(&op) {
        return Err(format!(
            "operator `{op}` is not one of {}",
            OPERATORS.join(", ")
        ));
    }
    let value = m.get("value").filter(|v| !v.is_null());
    match (VALUELESS.contains(&op), value) {
        (true, Some(_)) => Err(format!("operator `{op}` takes no value")),
        (false, None) => Err(format!("operator `{op}` needs a value")),
        (false, Some(v)) if op == "range" => {
            let bounds = v.as_object().filter(|b| {
                !b.is_empty()
                    && b.keys()
                        .all(|k| matches!(k.as_str(), "gt" | "gte" | "lt" | "lte"))
            });
            match bounds {
                Some(_) => Ok(()),
                None => Err("`range` takes a value like {\"gte\": ..., \"lte\": ...}".into()),
            }
        }
        (false, Some(Value::Object(_))) => Err(format!(
            "operator `{op}` takes a text, number, boolean or list value"
        )),
        _ => Ok(()),
    }
}

fn known_field(field: &str) -> bool {
    FIELDS.contains(&field)
        || field
            .strip_prefix("customFields.")
            .is_some_and(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn good_and_bad_filters() {
        assert!(
            check_filters(&json!([{"field": "tags", "operator": "eq", "value": "vip"}])).is_ok()
        );
        assert!(
            check_filters(&json!([{"group": "OR", "filters": [
                {"field": "email", "operator": "exists"},
                {"field": "dateAdded", "operator": "range", "value": {"gte": "2025-01-01"}}
            ]}]))
            .is_ok()
        );
        let e = check_filters(&json!([{"tags": "vip"}])).unwrap_err();
        assert!(e.contains("unknown key `tags`"), "{e}");
        assert!(
            check_filters(&json!([{"field": "tags", "operator": "is", "value": "x"}])).is_err()
        );
        assert!(
            check_filters(&json!([{"field": "nope", "operator": "eq", "value": "x"}])).is_err()
        );
        assert!(check_filters(&json!([{"field": "tags", "operator": "eq"}])).is_err());
        assert!(check_filters(&json!({"field": "tags"})).is_err());
    }
}
