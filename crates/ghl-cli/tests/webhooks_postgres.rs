//! Several receivers, one truth (issue 15): three real `ghl webhooks
//! listen` processes on one real Postgres store take a burst of the
//! sandbox's signed webhooks through a small round-robin proxy (the sandbox
//! sends to one URL, like HighLevel to a load balancer). One receiver is
//! SIGKILLed midway; its claims lapse and are taken over. Every event the
//! sandbox saw acknowledged reaches the sink once, and is stored once.
//!
//! Needs the Postgres that `scripts/pg-test-server.sh` starts
//! (`GHL_TEST_PG_URL`); without it the test fails and says so.

mod webhooks_support;

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use webhooks_support::*;

fn postgres_url() -> String {
    match ghl_store::testing::postgres_database() {
        Ok(ghl_store::StoreUrl::Postgres(url)) => url,
        Ok(other) => panic!("not a Postgres URL: {other:?}"),
        Err(e) => panic!("{e}"),
    }
}

fn receiver(dir: &Dir, store: &str, key: &str, out: &std::path::Path) -> Proc {
    let mut cmd = dir.ghl();
    cmd.args([
        "webhooks",
        "listen",
        "--listen",
        "127.0.0.1:0",
        "--store",
        store,
    ])
    .args(["--public-key", key, "--lease", "2", "--jsonl"])
    .arg(out);
    Proc::start(cmd)
}

/// Reads one HTTP/1.1 request (headers, then Content-Length bytes).
fn read_request(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some(buf);
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Every request to the next backend in turn, one connection each; a
/// backend that refuses connections (killed) is passed over, like a load
/// balancer's health check would.
fn round_robin(backends: Arc<Mutex<Vec<String>>>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let next = Arc::new(AtomicUsize::new(0));
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut client) = conn else { continue };
            let (backends, next) = (backends.clone(), next.clone());
            std::thread::spawn(move || {
                let Some(req) = read_request(&mut client) else {
                    return;
                };
                // One request per connection both ways.
                let text = String::from_utf8_lossy(&req).into_owned();
                let req = text.replacen("\r\n", "\r\nConnection: close\r\n", 1);
                let list = backends.lock().unwrap().clone();
                for _ in 0..list.len() {
                    let b = &list[next.fetch_add(1, Ordering::SeqCst) % list.len()];
                    let Ok(mut up) = TcpStream::connect(b) else {
                        continue;
                    };
                    up.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
                    let mut resp = Vec::new();
                    if up.write_all(req.as_bytes()).is_ok() && up.read_to_end(&mut resp).is_ok() {
                        let _ = client.write_all(&resp);
                    } else {
                        let _ = client.write_all(
                            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                    }
                    return;
                }
                let _ = client.write_all(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            });
        }
    });
    addr
}

fn api_post(addr: &str, path: &str, body: &Value) -> (u16, String) {
    let bearer = format!("Bearer {TOKEN}");
    http(
        addr,
        "POST",
        path,
        &[
            ("authorization", &bearer),
            ("version", "2021-07-28"),
            ("content-type", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
}

fn outbox(addr: &str) -> Value {
    let (status, text) = http(addr, "GET", "/_sandbox/webhooks", &[], b"");
    assert_eq!(status, 200);
    serde_json::from_str(&text).unwrap()
}

#[test]
fn three_receivers_on_postgres_share_a_burst_and_survive_a_sigkill() {
    let store = postgres_url();
    let dir = Dir::new();
    let backends = Arc::new(Mutex::new(Vec::new()));
    let proxy = round_robin(backends.clone());

    let db = dir.path("sandbox.db");
    let mut sb = dir.ghl();
    sb.args([
        "sandbox",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--rate-limit",
        "100000/1s",
        "--db",
    ])
    .arg(&db)
    .args([
        "--webhook-url",
        &format!("http://{proxy}/webhooks/ghl"),
        "--webhook-retry-ms",
        "200",
    ]);
    let sb = Proc::start(sb);
    let out = dir
        .ghl()
        .args(["sandbox", "webhook-key", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();

    // One sink file shared by the three (one machine here; across machines
    // the sink would be a --forward URL that dedupes on X-GHL-Event-Id).
    let sink = dir.path("events.jsonl");
    let mut rxs: Vec<Proc> = (0..3)
        .map(|_| receiver(&dir, &store, &key, &sink))
        .collect();
    *backends.lock().unwrap() = rxs.iter().map(|r| r.addr.clone()).collect();

    const N: usize = 300;
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let addr = sb.addr.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                for i in (w..N).step_by(4) {
                    let (s, v) = api_post(
                        &addr,
                        "/contacts/",
                        &json!({"locationId": "SbxDemoLoc0000000001",
                                "firstName": format!("Many{i}"), "email": format!("many{i}@example.com")}),
                    );
                    assert_eq!(s, 201, "{v}");
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Midway through what the receivers acknowledged, one dies unwarned.
    assert!(wait_for(60, || {
        outbox(&sb.addr)["counts"]["delivered"]
            .as_u64()
            .is_some_and(|d| d as usize >= N / 3)
    }));
    let killed = rxs.remove(0);
    let killed_addr = killed.addr.clone();
    let mut killed = killed;
    killed.kill9();
    for w in workers {
        w.join().unwrap();
    }
    assert!(
        wait_for(60, || outbox(&sb.addr)["counts"].get("pending").is_none()),
        "{}",
        outbox(&sb.addr)["counts"]
    );
    let summary = outbox(&sb.addr);
    eprintln!("sandbox outbox after the burst: {}", summary["counts"]);
    let acked: HashSet<String> = summary["delivered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert!(acked.len() >= N / 2, "{}", summary["counts"]);

    // Every acknowledged event reaches the sink (the dead receiver's claims
    // lapse after --lease 2 and are taken over)...
    let all = wait_for(60, || {
        let got: HashSet<String> = jsonl_ids(&sink).into_iter().collect();
        acked.is_subset(&got)
    });
    let ids = jsonl_ids(&sink);
    let got: HashSet<String> = ids.iter().cloned().collect();
    assert!(
        all,
        "{} acknowledged events missing from the sink",
        acked.difference(&got).count()
    );
    // ...none twice...
    let mut seen = HashMap::new();
    for id in &ids {
        *seen.entry(id.clone()).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    // The store holds each event once, all delivered, none still claimed.
    let listed = dir.json(&[
        "webhooks", "events", "list", "--store", &store, "--limit", "100000",
    ]);
    let listed = listed.as_array().unwrap();
    let stored: HashSet<&str> = listed
        .iter()
        .map(|e| e["webhookId"].as_str().unwrap())
        .collect();
    assert_eq!(stored.len(), listed.len(), "an event stored twice");
    assert!(
        wait_for(30, || {
            let l = dir.json(&[
                "webhooks", "events", "list", "--store", &store, "--state", "pending",
            ]);
            l.as_array().unwrap().is_empty()
        }),
        "events left pending"
    );
    for id in acked.iter().chain(got.iter()) {
        assert!(
            stored.contains(id.as_str()),
            "{id} delivered or acknowledged, not stored"
        );
    }

    // The two survivors both delivered: the work was shared.
    for rx in &rxs {
        let h = health(&rx.addr);
        assert!(
            h["delivered"].as_u64().unwrap() > 0,
            "{} idle: {h}",
            rx.addr
        );
    }
    assert!(TcpStream::connect(&killed_addr).is_err());
}
