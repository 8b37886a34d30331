//! Per-location rate limiting like HighLevel's: a burst budget over a sliding
//! window plus a daily budget, reported in `X-RateLimit-*` headers.
//!
//! The state is per process: two sandboxes sharing a database each keep their
//! own counts, which is fine for a test double.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::RateLimit;

const DAY: Duration = Duration::from_secs(24 * 3600);

struct Bucket {
    recent: VecDeque<Instant>,
    day_start: Instant,
    day_count: u32,
}

pub struct Limiter {
    cfg: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

pub struct Decision {
    pub allowed: bool,
    pub headers: Vec<(&'static str, String)>,
}

impl Limiter {
    pub fn new(cfg: RateLimit) -> Self {
        Limiter {
            cfg,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Count one request against `key`; a refused request does not use budget,
    /// so a client that backs off recovers once the window slides.
    pub fn check(&self, key: &str) -> Decision {
        let now = Instant::now();
        let (allowed, remaining, daily_remaining) = match self.buckets.lock() {
            Ok(mut map) => {
                let b = map.entry(key.to_string()).or_insert_with(|| Bucket {
                    recent: VecDeque::new(),
                    day_start: now,
                    day_count: 0,
                });
                while let Some(&t) = b.recent.front() {
                    if now.duration_since(t) >= self.cfg.interval {
                        b.recent.pop_front();
                    } else {
                        break;
                    }
                }
                if now.duration_since(b.day_start) >= DAY {
                    b.day_start = now;
                    b.day_count = 0;
                }
                let allowed =
                    (b.recent.len() as u32) < self.cfg.max && b.day_count < self.cfg.daily;
                if allowed {
                    b.recent.push_back(now);
                    b.day_count += 1;
                }
                (
                    allowed,
                    self.cfg.max.saturating_sub(b.recent.len() as u32),
                    self.cfg.daily.saturating_sub(b.day_count),
                )
            }
            // A poisoned lock only means another request panicked; let traffic through.
            Err(_) => (true, self.cfg.max, self.cfg.daily),
        };
        Decision {
            allowed,
            headers: vec![
                ("X-RateLimit-Max", self.cfg.max.to_string()),
                ("X-RateLimit-Remaining", remaining.to_string()),
                (
                    "X-RateLimit-Interval-Milliseconds",
                    self.cfg.interval.as_millis().to_string(),
                ),
                ("X-RateLimit-Limit-Daily", self.cfg.daily.to_string()),
                ("X-RateLimit-Daily-Remaining", daily_remaining.to_string()),
            ],
        }
    }
}
