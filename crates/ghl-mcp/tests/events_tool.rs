//! `recent_events`: the assistant reads what `ghl webhooks listen` stored,
//! filtered, read-only, over a real MCP connection.

mod common;

use common::{Env, call, mcp, ok};
use ghl_events::{NewEvent, Spool, State, verify::Proof};
use ghl_mcp::{ServerOptions, Toolset};
use serde_json::json;

fn event(id: &str, ty: &str, contact: &str, body: &str) -> NewEvent {
    let raw = json!({"type": ty, "locationId": "loc-1", "contactId": contact,
                     "body": body, "webhookId": id, "timestamp": "2026-01-01T00:00:00Z"})
    .to_string();
    NewEvent::from_body(raw.as_bytes(), Proof::Ed25519).unwrap()
}

#[tokio::test]
async fn recent_events_lists_filters_and_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    // This test binary has one test: setting the variable is safe here.
    unsafe { std::env::set_var("GHL_STORE_URL", &path) };

    let env = Env::new().await;
    // Off by default (the default tool list keeps its budget); by name here.
    let plain = mcp(&env, ServerOptions::default()).await;
    let listed = plain.list_all_tools().await.unwrap();
    assert!(!listed.iter().any(|t| t.name == "recent_events"));
    let options = ServerOptions {
        toolsets: Some(vec![Toolset::Events, Toolset::Contacts]),
        ..ServerOptions::default()
    };
    let client = mcp(&env, options).await;

    // Before anything was received: an empty answer, and no file created.
    let v = ok(&client, "recent_events", json!({})).await;
    assert_eq!(v["events"], json!([]));
    assert!(!path.exists());

    let store = ghl_store::Store::open(&ghl_store::StoreUrl::Sqlite(path.clone())).unwrap();
    let spool = Spool::open(store).unwrap();
    spool
        .insert_batch(&[
            (event("w1", "ContactCreate", "c1", ""), State::Pending),
            (
                event("w2", "InboundMessage", "c1", "Yes, Tuesday works"),
                State::Pending,
            ),
            (event("w3", "InboundMessage", "c2", "Stop"), State::Pending),
        ])
        .unwrap();

    let v = ok(&client, "recent_events", json!({"type": "InboundMessage"})).await;
    let evs = v["events"].as_array().unwrap();
    assert_eq!(evs.len(), 2, "{v}");
    assert_eq!(evs[0]["webhookId"], "w3", "newest first");

    let v = ok(
        &client,
        "recent_events",
        json!({"type": "InboundMessage", "contact_id": "c1"}),
    )
    .await;
    assert_eq!(v["events"][0]["payload"]["body"], "Yes, Tuesday works");
    assert_eq!(v["events"].as_array().unwrap().len(), 1);

    let v = ok(
        &client,
        "recent_events",
        json!({"since_minutes": 5, "limit": 1, "payload": false}),
    )
    .await;
    assert_eq!(v["events"].as_array().unwrap().len(), 1);
    assert!(v["events"][0].get("payload").is_none());

    // Unknown arguments are refused with the tool's name.
    let (is_error, v) = call(&client, "recent_events", json!({"bogus": 1})).await;
    assert!(is_error, "{v}");

    // The tool is marked read-only.
    let tools = client.list_all_tools().await.unwrap();
    let t = tools.iter().find(|t| t.name == "recent_events").unwrap();
    assert_eq!(t.annotations.as_ref().unwrap().read_only_hint, Some(true));
}
