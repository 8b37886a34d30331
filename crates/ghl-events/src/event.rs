//! One delivery from HighLevel, as stored in the spool. `type` is an open
//! set and the raw JSON is kept byte for byte: several of HighLevel's events
//! lack a `type` or give it another meaning, and a sink must see exactly
//! what was signed.

use serde::Serialize;

use crate::verify::{Proof, Refusal, parse_timestamp};

/// An authenticated delivery, ready for the spool.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub webhook_id: String,
    pub event_type: String,
    pub location_id: Option<String>,
    pub contact_id: Option<String>,
    pub timestamp_ms: Option<i64>,
    pub body: String,
}

impl NewEvent {
    /// The fields ghl indexes, from the raw body. Signed deliveries must
    /// name their `webhookId`; a secret-authenticated post without one gets
    /// a fresh id (those have no replay protection beyond the secret).
    pub fn from_body(body: &[u8], proof: Proof) -> Result<NewEvent, Refusal> {
        let text = std::str::from_utf8(body).map_err(|_| Refusal::NotJson)?;
        let v: serde_json::Value = serde_json::from_str(text).map_err(|_| Refusal::NotJson)?;
        let obj = v.as_object().ok_or(Refusal::NotJson)?;
        let s = |k: &str| {
            obj.get(k)
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let webhook_id = match (s("webhookId"), proof) {
            (Some(id), _) if id.len() <= 200 => id,
            (Some(_), _) => return Err(Refusal::MissingId),
            (None, Proof::Secret) => format!("local-{}", uuid::Uuid::new_v4()),
            (None, Proof::Ed25519 | Proof::Rsa) => return Err(Refusal::MissingId),
        };
        let contact_id = s("contactId").or_else(|| {
            // Contact events carry the contact's own id as `id`.
            s("type")
                .filter(|t| t.starts_with("Contact"))
                .and_then(|_| s("id"))
        });
        Ok(NewEvent {
            webhook_id,
            event_type: s("type").unwrap_or_else(|| "unknown".into()),
            location_id: s("locationId"),
            contact_id,
            timestamp_ms: obj.get("timestamp").and_then(parse_timestamp),
            body: text.to_string(),
        })
    }
}

/// Where an event stands in the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Waiting for (another) delivery attempt.
    Pending,
    Delivered,
    /// Gave up after the attempt limit; `replay` puts it back.
    Dead,
    /// Stored but filtered out by `--type`/`--location`.
    Skipped,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Delivered => "delivered",
            State::Dead => "dead",
            State::Skipped => "skipped",
        }
    }
    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "pending" => State::Pending,
            "delivered" => State::Delivered,
            "dead" => State::Dead,
            "skipped" => State::Skipped,
            _ => return None,
        })
    }
}

/// An event as the spool holds it.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub seq: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub location_id: Option<String>,
    pub contact_id: Option<String>,
    pub timestamp_ms: Option<i64>,
    pub received_at_ms: i64,
    pub state: State,
    pub attempts: i64,
    pub next_at_ms: i64,
    pub last_error: Option<String>,
    pub delivered_at_ms: Option<i64>,
    #[serde(skip)]
    pub sinks_done: String,
    #[serde(skip)]
    pub body: String,
    /// Claimed from a receiver that died holding it: it may already be in
    /// a sink's hands, so sinks that can check do so before taking it.
    #[serde(skip)]
    pub redelivery: bool,
}

impl Event {
    /// The payload as JSON (the raw text when it no longer parses).
    pub fn payload(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|_| serde_json::Value::String(self.body.clone()))
    }

    pub fn sink_done(&self, sink: &str) -> bool {
        self.sinks_done.split('\n').any(|s| s == sink)
    }
}
