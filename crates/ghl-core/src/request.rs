//! Turn an operation and the user's arguments into an exact HTTP request,
//! validated against the catalog. Nothing here touches the network.

use ghl_catalog::{BodyKind, Method, Operation, ParamIn};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

use crate::args::{CallArgs, MAX_BODY_BYTES};
use crate::error::{Error, Result};
use crate::validate;

/// Everything but the RFC 3986 unreserved characters is encoded in a path
/// segment (validation has already refused separators).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Values the caller's profile supplies when a request leaves them out.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    pub location_id: Option<String>,
    /// The agency (company) id, for the operations that take `companyId`.
    pub company_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RequestBody {
    Json(Value),
    Form(Vec<(String, String)>),
    Multipart {
        fields: Vec<(String, String)>,
        files: Vec<(String, PathBuf)>,
    },
}

/// A request ready for the transport.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub op: &'static Operation,
    pub method: Method,
    /// Path with every value percent-encoded, starting with `/`.
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Headers the operation needs (Version, Accept); never Authorization.
    pub headers: Vec<(String, String)>,
    pub body: Option<RequestBody>,
    /// The location this request acts for: its rate-limit bucket.
    pub location: Option<String>,
    /// The validated arguments, kept so a pager can ask for the next page.
    pub args: CallArgs,
    /// May take the rate-limit slots a reservation keeps free
    /// ([`crate::ratelimit::RateLimiter::reserve`]).
    pub priority: bool,
}

