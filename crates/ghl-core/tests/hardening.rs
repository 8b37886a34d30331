//! Hostile and misbehaving servers on loopback (issue 9): retries that could
//! duplicate, bodies without bounds, redirects, and rate-limit figures that
//! must be believed only within bounds.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ghl_core::ratelimit::{RateConfig, RateInfo, RateLimiter};
use ghl_core::{CallArgs, Defaults, ErrorCode};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use support::{client, client_from, config};

const LOC: &str = "ve9EPM428h8vShlRW1KT";

async fn received(server: &MockServer) -> usize {
    server.received_requests().await.expect("recording").len()
}

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

/// A raw HTTP server: reads a request head, then hands the socket to
/// `answer`. Returns the base URL and the number of connections.
async fn raw_server<F, Fut>(answer: F) -> (String, Arc<AtomicUsize>)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                answer(sock).await;
            });
        }
    });
    (format!("http://{addr}"), count)
}

// ---------------------------------------------------------------------------
// 1. Upsert without a match key is a create: never resent
// ---------------------------------------------------------------------------

#[tokio::test]
async fn an_upsert_without_email_or_phone_is_sent_once_under_500s() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"message": "boom"})))
        .mount(&server)
        .await;
    let args = CallArgs::new()
        .param("locationId", LOC)
        .param("firstName", "Nameless");
    let err = client(&server.uri())
        .call("contacts.upsert-contact", args)
        .await
        .expect_err("500");
    assert_eq!(received(&server).await, 1, "the keyless upsert was resent");
    assert!(
        err.hint.clone().unwrap_or_default().contains("not retried"),
        "{err:?}"
    );

    // With a match key it is an update of the same contact: retried.
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(first_n_then(
            1,
            ResponseTemplate::new(500).set_body_json(json!({"message": "boom"})),
            ResponseTemplate::new(200).set_body_json(json!({"new": false})),
        ))
        .mount(&server)
        .await;
    for key in ["email", "phone"] {
        server.reset().await;
        Mock::given(any())
            .respond_with(first_n_then(
                1,
                ResponseTemplate::new(500).set_body_json(json!({"message": "boom"})),
                ResponseTemplate::new(200).set_body_json(json!({"new": false})),
            ))
            .mount(&server)
            .await;
        let value = if key == "email" {
            "jane@example.com"
        } else {
            "+13125551001"
        };
        let args = CallArgs::new().param("locationId", LOC).param(key, value);
        client(&server.uri())
            .call("contacts.upsert-contact", args)
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(received(&server).await, 2, "{key}");
    }
}

#[tokio::test]
async fn an_upsert_without_email_or_phone_is_not_resent_after_a_drop() {
    let (base, count) = raw_server(|sock| async move { drop(sock) }).await;
    let args = CallArgs::new()
        .param("locationId", LOC)
        .param("firstName", "Nameless")
        .param("email", "");
    client(&base)
        .call("contacts.upsert-contact", args)
        .await
        .expect_err("dropped");
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "the keyless upsert was resent"
    );
}

// ---------------------------------------------------------------------------
// 2. A retried DELETE that finds the record gone was applied
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_retried_delete_answered_404_is_done() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(first_n_then(
            1,
            ResponseTemplate::new(502).set_body_json(json!({"message": "bad gateway"})),
            ResponseTemplate::new(404).set_body_json(json!({"message": "Contact not found"})),
        ))
        .mount(&server)
        .await;
    let body = client(&server.uri())
        .call(
            "contacts.delete-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect("the first attempt applied the delete");
    assert_eq!(received(&server).await, 2);
    assert_eq!(body["succeded"], true, "{body}");
    assert!(
        body["note"]
            .as_str()
            .unwrap_or("")
            .contains("first attempt"),
        "{body}"
    );

    // A 404 on the first attempt is still not found.
    server.reset().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(404).set_body_json(json!({"message": "Contact not found"})),
        )
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .call(
            "contacts.delete-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect_err("never existed");
    assert_eq!(err.code, ErrorCode::NotFound);

    // After only 429s nothing was applied: a 404 is still not found.
    server.reset().await;
    Mock::given(any())
        .respond_with(first_n_then(
            1,
            ResponseTemplate::new(429).insert_header("Retry-After", "0"),
            ResponseTemplate::new(404).set_body_json(json!({"message": "Contact not found"})),
        ))
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .call(
            "contacts.delete-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect_err("never existed");
    assert_eq!(err.code, ErrorCode::NotFound);
}

// ---------------------------------------------------------------------------
// 3. Bodies are read through a limit; error details are cut
// ---------------------------------------------------------------------------

/// Streams `mb` megabytes of JSON string in chunks, without a length.
async fn streaming_server(mb: usize) -> (String, Arc<AtomicUsize>) {
    raw_server(move |mut sock| async move {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
        if sock.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'a'; 1 << 20];
        let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
        frame.extend_from_slice(&chunk);
        frame.extend_from_slice(b"\r\n");
        let _ = sock.write_all(b"1\r\n\"\r\n").await;
        for _ in 0..mb {
            if sock.write_all(&frame).await.is_err() {
                return;
            }
        }
        let _ = sock.write_all(b"1\r\n\"\r\n0\r\n\r\n").await;
    })
    .await
}

#[tokio::test]
async fn an_endless_response_is_cut_at_the_limit() {
    // 96 MB: above the default limit.
    let (base, count) = streaming_server(96).await;
    let err = client(&base)
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect_err("the body is over the limit");
    assert!(err.message.contains("limit"), "{err}");
    assert!(err.to_string().len() < 4096);
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "an oversized answer was fetched again"
    );

    let mut cfg = config(&base);
    cfg.max_response_bytes = 1 << 20;
    let (base, _) = streaming_server(3).await;
    cfg.base_url = base;
    let err = client_from(cfg, Defaults::default())
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect_err("3 MB is over a 1 MB limit");
    assert!(err.message.contains("1 MB"), "{err}");
}

