//! Issue 8, defects 1-7: answers an assistant acts on must be right.
//! Every check reads the outcome back from the sandbox.

mod common;

use std::collections::HashSet;

use common::*;
use ghl_core::{CallArgs, PageOpts};
use ghl_mcp::ServerOptions;
use ghl_sandbox::DEMO_LOCATION_ID;
use serde_json::{Value, json};

fn records(v: &Value) -> &Vec<Value> {
    v["records"].as_array().expect("records")
}

fn vip_filter() -> Value {
    json!([{"field": "tags", "operator": "eq", "value": "vip"}])
}

/// The vip contacts as the sandbox holds them, fetched whole.
async fn vip_ids(env: &Env) -> HashSet<String> {
    let args = CallArgs::new().with_body(json!({
        "locationId": DEMO_LOCATION_ID, "filters": vip_filter(), "pageLimit": 100
    }));
    let (all, _) = env
        .client()
        .collect(
            "contacts.search-contacts-advanced",
            args,
            PageOpts {
                all: true,
                ..PageOpts::default()
            },
        )
        .await
        .unwrap();
    all.iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// Walk a listing to its end with cursors only; returns every id seen and
/// the results of each call.
async fn walk(c: &McpClient, tool: &str, first: Value) -> (Vec<String>, Vec<Value>) {
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    let mut page = ok(c, tool, first).await;
    loop {
        ids.extend(
            records(&page)
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string()),
        );
        pages.push(page.clone());
        let Some(cursor) = page["cursor"].as_str().map(String::from) else {
            break;
        };
        assert!(pages.len() < 100, "the walk does not end");
        page = ok(c, tool, json!({ "cursor": cursor })).await;
    }
    (ids, pages)
}

// Defect 1: a continued walk repeats records and forgets fields and limit.
#[tokio::test]
async fn cursor_walk_has_no_duplicates_and_keeps_fields_and_limit() {
    let env = Env::new().await;
    let want = vip_ids(&env).await;
    assert!(want.len() > 7, "the demo data has vip contacts");
    let c = mcp(&env, ServerOptions::default()).await;
    let (ids, pages) = walk(
        &c,
        "search_contacts",
        json!({"filters": vip_filter(), "limit": 7, "fields": ["email"]}),
    )
    .await;
    let unique: HashSet<String> = ids.iter().cloned().collect();
    assert_eq!(unique.len(), ids.len(), "duplicates in {ids:?}");
    assert_eq!(unique, want);
    for p in &pages {
        assert!(records(p).len() <= 7, "limit kept: {p}");
        for r in records(p) {
            let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
            assert!(
                keys.iter().all(|k| *k == "id" || *k == "email"),
                "fields kept on later pages: {r}"
            );
        }
        // The cursor is given once, not repeated in prose.
        if let Some(cur) = p["cursor"].as_str() {
            assert_eq!(p.to_string().matches(cur).count(), 1, "{p}");
        }
    }

    // 200 contacts at 30 a page: exactly 200 distinct rows.
    let (ids, _) = walk(&c, "search_contacts", json!({"limit": 30})).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (200, 200));
}

// Defect 2: the last page says nothing about continuing.
#[tokio::test]
async fn last_page_of_an_exactly_divisible_list_has_no_cursor() {
    let env = Env::new().await;
    let n = vip_ids(&env).await.len();
    let c = mcp(&env, ServerOptions::default()).await;
    let whole = ok(
        &c,
        "search_contacts",
        json!({"filters": vip_filter(), "limit": n}),
    )
    .await;
    assert_eq!(records(&whole).len(), n);
    assert!(whole.get("cursor").is_none(), "{whole}");
    assert!(whole.get("truncated").is_none(), "{whole}");

    let jane = ok(&c, "search_contacts", json!({"query": "Jane"})).await;
    assert_eq!(records(&jane).len(), 3, "{jane}");
    assert!(jane.get("cursor").is_none(), "{jane}");
}

// Defect 3: a page size named by the caller is the page size.
#[tokio::test]
async fn page_size_given_by_name_is_one_request() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let one = ok(
        &c,
        "call_operation",
        json!({"name": "contacts.search-contacts-advanced",
               "params": {"pageLimit": 1}}),
    )
    .await;
    assert_eq!(records(&one).len(), 1, "{one}");
    assert!(one["cursor"].is_string(), "more exist: {one}");
}

