//! Contacts: search, read, write, tags, notes, tasks.

use ghl_core::CallArgs;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ConfirmOpt, ListOpts, Plan, ToolDef, curated, opt};
use crate::options::Toolset::Contacts;

#[derive(Deserialize, JsonSchema)]
struct Search {
    /// Name, email or phone (for tags: `tags`)
    query: Option<String>,
    /// Contacts with any of these tags
    tags: Option<Vec<String>>,
    /// {field,operator,value}|{group:AND|OR,filters}; operator eq not_eq contains not_contains exists not_exists range
    filters: Option<Vec<Value>>,
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Id {
    contact_id: String,
    #[serde(flatten)]
    #[allow(dead_code)]
    list: FieldsOpt,
}

#[derive(Deserialize, JsonSchema)]
struct FieldsOpt {
    /// Keep only these fields
    #[allow(dead_code)]
    fields: Option<Vec<String>>,
}

/// Writable contact fields shared by create, update and upsert.
#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Fields {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    company_name: Option<String>,
    source: Option<String>,
    tags: Option<Vec<String>>,
    /// By key: {"contact.lead_source":"Ads"}
    custom_fields: Option<Map<String, Value>>,
    /// Other API fields (city...)
    other: Option<Map<String, Value>>,
}

impl Fields {
    fn into_plan(self, op: &str, mut args: CallArgs) -> Plan {
        opt(&mut args, "firstName", self.first_name);
        opt(&mut args, "lastName", self.last_name);
        opt(&mut args, "email", self.email);
        opt(&mut args, "phone", self.phone);
        opt(&mut args, "companyName", self.company_name);
        opt(&mut args, "source", self.source);
        opt(&mut args, "tags", self.tags);
        for (k, v) in self.other.unwrap_or_default() {
            args.params.entry(k).or_insert(v);
        }
        let mut plan = Plan::call(op, args);
        plan.custom_fields = self
            .custom_fields
            .filter(|m| !m.is_empty())
            .map(|m| (m, "contact"));
        plan
    }
}

