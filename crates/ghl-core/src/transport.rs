//! Sends prepared requests: auth, the per-location rate limiter, timeouts
//! and the retry rules. The only place that speaks HTTP.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};
use crate::ratelimit::{RateConfig, RateInfo, RateLimiter};
use crate::request::{Prepared, RequestBody};
use crate::retry::{Failure, RetryConfig, parse_retry_after};
use crate::secret::Secret;

pub const DEFAULT_BASE_URL: &str = "https://services.leadconnectorhq.com";

/// Receives one line per request and response when `-v` is on. Lines never
/// carry the token.
pub type Logger = Arc<dyn Fn(&str) + Send + Sync>;

#[derive(Clone)]
pub struct TransportConfig {
    pub base_url: String,
    pub token: Secret,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub rate: RateConfig,
    pub retry: RetryConfig,
    pub logger: Option<Logger>,
}

impl TransportConfig {
    pub fn new(base_url: impl Into<String>, token: Secret) -> Self {
        TransportConfig {
            base_url: base_url.into(),
            token,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            rate: RateConfig::default(),
            retry: RetryConfig::default(),
            logger: None,
        }
    }
}

/// A successful (2xx) answer.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    pub rate: Option<RateInfo>,
    /// Attempts it took, the successful one included.
    pub attempts: u32,
    /// Response headers (names lower-case), for checkers and diagnostics.
    pub headers: Vec<(String, String)>,
}

pub struct Transport {
    http: reqwest::Client,
    config: TransportConfig,
    limiter: RateLimiter,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("base_url", &self.config.base_url)
            .field("token", &self.config.token)
            .finish()
    }
}

