//! Workflows: put a contact into an automation.

use ghl_core::CallArgs;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Plan, ToolDef, curated, opt};
use crate::options::Toolset::Workflows;

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Enroll {
    contact_id: String,
    workflow_id: String,
    /// RFC 3339; when the workflow should start
    event_start_time: Option<String>,
}

pub fn tools() -> Vec<ToolDef> {
    vec![curated(
        "enroll_in_workflow",
        "Enroll in a workflow",
        Workflows,
        "contacts.add-contact-to-workflow",
        "Add a contact to a workflow (its automations will run).",
        |a: Enroll| {
            let mut args = CallArgs::new()
                .param("contactId", a.contact_id)
                .param("workflowId", a.workflow_id);
            opt(&mut args, "eventStartTime", a.event_start_time);
            Ok(Plan::call("contacts.add-contact-to-workflow", args))
        },
    )]
}
