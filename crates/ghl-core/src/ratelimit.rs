//! A per-location limiter that waits instead of provoking 429s.
//!
//! HighLevel allows a burst of 100 requests per 10 s and 200,000 a day per
//! location. Each bucket keeps the send times of the last window; the
//! `X-RateLimit-*` headers adjust the window and tell us how much of the
//! budget others (other processes, other apps of the same install) used.
//! What the headers say is followed both ways (a larger budget, a window
//! that rolled) but believed only within bounds: a proxy that claims an
//! hour-long window must not freeze a command in silence.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode, Result};

/// How long a location stays refused after its daily budget hit zero,
/// before one request is let through to learn whether it was renewed.
pub const DAILY_RECHECK: Duration = Duration::from_secs(60);

/// The longest a 429 holds a location's bucket.
pub const MAX_BLOCK: Duration = Duration::from_secs(120);

/// The longest window believed from `X-RateLimit-Interval-Milliseconds`; a
/// longer one is scaled down to this, keeping the stated rate.
pub const MAX_INTERVAL: Duration = Duration::from_secs(60);

/// The shortest window believed; a shorter one is scaled up to this.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The largest budget per window believed from `X-RateLimit-Max`.
pub const MAX_BELIEVED: u32 = 10_000;

#[derive(Debug, Clone, Copy)]
pub struct RateConfig {
    pub max: u32,
    pub interval: Duration,
}

impl Default for RateConfig {
    fn default() -> Self {
        RateConfig {
            max: 100,
            interval: Duration::from_secs(10),
        }
    }
}

/// What the server said about the budget in its response headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RateInfo {
    pub max: Option<u32>,
    pub remaining: Option<u32>,
    pub interval_ms: Option<u64>,
    pub daily_limit: Option<u64>,
    pub daily_remaining: Option<u64>,
}

impl RateInfo {
    pub fn from_headers(h: &reqwest::header::HeaderMap) -> Option<RateInfo> {
        let num = |k: &str| {
            h.get(k)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
        };
        let info = RateInfo {
            max: num("x-ratelimit-max").map(|v| v as u32),
            remaining: num("x-ratelimit-remaining").map(|v| v as u32),
            interval_ms: num("x-ratelimit-interval-milliseconds"),
            daily_limit: num("x-ratelimit-limit-daily"),
            daily_remaining: num("x-ratelimit-daily-remaining"),
        };
        (info != RateInfo::default()).then_some(info)
    }
}

#[derive(Debug)]
struct Bucket {
    max: u32,
    interval: Duration,
    sent: VecDeque<Instant>,
    daily_remaining: Option<u64>,
    /// When the daily budget was last seen (or counted) at zero.
    daily_exhausted_at: Option<Instant>,
    /// Not before this instant (after a 429).
    blocked_until: Option<Instant>,
    /// Claimed requests whose answer has not arrived: the server may not
    /// have counted them yet.
    in_flight: usize,
    /// Stand-ins for requests the server counted that were not ours (other
    /// processes, other apps of the install), as of when we learnt of them.
    others: VecDeque<Instant>,
    /// The send instant of the answer that last set `others`: an answer to
    /// an earlier request may only raise it (answers arrive out of order).
    others_as_of: Option<Instant>,
    /// Sends per window of the chains of priority requests (keyset walks
    /// no other lane can shorten, each request after the last one's
    /// answer): slots are left for them, so a window used up by
    /// side-by-side requests never holds a chain back.
    reserved: u32,
}

/// How long a send is remembered after it left the window.
const KEEP_PAST_WINDOW: Duration = Duration::from_secs(60);

impl Bucket {
    /// Sends inside the window at `at` (the deque is in send order).
    fn live(&self, at: Instant) -> usize {
        let first = self.first_live(at);
        self.sent.len() - first
    }

    fn first_live(&self, at: Instant) -> usize {
        self.sent
            .partition_point(|t| at.saturating_duration_since(*t) >= self.interval)
    }

    /// Our sends made by `at` and still inside the window then: those the
    /// server can have counted when a request sent at `at` arrived.
    fn ours_by(&self, at: Instant) -> usize {
        let made = self.sent.partition_point(|t| *t <= at);
        made.saturating_sub(self.first_live(at))
    }

