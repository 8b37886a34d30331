//! What an assistant and the person behind it see: previews as sentences,
//! confirmation asked of the person (elicitation) or by token, errors that
//! name MCP tools, compact records, the extra curated tools, ranked
//! discovery, and a tools/list that fits the budget.

mod common;

use std::sync::{Arc, Mutex};

use common::{Env, McpClient, call, connect, mcp, ok};
use ghl_mcp::{GhlMcp, ServerOptions};
use rmcp::ServiceExt;
use rmcp::handler::client::ClientHandler;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult,
    ElicitationAction, Implementation,
};
use rmcp::service::{RequestContext, RoleClient, RunningService};
use serde_json::{Value, json};

async fn contact(c: &McpClient, query: &str) -> Value {
    let found = ok(c, "search_contacts", json!({"query": query, "limit": 1})).await;
    found["records"][0].clone()
}

/// Messages of a contact's conversation, newest first, as the sandbox
/// keeps them.
async fn messages_of(c: &McpClient, contact_id: &str) -> String {
    let convs = ok(c, "search_conversations", json!({"contactId": contact_id})).await;
    let Some(conv) = convs["records"][0]["id"].as_str() else {
        return String::new();
    };
    ok(
        c,
        "get_messages",
        json!({"conversationId": conv, "limit": 50}),
    )
    .await
    .to_string()
}

/// +13125551001 as people read it: +1 312 555 1001.
fn grouped(phone: &str) -> String {
    let d: String = phone.chars().filter(char::is_ascii_digit).collect();
    assert_eq!(d.len(), 11, "{phone}");
    format!("+1 {} {} {}", &d[1..4], &d[4..7], &d[7..])
}

#[tokio::test]
async fn previews_are_sentences_naming_the_person() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let jane = contact(&c, "Jane").await;
    let id = jane["id"].as_str().unwrap();
    let name = format!(
        "{} {}",
        jane["firstName"].as_str().unwrap(),
        jane["lastName"].as_str().unwrap()
    );
    let phone = grouped(jane["phone"].as_str().unwrap());

    let p = ok(
        &c,
        "send_sms",
        json!({"contactId": id, "message": "See you Tuesday at 3"}),
    )
    .await;
    assert_eq!(p["status"], "confirmation_required", "{p}");
    assert_eq!(
        p["preview"],
        json!(format!(
            "Send SMS to {name} ({phone}): 'See you Tuesday at 3'"
        )),
        "{p}"
    );
    assert!(phone.starts_with("+1 "), "{phone}");
    // The raw request stays available.
    assert_eq!(p["request"]["method"], "POST", "{p}");
    assert!(p["confirm"].is_string());

    let p = ok(&c, "delete_contact", json!({"contactId": id})).await;
    assert_eq!(
        p["preview"],
        json!(format!(
            "Delete contact {name} ({})",
            jane["email"].as_str().unwrap()
        )),
        "{p}"
    );

    let p = ok(
        &c,
        "send_email",
        json!({"contactId": id, "subject": "Your demo", "message": "Hi"}),
    )
    .await;
    assert!(
        p["preview"]
            .as_str()
            .unwrap()
            .starts_with(&format!("Send email to {name} (")),
        "{p}"
    );
}

#[tokio::test]
async fn a_preview_that_cannot_succeed_gets_no_token() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;

    // Unknown contact.
    let (err, e) = call(
        &c,
        "send_sms",
        json!({"contactId": "NoSuchContact000001", "message": "hi"}),
    )
    .await;
    assert!(err, "{e}");
    assert_eq!(e["error"]["code"], "not_found", "{e}");
    assert!(e.to_string().contains("search_contacts"), "{e}");
    assert!(e.get("confirm").is_none());

    // Do-not-disturb on the channel.
    let jane = contact(&c, "Jane").await;
    let id = jane["id"].as_str().unwrap();
    ok(
        &c,
        "update_contact",
        json!({"contactId": id, "other": {"dndSettings": {"SMS": {"status": "active"}}}}),
    )
    .await;
    let (err, e) = call(&c, "send_sms", json!({"contactId": id, "message": "hi"})).await;
    assert!(err, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("do-not-disturb"),
        "{e}"
    );
    // Email is another channel: still offered.
    let p = ok(
        &c,
        "send_email",
        json!({"contactId": id, "subject": "s", "message": "m"}),
    )
    .await;
    assert_eq!(p["status"], "confirmation_required", "{p}");

    // Missing scope: the preview's read is refused, so no token.
    let token = ghl_sandbox::mint_token(
        &env.db(),
        Some(vec![
            "conversations/message.write".into(),
            "conversations.readonly".into(),
        ]),
        None,
    )
    .unwrap();
    let c2 = connect(GhlMcp::new(
        env.client_with(&token),
        ServerOptions::default(),
    ))
    .await;
    let (err, e) = call(&c2, "send_sms", json!({"contactId": id, "message": "hi"})).await;
    assert!(err, "{e}");
    assert_eq!(e["error"]["code"], "missing_scope", "{e}");
    assert!(e.get("confirm").is_none());
}

