//! Three tools over the whole catalog (1,086 operations, v2 and v3): find one, read its
//! contract, call it. They reach everything the curated tools do not.

use ghl_catalog::summary::{self, Summary};
use ghl_catalog::{Effect, Param, ValueType};
use ghl_core::{CallArgs, Client, Error};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::errors::invalid_arguments;
use crate::options::Toolset;
use crate::tools::{ConfirmOpt, Kind, ListOpts, Plan, ToolDef, schema_for};

#[derive(Deserialize, JsonSchema)]
pub struct Find {
    /// Words, e.g. "blog post"
    pub query: Option<String>,
    /// Group, e.g. blogs, businesses, payments
    pub group: Option<String>,
    /// Default 20
    pub limit: Option<u32>,
}

#[derive(Deserialize, JsonSchema)]
pub struct Describe {
    /// Operation name, e.g. businesses.get-business
    pub name: String,
}

#[derive(Deserialize, JsonSchema)]
pub struct Call {
    /// Operation name from find_operations
    pub name: String,
    /// Path, query and body parameters by name
    pub params: Option<Map<String, Value>>,
    /// Whole JSON body, when simpler than params
    pub body: Option<Value>,
    #[serde(flatten)]
    #[allow(dead_code)]
    pub list: ListOpts,
    #[serde(flatten)]
    #[allow(dead_code)]
    pub confirm: ConfirmOpt,
}

pub fn tools() -> Vec<ToolDef> {
    let def = |name, title, description, kind, schema: fn() -> _| ToolDef {
        name,
        title,
        description,
        toolset: Toolset::Discovery,
        op: None,
        force_confirm: false,
        kind,
        schema,
    };
    vec![
        def(
            "find_operations",
            "Find API operations",
            "Search all v2 and v3 (groups *-v3) API operations by words and/or group; no arguments lists the groups.",
            Kind::FindOperations,
            schema_for::<Find>,
        ),
        def(
            "describe_operation",
            "Describe an operation",
            "Parameters, body fields, scopes, paging and effect of one operation.",
            Kind::DescribeOperation,
            schema_for::<Describe>,
        ),
        def(
            "call_operation",
            "Call any operation",
            "Call any operation by name; destructive and outbound ones ask first.",
            Kind::CallOperation,
            schema_for::<Call>,
        ),
    ]
}

fn effect(e: Effect) -> &'static str {
    match e {
        Effect::Read => "read",
        Effect::Write => "write",
        Effect::Destructive => "destructive",
        Effect::Outbound => "outbound",
    }
}

pub fn find(args: Value) -> Result<Value, Error> {
    let a: Find =
        serde_json::from_value(args).map_err(|e| invalid_arguments("find_operations", e))?;
    let query = a.query.as_deref().filter(|q| !q.trim().is_empty());
    if query.is_none() && a.group.is_none() {
        let groups: Vec<Value> = summary::groups()
            .map(|(name, operations)| json!(format!("{name} ({operations})")))
            .collect();
        return Ok(json!({"groups": groups, "next": "call again with group and/or query"}));
    }
    let limit = a.limit.unwrap_or(20).clamp(1, 100) as usize;
    let hits = rank(query.unwrap_or(""), a.group.as_deref());
    let ops: Vec<Value> = hits
        .iter()
        .take(limit)
        .map(|op| {
            let note = alias(op.name())
                .map(|a| format!(" (it {})", a.does))
                .unwrap_or_default();
            json!(format!(
                "{} — {} {} — {}{note} [{}]",
                op.name(),
                op.method().as_str(),
                op.path(),
                op.title(),
                effect(op.effect())
            ))
        })
        .collect();
    let mut out = json!({"count": ops.len(), "total": hits.len(), "operations": ops});
    if hits.len() > limit {
        out["truncated"] = json!(format!(
            "{} more; narrow the query or raise limit",
            hits.len() - limit
        ));
    }
    Ok(out)
}

/// What an operation with a misleading spec name really does. The words
/// replace the name's own when searching, so `list invoices` does not
/// offer the operation that lists products.
pub struct Alias {
    pub op: &'static str,
    pub does: &'static str,
}

pub const ALIASES: &[Alias] = &[
    Alias {
        op: "products.list-invoices",
        does: "lists products, not invoices",
    },
    Alias {
        op: "contacts.create-association",
        does: "adds or removes tags on many contacts at once",
    },
    Alias {
        op: "saas-api.generate-payment-link",
        does: "updates a SaaS subscription",
    },
    Alias {
        op: "workflows.get-workflow",
        does: "lists the workflows",
    },
    Alias {
        op: "users.get-user-by-location",
        does: "lists the users",
    },
    Alias {
        op: "blogs.get-blog-post",
        does: "lists blog posts",
    },
    Alias {
        op: "emails.fetch-campaigns",
        does: "lists scheduled email campaigns",
    },
    Alias {
        op: "opportunities.search-opportunity",
        does: "lists and searches opportunities (deals)",
    },
];

pub fn alias(op: &str) -> Option<&'static Alias> {
    ALIASES.iter().find(|a| a.op == op)
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

/// `invoices` and `invoice` are the same word to a searcher.
fn same(a: &str, b: &str) -> bool {
    a == b || a.trim_end_matches('s') == b.trim_end_matches('s')
}

