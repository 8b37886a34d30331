//! Fault injection: a share of API requests fails at random, one third each
//! as a 5xx answer, a dropped connection, or a hang followed by a drop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rand::Rng;

pub enum Fault {
    ServerError(u16),
    Drop,
    Hang(Duration),
}

pub fn roll(fail_rate: f64) -> Option<Fault> {
    if fail_rate <= 0.0 {
        return None;
    }
    let mut rng = rand::rng();
    if rng.random::<f64>() >= fail_rate.min(1.0) {
        return None;
    }
    Some(match rng.random_range(0..3) {
        0 => Fault::ServerError([500, 502, 503][rng.random_range(0..3)]),
        1 => Fault::Drop,
        _ => Fault::Hang(Duration::from_secs(60)),
    })
}

#[derive(Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub rate_limited: AtomicU64,
    pub failures_injected: AtomicU64,
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests.load(Ordering::Relaxed),
            "rate_limited": self.rate_limited.load(Ordering::Relaxed),
            "failures_injected": self.failures_injected.load(Ordering::Relaxed),
        })
    }
}