/// A client that shows the form to a "person" who answers `answer`.
#[derive(Clone)]
struct Person {
    answer: ElicitationAction,
    tick: bool,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::builder().enable_elicitation().build(),
            Implementation::new("person", "1"),
        )
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, .. } = request {
            self.asked.lock().unwrap().push(message);
        }
        let mut r = ElicitResult::new(self.answer.clone());
        if self.answer == ElicitationAction::Accept {
            r = r.with_content(json!({"confirm": self.tick}));
        }
        Ok(r)
    }
}

async fn person_client(server: GhlMcp, person: Person) -> RunningService<RoleClient, Person> {
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(s).await {
            let _ = running.waiting().await;
        }
    });
    person.serve(c).await.expect("initialize")
}

async fn call_as(c: &RunningService<RoleClient, Person>, name: &str, args: Value) -> (bool, Value) {
    let Value::Object(map) = args else { panic!() };
    let r = c
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(map))
        .await
        .unwrap();
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
async fn elicitation_asks_the_person_and_never_hands_out_a_token() {
    let env = Env::new().await;
    let plain = mcp(&env, ServerOptions::default()).await;
    let jane = contact(&plain, "Jane").await;
    let id = jane["id"].as_str().unwrap().to_string();

    // The person agrees: sent at once, no token in sight.
    let asked = Arc::new(Mutex::new(Vec::new()));
    let yes = Person {
        answer: ElicitationAction::Accept,
        tick: true,
        asked: asked.clone(),
    };
    let c = person_client(GhlMcp::new(env.client(), ServerOptions::default()), yes).await;
    let (err, r) = call_as(
        &c,
        "send_sms",
        json!({"contactId": id, "message": "Agreed by the person"}),
    )
    .await;
    assert!(!err, "{r}");
    assert_eq!(r["status"], "done", "{r}");
    assert!(
        r.get("confirm").is_none() && !r.to_string().contains("\"confirm\""),
        "{r}"
    );
    let question = asked.lock().unwrap().join("\n");
    assert!(
        question.contains("Send SMS to") && question.contains("Agreed by the person"),
        "{question}"
    );
    assert!(
        messages_of(&plain, &id)
            .await
            .contains("Agreed by the person")
    );

    // The person declines (or accepts without ticking): nothing is sent.
    for (answer, tick) in [
        (ElicitationAction::Decline, false),
        (ElicitationAction::Accept, false),
    ] {
        let no = Person {
            answer,
            tick,
            asked: Arc::new(Mutex::new(Vec::new())),
        };
        let c = person_client(GhlMcp::new(env.client(), ServerOptions::default()), no).await;
        let (err, r) = call_as(
            &c,
            "send_sms",
            json!({"contactId": id, "message": "Refused by the person"}),
        )
        .await;
        assert!(!err, "{r}");
        assert_eq!(r["status"], "declined", "{r}");
        assert!(r.get("confirm").is_none(), "{r}");
    }
    assert!(
        !messages_of(&plain, &id)
            .await
            .contains("Refused by the person")
    );

    // A client without elicitation gets the token flow.
    let (err, p) = call(
        &plain,
        "send_sms",
        json!({"contactId": id, "message": "By token"}),
    )
    .await;
    assert!(
        !err && p["status"] == "confirmation_required" && p["confirm"].is_string(),
        "{p}"
    );
}

fn no_shell(v: &Value) {
    let t = v.to_string();
    assert!(
        !t.contains("`ghl ") && !t.contains("ghl api") && !t.contains("--location"),
        "shell command in an MCP error: {t}"
    );
}

