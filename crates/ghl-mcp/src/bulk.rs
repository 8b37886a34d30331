//! Bulk tools: tag, untag or enrol a whole list of contacts in one
//! confirmed call, so an assistant never loops a single-record tool. The
//! first call previews (the count, a sample, the refused items) and issues
//! a token; the second runs the list through `ghl-bulk` (journalled, at the
//! rate ceiling, every request through `ghl_core::Client`).

use ghl_bulk::{Action, JobOptions, Journal, State};
use ghl_core::{Client, Error, ErrorCode};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::errors::invalid_arguments;
use crate::exec::{Executor, canonical};
use crate::options::Toolset;
use crate::tools::{Kind, ToolDef, schema_for};

/// The most contacts one call takes; bigger lists belong to the CLI
/// (`ghl contacts tags add --from FILE`).
pub const MAX_CONTACTS: usize = 1000;

/// What a bulk call does to each contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    Tag,
    Untag,
    Enroll,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Bulk {
    /// Ids or emails, up to 1000
    contacts: Vec<String>,
    action: BulkAction,
    tags: Option<Vec<String>>,
    workflow_id: Option<String>,
    confirm: Option<String>,
}

/// One tool for every list-driven action: one entry in tools/list, and the
/// preview says which action runs on how many contacts.
pub fn tools() -> Vec<ToolDef> {
    vec![ToolDef {
        name: "bulk_contacts",
        title: "Tag, untag or enroll many contacts",
        description: "Tag, untag or enroll (workflowId) many contacts in one call, never a loop of single calls; asks first.",
        toolset: Toolset::Contacts,
        op: Some(ghl_bulk::action::ADD_TAGS),
        force_confirm: true,
        kind: Kind::Bulk,
        schema: schema_for::<Bulk>,
    }]
}

/// Run one call of the bulk tool.
pub async fn run(exec: &Executor, tool: &str, arguments: Value) -> Result<Value, Error> {
    let a: Bulk =
        serde_json::from_value(arguments.clone()).map_err(|e| invalid_arguments(tool, e))?;
    let action = match a.action {
        BulkAction::Tag | BulkAction::Untag => {
            let tags: Vec<String> = a
                .tags
                .unwrap_or_default()
                .iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect();
            if tags.is_empty() {
                return Err(invalid_arguments(tool, "tags needs at least one tag"));
            }
            if a.action == BulkAction::Untag {
                Action::RemoveTags { tags }
            } else {
                Action::AddTags { tags }
            }
        }
        BulkAction::Enroll => {
            let workflow_id = a.workflow_id.unwrap_or_default().trim().to_string();
            if workflow_id.is_empty() {
                return Err(invalid_arguments(tool, "enroll needs workflowId"));
            }
            Action::Enroll { workflow_id }
        }
    };
    let (contacts, confirm) = (a.contacts, a.confirm);
    if contacts.is_empty() || contacts.len() > MAX_CONTACTS {
        return Err(invalid_arguments(
            tool,
            format!("contacts needs 1 to {MAX_CONTACTS} ids or emails"),
        )
        .with_hint("for bigger lists use the CLI: ghl contacts tags add --from FILE TAGS"));
    }
    if contacts
        .iter()
        .any(|c| c.contains('\n') || c.contains('\r'))
    {
        return Err(invalid_arguments(tool, "a contact holds a line break"));
    }
    let op = Client::operation(action.operation())?;
    exec.permitted(op).map_err(|e| e.with_operation(&op.name))?;
    let location = exec.client.defaults().location_id.clone().ok_or_else(|| {
        Error::validation(format!("{tool} needs a location"))
            .with_hint("configure a location: `ghl setup` or --location")
    })?;
    let rows = ghl_bulk::list::plan(contacts.join("\n").as_bytes()).map_err(Error::validation)?;
    let pending: Vec<&str> = rows
        .iter()
        .filter(|r| r.state == State::Pending)
        .map(|r| r.payload.as_str())
        .collect();
    let refused: Vec<Value> = rows
        .iter()
        .filter(|r| r.state == State::Refused)
        .take(10)
        .map(|r| json!({"item": r.row, "code": r.code, "message": r.message}))
        .collect();
    let preview = json!({
        "action": action.describe(),
        "count": pending.len(),
        "sample": pending.iter().take(5).collect::<Vec<_>>(),
        "refused": refused,
        "locationId": location,
    });
    if exec.client.policy().dry_run {
        return Ok(json!({"dry_run": true, "preview": preview}));
    }
    if pending.is_empty() {
        return Ok(
            json!({"sent": false, "preview": preview, "next": "no contact in the list can be acted on"}),
        );
    }
    let mut bound = arguments;
    if let Value::Object(m) = &mut bound {
        m.remove("confirm");
    }
    let binding = format!("{tool}\n{}", canonical(&bound));
    if exec.options.confirm {
        match confirm.as_deref().filter(|t| !t.trim().is_empty()) {
            None => {
                let token = exec.confirm.issue(binding);
                let secs = exec.confirm.ttl().as_secs();
                return Ok(json!({
                    "status": "confirmation_required",
                    "sent": false,
                    "preview": preview,
                    "confirm": token,
                    "expiresInSeconds": secs,
                    "next": format!(
                        "Nothing was sent. Tell the user: {} for {} contacts. Only if they agree, call {tool} again with the same arguments plus confirm=\"{token}\" (single use, {secs} s).",
                        action.describe(), pending.len()
                    ),
                }));
            }
            Some(token) => exec.confirm.redeem(token, &binding).map_err(|r| {
                Error::new(ErrorCode::ConfirmationRequired, r.explain()).with_hint(format!(
                    "nothing was sent; call {tool} again without confirm to get a fresh preview and token"
                ))
            })?,
        }
    }
    let journal = Journal::open(None).map_err(|e| {
        Error::config(format!("cannot open the bulk journal: {e}"))
            .with_hint("set GHL_STORE_URL to a writable SQLite file")
    })?;
    let (job, summary) = ghl_bulk::start(
        &exec.granted,
        &journal,
        &action,
        &location,
        &format!("mcp:{tool}"),
        &rows,
        &JobOptions::default(),
    )
    .await?;
    let failures: Vec<Value> = journal
        .rows(&job.id)
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.state == State::Failed)
        .take(10)
        .map(|r| json!({"item": r.row, "contact": r.match_key, "code": r.code, "message": r.message}))
        .collect();
    let mut out = serde_json::to_value(&summary).unwrap_or(Value::Null);
    out["sent"] = json!(true);
    out["failures"] = json!(failures);
    Ok(out)
}
