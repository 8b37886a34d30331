//! What people ask the mirror: views, reports, names, read-only SQL, and
//! webhook events applied between syncs.

#[macro_use]
mod support;

use ghl_mirror::events::Applied;
use ghl_mirror::names::{Directory, IdKind};
use ghl_mirror::reports::{self, ReportArgs};
use ghl_mirror::sync::{Quiet, SyncOptions};
use ghl_store::{QueryLimits, Value};
use serde_json::json;

async fn synced() -> support::Env {
    let env = support::start(0).await;
    let opts = SyncOptions {
        since_ms: Some(0),
        ..SyncOptions::default()
    };
    ghl_mirror::sync(&env.client, &env.mirror, &opts, &Quiet)
        .await
        .unwrap();
    env
}

fn rows(r: &ghl_store::QueryResult) -> Vec<Vec<String>> {
    r.rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    Value::Text(s) => s.clone(),
                    Value::Int(i) => i.to_string(),
                    Value::Real(f) => f.to_string(),
                    Value::Null => String::new(),
                    Value::Blob(_) => "<blob>".into(),
                })
                .collect()
        })
        .collect()
}

on_both!(funnel_shows_stage_names_and_matches_the_deals);
async fn funnel_shows_stage_names_and_matches_the_deals() {
    let env = synced().await;
    let pipelines = env.sandbox_docs("pipelines");
    let sales = &pipelines[0];
    let name = sales["name"].as_str().unwrap();
    let r = reports::run(
        &env.mirror,
        reports::find("funnel").unwrap(),
        &ReportArgs {
            pipeline: Some(name.to_lowercase()),
            now_ms: ghl_mirror::now_ms(),
            ..ReportArgs::default()
        },
        QueryLimits::default(),
    )
    .unwrap();
    assert_eq!(r.columns, vec!["pipeline", "stage", "deals", "value"]);
    let got = rows(&r);
    let stages = sales["stages"].as_array().unwrap();
    assert_eq!(got.len(), stages.len());
    let opps = env.sandbox_docs("opportunities");
    for (row, stage) in got.iter().zip(stages) {
        assert_eq!(row[0], name);
        assert_eq!(row[1], stage["name"].as_str().unwrap());
        let want = opps
            .iter()
            .filter(|o| o["pipelineStageId"] == stage["id"] && o["status"] == "open")
            .count();
        assert_eq!(row[2], want.to_string(), "stage {}", row[1]);
    }
    // A wrong pipeline name is a did-you-mean, not an empty report.
    let e = reports::run(
        &env.mirror,
        reports::find("funnel").unwrap(),
        &ReportArgs {
            pipeline: Some(format!("{}x", &name[..name.len() - 1])),
            ..ReportArgs::default()
        },
        QueryLimits::default(),
    )
    .unwrap_err();
    assert!(
        e.hint.as_deref().unwrap_or("").contains("did you mean"),
        "{e:?}"
    );
    env.sandbox.shutdown().await;
}

