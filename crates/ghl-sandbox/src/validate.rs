//! Request validation against the catalog, before any handler runs: Version
//! header, required and typed parameters, enums, required body fields and the
//! location the request names.

use std::collections::HashMap;

use ghl_catalog::{BodyKind, Operation, Param, ParamIn, ValueType};
use serde_json::Value;

use crate::reply::ApiError;

/// Query string pairs in order; a name may repeat.
#[derive(Debug, Default, Clone)]
pub struct Query(pub Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        Query(
            raw.map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default(),
        )
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
            .flat_map(|(_, v)| v.split(','))
            .filter(|v| !v.is_empty())
            .collect()
    }
}

pub fn version(op: &Operation, header: Option<&str>) -> Result<(), ApiError> {
    let Some(want) = op.version.as_deref() else {
        return Ok(());
    };
    match header {
        Some(v) if v.trim() == want => Ok(()),
        Some(v) => Err(ApiError::invalid(vec![format!(
            "Version header must be {want} for this endpoint (got {v})"
        )])),
        None => Err(ApiError::invalid(vec![format!(
            "Version header is required: send `Version: {want}`"
        )])),
    }
}

fn scalar_ok(t: ValueType, v: &str) -> bool {
    match t {
        ValueType::Integer => v.parse::<i64>().is_ok(),
        ValueType::Number => v.parse::<f64>().is_ok(),
        ValueType::Boolean => matches!(v, "true" | "false"),
        _ => true,
    }
}

fn type_word(t: ValueType) -> &'static str {
    match t {
        ValueType::Integer | ValueType::Number => "a number",
        ValueType::Boolean => "a boolean value",
        ValueType::String => "a string",
        ValueType::Array => "an array",
        ValueType::Object => "an object",
        ValueType::Any => "a value",
    }
}

fn check_enum(p: &Param, values: &[&str], errors: &mut Vec<String>) {
    if p.enum_values.is_empty() {
        return;
    }
    if values.iter().any(|v| !p.enum_values.iter().any(|e| e == v)) {
        errors.push(format!(
            "{} must be one of the following values: {}",
            p.name,
            p.enum_values.join(", ")
        ));
    }
}

/// The highest page number answered; HighLevel refuses page numbers below 1.
pub const MAX_PAGE: u64 = 1_000_000;

/// A `page` (query or body) must be a whole number from 1 to [`MAX_PAGE`]:
/// 0, -1 or 2^62 is an error, not page 1.
pub fn page_number(q: &Query, body: &Value) -> Result<(), ApiError> {
    let bad = |shown: String| {
        Err(ApiError::invalid(vec![format!(
            "page must be a whole number from 1 to {MAX_PAGE} (got {shown})"
        )]))
    };
    let ok = |n: Option<u64>| n.is_some_and(|n| (1..=MAX_PAGE).contains(&n));
    for v in q.all("page") {
        if !ok(v.trim().parse::<u64>().ok()) {
            return bad(v.chars().take(40).collect());
        }
    }
    if let Some(v) = body.get("page").filter(|v| !v.is_null()) {
        let n = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        if !ok(n) {
            return bad(v.to_string().chars().take(40).collect());
        }
    }
    Ok(())
}

pub fn query(op: &Operation, q: &Query) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    for p in op.params.iter().filter(|p| p.location == ParamIn::Query) {
        let values = q.all(&p.name);
        if values.is_empty() {
            if p.required {
                errors.push(format!("{} should not be empty", p.name));
            }
            continue;
        }
        let elem = if p.value_type == ValueType::Array {
            p.items.unwrap_or(ValueType::String)
        } else {
            p.value_type
        };
        if values.iter().any(|v| !scalar_ok(elem, v)) {
            errors.push(format!("{} must be {}", p.name, type_word(elem)));
            continue;
        }
        check_enum(p, &values, &mut errors);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errors))
    }
}

fn json_type_ok(t: ValueType, v: &Value) -> bool {
    match t {
        ValueType::String => v.is_string(),
        ValueType::Integer => v.is_i64() || v.is_u64(),
        ValueType::Number => v.is_number(),
        ValueType::Boolean => v.is_boolean(),
        ValueType::Array => v.is_array(),
        ValueType::Object => v.is_object(),
        ValueType::Any => true,
    }
}

pub fn body(op: &Operation, body: &Value) -> Result<(), ApiError> {
    let Some(spec) = op.body.as_ref() else {
        return Ok(());
    };
    // Multipart uploads carry files, not JSON; only JSON and form bodies are checked.
    if spec.kind == BodyKind::Multipart {
        return Ok(());
    }
    let typed = spec.kind == BodyKind::Json;
    let obj = body.as_object();
    let mut errors = Vec::new();
    if spec.required && body.is_null() && spec.fields.iter().any(|f| f.required) {
        errors.push("request body should not be empty".to_string());
    }
    for f in &spec.fields {
        let v = obj.and_then(|o| o.get(&f.name)).filter(|v| !v.is_null());
        let Some(v) = v else {
            if f.required {
                errors.push(format!("{} should not be empty", f.name));
            }
            continue;
        };
        if typed && !json_type_ok(f.value_type, v) {
            errors.push(format!("{} must be {}", f.name, type_word(f.value_type)));
            continue;
        }
        if let Some(s) = v.as_str() {
            check_enum(f, &[s], &mut errors);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(errors))
    }
}

const LOCATION_NAMES: [&str; 3] = ["locationId", "location_id", "locationID"];

/// Every location id the request names, wherever it puts it.
pub fn named_locations(
    op: &Operation,
    path: &HashMap<String, String>,
    q: &Query,
    body: &Value,
) -> Vec<String> {
    let mut out = Vec::new();
    for n in LOCATION_NAMES {
        if let Some(v) = path.get(n) {
            out.push(v.clone());
        }
        if let Some(v) = q.get(n) {
            out.push(v.to_string());
        }
        if let Some(v) = body.get(n).and_then(Value::as_str) {
            out.push(v.to_string());
        }
    }
    let alt_q = q.get("altType") == Some("location");
    if alt_q && let Some(v) = q.get("altId") {
        out.push(v.to_string());
    }
    if body.get("altType").and_then(Value::as_str) == Some("location")
        && let Some(v) = body.get("altId").and_then(Value::as_str)
    {
        out.push(v.to_string());
    }
    // An op whose catalog entry names another parameter as the location one.
    if let Some(lp) = &op.location_param
        && !lp.alt
        && !LOCATION_NAMES.contains(&lp.name.as_str())
    {
        let v = match lp.location {
            ParamIn::Path => path.get(&lp.name).cloned(),
            ParamIn::Query => q.get(&lp.name).map(str::to_string),
            _ => body
                .get(&lp.name)
                .and_then(Value::as_str)
                .map(str::to_string),
        };
        out.extend(v);
    }
    out.retain(|v| !v.is_empty());
    out
}

pub fn location(
    op: &Operation,
    path: &HashMap<String, String>,
    q: &Query,
    body: &Value,
    token_location: &str,
) -> Result<(), ApiError> {
    if named_locations(op, path, q, body)
        .iter()
        .any(|l| l != token_location)
    {
        return Err(ApiError::new(
            403,
            "The token does not have access to this location",
        ));
    }
    Ok(())
}
