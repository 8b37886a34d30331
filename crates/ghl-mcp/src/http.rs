//! Streamable HTTP transport at `/mcp`: loopback by default, a bearer
//! secret always, and an Origin allow-list against DNS rebinding (a web
//! page in the user's browser must not be able to drive the CRM).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use ghl_core::Error;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use subtle::ConstantTimeEq;

use crate::server::GhlMcp;

/// Who may call the HTTP endpoint.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The bearer secret.
    pub token: String,
    /// Exact origins (`scheme://host[:port]`) allowed besides requests that
    /// send none (non-browser clients).
    pub allowed_origins: Vec<String>,
}

impl Gate {
    fn origin_ok(&self, origin: &str) -> bool {
        let o = origin.trim().trim_end_matches('/');
        self.allowed_origins
            .iter()
            .any(|a| a.trim().trim_end_matches('/').eq_ignore_ascii_case(o))
    }

    fn token_ok(&self, header: Option<&HeaderValue>) -> bool {
        let Some(given) = header.and_then(|h| h.to_str().ok()).and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        }) else {
            return false;
        };
        // Constant time, so the secret cannot be guessed byte by byte from
        // response timings.
        given.trim().as_bytes().ct_eq(self.token.as_bytes()).into()
    }
}

async fn guard(State(gate): State<Arc<Gate>>, req: Request, next: Next) -> Response {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let ok = origin.to_str().map(|o| gate.origin_ok(o)).unwrap_or(false);
        if !ok {
            return (
                StatusCode::FORBIDDEN,
                "origin not allowed: start ghl mcp with --allowed-origin to permit it\n",
            )
                .into_response();
        }
    }
    if !gate.token_ok(req.headers().get(header::AUTHORIZATION)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "missing or wrong bearer token (see --http-token / GHL_MCP_TOKEN)\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// The `/mcp` router, guarded. `allow_remote` drops rmcp's own loopback
/// Host check (the gate still applies).
pub fn router(server: GhlMcp, gate: Gate, allow_remote: bool) -> Router {
    let mut config = StreamableHttpServerConfig::default();
    if allow_remote {
        config = config.disable_allowed_hosts();
    }
    let service: StreamableHttpService<GhlMcp, LocalSessionManager> = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(Arc::new(gate), guard))
}

/// Check the listen address: a non-loopback one needs `allow_remote`.
pub async fn resolve_listen(listen: &str, allow_remote: bool) -> Result<SocketAddr, Error> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(listen)
        .await
        .map_err(|e| Error::config(format!("cannot use --listen {listen}: {e}")))?
        .collect();
    let Some(first) = addrs.first().copied() else {
        return Err(Error::config(format!(
            "--listen {listen} resolves to nothing"
        )));
    };
    if !allow_remote && addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(Error::config(format!(
            "--listen {listen} is not a loopback address"
        ))
        .with_hint("the CRM would be reachable from the network; add --allow-remote if that is intended"));
    }
    Ok(first)
}

/// Serve until ctrl-c.
pub async fn serve(
    server: GhlMcp,
    gate: Gate,
    listen: &str,
    allow_remote: bool,
) -> Result<(), Error> {
    if gate.token.trim().is_empty() {
        return Err(Error::config("the HTTP transport needs a bearer secret")
            .with_hint("pass --http-token SECRET or set GHL_MCP_TOKEN"));
    }
    let addr = resolve_listen(listen, allow_remote).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::config(format!("cannot listen on {addr}: {e}")))?;
    eprintln!("ghl mcp: serving Streamable HTTP at http://{addr}/mcp");
    axum::serve(listener, router(server, gate, allow_remote))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| {
            Error::new(
                ghl_core::ErrorCode::Network,
                format!("HTTP server failed: {e}"),
            )
        })
}
