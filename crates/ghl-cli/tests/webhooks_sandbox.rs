//! The sandbox sends signed webhooks like HighLevel to a real `ghl webhooks
//! listen`; the receiver is SIGKILLed in the middle of a burst and
//! restarted: every event the sandbox saw acknowledged reaches the sink,
//! and none twice.

mod webhooks_support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use webhooks_support::*;

struct Sandbox {
    proc: Proc,
    db: std::path::PathBuf,
}

fn sandbox(dir: &Dir, webhook_url: &str) -> Sandbox {
    let db = dir.path("sandbox.db");
    let mut cmd = dir.ghl();
    cmd.args([
        "sandbox",
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--rate-limit",
        "100000/1s",
        "--db",
    ])
    .arg(&db)
    .args(["--webhook-url", webhook_url, "--webhook-retry-ms", "200"]);
    Sandbox {
        proc: Proc::start(cmd),
        db,
    }
}

fn api(addr: &str, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let bearer = format!("Bearer {TOKEN}");
    let (status, text) = http(
        addr,
        method,
        path,
        &[
            ("authorization", &bearer),
            ("version", "2021-07-28"),
            ("content-type", "application/json"),
        ],
        body.to_string().as_bytes(),
    );
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn outbox(addr: &str) -> Value {
    let (status, text) = http(addr, "GET", "/_sandbox/webhooks", &[], b"");
    assert_eq!(status, 200);
    serde_json::from_str(&text).unwrap()
}

fn receiver(dir: &Dir, port: u16, key: &str, out: &std::path::Path) -> Proc {
    let mut cmd = dir.ghl();
    cmd.args([
        "webhooks",
        "listen",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--store",
    ])
    .arg(dir.store())
    .args(["--public-key", key, "--jsonl", out.to_str().unwrap()]);
    Proc::start(cmd)
}

fn sandbox_key(dir: &Dir, db: &std::path::Path) -> String {
    let out = dir
        .ghl()
        .args(["sandbox", "webhook-key", "--db"])
        .arg(db)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_burst_survives_a_sigkilled_receiver_and_arrives_once() {
    let dir = Dir::new();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/webhooks/ghl");
    let sb = sandbox(&dir, &url);
    let key = sandbox_key(&dir, &sb.db);
    let out = dir.path("events.jsonl");
    let mut rx = receiver(&dir, port, &key, &out);

    // The burst: contacts created (and tagged) from four threads.
    const N: usize = 240;
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let addr = sb.proc.addr.clone();
            let done = done.clone();
            std::thread::spawn(move || {
                for i in (w..N).step_by(4) {
                    let (s, v) = api(
                        &addr,
                        "POST",
                        "/contacts/",
                        &json!({"locationId": "SbxDemoLoc0000000001",
                                "firstName": format!("Burst{i}"), "email": format!("burst{i}@example.com")}),
                    );
                    assert_eq!(s, 201, "{v}");
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    // Midway: the receiver dies without warning, and comes back.
    // Midway through what the receiver acknowledged (the sandbox's creates
    // can run ahead of its deliveries on an idle machine).
    assert!(wait_for(30, || done.load(Ordering::SeqCst) >= N / 3));
    assert!(
        wait_for(30, || {
            outbox(&sb.proc.addr)["counts"]["delivered"]
                .as_u64()
                .is_some_and(|d| d as usize >= N / 3)
        }),
        "sandbox outbox: {}; receiver: {:?}",
        outbox(&sb.proc.addr)["counts"],
        rx.stderr.try_iter().collect::<Vec<_>>()
    );
    rx.kill9();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let rx2 = receiver(&dir, port, &key, &out);
    for w in workers {
        w.join().unwrap();
    }

    // The sandbox has tried everything once (no 429s here, so nothing waits).
    assert!(
        wait_for(30, || outbox(&sb.proc.addr)["counts"]
            .get("pending")
            .is_none()),
        "{}",
        outbox(&sb.proc.addr)["counts"]
    );
    let summary = outbox(&sb.proc.addr);
    let acked: HashSet<String> = summary["delivered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    eprintln!("sandbox outbox after the burst: {}", summary["counts"]);
    assert!(acked.len() >= N / 3, "{}", summary["counts"]);

    // Every acknowledged event reaches the sink.
    let all_arrived = wait_for(30, || {
        let got: HashSet<String> = jsonl_ids(&out).into_iter().collect();
        acked.is_subset(&got)
    });
    let ids = jsonl_ids(&out);
    let got: HashSet<String> = ids.iter().cloned().collect();
    assert!(
        all_arrived,
        "{} acknowledged events missing from the sink (counts {})",
        acked.difference(&got).count(),
        summary["counts"]
    );
    // And none twice.
    let mut seen = HashMap::new();
    for id in &ids {
        *seen.entry(id).or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    // Each is a signed ContactCreate shaped like HighLevel's.
    let first: Value = serde_json::from_str(
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["type"], "ContactCreate");
    assert_eq!(first["locationId"], "SbxDemoLoc0000000001");
    assert!(first["timestamp"].is_string() && first["webhookId"].is_string());
    drop(rx2);
}

#[test]
fn modelled_changes_and_a_simulated_reply_arrive_as_highlevel_events() {
    let dir = Dir::new();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/webhooks/ghl");
    let sb = sandbox(&dir, &url);
    let key = sandbox_key(&dir, &sb.db);
    let out = dir.path("events.jsonl");
    let _rx = receiver(&dir, port, &key, &out);
    let a = sb.proc.addr.as_str();

    let (_, c) = api(
        a,
        "POST",
        "/contacts/",
        &json!({"locationId": "SbxDemoLoc0000000001",
        "firstName": "Jane", "phone": "+15550102030", "email": "jane.events@example.com"}),
    );
    let cid = c["contact"]["id"].as_str().unwrap().to_string();
    api(
        a,
        "POST",
        &format!("/contacts/{cid}/tags"),
        &json!({"tags": ["vip"]}),
    );
    api(
        a,
        "POST",
        &format!("/contacts/{cid}/notes"),
        &json!({"body": "called"}),
    );
    let (s, _) = api(
        a,
        "PUT",
        &format!("/contacts/{cid}"),
        &json!({"lastName": "Doe"}),
    );
    assert_eq!(s, 200);

    // A customer replies.
    let reply = dir
        .ghl()
        .args([
            "sandbox",
            "simulate",
            "inbound-sms",
            &cid,
            "Yes, Tuesday works",
            "--db",
        ])
        .arg(&sb.db)
        .output()
        .unwrap();
    assert!(
        reply.status.success(),
        "{}",
        String::from_utf8_lossy(&reply.stderr)
    );

    let want = [
        "ContactCreate",
        "ContactTagUpdate",
        "NoteCreate",
        "ContactUpdate",
        "InboundMessage",
    ];
    let types = || -> Vec<Value> {
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    assert!(
        wait_for(15, || types().len() >= want.len()),
        "{:?}",
        types()
            .iter()
            .map(|e| e["type"].clone())
            .collect::<Vec<_>>()
    );
    let evs = types();
    let got: Vec<&str> = evs.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for w in want {
        assert!(got.contains(&w), "{w} missing from {got:?}");
    }
    let inbound = evs.iter().find(|e| e["type"] == "InboundMessage").unwrap();
    assert_eq!(inbound["contactId"], cid.as_str());
    assert_eq!(inbound["body"], "Yes, Tuesday works");
    assert_eq!(inbound["direction"], "inbound");
    assert_eq!(inbound["messageType"], "SMS");
    let tags = evs
        .iter()
        .find(|e| e["type"] == "ContactTagUpdate")
        .unwrap();
    assert_eq!(tags["tags"], json!(["vip"]));

    // A failed change emits nothing: a duplicate contact is refused.
    let before = types().len();
    let (s, _) = api(
        a,
        "POST",
        "/contacts/",
        &json!({"locationId": "SbxDemoLoc0000000001",
        "firstName": "Jane", "email": "jane.events@example.com"}),
    );
    assert_eq!(s, 400);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(types().len(), before);

    // The events are stored and listed by contact.
    let listed = dir.json(&[
        "webhooks",
        "events",
        "list",
        "--contact",
        &cid,
        "--store",
        &dir.store(),
    ]);
    assert!(listed.as_array().unwrap().len() >= 4, "{listed}");
}

#[test]
fn a_429_is_retried_like_highlevel_with_the_same_webhook_id() {
    // A receiver that cannot store yet answers 429: the sandbox tries again
    // (spacing shortened by --webhook-retry-ms), with the same webhookId and
    // a fresh timestamp.
    use std::io::{Read, Write};
    let dir = Dir::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let sb = sandbox(&dir, &url);
    let seen = std::thread::spawn(move || {
        let mut bodies = Vec::new();
        for (n, conn) in listener.incoming().take(2).enumerate() {
            let mut s = conn.unwrap();
            let mut buf = vec![0u8; 65536];
            let mut got = Vec::new();
            loop {
                let k = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..k]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        bodies.push(body.to_string());
                        break;
                    }
                }
            }
            let status = if n == 0 {
                "429 Too Many Requests"
            } else {
                "200 OK"
            };
            let _ = s.write_all(
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
        bodies
    });
    let (s, _) = api(
        &sb.proc.addr,
        "POST",
        "/contacts/",
        &json!({"locationId": "SbxDemoLoc0000000001", "firstName": "Retry"}),
    );
    assert_eq!(s, 201);
    let bodies = seen.join().unwrap();
    let a: Value = serde_json::from_str(&bodies[0]).unwrap();
    let b: Value = serde_json::from_str(&bodies[1]).unwrap();
    assert_eq!(a["webhookId"], b["webhookId"]);
    assert_eq!(a["type"], "ContactCreate");
    assert!(wait_for(
        10,
        || outbox(&sb.proc.addr)["counts"]["delivered"] == 1
    ));
}

/// `ghl webhooks listen --mirror`: changes reach the local mirror as they
/// happen, without another `ghl sync`.
#[test]
fn the_mirror_follows_events_between_syncs() {
    let dir = Dir::new();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/webhooks/ghl");
    let sb = sandbox(&dir, &url);
    let key = sandbox_key(&dir, &sb.db);
    let base = format!("http://{}", sb.proc.addr);
    let ghl = |args: &[&str]| -> Value {
        let mut all = vec!["--sandbox", "--base-url", base.as_str()];
        all.extend_from_slice(args);
        dir.json(&all)
    };
    ghl(&["sync"]);
    let count = |id: &str| -> i64 {
        let sql = format!(
            "SELECT COUNT(*) AS n FROM contacts_wide WHERE id = '{id}' AND email = 'mira.mirror@example.com'"
        );
        let rows = ghl(&["sql", &sql]);
        rows[0]["n"].as_i64().unwrap_or(-1)
    };

    let out = dir.path("events.jsonl");
    let mut cmd = dir.ghl();
    cmd.args(["--sandbox", "webhooks", "listen", "--mirror", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--store")
        .arg(dir.store())
        .args(["--public-key", &key, "--jsonl", out.to_str().unwrap()]);
    let _rx = Proc::start(cmd);

    let (status, c) = api(
        &sb.proc.addr,
        "POST",
        "/contacts/",
        &json!({"locationId": "SbxDemoLoc0000000001",
        "firstName": "Mira", "email": "mira.mirror@example.com"}),
    );
    assert_eq!(status, 201, "{c}");
    let id = c["contact"]["id"].as_str().unwrap().to_string();
    assert!(
        wait_for(20, || count(&id) == 1),
        "the new contact never reached the mirror"
    );
}
