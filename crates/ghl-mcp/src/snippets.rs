//! Configuration snippets that register `ghl mcp` with assistants.

use ghl_core::Error;
use serde_json::json;

fn args(sandbox: bool) -> Vec<&'static str> {
    if sandbox {
        vec!["--sandbox", "mcp"]
    } else {
        vec!["mcp"]
    }
}

/// The snippet for `client_kind`: claude-desktop, claude-code, cursor or
/// vscode.
pub fn config_snippet(client_kind: &str, sandbox: bool) -> Result<String, Error> {
    let name = if sandbox { "ghl-sandbox" } else { "ghl" };
    let server = json!({"command": "ghl", "args": args(sandbox)});
    let pretty = |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default();
    Ok(match client_kind {
        // claude_desktop_config.json
        "claude-desktop" => pretty(json!({"mcpServers": {name: server}})),
        "claude-code" => format!("claude mcp add {name} -- ghl {}", args(sandbox).join(" ")),
        // .cursor/mcp.json
        "cursor" => pretty(json!({"mcpServers": {name: server}})),
        // .vscode/mcp.json
        "vscode" => pretty(json!({"servers": {name: {
            "type": "stdio", "command": "ghl", "args": args(sandbox)
        }}})),
        other => {
            return Err(Error::validation(format!("no config snippet for {other}"))
                .with_hint("choose claude-desktop, claude-code, cursor or vscode"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets() {
        let d: serde_json::Value =
            serde_json::from_str(&config_snippet("claude-desktop", false).unwrap()).unwrap();
        assert_eq!(d["mcpServers"]["ghl"]["args"], json!(["mcp"]));
        assert_eq!(
            config_snippet("claude-code", true).unwrap(),
            "claude mcp add ghl-sandbox -- ghl --sandbox mcp"
        );
        let v: serde_json::Value =
            serde_json::from_str(&config_snippet("vscode", false).unwrap()).unwrap();
        assert_eq!(v["servers"]["ghl"]["command"], "ghl");
        assert!(config_snippet("emacs", false).is_err());
    }
}
