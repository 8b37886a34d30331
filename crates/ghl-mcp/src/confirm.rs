//! Two-step confirmation for destructive and outbound calls. The first call
//! gets a preview and a token; only a second call carrying that token, for
//! the very same request, within the TTL, runs. Tokens are single-use.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;

struct Pending {
    /// Tool and exact request (the `Client::describe` preview) it was
    /// issued for.
    binding: String,
    expires: Instant,
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Never issued, or already used.
    Unknown,
    Expired,
    /// Issued for another tool, operation or arguments.
    Mismatch,
}

impl Refusal {
    pub fn explain(self) -> &'static str {
        match self {
            Refusal::Unknown => "the confirmation token is unknown or was already used",
            Refusal::Expired => "the confirmation token has expired",
            Refusal::Mismatch => {
                "the confirmation token was issued for a different request (tool, operation or arguments changed)"
            }
        }
    }
}

pub struct ConfirmStore {
    ttl: Duration,
    pending: Mutex<HashMap<String, Pending>>,
}

/// Cap on outstanding tokens so a looping client cannot grow memory.
const MAX_PENDING: usize = 256;

impl ConfirmStore {
    pub fn new(ttl: Duration) -> Self {
        ConfirmStore {
            ttl,
            pending: Mutex::new(HashMap::new()),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issue a token for `binding`.
    pub fn issue(&self, binding: String) -> String {
        let mut bytes = [0u8; 12];
        rand::rng().fill(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        p.retain(|_, v| v.expires > now);
        if p.len() >= MAX_PENDING
            && let Some(oldest) = p
                .iter()
                .min_by_key(|(_, v)| v.expires)
                .map(|(k, _)| k.clone())
        {
            p.remove(&oldest);
        }
        p.insert(
            token.clone(),
            Pending {
                binding,
                expires: now + self.ttl,
            },
        );
        token
    }

    /// Spend `token` for `binding`. A presented token is consumed whatever
    /// the outcome, so it can never be tried twice.
    pub fn redeem(&self, token: &str, binding: &str) -> Result<(), Refusal> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = p.remove(token.trim()) else {
            return Err(Refusal::Unknown);
        };
        if entry.expires <= Instant::now() {
            return Err(Refusal::Expired);
        }
        if entry.binding != binding {
            return Err(Refusal::Mismatch);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_use_bound_and_expiring() {
        let s = ConfirmStore::new(Duration::from_secs(60));
        let t = s.issue("a".into());
        assert_eq!(s.redeem(&t, "b"), Err(Refusal::Mismatch));
        let t = s.issue("a".into());
        assert_eq!(s.redeem(&t, "a"), Ok(()));
        assert_eq!(s.redeem(&t, "a"), Err(Refusal::Unknown));
        let s = ConfirmStore::new(Duration::from_millis(0));
        let t = s.issue("a".into());
        assert_eq!(s.redeem(&t, "a"), Err(Refusal::Expired));
    }
}
