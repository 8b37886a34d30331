//! Streamable HTTP on loopback: the rmcp client works with the secret; no
//! secret is 401; a foreign Origin is 403; a non-loopback listen is refused.

mod common;

use common::{Env, ok};
use ghl_mcp::http::{Gate, resolve_listen, router};
use ghl_mcp::{GhlMcp, ServerOptions};
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;

const SECRET: &str = "test-secret-123";

async fn serve(env: &Env) -> String {
    let server = GhlMcp::new(env.client(), ServerOptions::default());
    let gate = Gate {
        token: SECRET.into(),
        allowed_origins: vec!["http://localhost:6274".into()],
    };
    let app = router(server, gate, false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/mcp")
}

fn init_body() -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}})
}

#[tokio::test]
async fn rmcp_client_over_http_with_secret() {
    let env = Env::new().await;
    let url = serve(&env).await;
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url).auth_header(SECRET),
    );
    let client = ().serve(transport).await.expect("initialize over HTTP");
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.len() >= 30);
    let found = ok(
        &client,
        "search_contacts",
        json!({"query": "Jane", "limit": 1}),
    )
    .await;
    assert_eq!(found["count"], 1, "{found}");
    client.cancel().await.ok();
}

#[tokio::test]
async fn http_refuses_missing_secret_and_foreign_origin() {
    let env = Env::new().await;
    let url = serve(&env).await;
    let http = reqwest::Client::new();
    let post = |auth: Option<&str>, origin: Option<&str>| {
        let mut r = http
            .post(&url)
            .header("Accept", "application/json, text/event-stream")
            .json(&init_body());
        if let Some(a) = auth {
            r = r.header("Authorization", format!("Bearer {a}"));
        }
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        r.send()
    };
    assert_eq!(post(None, None).await.unwrap().status(), 401);
    assert_eq!(post(Some("wrong"), None).await.unwrap().status(), 401);
    assert_eq!(
        post(Some(SECRET), Some("http://evil.example"))
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        post(None, Some("http://evil.example"))
            .await
            .unwrap()
            .status(),
        403
    );
    let okay = post(Some(SECRET), Some("http://localhost:6274"))
        .await
        .unwrap();
    assert!(okay.status().is_success(), "{}", okay.status());
    let okay = post(Some(SECRET), None).await.unwrap();
    assert!(okay.status().is_success(), "{}", okay.status());
}

#[tokio::test]
async fn non_loopback_listen_needs_allow_remote() {
    assert!(resolve_listen("127.0.0.1:0", false).await.is_ok());
    let e = resolve_listen("0.0.0.0:0", false).await.unwrap_err();
    assert!(e.hint.as_deref().unwrap_or("").contains("--allow-remote"));
    assert!(resolve_listen("0.0.0.0:0", true).await.is_ok());
}

#[tokio::test]
async fn run_refuses_http_without_a_secret() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        mcp: ghl_mcp::McpArgs,
    }
    let cli = Cli::parse_from(["ghl", "--transport", "http", "--listen", "127.0.0.1:0"]);
    let env = Env::new().await;
    if std::env::var_os("GHL_MCP_TOKEN").is_none() {
        let e = ghl_mcp::run(cli.mcp, env.client(), false)
            .await
            .unwrap_err();
        assert!(e.message.contains("bearer secret"), "{e}");
    }
}
