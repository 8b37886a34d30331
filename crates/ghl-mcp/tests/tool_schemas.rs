//! The precomputed tool schemas (`generated/tool_schemas.json`) are exactly
//! what schemars builds today: same tools, same bytes. Regenerate with
//! `GHL_UPDATE_TOOL_SCHEMAS=1 cargo test -p ghl-mcp --test tool_schemas`.

use ghl_mcp::schemas;
use ghl_mcp::tools;

#[test]
fn precomputed_schemas_equal_fresh_ones() {
    let defs = tools::all();
    if std::env::var_os("GHL_UPDATE_TOOL_SCHEMAS").is_some() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("generated/tool_schemas.json");
        std::fs::write(&path, schemas::render(&defs)).unwrap();
        return;
    }
    let mut stale = Vec::new();
    for d in &defs {
        let fresh = serde_json::to_string(&*(d.schema)()).unwrap();
        match schemas::precomputed(d.name) {
            Some(p) if serde_json::to_string(&*p).unwrap() == fresh => {}
            Some(_) => stale.push(format!("{}: differs", d.name)),
            None => stale.push(format!("{}: missing", d.name)),
        }
        // What is listed is the precomputed form.
        assert_eq!(
            serde_json::to_string(&*d.input_schema()).unwrap(),
            fresh,
            "{}",
            d.name
        );
    }
    let committed: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(schemas::TOOL_SCHEMAS_JSON).unwrap();
    for name in committed.keys() {
        if !defs.iter().any(|d| d.name == name) {
            stale.push(format!("{name}: no such tool"));
        }
    }
    assert!(
        stale.is_empty(),
        "generated/tool_schemas.json is stale ({}); regenerate with GHL_UPDATE_TOOL_SCHEMAS=1 cargo test -p ghl-mcp --test tool_schemas",
        stale.join(", ")
    );
    // The file is exactly what `render` writes, so regenerating changes nothing.
    assert_eq!(schemas::TOOL_SCHEMAS_JSON, schemas::render(&defs));
}
