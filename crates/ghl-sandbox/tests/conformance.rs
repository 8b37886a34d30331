//! Responses of the modelled groups validate against the official response
//! schemas, read at test time from ../shared/ghl-openapi (never copied here).
//! A small validator of our own: $ref (local and common file), allOf/anyOf/
//! oneOf, type, enum, required, properties, items. `null` is accepted
//! anywhere, as HighLevel itself sends nulls for absent values.

mod common;

use std::path::PathBuf;

use common::{LOC, env, s};
use serde_json::{Value, json};

fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ghl-openapi")
}

struct Specs {
    common: Value,
}

fn load(p: PathBuf) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

fn pointer<'a>(doc: &'a Value, frag: &str) -> &'a Value {
    doc.pointer(frag.trim_start_matches('#'))
        .unwrap_or(&Value::Null)
}

impl Specs {
    fn check(
        &self,
        doc: &Value,
        schema: &Value,
        v: &Value,
        at: &str,
        errs: &mut Vec<String>,
        depth: usize,
    ) {
        if depth > 40 || v.is_null() {
            return;
        }
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            return match r.split_once('#') {
                Some(("", frag)) => self.check(doc, pointer(doc, frag), v, at, errs, depth + 1),
                Some((_, frag)) => self.check(
                    &self.common,
                    pointer(&self.common, frag),
                    v,
                    at,
                    errs,
                    depth + 1,
                ),
                None => {}
            };
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.check(doc, s, v, at, errs, depth + 1);
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(alts) = schema.get(key).and_then(Value::as_array) {
                let ok = alts.iter().any(|s| {
                    let mut e = Vec::new();
                    self.check(doc, s, v, at, &mut e, depth + 1);
                    e.is_empty()
                });
                if !ok {
                    errs.push(format!("{at}: matches no {key} alternative"));
                }
            }
        }
        let ty = schema.get("type").and_then(Value::as_str);
        let type_ok = match ty {
            Some("string") => v.is_string(),
            Some("number") => v.is_number(),
            Some("integer") => {
                v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            Some("boolean") => v.is_boolean(),
            Some("array") => v.is_array(),
            Some("object") => v.is_object(),
            _ => true,
        };
        if !type_ok {
            errs.push(format!("{at}: expected {}, got {v}", ty.unwrap_or("?")));
            return;
        }
        if let (Some(e), Some(x)) = (schema.get("enum").and_then(Value::as_array), v.as_str())
            && !e.iter().any(|e| e.as_str() == Some(x))
        {
            errs.push(format!("{at}: `{x}` not in enum"));
        }
        if let Some(obj) = v.as_object() {
            for r in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(k) = r.as_str()
                    && !obj.contains_key(k)
                {
                    errs.push(format!("{at}: missing required `{k}`"));
                }
            }
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (k, s) in props {
                    if let Some(x) = obj.get(k) {
                        self.check(doc, s, x, &format!("{at}.{k}"), errs, depth + 1);
                    }
                }
            }
        }
        if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
            for (i, x) in arr.iter().enumerate() {
                self.check(doc, items, x, &format!("{at}[{i}]"), errs, depth + 1);
            }
        }
    }
}

