//! A distinctive token must appear nowhere in what `ghl` prints: not with
//! `-v`, not in `--dry-run`, not in errors, not when the server echoes it.

use std::process::Command;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "pit-LEAKCHECK-5b1e7a0c-93d2-4f6e-8a11-0d9c2f4b7e55";

fn run(server: &str, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args(args)
        .env("HIGHLEVEL_TOKEN", TOKEN)
        .env("HIGHLEVEL_LOCATION_ID", "LocLeakCheck00000001")
        .env("GHL_BASE_URL", server)
        .env("GHL_CONFIG", "/nonexistent/ghl-leak-config.toml")
        .output()
        .expect("run ghl");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_appears_in_no_output() {
    let server = MockServer::start().await;
    // A server that echoes the Authorization header back in its error.
    Mock::given(method("GET"))
        .and(path("/contacts/echo401"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "statusCode": 401, "message": format!("Invalid JWT: Bearer {TOKEN}"),
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/echo500"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("oops {TOKEN}")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/ok"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"contact": {"id": "ok", "note": TOKEN}})),
        )
        .mount(&server)
        .await;
    let uri = server.uri();
    let cases: Vec<Vec<&str>> = vec![
        vec!["-v", "contacts", "get", "echo401"],
        vec!["-v", "--output", "json", "contacts", "get", "echo401"],
        vec!["-v", "contacts", "get", "echo500"],
        vec!["-v", "--dry-run", "contacts", "get", "abc"],
        vec![
            "-v",
            "--dry-run",
            "--output",
            "json",
            "contacts",
            "delete",
            "abc",
        ],
        vec![
            "-v",
            "--dry-run",
            "api",
            "call",
            "contacts.create-contact",
            "firstName=Jane",
        ],
        vec!["-v", "contacts", "get", "a/b"],
        vec!["-v", "api", "call", "contacts.nope"],
    ];
    for args in &cases {
        let (code, all) = run(&uri, args);
        assert!(
            !all.contains(TOKEN),
            "ghl {args:?} printed the token:\n{all}"
        );
        assert!(
            !all.contains("5b1e7a0c-93d2"),
            "ghl {args:?} printed part of the token:\n{all}"
        );
        if args.contains(&"--dry-run") && !args.contains(&"a/b") {
            assert_eq!(code, 0, "ghl {args:?}: {all}");
            assert!(
                all.contains("[REDACTED]"),
                "dry-run shows the redacted header: {all}"
            );
        }
    }
    // The one place a token may reach: a response body the user asked for.
    let (code, _) = run(&uri, &["contacts", "get", "ok"]);
    assert_eq!(code, 0);
    // Bad input never touched the server.
    let received = server.received_requests().await.unwrap_or_default();
    assert!(received.iter().all(|r| !r.url.path().contains("a/b")));
}
