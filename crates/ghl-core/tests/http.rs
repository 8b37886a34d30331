//! The real `Client` and `Transport` against HTTP servers on loopback:
//! retries, rate limiting, error mapping, pagination, input refusal and
//! token hygiene.

mod support;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ghl_core::ratelimit::RateConfig;
use ghl_core::retry::RetryConfig;
use ghl_core::{CallArgs, Defaults, ErrorCode, PageOpts, Policy};
use serde_json::{Value, json};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use support::{TOKEN, client, client_from, config};

const LOC: &str = "ve9EPM428h8vShlRW1KT";

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.expect("recording").len()
}

fn ok_json(v: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(v)
}

fn server_error() -> ResponseTemplate {
    ResponseTemplate::new(500).set_body_json(json!({"statusCode": 500, "message": "boom"}))
}

/// Answers `first` to the first `n` requests, then `then`.
fn first_n_then(n: usize, first: ResponseTemplate, then: ResponseTemplate) -> impl Respond {
    let seen = AtomicUsize::new(0);
    move |_: &Request| {
        if seen.fetch_add(1, Ordering::SeqCst) < n {
            first.clone()
        } else {
            then.clone()
        }
    }
}

/// What a message needs (errata.toml: `subType` and `status` are optional).
fn send_message_args() -> CallArgs {
    CallArgs::new()
        .param("type", "SMS")
        .param("contactId", "abc123")
        .param("message", "hello")
}

fn contact_args() -> CallArgs {
    CallArgs::new()
        .param("locationId", LOC)
        .param("firstName", "Jane")
}

// ---------------------------------------------------------------------------
// Retry rules
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_is_retried_after_a_500() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts/abc123"))
        .respond_with(first_n_then(
            1,
            server_error(),
            ok_json(json!({"contact": {"id": "abc123"}})),
        ))
        .mount(&server)
        .await;
    let body = client(&server.uri())
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect("succeeds on the second attempt");
    assert_eq!(body["contact"]["id"], "abc123");
    assert_eq!(received(&server).await, 2);
}

#[tokio::test]
async fn post_answered_500_is_sent_exactly_once() {
    for (name, args) in [
        ("contacts.create-contact", contact_args()),
        ("conversations.send-a-new-message", send_message_args()),
    ] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(server_error())
            .mount(&server)
            .await;
        let err = client(&server.uri())
            .call(name, args)
            .await
            .expect_err("500 is an error");
        assert_eq!(err.code, ErrorCode::Server, "{name}");
        assert_eq!(received(&server).await, 1, "{name} must not be resent");
        let hint = err.hint.clone().unwrap_or_default();
        assert!(hint.contains("not retried"), "{name}: hint {hint:?}");
    }
}

#[tokio::test]
async fn put_delete_and_upsert_are_retried_after_a_5xx() {
    for (name, args) in [
        (
            "contacts.update-contact",
            CallArgs::new()
                .param("contactId", "abc123")
                .param("firstName", "Jane"),
        ),
        (
            "contacts.delete-contact",
            CallArgs::new().param("contactId", "abc123"),
        ),
        // With its match key (email or phone); without one it is a create.
        (
            "contacts.upsert-contact",
            contact_args().param("email", "jane@example.com"),
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(first_n_then(
                1,
                ResponseTemplate::new(503).set_body_json(json!({"message": "unavailable"})),
                ok_json(json!({"succeded": true})),
            ))
            .mount(&server)
            .await;
        client(&server.uri())
            .call(name, args)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(received(&server).await, 2, "{name}");
    }
}

#[tokio::test]
async fn a_post_that_timed_out_is_not_resent_but_a_get_is() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok_json(json!({})).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let mut cfg = config(&server.uri());
    cfg.timeout = Duration::from_millis(300);
    let c = client_from(cfg, Defaults::default());

    let err = c
        .call("contacts.create-contact", contact_args())
        .await
        .expect_err("times out");
    assert_eq!(err.code, ErrorCode::Timeout);
    assert_eq!(received(&server).await, 1, "the POST was sent again");
    assert!(err.hint.clone().unwrap_or_default().contains("not retried"));

    server.reset().await;
    Mock::given(any())
        .respond_with(ok_json(json!({})).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let err = c
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect_err("times out");
    assert_eq!(err.code, ErrorCode::Timeout);
    assert_eq!(
        received(&server).await,
        3,
        "a GET is retried up to max_attempts"
    );
}

/// A server that reads each request and then drops the connection without
/// answering. Returns its base URL and the number of connections accepted.
async fn dropping_server() -> (String, Arc<AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            seen.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                // Read until the end of the headers and the body have arrived
                // (or the client stops sending), then hang up.
                while let Ok(Ok(n)) =
                    tokio::time::timeout(Duration::from_millis(200), sock.read(&mut buf)).await
                {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                }
                drop(sock);
            });
        }
    });
    (format!("http://{addr}"), count)
}

