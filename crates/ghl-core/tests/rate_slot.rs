//! A request's rate-limit slot counts from when its answer began to arrive:
//! the server counted the request before it sent the first byte of its
//! answer, so a long body (a 500-record page read over a slow link) must not
//! hold the slot for the time it takes to read.

mod support;

use std::time::Duration;

use ghl_core::ratelimit::RateConfig;
use ghl_core::{CallArgs, Defaults};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use support::{client_from, config};

const LOC: &str = "ve9EPM428h8vShlRW1KT";

/// Answers every request with its head at once and its body `body_after` later.
async fn slow_body_server(body_after: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let body = br#"{"contact":{"id":"c1"}}"#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body[..1]).await;
                let _ = sock.flush().await;
                tokio::time::sleep(body_after).await;
                let _ = sock.write_all(&body[1..]).await;
                let _ = sock.flush().await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn the_slot_counts_from_the_answer_head_not_the_end_of_its_body() {
    let base = slow_body_server(Duration::from_millis(1_600)).await;
    let mut cfg = config(&base);
    cfg.rate = RateConfig {
        max: 1,
        interval: Duration::from_secs(1),
    };
    let c = client_from(
        cfg,
        Defaults {
            location_id: Some(LOC.into()),
            company_id: None,
        },
    );
    let started = std::time::Instant::now();
    let got = c
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "c1"),
        )
        .await
        .unwrap();
    assert_eq!(got["contact"]["id"], "c1");
    // The body took 1.6 s; the head came at once. Counted from the head,
    // the 1 s window has rolled by now; counted from the end of the body,
    // the next request would still wait about a second.
    assert!(started.elapsed() >= Duration::from_millis(1_500));
    let wait = c.transport().limiter().wait_ahead(LOC);
    assert_eq!(wait, Duration::ZERO, "the slot is still held: {wait:?}");
}
