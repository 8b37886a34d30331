//! Project chores. `cargo xtask catalog` regenerates the operation catalog from
//! `../shared/ghl-openapi`; `cargo xtask catalog --check` fails when the
//! committed catalog differs from what the specs give today.

mod bench_cli;
mod bench_export;
mod catalog_gen;
mod rules;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("catalog") => {
            let check = args.iter().any(|a| a == "--check");
            let specs = args
                .iter()
                .position(|a| a == "--specs")
                .and_then(|i| args.get(i + 1))
                .map(PathBuf::from)
                .unwrap_or_else(|| root.join("../shared/ghl-openapi"));
            let out = root.join("crates/ghl-catalog/generated/catalog.json");
            match catalog_gen::run(&specs, &out, check) {
                Ok(msg) => {
                    println!("{msg}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask catalog: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("bench-cli") => {
            let runs = args
                .iter()
                .position(|a| a == "--runs")
                .and_then(|i| args.get(i + 1))
                .and_then(|s| s.parse().ok())
                .unwrap_or(50);
            match bench_cli::run(&root, runs) {
                Ok(report) => {
                    print!("{report}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask bench-cli: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("bench-export") => {
            let num = |flag: &str, default: u64| {
                args.iter()
                    .position(|a| a == flag)
                    .and_then(|i| args.get(i + 1))
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(default)
            };
            let records = num("--records", 10_000) as usize;
            match bench_export::run(&root, records, num("--latency-ms", 150)) {
                Ok(report) => {
                    print!("{report}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask bench-export: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!(
                "usage: cargo xtask catalog [--check] [--specs DIR] | bench-cli [--runs N] | bench-export [--records N] [--latency-ms MS]"
            );
            ExitCode::from(2)
        }
    }
}
