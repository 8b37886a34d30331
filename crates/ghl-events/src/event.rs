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
        // Only the indexed fields are kept; the rest is checked as JSON
        // and skipped without building a tree (one less copy per event).
        let head: Head = serde_json::from_str(text).map_err(|_| Refusal::NotJson)?;
        let s = |v: &Option<serde_json::Value>| {
            v.as_ref()
                .and_then(serde_json::Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let webhook_id = match (s(&head.webhook_id), proof) {
            (Some(id), _) if id.len() <= 200 => id,
            (Some(_), _) => return Err(Refusal::MissingId),
            (None, Proof::Secret) => format!("local-{}", uuid::Uuid::new_v4()),
            (None, Proof::Ed25519 | Proof::Rsa) => return Err(Refusal::MissingId),
        };
        let event_type = s(&head.event_type);
        let contact_id = s(&head.contact_id).or_else(|| {
            // Contact events carry the contact's own id as `id`.
            event_type
                .as_deref()
                .filter(|t| t.starts_with("Contact"))
                .and_then(|_| s(&head.id))
        });
        Ok(NewEvent {
            webhook_id,
            event_type: event_type.unwrap_or_else(|| "unknown".into()),
            location_id: s(&head.location_id),
            contact_id,
            timestamp_ms: head.timestamp.as_ref().and_then(parse_timestamp),
            body: text.to_string(),
        })
    }
}

/// The top-level fields ghl indexes. A JSON object only; a repeated key
/// counts by its last value (as a full parse would).
#[derive(Default)]
struct Head {
    webhook_id: Option<serde_json::Value>,
    event_type: Option<serde_json::Value>,
    location_id: Option<serde_json::Value>,
    contact_id: Option<serde_json::Value>,
    id: Option<serde_json::Value>,
    timestamp: Option<serde_json::Value>,
}

impl<'de> serde::Deserialize<'de> for Head {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Head, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Head;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
                let mut head = Head::default();
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    let slot = match key.as_ref() {
                        "webhookId" => &mut head.webhook_id,
                        "type" => &mut head.event_type,
                        "locationId" => &mut head.location_id,
                        "contactId" => &mut head.contact_id,
                        "id" => &mut head.id,
                        "timestamp" => &mut head.timestamp,
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = Some(map.next_value()?);
                }
                Ok(head)
            }
        }
        d.deserialize_map(Fields)
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
