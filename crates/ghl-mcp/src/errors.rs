//! Failures as tool errors (`isError: true`) whose text tells the model
//! what to do next, not just what went wrong.

use ghl_core::{Error, ErrorCode};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::json;

/// The next step for each kind of failure, when the error carries no hint
/// of its own or needs more than it.
fn next_step(e: &Error) -> Option<String> {
    Some(match e.code {
        ErrorCode::MissingScope => {
            let scopes = if e.scopes.is_empty() {
                "the scope this operation needs".to_string()
            } else {
                e.scopes.join(", ")
            };
            format!(
                "The HighLevel token lacks {scopes}. Tell the user to add it in HighLevel: Settings > Private Integrations > edit the integration > Scopes, save, then retry. Do not retry before that."
            )
        }
        ErrorCode::InvalidToken => "The HighLevel token is invalid or expired. Ask the user to run `ghl setup` (or rotate the Private Integration token) and restart the MCP server.".into(),
        ErrorCode::LocationForbidden => "The token cannot access this location. Check the location id, or use a token of that sub-account.".into(),
        ErrorCode::Validation | ErrorCode::BadRequest => "Fix the arguments and call again; describe_operation lists an operation's parameters.".into(),
        ErrorCode::UnknownOperation => "Use find_operations to find the right operation name.".into(),
        ErrorCode::Policy => "This server's policy forbids it; do not retry. Tell the user if the action is needed.".into(),
        ErrorCode::ConfirmationRequired => "Show the user the preview and call again with the confirm token if they agree.".into(),
        ErrorCode::NotFound => "Check the id; search tools find records by name, email or phone.".into(),
        ErrorCode::RateLimited => "HighLevel's rate limit was hit; wait ten seconds before calling again.".into(),
        ErrorCode::Server | ErrorCode::Network | ErrorCode::Timeout => {
            if e.operation.as_deref().and_then(ghl_catalog::find).is_some_and(|op| !op.idempotent) {
                "The request may or may not have been applied. Check with a read before retrying, so nothing is done twice.".into()
            } else {
                "A temporary failure; retrying once is safe.".into()
            }
        }
        _ => return None,
    })
}

pub fn tool_error(e: &Error) -> CallToolResult {
    let mut v = e.to_json();
    if let Some(step) = next_step(e) {
        v["error"]["next_step"] = json!(step);
    }
    // The exit code means nothing to a model.
    if let Some(o) = v["error"].as_object_mut() {
        o.remove("exit_code");
    }
    CallToolResult::error(vec![ContentBlock::text(v.to_string())])
}

/// A tool error built from a plain message (bad arguments before any
/// operation is involved).
pub fn invalid_arguments(tool: &str, detail: impl std::fmt::Display) -> Error {
    Error::validation(format!("invalid arguments for {tool}: {detail}"))
        .with_hint("check the tool's input schema: required fields and types")
}
