//! Which modelled operations emit which HighLevel webhook events, and how
//! the payload is cut from the changed document (shapes follow
//! `docs/webhook-events/`): declared once here, not in each handler.

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use crate::routes::Ctx;

/// Where the changed document lives.
#[derive(Clone, Copy)]
enum Coll {
    Contact,
    Doc(&'static str),
}

/// Where its id comes from: a path parameter, or a JSON pointer into the
/// handler's reply (for creations).
#[derive(Clone, Copy)]
enum Id {
    Path(&'static str),
    Reply(&'static str),
}

/// What the operation emits.
#[derive(Clone, Copy)]
enum Emit {
    One(&'static str),
    /// Create or update, as the reply's `new` says.
    Upsert(&'static str, &'static str),
    /// Update, plus one event per changed field that HighLevel reports on its own.
    Opportunity,
    /// Paid or partially paid, from the invoice's status afterwards.
    Payment,
    /// Only when the task is now completed.
    TaskComplete,
}

struct Rule {
    op: &'static str,
    coll: Coll,
    id: Id,
    emit: Emit,
}

const fn r(op: &'static str, coll: Coll, id: Id, emit: Emit) -> Rule {
    Rule { op, coll, id, emit }
}

use Coll::{Contact, Doc};
use Emit::{One, Upsert};
use Id::{Path, Reply};

// One line per operation reads as a table.
#[rustfmt::skip]
const RULES: &[Rule] = &[
    r("contacts.create-contact", Contact, Reply("/contact/id"), One("ContactCreate")),
    r("contacts.update-contact", Contact, Path("contactId"), One("ContactUpdate")),
    r("contacts.upsert-contact", Contact, Reply("/contact/id"), Upsert("ContactCreate", "ContactUpdate")),
    r("contacts.delete-contact", Contact, Path("contactId"), One("ContactDelete")),
    r("contacts.add-tags", Contact, Path("contactId"), One("ContactTagUpdate")),
    r("contacts.remove-tags", Contact, Path("contactId"), One("ContactTagUpdate")),
    r("contacts.create-note", Doc("notes"), Reply("/note/id"), One("NoteCreate")),
    r("contacts.update-note", Doc("notes"), Path("id"), One("NoteUpdate")),
    r("contacts.delete-note", Doc("notes"), Path("id"), One("NoteDelete")),
    r("contacts.create-task", Doc("tasks"), Reply("/task/id"), One("TaskCreate")),
    r("contacts.update-task", Doc("tasks"), Path("taskId"), Emit::TaskComplete),
    r("contacts.update-task-completed", Doc("tasks"), Path("taskId"), Emit::TaskComplete),
    r("contacts.delete-task", Doc("tasks"), Path("taskId"), One("TaskDelete")),
    r("opportunities.create-opportunity", Doc("opportunities"), Reply("/opportunity/id"), One("OpportunityCreate")),
    r("opportunities.update-opportunity", Doc("opportunities"), Path("id"), Emit::Opportunity),
    r("opportunities.update-opportunity-status", Doc("opportunities"), Path("id"), Emit::Opportunity),
    r("opportunities.upsert-opportunity", Doc("opportunities"), Reply("/opportunity/id"), Upsert("OpportunityCreate", "OpportunityUpdate")),
    r("opportunities.delete-opportunity", Doc("opportunities"), Path("id"), One("OpportunityDelete")),
    r("calendars.create-appointment", Doc("appointments"), Reply("/id"), One("AppointmentCreate")),
    r("calendars.edit-appointment", Doc("appointments"), Path("eventId"), One("AppointmentUpdate")),
    r("calendars.delete-event", Doc("appointments"), Path("eventId"), One("AppointmentDelete")),
    r("conversations.send-a-new-message", Doc("messages"), Reply("/messageId"), One("OutboundMessage")),
    r("conversations.add-an-inbound-message", Doc("messages"), Reply("/messageId"), One("InboundMessage")),
    r("conversations.add-an-outbound-message", Doc("messages"), Reply("/messageId"), One("OutboundMessage")),
    r("invoices.create-invoice", Doc("invoices"), Reply("/_id"), One("InvoiceCreate")),
    r("invoices.update-invoice", Doc("invoices"), Path("invoiceId"), One("InvoiceUpdate")),
    r("invoices.delete-invoice", Doc("invoices"), Path("invoiceId"), One("InvoiceDelete")),
    r("invoices.send-invoice", Doc("invoices"), Path("invoiceId"), One("InvoiceSent")),
    r("invoices.void-invoice", Doc("invoices"), Path("invoiceId"), One("InvoiceVoid")),
    r("invoices.record-invoice", Doc("invoices"), Path("invoiceId"), Emit::Payment),
];

fn rule(op: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.op == op)
}

fn load(c: &Connection, coll: Coll, id: &str) -> rusqlite::Result<Option<Value>> {
    match coll {
        Contact => crate::contact_store::get(c, id),
        Doc(name) => crate::store::doc_get(c, name, id),
    }
}

/// The document as it was before the change (deletes and field changes
/// need it); `None` when the operation emits nothing.
pub fn before(c: &Connection, ctx: &Ctx) -> rusqlite::Result<Option<Value>> {
    match rule(ctx.op.name.as_str()) {
        Some(Rule {
            coll, id: Path(p), ..
        }) => load(c, *coll, ctx.p(p)),
        _ => Ok(None),
    }
}

/// The events (type + payload, without `webhookId`/`timestamp`, which are
/// set at each delivery attempt) that a successful operation emits.
pub fn events(
    c: &Connection,
    ctx: &Ctx,
    before: Option<&Value>,
    reply: &Value,
) -> rusqlite::Result<Vec<Value>> {
    let Some(rule) = rule(ctx.op.name.as_str()) else {
        return Ok(Vec::new());
    };
    let id = match rule.id {
        Path(p) => ctx.p(p).to_string(),
        Reply(ptr) => match reply.pointer(ptr).and_then(Value::as_str) {
            Some(s) => s.to_string(),
            None => return Ok(Vec::new()),
        },
    };
    let after = load(c, rule.coll, &id)?;
    let Some(doc) = after.as_ref().or(before) else {
        return Ok(Vec::new());
    };
    let types: Vec<&'static str> = match rule.emit {
        One(t) => vec![t],
        Upsert(create, update) => {
            vec![if reply["new"].as_bool() == Some(true) {
                create
            } else {
                update
            }]
        }
        Emit::TaskComplete => {
            let done = |d: Option<&Value>| d.and_then(|d| d["completed"].as_bool()) == Some(true);
            if done(after.as_ref()) && !done(before) {
                vec!["TaskComplete"]
            } else {
                vec![]
            }
        }
        Emit::Payment => match doc["status"].as_str() {
            Some("paid") => vec!["InvoicePaid"],
            _ => vec!["InvoicePartiallyPaid"],
        },
        Emit::Opportunity => {
            let mut v = vec!["OpportunityUpdate"];
            let changed = |k: &str| before.is_some_and(|b| b.get(k) != doc.get(k));
            for (field, event) in [
                ("pipelineStageId", "OpportunityStageUpdate"),
                ("status", "OpportunityStatusUpdate"),
                ("monetaryValue", "OpportunityMonetaryValueUpdate"),
                ("assignedTo", "OpportunityAssignedToUpdate"),
            ] {
                if changed(field) {
                    v.push(event);
                }
            }
            v
        }
    };
    Ok(types
        .into_iter()
        .map(|t| payload(t, &ctx.location_id, doc))
        .collect())
}

/// HighLevel's shape: the document's fields at the top level next to
/// `type` and `locationId`; appointments nested under `appointment`;
/// messages with `messageId` and a bare `messageType` (`SMS`, `Email`).
pub fn payload(event_type: &str, location_id: &str, doc: &Value) -> Value {
    let mut out = Map::new();
    out.insert("type".into(), json!(event_type));
    out.insert("locationId".into(), json!(location_id));
    if event_type.starts_with("Appointment") {
        out.insert("appointment".into(), doc.clone());
        return Value::Object(out);
    }
    if let Some(fields) = doc.as_object() {
        for (k, v) in fields {
            if k != "type" && k != "locationId" {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    if event_type.ends_with("Message") {
        out.remove("id");
        out.insert("messageId".into(), doc["id"].clone());
        let mt = doc["messageType"].as_str().unwrap_or("TYPE_SMS");
        let bare = match mt.trim_start_matches("TYPE_") {
            "EMAIL" => "Email".to_string(),
            other => other.to_string(),
        };
        out.insert("messageType".into(), json!(bare));
    }
    Value::Object(out)
}
