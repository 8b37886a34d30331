//! Opportunities and pipelines.

use ghl_core::CallArgs;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ListOpts, Plan, ToolDef, curated, opt};
use crate::options::Toolset::Opportunities;

const UPDATE: &str = "opportunities.update-opportunity";

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Search {
    query: Option<String>,
    pipeline_id: Option<String>,
    stage_id: Option<String>,
    contact_id: Option<String>,
    /// open, won, lost, abandoned, all
    status: Option<String>,
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Create {
    pipeline_id: String,
    contact_id: String,
    name: String,
    stage_id: Option<String>,
    /// open (default), won, lost, abandoned
    status: Option<String>,
    monetary_value: Option<f64>,
    assigned_to: Option<String>,
    /// By key: {"opportunity.budget": 5000}
    custom_fields: Option<Map<String, Value>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Update {
    opportunity_id: String,
    name: Option<String>,
    /// open, won, lost or abandoned
    status: Option<String>,
    monetary_value: Option<f64>,
    assigned_to: Option<String>,
    pipeline_id: Option<String>,
    stage_id: Option<String>,
    /// By key
    custom_fields: Option<Map<String, Value>>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Move {
    opportunity_id: String,
    stage_id: String,
    /// Only when moving to another pipeline
    pipeline_id: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Get {
    opportunity_id: String,
    // Read by the executor.
    #[allow(dead_code)]
    fields: Option<Vec<String>>,
}

#[derive(Deserialize, JsonSchema)]
struct List {
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

fn with_custom(mut plan: Plan, cf: Option<Map<String, Value>>) -> Plan {
    plan.custom_fields = cf.filter(|m| !m.is_empty()).map(|m| (m, "opportunity"));
    plan
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        curated(
            "search_opportunities",
            "Search opportunities",
            Opportunities,
            "opportunities.search-opportunity",
            "Find deals by text, pipeline, stage, contact or status.",
            |a: Search| {
                let mut args = CallArgs::new();
                opt(&mut args, "q", a.query);
                opt(&mut args, "pipeline_id", a.pipeline_id);
                opt(&mut args, "pipeline_stage_id", a.stage_id);
                opt(&mut args, "contact_id", a.contact_id);
                opt(&mut args, "status", a.status);
                Ok(Plan::list("opportunities.search-opportunity", args))
            },
        ),
        curated(
            "get_opportunity",
            "Get an opportunity",
            Opportunities,
            "opportunities.get-opportunity",
            "One deal by id: pipeline, stage, status, value, contact.",
            |a: Get| {
                Ok(Plan::call(
                    "opportunities.get-opportunity",
                    CallArgs::new().param("id", a.opportunity_id),
                ))
            },
        ),
        curated(
            "create_opportunity",
            "Create an opportunity",
            Opportunities,
            "opportunities.create-opportunity",
            "Open a deal for a contact in a pipeline (see list_pipelines).",
            |a: Create| {
                let mut args = CallArgs::new()
                    .param("pipelineId", a.pipeline_id)
                    .param("contactId", a.contact_id)
                    .param("name", a.name)
                    .param("status", a.status.unwrap_or_else(|| "open".into()));
                opt(&mut args, "pipelineStageId", a.stage_id);
                opt(&mut args, "monetaryValue", a.monetary_value);
                opt(&mut args, "assignedTo", a.assigned_to);
                Ok(with_custom(
                    Plan::call("opportunities.create-opportunity", args),
                    a.custom_fields,
                ))
            },
        ),
        curated(
            "update_opportunity",
            "Update an opportunity",
            Opportunities,
            UPDATE,
            "Change a deal's name, value, status, owner or fields.",
            |a: Update| {
                let mut args = CallArgs::new().param("id", a.opportunity_id);
                opt(&mut args, "name", a.name);
                opt(&mut args, "status", a.status);
                opt(&mut args, "monetaryValue", a.monetary_value);
                opt(&mut args, "assignedTo", a.assigned_to);
                opt(&mut args, "pipelineId", a.pipeline_id);
                opt(&mut args, "pipelineStageId", a.stage_id);
                Ok(with_custom(Plan::call(UPDATE, args), a.custom_fields))
            },
        ),
        curated(
            "move_opportunity_stage",
            "Move to a stage",
            Opportunities,
            UPDATE,
            "Move a deal to another pipeline stage.",
            |a: Move| {
                let mut args = CallArgs::new()
                    .param("id", a.opportunity_id)
                    .param("pipelineStageId", a.stage_id);
                opt(&mut args, "pipelineId", a.pipeline_id);
                Ok(Plan::call(UPDATE, args))
            },
        ),
        curated(
            "list_pipelines",
            "List pipelines",
            Opportunities,
            "opportunities.get-pipelines",
            "Pipelines with their stages (ids for the other tools).",
            |_: List| Ok(Plan::list("opportunities.get-pipelines", CallArgs::new())),
        ),
    ]
}
