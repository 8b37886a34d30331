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
}

impl Plan {
    pub fn call(op: &str, args: CallArgs) -> Plan {
        Plan {
            op: op.to_string(),
            args,
            list: false,
            custom_fields: None,
            location_in_body: None,
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
    pub schema: Arc<JsonObject>,
}

impl ToolDef {
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
        schema: schema_for::<A>(),
    }
}

/// A compact input schema: JSON Schema 2020-12 as MCP wants it, without
/// `$schema` and `title` (they cost context and tell a model nothing).
pub fn schema_for<A: JsonSchema>() -> Arc<JsonObject> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<A>();
    let mut v = serde_json::to_value(&schema).unwrap_or_default();
    if let Value::Object(m) = &mut v {
        m.remove("$schema");
        m.remove("title");
        m.entry("type").or_insert(Value::String("object".into()));
        return Arc::new(m.clone());
    }
    Arc::new(JsonObject::new())
}

/// Arguments shared by listing tools.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListOpts {
    /// Records per page (default 20, max 100)
    pub limit: Option<u32>,
    /// From a previous result, to continue
    pub cursor: Option<String>,
    /// Keep only these fields per record
    pub fields: Option<Vec<String>>,
}

/// The confirmation token argument of tools that need one.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ConfirmOpt {
    /// Token from this call's preview; omit at first
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
    let mut v = Vec::with_capacity(33);
    v.extend(contacts::tools());
    v.extend(conversations::tools());
    v.extend(calendars::tools());
    v.extend(opportunities::tools());
    v.extend(workflows::tools());
    v.extend(invoices::tools());
    v.extend(location::tools());
    v.extend(crate::discovery::tools());
    v.extend(events::tools());
    v
}