#[tokio::test]
async fn a_dropped_connection_on_a_post_is_not_resent() {
    let (base, count) = dropping_server().await;
    let c = client(&base);
    let err = c
        .call("contacts.create-contact", contact_args())
        .await
        .expect_err("connection dropped");
    assert_eq!(err.code, ErrorCode::Network, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "the POST was sent again");

    let (base, count) = dropping_server().await;
    let err = client(&base)
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect_err("connection dropped");
    assert_eq!(err.code, ErrorCode::Network, "{err}");
    assert_eq!(count.load(Ordering::SeqCst), 3, "a GET is retried");
}

#[tokio::test]
async fn a_429_is_retried_for_every_operation_including_post() {
    for (name, args) in [
        ("contacts.create-contact", contact_args()),
        ("conversations.send-a-new-message", send_message_args()),
        (
            "contacts.get-contact",
            CallArgs::new().param("contactId", "abc123"),
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(first_n_then(
                1,
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "0")
                    .set_body_json(json!({"message": "Too many requests"})),
                ResponseTemplate::new(201).set_body_json(json!({"ok": true})),
            ))
            .mount(&server)
            .await;
        let body = client(&server.uri())
            .call(name, args)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(body["ok"], true);
        assert_eq!(received(&server).await, 2, "{name}");
    }
}

/// Records when each request arrived.
fn stamped(
    times: Arc<Mutex<Vec<Instant>>>,
    answer: impl Fn(usize) -> ResponseTemplate + Send + Sync + 'static,
) -> impl Respond {
    move |_: &Request| {
        let mut t = times.lock().unwrap();
        t.push(Instant::now());
        answer(t.len() - 1)
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    let times = Arc::new(Mutex::new(Vec::new()));
    Mock::given(any())
        .respond_with(stamped(times.clone(), |i| {
            if i == 0 {
                ResponseTemplate::new(429)
                    .insert_header("Retry-After", "1")
                    .set_body_json(json!({"message": "slow down"}))
            } else {
                ok_json(json!({"contact": {}}))
            }
        }))
        .mount(&server)
        .await;
    client(&server.uri())
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect("second attempt succeeds");
    let t = times.lock().unwrap().clone();
    assert_eq!(t.len(), 2);
    let gap = t[1] - t[0];
    assert!(gap >= Duration::from_millis(950), "waited only {gap:?}");
}

// ---------------------------------------------------------------------------
// Rate limiting
// ---------------------------------------------------------------------------

/// Enforces `max` requests per `window` per location (the `locationId`
/// query parameter) with a sliding window, like HighLevel, and reports the
/// budget in `X-RateLimit-*` headers.
struct SlidingWindow {
    max: usize,
    window: Duration,
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
    order: Mutex<Vec<String>>,
    rejected: AtomicUsize,
}

impl SlidingWindow {
    fn new(max: usize, window: Duration) -> Arc<Self> {
        Arc::new(SlidingWindow {
            max,
            window,
            seen: Mutex::new(HashMap::new()),
            order: Mutex::new(Vec::new()),
            rejected: AtomicUsize::new(0),
        })
    }
}

struct Shared(Arc<SlidingWindow>);

impl Respond for Shared {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let s = &self.0;
        let loc = req
            .url
            .query_pairs()
            .find(|(k, _)| k == "locationId")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let now = Instant::now();
        let mut seen = s.seen.lock().unwrap();
        let q = seen.entry(loc.clone()).or_default();
        while q
            .front()
            .is_some_and(|t| now.duration_since(*t) >= s.window)
        {
            q.pop_front();
        }
        let used = q.len();
        let headers = |remaining: usize| {
            vec![
                ("X-RateLimit-Max", s.max.to_string()),
                ("X-RateLimit-Remaining", remaining.to_string()),
                (
                    "X-RateLimit-Interval-Milliseconds",
                    s.window.as_millis().to_string(),
                ),
                ("X-RateLimit-Limit-Daily", "200000".to_string()),
                ("X-RateLimit-Daily-Remaining", "199000".to_string()),
            ]
        };
        if used >= s.max {
            s.rejected.fetch_add(1, Ordering::SeqCst);
            return ResponseTemplate::new(429)
                .append_headers(headers(0))
                .set_body_json(json!({"statusCode": 429, "message": "Too many requests"}));
        }
        q.push_back(now);
        s.order.lock().unwrap().push(loc);
        ResponseTemplate::new(200)
            .append_headers(headers(s.max - used - 1))
            .set_body_json(json!({"calendars": []}))
    }
}

