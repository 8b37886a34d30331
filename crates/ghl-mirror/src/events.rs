//! Apply one HighLevel webhook event to the mirror, so it stays fresh
//! between syncs. Events carry a record's changed fields, not always the
//! whole record: they are merged into the mirrored record. A sync later
//! reconciles whatever events missed.

use ghl_core::Error;
use ghl_store::Tx;
use serde_json::{Map, Value as Json};

use crate::tables::{self, Apply, Origin, Table};
use crate::{Mirror, now_ms, store_error};

/// What an event did to the mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Upserted {
        table: &'static str,
        id: String,
    },
    Deleted {
        table: &'static str,
        id: String,
    },
    /// Not a record the mirror keeps (or no id in it).
    Ignored(String),
}

enum Action {
    Upsert,
    Delete,
}

/// Which table an event type touches, where its record is, and what it does.
fn route(kind: &str) -> Option<(&'static Table, Option<&'static str>, Action)> {
    use Action::*;
    Some(match kind {
        "ContactCreate" | "ContactUpdate" | "ContactTagUpdate" | "ContactDndUpdate" => {
            (&tables::CONTACTS, None, Upsert)
        }
        "ContactDelete" => (&tables::CONTACTS, None, Delete),
        "OpportunityCreate"
        | "OpportunityUpdate"
        | "OpportunityStageUpdate"
        | "OpportunityStatusUpdate"
        | "OpportunityMonetaryValueUpdate"
        | "OpportunityAssignedToUpdate" => (&tables::OPPORTUNITIES, None, Upsert),
        "OpportunityDelete" => (&tables::OPPORTUNITIES, None, Delete),
        "AppointmentCreate" | "AppointmentUpdate" => {
            (&tables::APPOINTMENTS, Some("appointment"), Upsert)
        }
        "AppointmentDelete" => (&tables::APPOINTMENTS, Some("appointment"), Delete),
        "InboundMessage" | "OutboundMessage" => (&tables::MESSAGES, None, Upsert),
        "InvoiceCreate"
        | "InvoiceUpdate"
        | "InvoicePaid"
        | "InvoicePartiallyPaid"
        | "InvoiceSent"
        | "InvoiceVoid" => (&tables::INVOICES, None, Upsert),
        "InvoiceDelete" => (&tables::INVOICES, None, Delete),
        "ProductCreate" | "ProductUpdate" => (&tables::PRODUCTS, None, Upsert),
        "ProductDelete" => (&tables::PRODUCTS, None, Delete),
        "UserCreate" | "UserUpdate" => (&tables::USERS, None, Upsert),
        "UserDelete" => (&tables::USERS, None, Delete),
        _ => return None,
    })
}

/// Keys of the event envelope, not of the record.
const ENVELOPE: &[&str] = &["type", "webhookId", "timestamp", "version"];

/// Apply one event (the JSON HighLevel posted) to the mirror, in one
/// transaction. Unknown event types are ignored, not errors.
pub fn apply_event(mirror: &Mirror, event: &Json) -> Result<Applied, Error> {
    let kind = event
        .get("type")
        .and_then(Json::as_str)
        .ok_or_else(|| Error::validation("the event has no `type`"))?;
    let Some((table, inner, action)) = route(kind) else {
        return Ok(Applied::Ignored(format!("{kind} is not mirrored")));
    };
    let mut record: Map<String, Json> = match inner {
        Some(key) => event.get(key).and_then(Json::as_object).cloned(),
        None => event.as_object().map(|m| {
            m.iter()
                .filter(|(k, _)| !ENVELOPE.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }),
    }
    .ok_or_else(|| Error::validation(format!("{kind}: the event has no record")))?;
    if kind.ends_with("Message")
        && !record.contains_key("id")
        && let Some(id) = record.get("messageId").cloned()
    {
        record.insert("id".into(), id);
    }
    let record = Json::Object(record);
    let Some(id) = tables::record_id(table, &record) else {
        return Ok(Applied::Ignored(format!("{kind} without an id")));
    };
    let apply = Apply {
        origin: Origin::Event,
        now_ms: now_ms(),
    };
    let id2 = id.clone();
    mirror
        .store()
        .write(move |tx| match action {
            Action::Delete => {
                tables::delete(tx, table, &id2)?;
                Ok(Applied::Deleted {
                    table: table.name,
                    id: id2,
                })
            }
            Action::Upsert => {
                let merged = merge_with_mirrored(tx, table, &id2, record)?;
                tables::upsert(tx, table, &merged, apply)?;
                if table.name == "messages" {
                    touch_conversation(tx, &merged)?;
                }
                Ok(Applied::Upserted {
                    table: table.name,
                    id: id2,
                })
            }
        })
        .map_err(store_error)
}

/// The mirrored record with the event's fields laid over it.
fn merge_with_mirrored(
    tx: &mut dyn Tx,
    table: &Table,
    id: &str,
    record: Json,
) -> ghl_store::Result<Json> {
    let existing = tx.query_opt(
        &format!("SELECT raw FROM {} WHERE id = $1", table.name),
        &[id.into()],
    )?;
    let Some(mut base) = existing
        .and_then(|r| r.opt_text("raw"))
        .and_then(|raw| serde_json::from_str::<Json>(&raw).ok())
        .filter(Json::is_object)
    else {
        return Ok(record);
    };
    if let (Some(b), Json::Object(patch)) = (base.as_object_mut(), record) {
        for (k, v) in patch {
            b.insert(k, v);
        }
    }
    Ok(base)
}

/// A new message moves its conversation's last-message time.
fn touch_conversation(tx: &mut dyn Tx, message: &Json) -> ghl_store::Result<()> {
    let (Some(cid), Some(at)) = (
        message.get("conversationId").and_then(Json::as_str),
        message.get("dateAdded").and_then(crate::time_ms),
    ) else {
        return Ok(());
    };
    tx.execute(
        "UPDATE conversations SET last_message_ms = $2, last_message_body = $3
         WHERE id = $1 AND (last_message_ms IS NULL OR last_message_ms < $2)",
        &[
            cid.into(),
            ghl_store::Value::Int(at),
            message.get("body").and_then(Json::as_str).into(),
        ],
    )?;
    Ok(())
}
