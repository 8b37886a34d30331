//! How a HighLevel record becomes a row: each table declares its columns as
//! JSON pointers into the record, and one generic upsert writes any of them.
//! Child rows (tags, custom field values, stages, stage history) are kept by
//! a table's hook.

use ghl_store::{Result, Tx, Value};
use serde_json::Value as Json;

use crate::time_ms;

/// How a JSON value is stored.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Text,
    Int,
    Real,
    Bool,
    /// An ISO time or epoch number, stored as epoch milliseconds.
    Ms,
    /// Any JSON, stored as its text (arrays of tags, for example).
    Json,
    /// Text trimmed and lower-cased: a key that finds duplicates (emails).
    Folded,
    /// Only the digits, a leading country 1 added to ten: a phone key.
    Digits,
}

#[derive(Debug)]
pub struct Col {
    pub name: &'static str,
    /// JSON pointers tried in order; the first present, non-null one wins.
    pub from: &'static [&'static str],
    pub kind: Kind,
}

/// Where a write comes from: a sync page or a webhook event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Sync,
    Event,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Sync => "sync",
            Origin::Event => "event",
        }
    }
}

/// Context of one write.
#[derive(Debug, Clone, Copy)]
pub struct Apply {
    pub origin: Origin,
    pub now_ms: i64,
}

pub type Hook = fn(&mut dyn Tx, &str, &Json, Apply) -> Result<()>;

pub struct Table {
    pub name: &'static str,
    pub id_from: &'static [&'static str],
    pub columns: &'static [Col],
    /// Tables whose rows belong to a row of this one: (table, column).
    pub children: &'static [(&'static str, &'static str)],
    /// Runs after the row is written.
    pub hook: Option<Hook>,
}