fn rate_client(base: &str, max: u32, window: Duration) -> ghl_core::Client {
    let mut cfg = config(base);
    cfg.rate = RateConfig {
        max,
        interval: window,
    };
    // Any 429 would be retried and hidden; the server counts them instead.
    cfg.retry = RetryConfig {
        max_attempts: 5,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    };
    client_from(cfg, Defaults::default())
}

fn calendars(loc: &str) -> CallArgs {
    CallArgs::new().param("locationId", loc)
}

#[tokio::test]
async fn concurrent_calls_for_one_location_never_provoke_a_429() {
    let window = Duration::from_secs(1);
    let limiter = SlidingWindow::new(50, window);
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Shared(limiter.clone()))
        .mount(&server)
        .await;
    let c = rate_client(&server.uri(), 50, window);
    let calls = (0..250).map(|_| {
        let c = c.clone();
        tokio::spawn(async move { c.call("calendars.get-calendars", calendars(LOC)).await })
    });
    let results = futures::future::join_all(calls).await;
    let ok = results
        .into_iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.is_ok()))
        .count();
    assert_eq!(ok, 250, "every call succeeds");
    assert_eq!(limiter.rejected.load(Ordering::SeqCst), 0, "429s served");
    assert_eq!(received(&server).await, 250);
}

#[tokio::test]
async fn a_second_location_has_its_own_budget() {
    let window = Duration::from_secs(1);
    let limiter = SlidingWindow::new(20, window);
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(Shared(limiter.clone()))
        .mount(&server)
        .await;
    let c = rate_client(&server.uri(), 20, window);
    // Location A asks for three windows' worth; B asks for one window's.
    let mut calls = Vec::new();
    for i in 0..80 {
        let loc = if i % 4 == 3 { "locationB" } else { "locationA" };
        let c = c.clone();
        calls.push(tokio::spawn(async move {
            c.call("calendars.get-calendars", calendars(loc)).await
        }));
    }
    for r in futures::future::join_all(calls).await {
        r.unwrap().expect("call succeeds");
    }
    assert_eq!(limiter.rejected.load(Ordering::SeqCst), 0);
    let order = limiter.order.lock().unwrap().clone();
    // A's 21st request had to wait for A's window to roll; none of B's did.
    let a_21st = order
        .iter()
        .enumerate()
        .filter(|(_, l)| *l == "locationA")
        .nth(20)
        .map(|(i, _)| i)
        .unwrap();
    let b_last = order.iter().rposition(|l| l == "locationB").unwrap();
    assert!(
        b_last < a_21st,
        "location B waited behind location A: {order:?}"
    );
}

#[tokio::test]
async fn headers_reporting_others_usage_make_the_client_wait() {
    let window = Duration::from_secs(1);
    let server = MockServer::start().await;
    let times = Arc::new(Mutex::new(Vec::new()));
    // Other clients have used all but one request of the budget.
    Mock::given(any())
        .respond_with(stamped(times.clone(), |_| {
            ResponseTemplate::new(200)
                .insert_header("X-RateLimit-Max", "10")
                .insert_header("X-RateLimit-Remaining", "0")
                .insert_header("X-RateLimit-Interval-Milliseconds", "1000")
                .set_body_json(json!({"calendars": []}))
        }))
        .mount(&server)
        .await;
    let c = rate_client(&server.uri(), 10, window);
    for _ in 0..2 {
        c.call("calendars.get-calendars", calendars(LOC))
            .await
            .expect("call succeeds");
    }
    let t = times.lock().unwrap().clone();
    let gap = t[1] - t[0];
    assert!(
        gap >= Duration::from_millis(900),
        "the second request went out after only {gap:?}"
    );
}

// ---------------------------------------------------------------------------
// Error mapping
// ---------------------------------------------------------------------------

