//! Shell completion covers the generated commands too.

use std::process::Command;

#[test]
fn completion_scripts_name_the_friendly_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ghl"))
            .args(["completion", shell])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let script = String::from_utf8_lossy(&out.stdout);
        for word in ["contacts", "opportunities", "sandbox", "mcp", "upsert"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_ghl"))
        .args(["completion", "tcsh"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
