//! The HTTP side: our own accept loop (so a fault can drop a connection
//! without answering) and the request pipeline every API call goes through:
//! latency → fault → route → token → rate limit → scopes → Version →
//! location → parameters/body → handler.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::auth::{self, TokenCache};
use crate::faults::{self, Fault, Stats};
use crate::ratelimit::Limiter;
use crate::reply::ApiError;
use crate::router::{Found, Router};
use crate::routes;
use crate::store::Db;
use crate::validate::{self, Query};

pub struct State {
    pub db: Arc<Db>,
    pub router: Router,
    pub limiter: Limiter,
    pub stats: Stats,
    pub tokens: TokenCache,
    pub latency: Duration,
    pub fail_rate: f64,
    pub base_url: String,
    pub oauth: crate::oauth::OAuthStats,
    pub oauth_access_ttl: Duration,
    /// Record webhook events (a delivery task is running).
    pub webhooks: bool,
}

type Resp = Response<Full<Bytes>>;

/// The largest request body read; more is refused with 413 as it streams.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: watch::Receiver<bool>,
) {
    let mut stop = shutdown.clone();
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                // Out of file descriptors and the like: back off, keep serving.
                Err(_) => { tokio::time::sleep(Duration::from_millis(50)).await; continue; }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let mut stop_conn = shutdown.clone();
        tokio::spawn(async move {
            // A handler notifies this to have the connection dropped unanswered.
            let kill = Arc::new(Notify::new());
            let k = kill.clone();
            let svc = hyper::service::service_fn(move |req| handle(state.clone(), k.clone(), req));
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
                _ = stop_conn.changed() => {}
            }
        });
    }
}

