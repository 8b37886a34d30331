//! The mirror tools through an rmcp client: an assistant answers "which
//! deals are stale?" with one `query` call; long answers continue with a
//! cursor; writes are refused; `sync` exists only when allowed.

mod common;

use common::{Env, call, connect};
use ghl_mcp::mirror_tools::MirrorAccess;
use ghl_mcp::{GhlMcp, ServerOptions};
use ghl_mirror::Mirror;
use ghl_store::StoreUrl;
use serde_json::json;

fn options(mirror: &Mirror, allow_sync: bool) -> ServerOptions {
    ServerOptions {
        mirror: Some(MirrorAccess {
            mirror: mirror.clone(),
            allow_sync,
        }),
        ..ServerOptions::default()
    }
}

#[tokio::test]
async fn stale_deals_in_one_query_call_and_sync_only_when_allowed() {
    let env = Env::new().await;
    let mirror = Mirror::open(&StoreUrl::Sqlite(env.dir.path().join("mirror.db"))).unwrap();

    // Without --mirror-sync: query and report, no sync tool.
    let client = connect(GhlMcp::new(env.client(), options(&mirror, false))).await;
    let tools = client.list_all_tools().await.unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert!(
        names.contains(&"query") && names.contains(&"report"),
        "{names:?}"
    );
    assert!(!names.contains(&"sync"));
    let q = tools.iter().find(|t| t.name == "query").unwrap();
    let about = q.description.as_deref().unwrap();
    assert!(
        about.contains("opportunities_view(") && about.contains("days_in_stage"),
        "{about}"
    );
    assert_eq!(q.annotations.as_ref().unwrap().read_only_hint, Some(true));
    // An empty mirror says what to do.
    let (err, v) = call(&client, "query", json!({"sql": "SELECT 1"})).await;
    assert!(err);
    assert!(v.to_string().contains("ghl sync"), "{v}");
    let (err, _) = call(&client, "sync", json!({})).await;
    assert!(err, "sync is not offered");
    client.cancel().await.ok();

    // With it allowed, the assistant can fill the mirror itself.
    let client = connect(GhlMcp::new(env.client(), options(&mirror, true))).await;
    let (err, v) = call(&client, "sync", json!({})).await;
    assert!(!err, "{v}");
    assert!(v["synced"].as_array().unwrap().len() >= 10);

    let (err, v) = call(
        &client,
        "query",
        json!({"sql": "SELECT name, stage, owner, days_in_stage FROM opportunities_view WHERE status = 'open' AND days_in_stage >= 30 ORDER BY days_in_stage DESC"}),
    )
    .await;
    assert!(!err, "{v}");
    assert_eq!(
        v["columns"],
        json!(["name", "stage", "owner", "days_in_stage"])
    );
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r[3].as_i64().unwrap() >= 30 && r[1].is_string())
    );

    // More rows than one answer holds: a cursor continues exactly.
    let (_, first) = call(
        &client,
        "query",
        json!({"sql": "SELECT id FROM contacts ORDER BY id"}),
    )
    .await;
    assert_eq!(first["row_count"], 100);
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let (_, second) = call(&client, "query", json!({"cursor": cursor})).await;
    let mut ids: Vec<String> = first["rows"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["rows"].as_array().unwrap())
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 200, "the demo's 200 contacts in two answers");
    assert!(second.get("next_cursor").is_none());
    ids.dedup();
    assert_eq!(ids.len(), 200);

    let (err, v) = call(&client, "query", json!({"sql": "DELETE FROM contacts"})).await;
    assert!(err);
    assert!(v.to_string().contains("only reading"), "{v}");
    let (err, v) = call(
        &client,
        "report",
        json!({"name": "funnel", "pipeline": "Sales Pipeline"}),
    )
    .await;
    assert!(!err, "{v}");
    assert_eq!(v["rows"].as_array().unwrap().len(), 5);
    client.cancel().await.ok();
    env.sandbox.shutdown().await;
}
