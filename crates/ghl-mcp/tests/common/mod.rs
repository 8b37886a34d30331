//! Shared harness: an in-process sandbox, a `ghl_core::Client` for it, and
//! an rmcp client connected to `GhlMcp` over an in-memory duplex.
#![allow(dead_code)]

use std::sync::Arc;

use ghl_core::{Client, Defaults, Policy, Secret, Transport, TransportConfig};
use ghl_mcp::{GhlMcp, ServerOptions};
use ghl_sandbox::{DEFAULT_TOKEN, DEMO_LOCATION_ID, Sandbox, SandboxOptions};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use serde_json::Value;

pub struct Env {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn new() -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let sandbox = ghl_sandbox::start(SandboxOptions::new(dir.path().join("sandbox.db")))
            .await
            .expect("sandbox");
        Env { sandbox, dir }
    }

    pub fn client_with(&self, token: &str) -> Client {
        let t = Transport::new(TransportConfig::new(
            self.sandbox.base_url(),
            Secret::new(token),
        ))
        .expect("transport");
        Client::new(
            Arc::new(t),
            Policy::default(),
            Defaults {
                location_id: Some(DEMO_LOCATION_ID.into()),
                company_id: None,
            },
        )
    }

    pub fn client(&self) -> Client {
        self.client_with(DEFAULT_TOKEN)
    }

    pub fn db(&self) -> std::path::PathBuf {
        self.dir.path().join("sandbox.db")
    }
}

pub type McpClient = RunningService<RoleClient, ()>;

/// Serve `server` on one end of a duplex pipe and connect an rmcp client
/// (initialize included) to the other.
pub async fn connect(server: GhlMcp) -> McpClient {
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(s).await {
            let _ = running.waiting().await;
        }
    });
    ().serve(c).await.expect("initialize")
}

pub async fn mcp(env: &Env, options: ServerOptions) -> McpClient {
    connect(GhlMcp::new(env.client(), options)).await
}

/// Call a tool; returns (isError, parsed JSON of the text content).
pub async fn call(client: &McpClient, name: &str, args: Value) -> (bool, Value) {
    let Value::Object(map) = args else {
        panic!("arguments must be an object")
    };
    let r = client
        .call_tool(CallToolRequestParams::new(name.to_string()).with_arguments(map))
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = r
        .content
        .iter()
        .find_map(|c| c.as_text().map(|t| t.text.clone()))
        .unwrap_or_default();
    let v = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (r.is_error.unwrap_or(false), v)
}

/// Call and require success.
pub async fn ok(client: &McpClient, name: &str, args: Value) -> Value {
    let (err, v) = call(client, name, args).await;
    assert!(!err, "{name} failed: {v}");
    v
}

/// First-call preview, then the confirmed call; returns the final result.
pub async fn confirmed(client: &McpClient, name: &str, args: Value) -> Value {
    let preview = ok(client, name, args.clone()).await;
    assert_eq!(
        preview["status"], "confirmation_required",
        "{name}: {preview}"
    );
    let token = preview["confirm"].as_str().expect("token").to_string();
    let mut args = args;
    args["confirm"] = Value::String(token);
    ok(client, name, args).await
}
