//! Delivery of the outbox the way HighLevel delivers: POST the signed JSON;
//! a 2xx is delivered; a 429 is tried again later (6 retries, about ten
//! minutes apart, with jitter); any other answer or none loses the event.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use rusqlite::params;
use serde_json::Value;
use tokio::sync::watch;

use crate::store::Db;

#[derive(Debug, Clone)]
pub struct WebhookOptions {
    pub url: String,
    /// The wait before a retry after a 429 (HighLevel: about 10 minutes).
    pub retry_spacing: Duration,
    /// Retries after the first attempt (HighLevel: 6).
    pub retries: u32,
    /// Deliveries in flight at once.
    pub concurrency: usize,
}

impl WebhookOptions {
    pub fn new(url: &str) -> Self {
        WebhookOptions {
            url: url.to_string(),
            retry_spacing: Duration::from_secs(600),
            retries: 6,
            concurrency: 8,
        }
    }
}

struct Due {
    webhook_id: String,
    payload: String,
    attempts: i64,
}

/// Deliver until `stop` turns true.
pub fn spawn(
    db: Arc<Db>,
    opts: WebhookOptions,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(c) => c,
            Err(_) => return,
        };
        let key = {
            let db = db.clone();
            match tokio::task::spawn_blocking(move || {
                db.with(|c| {
                    super::ensure_schema(c)?;
                    super::signing_key(c)
                })
            })
            .await
            {
                Ok(Ok(Ok(k))) => Arc::new(k),
                _ => return,
            }
        };
        loop {
            if *stop.borrow() {
                return;
            }
            let limit = opts.concurrency as i64 * 4;
            let due = {
                let db = db.clone();
                tokio::task::spawn_blocking(move || db.with(|c| take_due(c, limit)))
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .and_then(Result::ok)
                    .unwrap_or_default()
            };
            if due.is_empty() {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let sem = Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1)));
            let mut tasks = Vec::new();
            for d in due {
                let Ok(permit) = sem.clone().acquire_owned().await else {
                    break;
                };
                let (client, key, db, opts) =
                    (client.clone(), key.clone(), db.clone(), opts.clone());
                tasks.push(tokio::spawn(async move {
                    let status = send(&client, &key, &opts.url, &d).await;
                    let _ = tokio::task::spawn_blocking(move || {
                        db.with(|c| settle(c, &d, status, &opts))
                    })
                    .await;
                    drop(permit);
                }));
            }
            for t in tasks {
                let _ = t.await;
            }
        }
    })
}

fn take_due(c: &rusqlite::Connection, limit: i64) -> rusqlite::Result<Vec<Due>> {
    let mut stmt = c.prepare_cached(
        "SELECT webhook_id, payload, attempts FROM webhook_outbox
         WHERE state = 'pending' AND next_at <= ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![crate::ids::now_ms(), limit], |r| {
        Ok(Due {
            webhook_id: r.get(0)?,
            payload: r.get(1)?,
            attempts: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// One signed POST; the status, or `None` when no answer came.
async fn send(client: &reqwest::Client, key: &SigningKey, url: &str, d: &Due) -> Option<u16> {
    let mut payload: Value = serde_json::from_str(&d.payload).ok()?;
    // HighLevel stamps each attempt: a retry ten minutes later must still
    // pass a five-minute freshness window, with the same webhookId.
    payload["timestamp"] = Value::String(crate::ids::now_iso());
    payload["webhookId"] = Value::String(d.webhook_id.clone());
    let body = payload.to_string();
    let signature = STANDARD.encode(key.sign(body.as_bytes()).to_bytes());
    client
        .post(url)
        .header("content-type", "application/json")
        .header("x-ghl-signature", signature)
        .body(body)
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

fn settle(
    c: &rusqlite::Connection,
    d: &Due,
    status: Option<u16>,
    opts: &WebhookOptions,
) -> rusqlite::Result<()> {
    let now = crate::ids::now_ms();
    let attempts = d.attempts + 1;
    let (state, next_at) = match status {
        Some(s) if (200..300).contains(&s) => ("delivered", now),
        Some(429) if attempts <= opts.retries as i64 => {
            let jitter = 0.9 + rand::random::<f64>() * 0.2;
            (
                "pending",
                now + (opts.retry_spacing.as_millis() as f64 * jitter) as i64,
            )
        }
        Some(429) => ("gave_up", now),
        // HighLevel does not retry other answers, nor a missing one.
        _ => ("failed", now),
    };
    c.execute(
        "UPDATE webhook_outbox SET state = ?1, attempts = ?2, next_at = ?3, last_status = ?4,
         updated_at = ?5 WHERE webhook_id = ?6",
        params![state, attempts, next_at, status, now, d.webhook_id],
    )?;
    Ok(())
}
