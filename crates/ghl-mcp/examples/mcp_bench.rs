//! `cargo run --release -p ghl-mcp --example mcp_bench`
//!
//! Against an in-process sandbox: the median time from server start to
//! `initialized` to `tools/list` answered (server construction included),
//! resident memory after 1,000 tool calls, and the size of tools/list.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ghl_core::ratelimit::RateConfig;
use ghl_core::{Client, Defaults, Policy, Secret, Transport, TransportConfig};
use ghl_mcp::rmcp::ServiceExt;
use ghl_mcp::rmcp::model::CallToolRequestParams;
use ghl_mcp::{GhlMcp, ServerOptions};
use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID, RateLimit, SandboxOptions};
use serde_json::json;

const RUNS: usize = 21;
const CALLS: usize = 1000;

fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("ghl-mcp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // HighLevel's budget (100 requests / 10 s) would make this a benchmark
    // of the rate limiter; lift it on both sides to measure the server.
    let mut opts = SandboxOptions::new(dir.join("sandbox.db"));
    opts.rate_limit = RateLimit {
        max: 1_000_000,
        interval: Duration::from_secs(1),
        daily: u32::MAX,
    };
    let sandbox = ghl_sandbox::start(opts).await?;
    let mut config = TransportConfig::new(sandbox.base_url(), Secret::new(DEFAULT_TOKEN));
    config.rate = RateConfig {
        max: 1_000_000,
        interval: Duration::from_secs(1),
    };
    let transport = Transport::new(config)?;
    let client = Client::new(
        Arc::new(transport),
        Policy::default(),
        Defaults {
            location_id: Some(DEMO_LOCATION_ID.into()),
            company_id: None,
        },
    );

    let mut init = Vec::with_capacity(RUNS);
    let mut list = Vec::with_capacity(RUNS);
    let mut list_bytes = 0;
    for _ in 0..RUNS {
        let t0 = Instant::now();
        let server = GhlMcp::new(client.clone(), ServerOptions::default());
        let (s, c) = tokio::io::duplex(1 << 20);
        let handle = tokio::spawn(async move {
            if let Ok(r) = server.serve(s).await {
                let _ = r.waiting().await;
            }
        });
        let mcp = ().serve(c).await?;
        let t1 = Instant::now();
        let tools = mcp.list_tools(None).await?;
        let t2 = Instant::now();
        list_bytes = serde_json::to_vec(&tools)?.len();
        init.push(t1 - t0);
        list.push(t2 - t0);
        mcp.cancel().await?;
        let _ = handle.await;
    }

    // 1,000 calls on one session: reads of a contact, searches and
    // catalog look-ups, the mix an assistant makes.
    let server = GhlMcp::new(client.clone(), ServerOptions::default());
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(r) = server.serve(s).await {
            let _ = r.waiting().await;
        }
    });
    let mcp = ().serve(c).await?;
    let args = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
    let t0 = Instant::now();
    for i in 0..CALLS {
        let req = match i % 3 {
            0 => CallToolRequestParams::new("search_contacts")
                .with_arguments(args(json!({"query": "Jane", "limit": 5}))),
            1 => CallToolRequestParams::new("list_pipelines").with_arguments(args(json!({}))),
            _ => CallToolRequestParams::new("find_operations")
                .with_arguments(args(json!({"query": "contact"}))),
        };
        let r = mcp.call_tool(req).await?;
        if r.is_error == Some(true) {
            return Err(format!("call {i} failed: {:?}", r.content).into());
        }
    }
    let calls = t0.elapsed();
    let rss = rss_kib();
    mcp.cancel().await?;
    sandbox.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);

    println!("runs: {RUNS}");
    println!(
        "median start -> initialized: {:.2} ms",
        median(init).as_secs_f64() * 1e3
    );
    println!(
        "median start -> tools/list answered: {:.2} ms",
        median(list).as_secs_f64() * 1e3
    );
    println!("tools/list JSON: {list_bytes} bytes");
    println!(
        "{CALLS} tool calls: {:.0} ms ({:.2} ms each, sandbox round trip included)",
        calls.as_secs_f64() * 1e3,
        calls.as_secs_f64() * 1e3 / CALLS as f64
    );
    match rss {
        Some(k) => println!(
            "VmRSS after {CALLS} calls: {:.1} MiB (sandbox in the same process)",
            k as f64 / 1024.0
        ),
        None => println!("VmRSS: unavailable (no /proc)"),
    }
    Ok(())
}
