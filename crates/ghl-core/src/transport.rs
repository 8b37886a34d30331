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

/// The default cap on one response body (`--max-response-mb`).
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// Waits longer than this are announced (stderr in the CLI, the result in
/// MCP), so a long rate-limit pause is never silent.
pub const ANNOUNCE_WAIT: Duration = Duration::from_secs(3);

/// The longest `Retry-After` waited for; a longer one fails at once.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Error details (the server's body) are cut to this many bytes.
pub const MAX_ERROR_DETAIL: usize = 2048;

#[derive(Clone)]
pub struct TransportConfig {
    pub base_url: String,
    pub token: Secret,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub rate: RateConfig,
    pub retry: RetryConfig,
    pub logger: Option<Logger>,
    /// Receives a line whenever a wait longer than [`ANNOUNCE_WAIT`] starts.
    pub notice: Option<Logger>,
    /// Bodies larger than this are refused while they stream in.
    pub max_response_bytes: usize,
    /// Every request, its retries and its waits end by this instant.
    pub deadline: Option<Instant>,
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
            notice: None,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            deadline: None,
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
    /// Built on the first request: a dry run or a refused call never pays
    /// for the HTTP client and its TLS setup.
    http: std::sync::OnceLock<reqwest::Client>,
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
        Ok(Transport {
            http: std::sync::OnceLock::new(),
            limiter: RateLimiter::new(config.rate),
            config,
        })
    }

    fn http(&self) -> Result<&reqwest::Client> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let mut builder = reqwest::Client::builder();
        // Every request goes to the base URL (`Prepared::url` appends a
        // path), so a plain-http one (the sandbox, a mock on loopback)
        // never uses TLS: trust no certificate rather than load and parse
        // the system's (three quarters of `ghl mcp`'s start-up).
        if self.config.base_url.starts_with("http://") {
            builder = builder.tls_certs_only(std::iter::empty::<reqwest::Certificate>());
        }
        let http = builder
            .user_agent(concat!("ghl/", env!("CARGO_PKG_VERSION")))
            .timeout(self.config.timeout)
            .connect_timeout(self.config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            // The API never redirects; a redirect comes from a proxy or a
            // captive portal, and following it would turn a POST into a GET
            // or send the body (personal data) to another origin.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| {
                Error::new(ErrorCode::Network, format!("cannot start HTTP client: {e}"))
            })?;
        Ok(self.http.get_or_init(|| http))
    }

    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    /// A name for this credential (server and token) and `context`, for
    /// files kept about it: a SHA-256 digest, so the token cannot be read
    /// back from the name.
    pub fn credential_digest(&self, context: &str) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        for part in [
            self.config.base_url.as_str(),
            self.config.token.expose(),
            context,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
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

    /// Send with no bearer token (the OAuth token endpoint, where the
    /// client credentials in the form authenticate).
    pub async fn send_anonymous(&self, req: &Prepared) -> Result<Response> {
        self.send_as(req, &Secret::new("")).await
    }

    /// Send with another bearer token (a location token minted from an
    /// agency token); everything else as [`Transport::send`]. An empty
    /// token sends no Authorization header.
    pub async fn send_as(&self, req: &Prepared, token: &Secret) -> Result<Response> {
        let key = req.location.clone().unwrap_or_else(|| "-".to_string());
        let url = req.url(&self.config.base_url)?;
        let retry_safe = req.retry_safe();
        // Whether an earlier attempt may have reached the server and been
        // applied (a 5xx, a drop): a DELETE then finding nothing is done.
        let mut maybe_applied = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut slot = self.claim(&key, attempt, req.priority).await?;
            let started = Instant::now();
            self.log(&format!(
                "> {} {} (attempt {attempt})",
                req.method.as_str(),
                url
            ));
            let outcome = self.attempt(req, url.clone(), token, &mut slot).await;
            slot.settle();
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
                    let headers_vec = || {
                        headers
                            .iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().to_string(),
                                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                )
                            })
                            .collect()
                    };
                    if (200..300).contains(&status) {
                        return Ok(Response {
                            status,
                            body,
                            rate,
                            attempts: attempt,
                            headers: headers_vec(),
                        });
                    }
                    if (300..400).contains(&status) {
                        return Err(self.redirect_error(req, status, &headers, token));
                    }
                    let mut err = self.http_error(req, status, &body, token);
                    if maybe_applied
                        && req.method.as_str() == "DELETE"
                        && err.code == ErrorCode::NotFound
                    {
                        return Ok(Response {
                            status,
                            body: serde_json::json!({
                                "succeded": true,
                                "note": format!(
                                    "deleted: the first attempt was applied though its answer was lost; attempt {attempt} found the record already gone"
                                ),
                            }),
                            rate,
                            attempts: attempt,
                            headers: headers_vec(),
                        });
                    }
                    if let Some(v) = headers.get("sl-violations").and_then(|v| v.to_str().ok()) {
                        // Prism (the spec-validating mock) explains refusals here.
                        let violations =
                            serde_json::from_str(v).unwrap_or(Value::String(v.to_string()));
                        err.details = Some(cut_detail(serde_json::json!({
                            "body": err.details.take(),
                            "sl-violations": violations,
                        })));
                    }
                    let failure = match status {
                        429 => {
                            let after = headers
                                .get(reqwest::header::RETRY_AFTER)
                                .and_then(|v| v.to_str().ok())
                                .and_then(parse_retry_after);
                            self.limiter.block(&key, after);
                            if let Some(after) = after.filter(|a| *a > MAX_RETRY_AFTER) {
                                err.message = format!(
                                    "{} (the server asked to wait {} s before the next request; not waiting that long)",
                                    err.message,
                                    after.as_secs()
                                );
                                err.hint = Some(format!(
                                    "try again later; ghl waits at most {} s for a Retry-After",
                                    MAX_RETRY_AFTER.as_secs()
                                ));
                                return Err(err);
                            }
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
            if matches!(failure, Failure::Server | Failure::MaybeDelivered) {
                maybe_applied = true;
            }
            let decided = self.config.retry.decide_for(retry_safe, failure, attempt);
            let delay = match (decided, self.left()) {
                (Some(delay), Some(left)) if delay >= left => None,
                (d, _) => d,
            };
            match delay {
                Some(delay) => {
                    self.log(&format!("  retrying in {} ms", delay.as_millis()));
                    if delay > ANNOUNCE_WAIT {
                        self.announce(&format!(
                            "waiting {} s before retrying {} ({})",
                            delay.as_secs(),
                            req.op.name,
                            match failure {
                                Failure::RateLimited(Some(_)) => "the server asked, Retry-After",
                                Failure::RateLimited(None) => "rate limited",
                                _ => "it failed",
                            }
                        ));
                    }
                    tokio::time::sleep(delay).await;
                }
                None => {
                    let mut err = err;
                    if attempt > 1 {
                        err.message = format!("{} (after {attempt} attempts)", err.message);
                    } else if matches!(failure, Failure::Server | Failure::MaybeDelivered)
                        && !retry_safe
                    {
                        err.hint = Some(format!(
                            "{} was not retried because it may already have been applied; check before sending it again",
                            req.op.name
                        ));
                    }
                    if decided.is_some() {
                        err.message = format!(
                            "{} (no time left for another attempt within the time limit)",
                            err.message
                        );
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Time left before the deadline, if there is one.
    fn left(&self) -> Option<Duration> {
        self.config
            .deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    fn out_of_time(&self, what: &str) -> Error {
        Error::new(ErrorCode::Timeout, format!("the time limit ran out {what}"))
            .with_hint("raise --timeout (it bounds the whole command), or try again later")
    }

    /// Say that a long wait is starting: to the caller's notice sink and to
    /// whoever collects notices for this task (an MCP tool call).
    fn announce(&self, line: &str) {
        if let Some(n) = &self.config.notice {
            n(line);
        }
        crate::notices::emit(line);
    }

    /// Wait for the rate limiter, within the deadline, saying so when the
    /// wait is long.
    async fn claim(&self, key: &str, attempt: u32, priority: bool) -> Result<SlotGuard<'_>> {
        let mut announced = false;
        loop {
            let wait = match self.limiter.try_claim_as(key, priority)? {
                Ok(claimed) => {
                    return Ok(SlotGuard {
                        limiter: &self.limiter,
                        key: key.to_string(),
                        claimed: Some(claimed),
                    });
                }
                Err(wait) => wait,
            };
            if let Some(left) = self.left()
                && wait >= left
            {
                return Err(self.out_of_time(&format!(
                    "waiting {} s for the rate limit (before attempt {attempt})",
                    wait.as_secs().max(1)
                )));
            }
            if wait > ANNOUNCE_WAIT && !announced {
                announced = true;
                let (max, interval) = self.limiter.budget(key);
                self.announce(&format!(
                    "waiting {} s for the rate limit ({max} requests per {} s for this location)",
                    wait.as_secs(),
                    interval.as_secs()
                ));
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn redirect_error(
        &self,
        req: &Prepared,
        status: u16,
        headers: &reqwest::header::HeaderMap,
        token: &Secret,
    ) -> Error {
        let location = headers
            .get(reqwest::header::LOCATION)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_else(|| "(no Location header)".into());
        let location: String = token
            .scrub(&self.config.token.scrub(&location))
            .chars()
            .take(500)
            .collect();
        let mut err = Error::new(
            ErrorCode::Network,
            format!(
                "the server answered {status}, redirecting to {location}; redirects are not followed"
            ),
        )
        .with_hint("HighLevel's API does not redirect: a proxy or captive portal is in the way, or --base-url / GHL_BASE_URL is wrong");
        err.status = Some(status);
        err.operation = Some(req.op.name.clone());
        err
    }

    async fn attempt(
        &self,
        req: &Prepared,
        url: url::Url,
        token: &Secret,
        slot: &mut SlotGuard<'_>,
    ) -> std::result::Result<(u16, reqwest::header::HeaderMap, Value), (Failure, Error)> {
        let method = reqwest::Method::from_bytes(req.method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::GET);
        let http = self.http().map_err(|e| (Failure::Final, e))?;
        let mut rb = http.request(method, url);
        if !token.is_empty() {
            rb = rb.bearer_auth(token.expose());
        }
        if let Some(left) = self.left() {
            if left.is_zero() {
                return Err((
                    Failure::Final,
                    self.out_of_time("before the request was sent"),
                ));
            }
            rb = rb.timeout(left.min(self.config.timeout));
        }
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
                    let bytes = read_upload(path).await.map_err(|e| (Failure::Final, e))?;
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
        // The server counted the request before it began to answer: the
        // slot counts from the answer's head, not from the end of a body
        // that may take long to read.
        slot.settle_now();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let content_type = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = self.read_limited(resp, token).await?;
        let body = decode_body(&content_type, &bytes);
        Ok((status, headers, body))
    }

    /// The body, chunk by chunk, refused as soon as it passes the limit
    /// (whatever length the server announced).
    async fn read_limited(
        &self,
        mut resp: reqwest::Response,
        token: &Secret,
    ) -> std::result::Result<Vec<u8>, (Failure, Error)> {
        let limit = self.config.max_response_bytes;
        let too_big = || {
            (
                Failure::Final,
                Error::new(
                    ErrorCode::Network,
                    format!(
                        "the response is larger than the limit of {} MB",
                        limit.div_ceil(1024 * 1024)
                    ),
                )
                .with_hint("raise it with --max-response-mb (GHL_MAX_RESPONSE_MB) if this answer is expected, or ask for smaller pages"),
            )
        };
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_big());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.network_error(e, token))?
        {
            if bytes.len() + chunk.len() > limit {
                return Err(too_big());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
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
            err.details = serde_json::from_str(&scrub(&body.to_string()))
                .ok()
                .map(cut_detail);
        }
        err
    }
}

/// A claimed rate-limit slot: settled when the answer arrives, or when the
/// request is abandoned (a caller's timeout drops the future).
struct SlotGuard<'a> {
    limiter: &'a RateLimiter,
    key: String,
    claimed: Option<Instant>,
}

impl SlotGuard<'_> {
    fn settle(mut self) {
        self.settle_now();
    }

    /// Settle once: later calls (and the drop) do nothing.
    fn settle_now(&mut self) {
        if let Some(c) = self.claimed.take() {
            self.limiter.settle(&self.key, c);
        }
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.claimed.take() {
            self.limiter.settle(&self.key, c);
        }
    }
}

/// The largest file uploaded in one multipart request.
pub const MAX_UPLOAD_BYTES: u64 = 512 * 1024 * 1024;

/// An upload's bytes: a regular file, read through [`MAX_UPLOAD_BYTES`]
/// whatever size it claims (a device or FIFO never ends).
async fn read_upload(path: &std::path::Path) -> Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let cannot =
        |e: std::io::Error| Error::validation(format!("cannot read {}: {e}", path.display()));
    let file = tokio::fs::File::open(path).await.map_err(cannot)?;
    if !file.metadata().await.map_err(cannot)?.is_file() {
        return Err(Error::validation(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_UPLOAD_BYTES + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_UPLOAD_BYTES {
        return Err(Error::validation(format!(
            "{} is larger than the upload limit of {} MB",
            path.display(),
            MAX_UPLOAD_BYTES / (1024 * 1024)
        )));
    }
    Ok(bytes)
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

/// A server body kept in an error, cut to [`MAX_ERROR_DETAIL`] bytes: a
/// 200 KB error page is no use on a terminal or to an assistant.
fn cut_detail(v: Value) -> Value {
    let text = v.to_string();
    if text.len() <= MAX_ERROR_DETAIL {
        return v;
    }
    let mut end = MAX_ERROR_DETAIL;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Value::String(format!(
        "{}... (cut: {} bytes in all)",
        &text[..end],
        text.len()
    ))
}

/// HighLevel's `message` is a string, or an array of strings on 422; cut
/// to a line's worth.
fn server_message(body: &Value) -> String {
    let text = full_server_message(body);
    if text.chars().count() <= 300 {
        return text;
    }
    let cut: String = text.chars().take(300).collect();
    format!("{cut}... (cut)")
}

fn full_server_message(body: &Value) -> String {
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
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Null => "(no body)".to_string(),
            other => other.to_string(),
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
