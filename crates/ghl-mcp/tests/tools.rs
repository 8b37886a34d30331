//! Every curated tool and the discovery tools, through an rmcp client,
//! against the in-process sandbox.

mod common;

use common::{Env, call, confirmed, mcp, ok};
use ghl_mcp::ServerOptions;
use serde_json::{Value, json};

#[tokio::test]
async fn initialize_and_list_tools_within_budget() {
    let env = Env::new().await;
    let client = mcp(&env, ServerOptions::default()).await;
    let info = client.peer_info().expect("initialized");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("ghl")
    );
    let tools = client.list_all_tools().await.expect("tools/list");
    let json = serde_json::to_string(&tools).unwrap();
    eprintln!(
        "{} tools, tools/list JSON {} bytes",
        tools.len(),
        json.len()
    );
    assert!(tools.len() <= 40, "{} tools", tools.len());
    assert!(
        json.len() <= 16 * 1024,
        "tools/list is {} bytes",
        json.len()
    );
    for t in &tools {
        let a = t.annotations.as_ref().expect("annotations");
        // Reads say so; everything else says whether it destroys.
        assert!(
            a.read_only_hint == Some(true) || a.destructive_hint.is_some(),
            "{}",
            t.name
        );
        assert!(t.description.as_ref().is_some_and(|d| !d.is_empty()));
    }
    let send = tools.iter().find(|t| t.name == "send_sms").unwrap();
    assert_eq!(
        send.annotations.as_ref().unwrap().destructive_hint,
        Some(true)
    );
    let get = tools.iter().find(|t| t.name == "get_contact").unwrap();
    assert_eq!(get.annotations.as_ref().unwrap().read_only_hint, Some(true));
    assert_eq!(get.input_schema["required"], json!(["contactId"]));
    client.cancel().await.ok();
}

fn records(v: &Value) -> &Vec<Value> {
    v["records"]
        .as_array()
        .unwrap_or_else(|| panic!("no records: {v}"))
}

fn id_of(v: &Value) -> String {
    v.get("id")
        .or_else(|| v.get("_id"))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_string()
}

/// Find the first object with an `id` under any of `keys`.
fn inner_id(v: &Value, keys: &[&str]) -> String {
    for k in keys {
        if let Some(x) = v.get(*k)
            && x.get("id").or_else(|| x.get("_id")).is_some()
        {
            return id_of(x);
        }
    }
    id_of(v)
}

#[tokio::test]
async fn contacts_tools() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;

    let found = ok(&c, "search_contacts", json!({"query": "Jane", "limit": 2})).await;
    let list = records(&found);
    assert!(!list.is_empty() && list.len() <= 2, "{found}");
    let jane = id_of(&list[0]);
    if found["total"].as_u64().unwrap_or(0) > 2 {
        assert!(
            found["truncated"].as_str().unwrap().contains("cursor"),
            "{found}"
        );
        let more = ok(&c, "search_contacts", json!({"cursor": found["cursor"]})).await;
        assert!(!records(&more).is_empty());
        assert_ne!(id_of(&records(&more)[0]), jane);
    }
    let slim = ok(
        &c,
        "search_contacts",
        json!({"query": "Jane", "fields": ["email"]}),
    )
    .await;
    let first = records(&slim)[0].as_object().unwrap();
    assert!(first.keys().all(|k| k == "id" || k == "email"), "{slim}");

    let got = ok(&c, "get_contact", json!({"contactId": jane})).await;
    let text = got.to_string();
    assert!(
        text.contains("contact.lead_source"),
        "custom field keys shown: {got}"
    );

    let created = ok(
        &c,
        "upsert_contact",
        json!({"firstName": "Mcp", "lastName": "Tester", "email": "mcp.tester@example.com",
               "customFields": {"contact.lead_source": "Referral", "industry": "Software"}}),
    )
    .await;
    let id = inner_id(&created, &["contact"]);
    let got = ok(&c, "get_contact", json!({"contactId": id})).await;
    assert!(got.to_string().contains("Software"), "{got}");

    ok(
        &c,
        "update_contact",
        json!({"contactId": id, "lastName": "Updated",
        "customFields": {"lead_source": "Facebook"}}),
    )
    .await;
    let got = ok(&c, "get_contact", json!({"contactId": id})).await;
    assert!(
        got.to_string().contains("Updated") && got.to_string().contains("Facebook"),
        "{got}"
    );

    let up = ok(
        &c,
        "upsert_contact",
        json!({"email": "mcp.tester@example.com", "firstName": "Upserted"}),
    )
    .await;
    assert_eq!(
        inner_id(&up, &["contact"]),
        id,
        "upsert finds the same contact: {up}"
    );

    ok(
        &c,
        "add_contact_tags",
        json!({"contactId": id, "tags": ["mcp-a", "mcp-b"]}),
    )
    .await;
    confirmed(
        &c,
        "remove_contact_tags",
        json!({"contactId": id, "tags": ["mcp-a"]}),
    )
    .await;
    let got = ok(
        &c,
        "get_contact",
        json!({"contactId": id, "fields": ["tags"]}),
    )
    .await;
    let tags = got.to_string();
    assert!(tags.contains("mcp-b") && !tags.contains("mcp-a"), "{got}");

    ok(
        &c,
        "add_contact_note",
        json!({"contactId": id, "body": "Called, wants a demo"}),
    )
    .await;
    let notes = ok(&c, "list_contact_notes", json!({"contactId": id})).await;
    assert!(notes.to_string().contains("wants a demo"), "{notes}");

    ok(
        &c,
        "add_contact_task",
        json!({"contactId": id, "title": "Send demo link",
        "dueDate": "2030-01-01T09:00:00Z"}),
    )
    .await;
    let tasks = ok(&c, "list_contact_tasks", json!({"contactId": id})).await;
    assert!(tasks.to_string().contains("Send demo link"), "{tasks}");
}

