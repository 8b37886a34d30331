//! The server's safety rails: two-step confirmation, read-only, toolsets,
//! allow/deny, and errors that say what to do next.

mod common;

use std::time::Duration;

use common::{Env, call, connect, mcp, ok};
use ghl_core::Pattern;
use ghl_mcp::{GhlMcp, ServerOptions, Toolset};
use serde_json::{Value, json};

async fn jane(c: &common::McpClient) -> String {
    let found = ok(c, "search_contacts", json!({"query": "Jane", "limit": 1})).await;
    found["records"][0]["id"].as_str().unwrap().to_string()
}

async fn tags(c: &common::McpClient, id: &str) -> String {
    ok(
        c,
        "get_contact",
        json!({"contactId": id, "fields": ["tags"]}),
    )
    .await
    .to_string()
}

#[tokio::test]
async fn confirmation_is_two_step_single_use_and_bound() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let id = jane(&c).await;
    ok(
        &c,
        "add_contact_tags",
        json!({"contactId": id, "tags": ["keep-me", "drop-me"]}),
    )
    .await;

    // First call: a preview and a token, nothing changes.
    let args = json!({"contactId": id, "tags": ["drop-me"]});
    let preview = ok(&c, "remove_contact_tags", args.clone()).await;
    assert_eq!(preview["status"], "confirmation_required");
    assert_eq!(preview["request"]["method"], "DELETE");
    assert!(preview["request"]["url"].as_str().unwrap().contains(&id));
    assert!(
        tags(&c, &id).await.contains("drop-me"),
        "nothing changed yet"
    );
    let token = preview["confirm"].as_str().unwrap().to_string();

    // A token for other arguments is refused (and spent).
    let mut other = json!({"contactId": id, "tags": ["keep-me"], "confirm": token});
    let (err, e) = call(&c, "remove_contact_tags", other.clone()).await;
    assert!(err && e["error"]["code"] == "confirmation_required", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("different request")
    );
    assert!(tags(&c, &id).await.contains("keep-me"));

    // A fresh token with the same arguments runs it.
    let token = ok(&c, "remove_contact_tags", args.clone()).await["confirm"]
        .as_str()
        .unwrap()
        .to_string();
    let mut confirmed = args.clone();
    confirmed["confirm"] = json!(token);
    ok(&c, "remove_contact_tags", confirmed.clone()).await;
    let now = tags(&c, &id).await;
    assert!(!now.contains("drop-me") && now.contains("keep-me"), "{now}");

    // Reused: refused.
    let (err, e) = call(&c, "remove_contact_tags", confirmed).await;
    assert!(
        err && e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{e}"
    );

    // A token for one tool does not work for another.
    let p = ok(&c, "send_sms", json!({"contactId": id, "message": "hi"})).await;
    other["confirm"] = p["confirm"].clone();
    let (err, _) = call(&c, "remove_contact_tags", other).await;
    assert!(err);
}

#[tokio::test]
async fn expired_token_is_refused() {
    let env = Env::new().await;
    let opts = ServerOptions {
        confirm_ttl: Duration::from_millis(50),
        ..ServerOptions::default()
    };
    let c = mcp(&env, opts).await;
    let id = jane(&c).await;
    ok(
        &c,
        "add_contact_tags",
        json!({"contactId": id, "tags": ["stays"]}),
    )
    .await;
    let args = json!({"contactId": id, "tags": ["stays"]});
    let p = ok(&c, "remove_contact_tags", args.clone()).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    let mut a = args;
    a["confirm"] = p["confirm"].clone();
    let (err, e) = call(&c, "remove_contact_tags", a).await;
    assert!(
        err && e["error"]["message"].as_str().unwrap().contains("expired"),
        "{e}"
    );
    assert!(tags(&c, &id).await.contains("stays"));
}

