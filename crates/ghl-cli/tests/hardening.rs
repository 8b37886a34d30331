//! The real `ghl` binary against hostile servers, odd files and planted
//! config (issue 9): a whole-command deadline, announced waits, bounded
//! `--body @FILE`, config ownership and locking, `--sandbox` token hygiene
//! and core dumps.

mod setup_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use setup_support::{DEFAULT_TOKEN, DEMO_LOCATION, World, text};

const REAL_TOKEN: &str = "pit-realsecret-7c1e-4b9a-LIVE-TOKEN";

/// A raw HTTP server on loopback. `answer(n, head)` gives the bytes to send
/// for the `n`th request (None: hold the connection open and say nothing).
/// Returns the base URL and every request head received.
fn raw_server(
    answer: impl Fn(usize, &str) -> Option<String> + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let seen = heads.clone();
    let answer = Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let heads = seen.clone();
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(s.try_clone().unwrap());
                loop {
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        head.push_str(&line);
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    let mut body = vec![0u8; len];
                    let _ = reader.read_exact(&mut body);
                    let n = {
                        let mut h = heads.lock().unwrap();
                        h.push(head.clone());
                        h.len() - 1
                    };
                    match answer(n, &head) {
                        Some(bytes) => {
                            if s.write_all(bytes.as_bytes()).is_err()
                                || bytes.contains("connection: close")
                            {
                                return;
                            }
                        }
                        None => {
                            std::thread::sleep(Duration::from_secs(60));
                            return;
                        }
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), heads)
}

fn http(status: &str, headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{headers}\r\n{body}",
        body.len()
    )
}

fn run_with_timeout(mut cmd: Command, limit: Duration) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ghl");
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            let _ = child.stdout.take().unwrap().read_to_string(&mut out);
            let _ = child.stderr.take().unwrap().read_to_string(&mut out);
            return (status.code(), out, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return (None, "(killed: still running)".into(), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------
// 5. --timeout bounds the whole command; long waits are announced
// ---------------------------------------------------------------------------

#[test]
fn timeout_bounds_the_whole_command_against_a_hanging_server() {
    let world = World::new();
    let (base, heads) = raw_server(|_, _| None);
    let mut cmd = world.ghl();
    cmd.args(["--timeout", "3", "-o", "json", "contacts", "get", "abc123"])
        .env("GHL_BASE_URL", &base)
        .env("HIGHLEVEL_TOKEN", REAL_TOKEN)
        .env("HIGHLEVEL_LOCATION_ID", DEMO_LOCATION);
    let (code, out, took) = run_with_timeout(cmd, Duration::from_secs(40));
    assert!(took < Duration::from_secs(8), "took {took:?}: {out}");
    assert_eq!(code, Some(17), "{out}");
    assert!(!heads.lock().unwrap().is_empty());
}

#[test]
fn a_long_rate_limit_wait_is_announced_on_stderr() {
    let world = World::new();
    let (base, _) = raw_server(|n, _| {
        Some(if n == 0 {
            http(
                "429 Too Many Requests",
                "retry-after: 4\r\n",
                r#"{"message":"Too many requests"}"#,
            )
        } else {
            http("200 OK", "", r#"{"contact":{"id":"abc123"}}"#)
        })
    });
    let mut cmd = world.ghl();
    cmd.args(["-o", "json", "contacts", "get", "abc123"])
        .env("GHL_BASE_URL", &base)
        .env("HIGHLEVEL_TOKEN", REAL_TOKEN)
        .env("HIGHLEVEL_LOCATION_ID", DEMO_LOCATION);
    let (code, out, _) = run_with_timeout(cmd, Duration::from_secs(30));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("waiting 4 s"), "{out}");
}

// ---------------------------------------------------------------------------
// 7. --body @FILE reads through a limit, whatever the file claims
// ---------------------------------------------------------------------------

#[test]
fn a_body_from_dev_zero_is_refused_without_eating_memory() {
    let world = World::new();
    // 1 GB of address space: today's unbounded read dies here.
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "ulimit -v 1000000; exec {} --dry-run -o json api call contacts.create-contact --body @/dev/zero",
            env!("CARGO_BIN_EXE_ghl")
        ));
    world.apply(&mut cmd);
    cmd.env("HIGHLEVEL_TOKEN", REAL_TOKEN)
        .env("HIGHLEVEL_LOCATION_ID", DEMO_LOCATION);
    let (code, out, _) = run_with_timeout(cmd, Duration::from_secs(60));
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("limit"), "{out}");
}

