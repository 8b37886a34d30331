//! `ghl` against a sandbox that fails a share of requests (5xx, dropped
//! connections, hangs): reads recover through retries or fail loudly with
//! the count of records that came back; writes are never duplicated.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(db: &Path, fail_rate: &str) -> (Server, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args([
            "sandbox",
            "serve",
            "--listen",
            &addr,
            "--fail-rate",
            fail_rate,
            "--rate-limit",
            "1000/10s",
            "--db",
        ])
        .arg(db)
        .env("XDG_DATA_HOME", db.parent().unwrap())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(Instant::now() < deadline, "sandbox did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, format!("http://{addr}"))
}

fn ghl(base: &str, home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args(["--output", "json", "--response-timeout", "2", "--yes"])
        .args(args)
        .env("GHL_BASE_URL", base)
        .env("HIGHLEVEL_TOKEN", ghl_sandbox::DEFAULT_TOKEN)
        .env("HIGHLEVEL_LOCATION_ID", ghl_sandbox::DEMO_LOCATION_ID)
        .env("GHL_CONFIG", home.join("config.toml"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn reads_recover_or_say_how_many_records_came_back() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("sandbox.db");
    ghl_sandbox::reset(&db, ghl_sandbox::Seed::Demo).unwrap();
    let (_server, base) = serve(&db, "0.2");
    let (code, out, err) = ghl(
        &base,
        home.path(),
        &[
            "contacts",
            "search",
            "--all",
            "--page-size",
            "20",
            "-o",
            "jsonl",
        ],
    );
    let ids: Vec<String> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["id"].as_str().map(String::from))
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "a record came back twice");
    if code == 0 {
        assert_eq!(ids.len(), 200, "{err}");
    } else {
        // Never a silent partial result: the error names what came back.
        let e: Value = serde_json::from_str(err.trim()).unwrap_or_else(|_| panic!("{err}"));
        let records = e["error"]["records"].as_u64().unwrap_or(0) as usize;
        assert_eq!(records, ids.len(), "{err}");
    }
}

#[test]
fn writes_under_faults_are_never_duplicated() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("sandbox.db");
    ghl_sandbox::reset(&db, ghl_sandbox::Seed::Empty).unwrap();
    let (_server, base) = serve(&db, "0.4");
    let mut outcomes = Vec::new();
    for i in 0..15 {
        let name = format!("Faulty{i:02}");
        let body = format!(r#"{{"firstName":"{name}","lastName":"Probe"}}"#);
        let (code, _, err) = ghl(&base, home.path(), &["contacts", "create", &body]);
        outcomes.push((name, code, err));
    }
    // Read back without faults.
    drop(_server);
    let (_calm, base) = serve(&db, "0");
    let mut failed = 0;
    for (name, code, err) in &outcomes {
        let (c, out, e) = ghl(&base, home.path(), &["contacts", "search", name, "--all"]);
        assert_eq!(c, 0, "{e}");
        let found: Vec<Value> = serde_json::from_str(&out).unwrap();
        assert!(found.len() <= 1, "{name} was created {} times", found.len());
        if *code == 0 {
            assert_eq!(found.len(), 1, "{name} reported created but is missing");
        } else {
            failed += 1;
            // A create that may have reached the server says so.
            let j: Value = serde_json::from_str(err.trim()).unwrap_or_else(|_| panic!("{err}"));
            let code = j["error"]["code"].as_str().unwrap_or("");
            assert!(["server", "network", "timeout"].contains(&code), "{err}");
        }
    }
    assert!(
        failed > 0,
        "no fault was injected in 15 creates at 40%: the test proves nothing"
    );
}