#[derive(Deserialize, JsonSchema)]
struct Create {
    #[serde(flatten)]
    fields: Fields,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Update {
    contact_id: String,
    #[serde(flatten)]
    fields: Fields,
    #[serde(flatten)]
    #[allow(dead_code)]
    confirm: ConfirmOpt,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Tags {
    contact_id: String,
    tags: Vec<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct RemoveTags {
    contact_id: String,
    tags: Vec<String>,
    #[serde(flatten)]
    #[allow(dead_code)]
    confirm: ConfirmOpt,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Delete {
    contact_id: String,
    #[serde(flatten)]
    #[allow(dead_code)]
    confirm: ConfirmOpt,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct ListOf {
    contact_id: String,
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Note {
    contact_id: String,
    body: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Task {
    contact_id: String,
    title: String,
    /// ISO 8601, e.g. 2026-07-01T09:00:00Z
    due_date: String,
    body: Option<String>,
    /// User id
    assigned_to: Option<String>,
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        curated(
            "search_contacts",
            "Search contacts",
            Contacts,
            "contacts.search-contacts-advanced",
            "Find contacts by name, email, phone or filters.",
            |a: Search| {
                let mut body = json!({});
                if let Some(q) = a.query {
                    body["query"] = json!(q);
                }
                let mut filters = a.filters.unwrap_or_default();
                if let Some(t) = a.tags.filter(|t| !t.is_empty()) {
                    filters.push(ghl_core::catalog::contact_search::tag_filter(&t));
                }
                if !filters.is_empty() {
                    body["filters"] = json!(filters);
                }
                let mut plan = Plan::list(
                    "contacts.search-contacts-advanced",
                    CallArgs::new().with_body(body),
                );
                // The spec names no location parameter here, but HighLevel
                // needs one in the body.
                plan.location_in_body = Some("locationId");
                Ok(plan)
            },
        ),
        curated(
            "get_contact",
            "Get a contact",
            Contacts,
            "contacts.get-contact",
            "One contact by id, custom fields shown with their keys.",
            |a: Id| {
                Ok(Plan::call(
                    "contacts.get-contact",
                    CallArgs::new().param("contactId", a.contact_id),
                ))
            },
        ),
        // No curated create: upsert_contact creates too, and never a
        // duplicate (contacts.create-contact stays reachable through
        // call_operation). One tool fewer keeps tools/list in budget.
        curated(
            "update_contact",
            "Update a contact",
            Contacts,
            "contacts.update-contact",
            "Change the given fields. `tags` REPLACES all tags (dropping any asks first); add_contact_tags adds.",
            |a: Update| {
                Ok(a.fields.into_plan(
                    "contacts.update-contact",
                    CallArgs::new().param("contactId", a.contact_id),
                ))
            },
        ),
        curated(
            "upsert_contact",
            "Create or update a contact",
            Contacts,
            "contacts.upsert-contact",
            "Create a contact, or update the one with the same email/phone.",
            |a: Create| {
                Ok(a.fields
                    .into_plan("contacts.upsert-contact", CallArgs::new()))
            },
        ),
        curated(
            "delete_contact",
            "Delete a contact",
            Contacts,
            "contacts.delete-contact",
            "Delete a contact for good. Asks the user first.",
            |a: Delete| {
                Ok(Plan::call(
                    "contacts.delete-contact",
                    CallArgs::new().param("contactId", a.contact_id),
                ))
            },
        ),
        curated(
            "add_contact_tags",
            "Tag a contact",
            Contacts,
            "contacts.add-tags",
            "Add tags to a contact (tags can start workflows).",
            |a: Tags| {
                Ok(Plan::call(
                    "contacts.add-tags",
                    CallArgs::new()
                        .param("contactId", a.contact_id)
                        .param("tags", a.tags),
                ))
            },
        ),
        curated(
            "remove_contact_tags",
            "Untag a contact",
            Contacts,
            "contacts.remove-tags",
            "Remove tags from a contact. Asks the user first.",
            |a: RemoveTags| {
                Ok(Plan::call(
                    "contacts.remove-tags",
                    CallArgs::new()
                        .param("contactId", a.contact_id)
                        .param("tags", a.tags),
                ))
            },
        ),
        curated(
            "list_contact_notes",
            "List notes",
            Contacts,
            "contacts.get-all-notes",
            "Notes on a contact.",
            |a: ListOf| {
                Ok(Plan::list(
                    "contacts.get-all-notes",
                    CallArgs::new().param("contactId", a.contact_id),
                ))
            },
        ),
        curated(
            "add_contact_note",
            "Add a note",
            Contacts,
            "contacts.create-note",
            "Add a note to a contact.",
            |a: Note| {
                Ok(Plan::call(
                    "contacts.create-note",
                    CallArgs::new()
                        .param("contactId", a.contact_id)
                        .param("body", a.body),
                ))
            },
        ),
        curated(
            "list_contact_appointments",
            "List appointments",
            Contacts,
            "contacts.get-appointments-for-contact",
            "A contact's appointments.",
            |a: ListOf| {
                Ok(Plan::list(
                    "contacts.get-appointments-for-contact",
                    CallArgs::new().param("contactId", a.contact_id),
                ))
            },
        ),
        curated(
            "list_contact_tasks",
            "List tasks",
            Contacts,
            "contacts.get-all-tasks",
            "Tasks on a contact.",
            |a: ListOf| {
                Ok(Plan::list(
                    "contacts.get-all-tasks",
                    CallArgs::new().param("contactId", a.contact_id),
                ))
            },
        ),
        curated(
            "add_contact_task",
            "Add a task",
            Contacts,
            "contacts.create-task",
            "Add a to-do for a contact.",
            |a: Task| {
                let mut args = CallArgs::new()
                    .param("contactId", a.contact_id)
                    .param("title", a.title)
                    .param("dueDate", a.due_date)
                    .param("completed", false);
                opt(&mut args, "body", a.body);
                opt(&mut args, "assignedTo", a.assigned_to);
                Ok(Plan::call("contacts.create-task", args))
            },
        ),
    ]
}
