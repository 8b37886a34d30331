//! `cargo xtask bench-cli`: wall time and peak memory of one `ghl` process
//! doing a `--dry-run` (parse, load the catalog, validate, build, print).
//! Measures whole processes, as a user's shell script sees them.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// Build `ghl` in release mode and return its path.
pub fn release_binary(root: &Path) -> Result<std::path::PathBuf, String> {
    let status = Command::new("cargo")
        .args(["build", "--release", "-p", "ghl-cli"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("release build failed".into());
    }
    Ok(root.join("target/release/ghl"))
}

/// `bin`: measure this binary instead of building one (e.g. an older build,
/// to compare before and after).
pub fn run(root: &Path, runs: usize, bin: Option<std::path::PathBuf>) -> Result<String, String> {
    let bin = match bin {
        Some(b) => b,
        None => release_binary(root)?,
    };
    let cases: &[(&str, &[&str])] = &[
        (
            "contacts get --dry-run",
            &["contacts", "get", "ve9EPM428h8vShlRW1KT", "--dry-run"],
        ),
        (
            "api call (free slots) --dry-run",
            &[
                "api",
                "call",
                "calendars.get-slots",
                "calendarId=abc123",
                "startDate=2025-03-01",
                "endDate=2025-03-07",
                "--dry-run",
            ],
        ),
        (
            "api list (all ops, json)",
            &["api", "list", "--output", "json"],
        ),
    ];
    let mut out = String::new();
    out.push_str(&format!(
        "binary: {} ({} bytes)\n",
        bin.display(),
        std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0)
    ));
    for (label, args) in cases {
        let mut times = Vec::with_capacity(runs);
        let mut peak_kb: i64 = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let child = Command::new(&bin)
                .args(*args)
                .env("HIGHLEVEL_TOKEN", "pit-bench-token-0000000000000000")
                .env("HIGHLEVEL_LOCATION_ID", "ve9EPM428h8vShlRW1KT")
                .env("GHL_CONFIG", "/nonexistent/ghl-bench-config.toml")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("spawn: {e}"))?;
            let pid = child.id() as libc::pid_t;
            let mut status = 0;
            // SAFETY: a zeroed rusage is a valid out-parameter for wait4.
            let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
            // SAFETY: pid is our own child; pointers are to live locals.
            let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            let elapsed = start.elapsed();
            if r != pid || !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
                return Err(format!("{label}: ghl failed (status {status})"));
            }
            times.push(elapsed.as_secs_f64() * 1000.0);
            peak_kb = peak_kb.max(usage.ru_maxrss);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        let median = times[times.len() / 2];
        let p90 = times[(times.len() * 9 / 10).min(times.len() - 1)];
        out.push_str(&format!(
            "{label:<34} median {median:6.2} ms  p90 {p90:6.2} ms  min {:6.2} ms  peak RSS {:.1} MiB  ({runs} runs)\n",
            times[0],
            peak_kb as f64 / 1024.0
        ));
    }
    Ok(out)
}