on_both!(stale_sources_and_dedupe_answer_from_the_tables);
async fn stale_sources_and_dedupe_answer_from_the_tables() {
    let env = synced().await;
    let now = ghl_mirror::now_ms();
    let stale = reports::run(
        &env.mirror,
        reports::find("stale").unwrap(),
        &ReportArgs {
            days: Some(0),
            now_ms: now,
            ..ReportArgs::default()
        },
        QueryLimits::default(),
    )
    .unwrap();
    assert_eq!(
        stale.rows.len() as i64,
        env.count("SELECT COUNT(*) FROM opportunities WHERE status = 'open'")
    );
    let far = reports::run(
        &env.mirror,
        reports::find("stale").unwrap(),
        &ReportArgs {
            days: Some(36_500),
            now_ms: now,
            ..ReportArgs::default()
        },
        QueryLimits::default(),
    )
    .unwrap();
    assert!(far.rows.is_empty());

    let sources = reports::run(
        &env.mirror,
        reports::find("sources").unwrap(),
        &ReportArgs {
            now_ms: now,
            ..ReportArgs::default()
        },
        QueryLimits::default(),
    )
    .unwrap();
    let total: i64 = sources.rows.iter().map(|r| r[1].as_i64().unwrap()).sum();
    assert_eq!(total, env.count("SELECT COUNT(*) FROM contacts"));

    // Two contacts with one email (different case): one merge row. Their
    // phones differ: one phone, however written, is a duplicate HighLevel
    // (and the sandbox) refuses to create.
    for (email, phone) in [
        ("Dup@Example.com", "+1 (555) 000-1111"),
        ("dup@example.com ", "+15550002222"),
    ] {
        env.client
            .call(
                "contacts.create-contact",
                ghl_core::CallArgs::new()
                    .with_body(json!({"firstName": "Dup", "email": email, "phone": phone})),
            )
            .await
            .ok();
    }
    let opts = SyncOptions {
        groups: vec!["contacts".into()],
        since_ms: Some(0),
        ..SyncOptions::default()
    };
    ghl_mirror::sync(&env.client, &env.mirror, &opts, &Quiet)
        .await
        .unwrap();
    let plan = reports::run(
        &env.mirror,
        reports::find("dedupe").unwrap(),
        &ReportArgs {
            by: vec!["email".into()],
            ..ReportArgs::default()
        },
        QueryLimits::default(),
    )
    .unwrap();
    let plan = rows(&plan);
    let dup: Vec<&Vec<String>> = plan.iter().filter(|r| r[1] == "dup@example.com").collect();
    assert_eq!(
        env.count("SELECT COUNT(*) FROM contacts WHERE LOWER(TRIM(email)) = 'dup@example.com'"),
        2
    );
    assert_eq!(dup.len(), 1, "{plan:?}");
    assert_ne!(dup[0][2], dup[0][3]);
    let e = reports::run(
        &env.mirror,
        reports::find("dedupe").unwrap(),
        &ReportArgs {
            by: vec!["name".into()],
            ..ReportArgs::default()
        },
        QueryLimits::default(),
    )
    .unwrap_err();
    assert!(e.message.contains("name"));
    env.sandbox.shutdown().await;
}

on_both!(contacts_wide_has_a_column_per_custom_field_key);
async fn contacts_wide_has_a_column_per_custom_field_key() {
    let env = synced().await;
    let fields = env.sandbox_docs("customFields");
    let r = env
        .mirror
        .query(
            "SELECT * FROM contacts_wide LIMIT 1",
            QueryLimits::default(),
        )
        .unwrap();
    for f in fields.iter().filter(|f| f["model"] == "contact") {
        let key = f["fieldKey"].as_str().unwrap();
        let col = ghl_mirror::views::column_for_key(key).unwrap();
        assert!(r.columns.contains(&col), "{col} in {:?}", r.columns);
    }
    // The values are the contacts' values.
    let contact = env
        .sandbox_contacts()
        .into_iter()
        .find(|c| !c["customFields"].as_array().unwrap().is_empty())
        .unwrap();
    let cf = &contact["customFields"][0];
    let def = fields.iter().find(|f| f["id"] == cf["id"]).unwrap();
    let col = ghl_mirror::views::column_for_key(def["fieldKey"].as_str().unwrap()).unwrap();
    let got = env.mirror_strings(&format!(
        "SELECT \"{col}\" FROM contacts_wide WHERE id = '{}'",
        contact["id"].as_str().unwrap()
    ));
    let want = match &cf["value"] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    assert_eq!(got, vec![want]);
    env.sandbox.shutdown().await;
}