#[tokio::test]
async fn conversations_tools() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let convs = ok(&c, "search_conversations", json!({"limit": 3})).await;
    let conv = &records(&convs)[0];
    let conv_id = id_of(conv);
    let contact = conv["contactId"].as_str().expect("contactId").to_string();
    let msgs = ok(
        &c,
        "get_messages",
        json!({"conversationId": conv_id, "limit": 5}),
    )
    .await;
    assert!(msgs["count"].as_u64().is_some(), "{msgs}");
    let sms = confirmed(
        &c,
        "send_sms",
        json!({"contactId": contact, "message": "Hi from MCP"}),
    )
    .await;
    assert!(
        sms.to_string().contains("messageId") || sms.to_string().contains("conversationId"),
        "{sms}"
    );
    confirmed(
        &c,
        "send_email",
        json!({"contactId": contact, "subject": "Hello",
        "html": "<p>Hi</p>"}),
    )
    .await;
}

#[tokio::test]
async fn calendars_tools() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let cals = ok(&c, "list_calendars", json!({})).await;
    let cal = id_of(&records(&cals)[0]);
    let slots = ok(
        &c,
        "get_free_slots",
        json!({"calendarId": cal, "startDate": "2030-03-04",
        "endDate": "2030-03-06", "timezone": "America/New_York"}),
    )
    .await;
    assert!(slots.is_object(), "{slots}");
    let contact = id_of(&records(&ok(&c, "search_contacts", json!({"query": "Jane"})).await)[0]);
    let booked = ok(
        &c,
        "book_appointment",
        json!({"calendarId": cal, "contactId": contact,
        "startTime": "2030-03-04T15:00:00Z", "endTime": "2030-03-04T15:30:00Z", "title": "Demo"}),
    )
    .await;
    let event = inner_id(&booked, &["appointment", "event"]);
    ok(
        &c,
        "reschedule_appointment",
        json!({"eventId": event, "startTime": "2030-03-05T15:00:00Z",
        "endTime": "2030-03-05T15:30:00Z"}),
    )
    .await;
    let cancelled = confirmed(&c, "cancel_appointment", json!({"eventId": event})).await;
    assert!(cancelled.to_string().contains("cancelled"), "{cancelled}");
}

#[tokio::test]
async fn opportunities_workflows_invoices_location_tools() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let pipes = ok(&c, "list_pipelines", json!({})).await;
    let pipe = &records(&pipes)[0];
    let pipe_id = id_of(pipe);
    let stages = pipe["stages"].as_array().expect("stages");
    let (s0, s1) = (id_of(&stages[0]), id_of(&stages[1]));
    let found = ok(
        &c,
        "search_opportunities",
        json!({"pipelineId": pipe_id, "limit": 3}),
    )
    .await;
    assert!(!records(&found).is_empty(), "{found}");
    let contact = id_of(&records(&ok(&c, "search_contacts", json!({"query": "Jane"})).await)[0]);
    let opp = ok(
        &c,
        "create_opportunity",
        json!({"pipelineId": pipe_id, "stageId": s0,
        "contactId": contact, "name": "MCP deal", "monetaryValue": 1200}),
    )
    .await;
    let opp_id = inner_id(&opp, &["opportunity"]);
    ok(
        &c,
        "update_opportunity",
        json!({"opportunityId": opp_id, "monetaryValue": 1500}),
    )
    .await;
    let moved = ok(
        &c,
        "move_opportunity_stage",
        json!({"opportunityId": opp_id, "stageId": s1}),
    )
    .await;
    assert!(moved.to_string().contains(&s1), "{moved}");

    let wfs = ok(
        &c,
        "call_operation",
        json!({"name": "workflows.get-workflow"}),
    )
    .await;
    let wf = id_of(&wfs["workflows"][0]);
    ok(
        &c,
        "enroll_in_workflow",
        json!({"contactId": contact, "workflowId": wf}),
    )
    .await;

    let inv = ok(
        &c,
        "create_invoice",
        json!({"contactId": contact, "contactName": "Jane Cooper",
        "contactEmail": "jane@example.com", "name": "Consulting", "issueDate": "2030-01-01",
        "dueDate": "2030-01-31", "items": [{"name": "Hour", "amount": 150, "qty": 2}]}),
    )
    .await;
    let inv_id = inner_id(&inv, &["invoice"]);
    let users = ok(
        &c,
        "call_operation",
        json!({"name": "users.get-user-by-location"}),
    )
    .await;
    let user = id_of(&users["users"][0]);
    confirmed(
        &c,
        "send_invoice",
        json!({"invoiceId": inv_id, "userId": user}),
    )
    .await;

    let loc = ok(&c, "get_location", json!({"fields": ["name", "timezone"]})).await;
    assert!(loc.to_string().contains("name"), "{loc}");
    let cf = ok(
        &c,
        "list_custom_fields",
        json!({"fields": ["fieldKey", "name"]}),
    )
    .await;
    assert!(cf.to_string().contains("contact.lead_source"), "{cf}");
}

