//! The curated tools: each is a thin declaration that maps its typed
//! arguments to one catalog operation and its parameters. Running them is
//! generic (see `exec`), so every tool goes through `ghl_core::Client`.

pub mod calendars;
pub mod contacts;
pub mod conversations;
pub mod events;
pub mod invoices;
pub mod location;
pub mod opportunities;
pub mod workflows;

use std::sync::Arc;

use ghl_core::{CallArgs, Error};
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::errors::invalid_arguments;
use crate::options::Toolset;

/// What one call of a curated tool asks the pipeline to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub op: String,
    pub args: CallArgs,
    /// A listing: paged, limited, continued with a cursor.
    pub list: bool,
    /// `customFields` given by key, resolved to ids before sending; the
    /// second item is the model (`contact`, `opportunity`).
    pub custom_fields: Option<(Map<String, Value>, &'static str)>,
    /// A body field to fill with the profile's location when the catalog
    /// does not know the operation needs one.
    pub location_in_body: Option<&'static str>,
    /// Free slots: cut the answer to these days and say when it is empty.
    pub slots: Option<crate::slots::Days>,
}

impl Plan {
    pub fn call(op: &str, args: CallArgs) -> Plan {
        Plan {
            op: op.to_string(),
            args,
            list: false,
            custom_fields: None,
            location_in_body: None,
            slots: None,
        }
    }

    pub fn list(op: &str, args: CallArgs) -> Plan {
        Plan {
            list: true,
            ..Plan::call(op, args)
        }
    }
}

pub type PlanFn = Box<dyn Fn(Value) -> Result<Plan, Error> + Send + Sync>;

pub enum Kind {
    Curated(PlanFn),
    FindOperations,
    DescribeOperation,
    CallOperation,
    /// A list-driven tool of `crate::bulk`.
    Bulk,
    /// Read the local webhook event spool.
    RecentEvents,
}

pub struct ToolDef {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub toolset: Toolset,
    /// The operation a curated tool runs: it decides annotations and
    /// whether the tool is listed under read-only or allow/deny lists.
    pub op: Option<&'static str>,
    /// Ask for confirmation even though the operation's effect does not
    /// (cancelling an appointment is a "write" that tells the contact).
    pub force_confirm: bool,
    pub kind: Kind,
    /// Builds the input schema afresh (schemars). Serving uses the
    /// precomputed copy ([`ToolDef::input_schema`]); this is its source.
    pub schema: fn() -> Arc<JsonObject>,
}

impl ToolDef {
    /// The input schema as listed: precomputed at development time (see
    /// `crate::schemas`), so start-up runs no schema generator.
    pub fn input_schema(&self) -> Arc<JsonObject> {
        crate::schemas::precomputed(self.name).unwrap_or_else(|| (self.schema)())
    }

    pub fn confirmed(mut self) -> Self {
        self.force_confirm = true;
        self
    }
}

/// A curated tool from its argument type and a plan function.
pub fn curated<A: DeserializeOwned + JsonSchema + 'static>(
    name: &'static str,
    title: &'static str,
    toolset: Toolset,
    op: &'static str,
    description: &'static str,
    plan: fn(A) -> Result<Plan, Error>,
) -> ToolDef {
    ToolDef {
        name,
        title,
        description,
        toolset,
        op: Some(op),
        force_confirm: false,
        kind: Kind::Curated(Box::new(move |v| {
            let a: A = serde_json::from_value(v).map_err(|e| invalid_arguments(name, e))?;
            plan(a)
        })),
        schema: schema_for::<A>,
    }
}

/// A compact input schema: JSON Schema 2020-12 as MCP wants it, without
/// `$schema` and `title` (they cost context and tell a model nothing).
pub fn schema_for<A: JsonSchema>() -> Arc<JsonObject> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<A>();
    let mut v = serde_json::to_value(&schema).unwrap_or_default();
    slim(&mut v);
    if let Value::Object(m) = &mut v {
        m.remove("$schema");
        m.remove("title");
        // A flattened struct's doc comment would surface here as if it
        // described the tool.
        m.remove("description");
        m.entry("type").or_insert(Value::String("object".into()));
        return Arc::new(m.clone());
    }
    Arc::new(JsonObject::new())
}

/// What schemars says that a model does not need: `null` in the type of
/// optional fields (they are simply not required), integer formats and
/// their implied minimum. Every byte of tools/list is context spent on
/// every conversation.
fn slim(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(types)) = m.get("type") {
                let kept: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                if kept.len() == 1 {
                    m.insert("type".into(), kept[0].clone());
                }
            }
            if let Some(Value::String(f)) = m.get("format")
                && (f.starts_with("uint") || f.starts_with("int") || f == "double" || f == "float")
            {
                if f.starts_with("uint") && m.get("minimum") == Some(&Value::from(0)) {
                    m.remove("minimum");
                }
                m.remove("format");
            }
            if let Some(Value::Array(any)) = m.get("anyOf") {
                let kept: Vec<Value> = any
                    .iter()
                    .filter(|s| s.get("type").and_then(Value::as_str) != Some("null"))
                    .cloned()
                    .collect();
                if kept.len() == 1 && any.len() == 2 {
                    m.remove("anyOf");
                    if let Value::Object(inner) = &kept[0] {
                        for (k, x) in inner {
                            m.entry(k.clone()).or_insert_with(|| x.clone());
                        }
                    }
                }
            }
            // Defaults of JSON Schema, said again.
            if m.get("additionalProperties") == Some(&Value::Bool(true)) {
                m.remove("additionalProperties");
            }
            if m.get("items") == Some(&Value::Bool(true)) {
                m.remove("items");
            }
            m.values_mut().for_each(slim);
        }
        Value::Array(a) => a.iter_mut().for_each(slim),
        _ => {}
    }
}

// Arguments shared by listing tools (plain comments: a doc comment would
// become schema text).
#[derive(Debug, Default, Deserialize, JsonSchema)]
// Their meaning is told once, in the server instructions, not on every
// listing tool.
pub struct ListOpts {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    pub fields: Option<Vec<String>>,
}

// The confirmation token argument of tools that need one.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ConfirmOpt {
    pub confirm: Option<String>,
}

/// Set `name` when `value` is present.
pub fn opt(args: &mut CallArgs, name: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        args.set(name, v);
    }
}

/// Every curated and discovery tool, in listing order.
pub fn all() -> Vec<ToolDef> {
    let mut v = Vec::with_capacity(40);
    v.extend(contacts::tools());
    v.extend(conversations::tools());
    v.extend(calendars::tools());
    v.extend(opportunities::tools());
    v.extend(workflows::tools());
    v.extend(invoices::tools());
    v.extend(location::tools());
    v.extend(crate::bulk::tools());
    v.extend(crate::discovery::tools());
    v.extend(events::tools());
    v
}
