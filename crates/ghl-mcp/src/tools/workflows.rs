//! Workflows: put a contact into an automation.

use ghl_core::CallArgs;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{ListOpts, Plan, ToolDef, curated, opt};
use crate::options::Toolset::Workflows;

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Enroll {
    contact_id: String,
    workflow_id: String,
    /// RFC 3339; when the workflow should start
    event_start_time: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
struct List {
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        curated(
            "list_workflows",
            "List workflows",
            Workflows,
            "workflows.get-workflow",
            "Workflows: ids for enroll_in_workflow.",
            |_: List| Ok(Plan::list("workflows.get-workflow", CallArgs::new())),
        ),
        curated(
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
        ),
    ]
}
