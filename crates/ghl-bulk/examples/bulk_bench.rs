//! How close bulk work runs to HighLevel's rate ceiling.
//!
//! `cargo run -p ghl-bulk --example bulk_bench -- [--rows N] [--tag-rows N] [--latency-ms MS]`
//!
//! Starts an in-process sandbox answering in `--latency-ms` (150) with the
//! default budget of 100 requests per 10 s, imports `--rows` contacts (300)
//! through the import pipeline, then tags `--tag-rows` (200) of them from a
//! list of emails (a lookup and a tag each). For each run it prints the
//! requests the sandbox served, the 429s, and the share of the ceiling: the
//! least time the ceiling allows for that many requests (a burst of 100,
//! then 100 more every 10 s) over the time taken.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Instant;

use ghl_bulk::contact_row::RowOptions;
use ghl_bulk::input::{self, Format};
use ghl_bulk::{Action, JobOptions, Journal};
use ghl_core::{Client, Defaults, Policy, Secret, Transport, TransportConfig};
use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID, SandboxOptions, Seed};
use serde_json::Value;

const BUDGET: f64 = 100.0;
const WINDOW_S: f64 = 10.0;

fn stats(addr: SocketAddr) -> Value {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET /_sandbox/stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("{}");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// The share of the ceiling: the least time the ceiling allows for this
/// many requests (a burst of 100, then 100 more every 10 s) over the time
/// taken. 1.0 is the ceiling itself.
fn report(what: &str, requests: u64, limited: u64, secs: f64) {
    let ideal = ((requests as f64 / BUDGET).ceil() - 1.0).max(0.0) * WINDOW_S;
    let share = if ideal > 0.0 {
        format!("{:.3}", ideal / secs)
    } else {
        "n/a (one burst)".into()
    };
    println!(
        "{what:<28} {requests:>5} requests in {secs:>6.1} s  share of ceiling {share}  429s {limited}"
    );
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn sandbox(dir: &std::path::Path, name: &str, latency_ms: u64) -> ghl_sandbox::Sandbox {
    let mut opts = SandboxOptions::new(dir.join(name));
    opts.seed = Seed::Empty;
    opts.latency_ms = latency_ms;
    ghl_sandbox::start(opts).await.expect("sandbox")
}

fn client(base_url: String) -> Client {
    let mut tc = TransportConfig::new(base_url, Secret::new(DEFAULT_TOKEN));
    if std::env::var_os("BULK_BENCH_LOG").is_some() {
        let t0 = Instant::now();
        tc.logger = Some(Arc::new(move |l: &str| {
            eprintln!(
                "{:>7.3} {}",
                t0.elapsed().as_secs_f64(),
                &l[..l.len().min(60)]
            )
        }));
    }
    let t = Transport::new(tc).unwrap();
    Client::new(
        Arc::new(t),
        Policy::default(),
        Defaults {
            location_id: Some(DEMO_LOCATION_ID.into()),
            company_id: None,
        },
    )
}

#[tokio::main]
async fn main() {
    let rows = arg("--rows", 300);
    let tag_rows = arg("--tag-rows", 200).min(rows);
    let latency = arg("--latency-ms", 150);
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(Some(dir.path().join("bulk.db").to_str().unwrap())).unwrap();
    println!("sandbox latency {latency} ms, rate limit 100 per 10 s, concurrency 16");

    // Import.
    let sb = sandbox(dir.path(), "import.db", latency).await;
    let c = client(sb.base_url());
    let mut csv = String::from("First Name,Last Name,Email,Phone,Tags\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "Bench,{i},bench{i}@example.com,+1555{:07},bench\n",
            4_000_000 + i
        ));
    }
    let parsed = input::parse(csv.as_bytes(), Format::Csv).unwrap();
    let started = Instant::now();
    let mapping = ghl_bulk::import::mapping(&c, DEMO_LOCATION_ID, &[])
        .await
        .unwrap();
    let plan = ghl_bulk::import::plan(&parsed, &mapping, &RowOptions::default());
    let (_, s) = ghl_bulk::start(
        &c,
        &journal,
        &Action::Upsert,
        DEMO_LOCATION_ID,
        "bench",
        &plan.rows,
        &JobOptions::default(),
    )
    .await
    .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let st = stats(sb.addr());
    println!("import: {}", s.line());
    report(
        &format!("import {rows} rows"),
        st["requests"].as_u64().unwrap_or(0),
        st["rate_limited"].as_u64().unwrap_or(0),
        secs,
    );
    sb.shutdown().await;

    // Bulk tag from a list of emails, on a fresh sandbox (and budget)
    // holding the same contacts.
    let sb = sandbox(dir.path(), "tag.db", 0).await;
    let seed = client(sb.base_url());
    let short: Vec<_> = plan.rows.iter().take(tag_rows as usize).cloned().collect();
    ghl_bulk::start(
        &seed,
        &journal,
        &Action::Upsert,
        DEMO_LOCATION_ID,
        "seed",
        &short,
        &JobOptions::default(),
    )
    .await
    .unwrap();
    sb.shutdown().await;
    let mut opts = SandboxOptions::new(dir.path().join("tag.db"));
    opts.latency_ms = latency;
    opts.seed = Seed::Empty;
    let sb = ghl_sandbox::start(opts).await.unwrap();
    let c = client(sb.base_url());
    let list: String = (0..tag_rows)
        .map(|i| format!("bench{i}@example.com\n"))
        .collect();
    let rows = ghl_bulk::list::plan(list.as_bytes()).unwrap();
    let before = stats(sb.addr());
    let started = Instant::now();
    let action = Action::AddTags {
        tags: vec!["tagged-in-bulk".into()],
    };
    let (_, s) = ghl_bulk::start(
        &c,
        &journal,
        &action,
        DEMO_LOCATION_ID,
        "bench-tags",
        &rows,
        &JobOptions::default(),
    )
    .await
    .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let st = stats(sb.addr());
    println!("tags: {}", s.line());
    report(
        &format!("tag {tag_rows} contacts by email"),
        st["requests"].as_u64().unwrap_or(0) - before["requests"].as_u64().unwrap_or(0),
        st["rate_limited"].as_u64().unwrap_or(0),
        secs,
    );
    sb.shutdown().await;
}
