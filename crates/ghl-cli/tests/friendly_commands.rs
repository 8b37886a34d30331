//! Every friendly and skill-compatible command, run as a real process
//! against a local mock server: each sends exactly one request, to its
//! catalog operation's method and path, with that operation's Version header.

use std::process::Command;

use ghl_cli::commands::compat;
use ghl_cli::commands::friendly::{COMMANDS, Friendly, Pos};
use serde_json::{Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "pit-friendly-test-token-7f3a9c";
const LOCATION: &str = "LocFriendlyTest00001";

/// A sample value of a parameter's type.
fn sample(p: &ghl_catalog::Param) -> Value {
    use ghl_catalog::ValueType as T;
    if let Some(e) = p.enum_values.first() {
        return json!(e);
    }
    let n = p.name.to_ascii_lowercase();
    match p.value_type {
        T::Integer | T::Number if n.ends_with("date") || n.ends_with("time") => {
            json!(1740787200000i64)
        }
        T::Integer | T::Number => json!(1),
        T::Boolean => json!(true),
        T::Array => json!([]),
        T::Object => json!({}),
        _ if n.ends_with("date") || n.ends_with("time") => json!("2025-03-01T15:00:00Z"),
        _ => json!("abc123"),
    }
}

/// Command line for a declaration: its words, a value per positional, and
/// `name:=value` for every other required parameter of its operation.
fn argv(f: &Friendly) -> Vec<String> {
    let op = ghl_catalog::find(f.op).expect("catalog op");
    let mut argv: Vec<String> = f.words.iter().map(|w| w.to_string()).collect();
    let mut given: Vec<&str> = f.fixed.iter().map(|(k, _)| *k).collect();
    for p in f.args {
        match p {
            Pos::Param(n, _) | Pos::Opt(n, _) | Pos::List(n, _) => {
                given.push(n);
                let declared = op.param(n).or_else(|| op.body_field(n));
                let v = match declared.and_then(|d| d.enum_values.first()) {
                    Some(e) => e.clone(),
                    None if n.to_ascii_lowercase().contains("date") => "2025-03-01".to_string(),
                    None => "abc123".to_string(),
                };
                argv.push(v);
            }
            Pos::Json(_) => argv.push(r#"{"firstName":"Test"}"#.to_string()),
        }
    }
    let location = op.location_param.as_ref().map(|l| l.name.as_str());
    let fields = op
        .params
        .iter()
        .chain(op.body.iter().flat_map(|b| b.fields.iter()));
    for p in fields {
        let auto = Some(p.name.as_str()) == location || p.name == "altType";
        if p.required && !auto && !given.contains(&p.name.as_str()) {
            argv.push(format!("{}:={}", p.name, sample(p)));
        }
    }
    argv
}

fn cases() -> Vec<(Vec<String>, &'static str)> {
    COMMANDS
        .iter()
        .chain(compat::COMMANDS)
        .map(|f| (argv(f), f.op))
        .collect()
}

fn path_regex(template: &str) -> regex_lite::Regex {
    let mut re = String::from("^");
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        re.push_str(&regex_lite::escape(&rest[..start]));
        re.push_str("[^/]+");
        let end = rest[start..].find('}').unwrap();
        rest = &rest[start + end + 1..];
    }
    re.push_str(&regex_lite::escape(rest));
    re.push('$');
    regex_lite::Regex::new(&re).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_friendly_and_compat_command_calls_its_operation() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let ghl = env!("CARGO_BIN_EXE_ghl");
    let cases = cases();
    assert!(cases.len() >= 65, "only {} declarations", cases.len());
    let mut failures = Vec::new();
    for (argv, op_name) in &cases {
        server.reset().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
            .mount(&server)
            .await;
        let out = Command::new(ghl)
            .args(argv)
            .args(["--yes", "--output", "json"])
            .env("HIGHLEVEL_TOKEN", TOKEN)
            .env("HIGHLEVEL_LOCATION_ID", LOCATION)
            .env("GHL_BASE_URL", server.uri())
            .env("GHL_CONFIG", "/nonexistent/ghl-test-config.toml")
            .output()
            .expect("run ghl");
        let op = ghl_catalog::find(op_name).expect("catalog op");
        let received = server.received_requests().await.unwrap_or_default();
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            failures.push(format!("{argv:?}: exit {:?}: {stderr}", out.status.code()));
            continue;
        }
        if received.len() != 1 {
            failures.push(format!("{argv:?}: {} requests", received.len()));
            continue;
        }
        let r = &received[0];
        if r.method.as_str() != op.method.as_str() || !path_regex(&op.path).is_match(r.url.path()) {
            failures.push(format!(
                "{argv:?}: sent {} {} for {} {}",
                r.method,
                r.url.path(),
                op.method.as_str(),
                op.path
            ));
        }
        let version = r.headers.get("version").and_then(|v| v.to_str().ok());
        if version != op.version.as_deref() {
            failures.push(format!(
                "{argv:?}: Version {version:?}, wants {:?}",
                op.version
            ));
        }
        let auth = r
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if auth != format!("Bearer {TOKEN}") {
            failures.push(format!("{argv:?}: wrong Authorization"));
        }
        let all_out = format!("{}{stderr}", String::from_utf8_lossy(&out.stdout));
        if all_out.contains(TOKEN) {
            failures.push(format!("{argv:?}: printed the token"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
