//! Real `ghl webhooks listen` and `ghl sandbox serve` processes on loopback,
//! each test in its own directory, and events signed like HighLevel's.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};

pub const TOKEN: &str = "pit-sandbox-0000-4000-8000-000000000000";

pub struct Dir {
    pub tmp: tempfile::TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().unwrap(),
        }
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
    pub fn store(&self) -> String {
        self.path("events.db").display().to_string()
    }
    pub fn ghl(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ghl"));
        let home = self.tmp.path();
        c.env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("GHL_CONFIG", home.join("config.toml"))
            .env_remove("GHL_STORE_URL")
            .env_remove("GHL_WEBHOOK_SECRET")
            .env_remove("HIGHLEVEL_TOKEN")
            .env_remove("GHL_BASE_URL");
        c
    }
    /// `ghl ARGS -o json`, which must succeed; its JSON output.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.ghl().args(args).args(["-o", "json"]).output().unwrap();
        assert!(
            out.status.success(),
            "ghl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// A child process killed when dropped.
pub struct Proc {
    pub child: Child,
    pub addr: String,
    pub stderr: mpsc::Receiver<String>,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    /// Start `cmd` and wait for its "listening on http://ADDR" line.
    pub fn start(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
                && let Some(i) = line.find("listening on http://")
            {
                let rest = &line[i + "listening on http://".len()..];
                let addr = rest.split(['/', ' ']).next().unwrap().to_string();
                return Proc {
                    child,
                    addr,
                    stderr: rx,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                let rest: Vec<String> = rx.try_iter().collect();
                panic!("process ended ({status}) before listening: {rest:?}");
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("process did not start listening");
    }

    pub fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub fn public_b64(k: &SigningKey) -> String {
    STANDARD.encode(k.verifying_key().as_bytes())
}

pub fn sign(k: &SigningKey, body: &[u8]) -> String {
    STANDARD.encode(k.sign(body).to_bytes())
}

pub fn iso_now_plus(secs: i64) -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::seconds(secs);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A HighLevel-shaped `ContactCreate` with a fresh timestamp.
pub fn contact_event(webhook_id: &str) -> Value {
    json!({
        "type": "ContactCreate",
        "locationId": "loc-test-1",
        "id": "contact-1",
        "firstName": "Jane",
        "timestamp": iso_now_plus(0),
        "webhookId": webhook_id,
    })
}

/// One HTTP/1.1 exchange over a fresh loopback connection (no client
/// library: the tests see exactly what is sent); status and body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// POST a body with optional signature and content type; the status.
pub fn post(addr: &str, body: &[u8], signature: Option<&str>, content_type: &str) -> u16 {
    let mut h = vec![("content-type", content_type)];
    if let Some(s) = signature {
        h.push(("x-ghl-signature", s));
    }
    http(addr, "POST", "/webhooks/ghl", &h, body).0
}

pub fn health(addr: &str) -> Value {
    let (status, body) = http(addr, "GET", "/healthz", &[], b"");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The `webhookId` of each line of a JSON-lines file.
pub fn jsonl_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["webhookId"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Poll `f` until it returns true or `secs` pass.
pub fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    f()
}
