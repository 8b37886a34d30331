//! Figures for sync workers, printed (no assertions): `ghl sync --locations`
//! over N sandbox sub-accounts by 1 worker, then by 2 worker processes
//! sharing one store (leases split the locations): wall time, requests sent
//! (from `-v`), locations each worker synced, 429s.
//!
//! ```sh
//! cargo build --release -p ghl-cli --bin ghl
//! cargo run --release -p ghl-cli --example sync_workers_bench -- \
//!     [--locations 10] [--contacts 1000] [--latency-ms 100] [--postgres]
//! ```
//!
//! The sandbox keeps HighLevel's budget of 100 requests per 10 s per
//! location; each location has its own. Without `--postgres`, the leases and
//! mirrors are SQLite files in a temporary data directory; with it, each run
//! gets a fresh database on the server `GHL_TEST_PG_URL` names
//! (`eval "$(bash scripts/pg-test-server.sh start)"`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn num(name: &str, default: u64) -> u64 {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `ghl` binary built beside this example (target/PROFILE/ghl).
fn ghl_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/PROFILE/examples");
    let bin = profile_dir.join("ghl");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --release -p ghl-cli --bin ghl` first",
        bin.display()
    );
    bin
}

struct Run {
    wall: Duration,
    requests: usize,
    throttled: usize,
    per_worker: Vec<usize>,
}

fn run_workers(
    bin: &Path,
    base_url: &str,
    locations: &str,
    workers: usize,
    store: Option<&str>,
) -> Run {
    let data = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let children: Vec<_> = (0..workers)
        .map(|i| {
            let mut c = Command::new(bin);
            c.args(["-v", "--output", "json", "--base-url", base_url])
                .args(["--agency", "--company", ghl_sandbox::DEMO_COMPANY_ID])
                .args(["sync", "--locations", locations])
                .env("GHL_DATA_DIR", data.path())
                .env("GHL_CONFIG", data.path().join("config.toml"))
                .env("HOME", data.path())
                .env("HIGHLEVEL_TOKEN", ghl_sandbox::DEFAULT_TOKEN)
                .env("HIGHLEVEL_LOCATION_ID", ghl_sandbox::DEMO_LOCATION_ID)
                .env("GHL_WORKER_HOST", format!("bench-{i}"))
                .env_remove("GHL_BASE_URL")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            match store {
                Some(s) => c.env("GHL_STORE_URL", s),
                None => c.env_remove("GHL_STORE_URL"),
            };
            c.spawn().expect("start ghl")
        })
        .collect();
    let mut run = Run {
        wall: Duration::ZERO,
        requests: 0,
        throttled: 0,
        per_worker: Vec::new(),
    };
    for child in children {
        let out = child.wait_with_output().expect("ghl");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "a worker failed: {err}");
        run.requests += err.lines().filter(|l| l.starts_with("> ")).count();
        run.throttled += err.lines().filter(|l| l.starts_with("< 429")).count();
        let outcomes: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        run.per_worker.push(
            outcomes
                .as_array()
                .map(|a| a.iter().filter(|o| o["this_worker"] == true).count())
                .unwrap_or(0),
        );
    }
    run.wall = started.elapsed();
    run
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n = num("--locations", 10) as usize;
    let contacts = num("--contacts", 1_000) as usize;
    let latency = num("--latency-ms", 100);
    let postgres = std::env::args().any(|a| a == "--postgres");
    let fresh_store = || -> Option<String> {
        postgres.then(|| match ghl_store::testing::postgres_database() {
            Ok(ghl_store::StoreUrl::Postgres(u)) => u,
            Ok(other) => panic!("not Postgres: {other:?}"),
            Err(e) => panic!("{e}"),
        })
    };
    let bin = ghl_binary();

    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("sandbox.db");
    let mut opts = ghl_sandbox::SandboxOptions::new(db.clone());
    opts.latency_ms = latency;
    let sb = ghl_sandbox::start(opts).await.expect("sandbox");
    let ids = ghl_sandbox::add_agency_locations(&db, n, contacts).expect("locations");
    let list = ids.join(",");
    println!(
        "sync of {n} sandbox sub-accounts ({contacts} contacts each, {latency} ms latency, 100 requests/10 s per location), store: {}",
        if postgres { "postgres" } else { "sqlite files" }
    );
    let base = sb.base_url();
    let (bin2, base2, list2, store2) = (bin.clone(), base.clone(), list.clone(), fresh_store());
    let store = fresh_store();
    let one = tokio::task::spawn_blocking(move || {
        run_workers(&bin2, &base2, &list2, 1, store2.as_deref())
    })
    .await
    .expect("run");
    let two =
        tokio::task::spawn_blocking(move || run_workers(&bin, &base, &list, 2, store.as_deref()))
            .await
            .expect("run");
    for (label, r) in [("1 worker ", &one), ("2 workers", &two)] {
        println!(
            "{label}: {:>6.2} s wall, {} requests, {} answered 429, locations per worker {:?}",
            r.wall.as_secs_f64(),
            r.requests,
            r.throttled,
            r.per_worker
        );
    }
    println!(
        "speed-up with 2 workers: {:.2}x",
        one.wall.as_secs_f64() / two.wall.as_secs_f64().max(1e-9)
    );
    sb.shutdown().await;
}
