//! Shared by the bulk tests: a sandbox process and `ghl` pointed at it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Sandbox {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

pub fn http_get(addr: SocketAddr, path: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(300)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// A sandbox process with HighLevel's budget shape (100 requests per
/// window) on a 1 s window, so thousands of rows take seconds, not minutes;
/// the client learns the window from the X-RateLimit headers.
pub fn sandbox(dir: &Path, fail_rate: f64) -> Sandbox {
    let addr = free_addr();
    let child = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args([
            "sandbox",
            "serve",
            "--seed",
            "demo",
            "--rate-limit",
            "100/1s",
        ])
        .args(["--listen", &addr.to_string()])
        .args(["--fail-rate", &fail_rate.to_string()])
        .arg("--db")
        .arg(dir.join("sandbox.db"))
        .env("XDG_DATA_HOME", dir.join("sbdata"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Owned from here on: dropping it (a failed start too) kills and reaps.
    let sb = Sandbox { child, addr };
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http_get(addr, "/health").is_some_and(|b| b.contains("ghl-sandbox")) {
            return sb;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("sandbox did not start");
}

pub fn ghl_cmd(dir: &Path, sb: &Sandbox, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ghl"));
    c.args(args)
        .env("GHL_BASE_URL", format!("http://{}", sb.addr))
        .env("HIGHLEVEL_TOKEN", "pit-sandbox-0000-4000-8000-000000000000")
        .env("HIGHLEVEL_LOCATION_ID", "SbxDemoLoc0000000001")
        .env("GHL_CONFIG", dir.join("config.toml"))
        .env("GHL_KEYRING", "off")
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env_remove("GHL_STORE_URL")
        .env_remove("GHL_DATA_DIR")
        .stdin(Stdio::null());
    c
}

pub fn ghl(dir: &Path, sb: &Sandbox, args: &[&str]) -> Output {
    ghl_cmd(dir, sb, args).output().unwrap()
}

pub fn summary(out: &Output) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "not a JSON summary ({e}): {text}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn n(v: &Value, ptr: &str) -> u64 {
    v.pointer(ptr).and_then(Value::as_u64).unwrap_or(0)
}

/// Every contact of the sandbox by lower-case email, through `ghl contacts export`.
pub fn emails(dir: &Path, sb: &Sandbox) -> BTreeMap<String, usize> {
    // A short response timeout: against a failing sandbox a hung read is
    // retried after 2 s instead of waiting out the default.
    let out = ghl(
        dir,
        sb,
        &[
            "--response-timeout",
            "2",
            "contacts",
            "export",
            "-o",
            "jsonl",
        ],
    );
    assert!(
        out.status.success(),
        "export failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut seen = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if let Some(e) = v["email"].as_str().filter(|e| !e.is_empty()) {
            *seen.entry(e.to_lowercase()).or_insert(0) += 1;
        }
    }
    seen
}
