//! `cargo xtask bench-mcp`: how long an assistant waits for `ghl mcp`, as a
//! real process over stdio: spawn → initialize answered → tools/list
//! answered, against the sandbox (medians over several runs).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

pub fn run(root: &Path, runs: usize) -> Result<String, String> {
    let bin = crate::bench_cli::release_binary(root)?;
    let dir = std::env::temp_dir().join(format!("ghl-bench-mcp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let db = dir.join("sandbox.db");
    ghl_sandbox::reset(&db, ghl_sandbox::Seed::Demo).map_err(|e| e.to_string())?;
    let mut init_ms = Vec::new();
    let mut list_ms = Vec::new();
    let mut list_bytes = 0;
    for _ in 0..runs {
        let started = Instant::now();
        let mut child = Command::new(&bin)
            .args(["--sandbox", "mcp"])
            .env("GHL_SANDBOX_DB", &db)
            .env("GHL_CONFIG", dir.join("none.toml"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        let mut send = |msg: &str| writeln!(stdin, "{msg}").map_err(|e| e.to_string());
        send(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#,
        )?;
        stdout.read_line(&mut line).map_err(|e| e.to_string())?;
        if !line.contains("\"id\":1") {
            return Err(format!("unexpected initialize answer: {line}"));
        }
        init_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)?;
        send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#)?;
        line.clear();
        stdout.read_line(&mut line).map_err(|e| e.to_string())?;
        if !line.contains("\"tools\"") {
            return Err(format!(
                "unexpected tools/list answer: {}",
                &line[..line.len().min(200)]
            ));
        }
        list_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        list_bytes = line.trim_end().len();
        drop(stdin);
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    Ok(format!(
        "ghl --sandbox mcp over stdio, {runs} runs (process start, sandbox start included)\n\
         spawn -> initialize answered   median {:.1} ms\n\
         spawn -> tools/list answered   median {:.1} ms\n\
         tools/list response            {list_bytes} bytes\n",
        median(&mut init_ms),
        median(&mut list_ms),
    ))
}