#[tokio::test]
async fn each_http_failure_maps_to_its_error_code() {
    let server = MockServer::start().await;
    let answers: Vec<(&str, ResponseTemplate)> = vec![
        (
            "s400",
            ResponseTemplate::new(400)
                .set_body_json(json!({"statusCode": 400, "message": "Bad Request"})),
        ),
        (
            "s422",
            ResponseTemplate::new(422).set_body_json(json!({
                "statusCode": 422,
                "message": ["email must be an email", "phone is invalid"],
                "error": "Unprocessable Entity"
            })),
        ),
        (
            "scope",
            ResponseTemplate::new(401).set_body_json(json!({
                "statusCode": 401,
                "message": "The token is not authorized for this scope."
            })),
        ),
        (
            "token",
            ResponseTemplate::new(401)
                .set_body_json(json!({"statusCode": 401, "message": "Invalid JWT"})),
        ),
        (
            "s403",
            ResponseTemplate::new(403).set_body_json(json!({
                "statusCode": 403,
                "message": "The token does not have access to this location"
            })),
        ),
        (
            "s404",
            ResponseTemplate::new(404)
                .set_body_json(json!({"statusCode": 404, "message": "Contact not found"})),
        ),
        (
            "s429",
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .set_body_json(json!({"statusCode": 429, "message": "Too many requests"})),
        ),
        (
            "s502",
            ResponseTemplate::new(502).set_body_string("<html>Bad Gateway</html>"),
        ),
    ];
    for (id, answer) in answers {
        Mock::given(path(format!("/contacts/{id}")))
            .respond_with(answer)
            .mount(&server)
            .await;
    }
    let c = client(&server.uri());
    let op = ghl_core::catalog::find("contacts.get-contact").unwrap();
    assert!(!op.scopes.is_empty());
    let mut exits = HashSet::new();
    for (id, code) in [
        ("s400", ErrorCode::BadRequest),
        ("s422", ErrorCode::BadRequest),
        ("scope", ErrorCode::MissingScope),
        ("token", ErrorCode::InvalidToken),
        ("s403", ErrorCode::LocationForbidden),
        ("s404", ErrorCode::NotFound),
        ("s429", ErrorCode::RateLimited),
        ("s502", ErrorCode::Server),
    ] {
        let err = c
            .call(
                "contacts.get-contact",
                CallArgs::new().param("contactId", id),
            )
            .await
            .expect_err(id);
        assert_eq!(err.code, code, "{id}: {err}");
        assert_eq!(err.operation.as_deref(), Some("contacts.get-contact"));
        let json = err.to_json();
        assert_eq!(json["error"]["code"], code.as_str());
        assert_eq!(json["error"]["exit_code"], code.exit_code());
        match id {
            "s422" => {
                assert_eq!(err.status, Some(422));
                assert!(err.message.contains("email must be an email"), "{err}");
                assert!(err.message.contains("phone is invalid"), "{err}");
            }
            "scope" => {
                assert_eq!(err.scopes, op.scopes);
                for s in &op.scopes {
                    assert!(err.message.contains(s.as_str()), "{err}");
                }
                assert_eq!(json["error"]["scopes"], json!(op.scopes));
            }
            "s429" => {
                assert!(err.message.contains("after 3 attempts"), "{err}");
            }
            "s502" => assert_eq!(err.status, Some(502)),
            _ => {}
        }
        exits.insert(code.exit_code());
    }
    // Seven distinct codes above (400 and 422 share one): seven exits.
    assert_eq!(exits.len(), 7);
    // Every code has its own exit status, none of them 0, 1 or 2.
    let all = [
        ErrorCode::Validation,
        ErrorCode::UnknownOperation,
        ErrorCode::Config,
        ErrorCode::Policy,
        ErrorCode::ConfirmationRequired,
        ErrorCode::MissingScope,
        ErrorCode::InvalidToken,
        ErrorCode::LocationForbidden,
        ErrorCode::NotFound,
        ErrorCode::RateLimited,
        ErrorCode::BadRequest,
        ErrorCode::Conflict,
        ErrorCode::Server,
        ErrorCode::Network,
        ErrorCode::Timeout,
        ErrorCode::Partial,
    ];
    let codes: HashSet<i32> = all.iter().map(|c| c.exit_code()).collect();
    assert_eq!(codes.len(), all.len());
    assert!(codes.iter().all(|c| *c > 2));
}

// ---------------------------------------------------------------------------
// Pagination: the eleven styles
// ---------------------------------------------------------------------------

const N: usize = 23;
const SIZE: usize = 5;

/// The page size a walk with `SIZE` really asks for: the client raises it to
/// the operation's declared minimum (message exports take at least 10).
fn size_for(op: &str) -> usize {
    let min = ghl_catalog::find(op)
        .and_then(|o| o.param("limit"))
        .and_then(|p| p.minimum)
        .map_or(0, |m| m as usize);
    SIZE.max(min)
}

fn record(i: usize) -> Value {
    json!({
        "id": format!("r{i:03}"),
        "n": i,
        "lastMessageDate": 1_700_000_000_000u64 + i as u64 * 1000,
    })
}

fn query(req: &Request, name: &str) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn query_n(req: &Request, name: &str) -> Option<usize> {
    query(req, name).and_then(|v| v.parse().ok())
}

fn body_field(req: &Request, name: &str) -> Option<Value> {
    req.body_json::<Value>().ok()?.get(name).cloned()
}

