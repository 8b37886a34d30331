//! The `ghl` binary against its embedded sandbox, as a user runs it: friendly
//! commands create, read back, search, update and delete, and relations hold
//! (a booked slot leaves the free slots, a sent message joins the thread).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

struct Run {
    code: i32,
    out: Value,
    err: String,
}

fn ghl(home: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .arg("--sandbox")
        .args(["--output", "json"])
        .args(args)
        .env("GHL_SANDBOX_DB", home.join("sandbox.db"))
        .env("GHL_CONFIG", home.join("config.toml"))
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("HIGHLEVEL_TOKEN")
        .env_remove("HIGHLEVEL_LOCATION_ID")
        .env_remove("GHL_BASE_URL")
        .output()
        .expect("run ghl");
    let text = String::from_utf8_lossy(&out.stdout);
    Run {
        code: out.status.code().unwrap_or(-1),
        out: serde_json::from_str(&text).unwrap_or(Value::String(text.into_owned())),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(home: &Path, args: &[&str]) -> Value {
    let r = ghl(home, args);
    assert_eq!(r.code, 0, "ghl {args:?} failed: {}", r.err);
    r.out
}

fn str_at<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {ptr} in {v}"))
}

#[test]
fn contacts_lifecycle() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let jane = ok(h, &["contacts", "search", "Jane"]);
    assert!(jane.as_array().is_some_and(|a| a.len() >= 2), "{jane}");

    let created = ok(
        h,
        &[
            "contacts",
            "create",
            r#"{"firstName":"Zelda","lastName":"Quartz","email":"zelda.quartz@example.com","phone":"+15550001111"}"#,
        ],
    );
    let id = str_at(&created, "/contact/id").to_string();
    let got = ok(h, &["contacts", "get", &id]);
    assert_eq!(str_at(&got, "/contact/email"), "zelda.quartz@example.com");
    let found = ok(h, &["contacts", "search", "quartz"]);
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");

    ok(
        h,
        &[
            "contacts",
            "update",
            &id,
            r#"{"companyName":"Quartz Labs"}"#,
        ],
    );
    ok(h, &["contacts", "tags", "add", &id, "vip,beta"]);
    let got = ok(h, &["contacts", "get", &id]);
    assert_eq!(str_at(&got, "/contact/companyName"), "Quartz Labs");
    let tags = got
        .pointer("/contact/tags")
        .and_then(Value::as_array)
        .unwrap();
    assert!(
        tags.iter().any(|t| t == "vip") && tags.iter().any(|t| t == "beta"),
        "{tags:?}"
    );

    // Upsert by email finds the same contact instead of duplicating it.
    let up = ok(
        h,
        &[
            "contacts",
            "upsert",
            r#"{"email":"zelda.quartz@example.com","lastName":"Quartz-Stone"}"#,
        ],
    );
    assert_eq!(str_at(&up, "/contact/id"), id);

    ok(
        h,
        &["contacts", "notes", "add", &id, "Called, wants a demo"],
    );
    let notes = ok(h, &["contacts", "notes", "list", &id]);
    assert!(notes.to_string().contains("wants a demo"), "{notes}");

    // Deleting needs confirmation when nobody is at a terminal.
    let refused = ghl(h, &["contacts", "delete", &id]);
    assert_eq!(refused.code, 7, "{}", refused.err);
    ok(h, &["contacts", "get", &id]);
    ok(h, &["contacts", "delete", &id, "--yes"]);
    let gone = ghl(h, &["contacts", "get", &id]);
    assert_eq!(gone.code, 11, "{}", gone.err);
    assert!(gone.err.contains("not_found"), "{}", gone.err);
}

#[test]
fn booking_takes_the_slot_out_of_free_slots() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let cals = ok(h, &["calendars", "list"]);
    let cal = str_at(&cals, "/calendars/0/id").to_string();
    let contacts = ok(h, &["contacts", "search", "Jane"]);
    let contact = str_at(&contacts, "/0/id").to_string();
    // A weekday well ahead, so the demo's own appointments do not interfere.
    let day = "2030-03-06";
    let slots = ok(h, &["calendars", "slots", &cal, day, "2030-03-07"]);
    let first = str_at(&slots, &format!("/{day}/slots/0")).to_string();
    let booked = ok(h, &["appointments", "book", &cal, &contact, &first]);
    let event = booked
        .get("id")
        .or_else(|| booked.pointer("/appointment/id"))
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    let after = ok(h, &["calendars", "slots", &cal, day, "2030-03-07"]);
    let list = after
        .pointer(&format!("/{day}/slots"))
        .and_then(Value::as_array)
        .unwrap();
    assert!(
        !list.iter().any(|s| s == first.as_str()),
        "{first} still free: {list:?}"
    );
    let appt = ok(h, &["appointments", "get", &event]);
    assert!(appt.to_string().contains(&contact), "{appt}");
    // The skill-compatible name takes plain dates too.
    let mut compat = ok(h, &["get_free_slots", &cal, day, "2030-03-07"]);
    let mut after = after;
    for v in [&mut compat, &mut after] {
        v.as_object_mut().unwrap().remove("traceId");
    }
    assert_eq!(compat, after);
}

