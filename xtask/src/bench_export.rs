//! `cargo xtask bench-export`: export 10,000 contacts with `ghl ... --all`
//! from a sandbox that answers in 150 ms and enforces HighLevel's default
//! 100 requests per 10 s. Reports records per second, how much of the rate
//! ceiling the export used, and how many 429s the sandbox had to serve.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub fn run(root: &Path, records: usize, latency_ms: u64) -> Result<String, String> {
    let bin = crate::bench_cli::release_binary(root)?;
    let dir = std::env::temp_dir().join(format!("ghl-bench-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("sandbox.db");
    ghl_sandbox::reset(&db, ghl_sandbox::Seed::Demo).map_err(|e| e.to_string())?;
    // The demo seed has 200 contacts; top it up to exactly `records`.
    ghl_sandbox::bulk_seed_contacts(&db, records.saturating_sub(200)).map_err(|e| e.to_string())?;

    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let addr: SocketAddr = format!("127.0.0.1:{port}")
        .parse()
        .map_err(|e| format!("{e}"))?;
    let mut server = Command::new(&bin)
        .args([
            "sandbox",
            "serve",
            "--listen",
            &addr.to_string(),
            "--latency-ms",
            &latency_ms.to_string(),
            "--rate-limit",
            "100/10s",
            "--db",
        ])
        .arg(&db)
        .env("XDG_DATA_HOME", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start sandbox: {e}"))?;
    let result = (|| {
        wait_ready(addr)?;
        let started = Instant::now();
        let mut child = Command::new(&bin)
            .args([
                "contacts",
                "search",
                "--all",
                "--page-size",
                "100",
                "--output",
                "jsonl",
            ])
            .env("GHL_BASE_URL", format!("http://{addr}"))
            .env("HIGHLEVEL_TOKEN", ghl_sandbox::DEFAULT_TOKEN)
            .env("HIGHLEVEL_LOCATION_ID", ghl_sandbox::DEMO_LOCATION_ID)
            .env("GHL_CONFIG", dir.join("none.toml"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("run ghl: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        // Every record once: count lines and distinct contact ids.
        let mut ids = std::collections::HashSet::new();
        let mut lines = 0usize;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.is_empty() {
                continue;
            }
            lines += 1;
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && let Some(id) = v["id"].as_str()
            {
                ids.insert(id.to_string());
            }
        }
        let distinct = ids.len();
        let status = child.wait().map_err(|e| e.to_string())?;
        let elapsed = started.elapsed();
        if !status.success() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return Err(format!("export failed: {err}"));
        }
        let stats = http_get(addr, "/_sandbox/stats")?;
        let stats: serde_json::Value =
            serde_json::from_str(&stats).map_err(|e| format!("stats: {e}"))?;
        let requests = stats["requests"].as_u64().unwrap_or(0);
        let limited = stats["rate_limited"].as_u64().unwrap_or(0);
        let secs = elapsed.as_secs_f64();
        // The ceiling: 100 requests in any 10 s window. The export's share is
        // its request count against what the ceiling allows in its duration
        // (at least one full window: a burst of 100 is allowed at once).
        let windows = (secs / 10.0).max(1.0);
        let allowed = 100.0 * windows;
        Ok(format!(
            "export of {records} contacts, sandbox latency {latency_ms} ms, rate limit 100/10s\n\
             records exported   {lines} ({distinct} distinct)\n\
             wall time          {secs:.2} s\n\
             records/second     {:.0}\n\
             API requests       {requests} ({:.1} req/s)\n\
             ceiling used       {:.0}% of the 100-per-10-s budget over the run\n\
             429 responses      {limited}\n",
            lines as f64 / secs,
            requests as f64 / secs,
            100.0 * requests as f64 / allowed,
        ))
    })();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn wait_ready(addr: SocketAddr) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if http_get(addr, "/health").is_ok_and(|b| b.contains("ghl-sandbox")) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("sandbox did not start".into())
}

/// A bare HTTP/1.1 GET on loopback for the sandbox's own endpoints.
fn http_get(addr: SocketAddr, path: &str) -> Result<String, String> {
    let mut s =
        TcpStream::connect_timeout(&addr, Duration::from_millis(500)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .ok_or("bad response")?;
    Ok(body)
}
