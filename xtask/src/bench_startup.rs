//! `cargo xtask bench-startup [--runs N] [--bin PATH]`: what a user or an
//! assistant waits for and pays in memory, as whole processes: `--version`,
//! a dry-run GET, a real GET to a loopback sandbox, `ghl mcp` from spawn to
//! tools/list answered, resident memory after 1,000 MCP calls, and the
//! binary's size; the Rust peer ghl-rs's figures (issue 14) beside them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID};

/// The first demo contact's id is looked up at run time; any id does for a dry run.
const SOME_ID: &str = "ve9EPM428h8vShlRW1KT";
const MCP_CALLS: usize = 1000;

struct Figure {
    label: &'static str,
    median_ms: f64,
    /// User + system CPU time: on a busy machine, steadier than wall time.
    cpu_ms: f64,
    peak_mib: f64,
    peer: &'static str,
}

pub fn run(root: &Path, runs: usize, bin: Option<PathBuf>) -> Result<String, String> {
    let bin = match bin {
        Some(b) => b,
        None => crate::bench_cli::release_binary(root)?,
    };
    let runs = runs.max(3);
    let dir = std::env::temp_dir().join(format!("ghl-bench-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let sandbox = Sandbox::start(&bin, &dir)?;
    let result = measure(&bin, &dir, &sandbox, runs);
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(bin: &Path, dir: &Path, sandbox: &Sandbox, runs: usize) -> Result<String, String> {
    let base = format!("http://{}", sandbox.addr);
    let env: Vec<(&str, String)> = vec![
        ("HIGHLEVEL_TOKEN", DEFAULT_TOKEN.to_string()),
        ("HIGHLEVEL_LOCATION_ID", DEMO_LOCATION_ID.to_string()),
        ("GHL_BASE_URL", base.clone()),
        ("GHL_CONFIG", dir.join("none.toml").display().to_string()),
        ("GHL_DATA_DIR", dir.join("data").display().to_string()),
    ];
    let id = first_contact_id(bin, &env)?;
    let mut figures = Vec::new();
    let mut process = |label, args: &[&str], peer| -> Result<(), String> {
        let (median_ms, cpu_ms, peak_mib) = processes(bin, args, &env, runs)?;
        figures.push(Figure {
            label,
            median_ms,
            cpu_ms,
            peak_mib,
            peer,
        });
        Ok(())
    };
    process("ghl --version", &["--version"], "2 ms")?;
    process(
        "ghl contacts get ID --dry-run",
        &["contacts", "get", SOME_ID, "--dry-run", "-o", "json"],
        "-",
    )?;
    process(
        "ghl contacts get ID (loopback GET)",
        &["contacts", "get", &id, "-o", "json"],
        "-",
    )?;
    // Each start after the first finds the scopes the first one probed.
    let (median_ms, cpu_ms, peak_mib) = mcp_start(bin, &env, runs, None)?;
    figures.push(Figure {
        label: "ghl mcp: spawn -> tools/list",
        median_ms,
        cpu_ms,
        peak_mib,
        peer: "4 ms, ~10 MiB",
    });
    let (median_ms, cpu_ms, peak_mib) = mcp_start(bin, &env, runs, Some(&dir.join("fresh")))?;
    figures.push(Figure {
        label: "  the same, first start (probes scopes)",
        median_ms,
        cpu_ms,
        peak_mib,
        peer: "-",
    });
    let resident = mcp_resident_after_calls(bin, &env)?;

    let mut out = format!(
        "ghl start-up and memory, whole processes, medians of {runs} runs (loopback sandbox at {base})\n\n"
    );
    out.push_str(&format!(
        "{:<38} {:>10} {:>10} {:>14}   {}\n",
        "figure", "median", "CPU", "peak RSS", "ghl-rs (issue 14)"
    ));
    for f in &figures {
        out.push_str(&format!(
            "{:<38} {:>7.2} ms {:>7.2} ms {:>10.1} MiB   {}\n",
            f.label, f.median_ms, f.cpu_ms, f.peak_mib, f.peer
        ));
    }
    out.push_str(&format!(
        "{:<38} {:>10} {:>10} {:>10.1} MB    11.3 MB\n",
        format!("ghl mcp: resident after {MCP_CALLS} calls"),
        "",
        "",
        resident as f64 / 1e6
    ));
    let size = std::fs::metadata(bin).map(|m| m.len()).unwrap_or(0);
    out.push_str(&format!(
        "{:<38} {:>10} {:>10} {:>10.1} MB    -\n",
        "release binary size",
        "",
        "",
        size as f64 / 1e6
    ));
    if let Some(note) = order_staleness(bin) {
        out.push_str(&note);
    }
    out.push_str(&format!(
        "\ngoals: --version <= 2 ms; GETs <= 3 ms; mcp <= 3 ms; each <= 8 MiB; mcp after {MCP_CALLS} calls <= 10 MB; binary <= 22.5 MB\nbinary: {}\n",
        bin.display()
    ));
    Ok(out)
}

/// Median wall and CPU time and largest peak RSS of `runs` processes (one warm-up).
fn processes(
    bin: &Path,
    args: &[&str],
    env: &[(&str, String)],
    runs: usize,
) -> Result<(f64, f64, f64), String> {
    let mut times = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    let mut peak_kb = 0i64;
    for i in 0..=runs {
        let start = Instant::now();
        let child = Command::new(bin)
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn: {e}"))?;
        let (status, usage) = wait_rusage(&child)?;
        let elapsed = start.elapsed().as_secs_f64() * 1000.0;
        if status != 0 {
            return Err(format!("ghl {}: exit status {status}", args.join(" ")));
        }
        if i > 0 {
            times.push(elapsed);
            cpu.push(cpu_ms(&usage));
            peak_kb = peak_kb.max(usage.ru_maxrss);
        }
    }
    Ok((
        median(&mut times),
        median(&mut cpu),
        peak_kb as f64 / 1024.0,
    ))
}

fn cpu_ms(u: &libc::rusage) -> f64 {
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1000.0 + t.tv_usec as f64 / 1000.0;
    ms(u.ru_utime) + ms(u.ru_stime)
}

/// Reap `child`: its exit code (or -1 on a signal) and resource usage.
fn wait_rusage(child: &Child) -> Result<(i32, libc::rusage), String> {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped; pointers are to live locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((code, usage))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

pub(crate) const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#;
pub(crate) const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
pub(crate) const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}"#;

pub(crate) struct Mcp {
    pub(crate) child: Child,
    pub(crate) stdin: std::process::ChildStdin,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Mcp {
    fn spawn(bin: &Path, env: &[(&str, String)]) -> Result<Mcp, String> {
        let mut cmd = Command::new(bin);
        cmd.arg("mcp");
        Mcp::spawn_command(cmd, env)
    }

    /// `ghl mcp` as `cmd` starts it (under a profiler, say).
    pub(crate) fn spawn_command(mut cmd: Command, env: &[(&str, String)]) -> Result<Mcp, String> {
        let mut child = cmd
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn ghl mcp: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        Ok(Mcp {
            child,
            stdin,
            stdout,
        })
    }

    pub(crate) fn send(&mut self, msg: &str) -> Result<(), String> {
        writeln!(self.stdin, "{msg}").map_err(|e| format!("write to ghl mcp: {e}"))
    }

    /// The next line that answers request `id`.
    pub(crate) fn answer(&mut self, id: u64) -> Result<String, String> {
        let want = format!("\"id\":{id}");
        loop {
            let mut line = String::new();
            let n = self
                .stdout
                .read_line(&mut line)
                .map_err(|e| format!("read from ghl mcp: {e}"))?;
            if n == 0 {
                return Err(format!("ghl mcp closed its output before answering {id}"));
            }
            if line.contains(&want) {
                return Ok(line);
            }
        }
    }

    pub(crate) fn initialize(&mut self) -> Result<(), String> {
        self.send(INITIALIZE)?;
        self.answer(1)?;
        self.send(INITIALIZED)
    }

    /// Close stdin (the server exits on end of input) and reap it.
    pub(crate) fn finish(self) {
        drop(self.stdin);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut child = self.child;
        while let Ok(None) = child.try_wait() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// Spawn to tools/list answered, the CPU time and peak RSS of such a session.
/// With `fresh`, every run gets a new data directory under it: nothing
/// remembered from an earlier start.
fn mcp_start(
    bin: &Path,
    env: &[(&str, String)],
    runs: usize,
    fresh: Option<&Path>,
) -> Result<(f64, f64, f64), String> {
    let mut times = Vec::with_capacity(runs);
    let mut cpu = Vec::with_capacity(runs);
    let mut peak_kb = 0i64;
    for i in 0..=runs {
        let mut env = env.to_vec();
        if let Some(root) = fresh {
            let data = root.join(i.to_string()).display().to_string();
            env.retain(|(k, _)| *k != "GHL_DATA_DIR");
            env.push(("GHL_DATA_DIR", data));
        }
        let started = Instant::now();
        let mut mcp = Mcp::spawn(bin, &env)?;
        mcp.initialize()?;
        mcp.send(TOOLS_LIST)?;
        let line = mcp.answer(2)?;
        let elapsed = started.elapsed().as_secs_f64() * 1000.0;
        if !line.contains("\"tools\"") {
            return Err(format!(
                "unexpected tools/list answer: {}",
                &line[..line.len().min(200)]
            ));
        }
        let pid = mcp.child.id() as libc::pid_t;
        drop(mcp.stdin);
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our own child, not yet reaped; pointers are to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r != pid {
            return Err(format!("wait4: {}", std::io::Error::last_os_error()));
        }
        if i > 0 {
            times.push(elapsed);
            cpu.push(cpu_ms(&usage));
            peak_kb = peak_kb.max(usage.ru_maxrss);
        }
    }
    Ok((
        median(&mut times),
        median(&mut cpu),
        peak_kb as f64 / 1024.0,
    ))
}

/// Resident bytes of one `ghl mcp` after 1,000 tool calls (search, read,
/// discovery in turn), read from /proc before it exits.
fn mcp_resident_after_calls(bin: &Path, env: &[(&str, String)]) -> Result<u64, String> {
    let mut mcp = Mcp::spawn(bin, env)?;
    mcp.initialize()?;
    call_tools(&mut mcp, MCP_CALLS)?;
    let status = std::fs::read_to_string(format!("/proc/{}/status", mcp.child.id()))
        .map_err(|e| format!("read /proc status: {e}"))?;
    let kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .ok_or("no VmRSS in /proc status")?;
    mcp.finish();
    Ok(kib * 1024)
}

/// `calls` tool calls (search, read, discovery in turn), each required to
/// succeed.
pub(crate) fn call_tools(mcp: &mut Mcp, calls: usize) -> Result<(), String> {
    let tools = [
        r#""name":"search_contacts","arguments":{"query":"Jane","limit":5}"#,
        r#""name":"list_pipelines","arguments":{}"#,
        r#""name":"find_operations","arguments":{"query":"contact"}"#,
    ];
    for i in 0..calls {
        let id = 10 + i as u64;
        mcp.send(&format!(
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{{}}}}}"#,
            tools[i % tools.len()]
        ))?;
        let line = mcp.answer(id)?;
        if line.contains("\"isError\":true") {
            return Err(format!(
                "tool call {i} failed: {}",
                &line[..line.len().min(300)]
            ));
        }
    }
    Ok(())
}

/// One contact id from the sandbox, through `ghl` itself.
pub(crate) fn first_contact_id(bin: &Path, env: &[(&str, String)]) -> Result<String, String> {
    let out = Command::new(bin)
        .args(["contacts", "search", "-o", "json", "--max", "1"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("spawn: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "ghl contacts search: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    let first = v
        .as_array()
        .and_then(|a| a.first())
        .or_else(|| v.get("contacts").and_then(|c| c.get(0)));
    first
        .and_then(|c| c.get("id"))
        .and_then(|i| i.as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("no contact in the sandbox's answer: {v}"))
}

/// `ghl sandbox serve` on a free loopback port, stopped on drop.
pub(crate) struct Sandbox {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl Sandbox {
    pub(crate) fn start(bin: &Path, dir: &Path) -> Result<Sandbox, String> {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free loopback port: {e}"))?;
        let child = Command::new(bin)
            .args(["sandbox", "serve", "--listen", &addr.to_string()])
            .args(["--rate-limit", "1000000/1s", "--seed", "demo"])
            .arg("--db")
            .arg(dir.join("sandbox.db"))
            .env("GHL_CONFIG", dir.join("none.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("spawn ghl sandbox serve: {e}"))?;
        let sandbox = Sandbox { child, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !healthy(addr) {
            if Instant::now() > deadline {
                return Err(format!("the sandbox did not answer on {addr} within 30 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(sandbox)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn healthy(addr: SocketAddr) -> bool {
    let probe = || -> std::io::Result<bool> {
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
        s.set_read_timeout(Some(Duration::from_millis(500)))?;
        write!(
            s,
            "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        s.read_to_string(&mut answer)?;
        Ok(answer.starts_with("HTTP/1.1 200"))
    };
    probe().unwrap_or(false)
}

/// A warning when a dependency changed after `startup.order` was written:
/// cargo then gives the crates new symbol names, the linker finds fewer of
/// the listed functions, and the start-up code scatters again (memory, not
/// correctness).
fn order_staleness(bin: &Path) -> Option<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?;
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    let written = git(&[
        "log",
        "-1",
        "--format=%H",
        "--",
        "crates/ghl-cli/generated/startup.order",
    ])?;
    let range = format!("{written}..HEAD");
    let since = git(&[
        "log",
        "--format=%h",
        &range,
        "--",
        "Cargo.lock",
        "*Cargo.toml",
    ])?;
    let dirty = git(&["status", "--porcelain", "--", "Cargo.lock", "*Cargo.toml"])?;
    if since.is_empty() && dirty.is_empty() {
        return None;
    }
    Some(format!(
        "\nnote: dependencies changed after crates/ghl-cli/generated/startup.order was written; its names may be stale for {}: run `cargo xtask startup-order`, rebuild, and measure again\n",
        bin.display()
    ))
}