fn body_n(req: &Request, name: &str) -> Option<usize> {
    body_field(req, name).and_then(|v| v.as_u64().map(|n| n as usize))
}

/// Position just after the record with `id`.
fn after_id(id: Option<String>) -> usize {
    id.and_then(|id| id.strip_prefix('r').and_then(|n| n.parse::<usize>().ok()))
        .map(|n| n + 1)
        .unwrap_or(0)
}

type Locate = fn(&Request) -> (usize, usize);
type Render = fn(&[Value], usize, usize) -> Value;

struct Style {
    op: &'static str,
    args: fn() -> CallArgs,
    /// Start index and page size the request asks for.
    locate: Locate,
    /// The body of a page: records, start, size.
    render: Render,
}

fn more(start: usize, size: usize) -> bool {
    start + size < N
}

fn styles() -> Vec<Style> {
    vec![
        Style {
            op: "products.list-invoices",
            args: || CallArgs::new().param("locationId", LOC),
            locate: |r| {
                (
                    query_n(r, "offset").unwrap_or(0),
                    query_n(r, "limit").unwrap_or(SIZE),
                )
            },
            render: |recs, _, _| json!({"products": recs, "total": N}),
        },
        Style {
            op: "users.search-users",
            args: || CallArgs::new().param("companyId", "5DP41231LkQsiKESj6rh"),
            locate: |r| {
                (
                    query_n(r, "skip").unwrap_or(0),
                    query_n(r, "limit").unwrap_or(SIZE),
                )
            },
            render: |recs, _, _| json!({"users": recs, "count": N}),
        },
        Style {
            op: "locations.task-search",
            args: || CallArgs::new().param("locationId", LOC),
            locate: |r| {
                (
                    body_n(r, "skip").unwrap_or(0),
                    body_n(r, "limit").unwrap_or(SIZE),
                )
            },
            render: |recs, _, _| json!({"tasks": recs}),
        },
        Style {
            op: "conversations.get-messages",
            args: || CallArgs::new().param("conversationId", "tDtDnQdgm2LXpyiqYvZ6"),
            locate: |r| {
                (
                    after_id(query(r, "lastMessageId")),
                    query_n(r, "limit").unwrap_or(SIZE),
                )
            },
            render: |recs, start, size| {
                json!({"messages": {
                    "messages": recs,
                    "lastMessageId": recs.last().map(|r| r["id"].clone()),
                    "nextPage": more(start, size),
                }})
            },
        },
        Style {
            op: "voice-ai.get-agents",
            args: || CallArgs::new().param("locationId", LOC),
            locate: |r| {
                let size = query_n(r, "pageSize").unwrap_or(SIZE);
                let page = query_n(r, "page").unwrap_or(1);
                ((page - 1) * size, size)
            },
            render: |recs, _, _| json!({"agents": recs, "total": N}),
        },
        Style {
            op: "contacts.get-contacts",
            args: || CallArgs::new().param("locationId", LOC),
            locate: |r| {
                (
                    after_id(query(r, "startAfterId")),
                    query_n(r, "limit").unwrap_or(SIZE),
                )
            },
            render: |recs, start, size| {
                let last = recs.last().cloned().unwrap_or(Value::Null);
                json!({"contacts": recs, "meta": {
                    "total": N,
                    "startAfterId": last.get("id"),
                    "startAfter": last.get("lastMessageDate"),
                    "nextPageUrl": more(start, size).then_some("https://example.invalid/next"),
                }})
            },
        },
        Style {
            op: "forms.get-forms-submissions",
            args: || CallArgs::new().param("locationId", LOC),
            locate: |r| {
                let size = query_n(r, "limit").unwrap_or(SIZE);
                ((query_n(r, "page").unwrap_or(1) - 1) * size, size)
            },
            render: |recs, start, size| {
                let page = start / size + 1;
                json!({"submissions": recs, "meta": {
                    "total": N,
                    "currentPage": page,
                    "nextPage": more(start, size).then_some(page + 1),
                }})
            },
        },
        Style {
            op: "contacts.search-contacts-advanced",
            args: || CallArgs::new().with_body(json!({"locationId": LOC})),
            locate: |r| {
                let size = body_n(r, "pageLimit").unwrap_or(SIZE);
                ((body_n(r, "page").unwrap_or(1) - 1) * size, size)
            },
            render: |recs, _, _| json!({"contacts": recs, "total": N}),
        },
        Style {
            op: "conversations.export-messages-by-location",
            args: || CallArgs::new().param("locationId", LOC),
            locate: |r| {
                let start = query(r, "cursor")
                    .and_then(|c| c.strip_prefix('c').and_then(|n| n.parse().ok()))
                    .unwrap_or(0);
                (start, query_n(r, "limit").unwrap_or(SIZE))
            },
            render: |recs, start, size| {
                json!({
                    "messages": recs,
                    "nextCursor": more(start, size).then(|| format!("c{}", start + size)),
                })
            },
        },
        Style {
            op: "saas-api.get-saas-locations",
            args: || CallArgs::new().param("companyId", "5DP4iH6HLkQsiKESj6rh"),
            // The page size is the server's.
            locate: |r| ((query_n(r, "page").unwrap_or(1) - 1) * SIZE, SIZE),
            render: |recs, _, _| json!({"locations": recs}),
        },
        Style {
            op: "conversations.search-conversation",
            args: || CallArgs::new().param("locationId", LOC),
            locate: |r| {
                let start = query_n(r, "startAfterDate")
                    .map(|d| (d - 1_700_000_000_000) / 1000 + 1)
                    .unwrap_or(0);
                (start, query_n(r, "limit").unwrap_or(SIZE))
            },
            render: |recs, _, _| json!({"conversations": recs, "total": N}),
        },
    ]
}