impl Transport {
    pub fn new(config: TransportConfig) -> Result<Self> {
        if config.token.is_empty() {
            return Err(Error::config("no HighLevel token is configured")
                .with_hint("run `ghl setup`, set HIGHLEVEL_TOKEN, or try `--sandbox`"));
        }
        url::Url::parse(&config.base_url).map_err(|e| {
            Error::config(format!("base URL {:?} is not a URL: {e}", config.base_url))
        })?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("ghl/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| {
                Error::new(ErrorCode::Network, format!("cannot start HTTP client: {e}"))
            })?;
        Ok(Transport {
            http,
            limiter: RateLimiter::new(config.rate),
            config,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    fn log(&self, line: &str) {
        if let Some(l) = &self.config.logger {
            l(&self.config.token.scrub(line));
        }
    }

    /// Send with rate limiting and the retry rules.
    pub async fn send(&self, req: &Prepared) -> Result<Response> {
        self.send_as(req, &self.config.token).await
    }

    /// Send with another bearer token (a location token minted from an
    /// agency token); everything else as [`Transport::send`].
    pub async fn send_as(&self, req: &Prepared, token: &Secret) -> Result<Response> {
        let key = req.location.clone().unwrap_or_else(|| "-".to_string());
        let url = req.url(&self.config.base_url)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let slot = self.limiter.claim(&key).await?;
            let started = Instant::now();
            self.log(&format!(
                "> {} {} (attempt {attempt})",
                req.method.as_str(),
                url
            ));
            let outcome = self.attempt(req, url.clone(), token).await;
            self.limiter.settle(&key, slot);
            let elapsed = started.elapsed().as_millis();
            let failure = match outcome {
                Ok((status, headers, body)) => {
                    let rate = RateInfo::from_headers(&headers);
                    if let Some(info) = &rate {
                        self.limiter.observe_sent(&key, info, started);
                    }
                    self.log(&format!(
                        "< {status} in {elapsed} ms{}",
                        rate.and_then(|r| r.remaining)
                            .map(|r| format!(", {r} left in window"))
                            .unwrap_or_default()
                    ));
                    if (200..300).contains(&status) {
                        let headers = headers
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().to_string(),
                                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                )
                            })
                            .collect();
                        return Ok(Response {
                            status,
                            body,
                            rate,
                            attempts: attempt,
                            headers,
                        });
                    }
                    let mut err = self.http_error(req, status, &body, token);
                    if let Some(v) = headers.get("sl-violations").and_then(|v| v.to_str().ok()) {
                        // Prism (the spec-validating mock) explains refusals here.
                        let violations =
                            serde_json::from_str(v).unwrap_or(Value::String(v.to_string()));
                        err.details = Some(serde_json::json!({
                            "body": err.details.take(),
                            "sl-violations": violations,
                        }));
                    }
                    let failure = match status {
                        429 => {
                            let after = headers
                                .get(reqwest::header::RETRY_AFTER)
                                .and_then(|v| v.to_str().ok())
                                .and_then(parse_retry_after);
                            self.limiter.block(&key, after);
                            Failure::RateLimited(after)
                        }
                        500..=599 => Failure::Server,
                        _ => return Err(err),
                    };
                    (failure, err)
                }
                Err((failure, err)) => {
                    self.log(&format!("< {} after {elapsed} ms", err.message));
                    (failure, err)
                }
            };
            let (failure, err) = failure;
            match self.config.retry.decide(req.op, failure, attempt) {
                Some(delay) => {
                    self.log(&format!("  retrying in {} ms", delay.as_millis()));
                    tokio::time::sleep(delay).await;
                }
                None => {
                    let mut err = err;
                    if attempt > 1 {
                        err.message = format!("{} (after {attempt} attempts)", err.message);
                    } else if matches!(failure, Failure::Server | Failure::MaybeDelivered)
                        && !req.op.idempotent
                    {
                        err.hint = Some(format!(
                            "{} was not retried because it may already have been applied; check before sending it again",
                            req.op.name
                        ));
                    }
                    return Err(err);
                }
            }
        }
    }

    async fn attempt(
        &self,
        req: &Prepared,
        url: url::Url,
        token: &Secret,
    ) -> std::result::Result<(u16, reqwest::header::HeaderMap, Value), (Failure, Error)> {
        let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::GET);
        let mut rb = self.http.request(method, url).bearer_auth(token.expose());
        for (k, v) in &req.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb = match &req.body {
            None => rb,
            Some(RequestBody::Json(v)) => rb.json(v),
            Some(RequestBody::Form(f)) => rb.form(f),
            Some(RequestBody::Multipart { fields, files }) => {
                let mut form = reqwest::multipart::Form::new();
                for (k, v) in fields {
                    form = form.text(k.clone(), v.clone());
                }
                for (k, path) in files {
                    let bytes = tokio::fs::read(path).await.map_err(|e| {
                        (
                            Failure::ConnectFailed,
                            Error::validation(format!("cannot read {}: {e}", path.display())),
                        )
                    })?;
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().to_string())
                        .unwrap_or_else(|| "file".into());
                    // Every file part names its type: upload endpoints sort
                    // files by it, and some multipart parsers fail without it.
                    let part = reqwest::multipart::Part::bytes(bytes)
                        .file_name(name)
                        .mime_str(file_mime(path))
                        .map_err(|e| {
                            (
                                Failure::ConnectFailed,
                                Error::validation(format!("bad file type: {e}")),
                            )
                        })?;
                    form = form.part(k.clone(), part);
                }
                rb.multipart(form)
            }
        };
        let resp = rb.send().await.map_err(|e| self.network_error(e, token))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| self.network_error(e, token))?;
        let body = decode_body(&content_type, &bytes);
        Ok((status, headers, body))
    }

    fn network_error(&self, e: reqwest::Error, token: &Secret) -> (Failure, Error) {
        let text = token.scrub(&self.config.token.scrub(&e.to_string()));
        if e.is_connect() {
            (
                Failure::ConnectFailed,
                Error::new(
                    ErrorCode::Network,
                    format!("cannot connect to {}: {text}", self.config.base_url),
                )
                .with_hint("check your network, or --base-url / GHL_BASE_URL"),
            )
        } else if e.is_timeout() {
            (
                Failure::MaybeDelivered,
                Error::new(ErrorCode::Timeout, format!("request timed out: {text}")),
            )
        } else {
            (
                Failure::MaybeDelivered,
                Error::new(ErrorCode::Network, format!("connection failed: {text}")),
            )
        }
    }

    fn http_error(&self, req: &Prepared, status: u16, body: &Value, token: &Secret) -> Error {
        let scrub = |t: &str| token.scrub(&self.config.token.scrub(t));
        let server_msg = server_message(body);
        let op = req.op;
        let scrubbed = scrub(&server_msg);
        let mut err = match status {
            401 if scrubbed
                .to_ascii_lowercase()
                .contains("not authorized for this scope") =>
            {
                let mut e = Error::new(
                    ErrorCode::MissingScope,
                    format!(
                        "the token lacks a scope {} needs ({})",
                        op.name,
                        if op.scopes.is_empty() { "unnamed in the spec".to_string() } else { op.scopes.join(" or ") }
                    ),
                )
                .with_hint("add the scope to your Private Integration (Settings > Private Integrations > edit > Scopes), then `ghl auth rotate` if the token changed");
                e.scopes = op.scopes.clone();
                e
            }
            401 => Error::new(
                ErrorCode::InvalidToken,
                format!("the token was refused: {scrubbed}"),
            )
            .with_hint("the token is invalid or expired: run `ghl setup` or `ghl auth rotate`"),
            403 => Error::new(
                ErrorCode::LocationForbidden,
                format!("access denied: {scrubbed}"),
            )
            .with_hint(
                "the token does not cover this location: check --location or HIGHLEVEL_LOCATION_ID",
            ),
            // HighLevel answers some lookups of a missing id with 400
            // "Contact not found"; it is still a not-found to the caller.
            400 if scrubbed.to_ascii_lowercase().contains("not found") => {
                Error::new(ErrorCode::NotFound, format!("not found: {scrubbed}"))
                    .with_hint("check the id; search first if you only know a name or email")
            }
            404 => Error::new(ErrorCode::NotFound, format!("not found: {scrubbed}"))
                .with_hint("check the id; `ghl api describe` shows what each parameter is"),
            409 => Error::new(ErrorCode::Conflict, format!("conflict: {scrubbed}")),
            429 => Error::new(ErrorCode::RateLimited, format!("rate limited: {scrubbed}"))
                .with_hint("HighLevel allows 100 requests per 10 s per location; wait and retry"),
            400 | 422 => Error::new(
                ErrorCode::BadRequest,
                format!("the API refused the request: {scrubbed}"),
            )
            .with_hint(format!(
                "`ghl api describe {}` lists the parameters",
                op.name
            )),
            500..=599 => Error::new(
                ErrorCode::Server,
                format!("HighLevel server error {status}: {scrubbed}"),
            ),
            _ => Error::new(
                ErrorCode::BadRequest,
                format!("unexpected status {status}: {scrubbed}"),
            ),
        };
        err.status = Some(status);
        err.operation = Some(op.name.clone());
        if !body.is_null() {
            err.details = serde_json::from_str(&scrub(&body.to_string())).ok();
        }
        err
    }
}

