//! What a sync fetches, declared per group: the operation, its arguments,
//! the table its records go to, whether it can ask for changes only, and
//! how deletions are found. The engine in [`crate::sync`] runs any of them.

use ghl_core::CallArgs;
use ghl_store::Value;
use serde_json::{Value as Json, json};

use crate::tables::{self, Table};

/// What a group's run knows when it builds its arguments.
#[derive(Debug, Clone)]
pub struct Plan {
    pub now_ms: i64,
    /// `--since`: the oldest conversation and appointment to mirror.
    pub since_ms: i64,
}

/// When records missing from a scan are deleted from the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reconcile {
    /// Every run reads the whole list: whatever it did not see is gone.
    Always,
    /// Only `--full` reads the whole list.
    OnFull,
    /// The list is bounded (`--since`); nothing is deleted by absence.
    Never,
}

/// One walk per row of a parent table (messages per conversation).
pub struct Parent {
    /// The group that fills the parent table; this one runs after it.
    pub group: &'static str,
    /// `SELECT id …` over the mirror, `$1` = the lower time bound.
    pub sql: &'static str,
    /// The operation's parameter that takes the parent id.
    pub param: &'static str,
}

pub struct Group {
    pub name: &'static str,
    pub table: &'static Table,
    pub op: &'static str,
    pub args: fn(&Plan) -> CallArgs,
    pub parent: Option<Parent>,
    /// Narrow the arguments to records changed at or after this time.
    pub changed_since: Option<fn(&mut CallArgs, i64)>,
    /// A record past which the list (sorted newest first) is out of bounds.
    pub stop_at: Option<fn(&Json, &Plan) -> bool>,
    pub reconcile: Reconcile,
}

fn none(_: &Plan) -> CallArgs {
    CallArgs::new()
}

fn contacts_args(_: &Plan) -> CallArgs {
    // Oldest first: contacts added during the scan land after it, not in it.
    CallArgs::new().with_body(json!({
        "pageLimit": 500,
        "sort": [{"field": "dateAdded", "direction": "asc"}],
    }))
}

fn contacts_changed_since(args: &mut CallArgs, ms: i64) {
    if let Some(Json::Object(body)) = args.body.as_mut() {
        body.insert(
            "filters".into(),
            json!([{"field": "dateUpdated", "operator": "range", "value": {"gte": crate::iso(ms)}}]),
        );
    }
}

/// The POST search numbers its pages (up to 10,000 records): the engine
/// fetches them ahead, side by side, where the GET search can only follow
/// its cursor one page at a time. The spec requires every body field.
fn opportunities_args(_: &Plan) -> CallArgs {
    CallArgs::new().with_body(json!({
        "query": "",
        "limit": 100,
        "searchAfter": [],
        "additionalDetails": {},
    }))
}

fn limit_100(_: &Plan) -> CallArgs {
    CallArgs::new().param("limit", 100)
}

fn conversations_args(_: &Plan) -> CallArgs {
    CallArgs::new()
        .param("limit", 100)
        .param("sort", "desc")
        .param("sortBy", "last_message_date")
}

fn conversation_too_old(record: &Json, plan: &Plan) -> bool {
    record
        .get("lastMessageDate")
        .and_then(crate::time_ms)
        .is_some_and(|ms| ms < plan.since_ms)
}

fn appointments_args(plan: &Plan) -> CallArgs {
    CallArgs::new()
        .param("startTime", plan.since_ms.to_string())
        .param("endTime", (plan.now_ms + 365 * 86_400_000).to_string())
}

fn messages_args(_: &Plan) -> CallArgs {
    CallArgs::new().param("limit", 100)
}

/// Every group, in the order a full sync runs them: names and definitions
/// first, so later groups can point at them.
pub static GROUPS: &[Group] = &[
    Group {
        name: "users",
        table: &tables::USERS,
        op: "users.get-user-by-location",
        args: none,
        parent: None,
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Always,
    },
    Group {
        name: "custom_fields",
        table: &tables::CUSTOM_FIELDS,
        op: "locations.get-custom-fields",
        args: none,
        parent: None,
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Always,
    },
    Group {
        name: "tags",
        table: &tables::TAGS,
        op: "locations.get-location-tags",
        args: none,
        parent: None,
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Always,
    },
    Group {
        name: "pipelines",
        table: &tables::PIPELINES,
        op: "opportunities.get-pipelines",
        args: none,
        parent: None,
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Always,
    },
    Group {
        name: "contacts",
        table: &tables::CONTACTS,
        op: "contacts.search-contacts-advanced",
        args: contacts_args,
        parent: None,
        changed_since: Some(contacts_changed_since),
        stop_at: None,
        reconcile: Reconcile::OnFull,
    },
    Group {
        name: "opportunities",
        table: &tables::OPPORTUNITIES,
        op: "opportunities.search-opportunities-advanced",
        args: opportunities_args,
        parent: None,
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Always,
    },
    Group {
        name: "calendars",
        table: &tables::CALENDARS,
        op: "calendars.get-calendars",
        args: none,
        parent: None,
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Always,
    },
    Group {
        name: "appointments",
        table: &tables::APPOINTMENTS,
        op: "calendars.get-calendar-events",
        args: appointments_args,
        parent: Some(Parent {
            group: "calendars",
            sql: "SELECT id FROM calendars WHERE $1 = $1 ORDER BY id",
            param: "calendarId",
        }),
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Never,
    },
    Group {
        name: "conversations",
        table: &tables::CONVERSATIONS,
        op: "conversations.search-conversation",
        args: conversations_args,
        parent: None,
        changed_since: None,
        stop_at: Some(conversation_too_old),
        reconcile: Reconcile::Never,
    },
    Group {
        name: "messages",
        table: &tables::MESSAGES,
        op: "conversations.get-messages",
        args: messages_args,
        parent: Some(Parent {
            group: "conversations",
            sql: "SELECT id FROM conversations WHERE last_message_ms >= $1 ORDER BY id",
            param: "conversationId",
        }),
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Never,
    },
    Group {
        name: "invoices",
        table: &tables::INVOICES,
        op: "invoices.list-invoices",
        args: limit_100,
        parent: None,
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Always,
    },
    Group {
        name: "products",
        table: &tables::PRODUCTS,
        op: "products.list-invoices",
        args: limit_100,
        parent: None,
        changed_since: None,
        stop_at: None,
        reconcile: Reconcile::Always,
    },
];

/// The groups a `--groups` list names (all when empty), in run order, with
/// did-you-mean for a wrong name.
pub fn select(names: &[String]) -> Result<Vec<&'static Group>, ghl_core::Error> {
    if names.is_empty() {
        return Ok(GROUPS.iter().collect());
    }
    let wanted: Vec<String> = names
        .iter()
        .flat_map(|n| n.split(','))
        .map(|n| n.trim().replace('-', "_").to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect();
    for w in &wanted {
        if !GROUPS.iter().any(|g| g.name == w) {
            let all: Vec<&str> = GROUPS.iter().map(|g| g.name).collect();
            return Err(
                ghl_core::Error::validation(format!("no sync group named {w}"))
                    .with_hint(format!("groups: {}", all.join(", "))),
            );
        }
    }
    Ok(GROUPS
        .iter()
        .filter(|g| wanted.iter().any(|w| w == g.name))
        .collect())
}

/// The lower bound a parent query takes.
pub fn parent_bound(plan: &Plan, high_water: Option<i64>) -> Value {
    Value::Int(high_water.unwrap_or(plan.since_ms).max(plan.since_ms))
}
