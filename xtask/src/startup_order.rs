//! `cargo xtask startup-order [--bin PATH]`: write
//! `crates/ghl-cli/generated/startup.order`, the functions a start of `ghl`
//! runs, for the linker to lay out together (see `crates/ghl-cli/build.rs`).
//!
//! The functions come from callgrind runs of a release binary with its
//! symbols (built here with `-C strip=none` unless `--bin` names one)
//! against a loopback sandbox: `--version`, a dry run, a GET, `ghl mcp` to
//! tools/list (with and without remembered scopes) and through 30 tool
//! calls. Earlier scenarios come first, so the commonest start is the most
//! compact. Needs valgrind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::bench_startup::{self, Mcp, Sandbox};

const ORDER_FILE: &str = "crates/ghl-cli/generated/startup.order";
const HEADER: &str = "# Functions a start of ghl runs, in the order the linker lays them out\n# (crates/ghl-cli/build.rs). Written by `cargo xtask startup-order`; names\n# a later build lacks are skipped.\n";
const MCP_CALLS: usize = 30;

pub fn run(root: &Path, bin: Option<PathBuf>) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("ghl-startup-order-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = collect(root, bin, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let (names, scenarios) = result?;
    let mut text = HEADER.to_string();
    for n in &names {
        text.push_str(n);
        text.push('\n');
    }
    let path = root.join(ORDER_FILE);
    std::fs::write(&path, text).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(format!(
        "{} functions ({}) written to {}\n",
        names.len(),
        scenarios.join(", "),
        path.display()
    ))
}

fn collect(
    root: &Path,
    bin: Option<PathBuf>,
    dir: &Path,
) -> Result<(Vec<String>, Vec<String>), String> {
    let bin = match bin {
        Some(b) => b,
        None => symbols_binary(root, dir)?,
    };
    let sandbox = Sandbox::start(&bin, dir)?;
    let env: Vec<(&str, String)> = vec![
        ("HIGHLEVEL_TOKEN", ghl_sandbox::DEFAULT_TOKEN.to_string()),
        (
            "HIGHLEVEL_LOCATION_ID",
            ghl_sandbox::DEMO_LOCATION_ID.to_string(),
        ),
        ("GHL_BASE_URL", format!("http://{}", sandbox.addr)),
        ("GHL_CONFIG", dir.join("none.toml").display().to_string()),
        ("GHL_DATA_DIR", dir.join("data").display().to_string()),
    ];
    let id = bench_startup::first_contact_id(&bin, &env)?;
    let profile = |name: &str| dir.join(format!("callgrind.{name}"));
    let valgrind = |name: &str| {
        let mut cmd = Command::new("valgrind");
        cmd.args([
            "--tool=callgrind",
            "--demangle=no",
            "--compress-strings=no",
            "--compress-pos=no",
        ])
        .arg(format!("--callgrind-out-file={}", profile(name).display()))
        .arg(&bin)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        cmd
    };
    let one_shot = |name: &str, args: &[&str]| -> Result<(), String> {
        let status = valgrind(name)
            .args(args)
            .status()
            .map_err(|e| format!("valgrind (is it installed?): {e}"))?;
        if !status.success() {
            return Err(format!("ghl {} under callgrind: {status}", args.join(" ")));
        }
        Ok(())
    };
    one_shot("version", &["--version"])?;
    one_shot(
        "dry-run",
        &["contacts", "get", &id, "--dry-run", "-o", "json"],
    )?;
    one_shot("get", &["contacts", "get", &id, "-o", "json"])?;
    // The first start probes the token's scopes and remembers them; the
    // second is the common one.
    mcp_session(valgrind("mcp-first"), &env, 0)?;
    mcp_session(valgrind("mcp"), &env, 0)?;
    mcp_session(valgrind("mcp-calls"), &env, MCP_CALLS)?;
    drop(sandbox);

    let scenarios = ["version", "dry-run", "get", "mcp", "mcp-first", "mcp-calls"];
    let mut seen = std::collections::HashSet::new();
    let mut names = Vec::new();
    for s in scenarios {
        let text = std::fs::read_to_string(profile(s))
            .map_err(|e| format!("read the {s} profile: {e}"))?;
        for f in functions_of(&text, &bin) {
            if seen.insert(f.to_string()) {
                names.push(f.to_string());
            }
        }
    }
    Ok((names, scenarios.map(String::from).to_vec()))
}

/// `ghl mcp` under `cmd`: initialize, tools/list, then `calls` tool calls.
fn mcp_session(mut cmd: Command, env: &[(&str, String)], calls: usize) -> Result<(), String> {
    cmd.arg("mcp");
    let mut mcp = Mcp::spawn_command(cmd, env)?;
    mcp.initialize()?;
    mcp.send(bench_startup::TOOLS_LIST)?;
    mcp.answer(2)?;
    bench_startup::call_tools(&mut mcp, calls)?;
    drop(mcp.stdin);
    mcp.child
        .wait()
        .map_err(|e| format!("wait for ghl mcp: {e}"))?;
    Ok(())
}

/// The functions of `bin` a callgrind profile saw run, in the profile's
/// order (`ob=` names the object of the `fn=` lines that follow).
fn functions_of<'a>(profile: &'a str, bin: &Path) -> Vec<&'a str> {
    let bin = bin.display().to_string();
    let mut ours = false;
    let mut out = Vec::new();
    for line in profile.lines() {
        if let Some(ob) = line.strip_prefix("ob=") {
            ours = ob.trim() == bin;
        } else if let Some(f) = line.strip_prefix("fn=")
            && ours
        {
            let f = f.trim();
            // Code without a symbol is named by its address: nothing to order.
            if !f.is_empty() && !f.starts_with("0x") {
                out.push(f);
            }
        }
    }
    out
}

/// A release `ghl` with its symbols, copied out of the target directory.
fn symbols_binary(root: &Path, dir: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "rustc",
            "--release",
            "-p",
            "ghl-cli",
            "--bin",
            "ghl",
            "--",
            "-C",
            "strip=none",
        ])
        .status()
        .map_err(|e| format!("cargo rustc: {e}"))?;
    if !status.success() {
        return Err(format!("cargo rustc -C strip=none: {status}"));
    }
    let to = dir.join("ghl-with-symbols");
    std::fs::copy(root.join("target/release/ghl"), &to)
        .map_err(|e| format!("copy the binary: {e}"))?;
    Ok(to)
}