#[test]
fn opportunities_move_through_the_pipeline() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let pipes = ok(h, &["pipelines", "list"]);
    let pipeline = str_at(&pipes, "/pipelines/0/id").to_string();
    let stage = str_at(&pipes, "/pipelines/0/stages/1/id").to_string();
    let contacts = ok(h, &["contacts", "search", "Jane"]);
    let contact = str_at(&contacts, "/0/id").to_string();
    let body = format!(
        r#"{{"pipelineId":"{pipeline}","name":"Jane - Website","status":"open","contactId":"{contact}","monetaryValue":1200}}"#
    );
    let created = ok(h, &["opportunities", "create", &body]);
    let id = str_at(&created, "/opportunity/id").to_string();
    ok(h, &["opportunities", "stage", &id, &stage]);
    ok(h, &["opportunities", "status", &id, "won"]);
    let got = ok(h, &["opportunities", "get", &id]);
    assert_eq!(str_at(&got, "/opportunity/pipelineStageId"), stage);
    assert_eq!(str_at(&got, "/opportunity/status"), "won");
    let won = ok(h, &["opportunities", "search", "status=won", "--all"]);
    assert!(
        won.as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == id.as_str())
    );
}

#[test]
fn a_sent_message_joins_the_conversation_and_is_never_sent_unconfirmed() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let contacts = ok(h, &["contacts", "search", "Jane"]);
    let contact = str_at(&contacts, "/0/id").to_string();
    let refused = ghl(h, &["conversations", "send", &contact, "Hello from ghl"]);
    assert_eq!(refused.code, 7, "{}", refused.err);
    let sent = ok(
        h,
        &["conversations", "send", &contact, "Hello from ghl", "--yes"],
    );
    let conversation = str_at(&sent, "/conversationId").to_string();
    let messages = ok(h, &["conversations", "messages", &conversation, "--all"]);
    let count = messages
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.to_string().contains("Hello from ghl"))
        .count();
    assert_eq!(count, 1, "{messages}");
}

#[test]
fn read_only_refuses_changes_and_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let r = ghl(
        h,
        &[
            "--read-only",
            "contacts",
            "create",
            r#"{"firstName":"Nope","email":"nope@example.com"}"#,
        ],
    );
    assert_eq!(r.code, 6, "{}", r.err);
    let found = ok(h, &["contacts", "search", "nope@example.com"]);
    assert_eq!(found.as_array().map(Vec::len), Some(0), "{found}");
    // Reads still work.
    ok(h, &["--read-only", "location", "get"]);
}

#[test]
fn invoices_send_and_void() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let list = ok(h, &["invoices", "list", "--all"]);
    let draft = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["status"] == "draft")
        .unwrap_or_else(|| panic!("no draft invoice in {list}"));
    let id = draft
        .get("_id")
        .or_else(|| draft.get("id"))
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    let users = ok(h, &["users", "list"]);
    let user = str_at(&users, "/users/0/id").to_string();
    ok(h, &["invoices", "send", &id, &user, "--yes"]);
    let got = ok(h, &["invoices", "get", &id]);
    assert_eq!(
        got.pointer("/status")
            .or_else(|| got.pointer("/invoice/status"))
            .and_then(Value::as_str),
        Some("sent"),
        "{got}"
    );
    ok(h, &["invoices", "void", &id, "--yes"]);
    let got = ok(h, &["invoices", "get", &id]);
    assert_eq!(
        got.pointer("/status")
            .or_else(|| got.pointer("/invoice/status"))
            .and_then(Value::as_str),
        Some("void"),
        "{got}"
    );
}

#[test]
fn restricted_token_gets_missing_scope_naming_the_scope() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    ok(h, &["location", "get"]);
    let out = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args(["sandbox", "token", "--scopes", "contacts.readonly", "--db"])
        .arg(h.join("sandbox.db"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let run = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args([
            "--sandbox",
            "--output",
            "json",
            "contacts",
            "create",
            r#"{"firstName":"X"}"#,
        ])
        .env("GHL_SANDBOX_DB", h.join("sandbox.db"))
        .env("GHL_CONFIG", h.join("config.toml"))
        .env("HIGHLEVEL_TOKEN", &token)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(8));
    let err: Value = serde_json::from_slice(&run.stderr).unwrap();
    assert_eq!(err["error"]["code"], "missing_scope");
    assert_eq!(
        err["error"]["scopes"],
        serde_json::json!(["contacts.write"])
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!all.contains(&token), "token leaked");
}

#[test]
fn two_ghl_processes_writing_at_once_lose_nothing() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path().to_path_buf();
    // Both start on a database that does not exist yet: one seed, not two.
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let h = h.clone();
            std::thread::spawn(move || {
                for i in 0..12 {
                    let body = format!(r#"{{"firstName":"Writer{w}","lastName":"Row{i:02}"}}"#);
                    let r = ghl(&h, &["contacts", "create", &body]);
                    assert_eq!(r.code, 0, "writer {w} row {i}: {}", r.err);
                }
            })
        })
        .collect();
    for t in writers {
        t.join().unwrap();
    }
    for w in 0..2 {
        let rows = ok(&h, &["contacts", "search", &format!("Writer{w}"), "--all"]);
        assert_eq!(
            rows.as_array().map(Vec::len),
            Some(12),
            "writer {w}: {rows}"
        );
    }
    let everyone = ok(&h, &["contacts", "search", "--all"]);
    assert_eq!(
        everyone.as_array().map(Vec::len),
        Some(200 + 24),
        "the demo seed ran once"
    );
}

#[test]
fn an_agency_token_reaches_a_sub_account_through_a_minted_location_token() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let r = ghl(
        h,
        &[
            "-v",
            "--agency",
            "--company",
            "SbxDemoCompany0000001",
            "contacts",
            "search",
            "Jane",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(r.out.as_array().is_some_and(|a| !a.is_empty()), "{}", r.out);
    let mints = r
        .err
        .lines()
        .filter(|l| l.contains("POST") && l.contains("/oauth/locationToken"))
        .count();
    assert_eq!(mints, 1, "{}", r.err);
    // Without the company id it says what is missing, before any request.
    let r = ghl(h, &["--agency", "contacts", "search", "Jane"]);
    assert_eq!(r.code, 5, "{}", r.err);
    assert!(r.err.contains("--company"), "{}", r.err);
}
