//! The discovery tools reach API v3: find, describe and call a v3
//! operation, which acts on the same sandbox state as its v2 twin.

mod common;

use common::{Env, mcp, ok};
use ghl_mcp::ServerOptions;
use serde_json::json;

#[tokio::test]
async fn discovery_reaches_v3_operations() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let groups = ok(&c, "find_operations", json!({})).await;
    assert!(
        groups["groups"].to_string().contains("businesses-v3"),
        "{groups}"
    );
    let found = ok(&c, "find_operations", json!({"group": "businesses-v3"})).await;
    assert!(
        found.to_string().contains("businesses-v3.create-business"),
        "{found}"
    );
    let d = ok(
        &c,
        "describe_operation",
        json!({"name": "businesses-v3.create-business"}),
    )
    .await;
    assert_eq!(d["effect"], "write", "{d}");
    let created = ok(
        &c,
        "call_operation",
        json!({"name": "businesses-v3.create-business",
        "params": {"name": "Version Three Widgets"}}),
    )
    .await;
    let text = created.to_string();
    let id = ["business", "data"]
        .iter()
        .find_map(|k| {
            created
                .pointer(&format!("/{k}/id"))
                .and_then(|v| v.as_str())
        })
        .or_else(|| created.pointer("/id").and_then(|v| v.as_str()))
        .unwrap_or_else(|| panic!("no id in {text}"))
        .to_string();
    // The v2 operation on the same path reads what v3 made.
    let got = ok(
        &c,
        "call_operation",
        json!({"name": "businesses.get-business", "params": {"businessId": id}}),
    )
    .await;
    assert!(got.to_string().contains("Version Three Widgets"), "{got}");
}
