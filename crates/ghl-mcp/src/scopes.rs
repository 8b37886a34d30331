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

use crate::scope_memo::{FRESH, Memo, Remembered};

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

/// What the listing needs before it can answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Probed here, or a fresh memo: nothing to do.
    Settled,
    /// Answered from an older memo: probe again behind the answer and say
    /// so when the tools change.
    Recheck,
}

#[derive(Default)]
pub struct Scopes {
    /// Learned by this process: from its probes and from refusals. Only
    /// this refuses a call before it is sent.
    missing: Mutex<HashSet<String>>,
    probed: OnceCell<()>,
    /// What an earlier start's probes found; shapes the listing until this
    /// process has probed.
    remembered: Mutex<Option<Remembered>>,
    memo: Option<Memo>,
}

impl Scopes {
    /// Scopes remembered in `memo` between starts (none without one).
    pub fn with_memo(memo: Option<Memo>) -> Scopes {
        Scopes {
            memo,
            ..Scopes::default()
        }
    }

    /// Make the listing's knowledge ready: a memo when there is a usable
    /// one, else the probes (waited for).
    pub async fn prepare_listing(&self, client: &Client) -> Known {
        if self.probed.initialized() {
            return Known::Settled;
        }
        // The memo is read once per server; later listings (a new HTTP
        // session, say) use what was read.
        let known = {
            let mut remembered = lock(&self.remembered);
            if remembered.is_none() {
                *remembered = self.memo.as_ref().and_then(Memo::load);
            }
            remembered.as_ref().map(|r| {
                if r.age() >= FRESH {
                    Known::Recheck
                } else {
                    Known::Settled
                }
            })
        };
        if let Some(known) = known {
            return known;
        }
        self.probe(client).await;
        Known::Settled
    }

    /// Probe again (after [`Known::Recheck`]); true when the listing's
    /// knowledge changed.
    pub async fn recheck(&self, client: &Client) -> bool {
        let before = self.listing_set();
        self.probe(client).await;
        self.listing_set() != before
    }

    /// Probe once per server (later calls wait for the first), and keep
    /// the outcome for the next start.
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
                let mut inconclusive = false;
                for (op, result) in futures::future::join_all(reads).await {
                    match result.map_err(|e| e.code) {
                        Err(ErrorCode::MissingScope) => self.learn_here(op),
                        Err(
                            ErrorCode::Network
                            | ErrorCode::Timeout
                            | ErrorCode::Server
                            | ErrorCode::RateLimited
                            | ErrorCode::InvalidToken
                            | ErrorCode::LocationForbidden,
                        ) => inconclusive = true,
                        _ => {}
                    }
                }
                // A read that could not reach an answer says nothing about
                // scopes: remember only a complete picture.
                if !inconclusive && let Some(m) = &self.memo {
                    m.save(&Remembered::now(&lock(&self.missing)));
                }
            })
            .await;
    }

    /// Record that the token was refused `op` for want of a scope, here and
    /// for the next start.
    pub fn learn(&self, op: &Operation) {
        self.learn_here(op);
        if let Some(m) = &self.memo {
            let mut r = match lock(&self.remembered).clone() {
                Some(r) if !self.probed.initialized() => r,
                _ => Remembered::now(&HashSet::new()),
            };
            r.missing.extend(lock(&self.missing).iter().cloned());
            r.missing.sort();
            r.missing.dedup();
            m.save(&r);
        }
    }

    fn learn_here(&self, op: &Operation) {
        lock(&self.missing).extend(op.scopes.iter().cloned());
    }

    /// True when every scope that could grant `op` is known missing, by
    /// this process (a memo never refuses a call: the person may just have
    /// added the scope).
    pub fn refuses(&self, op: &Operation) -> bool {
        hidden_by(&lock(&self.missing), op.scopes.iter().map(String::as_str))
    }

    /// The scopes tools/list counts as missing: what this process learned,
    /// and before its own probes, what the memo said. A tool is left out
    /// when [`hidden_by`] says so.
    pub fn listing_set(&self) -> HashSet<String> {
        let mut set = lock(&self.missing).clone();
        if !self.probed.initialized()
            && let Some(r) = lock(&self.remembered).as_ref()
        {
            set.extend(r.missing.iter().cloned());
        }
        set
    }
}

/// Whether every scope that could grant an operation is in `missing`.
pub fn hidden_by<'a>(missing: &HashSet<String>, scopes: impl IntoIterator<Item = &'a str>) -> bool {
    let mut any = false;
    for s in scopes {
        if !missing.contains(s) {
            return false;
        }
        any = true;
    }
    any
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
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
