//! Conversations: find threads, read messages, send SMS and email.

use ghl_core::CallArgs;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{ConfirmOpt, ListOpts, Plan, ToolDef, curated, opt};
use crate::options::Toolset::Conversations;

const SEND: &str = "conversations.send-a-new-message";

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Search {
    contact_id: Option<String>,
    query: Option<String>,
    /// all, read, unread, starred, recents
    status: Option<String>,
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Messages {
    conversation_id: String,
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Sms {
    contact_id: String,
    message: String,
    #[serde(flatten)]
    #[allow(dead_code)]
    confirm: ConfirmOpt,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Email {
    contact_id: String,
    subject: String,
    /// HTML body
    html: Option<String>,
    /// Plain-text body
    message: Option<String>,
    /// Defaults to the contact's email
    email_to: Option<String>,
    #[serde(flatten)]
    #[allow(dead_code)]
    confirm: ConfirmOpt,
}

/// Only what the message needs: the spec's required `subType` and `status`
/// are an erratum (crates/ghl-catalog/errata.toml, `send-message-body`).
fn message(kind: &str, contact_id: String) -> CallArgs {
    CallArgs::new()
        .param("type", kind)
        .param("contactId", contact_id)
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        curated(
            "search_conversations",
            "Search conversations",
            Conversations,
            "conversations.search-conversation",
            "Find conversation threads, e.g. a contact's.",
            |a: Search| {
                let mut args = CallArgs::new();
                opt(&mut args, "contactId", a.contact_id);
                opt(&mut args, "query", a.query);
                opt(&mut args, "status", a.status);
                Ok(Plan::list("conversations.search-conversation", args))
            },
        ),
        curated(
            "get_messages",
            "Read messages",
            Conversations,
            "conversations.get-messages",
            "Messages of a conversation, newest first.",
            |a: Messages| {
                Ok(Plan::list(
                    "conversations.get-messages",
                    CallArgs::new().param("conversationId", a.conversation_id),
                ))
            },
        ),
        curated(
            "send_sms",
            "Send an SMS",
            Conversations,
            SEND,
            "Text a contact. Asks the user first.",
            |a: Sms| {
                Ok(Plan::call(
                    SEND,
                    message("SMS", a.contact_id).param("message", a.message),
                ))
            },
        ),
        curated(
            "send_email",
            "Send an email",
            Conversations,
            SEND,
            "Email a contact. Asks the user first.",
            |a: Email| {
                let mut args = message("Email", a.contact_id).param("subject", a.subject);
                opt(&mut args, "html", a.html);
                opt(&mut args, "message", a.message);
                opt(&mut args, "emailTo", a.email_to);
                Ok(Plan::call(SEND, args))
            },
        ),
    ]
}