#[tokio::test]
async fn errors_name_mcp_tools_and_every_scope() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    // A refused request (the API's 400/422) points to describe_operation.
    let (err, e) = call(
        &c,
        "call_operation",
        json!({"name": "calendars.create-appointment", "params": {"calendarId": "x"}}),
    )
    .await;
    assert!(err, "{e}");
    no_shell(&e);
    let (err, e) = call(
        &c,
        "call_operation",
        json!({"name": "contacts.get-contact", "params": {"contactId": "NoSuchContact000001"}}),
    )
    .await;
    assert!(err, "{e}");
    no_shell(&e);

    // A taken slot points to get_free_slots.
    let cals = ok(&c, "list_calendars", json!({})).await;
    let cal = cals["records"][0]["id"].as_str().unwrap().to_string();
    let id = contact(&c, "Jane").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let book = json!({"calendarId": cal, "contactId": id,
        "startTime": "2030-04-02T15:00:00Z", "endTime": "2030-04-02T15:30:00Z"});
    ok(&c, "book_appointment", book.clone()).await;
    let (err, e) = call(&c, "book_appointment", book).await;
    assert!(err, "{e}");
    assert!(
        e["error"]["next_step"]
            .as_str()
            .unwrap()
            .contains("get_free_slots"),
        "{e}"
    );
    no_shell(&e);

    // Custom fields on update_contact need the field definitions and the
    // write: both named at once.
    let token =
        ghl_sandbox::mint_token(&env.db(), Some(vec!["contacts.readonly".into()]), None).unwrap();
    let c2 = connect(GhlMcp::new(
        env.client_with(&token),
        ServerOptions::default(),
    ))
    .await;
    let (err, e) = call(
        &c2,
        "update_contact",
        json!({"contactId": id, "customFields": {"contact.lead_source": "Referral"}}),
    )
    .await;
    assert!(err, "{e}");
    let step = e["error"]["next_step"].as_str().unwrap();
    assert!(
        step.contains("locations/customFields.readonly") && step.contains("contacts.write"),
        "{e}"
    );
    no_shell(&e);
}

#[tokio::test]
async fn compact_records_and_field_warnings() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let page = ok(&c, "search_contacts", json!({"query": "Jane", "limit": 3})).await;
    let text = page.to_string();
    for noise in ["LowerCase", "searchAfter", "contactName", "locationId"] {
        assert!(!text.contains(noise), "{noise} in {text}");
    }
    let all = ok(
        &c,
        "search_contacts",
        json!({"query": "Jane", "limit": 3, "fields": ["*"]}),
    )
    .await;
    assert!(all.to_string().contains("firstNameLowerCase"), "{all}");
    assert!(all.to_string().len() > text.len());
    let warned = ok(
        &c,
        "search_contacts",
        json!({"query": "Jane", "limit": 3, "fields": ["emial"]}),
    )
    .await;
    assert!(
        warned["warning"].as_str().unwrap_or("").contains("emial"),
        "{warned}"
    );
    let id = page["records"][0]["id"].as_str().unwrap();
    let one = ok(&c, "get_contact", json!({"contactId": id})).await;
    assert!(!one.to_string().contains("LowerCase"), "{one}");

    let tools = c.list_all_tools().await.unwrap();
    let listed = serde_json::to_string(&tools).unwrap();
    assert!(
        !listed.contains("shared by"),
        "internal text leaks into schemas"
    );
}

#[tokio::test]
async fn curated_tools_for_everyday_tasks() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let wf = ok(&c, "list_workflows", json!({})).await;
    assert!(wf["count"].as_u64().unwrap() >= 1, "{wf}");
    let users = ok(&c, "list_users", json!({})).await;
    assert!(users["count"].as_u64().unwrap() >= 1, "{users}");
    let inv = ok(&c, "list_invoices", json!({"limit": 2})).await;
    assert!(inv["records"].is_array(), "{inv}");
    let opps = ok(&c, "search_opportunities", json!({"limit": 1})).await;
    let opp = opps["records"][0]["id"].as_str().unwrap();
    let got = ok(&c, "get_opportunity", json!({"opportunityId": opp})).await;
    assert!(got.to_string().contains(opp), "{got}");

    let jane = contact(&c, "Jane").await;
    let id = jane["id"].as_str().unwrap();
    let cals = ok(&c, "list_calendars", json!({})).await;
    let cal = cals["records"][0]["id"].as_str().unwrap();
    ok(
        &c,
        "book_appointment",
        json!({"calendarId": cal, "contactId": id,
        "startTime": "2030-05-07T15:00:00Z", "endTime": "2030-05-07T15:30:00Z", "title": "Fitting"}),
    )
    .await;
    let appts = ok(&c, "list_contact_appointments", json!({"contactId": id})).await;
    assert!(appts.to_string().contains("Fitting"), "{appts}");

    let created = ok(
        &c,
        "upsert_contact",
        json!({"firstName": "Delete", "lastName": "Me", "email": "delete.me@example.com"}),
    )
    .await;
    let gone = created["contact"]["id"].as_str().unwrap().to_string();
    common::confirmed(&c, "delete_contact", json!({"contactId": gone})).await;
    let (err, e) = call(&c, "get_contact", json!({"contactId": gone})).await;
    assert!(err && e["error"]["code"] == "not_found", "{e}");
}