// ---------------------------------------------------------------------------
// 8. Config files others can plant are refused; setup holds a lock
// ---------------------------------------------------------------------------

fn planted_config(world: &World, base: &str) {
    world.write_config(&format!(
        "default_profile = \"main\"\n[profiles.main]\nlocation_id = \"{DEMO_LOCATION}\"\nbase_url = \"{base}\"\n"
    ));
}

fn assert_refused_and_nothing_sent(world: &World, heads: &Arc<Mutex<Vec<String>>>, why: &str) {
    let out = world
        .ghl()
        .args(["-o", "json", "contacts", "get", "abc123"])
        .env("HIGHLEVEL_TOKEN", REAL_TOKEN)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5), "{why}: {}", text(&out));
    assert!(
        heads.lock().unwrap().is_empty(),
        "{why}: the token was sent"
    );
    let doctor = world.ghl().args(["doctor", "-o", "json"]).output().unwrap();
    let report = text(&doctor);
    assert!(
        report.contains("\"config file\"") && report.contains(why),
        "doctor does not say {why}: {report}"
    );
}

#[test]
fn a_config_in_a_directory_others_can_write_is_refused() {
    let world = World::new();
    let (base, heads) = raw_server(|_, _| Some(http("200 OK", "", "{}")));
    planted_config(&world, &base);
    let dir = world.config.parent().unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_refused_and_nothing_sent(&world, &heads, "others can write");
}

#[test]
fn a_config_owned_by_another_user_is_refused() {
    // Handing a file to another user needs root; the test runs as root here
    // and says so loudly otherwise.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "this test needs root to chown a file to another user"
    );
    let world = World::new();
    let (base, heads) = raw_server(|_, _| Some(http("200 OK", "", "{}")));
    planted_config(&world, &base);
    let path = std::ffi::CString::new(world.config.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::chown(path.as_ptr(), 65534, 65534) }, 0);
    assert_refused_and_nothing_sent(&world, &heads, "owned by");
}

