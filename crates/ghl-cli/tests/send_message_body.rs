//! Sending a message sends only what the message needs (errata.toml,
//! `send-message-body`): the spec's required `subType` and `status` are an
//! error of the spec, and live integrations send neither.

use std::process::Command;

use serde_json::{Value, json};

fn dry_run(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args(["--dry-run", "-o", "json"])
        .args(args)
        .env("HIGHLEVEL_TOKEN", "pit-send-body-test-0000000000000")
        .env("HIGHLEVEL_LOCATION_ID", "LocSendBodyTest000001")
        .env("GHL_CONFIG", "/nonexistent/ghl-send-body-test.toml")
        .output()
        .expect("run ghl");
    assert!(
        out.status.success(),
        "ghl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("dry-run JSON")
}

#[test]
fn sms_sends_type_contact_and_text_only() {
    let v = dry_run(&["conversations", "send", "CID123", "hi"]);
    assert_eq!(
        v["body"],
        json!({"type": "SMS", "contactId": "CID123", "message": "hi"})
    );
}

#[test]
fn email_sends_type_contact_subject_and_html_only() {
    let v = dry_run(&["conversations", "email", "CID123", "Hello", "<p>Hi</p>"]);
    assert_eq!(
        v["body"],
        json!({"type": "Email", "contactId": "CID123", "subject": "Hello", "html": "<p>Hi</p>"})
    );
}

#[test]
fn skill_compatible_send_message_too() {
    let v = dry_run(&["send_message", "CID123", "hi"]);
    assert_eq!(
        v["body"],
        json!({"type": "SMS", "contactId": "CID123", "message": "hi"})
    );
}
