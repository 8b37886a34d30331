//! `contacts.update-contact` with `tags` replaces the contact's tags: a
//! list that leaves out tags the contact has removes them (and what they
//! trigger). That loss needs the confirmation removing tags needs, so the
//! contact is read first to know what would go.

use serde_json::Value;

use crate::args::CallArgs;
use crate::client::Client;
use crate::error::Result;
use crate::request::{Prepared, RequestBody};

/// The operation whose `tags` replace the contact's.
pub const REPLACES_TAGS: &str = "contacts.update-contact";

/// Tags the request would take off the contact (empty when none, or when
/// the request does not set tags).
pub async fn removed_tags(client: &Client, req: &Prepared) -> Result<Vec<String>> {
    if req.op.name != REPLACES_TAGS {
        return Ok(Vec::new());
    }
    let Some(RequestBody::Json(body)) = &req.body else {
        return Ok(Vec::new());
    };
    let Some(new) = body.get("tags").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    let Some(id) = req.args.params.get("contactId").cloned() else {
        return Ok(Vec::new());
    };
    let keep: Vec<String> = new
        .iter()
        .filter_map(Value::as_str)
        .map(|t| t.trim().to_lowercase())
        .collect();
    // A read: it runs even when the caller's policy is a dry run.
    let mut policy = client.policy().clone();
    policy.dry_run = false;
    let reader = client.with_policy(policy);
    let current = Box::pin(reader.call(
        "contacts.get-contact",
        CallArgs::new().param("contactId", id),
    ))
    .await?;
    let had = current
        .pointer("/contact/tags")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(had
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| !keep.contains(&t.trim().to_lowercase()))
        .map(String::from)
        .collect())
}