impl Prepared {
    /// Whether sending this again after it may have arrived cannot
    /// duplicate work. An upsert is an update only when its body carries
    /// what HighLevel matches on (email or phone); without, it creates.
    pub fn retry_safe(&self) -> bool {
        if !self.op.idempotent {
            return false;
        }
        if self.op.name == "contacts.upsert-contact" {
            let Some(RequestBody::Json(body)) = &self.body else {
                return false;
            };
            let has = |k: &str| {
                body.get(k)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.trim().is_empty())
            };
            return has("email") || has("phone");
        }
        true
    }

    /// Full URL against `base` (no trailing slash needed), query encoded.
    pub fn url(&self, base: &str) -> Result<url::Url> {
        let base = base.trim_end_matches('/');
        let mut url = url::Url::parse(&format!("{base}{}", self.path))
            .map_err(|e| Error::config(format!("bad base URL {base}: {e}")))?;
        if !self.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &self.query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    /// What `--dry-run` prints: the exact request, token redacted.
    pub fn describe(&self, base: &str) -> Value {
        let url = self
            .url(base)
            .map(|u| u.to_string())
            .unwrap_or_else(|_| format!("{base}{}", self.path));
        let mut headers = Map::new();
        headers.insert("Authorization".into(), json!("Bearer [REDACTED]"));
        for (k, v) in &self.headers {
            headers.insert(k.clone(), json!(v));
        }
        let body = match &self.body {
            None => Value::Null,
            Some(RequestBody::Json(v)) => {
                headers.insert("Content-Type".into(), json!("application/json"));
                v.clone()
            }
            Some(RequestBody::Form(f)) => {
                headers.insert(
                    "Content-Type".into(),
                    json!("application/x-www-form-urlencoded"),
                );
                Value::Object(f.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
            }
            Some(RequestBody::Multipart { fields, files }) => {
                headers.insert("Content-Type".into(), json!("multipart/form-data"));
                json!({
                    "fields": fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>(),
                    "files": files.iter().map(|(k, p)| (k.clone(), json!(p.display().to_string()))).collect::<Map<_, _>>(),
                })
            }
        };
        json!({
            "dry_run": true,
            "operation": self.op.name,
            "method": self.method.as_str(),
            "url": url,
            "headers": headers,
            "body": body,
        })
    }
}

/// Validate `args` against `op` and build the request.
pub fn prepare(op: &'static Operation, args: &CallArgs, defaults: &Defaults) -> Result<Prepared> {
    prepare_inner(op, args, defaults).map_err(|e| e.with_operation(&op.name))
}

fn prepare_inner(op: &'static Operation, args: &CallArgs, defaults: &Defaults) -> Result<Prepared> {
    let mut params = args.params.clone();
    let mut body_obj: Option<Map<String, Value>> = match &args.body {
        None => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(other) => {
            if op.body.is_none() {
                return Err(Error::validation(format!("{} takes no body", op.name)));
            }
            // A non-object body (an array) goes as is; fields cannot be merged.
            if !params.keys().any(|k| op.param(k).is_none()) {
                return finish(op, params, Some(other.clone()), args);
            }
            return Err(Error::validation(
                "body must be a JSON object to add fields to it",
            ));
        }
    };
    if op.body.is_none() && body_obj.is_some() {
        return Err(Error::validation(format!("{} takes no body", op.name))
            .with_hint("pass parameters as name=value instead"));
    }

    // Names that are not path/query/header parameters belong to the body.
    let extra: Vec<String> = params
        .keys()
        .filter(|k| op.param(k).is_none())
        .cloned()
        .collect();
    for name in extra {
        let Some(body) = &op.body else {
            return Err(unknown_param(op, &name));
        };
        let declared = body.fields.iter().any(|f| f.name == name);
        if !declared && !body.fields.is_empty() {
            return Err(unknown_param(op, &name));
        }
        let value = params.remove(&name).unwrap_or(Value::Null);
        body_obj.get_or_insert_with(Map::new).insert(name, value);
    }
    if op.body.is_some()
        && body_obj.is_none()
        && op
            .body
            .as_ref()
            .is_some_and(|b| b.required || !b.fields.is_empty())
    {
        body_obj = Some(Map::new());
    }

    // Agency-level operations name the company; fill it in likewise.
    if let Some(company) = &defaults.company_id {
        if op.param("companyId").is_some() {
            params.entry("companyId").or_insert(json!(company));
        } else if op.body_field("companyId").is_some() {
            let b = body_obj.get_or_insert_with(Map::new);
            b.entry("companyId").or_insert(json!(company));
        }
    }

    // Fill in the location from the profile when the operation needs one.
    let mut location = None;
    if let Some(lp) = &op.location_param {
        let given = match lp.location {
            ParamIn::Body => body_obj.as_ref().and_then(|b| b.get(&lp.name)).cloned(),
            _ => params.get(&lp.name).cloned(),
        };
        let value = match given {
            Some(v) => Some(v),
            None => defaults.location_id.clone().map(Value::String),
        };
        if let Some(v) = value {
            let alt_is_location = !lp.alt
                || match lp.location {
                    ParamIn::Body => body_obj.as_ref().and_then(|b| b.get("altType")),
                    _ => params.get("altType"),
                }
                .and_then(Value::as_str)
                .is_none_or(|t| t == "location");
            if alt_is_location {
                location = v.as_str().map(String::from);
            }
            match lp.location {
                ParamIn::Body => {
                    let b = body_obj.get_or_insert_with(Map::new);
                    b.entry(lp.name.clone()).or_insert(v);
                    if lp.alt {
                        b.entry("altType").or_insert(json!("location"));
                    }
                }
                _ => {
                    params.entry(lp.name.clone()).or_insert(v);
                    if lp.alt {
                        params.entry("altType").or_insert(json!("location"));
                    }
                }
            }
        }
    }
    let mut prepared = finish(op, params, body_obj.map(Value::Object), args)?;
    // A location token's every call counts against its location, whether
    // or not the operation names it: such calls share the profile
    // location's bucket, or the limiter would allow twice the budget.
    if op.location_param.is_none() && !crate::agency::is_agency_level(op) {
        location = location.or_else(|| defaults.location_id.clone());
    }
    prepared.location = location;
    // Pagers ask for the next page by changing the caller's own arguments.
    prepared.args = args.clone();
    Ok(prepared)
}

fn finish(
    op: &'static Operation,
    params: Map<String, Value>,
    body: Option<Value>,
    args: &CallArgs,
) -> Result<Prepared> {
    // Path.
    let mut path = String::with_capacity(op.path.len() + 32);
    let mut rest = op.path.as_str();
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        path.push_str(&rest[..start]);
        let name = &rest[start + 1..start + len];
        let value = params.get(name).ok_or_else(|| missing(op, name, "path"))?;
        let text = scalar_text(name, value)?;
        validate::path_value(name, &text)?;
        path.push_str(&utf8_percent_encode(&text, SEGMENT).to_string());
        rest = &rest[start + len + 1..];
    }
    path.push_str(rest);

    // Query and headers.
    let mut query = Vec::new();
    let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
    if let Some(v) = &op.version {
        headers.push(("Version".to_string(), v.clone()));
    }
    for p in &op.params {
        if p.location == ParamIn::Path {
            continue;
        }
        let Some(raw) = params.get(&p.name) else {
            if p.required {
                return Err(missing(
                    op,
                    &p.name,
                    if p.location == ParamIn::Query {
                        "query"
                    } else {
                        "header"
                    },
                ));
            }
            continue;
        };
        let value = validate::coerce(p, raw.clone())?;
        let texts: Vec<String> = match &value {
            Value::Array(items) => items
                .iter()
                .map(|x| scalar_text(&p.name, x))
                .collect::<Result<_>>()?,
            v => vec![scalar_text(&p.name, v)?],
        };
        for text in texts {
            validate::query_value(&p.name, &text)?;
            match p.location {
                ParamIn::Header => headers.push((p.name.clone(), text)),
                _ => query.push((p.name.clone(), text)),
            }
        }
    }

    // Body.
    let body = match (&op.body, body) {
        (None, _) => None,
        (Some(_), None) => None,
        (Some(spec), Some(mut b)) => {
            if let Value::Object(map) = &mut b {
                for f in &spec.fields {
                    match map.get(&f.name) {
                        Some(Value::Null) | None => {
                            if f.required && spec.kind == BodyKind::Json {
                                return Err(missing(op, &f.name, "body"));
                            }
                        }
                        Some(v) => {
                            let c = validate::coerce(f, v.clone())?;
                            map.insert(f.name.clone(), c);
                        }
                    }
                }
            }
            let size = serde_json::to_vec(&b).map(|v| v.len()).unwrap_or(0);
            if size > MAX_BODY_BYTES {
                return Err(Error::validation(format!(
                    "body is {size} bytes; the limit is {MAX_BODY_BYTES}"
                )));
            }
            Some(match spec.kind {
                BodyKind::Json => RequestBody::Json(b),
                BodyKind::Form => RequestBody::Form(flat_fields(&b)?),
                BodyKind::Multipart => {
                    for (_, file) in &args.files {
                        if !file.is_file() {
                            return Err(Error::validation(format!(
                                "file {} does not exist",
                                file.display()
                            )));
                        }
                    }
                    RequestBody::Multipart {
                        fields: flat_fields(&b)?,
                        files: args.files.clone(),
                    }
                }
            })
        }
    };

    Ok(Prepared {
        op,
        method: op.method,
        path,
        query,
        headers,
        body,
        location: None,
        args: CallArgs {
            params,
            body: args.body.clone(),
            files: args.files.clone(),
        },
        priority: false,
    })
}

