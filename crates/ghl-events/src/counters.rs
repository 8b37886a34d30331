//! What `/healthz` reports: how many deliveries came, were stored, were
//! refused (by reason), reached every sink, or went to the dead letters.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value, json};

use crate::verify::Refusal;

#[derive(Default)]
pub struct Counters {
    pub received: AtomicU64,
    pub stored: AtomicU64,
    pub skipped: AtomicU64,
    /// Answered 429 because the spool could not take the event.
    pub busy: AtomicU64,
    pub delivered: AtomicU64,
    pub failed_attempts: AtomicU64,
    pub dead: AtomicU64,
    refused: [AtomicU64; Refusal::ALL.len()],
}

impl Counters {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub fn refuse(&self, r: Refusal) {
        Counters::bump(&self.refused[r.index()]);
    }

    pub fn refused(&self, r: Refusal) -> u64 {
        self.refused[r.index()].load(Ordering::Relaxed)
    }

    pub fn json(&self) -> Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut refused = Map::new();
        for r in Refusal::ALL {
            refused.insert(r.name().into(), json!(self.refused(r)));
        }
        json!({
            "received": get(&self.received),
            "stored": get(&self.stored),
            "skipped": get(&self.skipped),
            "busy": get(&self.busy),
            "refused": refused,
            "delivered": get(&self.delivered),
            "failed_attempts": get(&self.failed_attempts),
            "dead": get(&self.dead),
        })
    }
}
