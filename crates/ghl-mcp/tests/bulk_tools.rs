//! `bulk_contacts` (tag, untag, enroll): one preview with the count and a sample,
//! nothing sent before the token, then every contact of the list.

mod common;

use common::{Env, call, mcp, ok};
use ghl_core::CallArgs;
use ghl_mcp::ServerOptions;
use serde_json::{Value, json};

#[tokio::test]
async fn bulk_tag_and_enroll_preview_then_run() {
    let env = Env::new().await;
    // The only test of this binary: the journal goes to its own store.
    // SAFETY: set before this test starts any thread that reads it.
    unsafe { std::env::set_var("GHL_STORE_URL", env.dir.path().join("bulk.db")) };
    let client = env.client();
    let found = client
        .call(
            "contacts.search-contacts-advanced",
            CallArgs::new()
                .with_body(json!({"locationId": "SbxDemoLoc0000000001", "pageLimit": 3})),
        )
        .await
        .unwrap();
    let people: Vec<Value> = found["contacts"].as_array().unwrap().clone();
    let ids: Vec<String> = people
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let email = people
        .iter()
        .find_map(|c| c["email"].as_str().filter(|e| !e.is_empty()))
        .unwrap()
        .to_string();
    let mut list: Vec<Value> = ids.iter().map(|i| json!(i)).collect();
    list.push(json!(email.to_uppercase()));
    list.push(json!("not an id!"));

    let m = mcp(&env, ServerOptions::default()).await;
    let tools = m.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "bulk_contacts"));

    let args = json!({"contacts": list, "action": "tag", "tags": ["mcp-bulk"]});
    let preview = ok(&m, "bulk_contacts", args.clone()).await;
    assert_eq!(preview["status"], "confirmation_required", "{preview}");
    assert_eq!(preview["preview"]["count"], 4, "{preview}");
    assert_eq!(preview["preview"]["sample"].as_array().unwrap().len(), 4);
    assert_eq!(preview["preview"]["refused"][0]["code"], "bad_id");
    let get = |id: String| {
        let c = client.clone();
        async move {
            c.call(
                "contacts.get-contact",
                CallArgs::new().param("contactId", id.as_str()),
            )
            .await
            .unwrap()
        }
    };
    let tagged = |v: &Value| {
        v["contact"]["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x == "mcp-bulk"))
    };
    assert!(
        !tagged(&get(ids[0].clone()).await),
        "nothing before the token"
    );

    // A token bound to other arguments does not run this list.
    let mut other = json!({"contacts": [ids[0]], "action": "tag", "tags": ["mcp-bulk"]});
    other["confirm"] = preview["confirm"].clone();
    let (err, _) = call(&m, "bulk_contacts", other).await;
    assert!(err);

    let preview = ok(&m, "bulk_contacts", args.clone()).await;
    let mut run = args.clone();
    run["confirm"] = preview["confirm"].clone();
    let done = ok(&m, "bulk_contacts", run).await;
    assert_eq!(done["sent"], true, "{done}");
    assert_eq!(done["done"]["tagged"], 4, "{done}");
    assert_eq!(done["refused"], 1, "{done}");
    for id in &ids {
        assert!(tagged(&get(id.clone()).await), "{id}");
    }

    let wf = client
        .call("workflows.get-workflow", CallArgs::new())
        .await
        .unwrap();
    let wf_id = wf["workflows"][0]["id"].as_str().unwrap().to_string();
    let args = json!({"contacts": ids, "action": "enroll", "workflowId": wf_id});
    let preview = ok(&m, "bulk_contacts", args.clone()).await;
    assert_eq!(preview["preview"]["count"], 3, "{preview}");
    let mut run = args;
    run["confirm"] = preview["confirm"].clone();
    let done = ok(&m, "bulk_contacts", run).await;
    assert_eq!(done["done"]["enrolled"], 3, "{done}");

    // Too many contacts: refused before anything is looked at.
    let many: Vec<String> = (0..1001).map(|i| format!("c{i}")).collect();
    let (err, v) = call(
        &m,
        "bulk_contacts",
        json!({"contacts": many, "action": "tag", "tags": ["x"]}),
    )
    .await;
    assert!(err, "{v}");
    m.cancel().await.ok();
}
