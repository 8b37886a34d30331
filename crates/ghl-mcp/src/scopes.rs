//! What the token's scopes allow, as far as we know: learned from one cheap
//! read per tool family (the reads `ghl doctor` uses) and from every
//! missing-scope answer since. Tools the token cannot use are not listed,
//! and a confirmation is never offered for a call we know will be refused.

use std::collections::HashSet;
use std::sync::Mutex;

use ghl_catalog::Operation;
use ghl_core::{CallArgs, Client, ErrorCode};
use serde_json::json;
use tokio::sync::OnceCell;

/// One read per family, needing only the location.
const PROBES: &[&str] = &[
    "locations.get-location",
    "contacts.search-contacts-advanced",
    "conversations.search-conversation",
    "calendars.get-calendars",
    "opportunities.get-pipelines",
    "workflows.get-workflow",
    "invoices.list-invoices",
    "locations.get-custom-fields",
    "users.get-user-by-location",
];

#[derive(Default)]
pub struct Scopes {
    missing: Mutex<HashSet<String>>,
    probed: OnceCell<()>,
}

impl Scopes {
    /// Probe once per server (later calls wait for the first).
    pub async fn probe(&self, client: &Client) {
        self.probed
            .get_or_init(|| async {
                let location = client.defaults().location_id.clone().unwrap_or_default();
                // At once: the first tools/list waits for the slowest read,
                // not for all of them in a row.
                let reads = PROBES.iter().filter_map(|name| {
                    let req = client.prepare(name, &probe_args(name, &location)).ok()?;
                    Some(async move { (req.op, client.execute(&req).await) })
                });
                for (op, result) in futures::future::join_all(reads).await {
                    if let Err(e) = result
                        && e.code == ErrorCode::MissingScope
                    {
                        self.learn(op);
                    }
                }
            })
            .await;
    }

    /// Record that the token was refused `op` for want of a scope.
    pub fn learn(&self, op: &Operation) {
        let mut m = self.missing.lock().unwrap_or_else(|e| e.into_inner());
        m.extend(op.scopes.iter().cloned());
    }

    /// True when every scope that could grant `op` is known missing.
    pub fn refuses(&self, op: &Operation) -> bool {
        self.refuses_scopes(op.scopes.iter().map(String::as_str))
    }

    /// [`Scopes::refuses`] from the operation's scopes alone.
    pub fn refuses_scopes<'a>(&self, scopes: impl IntoIterator<Item = &'a str>) -> bool {
        let m = self.missing.lock().unwrap_or_else(|e| e.into_inner());
        let mut any = false;
        for s in scopes {
            if !m.contains(s) {
                return false;
            }
            any = true;
        }
        any
    }
}

fn probe_args(op: &str, location: &str) -> CallArgs {
    match op {
        "contacts.search-contacts-advanced" => {
            CallArgs::new().with_body(json!({"locationId": location, "pageLimit": 1, "page": 1}))
        }
        "conversations.search-conversation" => CallArgs::new().param("limit", 1),
        "invoices.list-invoices" => CallArgs::new()
            .param("limit", 1)
            .param("offset", 0)
            .param("altType", "location"),
        _ => CallArgs::new(),
    }
}
