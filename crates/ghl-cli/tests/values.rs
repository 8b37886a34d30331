//! Issue 8 from the shell: `more exist` only when more exist, `--tag`,
//! and a tag update that would remove tags refused unless confirmed.

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

#[test]
fn no_more_claimed_when_all_were_returned() {
    let home = tempfile::tempdir().unwrap();
    let r = ghl(home.path(), &["contacts", "search", "Jane"]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(r.out.as_array().map(Vec::len), Some(3), "{}", r.out);
    assert!(!r.err.contains("more exist"), "{}", r.err);

    let r = ghl(
        home.path(),
        &["contacts", "search", "--all", "--page-size", "30"],
    );
    assert_eq!(r.out.as_array().map(Vec::len), Some(200), "{}", r.err);
}

#[test]
fn tag_search_and_tag_replacement() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let r = ghl(h, &["contacts", "search", "--tag", "vip", "--all"]);
    assert_eq!(r.code, 0, "{}", r.err);
    let vips = r.out.as_array().unwrap().clone();
    assert!(vips.len() > 5 && vips.len() < 200, "{}", vips.len());
    assert!(
        vips.iter()
            .all(|c| c["tags"].as_array().unwrap().iter().any(|t| t == "vip"))
    );

    let r = ghl(
        h,
        &[
            "contacts",
            "search",
            "--body",
            r#"{"filters": [{"tags": "vip"}]}"#,
        ],
    );
    assert_ne!(r.code, 0, "a malformed filter is refused: {}", r.out);
    assert!(r.err.contains(r#"\"field\": \"tags\""#), "{}", r.err);

    let id = vips[0]["id"].as_str().unwrap();
    let r = ghl(
        h,
        &["contacts", "update", id, r#"{"tags": ["newsletter"]}"#],
    );
    assert_ne!(r.code, 0, "removing vip needs --yes: {}", r.out);
    assert!(r.err.contains("removes the tags"), "{}", r.err);
    let got = ghl(h, &["contacts", "get", id]).out;
    assert!(got.to_string().contains("\"vip\""), "unchanged: {got}");
    let r = ghl(
        h,
        &[
            "--yes",
            "contacts",
            "update",
            id,
            r#"{"tags": ["newsletter"]}"#,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let got = ghl(h, &["contacts", "get", id]).out;
    assert!(!got.to_string().contains("\"vip\""), "{got}");
}

#[test]
fn custom_field_values_are_checked_before_sending() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let r = ghl(h, &["contacts", "search", "Jane"]);
    let id = r.out[0]["id"].as_str().unwrap().to_string();
    let r = ghl(
        h,
        &[
            "contacts",
            "update",
            &id,
            r#"{"customFields": [{"key": "contact.lead_source", "field_value": "Ads"}]}"#,
        ],
    );
    assert_ne!(r.code, 0, "{}", r.out);
    assert!(
        r.err.contains("is not an option of custom field"),
        "{}",
        r.err
    );
    assert!(
        r.err.contains("did you mean \\\"Google Ads\\\""),
        "{}",
        r.err
    );
    let r = ghl(
        h,
        &[
            "contacts",
            "update",
            &id,
            r#"{"customFields": [{"key": "contact.lead_source", "field_value": "Referral"}]}"#,
        ],
    );
    assert_eq!(r.code, 0, "{}", r.err);
}
