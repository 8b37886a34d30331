//! Two link-time choices for the `ghl` binary, each taken only when a probe
//! shows the toolchain supports it (an unsupported flag would break the
//! build, or worse, the binary):
//!
//! - Pack the relative relocations (`-z pack-relative-relocs`, DT_RELR):
//!   the dynamic loader then reads a few kilobytes instead of 700 KB of
//!   relocation entries at every start. Checked by linking and running a C
//!   probe, since an older linker ignores the flag with a warning and an
//!   older glibc cannot load the result.
//! - In release builds, lay out first the functions a start runs
//!   (`generated/startup.order`, written by `cargo xtask startup-order`):
//!   the kernel maps code in 64 KB blocks around each page a process
//!   touches, so start-up code scattered over 12 MB costs several
//!   megabytes of resident memory, packed together about one. Needs LLD
//!   (rustc's default linker on x86_64 Linux since 1.90); checked by
//!   linking a Rust probe with the same compiler, linker and flags.

use std::path::{Path, PathBuf};
use std::process::Command;

const RELR: &str = "-Wl,-z,pack-relative-relocs";
const ORDER_FILE: &str = "generated/startup.order";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed={ORDER_FILE}");
    let target = std::env::var("TARGET").unwrap_or_default();
    let host = std::env::var("HOST").unwrap_or_default();
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return;
    };
    if target.ends_with("linux-gnu") && target == host && relr_probe(&out) {
        println!("cargo:rustc-link-arg-bins={RELR}");
    }
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let order = Path::new(env!("CARGO_MANIFEST_DIR")).join(ORDER_FILE);
    if release && order.is_file() {
        let flags = order_flags(&order);
        if lld_probe(&out, &target, &flags) {
            for f in flags {
                println!("cargo:rustc-link-arg-bins={f}");
            }
        }
    }
}

fn order_flags(order: &Path) -> [String; 2] {
    [
        format!("-Wl,--symbol-ordering-file={}", order.display()),
        // The file names functions of one build; those a later build no
        // longer has are skipped, not errors.
        "-Wl,--no-warn-symbol-ordering".to_string(),
    ]
}

fn relr_probe(out: &Path) -> bool {
    let src = out.join("relr_probe.c");
    let bin = out.join("relr_probe");
    // A pointer in writable data needs a relative relocation.
    let code = "static const char *s = \"x\"; const char **p = &s; int main(void) { return **p == 'x' ? 0 : 1; }\n";
    if std::fs::write(&src, code).is_err() {
        return false;
    }
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let linked = Command::new(cc)
        .args(["-pie", "-fPIE", RELR, "-o"])
        .arg(&bin)
        .arg(&src)
        .output();
    match linked {
        Ok(o) if o.status.success() && o.stderr.is_empty() => {
            Command::new(&bin).status().is_ok_and(|s| s.success())
        }
        _ => false,
    }
}

/// Whether rustc, as cargo will run it for the binary, links with the
/// ordering flags (only LLD knows them; GNU ld stops with an error).
fn lld_probe(out: &Path, target: &str, flags: &[String]) -> bool {
    let src = out.join("order_probe.rs");
    let bin = out.join("order_probe");
    if std::fs::write(&src, "fn main() {}\n").is_err() {
        return false;
    }
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = Command::new(rustc);
    cmd.arg("--target")
        .arg(target)
        .arg("-o")
        .arg(&bin)
        .arg(&src);
    if let Ok(linker) = std::env::var("RUSTC_LINKER") {
        cmd.arg("-C").arg(format!("linker={linker}"));
    }
    if let Ok(encoded) = std::env::var("CARGO_ENCODED_RUSTFLAGS") {
        cmd.args(encoded.split('\x1f').filter(|f| !f.is_empty()));
    }
    for f in flags {
        cmd.arg("-C").arg(format!("link-arg={f}"));
    }
    cmd.output().is_ok_and(|o| o.status.success())
}
