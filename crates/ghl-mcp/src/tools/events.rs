//! What HighLevel pushed to this machine: the webhook events that `ghl
//! webhooks listen` stored, read-only, so an assistant can notice "Jane
//! replied" without polling the API.

use ghl_core::Error;
use ghl_events::{Filter, Spool, State};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Kind, ToolDef, schema_for};
use crate::errors::invalid_arguments;
use crate::options::Toolset;

pub const NAME: &str = "recent_events";

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Args {
    /// Only this event type, e.g. InboundMessage, ContactCreate, OpportunityStageUpdate
    #[serde(rename = "type")]
    event_type: Option<String>,
    /// Only events about this contact
    contact_id: Option<String>,
    /// Only events of this location
    location_id: Option<String>,
    /// Only events received in the last N minutes
    since_minutes: Option<u32>,
    /// How many, newest first (default 20, max 100)
    limit: Option<u32>,
    /// Include each event's full payload (default true)
    payload: Option<bool>,
}

pub fn tools() -> Vec<ToolDef> {
    vec![ToolDef {
        name: NAME,
        title: "Recent webhook events",
        description: "Events HighLevel pushed (inbound messages, new contacts, stage changes, \
            bookings, payments), newest first, as received by `ghl webhooks listen` on this machine. \
            Read-only; filter by type, contact, location, time.",
        toolset: Toolset::Events,
        op: None,
        force_confirm: false,
        kind: Kind::RecentEvents,
        schema: schema_for::<Args>,
    }]
}

pub async fn recent(arguments: Value) -> Result<Value, Error> {
    let a: Args = serde_json::from_value(arguments).map_err(|e| invalid_arguments(NAME, e))?;
    let url = ghl_store::StoreUrl::resolve(None, "events")
        .map_err(|e| Error::config(format!("event store: {e}")))?;
    let none_yet = || json!({"events": [], "note": "no events received on this machine yet: run `ghl webhooks listen` and point HighLevel's webhooks at it"});
    // Reading never creates the store.
    if let ghl_store::StoreUrl::Sqlite(path) = &url
        && !path.exists()
    {
        return Ok(none_yet());
    }
    let filter = Filter {
        event_type: a.event_type,
        location_id: a.location_id,
        contact_id: a.contact_id,
        state: None,
        since_ms: a
            .since_minutes
            .map(|m| ghl_events::verify::now_ms() - m as i64 * 60_000),
        limit: a.limit.unwrap_or(20).clamp(1, 100) as i64,
    };
    let with_payload = a.payload.unwrap_or(true);
    let events = tokio::task::spawn_blocking(move || {
        let store = ghl_store::Store::open(&url)?;
        Spool::reader(store).list(&filter)
    })
    .await
    .map_err(|e| Error::config(format!("event store: {e}")))?
    .map_err(|e| Error::config(format!("event store: {e}")))?;
    let rows: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut v = json!({
                "webhookId": e.webhook_id,
                "type": e.event_type,
                "locationId": e.location_id,
                "contactId": e.contact_id,
                "receivedAt": e.received_at_ms,
                "delivered": e.state == State::Delivered,
            });
            if with_payload {
                v["payload"] = e.payload();
            }
            v
        })
        .collect();
    Ok(json!({"events": rows}))
}