/// body_page with its size in `limit` (POST /opportunities/search), whose
/// spec marks every body field required.
fn opportunities_style() -> Style {
    Style {
        op: "opportunities.search-opportunities-advanced",
        args: || {
            CallArgs::new().with_body(json!({
                "locationId": LOC,
                "query": "",
                "searchAfter": [],
                "additionalDetails": {},
            }))
        },
        locate: |r| {
            let size = body_n(r, "limit").unwrap_or(SIZE);
            ((body_n(r, "page").unwrap_or(1) - 1) * size, size)
        },
        render: |recs, _, _| json!({"opportunities": recs, "meta": {"total": N}}),
    }
}

/// A second body_page variant: keyset through each record's `searchAfter`.
fn search_after_style() -> Style {
    Style {
        op: "contacts.search-contacts-advanced",
        args: || CallArgs::new().with_body(json!({"locationId": LOC})),
        locate: |r| {
            let size = body_n(r, "pageLimit").unwrap_or(SIZE);
            match body_field(r, "searchAfter") {
                Some(Value::Array(sa)) => (after_id(sa[1].as_str().map(String::from)), size),
                _ => ((body_n(r, "page").unwrap_or(1) - 1) * size, size),
            }
        },
        render: |recs, _, _| {
            let recs: Vec<Value> = recs
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r["searchAfter"] = json!([r["n"], r["id"]]);
                    r
                })
                .collect();
            json!({"contacts": recs, "total": N})
        },
    }
}

async fn pages_server(style: &Style, fail_page: Option<usize>) -> MockServer {
    let server = MockServer::start().await;
    let data: Vec<Value> = (0..N).map(record).collect();
    let locate = style.locate;
    let render = style.render;
    Mock::given(any())
        .respond_with(move |req: &Request| {
            let (start, size) = locate(req);
            let size = size.max(1);
            if fail_page == Some(start / size) {
                return server_error();
            }
            let end = (start + size).min(N);
            let recs = if start < N {
                &data[start..end]
            } else {
                &[][..]
            };
            ok_json(render(recs, start, size))
        })
        .mount(&server)
        .await;
    server
}

/// Fails the test instead of hanging when a pager loops forever.
async fn guard<T>(op: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .unwrap_or_else(|_| panic!("{op}: the pager did not stop"))
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap_or("?").to_string())
        .collect()
}

fn expected(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("r{i:03}")).collect()
}

#[test]
fn every_pagination_style_is_covered() {
    let mut seen: HashSet<&str> = HashSet::new();
    for s in styles() {
        let op = ghl_core::catalog::find(s.op).unwrap_or_else(|| panic!("{} exists", s.op));
        seen.insert(op.pagination.as_ref().expect("paginated").style_name());
    }
    assert_eq!(seen.len(), 11, "{seen:?}");
}