#[tokio::test]
async fn tools_the_token_cannot_use_are_hidden() {
    let env = Env::new().await;
    let token = ghl_sandbox::mint_token(
        &env.db(),
        Some(vec![
            "locations.readonly".into(),
            "contacts.readonly".into(),
        ]),
        None,
    )
    .unwrap();
    let c = connect(GhlMcp::new(
        env.client_with(&token),
        ServerOptions::default(),
    ))
    .await;
    let names: Vec<String> = c
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    assert!(names.contains(&"get_contact".to_string()), "{names:?}");
    assert!(names.contains(&"get_location".to_string()), "{names:?}");
    for hidden in [
        "list_calendars",
        "search_conversations",
        "list_pipelines",
        "list_workflows",
        "list_invoices",
        "list_users",
    ] {
        assert!(
            !names.contains(&hidden.to_string()),
            "{hidden} listed: {names:?}"
        );
    }
}

#[tokio::test]
async fn discovery_ranks_and_knows_odd_names() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let first = |v: &Value| v["operations"][0].as_str().unwrap_or("").to_string();
    let r = ok(&c, "find_operations", json!({"query": "list invoices"})).await;
    assert!(first(&r).starts_with("invoices.list-invoices"), "{r}");
    assert!(!r.to_string().contains("products.list-invoices"), "{r}");
    let r = ok(&c, "find_operations", json!({"query": "list products"})).await;
    assert!(first(&r).starts_with("products.list-invoices"), "{r}");
    assert!(first(&r).contains("lists products"), "{r}");
    let r = ok(&c, "find_operations", json!({"query": "send message"})).await;
    assert!(
        first(&r).starts_with("conversations.send-a-new-message"),
        "{r}"
    );
    // Parts of words still find something.
    let r = ok(&c, "find_operations", json!({"query": "opp pipel"})).await;
    assert!(r.to_string().contains("opportunities.get-pipelines"), "{r}");
    let d = ok(
        &c,
        "describe_operation",
        json!({"name": "calendars.get-slots"}),
    )
    .await;
    assert!(
        d.to_string()
            .contains("startDate: number, required, epoch ms"),
        "{d}"
    );
    let d = ok(
        &c,
        "describe_operation",
        json!({"name": "products.list-invoices"}),
    )
    .await;
    assert_eq!(d["does"], "lists products, not invoices", "{d}");
}

#[tokio::test]
async fn tools_list_fits_16_kb_and_everything_stays_reachable() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let tools = c.list_all_tools().await.unwrap();
    let bytes = serde_json::to_string(&rmcp::model::ListToolsResult::with_all_items(tools.clone()))
        .unwrap()
        .len();
    eprintln!("tools/list: {} tools, {bytes} bytes", tools.len());
    if let Ok(path) = std::env::var("GHL_DUMP_TOOLS") {
        std::fs::write(path, serde_json::to_string_pretty(&tools).unwrap()).unwrap();
    }
    assert!(bytes <= 16 * 1024, "tools/list is {bytes} bytes");
    // Every operation is one find_operations (by group) away.
    let mut reached = 0;
    for g in &ghl_catalog::catalog().groups {
        let r = ok(
            &c,
            "find_operations",
            json!({"group": g.name, "limit": 100}),
        )
        .await;
        assert!(r.get("truncated").is_none(), "{r}");
        reached += r["count"].as_u64().unwrap();
    }
    assert_eq!(reached as usize, ghl_catalog::operations().len());
}