fn flat_fields(b: &Value) -> Result<Vec<(String, String)>> {
    let Value::Object(map) = b else {
        return Err(Error::validation("form body must be an object"));
    };
    map.iter()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                },
            ))
        })
        .collect()
}

fn scalar_text(name: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(Error::validation(format!("{name} must be a single value"))),
    }
}

fn missing(op: &Operation, name: &str, place: &str) -> Error {
    let hint = if op.location_param.as_ref().is_some_and(|l| l.name == name) {
        "set a location: --location ID, HIGHLEVEL_LOCATION_ID, or `ghl setup`".to_string()
    } else {
        format!("`ghl api describe {}` lists its parameters", op.name)
    };
    Error::validation(format!("{} needs the {place} parameter {name}", op.name)).with_hint(hint)
}

fn unknown_param(op: &Operation, name: &str) -> Error {
    let known: Vec<&str> = op
        .params
        .iter()
        .map(|p| p.name.as_str())
        .chain(
            op.body
                .iter()
                .flat_map(|b| b.fields.iter().map(|f| f.name.as_str())),
        )
        .collect();
    Error::validation(format!("{} has no parameter {name}", op.name)).with_hint(
        if known.is_empty() {
            "it takes no parameters".to_string()
        } else {
            format!("known: {}", known.join(", "))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prep(name: &str, args: CallArgs) -> Result<Prepared> {
        let d = Defaults {
            location_id: Some("ve9EPM428h8vShlRW1KT".into()),
            company_id: None,
        };
        prepare(ghl_catalog::find(name).expect("op"), &args, &d)
    }

    #[test]
    fn query_values_are_encoded_not_refused() {
        let p = prep(
            "contacts.get-duplicate-contact",
            CallArgs::new()
                .param("number", "+14231645160")
                .param("email", "jane+crm@example.com"),
        )
        .unwrap();
        let url = p
            .url("https://services.leadconnectorhq.com")
            .unwrap()
            .to_string();
        assert!(url.contains("number=%2B14231645160"), "{url}");
        assert!(url.contains("email=jane%2Bcrm%40example.com"), "{url}");
        assert!(url.contains("locationId=ve9EPM428h8vShlRW1KT"), "{url}");
        let p = prep(
            "conversations.search-conversation",
            CallArgs::new().param("assignedTo", "u1,u2"),
        )
        .unwrap();
        assert!(p.query.contains(&("assignedTo".into(), "u1,u2".into())));
    }

    #[test]
    fn the_operations_own_version_header_and_exact_path() {
        let p = prep("calendars.get-calendars", CallArgs::new()).unwrap();
        assert_eq!(p.path, "/calendars/");
        assert!(p.headers.contains(&("Version".into(), "2021-04-15".into())));
        let p = prep(
            "locations.get-custom-field",
            CallArgs::new().param("id", "contact.first_name"),
        )
        .unwrap();
        assert_eq!(
            p.path,
            "/locations/ve9EPM428h8vShlRW1KT/customFields/contact.first_name"
        );
        assert!(p.headers.contains(&("Version".into(), "2021-07-28".into())));
        let op = ghl_catalog::find("funnels.get-funnels").expect("op");
        assert_eq!(op.version, None);
        let args: Vec<(String, serde_json::Value)> = op
            .params
            .iter()
            .filter(|p| p.required && p.name != "locationId")
            .map(|p| (p.name.clone(), serde_json::json!("x")))
            .collect();
        let mut a = CallArgs::new();
        for (k, v) in args {
            a.set(&k, v);
        }
        let p = prep("funnels.get-funnels", a).unwrap();
        assert!(
            !p.headers.iter().any(|(k, _)| k == "Version"),
            "funnels take no Version"
        );
    }

    #[test]
    fn alt_id_and_type_fill_from_the_location() {
        let p = prep(
            "invoices.list-invoices",
            CallArgs::new().param("limit", "10").param("offset", "0"),
        )
        .unwrap();
        assert!(
            p.query
                .contains(&("altId".into(), "ve9EPM428h8vShlRW1KT".into()))
        );
        assert!(p.query.contains(&("altType".into(), "location".into())));
        assert_eq!(p.location.as_deref(), Some("ve9EPM428h8vShlRW1KT"));
    }
}
