//! When a failed request may be sent again, and after how long.
//!
//! A 429 means the server did not act, so any operation may be retried.
//! A 5xx, a timeout or a dropped connection may come after the server acted:
//! only operations that cannot duplicate work (GET, PUT, DELETE, upserts,
//! searches) are retried. A POST that may have reached the server is never
//! sent again; a second "send message" would text the customer twice.

use std::time::Duration;

use ghl_catalog::Operation;
use rand::Rng;

#[derive(Debug, Clone, Copy)]
pub struct RetryConfig {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
        }
    }
}

/// How an attempt ended, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// 429, with the server's `Retry-After` if it sent one.
    RateLimited(Option<Duration>),
    /// 500-599.
    Server,
    /// The connection could not be made: nothing reached the server.
    ConnectFailed,
    /// Timed out or dropped after the request may have been sent.
    MaybeDelivered,
    /// An answer another attempt would not change (too large, out of time).
    Final,
}

impl RetryConfig {
    /// `attempt` counts from 1. `None` means give up.
    pub fn decide(&self, op: &Operation, failure: Failure, attempt: u32) -> Option<Duration> {
        self.decide_for(op.idempotent, failure, attempt)
    }

    /// As [`decide`](Self::decide), for a request whose retry safety is
    /// known (see [`Prepared::retry_safe`](crate::Prepared::retry_safe)).
    pub fn decide_for(&self, retry_safe: bool, failure: Failure, attempt: u32) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let safe = match failure {
            Failure::RateLimited(_) | Failure::ConnectFailed => true,
            Failure::Server | Failure::MaybeDelivered => retry_safe,
            Failure::Final => false,
        };
        if !safe {
            return None;
        }
        if let Failure::RateLimited(Some(after)) = failure {
            return Some(after.min(Duration::from_secs(120)));
        }
        Some(self.backoff(attempt))
    }

    /// Exponential backoff with full jitter: a random wait up to
    /// base * 2^(attempt-1), capped.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        let ms = exp.as_millis().max(1) as u64;
        let jittered = rand::rng().random_range(ms / 2..=ms);
        Duration::from_millis(jittered)
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs >= 0.0 && secs.is_finite()).then(|| Duration::from_secs_f64(secs));
    }
    let fmt = time::format_description::well_known::Rfc2822;
    let when = time::OffsetDateTime::parse(v, &fmt).ok()?;
    let now = time::OffsetDateTime::now_utc();
    let d = when - now;
    Some(Duration::from_millis(d.whole_milliseconds().max(0) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(name: &str) -> &'static Operation {
        ghl_catalog::find(name).expect("catalog op")
    }

    #[test]
    fn post_is_never_resent_after_it_may_have_arrived() {
        let r = RetryConfig::default();
        let send = op("conversations.send-a-new-message");
        assert_eq!(r.decide(send, Failure::Server, 1), None);
        assert_eq!(r.decide(send, Failure::MaybeDelivered, 1), None);
        assert!(r.decide(send, Failure::RateLimited(None), 1).is_some());
        assert!(r.decide(send, Failure::ConnectFailed, 1).is_some());
        let create = op("contacts.create-contact");
        assert_eq!(r.decide(create, Failure::Server, 1), None);
    }

    #[test]
    fn reads_puts_deletes_and_upserts_are_retried() {
        let r = RetryConfig::default();
        for name in [
            "contacts.get-contact",
            "contacts.update-contact",
            "contacts.delete-contact",
            "contacts.upsert-contact",
            "contacts.search-contacts-advanced",
        ] {
            assert!(r.decide(op(name), Failure::Server, 1).is_some(), "{name}");
            assert!(
                r.decide(op(name), Failure::MaybeDelivered, 1).is_some(),
                "{name}"
            );
        }
        assert_eq!(
            r.decide(op("contacts.get-contact"), Failure::Server, 5),
            None
        );
    }

    #[test]
    fn retry_after_wins_and_backoff_grows() {
        let r = RetryConfig::default();
        let d = r.decide(
            op("contacts.get-contact"),
            Failure::RateLimited(Some(Duration::from_secs(3))),
            1,
        );
        assert_eq!(d, Some(Duration::from_secs(3)));
        assert!(r.backoff(1) <= Duration::from_millis(500));
        assert!(r.backoff(4) >= Duration::from_millis(2000));
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
    }
}
