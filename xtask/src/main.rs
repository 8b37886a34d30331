//! Project chores.
//! - `cargo xtask catalog [--check]`: regenerate the operation catalog from
//!   `../shared/ghl-openapi`; `--check` fails when the committed catalog
//!   differs from what the specs give today.
//!   Both API versions (v2 `apps/`, v3 `apps/v3/`), errata applied.
//! - `cargo xtask spec-scan`: every spec example that fails its own schema
//!   and every required request field no example shows (errata candidates).
//! - `cargo xtask bench-cli [--runs N] [--bin PATH]`: one `ghl ... --dry-run`
//!   process (of PATH instead of a fresh release build, to compare builds).
//! - `cargo xtask bench-export [--records N] [--latency-ms MS]`: an export
//!   through the rate-limited sandbox.
//! - `cargo xtask bench-mcp [--runs N]`: `ghl mcp` start to tools/list.
//! - `cargo xtask bench-startup [--runs N] [--bin PATH]`: start-up time and
//!   memory of `--version`, a dry-run and a loopback GET, `ghl mcp` to
//!   tools/list and after 1,000 calls, and the binary size, beside the peer's.
//! - `cargo xtask startup-order [--bin PATH]`: the functions a start runs,
//!   for the linker to lay out together (needs valgrind).

mod bench_cli;
mod bench_export;
mod bench_mcp;
mod bench_startup;
mod catalog_gen;
mod rules;
mod spec_scan;
mod startup_order;

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask catalog [--check] [--specs DIR] | spec-scan [--specs DIR] | bench-cli [--runs N] [--bin PATH] | bench-export [--records N] [--latency-ms MS] | bench-mcp [--runs N] | bench-startup [--runs N] [--bin PATH] | startup-order [--bin PATH]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let num = |name: &str, default: u64| flag(name).and_then(|s| s.parse().ok()).unwrap_or(default);
    let Some(task) = args.first().map(String::as_str) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let specs = flag("--specs")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/ghl-openapi"));
    let catalog_dir = root.join("crates/ghl-catalog");
    let errata = catalog_dir.join("errata.toml");
    let result = match task {
        "catalog" => {
            let v2 = catalog_dir.join("generated/catalog.json");
            let v3 = catalog_dir.join("generated/catalog-v3.json");
            let out = catalog_gen::Outputs {
                v2: &v2,
                v3: &v3,
                errata: &errata,
            };
            catalog_gen::run(&specs, &out, args.iter().any(|a| a == "--check")).map(|m| m + "\n")
        }
        "spec-scan" => catalog_gen::scan(&specs, &errata).map(|m| m + "\n"),
        "bench-cli" => bench_cli::run(
            &root,
            num("--runs", 50) as usize,
            flag("--bin").map(PathBuf::from),
        ),
        "bench-export" => bench_export::run(
            &root,
            num("--records", 10_000) as usize,
            num("--latency-ms", 150),
        ),
        "bench-mcp" => bench_mcp::run(&root, num("--runs", 21) as usize),
        "bench-startup" => bench_startup::run(
            &root,
            num("--runs", 21) as usize,
            flag("--bin").map(PathBuf::from),
        ),
        "startup-order" => startup_order::run(&root, flag("--bin").map(PathBuf::from)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask {task}: {e}");
            ExitCode::FAILURE
        }
    }
}
