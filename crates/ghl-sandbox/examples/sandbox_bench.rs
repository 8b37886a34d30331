//! Throughput and latency of the sandbox on loopback:
//! GET contact, and POST /contacts/search with a query over 100,000 contacts.
//!
//! `cargo run --release -p ghl-sandbox --example sandbox_bench [N_CONTACTS] [REQUESTS]`
//!
//! With `SANDBOX_BENCH_DB=FILE` the seeded database is kept in FILE and
//! reused by the next run (seeding 100,000 contacts takes half a minute).

use std::sync::Arc;
use std::time::{Duration, Instant};

use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID, RateLimit, SandboxOptions, Seed};
use serde_json::json;

const IN_FLIGHT: usize = 16;

/// Builds request number `i` of a scenario.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync>;

async fn run(name: &str, total: usize, make: MakeRequest) {
    let client = reqwest::Client::new();
    let start = Instant::now();
    let per = total / IN_FLIGHT;
    let mut tasks = Vec::new();
    for w in 0..IN_FLIGHT {
        let client = client.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            let mut errors = 0;
            for i in 0..per {
                let t = Instant::now();
                match make(&client, w * per + i).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    _ => errors += 1,
                }
                lat.push(t.elapsed());
            }
            (lat, errors)
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{name:<40} {:>6} req  {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {errors}",
        all.len(),
        all.len() as f64 / secs,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let requests: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(4_000);
    let dir = std::env::temp_dir().join(format!("ghl-sandbox-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let kept = std::env::var_os("SANDBOX_BENCH_DB").map(std::path::PathBuf::from);
    let db = kept.clone().unwrap_or_else(|| dir.join("bench.db"));
    if kept.as_ref().is_some_and(|k| k.exists()) {
        println!("reusing {} (seeded by an earlier run)", db.display());
    } else {
        ghl_sandbox::reset(&db, Seed::Empty)?;
        let t = Instant::now();
        ghl_sandbox::bulk_seed_contacts(&db, n)?;
        println!("seeded {n} contacts in {:.2} s", t.elapsed().as_secs_f64());
    }

    let mut opts = SandboxOptions::new(db.clone());
    opts.rate_limit = RateLimit {
        max: 10_000_000,
        interval: Duration::from_secs(1),
        daily: u32::MAX,
    };
    let sb = ghl_sandbox::start(opts).await?;
    let base = sb.base_url();
    let client = reqwest::Client::new();
    let page: serde_json::Value = client
        .post(format!("{base}/contacts/search"))
        .bearer_auth(DEFAULT_TOKEN)
        .header("Version", "2021-07-28")
        .json(&json!({"locationId": DEMO_LOCATION_ID, "pageLimit": 100}))
        .send()
        .await?
        .json()
        .await?;
    let ids: Arc<Vec<String>> = Arc::new(
        page["contacts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    );
    println!(
        "{} concurrent clients, {requests} requests per scenario",
        IN_FLIGHT
    );

    let b = base.clone();
    let ids2 = ids.clone();
    run(
        "GET /contacts/{id}",
        requests,
        Arc::new(move |c, i| {
            c.get(format!("{b}/contacts/{}", ids2[i % ids2.len().max(1)]))
                .bearer_auth(DEFAULT_TOKEN)
                .header("Version", "2021-07-28")
        }),
    )
    .await;

    let queries = ["jane", "smith", "acme", "mary.lee", "+1646000", "hooli"];
    let b = base.clone();
    run(&format!("POST /contacts/search (query, {n} contacts)"), requests / 4, Arc::new(move |c, i| {
        c.post(format!("{b}/contacts/search")).bearer_auth(DEFAULT_TOKEN).header("Version", "2021-07-28")
            .json(&json!({"locationId": DEMO_LOCATION_ID, "pageLimit": 20, "query": queries[i % queries.len()]}))
    })).await;

    // A new query every request: its total is counted, not remembered
    // (a phone or email fragment, a handful of matches each).
    let b = base.clone();
    run(
        &format!("POST /contacts/search (new query each, {n})"),
        requests / 4,
        Arc::new(move |c, i| {
            c.post(format!("{b}/contacts/search"))
                .bearer_auth(DEFAULT_TOKEN)
                .header("Version", "2021-07-28")
                .json(&json!({"locationId": DEMO_LOCATION_ID, "pageLimit": 20,
                    "query": format!("{:05}", (i * 7919 + 13) % 100_000)}))
        }),
    )
    .await;

    let b = base.clone();
    run(
        &format!("POST /contacts/search (no query, {n})"),
        requests / 4,
        Arc::new(move |c, _| {
            c.post(format!("{b}/contacts/search"))
                .bearer_auth(DEFAULT_TOKEN)
                .header("Version", "2021-07-28")
                .json(&json!({"locationId": DEMO_LOCATION_ID, "pageLimit": 20}))
        }),
    )
    .await;

    sb.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
