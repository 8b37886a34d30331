//! Receiver figures on this machine: signed events per second verified and
//! durably stored (group commit, synchronous=FULL), acknowledgement latency
//! at a steady 1,000 events/s, and resident memory.
//!
//!     cargo run --release -p ghl-events --example events_bench [-- EVENTS CONCURRENCY [receive-only]]
//!
//! `receive-only` stores every event as skipped (a `--type` filter nothing
//! matches), so no delivery competes with receiving.
//!
//! The spool is a temporary SQLite file, or the store `GHL_BENCH_STORE_URL`
//! names (e.g. `postgres://…`: the tables are created there if missing;
//! each run's webhookIds are new, so runs can share a database).
//!
//! Everything runs in this process on loopback: the receiver (HTTP, Ed25519
//! verification, spool, delivery to a JSON-lines sink) and the load
//! generator (keep-alive HTTP/1.1 connections).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use ghl_events::{DeliveryOptions, EventFilter, Receiver, ReceiverOptions, Sink, Spool, Verifier};

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|k| k.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn signed(key: &SigningKey, n: usize, tag: &str) -> Vec<(String, String)> {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    (0..n)
        .map(|i| {
            let body = serde_json::json!({
                "type": "ContactCreate", "locationId": "bench-location", "id": format!("c{i}"),
                "firstName": "Bench", "email": format!("bench{i}@example.com"),
                "tags": ["bench"], "timestamp": now, "webhookId": format!("{tag}-{i}"),
            })
            .to_string();
            let sig = STANDARD.encode(key.sign(body.as_bytes()).to_bytes());
            (body, sig)
        })
        .collect()
}

async fn post(client: &reqwest::Client, url: &str, body: String, sig: String) -> u16 {
    client
        .post(url)
        .header("content-type", "application/json")
        .header("x-ghl-signature", sig)
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// CPU time this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of stat, 12 and 13 here; 100 ticks/s.
    (ticks(11) + ticks(12)) / 100.0
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let events: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(64);
    let receive_only = args.get(3).is_some_and(|a| a == "receive-only");

    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("GHL_BENCH_STORE_URL") {
        Ok(u) if !u.is_empty() => ghl_store::StoreUrl::resolve(Some(&u), "events").unwrap(),
        _ => ghl_store::StoreUrl::Sqlite(dir.path().join("events.db")),
    };
    let store = ghl_store::Store::open(&url).unwrap();
    println!("store: {}", store.describe());
    let run = format!("{:08x}", rand::random::<u32>());
    let spool = Spool::open(store).unwrap();
    let key = SigningKey::from_bytes(&[42; 32]);
    let sink_path = dir.path().join("sink.jsonl");
    let opts = ReceiverOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        path: "/webhooks/ghl".into(),
        verifier: Verifier {
            keys: vec![key.verifying_key()],
            secret: None,
            legacy_rsa: None,
            window_ms: 300_000,
            skew_ms: 30_000,
        },
        max_body: ghl_events::receiver::DEFAULT_MAX_BODY,
        filter: EventFilter {
            types: if receive_only {
                vec!["NothingMatches".into()]
            } else {
                vec![]
            },
            locations: vec![],
        },
        sinks: vec![Sink::jsonl(sink_path.to_str().unwrap()).unwrap()],
        delivery: DeliveryOptions::default(),
    };
    let rx = Receiver::start(opts, spool.clone()).await.unwrap();
    let url = format!("http://{}/webhooks/ghl", rx.addr());
    let rss_idle = rss_mib();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();

    // 1. Throughput: as fast as `concurrency` connections can go.
    let batch = Arc::new(tokio::sync::Mutex::new(signed(
        &key,
        events,
        &format!("tp-{run}"),
    )));
    let start = Instant::now();
    let cpu_start = cpu_seconds();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, batch) = (client.clone(), url.clone(), batch.clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses = [0usize; 2];
            loop {
                let Some((body, sig)) = batch.lock().await.pop() else {
                    break;
                };
                let s = post(&client, &url, body, sig).await;
                statuses[usize::from(s != 200)] += 1;
            }
            statuses
        }));
    }
    let (mut ok, mut other) = (0, 0);
    for t in tasks {
        let [a, b] = t.await.unwrap();
        ok += a;
        other += b;
    }
    let elapsed = start.elapsed();
    let cpu = cpu_seconds() - cpu_start;
    let rss_peak = rss_mib();
    println!(
        "throughput: {ok} signed events verified and stored in {:.2} s = {:.0} events/s ({other} not 200; {concurrency} connections)",
        elapsed.as_secs_f64(),
        ok as f64 / elapsed.as_secs_f64()
    );
    println!(
        "cpu: {:.2} s of CPU in this process = {:.0} µs per event (receiver and load generator; {:.2} of the 2 cores while the machine was shared)",
        cpu,
        cpu * 1e6 / ok.max(1) as f64,
        cpu / elapsed.as_secs_f64()
    );

    // Let delivery drain so the latency run measures the receive path alone
    // with delivery idle, as on a steady day.
    if !receive_only {
        let delivered = || {
            rx.counters()
                .delivered
                .load(std::sync::atomic::Ordering::Relaxed)
        };
        let drain = Instant::now();
        while delivered() < ok as u64 && drain.elapsed() < Duration::from_secs(120) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        println!(
            "delivery: {} events to a fsynced JSON-lines sink in {:.2} s after the burst began",
            delivered(),
            start.elapsed().as_secs_f64()
        );
    }

    // 2. Latency at a steady 1,000 events/s for 5 s.
    let rate = 1000usize;
    let n = rate * 5;
    let evs = signed(&key, n, &format!("lat-{run}"));
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate as u64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut handles = Vec::with_capacity(n);
    for (body, sig) in evs {
        tick.tick().await;
        let (client, url) = (client.clone(), url.clone());
        handles.push(tokio::spawn(async move {
            let t = Instant::now();
            let s = post(&client, &url, body, sig).await;
            (s, t.elapsed())
        }));
    }
    let mut lat = Vec::with_capacity(n);
    let mut bad = 0;
    for h in handles {
        let (s, d) = h.await.unwrap();
        if s == 200 {
            lat.push(d);
        } else {
            bad += 1;
        }
    }
    lat.sort();
    println!(
        "ack latency at {rate} events/s ({} events, {bad} not 200): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        pct(&lat, 1.0)
    );
    println!(
        "resident memory (receiver and load generator in one process): idle {rss_idle:.1} MiB, after the burst {rss_peak:.1} MiB, end {:.1} MiB",
        rss_mib()
    );
    rx.shutdown().await;
    // A Postgres store stops its own I/O runtime: not inside async code.
    tokio::task::spawn_blocking(move || drop(spool))
        .await
        .unwrap();
}