/// The media type of an upload, from its extension.
fn file_mime(path: &std::path::Path) -> &'static str {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" => "text/plain",
        "csv" => "text/csv",
        "json" => "application/json",
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        "zip" => "application/zip",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// JSON when it parses; text as a string; anything else (recordings,
/// exports: the spec calls them JSON but they are files) as base64 with its
/// type and size, so no byte is lost to a lossy text conversion.
fn decode_body(content_type: &str, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    if let Ok(v) = serde_json::from_slice(bytes) {
        return v;
    }
    let textual = content_type.is_empty()
        || content_type.starts_with("text/")
        || content_type.contains("json")
        || content_type.contains("xml")
        || content_type.contains("csv");
    match std::str::from_utf8(bytes) {
        Ok(text) if textual => Value::String(text.to_string()),
        _ => {
            use base64::Engine;
            serde_json::json!({
                "contentType": content_type,
                "bytes": bytes.len(),
                "base64": base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        }
    }
}

/// HighLevel's `message` is a string, or an array of strings on 422.
fn server_message(body: &Value) -> String {
    match body.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|m| {
                m.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| m.to_string())
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => match body {
            Value::String(s) if !s.is_empty() => s.chars().take(300).collect(),
            Value::Null => "(no body)".to_string(),
            other => other.to_string().chars().take(300).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::decode_body;
    use serde_json::json;

    #[test]
    fn bodies_keep_every_byte() {
        assert_eq!(
            decode_body("application/json", br#"{"a":1}"#),
            json!({"a": 1})
        );
        assert_eq!(decode_body("text/plain", b"hello"), json!("hello"));
        let audio = [0u8, 159, 146, 150, 255];
        let v = decode_body("audio/mpeg", &audio);
        assert_eq!(v["bytes"], 5);
        assert_eq!(v["base64"], "AJ+Slv8=");
        assert_eq!(decode_body("", b""), serde_json::Value::Null);
    }
}
