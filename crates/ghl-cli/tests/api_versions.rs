//! Both API versions through `ghl api`: v2 names unchanged, v3 names saying
//! their version, each operation sent with its own Version header.

use std::collections::HashSet;
use std::process::Command;

use serde_json::Value;

fn ghl(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args(["-o", "json"])
        .args(args)
        .env("HIGHLEVEL_TOKEN", "pit-api-versions-test-000000000")
        .env("HIGHLEVEL_LOCATION_ID", "LocApiVersionsTest001")
        .env("GHL_CONFIG", "/nonexistent/ghl-api-versions-test.toml")
        .output()
        .expect("run ghl");
    assert!(
        out.status.success(),
        "ghl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|o| o["name"].as_str().expect("name").to_string())
        .collect()
}

#[test]
fn list_has_every_operation_of_both_versions_with_unique_names() {
    let all = names(&ghl(&["api", "list"]));
    assert_eq!(all.len(), 1086);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 1086);
    let v2 = names(&ghl(&["api", "list", "--api", "v2"]));
    let v3 = names(&ghl(&["api", "list", "--api", "v3"]));
    assert_eq!((v2.len(), v3.len()), (576, 510));
    assert!(v2.contains(&"contacts.get-contact".to_string()));
    assert!(
        v3.iter()
            .all(|n| n.split_once('.').is_some_and(|(g, _)| g.ends_with("-v3")))
    );
}

#[test]
fn describe_and_call_reach_a_v3_operation_with_its_version() {
    let d = ghl(&["api", "describe", "contacts-v3.get-contact"]);
    assert_eq!(
        (d["api"].as_str(), d["version"].as_str()),
        (Some("v3"), Some("v3"))
    );
    let call = ghl(&[
        "--dry-run",
        "api",
        "call",
        "contacts-v3.get-contact",
        "contactId=abc123",
    ]);
    assert_eq!(call["headers"]["Version"], "v3");
    assert!(call["url"].as_str().unwrap().ends_with("/contacts/abc123"));
    // The v2 operation on the same path keeps its own Version.
    let v2 = ghl(&[
        "--dry-run",
        "api",
        "call",
        "contacts.get-contact",
        "contactId=abc123",
    ]);
    assert_eq!(v2["headers"]["Version"], "2021-07-28");
}
