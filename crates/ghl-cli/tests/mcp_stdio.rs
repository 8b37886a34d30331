//! `ghl --sandbox mcp` over stdio through the real binary, driven by rmcp's
//! child-process client: initialize, tools/list, a read, and the two-step
//! confirmation of an outbound tool.

use ghl_mcp::rmcp::ServiceExt;
use ghl_mcp::rmcp::model::CallToolRequestParams;
use ghl_mcp::rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};

async fn call(
    client: &ghl_mcp::rmcp::service::RunningService<ghl_mcp::rmcp::service::RoleClient, ()>,
    name: &str,
    args: Value,
) -> (bool, Value) {
    let Value::Object(map) = args else {
        panic!("object expected")
    };
    let r = client
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(map))
        .await
        .expect("tools/call");
    let text = r
        .content
        .iter()
        .find_map(|c| c.as_text().map(|t| t.text.clone()))
        .unwrap_or_default();
    (
        r.is_error.unwrap_or(false),
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn stdio_server_through_the_binary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghl"));
    cmd.args(["--sandbox", "mcp"])
        .env("GHL_SANDBOX_DB", dir.path().join("sandbox.db"))
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env_remove("HIGHLEVEL_TOKEN")
        .env_remove("GHL_READ_ONLY");
    let transport = TokioChildProcess::new(cmd).expect("spawn ghl");
    let client = ().serve(transport).await.expect("initialize");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("ghl")
    );

    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(
        tools.len() >= 30 && tools.len() <= 35,
        "{} tools",
        tools.len()
    );

    let (err, found) = call(
        &client,
        "search_contacts",
        json!({"query": "Jane", "limit": 1}),
    )
    .await;
    assert!(!err, "{found}");
    let id = found["records"][0]["id"]
        .as_str()
        .expect("a Jane")
        .to_string();

    let (err, preview) = call(
        &client,
        "send_sms",
        json!({"contactId": id, "message": "hi"}),
    )
    .await;
    assert!(
        !err && preview["status"] == "confirmation_required",
        "{preview}"
    );
    let token = preview["confirm"].as_str().unwrap();
    let (err, sent) = call(
        &client,
        "send_sms",
        json!({"contactId": id, "message": "hi", "confirm": token}),
    )
    .await;
    assert!(!err, "{sent}");
    client.cancel().await.ok();
}