const fn c(name: &'static str, from: &'static [&'static str], kind: Kind) -> Col {
    Col { name, from, kind }
}
use Kind::*;

pub static CONTACTS: Table = Table {
    name: "contacts",
    id_from: &["/id"],
    columns: &[
        c("first_name", &["/firstName"], Text),
        c("last_name", &["/lastName"], Text),
        c(
            "name",
            &["/contactName", "/name", "/fullNameLowerCase"],
            Text,
        ),
        c("email", &["/email"], Text),
        c("phone", &["/phone"], Text),
        c("company_name", &["/companyName"], Text),
        c("source", &["/source"], Text),
        c("type", &["/type"], Text),
        c("assigned_to", &["/assignedTo"], Text),
        c("dnd", &["/dnd"], Bool),
        c("tags", &["/tags"], Json),
        c("date_added", &["/dateAdded"], Text),
        c("date_added_ms", &["/dateAdded"], Ms),
        c("date_updated", &["/dateUpdated", "/dateAdded"], Text),
        c("date_updated_ms", &["/dateUpdated", "/dateAdded"], Ms),
        c("email_key", &["/email"], Folded),
        c("phone_key", &["/phone"], Digits),
    ],
    children: &[
        ("contact_tags", "contact_id"),
        ("contact_field_values", "contact_id"),
    ],
    hook: Some(contact_children),
};

pub static CUSTOM_FIELDS: Table = Table {
    name: "custom_fields",
    id_from: &["/id"],
    columns: &[
        c("name", &["/name"], Text),
        c("field_key", &["/fieldKey"], Text),
        c("data_type", &["/dataType"], Text),
        c("model", &["/model"], Text),
    ],
    children: &[],
    hook: None,
};

pub static TAGS: Table = Table {
    name: "tags",
    id_from: &["/id"],
    columns: &[c("name", &["/name"], Text)],
    children: &[],
    hook: None,
};

pub static PIPELINES: Table = Table {
    name: "pipelines",
    id_from: &["/id"],
    columns: &[c("name", &["/name"], Text)],
    children: &[("stages", "pipeline_id")],
    hook: Some(pipeline_stages),
};

pub static OPPORTUNITIES: Table = Table {
    name: "opportunities",
    id_from: &["/id"],
    columns: &[
        c("name", &["/name"], Text),
        c("pipeline_id", &["/pipelineId"], Text),
        c("stage_id", &["/pipelineStageId"], Text),
        c("status", &["/status"], Text),
        c("monetary_value", &["/monetaryValue"], Real),
        c("assigned_to", &["/assignedTo"], Text),
        c("contact_id", &["/contactId", "/contact/id"], Text),
        c("source", &["/source"], Text),
        c("created_at", &["/createdAt", "/dateAdded"], Text),
        c("created_ms", &["/createdAt", "/dateAdded"], Ms),
        c("updated_at", &["/updatedAt", "/dateUpdated"], Text),
        c("updated_ms", &["/updatedAt", "/dateUpdated"], Ms),
    ],
    children: &[("stage_history", "opportunity_id")],
    hook: Some(stage_history),
};

pub static USERS: Table = Table {
    name: "users",
    id_from: &["/id"],
    columns: &[
        c("name", &["/name"], Text),
        c("first_name", &["/firstName"], Text),
        c("last_name", &["/lastName"], Text),
        c("email", &["/email"], Text),
        c("role", &["/roles/role", "/role"], Text),
    ],
    children: &[],
    hook: Some(user_name),
};

pub static CALENDARS: Table = Table {
    name: "calendars",
    id_from: &["/id"],
    columns: &[
        c("name", &["/name"], Text),
        c("group_id", &["/groupId"], Text),
    ],
    children: &[],
    hook: None,
};

pub static APPOINTMENTS: Table = Table {
    name: "appointments",
    id_from: &["/id"],
    columns: &[
        c("calendar_id", &["/calendarId"], Text),
        c("contact_id", &["/contactId"], Text),
        c("title", &["/title"], Text),
        c("status", &["/appointmentStatus", "/status"], Text),
        c("assigned_user_id", &["/assignedUserId"], Text),
        c("start_time", &["/startTime"], Text),
        c("start_ms", &["/startTime"], Ms),
        c("end_time", &["/endTime"], Text),
    ],
    children: &[],
    hook: None,
};

pub static CONVERSATIONS: Table = Table {
    name: "conversations",
    id_from: &["/id"],
    columns: &[
        c("contact_id", &["/contactId"], Text),
        c("type", &["/type"], Text),
        c("unread_count", &["/unreadCount"], Int),
        c("last_message_ms", &["/lastMessageDate"], Ms),
        c("last_message_body", &["/lastMessageBody"], Text),
    ],
    children: &[],
    hook: None,
};

pub static MESSAGES: Table = Table {
    name: "messages",
    id_from: &["/id", "/messageId"],
    columns: &[
        c("conversation_id", &["/conversationId"], Text),
        c("contact_id", &["/contactId"], Text),
        c("direction", &["/direction"], Text),
        c("type", &["/messageType", "/type"], Text),
        c("body", &["/body"], Text),
        c("status", &["/status"], Text),
        c("date_added", &["/dateAdded"], Text),
        c("date_added_ms", &["/dateAdded"], Ms),
    ],
    children: &[],
    hook: None,
};

pub static INVOICES: Table = Table {
    name: "invoices",
    id_from: &["/_id", "/id"],
    columns: &[
        c("number", &["/invoiceNumber"], Text),
        c("name", &["/name"], Text),
        c("status", &["/status"], Text),
        c("contact_id", &["/contactDetails/id", "/contactId"], Text),
        c("total", &["/total"], Real),
        c("amount_due", &["/amountDue"], Real),
        c("currency", &["/currency"], Text),
        c("issue_date", &["/issueDate"], Text),
        c("due_date", &["/dueDate"], Text),
        c("updated_at", &["/updatedAt"], Text),
    ],
    children: &[],
    hook: None,
};

pub static PRODUCTS: Table = Table {
    name: "products",
    id_from: &["/_id", "/id"],
    columns: &[
        c("name", &["/name"], Text),
        c("product_type", &["/productType"], Text),
        c("updated_at", &["/updatedAt"], Text),
    ],
    children: &[],
    hook: None,
};

/// Every table a sync or an event writes, for `--schema` and tests.
pub static ALL: &[&Table] = &[
    &CONTACTS,
    &CUSTOM_FIELDS,
    &TAGS,
    &PIPELINES,
    &OPPORTUNITIES,
    &USERS,
    &CALENDARS,
    &APPOINTMENTS,
    &CONVERSATIONS,
    &MESSAGES,
    &INVOICES,
    &PRODUCTS,
];

fn pick<'a>(record: &'a Json, from: &[&str]) -> Option<&'a Json> {
    from.iter()
        .filter_map(|p| record.pointer(p))
        .find(|v| !v.is_null())
}

