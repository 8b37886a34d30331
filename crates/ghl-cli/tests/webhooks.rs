//! `ghl webhooks listen` as a real process on loopback: what it refuses
//! stores and delivers nothing; a failing sink backs off, goes to the dead
//! letters and replays; SIGTERM ends it cleanly.

mod webhooks_support;

use std::time::Duration;

use serde_json::Value;
use webhooks_support::*;

fn listen(dir: &Dir, extra: &[&str]) -> Proc {
    let mut cmd = dir.ghl();
    cmd.args(["webhooks", "listen", "--listen", "127.0.0.1:0", "--store"])
        .arg(dir.store())
        .args(extra);
    Proc::start(cmd)
}

fn stored(dir: &Dir) -> Vec<Value> {
    let v = dir.json(&["webhooks", "events", "list", "--store", &dir.store()]);
    v.as_array().unwrap().clone()
}

#[test]
fn every_forgery_and_replay_is_refused_and_nothing_is_stored_or_delivered() {
    let dir = Dir::new();
    let k = key(7);
    let out = dir.path("out.jsonl");
    let rx = listen(
        &dir,
        &[
            "--public-key",
            &public_b64(&k),
            "--jsonl",
            out.to_str().unwrap(),
            "--max-body",
            "4096",
        ],
    );
    let a = rx.addr.as_str();
    let json = "application/json";

    // Forged: 64 bytes that are no signature of this body.
    let body = contact_event("wh-forged").to_string();
    let forged = sign(&key(9), b"something else entirely");
    assert_eq!(post(a, body.as_bytes(), Some(&forged), json), 401);

    // Altered: signed, then one byte of the body changed.
    let body = contact_event("wh-altered").to_string();
    let sig = sign(&k, body.as_bytes());
    let altered = body.replace("Jane", "Jana");
    assert_eq!(post(a, altered.as_bytes(), Some(&sig), json), 401);

    // Signed with another key.
    let body = contact_event("wh-wrong-key").to_string();
    assert_eq!(
        post(
            a,
            body.as_bytes(),
            Some(&sign(&key(8), body.as_bytes())),
            json
        ),
        401
    );

    // Not signed at all, and no secret configured.
    assert_eq!(post(a, body.as_bytes(), None, json), 401);

    // Stale and future timestamps, correctly signed.
    for (id, offset) in [("wh-stale", -600), ("wh-future", 600)] {
        let mut ev = contact_event(id);
        ev["timestamp"] = Value::String(iso_now_plus(offset));
        let body = ev.to_string();
        assert_eq!(
            post(a, body.as_bytes(), Some(&sign(&k, body.as_bytes())), json),
            401,
            "{id}"
        );
    }

    // Oversized, correctly signed.
    let mut ev = contact_event("wh-big");
    ev["padding"] = Value::String("x".repeat(5000));
    let body = ev.to_string();
    assert_eq!(
        post(a, body.as_bytes(), Some(&sign(&k, body.as_bytes())), json),
        413
    );

    // Wrong content type, correctly signed.
    let body = contact_event("wh-text").to_string();
    assert_eq!(
        post(
            a,
            body.as_bytes(),
            Some(&sign(&k, body.as_bytes())),
            "text/plain"
        ),
        415
    );

    // Not POST.
    assert_eq!(http(a, "GET", "/webhooks/ghl", &[], b"").0, 405);

    // So far nothing is stored, nothing delivered.
    assert!(stored(&dir).is_empty(), "{:?}", stored(&dir));

    // One good delivery, then its webhookId again (freshly signed).
    let body = contact_event("wh-good").to_string();
    assert_eq!(
        post(a, body.as_bytes(), Some(&sign(&k, body.as_bytes())), json),
        200
    );
    let again = contact_event("wh-good").to_string();
    assert_eq!(
        post(a, again.as_bytes(), Some(&sign(&k, again.as_bytes())), json),
        409
    );

    assert!(
        wait_for(10, || jsonl_ids(&out) == ["wh-good"]),
        "{:?}",
        jsonl_ids(&out)
    );
    let events = stored(&dir);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["webhookId"], "wh-good");

    let h = health(a);
    let refused = &h["refused"];
    assert_eq!(refused["bad_signature"], 3, "{h}");
    assert_eq!(refused["unsigned"], 1, "{h}");
    assert_eq!(refused["stale"], 1, "{h}");
    assert_eq!(refused["future"], 1, "{h}");
    assert_eq!(refused["too_large"], 1, "{h}");
    assert_eq!(refused["content_type"], 1, "{h}");
    assert_eq!(refused["method"], 1, "{h}");
    assert_eq!(refused["replay"], 1, "{h}");
    assert_eq!(h["stored"], 1, "{h}");
    assert_eq!(h["delivered"], 1, "{h}");
    // Nothing more reached the sink after the replay attempt.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(jsonl_ids(&out), ["wh-good"]);
}

