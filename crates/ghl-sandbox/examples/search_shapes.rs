//! One search at a time, by shape (no query, common and rare queries, a
//! short one, deep pages, other sorts, filters no index answers): the first
//! answer (totals and filtered matches not yet remembered), the median and
//! the fastest, over the database `sandbox_bench` keeps.
//!
//! `SANDBOX_BENCH_DB=/tmp/bench.db cargo run --release -p ghl-sandbox --example sandbox_bench`, then
//! `SANDBOX_BENCH_DB=/tmp/bench.db cargo run --release -p ghl-sandbox --example search_shapes [REPEATS]`

use std::time::{Duration, Instant};

use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID, RateLimit, SandboxOptions};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(db) = std::env::var_os("SANDBOX_BENCH_DB").map(std::path::PathBuf::from) else {
        return Err("set SANDBOX_BENCH_DB to the database sandbox_bench kept".into());
    };
    if !db.exists() {
        return Err(format!("{} does not exist: run sandbox_bench first", db.display()).into());
    }
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(15)
        .max(1);
    let mut opts = SandboxOptions::new(db);
    opts.rate_limit = RateLimit {
        max: 10_000_000,
        interval: Duration::from_secs(1),
        daily: u32::MAX,
    };
    let sb = ghl_sandbox::start(opts).await?;
    let base = sb.base_url();
    let client = reqwest::Client::new();
    let search = |extra: Value| {
        let mut b = json!({"locationId": DEMO_LOCATION_ID, "pageLimit": 20});
        if let (Some(b), Some(extra)) = (b.as_object_mut(), extra.as_object()) {
            b.extend(extra.clone());
        }
        b
    };
    let shapes = [
        search(json!({})),
        search(json!({"query": "smith"})),
        search(json!({"query": "+1646000"})),
        search(json!({"query": "mary.lee"})),
        search(json!({"query": "sm"})),
        search(json!({"query": "acme", "sort": [{"field": "firstName", "direction": "asc"}]})),
        search(json!({"query": "smith", "pageLimit": 100, "page": 30})),
        search(json!({"pageLimit": 100, "page": 100})),
        search(
            json!({"pageLimit": 100, "filters": [{"field": "tags", "operator": "contains", "value": "vip"}]}),
        ),
        search(
            json!({"pageLimit": 500, "sort": [{"field": "dateAdded", "direction": "asc"}],
            "filters": [{"field": "dateUpdated", "operator": "range", "value": {"gte": "2026-01-01T00:00:00.000Z"}}]}),
        ),
        search(
            json!({"pageLimit": 100, "filters": [{"field": "dateAdded", "operator": "range",
            "value": {"gte": "2026-06-01T00:00:00.000Z", "lt": "2026-06-02T00:00:00.000Z"}}]}),
        ),
    ];
    for body in shapes {
        let mut lat = Vec::with_capacity(repeats);
        let mut total = Value::Null;
        for _ in 0..repeats {
            let t = Instant::now();
            let v: Value = client
                .post(format!("{base}/contacts/search"))
                .bearer_auth(DEFAULT_TOKEN)
                .header("Version", "2021-07-28")
                .json(&body)
                .send()
                .await?
                .json()
                .await?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            total = v["total"].clone();
        }
        let first = lat[0];
        lat.sort_by(f64::total_cmp);
        let mut shape = body.clone();
        if let Some(s) = shape.as_object_mut() {
            s.remove("locationId");
        }
        println!(
            "first {first:>8.2} ms  median {:>7.2} ms  min {:>7.2} ms  total {total:>6}  {shape}",
            lat[lat.len() / 2],
            lat[0],
        );
    }
    sb.shutdown().await;
    Ok(())
}
