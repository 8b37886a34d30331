//! Signed webhooks like HighLevel's: each change in a modelled group records
//! its events in an outbox table in the same transaction as the change, and
//! a background task delivers them, signed with the sandbox's own Ed25519
//! key (`X-GHL-Signature` over the raw body), retrying only on 429.

mod deliver;
mod rules;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::routes::Ctx;

pub use deliver::{WebhookOptions, spawn};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhook_outbox(
  webhook_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, event_type TEXT NOT NULL,
  payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL, last_status INTEGER, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox(state, next_at, seq);
";

const KEY_META: &str = "webhook_signing_key";

pub fn ensure_schema(c: &Connection) -> rusqlite::Result<()> {
    c.execute_batch(SCHEMA)
}

/// The sandbox's signing key, made on first use and kept in its database.
/// Processes may ask at once (`sandbox webhook-key` beside `sandbox serve`):
/// the first key written is kept and every asker reads that one back.
pub fn signing_key(c: &Connection) -> rusqlite::Result<SigningKey> {
    if let Some(key) = stored_key(c)? {
        return Ok(key);
    }
    let seed: [u8; 32] = rand::random();
    c.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
        params![KEY_META, STANDARD.encode(seed)],
    )?;
    match stored_key(c)? {
        Some(key) => Ok(key),
        // A value that is not a key was there first: replace it.
        None => {
            crate::store::meta_set(c, KEY_META, &STANDARD.encode(seed))?;
            Ok(SigningKey::from_bytes(&seed))
        }
    }
}

fn stored_key(c: &Connection) -> rusqlite::Result<Option<SigningKey>> {
    let Some(b64) = crate::store::meta_get(c, KEY_META)? else {
        return Ok(None);
    };
    Ok(STANDARD
        .decode(b64.as_bytes())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
        .map(|seed| SigningKey::from_bytes(&seed)))
}

/// The public half as SPKI DER in base64, the form HighLevel publishes.
pub fn public_key_spki(key: &SigningKey) -> String {
    let mut der = vec![
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
    ];
    der.extend_from_slice(key.verifying_key().as_bytes());
    STANDARD.encode(der)
}

/// Called inside the operation's transaction, before the handler runs.
pub fn before(c: &Connection, ctx: &Ctx) -> rusqlite::Result<Option<Value>> {
    rules::before(c, ctx)
}

/// Called inside the operation's transaction after a successful handler:
/// the events commit or roll back with the change itself.
pub fn record(
    c: &Connection,
    ctx: &Ctx,
    before: Option<&Value>,
    reply: &Value,
) -> rusqlite::Result<()> {
    for ev in rules::events(c, ctx, before, reply)? {
        enqueue(c, ev)?;
    }
    Ok(())
}

/// Put one event (a payload with `type`) in the outbox.
pub fn enqueue(c: &Connection, payload: Value) -> rusqlite::Result<String> {
    ensure_schema(c)?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::ids::now_ms();
    c.execute(
        "INSERT INTO webhook_outbox(webhook_id, seq, event_type, payload, state, next_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'pending', ?5, ?5)",
        params![
            id,
            crate::ids::seq(),
            payload["type"].as_str().unwrap_or(""),
            payload.to_string(),
            now
        ],
    )?;
    Ok(id)
}

/// The outbox at a glance: counts per state and the ids the receiver
/// acknowledged (`/_sandbox/webhooks`).
pub fn summary(c: &Connection) -> rusqlite::Result<Value> {
    ensure_schema(c)?;
    let mut counts = serde_json::Map::new();
    let mut stmt = c.prepare("SELECT state, COUNT(*) FROM webhook_outbox GROUP BY state")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (s, n) = row?;
        counts.insert(s, json!(n));
    }
    let mut stmt = c.prepare(
        "SELECT webhook_id FROM webhook_outbox WHERE state = 'delivered' ORDER BY seq LIMIT 100000",
    )?;
    let delivered: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(json!({"counts": counts, "delivered": delivered}))
}