on_both!(user_sql_cannot_change_the_mirror);
async fn user_sql_cannot_change_the_mirror() {
    let env = synced().await;
    let before = env.count("SELECT COUNT(*) FROM contacts");
    for sql in [
        "DELETE FROM contacts",
        "UPDATE opportunities SET status = 'won'",
        "DROP VIEW opportunities_view",
        "INSERT INTO tags (id, name, raw) VALUES ('x', 'x', '{}')",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        "PRAGMA writable_schema = ON",
        // Each engine's own way out of a plain read.
        match env.mirror.store().backend() {
            ghl_store::Backend::Sqlite => "SELECT load_extension('x')",
            ghl_store::Backend::Postgres => "SELECT id FROM contacts FOR UPDATE",
        },
        "SELECT 1; DELETE FROM contacts",
    ] {
        let e = env.mirror.query(sql, QueryLimits::default()).unwrap_err();
        assert_eq!(e.code, ghl_core::ErrorCode::Policy, "{sql}: {e:?}");
    }
    assert_eq!(env.count("SELECT COUNT(*) FROM contacts"), before);
    let schema = env.mirror.schema().unwrap();
    let text = ghl_mirror::schema_text(&schema);
    assert!(text.contains("view opportunities_view(") && text.contains("days_in_stage"));
    assert!(text.contains("table contacts(id"));
    env.sandbox.shutdown().await;
}

on_both!(names_resolve_from_the_mirror);
async fn names_resolve_from_the_mirror() {
    let env = synced().await;
    let pipelines = env.sandbox_docs("pipelines");
    let p = &pipelines[0];
    let stage = &p["stages"][1];
    let dir = Directory::from_mirror(&env.mirror, IdKind::Stage).unwrap();
    assert_eq!(
        dir.resolve(
            IdKind::Stage,
            &stage["name"].as_str().unwrap().to_uppercase(),
            Some(p["id"].as_str().unwrap())
        )
        .unwrap(),
        stage["id"].as_str().unwrap()
    );
    let users = Directory::from_mirror(&env.mirror, IdKind::User).unwrap();
    let u = &env.sandbox_docs("users")[0];
    assert_eq!(users.name_of(u["id"].as_str().unwrap()), u["name"].as_str());
    env.sandbox.shutdown().await;
}

