//! Three tools over the whole catalog (1,086 operations, v2 and v3): find one, read its
//! contract, call it. They reach everything the curated tools do not.

use ghl_catalog::{Effect, Operation, Param};
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
    let def = |name, title, description, kind, schema| ToolDef {
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
            "Search all 1,086 HighLevel API operations (v2, and v3 in groups named *-v3) by words and/or group. No arguments: list the groups.",
            Kind::FindOperations,
            schema_for::<Find>(),
        ),
        def(
            "describe_operation",
            "Describe an operation",
            "Parameters, body fields, scopes, paging and effect of one operation.",
            Kind::DescribeOperation,
            schema_for::<Describe>(),
        ),
        def(
            "call_operation",
            "Call any operation",
            "Call any operation by name, validated against the catalog. Destructive/outbound ones are two-step: confirm with the token.",
            Kind::CallOperation,
            schema_for::<Call>(),
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
        let groups: Vec<Value> = ghl_catalog::catalog()
            .groups
            .iter()
            .map(|g| json!(format!("{} ({})", g.name, g.operations)))
            .collect();
        return Ok(json!({"groups": groups, "next": "call again with group and/or query"}));
    }
    let limit = a.limit.unwrap_or(20).clamp(1, 100) as usize;
    let hits: Vec<&Operation> = ghl_catalog::search(query, a.group.as_deref()).collect();
    let ops: Vec<Value> = hits
        .iter()
        .take(limit)
        .map(|op| {
            json!(format!(
                "{} — {} {} — {} [{}]",
                op.name,
                op.method.as_str(),
                op.path,
                op.title,
                effect(op.effect)
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