/// The record's id, when it has a usable one.
pub fn record_id(table: &Table, record: &Json) -> Option<String> {
    match pick(record, table.id_from)? {
        Json::String(s) if !s.is_empty() && s.len() <= 200 => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn convert(v: Option<&Json>, kind: Kind) -> Value {
    let Some(v) = v else { return Value::Null };
    match kind {
        Text => match v {
            Json::String(s) => Value::Text(s.clone()),
            Json::Number(n) => Value::Text(n.to_string()),
            Json::Bool(b) => Value::Text(b.to_string()),
            _ => Value::Null,
        },
        Int => v
            .as_i64()
            .or_else(|| v.as_f64().map(|f| f as i64))
            .or_else(|| v.as_str()?.trim().parse().ok())
            .map_or(Value::Null, Value::Int),
        Real => v
            .as_f64()
            .or_else(|| v.as_str()?.trim().parse().ok())
            .map_or(Value::Null, Value::Real),
        Bool => match v {
            Json::Bool(b) => Value::Int(*b as i64),
            Json::String(s) => Value::Int((s == "true") as i64),
            Json::Number(n) => Value::Int((n.as_f64() != Some(0.0)) as i64),
            _ => Value::Null,
        },
        Ms => time_ms(v).map_or(Value::Null, Value::Int),
        Json => Value::Text(v.to_string()),
        Folded => match v.as_str().map(|s| s.trim().to_lowercase()) {
            Some(s) if !s.is_empty() => Value::Text(s),
            _ => Value::Null,
        },
        Digits => {
            let d: String = v
                .as_str()
                .unwrap_or("")
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            match d.len() {
                0 => Value::Null,
                10 => Value::Text(format!("1{d}")),
                _ => Value::Text(d),
            }
        }
    }
}

fn upsert_sql(t: &Table) -> String {
    let cols: Vec<&str> = t.columns.iter().map(|c| c.name).collect();
    let marks: Vec<String> = (1..=cols.len() + 2).map(|i| format!("${i}")).collect();
    let updates: Vec<String> = cols
        .iter()
        .chain(std::iter::once(&"raw"))
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {} (id, {}, raw) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        t.name,
        cols.join(", "),
        marks.join(", "),
        updates.join(", ")
    )
}

/// Write one record (insert or replace); its id, or `None` when the record
/// has no id (it is skipped: nothing can find it again).
pub fn upsert(tx: &mut dyn Tx, t: &Table, record: &Json, apply: Apply) -> Result<Option<String>> {
    let Some(id) = record_id(t, record) else {
        return Ok(None);
    };
    let mut params = Vec::with_capacity(t.columns.len() + 2);
    params.push(Value::Text(id.clone()));
    for col in t.columns {
        params.push(convert(pick(record, col.from), col.kind));
    }
    params.push(Value::Text(record.to_string()));
    tx.execute(&upsert_sql(t), &params)?;
    if let Some(hook) = t.hook {
        hook(tx, &id, record, apply)?;
    }
    Ok(Some(id))
}

/// Remove one record and the rows that belong to it.
pub fn delete(tx: &mut dyn Tx, t: &Table, id: &str) -> Result<u64> {
    for (child, col) in t.children {
        tx.execute(
            &format!("DELETE FROM {child} WHERE {col} = $1"),
            &[id.into()],
        )?;
    }
    tx.execute(
        &format!("DELETE FROM {} WHERE id = $1", t.name),
        &[id.into()],
    )
}

fn contact_children(tx: &mut dyn Tx, id: &str, record: &Json, _: Apply) -> Result<()> {
    tx.execute(
        "UPDATE contacts SET name = TRIM(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))
         WHERE id = $1 AND (name IS NULL OR name = '')",
        &[id.into()],
    )?;
    if let Some(tags) = record.get("tags").and_then(Json::as_array) {
        tx.execute(
            "DELETE FROM contact_tags WHERE contact_id = $1",
            &[id.into()],
        )?;
        for tag in tags.iter().filter_map(Json::as_str) {
            tx.execute(
                "INSERT INTO contact_tags (contact_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[id.into(), tag.into()],
            )?;
        }
    }
    let fields = record
        .get("customFields")
        .or_else(|| record.get("customField"))
        .and_then(Json::as_array);
    if let Some(fields) = fields {
        tx.execute(
            "DELETE FROM contact_field_values WHERE contact_id = $1",
            &[id.into()],
        )?;
        for f in fields {
            let Some(field_id) = f.get("id").and_then(Json::as_str) else {
                continue;
            };
            let value = match f.get("value").or_else(|| f.get("fieldValue")) {
                None | Some(Json::Null) => Value::Null,
                Some(Json::String(s)) => Value::Text(s.clone()),
                Some(other) => Value::Text(other.to_string()),
            };
            tx.execute(
                "INSERT INTO contact_field_values (contact_id, field_id, value) VALUES ($1, $2, $3)
                 ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value",
                &[id.into(), field_id.into(), value],
            )?;
        }
    }
    Ok(())
}

fn user_name(tx: &mut dyn Tx, id: &str, _: &Json, _: Apply) -> Result<()> {
    tx.execute(
        "UPDATE users SET name = TRIM(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))
         WHERE id = $1 AND (name IS NULL OR name = '')",
        &[id.into()],
    )?;
    Ok(())
}

fn pipeline_stages(tx: &mut dyn Tx, id: &str, record: &Json, _: Apply) -> Result<()> {
    let Some(stages) = record.get("stages").and_then(Json::as_array) else {
        return Ok(());
    };
    tx.execute("DELETE FROM stages WHERE pipeline_id = $1", &[id.into()])?;
    for (i, s) in stages.iter().enumerate() {
        let Some(sid) = s.get("id").and_then(Json::as_str) else {
            continue;
        };
        let position = s.get("position").and_then(Json::as_i64).unwrap_or(i as i64);
        tx.execute(
            "INSERT INTO stages (id, pipeline_id, name, position) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET pipeline_id = excluded.pipeline_id,
             name = excluded.name, position = excluded.position",
            &[
                sid.into(),
                id.into(),
                s.get("name").and_then(Json::as_str).into(),
                Value::Int(position),
            ],
        )?;
    }
    Ok(())
}

/// Record when a deal entered its current stage: on first sight, the time
/// HighLevel states (lastStageChangeAt, else its creation); on a change,
/// that time when it is newer than the previous entry, else now.
fn stage_history(tx: &mut dyn Tx, id: &str, record: &Json, apply: Apply) -> Result<()> {
    let Some(stage) = record.get("pipelineStageId").and_then(Json::as_str) else {
        return Ok(());
    };
    let last = tx.query_opt(
        "SELECT stage_id, entered_ms FROM stage_history WHERE opportunity_id = $1
         ORDER BY entered_ms DESC LIMIT 1",
        &[id.into()],
    )?;
    let stated = pick(record, &["/lastStageChangeAt"]).and_then(time_ms);
    let entered = match last {
        Some(row) if row.opt_text("stage_id").as_deref() == Some(stage) => row.int("entered_ms")?,
        Some(row) => {
            let previous = row.int("entered_ms")?;
            let at = stated
                .filter(|s| *s > previous)
                .unwrap_or(apply.now_ms.max(previous + 1));
            insert_history(tx, id, stage, at, apply.origin)?;
            at
        }
        None => {
            let at = stated
                .or_else(|| pick(record, &["/createdAt", "/dateAdded"]).and_then(time_ms))
                .unwrap_or(apply.now_ms);
            insert_history(tx, id, stage, at, apply.origin)?;
            at
        }
    };
    tx.execute(
        "UPDATE opportunities SET stage_entered_ms = $2 WHERE id = $1",
        &[id.into(), Value::Int(entered)],
    )?;
    Ok(())
}

fn insert_history(tx: &mut dyn Tx, id: &str, stage: &str, at: i64, origin: Origin) -> Result<()> {
    tx.execute(
        "INSERT INTO stage_history (opportunity_id, stage_id, entered_ms, origin)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        &[
            id.into(),
            stage.into(),
            Value::Int(at),
            origin.as_str().into(),
        ],
    )?;
    Ok(())
}