#[tokio::test]
async fn no_confirm_runs_at_once() {
    let env = Env::new().await;
    let opts = ServerOptions {
        confirm: false,
        ..ServerOptions::default()
    };
    let c = mcp(&env, opts).await;
    let id = jane(&c).await;
    let r = ok(
        &c,
        "send_sms",
        json!({"contactId": id, "message": "direct"}),
    )
    .await;
    assert_ne!(r["status"], "confirmation_required", "{r}");
}

#[tokio::test]
async fn read_only_hides_and_refuses_writes() {
    let env = Env::new().await;
    let opts = ServerOptions {
        read_only: true,
        ..ServerOptions::default()
    };
    let c = mcp(&env, opts).await;
    let names: Vec<String> = c
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(names.contains(&"get_contact".to_string()));
    assert!(!names.contains(&"upsert_contact".to_string()));
    assert!(!names.contains(&"send_sms".to_string()));
    // Not listed, not callable.
    let (err, _) = call(
        &c,
        "upsert_contact",
        json!({"firstName": "X", "email": "x@example.com"}),
    )
    .await;
    assert!(err);
    // The discovery path is policed too.
    let (err, e) = call(
        &c,
        "call_operation",
        json!({"name": "contacts.create-contact",
        "params": {"firstName": "X"}}),
    )
    .await;
    assert!(err && e["error"]["code"] == "policy", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
    ok(
        &c,
        "call_operation",
        json!({"name": "businesses.get-businesses-by-location"}),
    )
    .await;
}

#[tokio::test]
async fn toolsets_and_allow_deny_filter() {
    let env = Env::new().await;
    let opts = ServerOptions {
        toolsets: Some(vec![Toolset::Calendars, Toolset::Location]),
        ..ServerOptions::default()
    };
    let c = mcp(&env, opts).await;
    let names: Vec<String> = c
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(
        names.iter().all(|n| {
            [
                "list_calendars",
                "get_free_slots",
                "book_appointment",
                "reschedule_appointment",
                "cancel_appointment",
                "get_location",
                "list_users",
                "list_custom_fields",
            ]
            .contains(&n.as_str())
        }),
        "{names:?}"
    );
    assert_eq!(names.len(), 8);
    let (err, _) = call(&c, "get_contact", json!({"contactId": "x"})).await;
    assert!(err);

    let opts = ServerOptions {
        deny: vec![Pattern::new("contacts.*")],
        ..ServerOptions::default()
    };
    let server = GhlMcp::new(env.client(), opts);
    assert!(server.tools().iter().all(|t| !t.name.contains("contact_")));
    let c = connect(server).await;
    let (err, e) = call(
        &c,
        "call_operation",
        json!({"name": "contacts.get-contact",
        "params": {"contactId": "x"}}),
    )
    .await;
    assert!(err && e["error"]["code"] == "policy", "{e}");

    let opts = ServerOptions {
        allow: vec![Pattern::new("locations.*")],
        ..ServerOptions::default()
    };
    let c = mcp(&env, opts).await;
    ok(&c, "get_location", json!({})).await;
    let (err, e) = call(
        &c,
        "call_operation",
        json!({"name": "businesses.get-businesses-by-location"}),
    )
    .await;
    assert!(
        err && e["error"]["message"].as_str().unwrap().contains("--allow"),
        "{e}"
    );
}

#[tokio::test]
async fn missing_scope_says_where_to_add_it() {
    let env = Env::new().await;
    let token = ghl_sandbox::mint_token(&env.db(), Some(vec!["locations.readonly".into()]), None)
        .expect("token");
    let c = connect(GhlMcp::new(
        env.client_with(&token),
        ServerOptions::default(),
    ))
    .await;
    let (err, e) = call(&c, "get_contact", json!({"contactId": "abc"})).await;
    assert!(err, "{e}");
    assert_eq!(e["error"]["code"], "missing_scope", "{e}");
    let step = e["error"]["next_step"].as_str().unwrap();
    assert!(
        step.contains("contacts.readonly") && step.contains("Private Integrations"),
        "{step}"
    );
    let _: Value = e;
}
