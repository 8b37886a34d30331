//! Is this delivery authentic and fresh? Everything here runs before the
//! body is parsed as an event or stored, on the raw bytes as received.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, VerifyingKey};
use subtle::ConstantTimeEq;

/// Why a delivery was refused; the name is the counter's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    Method,
    Path,
    ContentType,
    TooLarge,
    Unsigned,
    BadSignature,
    BadSecret,
    NotJson,
    MissingId,
    Stale,
    Future,
    Replay,
    /// Signed only with the legacy RSA `x-wh-signature` while the receiver
    /// does not accept it (`--allow-legacy-rsa`).
    LegacyRsa,
}

impl Refusal {
    pub const ALL: [Refusal; 13] = [
        Refusal::Method,
        Refusal::Path,
        Refusal::ContentType,
        Refusal::TooLarge,
        Refusal::Unsigned,
        Refusal::BadSignature,
        Refusal::BadSecret,
        Refusal::NotJson,
        Refusal::MissingId,
        Refusal::Stale,
        Refusal::Future,
        Refusal::Replay,
        Refusal::LegacyRsa,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Refusal::Method => "method",
            Refusal::Path => "path",
            Refusal::ContentType => "content_type",
            Refusal::TooLarge => "too_large",
            Refusal::Unsigned => "unsigned",
            Refusal::BadSignature => "bad_signature",
            Refusal::BadSecret => "bad_secret",
            Refusal::NotJson => "not_json",
            Refusal::MissingId => "missing_webhook_id",
            Refusal::Stale => "stale",
            Refusal::Future => "future",
            Refusal::Replay => "replay",
            Refusal::LegacyRsa => "legacy_rsa",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            Refusal::Method => 405,
            Refusal::Path => 404,
            Refusal::ContentType => 415,
            Refusal::TooLarge => 413,
            Refusal::Unsigned | Refusal::BadSignature | Refusal::BadSecret | Refusal::LegacyRsa => {
                401
            }
            Refusal::NotJson | Refusal::MissingId => 400,
            Refusal::Stale | Refusal::Future => 401,
            Refusal::Replay => 409,
        }
    }

    /// What the person running the receiver can do about it, when anything.
    pub fn hint(self) -> Option<&'static str> {
        match self {
            Refusal::LegacyRsa => Some(
                "signed only with the legacy RSA x-wh-signature: start the receiver with \
                 --allow-legacy-rsa to accept it",
            ),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        Refusal::ALL.iter().position(|r| *r == self).unwrap_or(0)
    }
}

/// How a delivery proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    Ed25519,
    /// The legacy `x-wh-signature`, accepted only when allowed.
    Rsa,
    Secret,
}

/// The checks a receiver applies; built once from the command line.
#[derive(Clone)]
pub struct Verifier {
    pub keys: Vec<VerifyingKey>,
    /// Shared secret for unsigned posts (workflow "custom webhook" actions).
    pub secret: Option<String>,
    /// The key for the legacy RSA `x-wh-signature`; `None` refuses posts
    /// signed only that way (`--allow-legacy-rsa` sets it).
    pub legacy_rsa: Option<Arc<rsa::PublicKey>>,
    /// How old a `timestamp` may be, in milliseconds.
    pub window_ms: i64,
    /// How far ahead of our clock a `timestamp` may be, in milliseconds.
    pub skew_ms: i64,
}

pub const SIGNATURE_HEADER: &str = "x-ghl-signature";
pub const SECRET_HEADER: &str = "x-ghl-secret";
pub const LEGACY_RSA_HEADER: &str = "x-wh-signature";

impl Verifier {
    /// The signature (or secret) over the raw body; nothing is parsed yet.
    /// Ed25519 is preferred whenever its header is present: a post with a
    /// bad Ed25519 signature is refused even if its RSA one is good.
    pub fn authenticate(
        &self,
        signature: Option<&str>,
        secret: Option<&str>,
        body: &[u8],
    ) -> Result<Proof, Refusal> {
        self.authenticate_with(signature, None, secret, body)
    }

    /// [`Verifier::authenticate`] with the legacy RSA header as well.
    pub fn authenticate_with(
        &self,
        signature: Option<&str>,
        legacy_rsa: Option<&str>,
        secret: Option<&str>,
        body: &[u8],
    ) -> Result<Proof, Refusal> {
        if signature.is_none()
            && let Some(sig) = legacy_rsa
        {
            let Some(key) = &self.legacy_rsa else {
                return Err(Refusal::LegacyRsa);
            };
            let bytes = STANDARD
                .decode(sig.trim().as_bytes())
                .map_err(|_| Refusal::BadSignature)?;
            return key
                .pkcs1v15_verify::<rsa::sha2::Sha256>(body, &bytes)
                .map(|_| Proof::Rsa)
                .map_err(|_| Refusal::BadSignature);
        }
        if let Some(sig) = signature {
            let bytes = STANDARD
                .decode(sig.trim().as_bytes())
                .map_err(|_| Refusal::BadSignature)?;
            let sig = Signature::from_slice(&bytes).map_err(|_| Refusal::BadSignature)?;
            return if self
                .keys
                .iter()
                .any(|k| k.verify_strict(body, &sig).is_ok())
            {
                Ok(Proof::Ed25519)
            } else {
                Err(Refusal::BadSignature)
            };
        }
        match (&self.secret, secret) {
            (Some(want), Some(got)) => {
                if bool::from(want.as_bytes().ct_eq(got.as_bytes())) {
                    Ok(Proof::Secret)
                } else {
                    Err(Refusal::BadSecret)
                }
            }
            (Some(_), None) => Err(Refusal::BadSecret),
            (None, _) => Err(Refusal::Unsigned),
        }
    }

    /// The payload's `timestamp` within the window. Signed deliveries must
    /// carry one; secret-authenticated posts may not (workflow actions).
    pub fn fresh(&self, timestamp_ms: Option<i64>, proof: Proof) -> Result<(), Refusal> {
        let Some(ts) = timestamp_ms else {
            return match proof {
                Proof::Secret => Ok(()),
                Proof::Ed25519 | Proof::Rsa => Err(Refusal::Stale),
            };
        };
        let now = now_ms();
        if ts < now - self.window_ms - self.skew_ms {
            return Err(Refusal::Stale);
        }
        if ts > now + self.skew_ms {
            return Err(Refusal::Future);
        }
        Ok(())
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A payload timestamp: RFC 3339 text (as HighLevel sends) or epoch
/// milliseconds / seconds as a number.
pub fn parse_timestamp(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::String(s) => {
            let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .ok()?;
            Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
        }
        serde_json::Value::Number(n) => {
            let n = n.as_i64()?;
            // Seconds until the year 5138; milliseconds after.
            Some(if n < 100_000_000_000 { n * 1000 } else { n })
        }
        _ => None,
    }
}