    /// Ours and others' requests inside the window at `at`.
    fn used(&self, at: Instant) -> usize {
        self.live(at) + self.others.len()
    }

    /// The oldest request, ours or others', still inside the window at `at`.
    fn oldest_live(&self, at: Instant) -> Option<Instant> {
        let ours = self.sent.get(self.first_live(at)).copied();
        match (ours, self.others.front().copied()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// How long before a request fits, or `None` when one fits now. A
    /// request that is not a priority leaves the chains their slots.
    fn wait(&mut self, now: Instant, priority: bool) -> Option<Duration> {
        if let Some(until) = self.blocked_until
            && until > now
        {
            return Some(until - now);
        }
        self.prune(now);
        let used = self.used(now);
        // A reservation never leaves ordinary requests no slot at all.
        let fits = (used as u32) < self.max
            && (priority || used == 0 || self.leaves_chains_enough(now, used));
        if fits {
            return None;
        }
        let oldest = self.oldest_live(now).unwrap_or(now);
        Some((oldest + self.interval).saturating_duration_since(now) + Duration::from_millis(5))
    }

    /// Whether one more slot taken now still leaves the chains one each
    /// time they send, until the window is over: a chain sends `reserved`
    /// times a window, evenly (the first at once), and takes what is free
    /// now or has left the window by then. A slot is held back only as
    /// long as a chain needs it, not for the whole window: slots that
    /// leave the window soon enough serve the chain's later sends.
    fn leaves_chains_enough(&self, now: Instant, used: usize) -> bool {
        if self.reserved == 0 {
            return true;
        }
        let free_after = (self.max as usize).saturating_sub(used + 1);
        let mut leaving: Vec<Instant> = self
            .sent
            .iter()
            .skip(self.first_live(now))
            .chain(self.others.iter())
            .map(|t| *t + self.interval)
            .collect();
        leaving.sort_unstable();
        let step = self.interval / self.reserved;
        let mut left = 0;
        (0..self.reserved as usize).all(|k| {
            let send = now + step * k as u32;
            while left < leaving.len() && leaving[left] <= send {
                left += 1;
            }
            free_after + left > k
        })
    }

    /// Forget sends long gone. Sends are kept a while past the window: an
    /// answer arriving now was counted by the server as of its arrival,
    /// when some of our sends that have left the window since were still in
    /// it (see [`RateLimiter::observe_sent`]).
    fn prune(&mut self, now: Instant) {
        while let Some(&t) = self.sent.front() {
            if now.duration_since(t) >= self.interval + KEEP_PAST_WINDOW {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        while self
            .others
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.interval)
        {
            self.others.pop_front();
        }
    }
}

/// A stated budget of `max` per `interval`, bounded: the window is kept
/// within [`MIN_INTERVAL`, `MAX_INTERVAL`] at the same rate, and the count
/// within 1..=[`MAX_BELIEVED`].
fn believed(max: u32, interval: Duration) -> (u32, Duration) {
    let bounded = interval.clamp(MIN_INTERVAL, MAX_INTERVAL);
    let scaled = (max as f64) * bounded.as_secs_f64() / interval.as_secs_f64().max(1e-3);
    let max = (scaled.floor() as u64).clamp(1, MAX_BELIEVED as u64) as u32;
    (max, bounded)
}

#[derive(Debug)]
pub struct RateLimiter {
    config: RateConfig,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(config: RateConfig) -> Self {
        RateLimiter {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn with_bucket<T>(&self, key: &str, f: impl FnOnce(&mut Bucket) -> T) -> T {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let b = map.entry(key.to_string()).or_insert_with(|| Bucket {
            max: self.config.max,
            interval: self.config.interval,
            sent: VecDeque::new(),
            daily_remaining: None,
            daily_exhausted_at: None,
            blocked_until: None,
            in_flight: 0,
            others: VecDeque::new(),
            others_as_of: None,
            reserved: 0,
        });
        f(b)
    }

    /// Wait until one more request fits in `key`'s window, and claim it.
    /// The slot counts as answered at once: nothing will settle it.
    pub async fn acquire(&self, key: &str) -> Result<()> {
        self.claim(key).await?;
        self.with_bucket(key, |b| b.in_flight = b.in_flight.saturating_sub(1));
        Ok(())
    }

    /// Like [`acquire`](Self::acquire), returning the claimed slot so that
    /// [`settle`](Self::settle) can move it when the answer arrives.
    pub async fn claim(&self, key: &str) -> Result<Instant> {
        loop {
            match self.try_claim(key)? {
                Ok(claimed) => return Ok(claimed),
                Err(d) => tokio::time::sleep(d).await,
            }
        }
    }

    /// Claim a slot now if one is free (`Ok(Ok(slot))`), else say how long
    /// to wait before asking again (`Ok(Err(wait))`). A spent daily budget
    /// is an error.
    pub fn try_claim(&self, key: &str) -> Result<std::result::Result<Instant, Duration>> {
        self.try_claim_as(key, false)
    }

    /// [`try_claim`](Self::try_claim); a `priority` request may take the
    /// slots [`reserve`](Self::reserve) keeps free.
    pub fn try_claim_as(
        &self,
        key: &str,
        priority: bool,
    ) -> Result<std::result::Result<Instant, Duration>> {
        self.with_bucket(key, |b| {
            let now = Instant::now();
            // The daily budget resets at a time we are not told; after a
            // while at zero, let one request through to ask again.
            if b.daily_remaining == Some(0)
                && b.daily_exhausted_at
                    .is_some_and(|t| now.duration_since(t) >= DAILY_RECHECK)
            {
                b.daily_remaining = None;
                b.daily_exhausted_at = None;
            }
            if b.daily_remaining == Some(0) {
                return Err(Error::new(
                    ErrorCode::RateLimited,
                    "the daily request budget for this location is used up",
                )
                .with_hint(
                    "HighLevel allows 200,000 requests a day per location; try again tomorrow",
                ));
            }
            if let Some(wait) = b.wait(now, priority) {
                return Ok(Err(wait));
            }
            b.blocked_until = None;
            b.sent.push_back(now);
            b.in_flight += 1;
            if let Some(d) = b.daily_remaining.as_mut() {
                *d = d.saturating_sub(1);
                if *d == 0 {
                    b.daily_exhausted_at = Some(now);
                }
            }
            Ok(Ok(now))
        })
    }

    /// How long a request for `key` would wait if claimed now.
    pub fn wait_ahead(&self, key: &str) -> Duration {
        self.with_bucket(key, |b| b.wait(Instant::now(), false).unwrap_or_default())
    }

    /// Keep `slots` of `key`'s window free for priority requests, until
    /// [`unreserve`](Self::unreserve).
    pub fn reserve(&self, key: &str, slots: u32) {
        self.with_bucket(key, |b| b.reserved = b.reserved.saturating_add(slots));
    }

    /// Give back slots [`reserve`](Self::reserve) kept.
    pub fn unreserve(&self, key: &str, slots: u32) {
        self.with_bucket(key, |b| b.reserved = b.reserved.saturating_sub(slots));
    }

    /// The budget currently believed for `key`: requests per window.
    pub fn budget(&self, key: &str) -> (u32, Duration) {
        self.with_bucket(key, |b| (b.max, b.interval))
    }

    /// The answer to the request sent in slot `claimed` has arrived. The
    /// server counted the request when it arrived, somewhere between the
    /// send and now, and on a fresh connection that can be much later than
    /// the send; so the slot counts from now, or a later request could reach
    /// the server inside a window it still sees as full.
    pub fn settle(&self, key: &str, claimed: Instant) {
        self.with_bucket(key, |b| {
            if let Some(i) = b.sent.iter().position(|t| *t == claimed) {
                b.sent.remove(i);
            }
            b.sent.push_back(Instant::now());
            b.in_flight = b.in_flight.saturating_sub(1);
        });
    }

    /// Learn from a response's headers: the stated budget and window
    /// (bounded), and the server's count of requests in its window.
    pub fn observe(&self, key: &str, info: &RateInfo) {
        self.observe_sent(key, info, Instant::now());
    }

    /// Learn from the headers of a response to a request sent at `sent`.
    /// The server counted its window when the request arrived, after
    /// `sent`; our own sends it still counted are those in the window as of
    /// `sent`. Comparing with the window as of now instead (a few of ours
    /// expired meanwhile) would mistake our own expired sends for other
    /// apps' and hold back budget that is free.
    pub fn observe_sent(&self, key: &str, info: &RateInfo, sent: Instant) {
        self.with_bucket(key, |b| {
            let now = Instant::now();
            let ours_at_send = b.ours_by(sent);
            if let Some(max) = info.max.filter(|m| *m > 0) {
                let interval = info
                    .interval_ms
                    .filter(|ms| *ms > 0)
                    .map(Duration::from_millis)
                    .unwrap_or(b.interval);
                (b.max, b.interval) = believed(max, interval);
            } else if let Some(ms) = info.interval_ms.filter(|ms| *ms > 0) {
                b.interval = Duration::from_millis(ms).clamp(MIN_INTERVAL, MAX_INTERVAL);
            }
            if let Some(d) = info.daily_remaining {
                b.daily_remaining = Some(d);
                b.daily_exhausted_at = (d == 0).then_some(now);
            }
            b.prune(now);
            if let (Some(max), Some(remaining)) = (info.max, info.remaining) {
                // The server's count covers our requests and others' (other
                // processes, other apps of the install): what it counted
                // beyond ours is others' share, followed both ways (a lower
                // figure means their requests left the server's window).
                // Our own sends are never taken off on its word: answers
                // arrive out of order, and a figure that predates our latest
                // sends would provoke a 429.
                let server_used = (max.saturating_sub(remaining)).min(b.max) as usize;
                let live = b.live(now);
                let room = (b.max as usize).saturating_sub(live);
                // Raised by the low reading (every send of ours counted, even
                // those the server may not have seen yet). Lowered only when
                // none of ours is in flight and the answer is the freshest:
                // then the figure is unambiguous. With requests in flight
                // a lower figure may simply not have seen them yet (following
                // it down gave 6 × 429 in 4,000 requests at 16 in flight).
                let others = server_used.saturating_sub(live.max(b.live(sent))).min(room);
                if b.in_flight == 0 && b.others_as_of.is_none_or(|t| sent >= t) {
                    b.others_as_of = Some(sent);
                    let at_most = server_used.saturating_sub(ours_at_send).min(room);
                    while b.others.len() > at_most {
                        b.others.pop_front();
                    }
                }
                while b.others.len() < others {
                    b.others.push_back(now);
                }
            }
        });
    }

    /// After a 429: hold the bucket for `for_` (or a whole window), never
    /// longer than [`MAX_BLOCK`]: an hour-long `Retry-After` from a proxy
    /// must not freeze every caller of the location in silence.
    pub fn block(&self, key: &str, for_: Option<Duration>) {
        self.with_bucket(key, |b| {
            let d = for_.unwrap_or(b.interval).min(MAX_BLOCK);
            b.blocked_until = Some(Instant::now() + d);
        });
    }

    /// Requests claimed in `key`'s current window.
    pub fn in_window(&self, key: &str) -> usize {
        self.with_bucket(key, |b| {
            let now = Instant::now();
            b.prune(now);
            b.used(now)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserved_slot_is_left_for_priority_requests() {
        let rl = RateLimiter::new(RateConfig {
            max: 3,
            interval: Duration::from_secs(10),
        });
        rl.reserve("loc", 1);
        assert!(rl.try_claim("loc").unwrap().is_ok());
        assert!(rl.try_claim("loc").unwrap().is_ok());
        assert!(
            rl.try_claim("loc").unwrap().is_err(),
            "the last slot is kept"
        );
        assert!(rl.try_claim_as("loc", true).unwrap().is_ok());
        assert!(rl.try_claim_as("loc", true).unwrap().is_err(), "max holds");
        // Without the reservation the window's max is everyone's.
        let rl = RateLimiter::new(RateConfig {
            max: 3,
            interval: Duration::from_secs(10),
        });
        rl.reserve("loc", 2);
        rl.unreserve("loc", 2);
        for _ in 0..3 {
            assert!(rl.try_claim("loc").unwrap().is_ok());
        }
        // A reservation never leaves ordinary requests no slot at all.
        let rl = RateLimiter::new(RateConfig {
            max: 1,
            interval: Duration::from_secs(10),
        });
        rl.reserve("loc", 5);
        assert!(rl.try_claim("loc").unwrap().is_ok());
    }

    #[test]
    fn slots_leaving_the_window_soon_serve_the_chain_so_others_may_go() {
        // A chain sending 5 times per 10 s window (every 2 s) in a budget
        // of 10 per window.
        let budget = RateConfig {
            max: 10,
            interval: Duration::from_secs(10),
        };
        let others_fit = |rl: &RateLimiter| {
            let mut n = 0;
            while rl.try_claim("loc").unwrap().is_ok() {
                n += 1;
            }
            n
        };
        // An empty window frees nothing for 10 s: the chain's five sends
        // need five of the ten, the others may have the rest.
        let rl = RateLimiter::new(budget);
        rl.reserve("loc", 5);
        assert_eq!(others_fit(&rl), 5);
        for _ in 0..5 {
            assert!(rl.try_claim_as("loc", true).unwrap().is_ok());
        }
        assert!(rl.try_claim_as("loc", true).unwrap().is_err(), "max holds");

        // Eight sends leave the window within a second: the chain's send
        // now needs one slot, its later ones find those eight. Holding
        // back five (the whole window's) would leave four idle.
        let rl = RateLimiter::new(budget);
        rl.with_bucket("loc", |b| {
            let soon = Instant::now() - Duration::from_secs(9);
            b.sent.extend(std::iter::repeat_n(soon, 8));
        });
        rl.reserve("loc", 5);
        assert_eq!(others_fit(&rl), 1, "one left for the chain's send now");
        assert!(rl.try_claim_as("loc", true).unwrap().is_ok());
    }

    #[test]
    fn our_own_sends_expiring_in_flight_are_not_taken_for_others() {
        let rl = RateLimiter::new(RateConfig::default());
        let now = Instant::now();
        let interval = RateConfig::default().interval;
        // 50 sends about to leave the window, 50 fresh ones.
        rl.with_bucket("loc", |b| {
            for _ in 0..50 {
                b.sent.push_back(now - interval + Duration::from_millis(20));
            }
            for _ in 0..50 {
                b.sent.push_back(now);
            }
        });
        std::thread::sleep(Duration::from_millis(40));
        // The server counted all 100 when the last request arrived; the
        // old 50 expired before its answer came back.
        rl.observe_sent(
            "loc",
            &RateInfo {
                max: Some(100),
                remaining: Some(0),
                interval_ms: Some(10_000),
                ..Default::default()
            },
            now,
        );
        assert_eq!(rl.in_window("loc"), 50);
    }

    #[tokio::test]
    async fn waits_for_the_window_to_roll() {
        let rl = RateLimiter::new(RateConfig {
            max: 3,
            interval: Duration::from_secs(10),
        });
        let start = tokio::time::Instant::now();
        for _ in 0..3 {
            rl.acquire("loc").await.unwrap();
        }
        assert_eq!(rl.in_window("loc"), 3);
        // Another location has its own budget.
        rl.acquire("other").await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn a_spent_daily_budget_refuses_then_rechecks() {
        let rl = RateLimiter::new(RateConfig::default());
        rl.observe(
            "loc",
            &RateInfo {
                daily_remaining: Some(0),
                ..Default::default()
            },
        );
        let err = rl.acquire("loc").await.unwrap_err();
        assert_eq!(err.code, ErrorCode::RateLimited);
        // Pretend the minute has passed: one request may ask again.
        rl.with_bucket("loc", |b| {
            b.daily_exhausted_at = Some(Instant::now() - DAILY_RECHECK);
        });
        rl.acquire("loc").await.unwrap();
    }

    #[test]
    fn a_long_retry_after_is_capped() {
        let rl = RateLimiter::new(RateConfig::default());
        rl.block("loc", Some(Duration::from_secs(3600)));
        let until = rl.with_bucket("loc", |b| b.blocked_until).unwrap();
        assert!(until <= Instant::now() + MAX_BLOCK);
    }

    #[test]
    fn headers_report_others_usage() {
        let rl = RateLimiter::new(RateConfig::default());
        rl.observe(
            "loc",
            &RateInfo {
                max: Some(100),
                remaining: Some(40),
                interval_ms: Some(10_000),
                ..Default::default()
            },
        );
        assert_eq!(rl.in_window("loc"), 60);
    }
}
