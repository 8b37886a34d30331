//! The tools' input schemas, precomputed. Generating them with schemars
//! (and slimming them) was a third of `ghl mcp`'s start-up work and pulled
//! the generator's code into memory on every start; the result only
//! changes when a tool's argument type does.
//!
//! `generated/tool_schemas.json` holds each tool's schema by name, as
//! `tools::schema_for` builds it. The test `tests/tool_schemas.rs` checks
//! that every entry equals the freshly built schema byte for byte, and
//! rewrites the file when run with `GHL_UPDATE_TOOL_SCHEMAS=1`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rmcp::model::JsonObject;

/// The committed schemas, by tool name.
pub static TOOL_SCHEMAS_JSON: &str = include_str!("../generated/tool_schemas.json");

/// The precomputed schema of tool `name`; `None` for a tool added since
/// the file was generated (the caller then builds it afresh).
pub fn precomputed(name: &str) -> Option<Arc<JsonObject>> {
    static TABLE: OnceLock<HashMap<String, Arc<JsonObject>>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            // Our own file, checked by a test: unreadable means a build
            // defect, and the fallback (building afresh) stays correct.
            serde_json::from_str::<HashMap<String, JsonObject>>(TOOL_SCHEMAS_JSON)
                .map(|m| m.into_iter().map(|(k, v)| (k, Arc::new(v))).collect())
                .unwrap_or_default()
        })
        .get(name)
        .cloned()
}

/// The file's text for the given tools' fresh schemas, in listing order.
pub fn render(tools: &[crate::tools::ToolDef]) -> String {
    let mut m = serde_json::Map::new();
    for t in tools {
        m.insert(
            t.name.to_string(),
            serde_json::Value::Object((*(t.schema)()).clone()),
        );
    }
    let mut s = serde_json::to_string_pretty(&serde_json::Value::Object(m)).unwrap_or_default();
    s.push('\n');
    s
}
