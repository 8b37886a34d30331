//! Streamable HTTP transport at `/mcp`: loopback by default, a bearer
//! secret always, and an Origin allow-list against DNS rebinding (a web
//! page in the user's browser must not be able to drive the CRM). It is a
//! network service, so it is bounded: a client gets a few seconds to send
//! its headers, connections and sessions are capped, and a request without
//! the secret is refused (and its connection closed) before anything else.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use ghl_core::Error;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use subtle::ConstantTimeEq;
use tokio::io::AsyncWriteExt;

use crate::server::GhlMcp;
use crate::sessions::CappedSessions;

/// The shortest bearer secret accepted: 16 bytes.
pub const MIN_SECRET_BYTES: usize = 16;

/// How much the HTTP server holds for its clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A client must send a request's headers within this.
    pub header_read_timeout: Duration,
    /// Open connections at once; more are answered 503 and closed.
    pub max_connections: usize,
    /// MCP sessions at once; a new one evicts the least recently used.
    pub max_sessions: usize,
    /// A session without a request for this long is forgotten.
    pub session_idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 128,
            max_sessions: 64,
            session_idle: Duration::from_secs(600),
        }
    }
}

/// Refuse a bearer secret that could be guessed.
pub fn check_secret(token: &str) -> Result<(), Error> {
    if token.trim().is_empty() {
        return Err(Error::config("the HTTP transport needs a bearer secret")
            .with_hint("set GHL_MCP_TOKEN to a long random secret, e.g. GHL_MCP_TOKEN=$(openssl rand -hex 32)"));
    }
    if token.trim().len() < MIN_SECRET_BYTES {
        return Err(Error::config(format!(
            "the bearer secret is {} bytes; at least {MIN_SECRET_BYTES} are needed",
            token.trim().len()
        ))
        .with_hint(
            "set GHL_MCP_TOKEN to a long random secret, e.g. GHL_MCP_TOKEN=$(openssl rand -hex 32)",
        ));
    }
    Ok(())
}

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
                [(header::CONNECTION, "close")],
                "origin not allowed: start ghl mcp with --allowed-origin to permit it\n",
            )
                .into_response();
        }
    }
    if !gate.token_ok(req.headers().get(header::AUTHORIZATION)) {
        return (
            StatusCode::UNAUTHORIZED,
            // Closing stops a client without the secret from keeping the
            // connection (and its descriptor) for later requests.
            [
                (header::WWW_AUTHENTICATE, "Bearer"),
                (header::CONNECTION, "close"),
            ],
            "missing or wrong bearer token (see --http-token / GHL_MCP_TOKEN)\n",
        )
            .into_response();
    }
    next.run(req).await
}

/// The `/mcp` router, guarded, with the default [`Limits`]. `allow_remote`
/// drops rmcp's own loopback Host check (the gate still applies).
pub fn router(server: GhlMcp, gate: Gate, allow_remote: bool) -> Router {
    router_with(server, gate, allow_remote, Limits::default())
}

/// As [`router`], with explicit limits on sessions.
pub fn router_with(server: GhlMcp, gate: Gate, allow_remote: bool, limits: Limits) -> Router {
    let mut config = StreamableHttpServerConfig::default();
    if allow_remote {
        config = config.disable_allowed_hosts();
    }
    let service: StreamableHttpService<GhlMcp, CappedSessions> = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(CappedSessions::new(
            limits.max_sessions,
            limits.session_idle,
        )),
        config,
    );
    Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(Arc::new(gate), guard))
}

/// Serve `app` on `listener` until `shutdown` completes: each connection
/// must send its headers within the limit, and past the connection cap a
/// client is told 503 and closed instead of holding a descriptor.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                // Out of descriptors and the like: back off, keep serving.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            _ = &mut shutdown => return,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut stream = stream;
                // Answer, then drain what the client is still sending for a
                // moment, so closing does not reset the connection before
                // the client reads the 503.
                let _ = tokio::time::timeout(Duration::from_secs(1), async {
                    stream
                        .write_all(
                            b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
                        )
                        .await?;
                    stream.shutdown().await?;
                    let mut sink = [0u8; 4096];
                    while stream.read(&mut sink).await? > 0 {}
                    Ok::<_, std::io::Error>(())
                })
                .await;
            });
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let _slot = slot;
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let _ = conn.await;
        });
    }
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
    check_secret(&gate.token)?;
    let addr = resolve_listen(listen, allow_remote).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Error::config(format!("cannot listen on {addr}: {e}")))?;
    eprintln!("ghl mcp: serving Streamable HTTP at http://{addr}/mcp");
    let limits = Limits::default();
    serve_on(
        listener,
        router_with(server, gate, allow_remote, limits),
        limits,
        async {
            let _ = tokio::signal::ctrl_c().await;
        },
    )
    .await;
    Ok(())
}