fn json_response(status: u16, body: &Value, headers: &[(&'static str, String)]) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body.to_string())));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    h.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    for (k, v) in headers {
        if let Ok(v) = hyper::header::HeaderValue::from_str(v) {
            h.insert(*k, v);
        }
    }
    r
}

fn error_response(e: &ApiError, headers: &[(&'static str, String)]) -> Resp {
    json_response(e.status, &e.body(), headers)
}

fn header<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn handle(
    state: Arc<State>,
    kill: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Resp, Infallible> {
    let path = req.uri().path().to_string();
    match path.as_str() {
        "/health" => {
            return Ok(json_response(
                200,
                &json!({"ok": true, "service": "ghl-sandbox"}),
                &[],
            ));
        }
        "/_sandbox/stats" => {
            let mut stats = state.stats.json();
            stats["oauth"] = state.oauth.json();
            return Ok(json_response(200, &stats, &[]));
        }
        "/oauth/chooselocation" | "/v2/oauth/chooselocation" => {
            return Ok(choose_location(&state, req.uri().query()).await);
        }
        "/_sandbox/webhooks" => {
            let db = state.db.clone();
            let summary =
                tokio::task::spawn_blocking(move || db.with(|c| crate::webhooks::summary(c))).await;
            return Ok(match summary {
                Ok(Ok(Ok(v))) => json_response(200, &v, &[]),
                _ => json_response(503, &json!({"ok": false}), &[]),
            });
        }
        _ => {}
    }
    Stats::bump(&state.stats.requests);
    if !state.latency.is_zero() {
        tokio::time::sleep(state.latency).await;
    }
    if let Some(f) = faults::roll(state.fail_rate) {
        Stats::bump(&state.stats.failures_injected);
        match f {
            Fault::ServerError(code) => {
                let e = ApiError::new(code, "Internal server error (injected by the sandbox)");
                return Ok(error_response(&e, &[]));
            }
            Fault::Drop => {
                kill.notify_one();
                std::future::pending::<()>().await;
            }
            Fault::Hang(d) => {
                tokio::time::sleep(d).await;
                kill.notify_one();
                std::future::pending::<()>().await;
            }
        }
    }
    Ok(api(state, req, path).await)
}

async fn api(state: Arc<State>, req: Request<Incoming>, path: String) -> Resp {
    let method = req.method().as_str().to_string();
    let bearer = auth::bearer(header(&req, "authorization")).map(str::to_string);

    // Who is calling decides the rate-limit bucket; unknown callers share one.
    let token = match &bearer {
        Some(t) => resolve_token(&state, t).await,
        None => None,
    };
    let bucket = token
        .as_ref()
        .map(|t| t.location_id.clone())
        .unwrap_or_else(|| "-".into());
    let decision = state.limiter.check(&bucket);
    let rl = decision.headers;

    let matched = match state.router.find(&method, &path, header(&req, "version")) {
        Found::Op(m) => m,
        Found::WrongMethod | Found::None => {
            let e = ApiError::new(404, format!("Cannot {method} {path}"));
            return error_response(&e, &rl);
        }
    };
    if matched.op.name == TOKEN_OPERATION {
        // Apps call the token endpoint with their client credentials, not
        // a bearer token.
        return oauth_token(&state, req).await;
    }
    let Some(token) = token else {
        return error_response(&auth::invalid_token(), &rl);
    };
    if token.expires_at.is_some_and(|at| at <= crate::oauth::now()) {
        return error_response(&ApiError::new(401, "Invalid JWT: token expired"), &rl);
    }
    if !decision.allowed {
        Stats::bump(&state.stats.rate_limited);
        return error_response(&ApiError::new(429, "Too many requests"), &rl);
    }
    let op = matched.op;
    if let Err(e) = auth::check_scopes(op, &token) {
        return error_response(&e, &rl);
    }
    if let Err(e) = validate::version(op, header(&req, "version")) {
        return error_response(&e, &rl);
    }
    let query = Query::parse(req.uri().query());
    let content_type = header(&req, "content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let too_large = || {
        ApiError::new(
            413,
            format!(
                "Request body is larger than {} MB",
                MAX_BODY_BYTES / (1024 * 1024)
            ),
        )
    };
    if header(&req, "content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY_BYTES as u64)
    {
        return error_response(&too_large(), &rl);
    }
    let raw = match http_body_util::Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(c) => c.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return error_response(&too_large(), &rl);
        }
        Err(_) => return error_response(&ApiError::bad("Could not read the request body"), &rl),
    };
    let body = match parse_body(&content_type, &raw) {
        Ok(b) => b,
        Err(e) => return error_response(&e, &rl),
    };
    // A company's token may name the company's location on agency-level
    // operations (minting a location token, for one).
    let acting_for = if token.location_id == crate::DEMO_COMPANY_ID
        && op.security.iter().any(|s| s.scheme.starts_with("Agency"))
    {
        crate::DEMO_LOCATION_ID
    } else {
        token.location_id.as_str()
    };
    // The agency names any of its sub-accounts when it mints a location
    // token (the mint checks the location is the agency's) and on the
    // operations that take an agency token, which then act in that one.
    let agency_mint = crate::routes::agency::is_mint(op)
        && crate::routes::agency::speaks_for_agency(&token.location_id);
    let sub_account = if agency_mint {
        None
    } else {
        agency_sub_account(&state, op, &matched.params, &query, &body, &token).await
    };
    if !agency_mint
        && sub_account.is_none()
        && let Err(e) = validate::location(op, &matched.params, &query, &body, acting_for)
    {
        return error_response(&e, &rl);
    }
    if let Err(e) = validate::page_number(&query, &body)
        .and_then(|_| validate::query(op, &query))
        .and_then(|_| validate::body(op, &body))
    {
        return error_response(&e, &rl);
    }
    let ctx = routes::Ctx {
        op,
        path: matched.params,
        query,
        body,
        location_id: sub_account.unwrap_or_else(|| token.location_id.clone()),
        base_url: state.base_url.clone(),
        raw_path: path,
        webhooks: state.webhooks,
    };
    let db = state.db.clone();
    let out = tokio::task::spawn_blocking(move || db.with(|conn| routes::run(conn, &ctx))).await;
    match out {
        Ok(Ok(Ok((status, v)))) => json_response(status, &v, &rl),
        Ok(Ok(Err(e))) => error_response(&e, &rl),
        Ok(Err(e)) => error_response(&ApiError::from(e), &rl),
        Err(_) => error_response(&ApiError::new(500, "Internal server error"), &rl),
    }
}

const TOKEN_OPERATION: &str = "oauth.get-access-token";

/// Limit on a token request's form (a few short fields).
const MAX_TOKEN_FORM: usize = 16 * 1024;

async fn oauth_token(state: &Arc<State>, req: Request<Incoming>) -> Resp {
    let content_type = header(&req, "content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if !content_type.contains("application/x-www-form-urlencoded") {
        return error_response(
            &ApiError::bad("Send the token request as application/x-www-form-urlencoded"),
            &[],
        );
    }
    let raw = match http_body_util::Limited::new(req.into_body(), MAX_TOKEN_FORM)
        .collect()
        .await
    {
        Ok(c) => c.to_bytes(),
        Err(_) => return error_response(&ApiError::bad("Could not read the request body"), &[]),
    };
    let form = match parse_body(&content_type, &raw) {
        Ok(v) => v,
        Err(e) => return error_response(&e, &[]),
    };
    let st = state.clone();
    let out = tokio::task::spawn_blocking(move || {
        st.db
            .with(|c| crate::oauth::token(c, &form, st.oauth_access_ttl, &st.oauth))
    })
    .await;
    match out {
        Ok(Ok(Ok(v))) => json_response(200, &v, &[]),
        Ok(Ok(Err(e))) => error_response(&e, &[]),
        Ok(Err(e)) => error_response(&ApiError::from(e), &[]),
        Err(_) => error_response(&ApiError::new(500, "Internal server error"), &[]),
    }
}

async fn choose_location(state: &Arc<State>, query: Option<&str>) -> Resp {
    let query: HashMap<String, String> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let db = state.db.clone();
    let out =
        tokio::task::spawn_blocking(move || db.with(|c| crate::oauth::approve(c, &query))).await;
    match out {
        Ok(Ok(crate::oauth::Approval::Redirect(to))) => {
            let mut r = Response::new(Full::new(Bytes::new()));
            *r.status_mut() = StatusCode::FOUND;
            if let Ok(v) = hyper::header::HeaderValue::from_str(&to) {
                r.headers_mut().insert(hyper::header::LOCATION, v);
            }
            r
        }
        Ok(Ok(crate::oauth::Approval::Refused(e))) => error_response(&e, &[]),
        Ok(Err(e)) => error_response(&ApiError::from(e), &[]),
        Err(_) => error_response(&ApiError::new(500, "Internal server error"), &[]),
    }
}

/// The sub-account an agency-level call by the agency's token names, when it
/// is one of the demo agency's.
async fn agency_sub_account(
    state: &Arc<State>,
    op: &'static ghl_catalog::Operation,
    path: &HashMap<String, String>,
    query: &Query,
    body: &Value,
    token: &auth::Token,
) -> Option<String> {
    if !crate::routes::agency::speaks_for_agency(&token.location_id)
        || !op.security.iter().any(|s| s.scheme.starts_with("Agency"))
    {
        return None;
    }
    let [named] = validate::named_locations(op, path, query, body)
        .try_into()
        .ok()?;
    if named == token.location_id {
        return None;
    }
    let db = state.db.clone();
    let id = named.clone();
    let known = tokio::task::spawn_blocking(move || {
        db.with(|c| crate::routes::agency::is_company_location(c, &id))
    })
    .await
    .ok()?
    .ok()?;
    known.then_some(named)
}

async fn resolve_token(state: &Arc<State>, token: &str) -> Option<Arc<auth::Token>> {
    if let Some(t) = state.tokens.cached(token) {
        return Some(t);
    }
    let db = state.db.clone();
    let key = token.to_string();
    let found = tokio::task::spawn_blocking(move || db.with(|c| auth::lookup(c, &key)))
        .await
        .ok()?
        .ok()?
        .ok()??;
    let t = Arc::new(found);
    state.tokens.remember(token, t.clone());
    Some(t)
}

fn parse_body(content_type: &str, raw: &[u8]) -> Result<Value, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    if content_type.contains("multipart/") {
        // Uploads: the sandbox does not keep files; the handler sees no fields.
        return Ok(Value::Object(Default::default()));
    }
    if content_type.contains("application/x-www-form-urlencoded") {
        let map: HashMap<String, String> = form_urlencoded::parse(raw)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        return Ok(json!(map));
    }
    serde_json::from_slice(raw)
        .map_err(|e| ApiError::bad(format!("Request body is not valid JSON: {e}")))
}