on_both!(webhook_events_keep_the_mirror_fresh);
async fn webhook_events_keep_the_mirror_fresh() {
    let env = synced().await;
    let m = &env.mirror;
    let created = ghl_mirror::apply_event(
        m,
        &json!({"type": "ContactCreate", "locationId": "L", "id": "evtContact1", "firstName": "Eve",
                "lastName": "Event", "email": "eve@example.com", "tags": ["vip"], "source": "webhook",
                "dateAdded": "2026-01-02T03:04:05.000Z",
                "customFields": [{"id": "f1", "value": "x"}]}),
    )
    .unwrap();
    assert_eq!(
        created,
        Applied::Upserted {
            table: "contacts",
            id: "evtContact1".into()
        }
    );
    assert_eq!(
        env.mirror_strings("SELECT name FROM contacts WHERE id = 'evtContact1'"),
        vec!["Eve Event"]
    );
    // A tag update carries the new tags; the other fields stay.
    ghl_mirror::apply_event(
        m,
        &json!({"type": "ContactTagUpdate", "id": "evtContact1", "tags": ["vip", "paid"]}),
    )
    .unwrap();
    assert_eq!(
        env.mirror_strings(
            "SELECT tag FROM contact_tags WHERE contact_id = 'evtContact1' ORDER BY tag"
        ),
        vec!["paid", "vip"]
    );
    assert_eq!(
        env.mirror_strings("SELECT email FROM contacts WHERE id = 'evtContact1'"),
        vec!["eve@example.com"]
    );

    // A stage change is history: the deal entered its new stage now.
    let opp = env
        .mirror_strings("SELECT id FROM opportunities WHERE status = 'open' ORDER BY id LIMIT 1");
    let opp = &opp[0];
    let other_stage = env.mirror_strings(&format!(
        "SELECT s.id FROM stages s JOIN opportunities o ON o.pipeline_id = s.pipeline_id
         WHERE o.id = '{opp}' AND s.id <> o.stage_id ORDER BY s.position LIMIT 1"
    ));
    let before = ghl_mirror::now_ms();
    ghl_mirror::apply_event(
        m,
        &json!({"type": "OpportunityStageUpdate", "id": opp, "pipelineStageId": other_stage[0]}),
    )
    .unwrap();
    assert_eq!(
        env.mirror_strings(&format!(
            "SELECT stage_id FROM opportunities WHERE id = '{opp}'"
        )),
        other_stage
    );
    let entered = env.count(&format!(
        "SELECT stage_entered_ms FROM opportunities WHERE id = '{opp}'"
    ));
    assert!(entered >= before, "entered {entered} < {before}");
    assert_eq!(
        env.mirror_strings(&format!(
            "SELECT origin FROM stage_history WHERE opportunity_id = '{opp}' ORDER BY entered_ms"
        )),
        vec!["sync", "event"]
    );
    assert_eq!(
        env.count(&format!(
            "SELECT days_in_stage FROM opportunities_view WHERE id = '{opp}'"
        )),
        0
    );

    // Appointments, messages, invoices.
    ghl_mirror::apply_event(
        m,
        &json!({"type": "AppointmentCreate", "locationId": "L", "appointment": {"id": "evtAppt1",
                "calendarId": "c1", "contactId": "evtContact1", "title": "Call",
                "startTime": "2026-03-01T10:00:00.000Z", "endTime": "2026-03-01T10:30:00.000Z"}}),
    )
    .unwrap();
    assert_eq!(
        env.count("SELECT COUNT(*) FROM appointments WHERE id = 'evtAppt1' AND start_ms > 0"),
        1
    );
    let conv = env.mirror_strings("SELECT id FROM conversations ORDER BY id LIMIT 1");
    ghl_mirror::apply_event(
        m,
        &json!({"type": "InboundMessage", "messageId": "evtMsg1", "conversationId": conv[0],
                "contactId": "evtContact1", "body": "hello", "direction": "inbound",
                "messageType": "SMS", "dateAdded": "2099-01-01T00:00:00.000Z"}),
    )
    .unwrap();
    assert_eq!(
        env.mirror_strings(&format!(
            "SELECT last_message_body FROM conversations WHERE id = '{}'",
            conv[0]
        )),
        vec!["hello"]
    );
    let inv = env.mirror_strings("SELECT id FROM invoices ORDER BY id LIMIT 1");
    ghl_mirror::apply_event(
        m,
        &json!({"type": "InvoicePaid", "_id": inv[0], "status": "paid", "amountDue": 0}),
    )
    .unwrap();
    assert_eq!(
        env.mirror_strings(&format!(
            "SELECT status FROM invoices WHERE id = '{}'",
            inv[0]
        )),
        vec!["paid"]
    );
    assert!(
        env.count(&format!(
            "SELECT COUNT(*) FROM invoices WHERE id = '{}' AND number IS NOT NULL",
            inv[0]
        )) == 1
    );

    // Deletes, and events the mirror does not keep.
    for (event, table, id) in [
        (
            json!({"type": "ContactDelete", "id": "evtContact1"}),
            "contacts",
            "evtContact1",
        ),
        (
            json!({"type": "OpportunityDelete", "id": opp}),
            "opportunities",
            opp.as_str(),
        ),
        (
            json!({"type": "AppointmentDelete", "appointment": {"id": "evtAppt1"}}),
            "appointments",
            "evtAppt1",
        ),
    ] {
        ghl_mirror::apply_event(m, &event).unwrap();
        assert_eq!(
            env.count(&format!("SELECT COUNT(*) FROM {table} WHERE id = '{id}'")),
            0
        );
    }
    assert_eq!(
        env.count("SELECT COUNT(*) FROM contact_tags WHERE contact_id = 'evtContact1'"),
        0
    );
    assert!(matches!(
        ghl_mirror::apply_event(m, &json!({"type": "CampaignStatusUpdate", "id": "x"})).unwrap(),
        Applied::Ignored(_)
    ));
    assert!(ghl_mirror::apply_event(m, &json!({"id": "x"})).is_err());
    assert!(matches!(
        ghl_mirror::apply_event(m, &json!({"type": "ContactUpdate"})).unwrap(),
        Applied::Ignored(_)
    ));
    env.sandbox.shutdown().await;
}
