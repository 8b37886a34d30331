//! What a bulk job does to each row, as catalog operations through the one
//! `ghl_core::Client` pipeline (policy, rate limiter, retry rules).

use ghl_core::{CallArgs, Client, Error, ErrorCode, Result};
use serde_json::{Value, json};

pub const UPSERT: &str = "contacts.upsert-contact";
pub const ADD_TAGS: &str = "contacts.add-tags";
pub const REMOVE_TAGS: &str = "contacts.remove-tags";
pub const ENROLL: &str = "contacts.add-contact-to-workflow";
pub const FIND_DUPLICATE: &str = "contacts.get-duplicate-contact";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Payload: the upsert body (JSON).
    Upsert,
    /// Payload: a contact id or an email address.
    AddTags {
        tags: Vec<String>,
    },
    RemoveTags {
        tags: Vec<String>,
    },
    Enroll {
        workflow_id: String,
    },
}

impl Action {
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Upsert => "import",
            Action::AddTags { .. } => "tags-add",
            Action::RemoveTags { .. } => "tags-remove",
            Action::Enroll { .. } => "enroll",
        }
    }

    pub fn operation(&self) -> &'static str {
        match self {
            Action::Upsert => UPSERT,
            Action::AddTags { .. } => ADD_TAGS,
            Action::RemoveTags { .. } => REMOVE_TAGS,
            Action::Enroll { .. } => ENROLL,
        }
    }

    /// Whether a row may be sent again when it is unknown whether the last
    /// send was applied. An upsert matched by email or phone lands on the
    /// same contact; adding or removing a tag twice leaves the same tags.
    /// Enrolling twice may start a workflow (and its messages) twice.
    pub fn repeatable(&self) -> bool {
        !matches!(self, Action::Enroll { .. })
    }

    /// Actions that reach people (a workflow sends messages) or take data
    /// away: asked once for the whole list, with the count.
    pub fn needs_confirmation(&self) -> bool {
        matches!(self, Action::Enroll { .. } | Action::RemoveTags { .. })
    }

    pub fn describe(&self) -> String {
        match self {
            Action::Upsert => "upsert contacts".into(),
            Action::AddTags { tags } => format!("add tags {}", tags.join(",")),
            Action::RemoveTags { tags } => format!("remove tags {}", tags.join(",")),
            Action::Enroll { workflow_id } => format!("enroll in workflow {workflow_id}"),
        }
    }

    /// Send one row; the word for what happened (`created`, `updated`,
    /// `tagged`...).
    pub async fn apply(&self, client: &Client, location: &str, payload: &str) -> Result<String> {
        match self {
            Action::Upsert => {
                let mut body: Value = serde_json::from_str(payload)
                    .map_err(|e| Error::validation(format!("journal row is not JSON: {e}")))?;
                body["locationId"] = json!(location);
                let answer = client.call(UPSERT, CallArgs::new().with_body(body)).await?;
                Ok(match answer.get("new").and_then(Value::as_bool) {
                    Some(true) => "created",
                    Some(false) => "updated",
                    None => "upserted",
                }
                .to_string())
            }
            Action::AddTags { tags } | Action::RemoveTags { tags } => {
                let id = contact_id(client, location, payload).await?;
                client
                    .call(
                        self.operation(),
                        CallArgs::new()
                            .param("contactId", id.as_str())
                            .param("tags", json!(tags)),
                    )
                    .await?;
                Ok(match self {
                    Action::AddTags { .. } => "tagged",
                    _ => "untagged",
                }
                .to_string())
            }
            Action::Enroll { workflow_id } => {
                let id = contact_id(client, location, payload).await?;
                client
                    .call(
                        ENROLL,
                        CallArgs::new()
                            .param("contactId", id.as_str())
                            .param("workflowId", workflow_id.as_str()),
                    )
                    .await?;
                Ok("enrolled".to_string())
            }
        }
    }
}

/// A list item is a contact id, or an email found through HighLevel's
/// duplicate lookup (the same match upsert uses).
pub async fn contact_id(client: &Client, location: &str, item: &str) -> Result<String> {
    if !item.contains('@') {
        return Ok(item.to_string());
    }
    match find_by_email(client, location, item).await? {
        Some(id) => Ok(id),
        None => Err(Error::new(
            ErrorCode::NotFound,
            format!("no contact with email {item}"),
        )),
    }
}

/// The id of the contact HighLevel would match for this email or phone.
pub async fn find_duplicate(
    client: &Client,
    location: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Option<String>> {
    let mut args = CallArgs::new().param("locationId", location);
    if let Some(e) = email {
        args.set("email", e);
    }
    if let Some(p) = phone {
        args.set("number", p);
    }
    let body = client.call(FIND_DUPLICATE, args).await?;
    Ok(body
        .pointer("/contact/id")
        .and_then(Value::as_str)
        .map(str::to_string))
}

async fn find_by_email(client: &Client, location: &str, email: &str) -> Result<Option<String>> {
    find_duplicate(client, location, Some(email), None).await
}
