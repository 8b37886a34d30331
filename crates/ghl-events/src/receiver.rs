//! The HTTP side: one POST path that verifies, dedupes and spools, plus
//! `/healthz`. Every refusal is decided on the raw request before anything
//! is stored; an event is answered 200 only once it is on disk.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State as AxState;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::commit::{Committer, Outcome};
use crate::counters::Counters;
use crate::deliver::{self, DeliveryOptions};
use crate::event::{NewEvent, State};
use crate::sink::Sink;
use crate::spool::Spool;
use crate::verify::{LEGACY_RSA_HEADER, Refusal, SECRET_HEADER, SIGNATURE_HEADER, Verifier};

/// Which events are delivered; the rest are stored as `skipped`.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub types: Vec<String>,
    pub locations: Vec<String>,
}

impl EventFilter {
    pub fn admits(&self, ev: &NewEvent) -> bool {
        (self.types.is_empty()
            || self
                .types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&ev.event_type)))
            && (self.locations.is_empty()
                || ev
                    .location_id
                    .as_ref()
                    .is_some_and(|l| self.locations.contains(l)))
    }
}

pub struct ReceiverOptions {
    pub listen: SocketAddr,
    pub path: String,
    pub verifier: Verifier,
    /// Largest body accepted, in bytes.
    pub max_body: usize,
    pub filter: EventFilter,
    pub sinks: Vec<Sink>,
    pub delivery: DeliveryOptions,
}

pub const DEFAULT_MAX_BODY: usize = 256 * 1024;

struct Shared {
    path: String,
    verifier: Verifier,
    max_body: usize,
    filter: EventFilter,
    committer: Committer,
    counters: Arc<Counters>,
    /// Whether a refusal's hint was already printed.
    hinted: std::sync::atomic::AtomicBool,
}

/// A running receiver.
pub struct Receiver {
    addr: SocketAddr,
    counters: Arc<Counters>,
    stop: watch::Sender<bool>,
    http: JoinHandle<()>,
    commit: JoinHandle<()>,
    delivery: JoinHandle<()>,
}

impl Receiver {
    pub async fn start(opts: ReceiverOptions, spool: Spool) -> std::io::Result<Receiver> {
        let listener = tokio::net::TcpListener::bind(opts.listen).await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let wake = Arc::new(Notify::new());
        let (committer, commit) = Committer::start(spool.clone(), wake.clone());
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            path: opts.path,
            verifier: opts.verifier,
            max_body: opts.max_body,
            filter: opts.filter,
            committer,
            counters: counters.clone(),
            hinted: Default::default(),
        });
        let app = Router::new()
            .route("/healthz", get(health))
            .fallback(receive)
            .with_state(shared);
        let mut http_stop = stop_rx.clone();
        let http = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = http_stop.wait_for(|s| *s).await;
                })
                .await;
        });
        let delivery = tokio::spawn(deliver::run(
            spool,
            Arc::new(opts.sinks),
            opts.delivery,
            wake,
            stop_rx,
            counters.clone(),
        ));
        Ok(Receiver {
            addr,
            counters,
            stop,
            http,
            commit,
            delivery,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Stop accepting, answer what is in flight (stored first), finish the
    /// delivery under way, give back unfinished claims.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.http.await;
        // The HTTP side held the only committer handles: the writer drains
        // what is queued and ends.
        let _ = self.commit.await;
        let _ = tokio::time::timeout(Duration::from_secs(60), self.delivery).await;
    }
}

async fn health(AxState(s): AxState<Arc<Shared>>) -> Response {
    let mut body = s.counters.json();
    body["ok"] = json!(true);
    (StatusCode::OK, axum::Json(body)).into_response()
}

fn answer(status: u16, body: serde_json::Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::TOO_MANY_REQUESTS);
    (code, axum::Json(body)).into_response()
}

fn refuse(s: &Shared, r: Refusal) -> Response {
    s.counters.refuse(r);
    match r.hint() {
        Some(hint) => {
            // Said once to the person running the receiver too: HighLevel
            // does not read the answer.
            if !s.hinted.swap(true, std::sync::atomic::Ordering::Relaxed) {
                eprintln!("ghl webhooks: refused a post {hint}");
            }
            answer(
                r.status(),
                json!({"ok": false, "refused": r.name(), "hint": hint}),
            )
        }
        None => answer(r.status(), json!({"ok": false, "refused": r.name()})),
    }
}

async fn receive(AxState(s): AxState<Arc<Shared>>, req: axum::extract::Request) -> Response {
    // The request taken apart, not its headers copied out by extractors.
    let (parts, body) = req.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    if uri.path() != s.path {
        return refuse(&s, Refusal::Path);
    }
    Counters::bump(&s.counters.received);
    if method != Method::POST {
        return refuse(&s, Refusal::Method);
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return refuse(&s, Refusal::ContentType);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > s.max_body) {
        return refuse(&s, Refusal::TooLarge);
    }
    let Ok(raw) = axum::body::to_bytes(body, s.max_body).await else {
        return refuse(&s, Refusal::TooLarge);
    };
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let secret = text(SECRET_HEADER)
        .or_else(|| text(header::AUTHORIZATION.as_str()).and_then(|a| a.strip_prefix("Bearer ")));
    let proof = match s.verifier.authenticate_with(
        text(SIGNATURE_HEADER),
        text(LEGACY_RSA_HEADER),
        secret,
        &raw,
    ) {
        Ok(p) => p,
        Err(r) => return refuse(&s, r),
    };
    let event = match NewEvent::from_body(&raw, proof) {
        Ok(e) => e,
        Err(r) => return refuse(&s, r),
    };
    if let Err(r) = s.verifier.fresh(event.timestamp_ms, proof) {
        return refuse(&s, r);
    }
    let state = if s.filter.admits(&event) {
        State::Pending
    } else {
        State::Skipped
    };
    match s.committer.submit(event, state).await {
        Outcome::Stored => {
            Counters::bump(if state == State::Skipped {
                &s.counters.skipped
            } else {
                &s.counters.stored
            });
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"ok":true}"#,
            )
                .into_response()
        }
        Outcome::Duplicate => refuse(&s, Refusal::Replay),
        Outcome::Busy => {
            Counters::bump(&s.counters.busy);
            let mut r = answer(429, json!({"ok": false, "retry": true}));
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
            r
        }
    }
}