#[tokio::test]
async fn discovery_reaches_uncurated_operations() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let groups = ok(&c, "find_operations", json!({})).await;
    assert!(
        groups["groups"].to_string().contains("businesses"),
        "{groups}"
    );
    let found = ok(&c, "find_operations", json!({"group": "businesses"})).await;
    assert!(
        found.to_string().contains("businesses.create-business"),
        "{found}"
    );
    let d = ok(
        &c,
        "describe_operation",
        json!({"name": "businesses.create-business"}),
    )
    .await;
    assert!(
        d["body"]["fields"]
            .to_string()
            .contains("name: string, required"),
        "{d}"
    );
    assert_eq!(d["effect"], "write");
    let created = ok(
        &c,
        "call_operation",
        json!({"name": "businesses.create-business",
        "params": {"name": "MCP Widgets"}}),
    )
    .await;
    let id = inner_id(&created, &["business", "data"]);
    let got = ok(
        &c,
        "call_operation",
        json!({"name": "businesses.get-business",
        "params": {"businessId": id}}),
    )
    .await;
    assert!(got.to_string().contains("MCP Widgets"), "{got}");
    let listed = ok(
        &c,
        "call_operation",
        json!({"name": "businesses.get-businesses-by-location",
        "limit": 5}),
    )
    .await;
    assert!(listed["count"].as_u64().unwrap_or(0) >= 1, "{listed}");
    let (err, e) = call(&c, "call_operation", json!({"name": "businesses.nope"})).await;
    assert!(err && e["error"]["code"] == "unknown_operation", "{e}");
    let (err, e) = call(
        &c,
        "call_operation",
        json!({"name": "businesses.get-business"}),
    )
    .await;
    assert!(
        err && e["error"]["code"] == "validation" && e["error"]["next_step"].is_string(),
        "{e}"
    );
}

/// An assistant pages through contacts and deletes each page it has read
/// (merging duplicates, say): the cursor still walks to the last contact,
/// though the total it counts against has fallen.
#[tokio::test]
async fn a_cursor_walks_to_the_end_when_pages_read_are_deleted() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let deleter = env.client().with_policy(ghl_core::Policy {
        confirm: ghl_core::Confirm::Granted,
        ..ghl_core::Policy::default()
    });
    let mut page = ok(
        &c,
        "search_contacts",
        json!({"limit": 25, "fields": ["id"]}),
    )
    .await;
    let total = page["total"].as_u64().expect("a total") as usize;
    assert!(total > 150, "the demo has {total} contacts");
    let (mut seen, mut deleted) = (Vec::new(), 0);
    let mut calls = 0;
    loop {
        calls += 1;
        assert!(calls <= 20, "the walk does not end");
        let ids: Vec<String> = records(&page).iter().map(id_of).collect();
        // The first two pages are deleted once read.
        if calls <= 2 {
            for id in &ids {
                deleter
                    .call(
                        "contacts.delete-contact",
                        ghl_core::CallArgs::new().param("contactId", id.as_str()),
                    )
                    .await
                    .unwrap();
                deleted += 1;
            }
        }
        seen.extend(ids);
        if page["cursor"].is_null() {
            break;
        }
        page = ok(&c, "search_contacts", json!({"cursor": page["cursor"]})).await;
    }
    assert_eq!(deleted, 50);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "a contact came twice");
    assert_eq!(
        seen.len(),
        total,
        "every contact, the deleted ones before they went"
    );
}
