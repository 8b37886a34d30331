//! When the spool cannot take an event (the database is locked by someone
//! else), the receiver answers 429 so HighLevel retries, never 500, and
//! stores nothing; once the store is free the retry is accepted.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use ghl_events::{DeliveryOptions, EventFilter, Receiver, ReceiverOptions, Sink, Spool, Verifier};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_store_answers_429_and_a_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    let store = ghl_store::Store::open(&ghl_store::StoreUrl::Sqlite(db.clone())).unwrap();
    let spool = Spool::open(store).unwrap();
    let key = SigningKey::from_bytes(&[11; 32]);
    let rx = Receiver::start(
        ReceiverOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            path: "/webhooks/ghl".into(),
            verifier: Verifier {
                keys: vec![key.verifying_key()],
                secret: None,
                legacy_rsa: None,
                window_ms: 300_000,
                skew_ms: 30_000,
            },
            max_body: 65536,
            filter: EventFilter::default(),
            sinks: vec![Sink::jsonl(dir.path().join("out.jsonl").to_str().unwrap()).unwrap()],
            delivery: DeliveryOptions::default(),
        },
        spool.clone(),
    )
    .await
    .unwrap();
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let body = serde_json::json!({"type": "ContactCreate", "locationId": "l", "webhookId": "busy-1", "timestamp": now}).to_string();
    let sig = STANDARD.encode(key.sign(body.as_bytes()).to_bytes());
    let url = format!("http://{}/webhooks/ghl", rx.addr());
    let client = reqwest::Client::new();
    let send = || {
        client
            .post(&url)
            .header("content-type", "application/json")
            .header("x-ghl-signature", &sig)
            .body(body.clone())
            .send()
    };

    // Another process holds the database's write lock past our busy wait.
    let locker = rusqlite::Connection::open(&db).unwrap();
    locker.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let r = send().await.unwrap();
    assert_eq!(r.status().as_u16(), 429);
    assert!(r.headers().get("retry-after").is_some());
    locker.execute_batch("ROLLBACK").unwrap();
    drop(locker);

    assert!(spool.get("busy-1").unwrap().is_none(), "nothing stored");
    assert_eq!(
        rx.counters()
            .busy
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );

    // HighLevel's retry, once the store is free, is stored.
    let r = send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(spool.get("busy-1").unwrap().is_some());
    rx.shutdown().await;
}