#[tokio::test]
async fn walk_all_gets_every_record_once_in_order() {
    let mut cases = styles();
    cases.push(search_after_style());
    cases.push(opportunities_style());
    for style in cases {
        let server = pages_server(&style, None).await;
        let opts = PageOpts {
            all: true,
            page_size: Some(SIZE as u64),
            ..PageOpts::default()
        };
        let (records, summary) = guard(
            style.op,
            client(&server.uri()).collect(style.op, (style.args)(), opts),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", style.op));
        assert_eq!(ids(&records), expected(N), "{}", style.op);
        assert_eq!(summary.records, N, "{}", style.op);
        assert!(!summary.more, "{}", style.op);
        assert!(
            summary.pages >= N.div_ceil(size_for(style.op)),
            "{}",
            style.op
        );
    }
}

#[tokio::test]
async fn walk_max_caps_the_records() {
    let mut cases = styles();
    cases.push(opportunities_style());
    for style in cases {
        let server = pages_server(&style, None).await;
        let opts = PageOpts {
            all: true,
            max: Some(7),
            page_size: Some(SIZE as u64),
            ..PageOpts::default()
        };
        let (records, summary) = guard(
            style.op,
            client(&server.uri()).collect(style.op, (style.args)(), opts),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", style.op));
        assert_eq!(ids(&records), expected(7), "{}", style.op);
        assert_eq!(summary.records, 7, "{}", style.op);
        assert!(summary.more, "{}: more records exist", style.op);
    }
}

#[tokio::test]
async fn walk_without_all_fetches_one_page_and_says_there_is_more() {
    for style in styles() {
        let server = pages_server(&style, None).await;
        let opts = PageOpts {
            page_size: Some(SIZE as u64),
            ..PageOpts::default()
        };
        let (records, summary) = guard(
            style.op,
            client(&server.uri()).collect(style.op, (style.args)(), opts),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", style.op));
        assert_eq!(ids(&records), expected(size_for(style.op)), "{}", style.op);
        assert!(summary.more, "{}", style.op);
        assert!(summary.next.is_some(), "{}", style.op);
        assert_eq!(received(&server).await, 1, "{}", style.op);
    }
}

#[tokio::test]
async fn a_failure_on_page_three_is_a_partial_error() {
    let mut cases = styles();
    cases.push(opportunities_style());
    for style in cases {
        let server = pages_server(&style, Some(2)).await;
        let opts = PageOpts {
            all: true,
            page_size: Some(SIZE as u64),
            ..PageOpts::default()
        };
        let mut got = Vec::new();
        let c = client(&server.uri());
        let walk = c.walk(style.op, (style.args)(), opts, |p| {
            got.extend(p.records);
            Ok(())
        });
        let err = guard(style.op, walk).await.expect_err(style.op);
        assert_eq!(err.code, ErrorCode::Partial, "{}: {err}", style.op);
        let size = size_for(style.op);
        assert_eq!(err.records, Some(2 * size), "{}", style.op);
        assert_eq!(ids(&got), expected(2 * size), "{}", style.op);
        assert_eq!(err.to_json()["error"]["records"], 2 * size, "{}", style.op);
    }
}

// ---------------------------------------------------------------------------
// Bad input never reaches the network
// ---------------------------------------------------------------------------

#[tokio::test]
async fn bad_input_is_refused_before_any_connection() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ok_json(json!({})))
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let get_contact = |id: &str| {
        (
            "contacts.get-contact",
            CallArgs::new().param("contactId", id),
        )
    };
    let long_path = "a".repeat(257);
    let mut cases: Vec<(&str, CallArgs)> = vec![
        get_contact("../x"),
        get_contact(".."),
        get_contact("."),
        get_contact("a/b"),
        get_contact("a\\b"),
        get_contact("a%2Fb"),
        get_contact("a?admin=1"),
        get_contact("a#frag"),
        get_contact("a b"),
        get_contact("a\tb"),
        get_contact("a\nb"),
        get_contact("a\u{0}b"),
        get_contact(""),
        get_contact(&long_path),
        // Oversized query value.
        (
            "contacts.get-contacts",
            CallArgs::new()
                .param("locationId", LOC)
                .param("query", "q".repeat(4097)),
        ),
        // Control character in a query value.
        (
            "contacts.get-contacts",
            CallArgs::new()
                .param("locationId", LOC)
                .param("query", "a\u{7}b"),
        ),
        // Body over 2 MiB.
        (
            "contacts.create-contact",
            CallArgs::new()
                .param("locationId", LOC)
                .param("firstName", "x".repeat(2 * 1024 * 1024 + 1)),
        ),
        // Unknown parameter.
        (
            "contacts.get-contact",
            CallArgs::new()
                .param("contactId", "abc123")
                .param("nonsense", "1"),
        ),
        (
            "contacts.create-contact",
            contact_args().param("notAField", "1"),
        ),
        // Wrong types.
        (
            "contacts.get-contacts",
            CallArgs::new()
                .param("locationId", LOC)
                .param("limit", "twenty"),
        ),
        (
            "contacts.create-contact",
            contact_args().param("dnd", "perhaps"),
        ),
        (
            "contacts.create-contact",
            contact_args().param("tags", json!({"a": 1})),
        ),
        // Enum violations.
        (
            "products.list-invoices",
            CallArgs::new()
                .param("locationId", LOC)
                .param("sortOrder", "sideways"),
        ),
        (
            "conversations.send-a-new-message",
            CallArgs::new()
                .param("type", "Pigeon")
                .param("contactId", "abc123"),
        ),
        // Missing required parameters.
        ("contacts.get-contact", CallArgs::new()),
        ("contacts.get-contacts", CallArgs::new()),
        (
            "contacts.create-contact",
            CallArgs::new().param("firstName", "Jane"),
        ),
    ];
    // A body given whole is checked the same way.
    cases.push((
        "contacts.create-contact",
        CallArgs::new().with_body(json!({"firstName": "Jane"})),
    ));
    for (name, args) in cases {
        let err = c
            .call(name, args.clone())
            .await
            .expect_err(&format!("{name} {:?} must be refused", args.params));
        assert_eq!(err.code, ErrorCode::Validation, "{name}: {err}");
        assert_eq!(err.exit_code(), 3);
    }
    // Malformed JSON bodies never become arguments.
    for text in ["{", "{\"a\":}", "not json", "{\"a\": 1,}"] {
        let err = CallArgs::parse_body(text).expect_err(text);
        assert_eq!(err.code, ErrorCode::Validation, "{text}");
    }
    let big = format!("{{\"a\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    assert_eq!(
        CallArgs::parse_body(&big).unwrap_err().code,
        ErrorCode::Validation
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, "{\"firstName\": ").unwrap();
    let err = CallArgs::parse_body(&format!("@{}", file.display())).unwrap_err();
    assert_eq!(err.code, ErrorCode::Validation);

    assert_eq!(received(&server).await, 0, "bad input reached the server");

    // The checks are not over-eager: dotted keys and ordinary values pass.
    c.call(
        "contacts.get-contact",
        CallArgs::new().param("contactId", "contact.first_name"),
    )
    .await
    .expect("a dotted key is a valid path value");
    assert_eq!(received(&server).await, 1);
}

// ---------------------------------------------------------------------------
// The token never leaks
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_token_never_appears_in_logs_previews_or_errors() {
    let server = MockServer::start().await;
    let echo = format!("Invalid token: Bearer {TOKEN}");
    Mock::given(path("/contacts/bad"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "statusCode": 401,
            "message": echo,
            "error": format!("token {TOKEN} rejected"),
        })))
        .mount(&server)
        .await;
    Mock::given(path("/contacts/scope"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "statusCode": 401,
            "message": "The token is not authorized for this scope.",
            "token": TOKEN,
        })))
        .mount(&server)
        .await;
    Mock::given(path("/contacts/boom"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("crash near {TOKEN}")))
        .mount(&server)
        .await;
    Mock::given(path("/contacts/"))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({
            "statusCode": 422,
            "message": [format!("query {TOKEN} is odd")],
        })))
        .mount(&server)
        .await;

    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let mut cfg = config(&server.uri());
    cfg.logger = Some(Arc::new(move |l: &str| {
        sink.lock().unwrap().push(l.to_string())
    }));
    let c = client_from(cfg, Defaults::default());

    let mut texts = Vec::new();
    for id in ["bad", "scope", "boom"] {
        let err = c
            .call(
                "contacts.get-contact",
                CallArgs::new().param("contactId", id),
            )
            .await
            .expect_err(id);
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
        texts.push(err.to_json().to_string());
    }
    // The token given as a value (pasted by mistake) is scrubbed from logs
    // and errors too.
    let err = c
        .call(
            "contacts.get-contacts",
            CallArgs::new()
                .param("locationId", LOC)
                .param("query", TOKEN),
        )
        .await
        .expect_err("422");
    texts.push(err.to_string());
    texts.push(err.to_json().to_string());

    // Dry-run previews.
    let preview = c
        .with_policy(Policy {
            dry_run: true,
            ..support::granted()
        })
        .call("contacts.create-contact", contact_args())
        .await
        .expect("dry run");
    assert_eq!(preview["dry_run"], true);
    texts.push(preview.to_string());
    let req = c
        .prepare(
            "contacts.get-contact",
            &CallArgs::new().param("contactId", "abc"),
        )
        .unwrap();
    texts.push(c.describe(&req).to_string());
    texts.push(format!("{:?}", c.transport()));

    let lines = lines.lock().unwrap().clone();
    assert!(lines.len() >= 8, "the logger saw the requests: {lines:?}");
    texts.extend(lines);
    for t in &texts {
        assert!(!t.contains(TOKEN), "token leaked: {t}");
        assert!(!t.contains("TESTTOKEN"), "token leaked: {t}");
    }

    // And yet the token was sent where it belongs.
    let reqs = server.received_requests().await.unwrap();
    assert!(!reqs.is_empty());
    for r in reqs {
        assert_eq!(
            r.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
    }
}