#[test]
fn concurrent_setups_keep_every_profile() {
    let world = World::new();
    let server = world.serve();
    let children: Vec<_> = (0..10)
        .map(|i| {
            let mut c = world.ghl();
            c.args([
                "--base-url",
                &server.base_url,
                "setup",
                "--token-stdin",
                "--location",
                DEMO_LOCATION,
                "--profile",
                &format!("p{i}"),
                "-o",
                "json",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            let mut child = c.spawn().unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(DEFAULT_TOKEN.as_bytes())
                .unwrap();
            child
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let config = world.config_text().unwrap();
    let missing: Vec<_> = (0..10)
        .filter(|i| !config.contains(&format!("[profiles.p{i}]")))
        .collect();
    assert!(missing.is_empty(), "profiles lost: {missing:?}\n{config}");
}

// ---------------------------------------------------------------------------
// 9. --sandbox sends only sandbox tokens, to an address file it can trust
// ---------------------------------------------------------------------------

/// A fake "sandbox" that answers /health like one and records everything.
fn fake_sandbox() -> (String, Arc<Mutex<Vec<String>>>) {
    raw_server(|_, head| {
        Some(if head.starts_with("GET /health") {
            http(
                "200 OK",
                "connection: close\r\n",
                r#"{"ok":true,"service":"ghl-sandbox"}"#,
            )
        } else {
            http("200 OK", "", r#"{"contacts":[],"total":0}"#)
        })
    })
}

fn plant_addr_file(world: &World, base: &str, mode: u32) -> std::path::PathBuf {
    let file = world.db.with_file_name("sandbox.addr");
    std::fs::write(&file, base.trim_start_matches("http://")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    file
}

#[test]
fn sandbox_never_sends_a_real_token() {
    let world = World::new();
    let (base, heads) = fake_sandbox();
    plant_addr_file(&world, &base, 0o600);
    let out = world
        .ghl()
        .args(["--sandbox", "-o", "json", "contacts", "search", "Jane"])
        .env("HIGHLEVEL_TOKEN", REAL_TOKEN)
        .output()
        .unwrap();
    let all = heads.lock().unwrap().join("\n");
    assert!(
        !all.contains(REAL_TOKEN),
        "the real token went to the sandbox address:\n{all}"
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("HIGHLEVEL_TOKEN"), "{}", text(&out));
}

#[test]
fn a_sandbox_address_file_others_can_write_is_not_trusted() {
    let world = World::new();
    let (base, heads) = fake_sandbox();
    plant_addr_file(&world, &base, 0o666);
    let out = world
        .ghl()
        .args(["--sandbox", "-o", "json", "contacts", "search", "Jane"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let api: Vec<_> = heads
        .lock()
        .unwrap()
        .iter()
        .filter(|h| !h.starts_with("GET /health"))
        .cloned()
        .collect();
    assert!(
        api.is_empty(),
        "requests went to a planted address: {api:?}"
    );
}

// ---------------------------------------------------------------------------
// 11. No core dumps (they can hold the token)
// ---------------------------------------------------------------------------

#[test]
fn ghl_mcp_runs_without_core_dumps() {
    let world = World::new();
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(format!(
        "ulimit -c unlimited; exec {} mcp --sandbox",
        env!("CARGO_BIN_EXE_ghl")
    ));
    world.apply(&mut cmd);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until the server is up: it answers initialize.
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":1,"method":"initialize","params":{{"protocolVersion":"2025-03-26","capabilities":{{}},"clientInfo":{{"name":"t","version":"0"}}}}}}"#
    )
    .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap()
        .to_string();
    let fields: Vec<_> = core.split_whitespace().collect();
    assert_eq!(fields[4], "0", "{core}");
    assert_eq!(fields[5], "0", "{core}");
}

// ---------------------------------------------------------------------------
// 6. `ghl mcp --transport http`: bounded for slow and unauthorised clients
// ---------------------------------------------------------------------------

const MCP_SECRET: &str = "mcp-secret-0123456789abcdef";

struct Mcp {
    child: std::process::Child,
    addr: String,
}

impl Drop for Mcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_addr() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

fn mcp_http(world: &World, flag_secret: Option<&str>, env_secret: Option<&str>) -> Mcp {
    let addr = free_addr();
    let mut c = world.ghl();
    c.args(["mcp", "--sandbox", "--transport", "http", "--listen", &addr]);
    if let Some(s) = flag_secret {
        c.args(["--http-token", s]);
    }
    c.env_remove("GHL_MCP_TOKEN");
    if let Some(s) = env_secret {
        c.env("GHL_MCP_TOKEN", s);
    }
    let child = c
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "ghl mcp did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Mcp { child, addr }
}

/// One request on a fresh connection; the status code and the headers.
fn post_init(addr: &str, secret: &str, session: Option<&str>) -> (u16, String) {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
    let ping = r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#;
    let body = if session.is_some() { ping } else { body };
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let extra = session
        .map(|id| format!("mcp-session-id: {id}\r\nmcp-protocol-version: 2025-06-18\r\n"))
        .unwrap_or_default();
    // A server that answers before reading everything (a 503 past the
    // connection cap) may close early: read its answer regardless.
    let _ = write!(
        s,
        "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {secret}\r\nAccept: application/json, text/event-stream\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut head = Vec::new();
    let mut buf = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(1) => head.push(buf[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, head)
}

fn session_of(head: &str) -> Option<String> {
    head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .starts_with("mcp-session-id:")
            .then(|| l.split_once(':').unwrap().1.trim().to_string())
    })
}

#[test]
fn a_short_bearer_secret_is_refused() {
    let world = World::new();
    let addr = free_addr();
    let mut c = world.ghl();
    c.args([
        "mcp",
        "--sandbox",
        "--transport",
        "http",
        "--listen",
        &addr,
        "--http-token",
        "short-secret",
    ])
    .env_remove("GHL_MCP_TOKEN");
    let (code, out, _) = run_with_timeout(c, Duration::from_secs(20));
    assert_eq!(code, Some(5), "{out}");
    assert!(out.contains("16"), "{out}");
}

#[test]
fn ghl_mcp_token_from_the_environment_wins_over_the_flag() {
    let world = World::new();
    let env_secret = "env-secret-0123456789abcdef";
    let server = mcp_http(&world, Some(MCP_SECRET), Some(env_secret));
    assert_eq!(post_init(&server.addr, env_secret, None).0, 200);
    assert_eq!(post_init(&server.addr, MCP_SECRET, None).0, 401);
}

#[test]
fn a_refused_client_is_disconnected_and_a_slow_one_timed_out() {
    let world = World::new();
    let server = mcp_http(&world, None, Some(MCP_SECRET));
    // Without the secret, on a keep-alive connection: 401, then closed.
    let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "POST /mcp HTTP/1.1\r\nHost: {}\r\nContent-Length: 2\r\n\r\n{{}}",
        server.addr
    )
    .unwrap();
    let mut all = Vec::new();
    let r = s.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all).into_owned();
    assert!(text.starts_with("HTTP/1.1 401"), "{text}");
    assert!(r.is_ok(), "the connection stayed open after 401: {r:?}");

    // Half a request: closed once the header time runs out.
    let mut slow = std::net::TcpStream::connect(&server.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(slow, "POST /mcp HTTP/1.1\r\nHost: x\r\n").unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let r = slow.read_to_end(&mut rest);
    assert!(
        r.is_ok() && started.elapsed() < Duration::from_secs(15),
        "a half-sent request held its connection: {r:?} after {:?}",
        started.elapsed()
    );
}

#[test]
fn connections_beyond_the_cap_get_503() {
    let world = World::new();
    let server = mcp_http(&world, None, Some(MCP_SECRET));
    // Hold 130 connections, each with half a request.
    let held: Vec<std::net::TcpStream> = (0..130)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
            let _ = write!(s, "POST /mcp HTTP/1.1\r\n");
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (code, head) = post_init(&server.addr, MCP_SECRET, None);
    // 131 connections against a cap of 128: at least 3 are refused. Which
    // ones is the kernel's to say: a busy server whose accept queue
    // overflowed takes connections in another order than they were made.
    // The refusals are read as they come, for up to 10 s: on a loaded
    // machine the server may write them well after the last connect.
    let mut answers: Vec<(std::net::TcpStream, Vec<u8>)> = held
        .into_iter()
        .map(|s| {
            s.set_nonblocking(true).unwrap();
            (s, Vec::new())
        })
        .collect();
    let refused_of = |answers: &[(std::net::TcpStream, Vec<u8>)]| {
        answers
            .iter()
            .filter(|(_, a)| a.starts_with(b"HTTP/1.1 503"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while usize::from(code == 503) + refused_of(&answers) < 3 && Instant::now() < deadline {
        for (s, answer) in answers.iter_mut() {
            let mut buf = [0u8; 64];
            if let Ok(n) = s.read(&mut buf) {
                answer.extend_from_slice(&buf[..n]);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let refused = usize::from(code == 503) + refused_of(&answers);
    assert!(
        refused >= 3,
        "{refused} of 131 connections refused; last: {head}"
    );
    assert!(code == 503 || code == 200, "{head}");
}

#[test]
fn sessions_are_capped_and_the_oldest_idle_is_evicted() {
    let world = World::new();
    let server = mcp_http(&world, None, Some(MCP_SECRET));
    let (code, head) = post_init(&server.addr, MCP_SECRET, None);
    assert_eq!(code, 200, "{head}");
    let first = session_of(&head).expect("a session id");
    for _ in 0..70 {
        let (code, head) = post_init(&server.addr, MCP_SECRET, None);
        assert_eq!(code, 200, "{head}");
    }
    let (code, head) = post_init(&server.addr, MCP_SECRET, Some(&first));
    assert_eq!(code, 404, "the oldest session is still held: {head}");
}

// ---------------------------------------------------------------------------
// 10. `ghl sandbox serve` stays on loopback unless told otherwise
// ---------------------------------------------------------------------------

#[test]
fn sandbox_serve_refuses_a_non_loopback_address_without_a_flag() {
    let world = World::new();
    let mut c = world.ghl();
    c.args(["sandbox", "serve", "--listen", "0.0.0.0:0", "--db"])
        .arg(&world.db);
    let (code, out, _) = run_with_timeout(c, Duration::from_secs(20));
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("--allow-remote"), "{out}");
}
