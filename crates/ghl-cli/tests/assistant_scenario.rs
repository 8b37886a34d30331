//! An assistant's afternoon, end to end: the real `ghl --sandbox mcp`
//! binary driven by rmcp's child-process client. Find a contact, book the
//! first free slot on a given day, move the deal to won, text the contact
//! (confirmed), list a tag's contacts to the end. Every outcome is then read
//! back from the sandbox's own API, on the database the binary used.

use std::collections::HashSet;
use std::sync::Arc;

use ghl_core::{CallArgs, Client, Defaults, PageOpts, Policy, Secret, Transport, TransportConfig};
use ghl_mcp::rmcp::ServiceExt;
use ghl_mcp::rmcp::model::CallToolRequestParams;
use ghl_mcp::rmcp::service::{RoleClient, RunningService};
use ghl_mcp::rmcp::transport::TokioChildProcess;
use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID, SandboxOptions};
use serde_json::{Value, json};

type Mcp = RunningService<RoleClient, ()>;

async fn ok(client: &Mcp, name: &str, args: Value) -> Value {
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
    assert!(!r.is_error.unwrap_or(false), "{name} failed: {text}");
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn records(v: &Value) -> Vec<Value> {
    v["records"].as_array().cloned().unwrap_or_default()
}

fn id(v: &Value) -> String {
    v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id: {v}"))
        .to_string()
}

/// The day the appointment is booked on (a Tuesday, far from today).
const DAY: &str = "2030-06-04";
const TAG: &str = "vip";
const TEXT: &str = "See you Tuesday at 3";
/// Records per page while listing the tag.
const LIMIT: usize = 7;

#[tokio::test]
async fn an_assistant_books_wins_texts_and_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("sandbox.db");
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ghl"));
    cmd.args(["--sandbox", "mcp"])
        .env("GHL_SANDBOX_DB", &db)
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env_remove("HIGHLEVEL_TOKEN")
        .env_remove("GHL_READ_ONLY");
    let c: Mcp =
        ().serve(TokioChildProcess::new(cmd).expect("spawn ghl"))
            .await
            .expect("initialize");

    // 1. Find a contact.
    let found = ok(
        &c,
        "search_contacts",
        json!({"query": "Jane Doe", "limit": 5}),
    )
    .await;
    let jane = records(&found)
        .into_iter()
        .find(|r| r["lastName"] == "Doe")
        .unwrap_or_else(|| panic!("no Jane Doe: {found}"));
    let jane_id = id(&jane);

    // 2. The first free slot on DAY: a bare end date includes that day.
    let cals = ok(&c, "list_calendars", json!({})).await;
    let cal = id(&records(&cals)[0]);
    let slots = ok(
        &c,
        "get_free_slots",
        json!({"calendarId": cal, "startDate": DAY, "endDate": DAY,
        "timezone": "America/New_York"}),
    )
    .await;
    let first = slots["slots"][DAY]["slots"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no slot on {DAY}: {slots}"))
        .to_string();
    let booked = ok(
        &c,
        "book_appointment",
        json!({"calendarId": cal, "contactId": jane_id, "startTime": first, "title": "Fitting"}),
    )
    .await;
    let event = booked
        .get("id")
        .or_else(|| booked.get("appointment").and_then(|a| a.get("id")))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no event id: {booked}"))
        .to_string();

    // 3. Her deal, moved to won (opened first when she has none).
    let deals = ok(&c, "search_opportunities", json!({"contactId": jane_id})).await;
    let deal = match records(&deals).first() {
        Some(d) => id(d),
        None => {
            let pipes = ok(&c, "list_pipelines", json!({})).await;
            let pipe = id(&records(&pipes)[0]);
            let made = ok(
                &c,
                "create_opportunity",
                json!({"pipelineId": pipe, "contactId": jane_id, "name": "Jane's fitting"}),
            )
            .await;
            id(made.get("opportunity").unwrap_or(&made))
        }
    };
    ok(
        &c,
        "update_opportunity",
        json!({"opportunityId": deal, "status": "won"}),
    )
    .await;

    // 4. Text her: a preview naming her, then the confirmed send.
    let args = json!({"contactId": jane_id, "message": TEXT});
    let preview = ok(&c, "send_sms", args.clone()).await;
    assert_eq!(preview["status"], "confirmation_required", "{preview}");
    let sentence = preview["preview"].as_str().unwrap_or_default();
    assert!(
        sentence.starts_with("Send SMS to Jane Doe (+1 ")
            && sentence.ends_with(&format!("'{TEXT}'")),
        "{preview}"
    );
    let mut confirmed = args;
    confirmed["confirm"] = preview["confirm"].clone();
    ok(&c, "send_sms", confirmed).await;

    // 5. Every vip contact, page by page to the end, in small pages: a
    // continued cursor must neither repeat nor skip records.
    let mut page = ok(
        &c,
        "search_contacts",
        json!({"tags": [TAG], "limit": LIMIT, "fields": ["tags"]}),
    )
    .await;
    let mut listed: Vec<String> = Vec::new();
    let mut pages = 0;
    loop {
        pages += 1;
        listed.extend(records(&page).iter().map(id));
        let Some(cursor) = page["cursor"].as_str().map(String::from) else {
            break;
        };
        page = ok(&c, "search_contacts", json!({"cursor": cursor})).await;
    }
    c.cancel().await.ok();

    // Read every outcome back from the sandbox itself.
    let sandbox = ghl_sandbox::start(SandboxOptions::new(db))
        .await
        .expect("sandbox on the binary's database");
    let t = Transport::new(TransportConfig::new(
        sandbox.base_url(),
        Secret::new(DEFAULT_TOKEN),
    ))
    .expect("transport");
    let api = Client::new(
        Arc::new(t),
        Policy::default(),
        Defaults {
            location_id: Some(DEMO_LOCATION_ID.into()),
            company_id: None,
        },
    );
    let read = |op: &'static str, args: CallArgs| {
        let api = api.clone();
        async move {
            let req = api.prepare(op, &args).expect("prepare");
            api.execute(&req).await.expect("read back")
        }
    };

    let appt = read(
        "calendars.get-appointment",
        CallArgs::new().param("eventId", event.as_str()),
    )
    .await;
    let appt = appt.get("event").unwrap_or(&appt);
    assert_eq!(appt["contactId"], json!(jane_id), "{appt}");
    assert_eq!(appt["calendarId"], json!(cal), "{appt}");
    let start = appt["startTime"].as_str().unwrap_or_default();
    let instant = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
    };
    assert_eq!(
        instant(start),
        instant(&first),
        "booked {start}, first free slot {first}"
    );

    let opp = read(
        "opportunities.get-opportunity",
        CallArgs::new().param("id", deal.as_str()),
    )
    .await;
    assert_eq!(opp["opportunity"]["status"], "won", "{opp}");

    let convs = read(
        "conversations.search-conversation",
        CallArgs::new().param("contactId", jane_id.as_str()),
    )
    .await;
    let conv = convs["conversations"][0]["id"]
        .as_str()
        .expect("a conversation");
    let msgs = read(
        "conversations.get-messages",
        CallArgs::new().param("conversationId", conv),
    )
    .await;
    let sent = msgs.to_string().matches(TEXT).count();
    assert_eq!(sent, 1, "the SMS went out exactly once: {msgs}");

    let (all, _) = api
        .collect(
            "contacts.get-contacts",
            CallArgs::new(),
            PageOpts {
                all: true,
                ..PageOpts::default()
            },
        )
        .await
        .expect("every contact");
    let vip: HashSet<String> = all
        .iter()
        .filter(|c| {
            c["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|x| x == TAG))
        })
        .map(id)
        .collect();
    let unique: HashSet<String> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "a contact was listed twice");
    assert!(!vip.is_empty());
    assert_eq!(
        pages,
        vip.len().div_ceil(LIMIT),
        "{} vip contacts in {pages} pages",
        vip.len()
    );
    assert_eq!(unique, vip, "the tag's contacts, all of them and only them");
}
