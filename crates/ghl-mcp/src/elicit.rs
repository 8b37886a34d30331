//! Asking the person directly (MCP elicitation): when the client declares
//! it can show a form, the server puts the preview sentence to the user and
//! runs the call only on their yes, so the model never holds a token it
//! could replay by itself. Clients without elicitation get the token flow.

use std::time::Duration;

use ghl_core::{Error, ErrorCode};
use rmcp::model::{ElicitRequestParams, ElicitationAction, ElicitationSchema};
use rmcp::service::{ElicitationMode, Peer, RoleServer};

/// How long the person has to answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(300);

/// The field the form asks for.
const FIELD: &str = "confirm";

/// The person's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
}

/// Whether `peer` can be asked with a form.
pub fn supported(peer: &Peer<RoleServer>) -> bool {
    peer.supported_elicitation_modes()
        .contains(&ElicitationMode::Form)
}

/// Put `sentence` to the person. Only an accepted form with the box
/// ticked is a yes; declining, cancelling or an unticked box is a no.
pub async fn ask(peer: &Peer<RoleServer>, sentence: &str) -> Result<Answer, Error> {
    let schema = ElicitationSchema::builder()
        .required_bool(FIELD)
        .description("Tick to let the assistant do this now.")
        .build()
        .map_err(|e| Error::new(ErrorCode::Config, format!("confirmation form: {e}")))?;
    let request = ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: format!("{sentence}\n\nAllow this?"),
        requested_schema: schema,
    };
    let result = peer
        .create_elicitation_with_timeout(request, Some(ANSWER_WITHIN))
        .await
        .map_err(|e| {
            Error::new(
                ErrorCode::ConfirmationRequired,
                format!("the user could not be asked: {e}"),
            )
            .with_hint("nothing was sent; call again to ask once more")
        })?;
    let ticked = result
        .content
        .as_ref()
        .and_then(|c| c.get(FIELD))
        .and_then(serde_json::Value::as_bool)
        == Some(true);
    Ok(match result.action {
        ElicitationAction::Accept if ticked => Answer::Yes,
        _ => Answer::No,
    })
}