/// How well `op` matches every word of the query; `None` when a word is
/// missing. Words in the action and title weigh most, then the group and
/// path, then anything else.
fn score(op: &Summary, query: &[String]) -> Option<u32> {
    let name = op.name();
    if query.len() == 1 && query[0] == name.to_ascii_lowercase() {
        return Some(1000);
    }
    let action = match alias(name) {
        Some(a) => words(a.does.split(", not").next().unwrap_or(a.does)),
        None => words(name.split_once('.').map(|(_, a)| a).unwrap_or(name)),
    };
    let title = words(op.title());
    let place = [words(op.group()), words(op.path())].concat();
    let rest = words(op.tags());
    let mut total = 0;
    for w in query {
        let s = if action.iter().any(|x| same(x, w)) {
            4
        } else if title.iter().any(|x| same(x, w)) {
            3
        } else if place.iter().any(|x| same(x, w)) {
            2
        } else if rest.iter().any(|x| same(x, w)) {
            1
        } else {
            return None;
        };
        total += s;
    }
    Some(total)
}

/// Operations matching every word, best first; shorter (more general)
/// names first among equals. Over the catalog's search summary, so no
/// operation is parsed.
pub fn rank(query: &str, group: Option<&str>) -> Vec<Summary> {
    let q = words(query);
    let mut hits: Vec<(u32, Summary)> = summary::summaries()
        .filter(|op| group.is_none_or(|g| op.group().eq_ignore_ascii_case(g)))
        .filter_map(|op| {
            if q.is_empty() {
                return Some((0, op));
            }
            score(&op, &q)
                .or_else(|| {
                    (query.contains('.') && op.name().eq_ignore_ascii_case(query.trim()))
                        .then_some(1000)
                })
                .map(|s| (s, op))
        })
        .collect();
    if hits.is_empty() {
        // Parts of words ("opp", "cal"): the plain substring search.
        return summary::search(Some(query), group).collect();
    }
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.name().len().cmp(&b.1.name().len())));
    hits.into_iter().map(|(_, op)| op).collect()
}

fn param_line(p: &Param) -> Value {
    let mut s = format!("{}: {}", p.name, p.value_type.as_str());
    if let Some(i) = p.items {
        s.push_str(&format!("[{}]", i.as_str()));
    }
    if p.required {
        s.push_str(", required");
    }
    if !p.enum_values.is_empty() {
        s.push_str(&format!(", one of {}", p.enum_values.join("|")));
    }
    if let Some(f) = &p.format {
        s.push_str(&format!(", {f}"));
    }
    let lower = p.name.to_ascii_lowercase();
    if matches!(p.value_type, ValueType::Integer | ValueType::Number)
        && (lower.ends_with("date") || lower.ends_with("time") || lower.ends_with("at"))
    {
        s.push_str(", epoch ms");
    }
    match (p.minimum, p.maximum) {
        (Some(lo), Some(hi)) => s.push_str(&format!(", {lo}..{hi}")),
        (Some(lo), None) => s.push_str(&format!(", min {lo}")),
        (None, Some(hi)) => s.push_str(&format!(", max {hi}")),
        _ => {}
    }
    if let Some(ex) = &p.example {
        let t = match ex {
            Value::String(x) => x.clone(),
            other => other.to_string(),
        };
        if !t.is_empty() && t.chars().count() <= 40 {
            s.push_str(&format!(", e.g. {t}"));
        }
    }
    json!(s)
}

pub fn describe(args: Value, client: &Client) -> Result<Value, Error> {
    let a: Describe =
        serde_json::from_value(args).map_err(|e| invalid_arguments("describe_operation", e))?;
    let op = Client::operation(&a.name)?;
    let mut by_place: Map<String, Value> = Map::new();
    for p in op.params.iter().filter(|p| p.name != "Version") {
        let place = match p.location {
            ghl_catalog::ParamIn::Path => "path",
            ghl_catalog::ParamIn::Query => "query",
            ghl_catalog::ParamIn::Header => "header",
            ghl_catalog::ParamIn::Body => "body",
        };
        if let Some(v) = by_place
            .entry(place)
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            v.push(param_line(p));
        }
    }
    let mut out = json!({
        "name": op.name,
        "title": op.title,
        "request": format!("{} {}", op.method.as_str(), op.path),
        "effect": effect(op.effect),
        "idempotent": op.idempotent,
        "needsConfirmation": op.needs_confirmation(),
        "scopes": op.scopes,
        "params": by_place,
    });
    if let Some(b) = &op.body {
        out["body"] = json!({
            "required": b.required,
            "fields": b.fields.iter().map(param_line).collect::<Vec<_>>(),
        });
        if b.fields.is_empty() {
            out["body"]["fields"] = json!("open: any JSON object");
        }
    }
    if let Some(a) = alias(&op.name) {
        out["does"] = json!(a.does);
    }
    if let Some(p) = &op.pagination {
        out["pagination"] = json!(p.style_name());
    }
    if let Some(lp) = &op.location_param {
        out["locationFilledFrom"] = json!(format!(
            "{} (default: {})",
            lp.name,
            client
                .defaults()
                .location_id
                .as_deref()
                .unwrap_or("none configured")
        ));
    }
    if op.deprecated {
        out["deprecated"] = json!(true);
    }
    if let Err(e) = client.policy().permits(op) {
        out["refusedByPolicy"] = json!(e.message);
    }
    Ok(out)
}

/// The plan for `call_operation`: a listing when the operation pages and
/// only reads, one call otherwise.
pub fn call_plan(args: Value) -> Result<Plan, Error> {
    let a: Call =
        serde_json::from_value(args).map_err(|e| invalid_arguments("call_operation", e))?;
    let op = Client::operation(&a.name)?;
    let args = CallArgs {
        params: a.params.unwrap_or_default(),
        body: a.body.filter(|b| !b.is_null()),
        files: Vec::new(),
    };
    Ok(if op.pagination.is_some() && op.effect == Effect::Read {
        Plan::list(&op.name, args)
    } else {
        Plan::call(&op.name, args)
    })
}
