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
                "The HighLevel token lacks {scopes}. Tell the user to add {} in HighLevel: Settings > Private Integrations > edit the integration > Scopes, save, then retry. Do not retry before that.",
                if e.scopes.len() > 1 { "all of them at once" } else { "it" }
            )
        }
        ErrorCode::InvalidToken => "The HighLevel token is invalid or expired. Tell the user to replace the token (or rotate the Private Integration) and restart this MCP server.".into(),
        ErrorCode::LocationForbidden => "The token cannot access this location. Check the location id, or use a token of that sub-account.".into(),
        ErrorCode::BadRequest if slot_taken(e) => "That time is taken. Call get_free_slots with the calendarId and the day, then book one of the times it returns.".into(),
        ErrorCode::Validation | ErrorCode::BadRequest => match &e.operation {
            Some(op) => format!("Fix the arguments and call again; describe_operation {{\"name\": \"{op}\"}} lists its parameters."),
            None => "Fix the arguments and call again; the tool's input schema lists them.".into(),
        },
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

/// A booking refused because the time is no longer free.
fn slot_taken(e: &Error) -> bool {
    let m = e.message.to_ascii_lowercase();
    e.operation
        .as_deref()
        .is_some_and(|o| o.starts_with("calendars."))
        && (m.contains("slot") || m.contains("no longer available"))
}

/// The pipeline's hints speak to a shell user (`ghl api describe`,
/// `--location`); a model gets the MCP way to do the same.
fn for_mcp(hint: &str, e: &Error) -> Option<String> {
    // A step only the person can take (running a sync on their machine)
    // is passed on as written: the model relays it, it does not run it.
    if hint.starts_with("ask the user") {
        return Some(hint.to_string());
    }
    let shell = hint.contains("`ghl ") || hint.contains(" --") || hint.starts_with("--");
    if !shell {
        return Some(hint.to_string());
    }
    if hint.contains("ghl api list") {
        return Some("find_operations {\"query\": \"words\"} finds operations".into());
    }
    if hint.contains("api describe") {
        return Some(match &e.operation {
            Some(op) => format!("describe_operation {{\"name\": \"{op}\"}} lists its parameters"),
            None => "describe_operation lists an operation's parameters".into(),
        });
    }
    if hint.contains("location") {
        return Some("pass locationId in params, or ask the user to configure a default location for this MCP server".into());
    }
    None
}

pub fn tool_error(e: &Error) -> CallToolResult {
    let mut v = e.to_json();
    match e.hint.as_deref().map(|h| for_mcp(h, e)) {
        Some(Some(h)) => v["error"]["hint"] = json!(h),
        Some(None) => {
            if let Some(o) = v["error"].as_object_mut() {
                o.remove("hint");
            }
        }
        None => {}
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(r: &CallToolResult) -> String {
        r.content
            .iter()
            .filter_map(|c| c.as_text().map(|t| t.text.clone()))
            .collect()
    }

    #[test]
    fn no_shell_commands_reach_a_model() {
        let e = Error::new(ErrorCode::BadRequest, "the API refused the request: bad")
            .with_operation("contacts.get-contact")
            .with_hint("`ghl api describe contacts.get-contact` lists the parameters");
        let t = text(&tool_error(&e));
        assert!(!t.contains("ghl api"), "{t}");
        assert!(t.contains("describe_operation"), "{t}");
        let e = Error::validation("contacts.get-contacts needs a location")
            .with_hint("set a location: --location ID, HIGHLEVEL_LOCATION_ID, or `ghl setup`");
        let t = text(&tool_error(&e));
        assert!(!t.contains("--location") && !t.contains("`ghl"), "{t}");
        let e = Error::new(ErrorCode::InvalidToken, "expired");
        assert!(!text(&tool_error(&e)).contains("`ghl"));
        let e = Error::new(
            ErrorCode::BadRequest,
            "the API refused the request: The slot you have selected is no longer available.",
        )
        .with_operation("calendars.create-appointment");
        assert!(text(&tool_error(&e)).contains("get_free_slots"));
    }
}