#[tokio::test]
async fn a_huge_error_body_is_cut_to_a_few_kb() {
    let server = MockServer::start().await;
    let big = "x".repeat(200_000);
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(500).set_body_json(json!({"message": big, "extra": big})),
        )
        .mount(&server)
        .await;
    let err = client(&server.uri())
        .call(
            "contacts.create-contact",
            CallArgs::new()
                .param("locationId", LOC)
                .param("firstName", "J"),
        )
        .await
        .expect_err("500");
    let whole = serde_json::to_string(&err.to_json()).unwrap();
    assert!(whole.len() < 8192, "the error is {} bytes", whole.len());
    assert!(err.to_string().len() < 4096, "{}", err.to_string().len());
}

// ---------------------------------------------------------------------------
// 4. Redirects are errors, never followed
// ---------------------------------------------------------------------------

#[tokio::test]
async fn redirects_are_reported_not_followed() {
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"contact": {"id": "x"}})))
        .mount(&elsewhere)
        .await;
    for status in [301u16, 302, 307, 308] {
        let server = MockServer::start().await;
        let target = format!("{}/stolen", elsewhere.uri());
        Mock::given(any())
            .respond_with(ResponseTemplate::new(status).insert_header("Location", target.as_str()))
            .mount(&server)
            .await;
        let err = client(&server.uri())
            .call(
                "contacts.create-contact",
                CallArgs::new()
                    .param("locationId", LOC)
                    .param("firstName", "Jane")
                    .param("email", "jane@example.com"),
            )
            .await
            .expect_err("a redirect is not a success");
        assert!(err.message.contains(&target), "{status}: {err}");
        assert_eq!(received(&elsewhere).await, 0, "{status}: followed");
        assert_eq!(received(&server).await, 1, "{status}");
    }
}

// ---------------------------------------------------------------------------
// 5. Rate-limit figures: followed both ways, believed within bounds
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_server_stating_a_higher_budget_is_followed() {
    let rl = RateLimiter::new(RateConfig::default());
    rl.observe(
        "loc",
        &RateInfo {
            max: Some(400),
            remaining: Some(399),
            interval_ms: Some(10_000),
            ..Default::default()
        },
    );
    let burst = async {
        for _ in 0..300 {
            rl.acquire("loc").await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(3), burst)
        .await
        .expect("300 requests fit in a stated budget of 400 per 10 s");
}

#[tokio::test]
async fn usage_figures_are_followed_down_as_well_as_up() {
    let rl = RateLimiter::new(RateConfig::default());
    let info = |remaining| RateInfo {
        max: Some(100),
        remaining: Some(remaining),
        interval_ms: Some(10_000),
        ..Default::default()
    };
    rl.observe("loc", &info(40));
    assert_eq!(rl.in_window("loc"), 60);
    // The server's window rolled: it now counts 1.
    rl.observe("loc", &info(99));
    assert_eq!(rl.in_window("loc"), 1);
}

#[tokio::test]
async fn an_hour_long_interval_is_not_believed() {
    let rl = RateLimiter::new(RateConfig::default());
    rl.observe(
        "loc",
        &RateInfo {
            max: Some(2),
            remaining: Some(0),
            interval_ms: Some(3_600_000),
            ..Default::default()
        },
    );
    let wait = rl.wait_ahead("loc");
    assert!(
        wait <= ghl_core::ratelimit::MAX_INTERVAL + Duration::from_secs(1),
        "would wait {wait:?}"
    );
}

#[tokio::test]
async fn a_huge_retry_after_fails_fast_and_says_so() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "100000")
                .set_body_json(json!({"message": "Too many requests"})),
        )
        .mount(&server)
        .await;
    let c = client(&server.uri());
    let call = c.call(
        "contacts.get-contact",
        CallArgs::new().param("contactId", "abc123"),
    );
    let err = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("a Retry-After of 100000 s hung the call")
        .expect_err("rate limited");
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert!(err.message.contains("100000"), "{err}");
}

#[tokio::test]
async fn a_long_wait_is_announced() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(first_n_then(
            1,
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "4")
                .set_body_json(json!({"message": "Too many requests"})),
            ResponseTemplate::new(200).set_body_json(json!({"contact": {}})),
        ))
        .mount(&server)
        .await;
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut cfg = config(&server.uri());
    let sink = lines.clone();
    cfg.notice = Some(Arc::new(move |l: &str| {
        sink.lock().unwrap().push(l.to_string())
    }));
    client_from(cfg, Defaults::default())
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "abc123"),
        )
        .await
        .expect("second attempt");
    let lines = lines.lock().unwrap().clone();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("waiting") && l.contains("4")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_deadline_bounds_the_whole_call() {
    // Accepts and never answers.
    let (base, count) = raw_server(|sock| async move {
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(sock);
    })
    .await;
    let mut cfg = config(&base);
    cfg.timeout = Duration::from_secs(8);
    cfg.deadline = Some(std::time::Instant::now() + Duration::from_secs(2));
    let c = client_from(cfg, Defaults::default());
    let call = c.call(
        "contacts.get-contact",
        CallArgs::new().param("contactId", "abc123"),
    );
    let err = tokio::time::timeout(Duration::from_secs(6), call)
        .await
        .expect("the deadline was not kept")
        .expect_err("timed out");
    assert_eq!(err.code, ErrorCode::Timeout);
    assert!(count.load(Ordering::SeqCst) >= 1);
}
