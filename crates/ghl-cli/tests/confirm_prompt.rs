//! The terminal's confirmation question names the person, in the words the
//! MCP server uses, and a call that cannot succeed is refused before it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::{Eof, Expect, Session};
use serde_json::Value;

fn ghl(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ghl"));
    cmd.arg("--sandbox")
        .env("GHL_SANDBOX_DB", home.join("sandbox.db"))
        .env("GHL_CONFIG", home.join("config.toml"))
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("HIGHLEVEL_TOKEN")
        .env_remove("HIGHLEVEL_LOCATION_ID")
        .env_remove("GHL_BASE_URL");
    cmd
}

fn find_doe(v: &Value) -> Option<Value> {
    match v {
        Value::Object(m) if m.get("lastName").and_then(Value::as_str) == Some("Doe") => {
            Some(v.clone())
        }
        Value::Object(m) => m.values().find_map(find_doe),
        Value::Array(a) => a.iter().find_map(find_doe),
        _ => None,
    }
}

fn jane_doe(home: &Path) -> Value {
    let out = ghl(home)
        .args(["--output", "json", "contacts", "search", "Jane Doe"])
        .output()
        .expect("run ghl");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    find_doe(&v).unwrap_or_else(|| panic!("no Jane Doe in {v}"))
}

/// Run `args` in a pseudo-terminal, answer `answer` if asked; returns the
/// screen and the exit code.
fn run_in_pty(home: &Path, args: &[&str], answer: Option<&str>) -> (String, i32) {
    let mut cmd = ghl(home);
    cmd.args(args);
    let mut s = Session::spawn(cmd).expect("spawn ghl in a pty");
    s.set_expect_timeout(Some(Duration::from_secs(60)));
    let mut screen = String::new();
    if let Some(a) = answer {
        let found = s.expect("Proceed? [y/N]").expect("the question");
        screen.push_str(&String::from_utf8_lossy(found.before()));
        s.send(a).unwrap();
        s.send("\r").unwrap();
    }
    if let Ok(found) = s.expect(Eof) {
        screen.push_str(&String::from_utf8_lossy(found.as_bytes()));
    }
    let code = match s.get_process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("ghl ended oddly: {other:?}"),
    };
    (screen, code)
}

#[test]
fn the_question_names_the_person_and_refuses_what_cannot_succeed() {
    let home = tempfile::tempdir().expect("tempdir");
    let h = home.path();
    let jane = jane_doe(h);
    let id = jane["id"].as_str().unwrap();
    let digits: String = jane["phone"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let phone = format!("+1 {} {} {}", &digits[1..4], &digits[4..7], &digits[7..]);

    let (screen, code) = run_in_pty(
        h,
        &["conversations", "send", id, "See you Tuesday at 3"],
        Some("n"),
    );
    assert!(
        screen.contains(&format!(
            "Send SMS to Jane Doe ({phone}): 'See you Tuesday at 3'"
        )),
        "{screen}"
    );
    assert_ne!(code, 0, "declined: {screen}");

    // An unknown contact: refused before any question.
    let (screen, code) = run_in_pty(
        h,
        &["conversations", "send", "NoSuchContact000001", "hi"],
        None,
    );
    assert_ne!(code, 0, "{screen}");
    assert!(!screen.contains("Proceed?"), "{screen}");
    assert!(
        screen.contains("no contact NoSuchContact000001"),
        "{screen}"
    );
}