#[tokio::test]
async fn modelled_responses_match_spec_schemas() {
    let dir = specs_dir();
    // The specs are the contract: without them this test fails, it never
    // passes by checking nothing.
    assert!(
        dir.join("apps").is_dir(),
        "the specs are not at {}: put ../shared/ghl-openapi beside the repository",
        dir.display()
    );
    let specs = Specs {
        common: load(dir.join("common/common-schemas.json")),
    };
    let e = env().await;

    // Gather live responses.
    let contact = e.op("contacts.create-contact", &[], &[], Some(json!({"locationId": LOC, "firstName": "Conf", "email": "conf@example.org", "phone": "+15550009999"}))).await;
    let cid = s(&contact.body["contact"]["id"]).to_string();
    let pipes = e
        .op(
            "opportunities.get-pipelines",
            &[],
            &[("locationId", LOC)],
            None,
        )
        .await;
    let opp = e
        .op(
            "opportunities.create-opportunity",
            &[],
            &[],
            Some(
                json!({"pipelineId": pipes.body["pipelines"][0]["id"], "locationId": LOC,
        "name": "Conf deal", "status": "open", "contactId": cid}),
            ),
        )
        .await;
    let oid = s(&opp.body["opportunity"]["id"]).to_string();
    let cals = e
        .op("calendars.get-calendars", &[], &[("locationId", LOC)], None)
        .await;
    let cal = s(&cals.body["calendars"][0]["id"]).to_string();
    let appt = e
        .op(
            "calendars.create-appointment",
            &[],
            &[],
            Some(
                json!({"calendarId": cal, "locationId": LOC, "contactId": cid,
        "startTime": "2031-03-04T15:00:00Z", "ignoreFreeSlotValidation": true}),
            ),
        )
        .await;
    let sent = e.op("conversations.send-a-new-message", &[], &[], Some(json!({"type": "SMS", "subType": "SMS", "status": "pending", "contactId": cid, "message": "hi"}))).await;
    let conv = s(&sent.body["conversationId"]).to_string();
    let msgs = e
        .op(
            "conversations.get-messages",
            &[("conversationId", &conv)],
            &[],
            None,
        )
        .await;
    let prod = e
        .op(
            "products.create-product",
            &[],
            &[],
            Some(json!({"name": "Conf product", "locationId": LOC, "productType": "DIGITAL"})),
        )
        .await;
    let pid = s(&prod.body["_id"]).to_string();
    let inv = e.op("invoices.create-invoice", &[], &[], Some(json!({"altId": LOC, "altType": "location", "name": "Conf", "businessDetails": {},
        "currency": "USD", "items": [{"name": "x", "amount": 10, "qty": 1}], "discount": {"type": "fixed", "value": 0},
        "contactDetails": {"id": cid, "name": "Conf"}, "issueDate": "2031-01-01", "sentTo": {"email": []}, "liveMode": false}))).await;
    let iid = s(&inv.body["_id"]).to_string();
    let alt = [("altId", LOC), ("altType", "location")];

    let cases: Vec<(&str, &str, &str, &str, Value)> = vec![
        (
            "contacts",
            "post",
            "/contacts/",
            "201",
            contact.body.clone(),
        ),
        (
            "contacts",
            "get",
            "/contacts/{contactId}",
            "200",
            e.op("contacts.get-contact", &[("contactId", &cid)], &[], None)
                .await
                .body,
        ),
        (
            "contacts",
            "post",
            "/contacts/upsert",
            "200",
            e.op(
                "contacts.upsert-contact",
                &[],
                &[],
                Some(json!({"locationId": LOC, "email": "conf@example.org"})),
            )
            .await
            .body,
        ),
        (
            "contacts",
            "get",
            "/contacts/{contactId}/notes",
            "200",
            e.op("contacts.get-all-notes", &[("contactId", &cid)], &[], None)
                .await
                .body,
        ),
        (
            "opportunities",
            "get",
            "/opportunities/pipelines",
            "200",
            pipes.body.clone(),
        ),
        (
            "opportunities",
            "post",
            "/opportunities/",
            "201",
            opp.body.clone(),
        ),
        (
            "opportunities",
            "get",
            "/opportunities/{id}",
            "200",
            e.op("opportunities.get-opportunity", &[("id", &oid)], &[], None)
                .await
                .body,
        ),
        (
            "opportunities",
            "get",
            "/opportunities/search",
            "200",
            e.op(
                "opportunities.search-opportunity",
                &[],
                &[("location_id", LOC), ("limit", "5")],
                None,
            )
            .await
            .body,
        ),
        ("calendars", "get", "/calendars/", "200", cals.body.clone()),
        (
            "calendars",
            "get",
            "/calendars/{calendarId}",
            "200",
            e.op("calendars.get-calendar", &[("calendarId", &cal)], &[], None)
                .await
                .body,
        ),
        (
            "calendars",
            "post",
            "/calendars/events/appointments",
            "200",
            appt.body.clone(),
        ),
        (
            "conversations",
            "post",
            "/conversations/messages",
            "200",
            sent.body.clone(),
        ),
        // The live API nests the history under `messages`; the spec's schema describes that inner object.
        (
            "conversations",
            "get",
            "/conversations/{conversationId}/messages",
            "200",
            msgs.body["messages"].clone(),
        ),
        (
            "conversations",
            "get",
            "/conversations/search",
            "200",
            e.op(
                "conversations.search-conversation",
                &[],
                &[("locationId", LOC)],
                None,
            )
            .await
            .body,
        ),
        (
            "conversations",
            "get",
            "/conversations/{conversationId}",
            "200",
            e.op(
                "conversations.get-conversation",
                &[("conversationId", &conv)],
                &[],
                None,
            )
            .await
            .body,
        ),
        ("products", "post", "/products/", "201", prod.body.clone()),
        (
            "products",
            "get",
            "/products/{productId}",
            "200",
            e.op(
                "products.get-product-by-id",
                &[("productId", &pid)],
                &[("locationId", LOC)],
                None,
            )
            .await
            .body,
        ),
        (
            "products",
            "get",
            "/products/",
            "200",
            e.op("products.list-invoices", &[], &[("locationId", LOC)], None)
                .await
                .body,
        ),
        ("invoices", "post", "/invoices/", "200", inv.body.clone()),
        (
            "invoices",
            "get",
            "/invoices/{invoiceId}",
            "200",
            e.op("invoices.get-invoice", &[("invoiceId", &iid)], &alt, None)
                .await
                .body,
        ),
        (
            "invoices",
            "get",
            "/invoices/",
            "200",
            e.op(
                "invoices.list-invoices",
                &[],
                &[
                    ("altId", LOC),
                    ("altType", "location"),
                    ("limit", "5"),
                    ("offset", "0"),
                ],
                None,
            )
            .await
            .body,
        ),
        (
            "locations",
            "get",
            "/locations/{locationId}",
            "200",
            e.op("locations.get-location", &[("locationId", LOC)], &[], None)
                .await
                .body,
        ),
        (
            "locations",
            "get",
            "/locations/{locationId}/customFields",
            "200",
            e.op(
                "locations.get-custom-fields",
                &[("locationId", LOC)],
                &[],
                None,
            )
            .await
            .body,
        ),
        (
            "users",
            "get",
            "/users/",
            "200",
            e.op(
                "users.get-user-by-location",
                &[],
                &[("locationId", LOC)],
                None,
            )
            .await
            .body,
        ),
        (
            "workflows",
            "get",
            "/workflows/",
            "200",
            e.op("workflows.get-workflow", &[], &[("locationId", LOC)], None)
                .await
                .body,
        ),
        (
            "forms",
            "get",
            "/forms/submissions",
            "200",
            e.op(
                "forms.get-forms-submissions",
                &[],
                &[("locationId", LOC)],
                None,
            )
            .await
            .body,
        ),
    ];

    // Where the spec contradicts the live API, the sandbox follows the API:
    // pipeline stages are objects (the spec says arrays of arrays) and invoice
    // items are objects (the spec says strings).
    let known_spec_defects = [".stages[", ".invoiceItems["];
    let mut failures = Vec::new();
    for (group, method, path, code, body) in &cases {
        let doc = load(dir.join(format!("apps/{group}.json")));
        let schema = doc["paths"][*path][*method]["responses"][*code]["content"]["application/json"]["schema"].clone();
        assert!(!schema.is_null(), "no schema for {method} {path} {code}");
        let mut errs = Vec::new();
        specs.check(&doc, &schema, body, "$", &mut errs, 0);
        errs.retain(|e| !known_spec_defects.iter().any(|d| e.contains(d)));
        let verdict = if errs.is_empty() { "pass" } else { "FAIL" };
        println!("{verdict}  {} {path} {code}", method.to_uppercase());
        if !errs.is_empty() {
            failures.push(format!("{method} {path}: {}", errs.join("; ")));
        }
    }
    println!(
        "{} of {} response schemas pass",
        cases.len() - failures.len(),
        cases.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