#[test]
fn a_failing_sink_backs_off_goes_dead_and_replays() {
    let dir = Dir::new();
    let k = key(3);
    let attempts = dir.path("attempts.log");
    let flag = dir.path("sink-ok");
    let delivered = dir.path("delivered.jsonl");
    // Fails (exit 1) until the flag file exists; logs each attempt's time.
    let script = format!(
        "date +%s%N >> {a}; test -f {f} || exit 1; cat >> {d}; echo >> {d}",
        a = attempts.display(),
        f = flag.display(),
        d = delivered.display()
    );
    let rx = listen(
        &dir,
        &[
            "--public-key",
            &public_b64(&k),
            "--exec",
            &script,
            "--max-attempts",
            "3",
            "--retry-base-ms",
            "300",
        ],
    );
    let body = contact_event("wh-fails").to_string();
    assert_eq!(
        post(
            &rx.addr,
            body.as_bytes(),
            Some(&sign(&k, body.as_bytes())),
            "application/json"
        ),
        200
    );

    let dead = || {
        dir.json(&["webhooks", "events", "dead", "--store", &dir.store()])
            .as_array()
            .unwrap()
            .clone()
    };
    assert!(
        wait_for(30, || dead().len() == 1),
        "never went dead: {:?}; stored {:?}; counters {}; attempts {:?}",
        dead(),
        stored(&dir),
        health(&rx.addr),
        std::fs::read_to_string(&attempts)
    );
    let d = &dead()[0];
    assert_eq!(d["webhookId"], "wh-fails");
    assert_eq!(d["attempts"], 3);
    assert!(
        d["lastError"].as_str().unwrap().contains("exit status 1"),
        "{d}"
    );

    // Three attempts, the second wait about twice the first (300 ms ±20 %,
    // then 600 ms ±20 %): the second is longer than the first can be.
    // Both gaps also carry the sink's start-up time, which a loaded
    // machine stretches, so they are not compared with each other.
    let times: Vec<i128> = std::fs::read_to_string(&attempts)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(times.len(), 3, "{times:?}");
    let gap1 = (times[1] - times[0]) / 1_000_000;
    let gap2 = (times[2] - times[1]) / 1_000_000;
    assert!(gap1 >= 230, "first retry came after {gap1} ms");
    assert!(
        gap2 >= 470,
        "second retry after {gap2} ms (first {gap1} ms)"
    );
    assert!(!delivered.exists());
    assert_eq!(health(&rx.addr)["dead"], 1);

    // Fix the sink, replay from another process: the running receiver delivers.
    std::fs::write(&flag, "").unwrap();
    let out = dir
        .ghl()
        .args([
            "webhooks",
            "events",
            "replay",
            "wh-fails",
            "--store",
            &dir.store(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        wait_for(10, || jsonl_ids(&delivered) == ["wh-fails"]),
        "replay not delivered: {:?}",
        std::fs::read_to_string(&delivered)
    );
    let shown = dir.json(&[
        "webhooks",
        "events",
        "show",
        "wh-fails",
        "--store",
        &dir.store(),
    ]);
    assert_eq!(shown["state"], "delivered", "{shown}");
    assert_eq!(shown["payload"]["firstName"], "Jane");

    // Replaying something that is not there says so.
    let out = dir
        .ghl()
        .args([
            "webhooks",
            "events",
            "replay",
            "wh-nope",
            "--store",
            &dir.store(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no stored event wh-nope"));
}

#[test]
fn sigterm_finishes_in_flight_work_and_exits_cleanly() {
    let dir = Dir::new();
    let k = key(5);
    let out = dir.path("out.jsonl");
    let mut rx = listen(
        &dir,
        &[
            "--public-key",
            &public_b64(&k),
            "--jsonl",
            out.to_str().unwrap(),
        ],
    );
    for i in 0..20 {
        let body = contact_event(&format!("wh-term-{i}")).to_string();
        assert_eq!(
            post(
                &rx.addr,
                body.as_bytes(),
                Some(&sign(&k, body.as_bytes())),
                "application/json"
            ),
            200
        );
    }
    let pid = rx.child.id() as i32;
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = rx.child.wait().unwrap();
    assert!(status.success(), "{status}");
    // Whatever was acknowledged is stored; a restart delivers what was left.
    assert_eq!(stored(&dir).len(), 20);
    let rx2 = listen(
        &dir,
        &[
            "--public-key",
            &public_b64(&k),
            "--jsonl",
            out.to_str().unwrap(),
        ],
    );
    assert!(
        wait_for(10, || jsonl_ids(&out).len() == 20),
        "{:?}",
        jsonl_ids(&out)
    );
    drop(rx2);
    let mut ids = jsonl_ids(&out);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20);
}

#[test]
fn a_shared_secret_admits_unsigned_workflow_posts_and_nothing_else() {
    let dir = Dir::new();
    let out = dir.path("out.jsonl");
    let secret = "s3cret-s3cret-s3cret-42";
    let mut cmd = dir.ghl();
    cmd.args(["webhooks", "listen", "--listen", "127.0.0.1:0", "--store"])
        .arg(dir.store())
        .args(["--jsonl", out.to_str().unwrap()])
        .env("GHL_WEBHOOK_SECRET", secret);
    let rx = Proc::start(cmd);
    let body = br#"{"type":"WorkflowPing","locationId":"loc-1","note":"from a workflow"}"#;
    let post_with = |s: &str| {
        http(
            &rx.addr,
            "POST",
            "/webhooks/ghl",
            &[("content-type", "application/json"), ("x-ghl-secret", s)],
            body,
        )
        .0
    };
    assert_eq!(post_with("wrong-secret-wrong-secret"), 401);
    assert_eq!(post_with(secret), 200);
    assert!(wait_for(10, || jsonl_ids_or_type(&out) == 1));
    assert_eq!(health(&rx.addr)["refused"]["bad_secret"], 1);
}

fn jsonl_ids_or_type(path: &std::path::Path) -> usize {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("WorkflowPing"))
        .count()
}

#[test]
fn the_forward_sink_posts_the_event_as_received() {
    use std::io::{Read, Write};
    let dir = Dir::new();
    let k = key(4);
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/in", target.local_addr().unwrap());
    let got = std::thread::spawn(move || {
        let (mut s, _) = target.accept().unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            let n = s.read(&mut chunk).unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
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
                    s.write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                    )
                    .unwrap();
                    return (head.to_string(), body.to_string());
                }
            }
        }
    });
    let rx = listen(&dir, &["--public-key", &public_b64(&k), "--forward", &url]);
    // Spacing and key order as HighLevel sent them: forwarded byte for byte.
    let body = format!(
        "{{\"webhookId\": \"wh-fwd\",  \"type\":\"InboundMessage\", \"timestamp\":\"{}\", \"body\":\"hi\"}}",
        iso_now_plus(0)
    );
    assert_eq!(
        post(
            &rx.addr,
            body.as_bytes(),
            Some(&sign(&k, body.as_bytes())),
            "application/json"
        ),
        200
    );
    let (head, forwarded) = got.join().unwrap();
    assert_eq!(forwarded, body);
    assert!(
        head.to_ascii_lowercase().contains("x-ghl-event-id: wh-fwd"),
        "{head}"
    );
    assert!(wait_for(10, || health(&rx.addr)["delivered"] == 1));
}