// Defect 4: a malformed filter matched every contact; tags had no shortcut.
#[tokio::test]
async fn contact_filters_are_typed_and_tags_have_a_shortcut() {
    let env = Env::new().await;
    let want = vip_ids(&env).await;
    let c = mcp(&env, ServerOptions::default()).await;

    let (err, v) = call(&c, "search_contacts", json!({"filters": [{"tags": "vip"}]})).await;
    assert!(err, "a malformed filter is refused: {v}");
    let text = v.to_string();
    assert!(
        text.contains(r#"\"field\": \"tags\""#),
        "shows a correct filter: {text}"
    );

    let (ids, _) = walk(
        &c,
        "search_contacts",
        json!({"tags": ["vip"], "limit": 100}),
    )
    .await;
    let got: HashSet<String> = ids.into_iter().collect();
    assert_eq!(got, want);

    // The sandbox refuses it as HighLevel does, whoever sends it.
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{}/contacts/search", env.sandbox.base_url()))
        .bearer_auth(ghl_sandbox::DEFAULT_TOKEN)
        .header("Version", "2021-07-28")
        .json(
            &json!({"locationId": DEMO_LOCATION_ID, "pageLimit": 10, "filters": [{"tags": "vip"}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let r = http
        .post(format!("{}/contacts/search", env.sandbox.base_url()))
        .bearer_auth(ghl_sandbox::DEFAULT_TOKEN)
        .header("Version", "2021-07-28")
        .json(&json!({"locationId": DEMO_LOCATION_ID, "pageLimit": 100,
            "filters": [{"group": "AND", "filters": [
                {"field": "tags", "operator": "eq", "value": "vip"},
                {"field": "email", "operator": "exists"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["total"].as_u64(), Some(want.len() as u64));
}

async fn contact_tags(env: &Env, id: &str) -> Vec<String> {
    let got = env
        .client()
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", id),
        )
        .await
        .unwrap();
    let mut t: Vec<String> = got["contact"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    t.sort();
    t
}

// Defect 5: update_contact with tags silently dropped the contact's tags.
#[tokio::test]
async fn replacing_tags_that_removes_some_needs_confirmation() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let created = ok(
        &c,
        "upsert_contact",
        json!({"firstName": "Tag", "lastName": "Keeper", "email": "tag.keeper@example.com",
               "tags": ["vip", "webinar"]}),
    )
    .await;
    let id = created["contact"]["id"].as_str().unwrap().to_string();

    let first = ok(
        &c,
        "update_contact",
        json!({"contactId": id, "tags": ["newsletter"]}),
    )
    .await;
    assert_eq!(first["status"], "confirmation_required", "{first}");
    assert_eq!(first["request"]["removesTags"], json!(["vip", "webinar"]));
    let sentence = first["preview"].as_str().unwrap();
    assert!(sentence.contains("removes: vip, webinar"), "{sentence}");
    assert_eq!(
        contact_tags(&env, &id).await,
        vec!["vip", "webinar"],
        "nothing changed yet"
    );

    // A superset removes nothing: no confirmation.
    ok(
        &c,
        "update_contact",
        json!({"contactId": id, "tags": ["vip", "webinar", "newsletter"]}),
    )
    .await;
    assert_eq!(
        contact_tags(&env, &id).await,
        vec!["newsletter", "vip", "webinar"]
    );

    confirmed(
        &c,
        "update_contact",
        json!({"contactId": id, "tags": ["newsletter"]}),
    )
    .await;
    assert_eq!(contact_tags(&env, &id).await, vec!["newsletter"]);

    // The tool says what tags do.
    let tools = c.list_all_tools().await.unwrap();
    let t = tools.iter().find(|t| t.name == "update_contact").unwrap();
    assert!(t.description.as_deref().unwrap_or("").contains("REPLACES"));
}

// Defect 6: values checked against their definitions, per operation.
#[tokio::test]
async fn enums_and_custom_field_values_are_checked() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let found = ok(&c, "search_opportunities", json!({"limit": 1})).await;
    let opp = records(&found)[0]["id"].as_str().unwrap().to_string();
    let before = found["records"][0]["status"].clone();

    let (err, v) = call(
        &c,
        "update_opportunity",
        json!({"opportunityId": opp, "status": "all"}),
    )
    .await;
    assert!(err, "{v}");
    assert!(v.to_string().contains("open, won, lost, abandoned"), "{v}");
    let got = env
        .client()
        .call(
            "opportunities.get-opportunity",
            CallArgs::new().param("id", opp.as_str()),
        )
        .await
        .unwrap();
    assert_eq!(got["opportunity"]["status"], before);
    ok(
        &c,
        "update_opportunity",
        json!({"opportunityId": opp, "status": "won"}),
    )
    .await;

    let jane = ok(&c, "search_contacts", json!({"query": "Jane Cooper"})).await;
    let id = records(&jane)[0]["id"].as_str().unwrap().to_string();
    let (err, v) = call(
        &c,
        "update_contact",
        json!({"contactId": id, "customFields": {"contact.lead_source": "Ads"}}),
    )
    .await;
    assert!(err, "{v}");
    assert!(v.to_string().contains("Google Ads"), "did you mean: {v}");
    let (err, v) = call(
        &c,
        "update_contact",
        json!({"contactId": id, "customFields": {"contact.company_size": "many"}}),
    )
    .await;
    assert!(err, "a number field refuses text: {v}");
    ok(
        &c,
        "update_contact",
        json!({"contactId": id, "customFields": {"contact.lead_source": "facebook"}}),
    )
    .await;
    let got = ok(&c, "get_contact", json!({"contactId": id})).await;
    assert!(got.to_string().contains("\"Facebook\""), "{got}");

    // The sandbox refuses both as HighLevel does.
    let raw = env
        .client()
        .call(
            "opportunities.update-opportunity",
            CallArgs::new()
                .param("id", opp.as_str())
                .with_body(json!({"status": "all"})),
        )
        .await;
    assert!(raw.is_err(), "refused before sending");
    let http = reqwest::Client::new();
    let r = http
        .put(format!("{}/opportunities/{opp}", env.sandbox.base_url()))
        .bearer_auth(ghl_sandbox::DEFAULT_TOKEN)
        .header("Version", "2021-07-28")
        .json(&json!({"status": "all"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
    let fields = env
        .client()
        .call(
            "locations.get-custom-fields",
            CallArgs::new().param("locationId", DEMO_LOCATION_ID),
        )
        .await
        .unwrap();
    let lead = fields["customFields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["fieldKey"] == "contact.lead_source")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http
        .put(format!("{}/contacts/{id}", env.sandbox.base_url()))
        .bearer_auth(ghl_sandbox::DEFAULT_TOKEN)
        .header("Version", "2021-07-28")
        .json(&json!({"customFields": [{"id": lead, "field_value": "Ads"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 422);
}

// Defect 7: a bare end date includes that day, in the calendar's zone.
#[tokio::test]
async fn free_slots_for_one_day_and_the_time_now() {
    let env = Env::new().await;
    let c = mcp(&env, ServerOptions::default()).await;
    let cals = ok(&c, "list_calendars", json!({})).await;
    let cal = records(&cals)[0]["id"].as_str().unwrap().to_string();
    // Tuesday 5 March 2030, start and end the same day, no zone given.
    let day = ok(
        &c,
        "get_free_slots",
        json!({"calendarId": cal, "startDate": "2030-03-05", "endDate": "2030-03-05"}),
    )
    .await;
    let slots = day["slots"].as_object().expect("slots");
    assert_eq!(
        slots.keys().collect::<Vec<_>>(),
        vec!["2030-03-05"],
        "{day}"
    );
    let list = slots["2030-03-05"]["slots"].as_array().unwrap();
    assert!(!list.is_empty(), "{day}");
    assert!(
        list.iter()
            .all(|s| s.as_str().unwrap().starts_with("2030-03-05T")),
        "{day}"
    );
    assert_eq!(day["timezone"], "America/New_York", "{day}");
    assert!(day["now"].as_str().is_some_and(|n| n.len() >= 20), "{day}");

    // A Sunday has no open hours: said in words.
    let none = ok(
        &c,
        "get_free_slots",
        json!({"calendarId": cal, "startDate": "2030-03-10", "endDate": "2030-03-10"}),
    )
    .await;
    assert_eq!(
        none["note"], "no free slots between 2030-03-10 and 2030-03-10 (America/New_York)",
        "{none}"
    );
}
