//! The location (sub-account) itself: details and custom field definitions.

use ghl_core::CallArgs;
use schemars::JsonSchema;
use serde::Deserialize;

use super::{ListOpts, Plan, ToolDef, curated, opt};
use crate::options::Toolset::Location;

#[derive(Deserialize, JsonSchema)]
struct Get {
    /// Keep only these fields
    #[allow(dead_code)]
    fields: Option<Vec<String>>,
}

#[derive(Deserialize, JsonSchema)]
struct Fields {
    /// contact, opportunity or all
    model: Option<String>,
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

#[derive(Deserialize, JsonSchema)]
struct Users {
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        curated(
            "get_location",
            "Location details",
            Location,
            "locations.get-location",
            "The sub-account: name, timezone, address, settings.",
            |_: Get| Ok(Plan::call("locations.get-location", CallArgs::new())),
        ),
        curated(
            "list_users",
            "List users",
            Location,
            "users.get-user-by-location",
            "Staff users: ids for assigning and send_invoice.",
            |_: Users| Ok(Plan::list("users.get-user-by-location", CallArgs::new())),
        ),
        curated(
            "list_custom_fields",
            "List custom fields",
            Location,
            "locations.get-custom-fields",
            "Custom field definitions: id, key (e.g. contact.lead_source), name, type.",
            |a: Fields| {
                let mut args = CallArgs::new();
                opt(&mut args, "model", a.model);
                Ok(Plan::list("locations.get-custom-fields", args))
            },
        ),
    ]
}
