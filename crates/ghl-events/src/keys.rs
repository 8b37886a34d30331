//! Ed25519 public keys as HighLevel publishes them (SPKI DER in base64) or
//! as 32 raw bytes in base64, and the keys ghl trusts by default.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::VerifyingKey;

/// HighLevel's published Ed25519 key for `X-GHL-Signature`
/// (`ghl-openapi/NOTES.md`, Webhooks).
pub const HIGHLEVEL_ED25519_SPKI: &str =
    "MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=";

/// The fixed SPKI header of an Ed25519 key: SEQUENCE, AlgorithmIdentifier
/// (OID 1.3.101.112), BIT STRING of 33 bytes (one unused-bits byte + 32).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// A key from base64 (SPKI DER or raw 32 bytes), or from a PEM block.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, String> {
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
        .split_whitespace()
        .collect();
    let der = STANDARD.decode(body.as_bytes()).map_err(|_| {
        "the public key is not base64 (expected SPKI DER or 32 raw bytes)".to_string()
    })?;
    let raw: [u8; 32] = match der.len() {
        32 => der
            .as_slice()
            .try_into()
            .map_err(|_| "bad key length".to_string())?,
        44 if der[..12] == SPKI_PREFIX => der[12..]
            .try_into()
            .map_err(|_| "bad key length".to_string())?,
        n => {
            return Err(format!(
                "the public key is {n} bytes; an Ed25519 key is 32 raw bytes or 44 bytes of SPKI DER"
            ));
        }
    };
    VerifyingKey::from_bytes(&raw).map_err(|_| "the public key is not a valid Ed25519 point".into())
}

/// A key as SPKI DER in base64, the way HighLevel prints its own.
pub fn spki_base64(key: &VerifyingKey) -> String {
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    STANDARD.encode(der)
}

/// HighLevel's published key, parsed.
pub fn highlevel_key() -> VerifyingKey {
    // The constant is ours and checked by a test; a failure here is a bug in
    // the constant, not outside data.
    parse_public_key(HIGHLEVEL_ED25519_SPKI).unwrap_or_else(|e| panic!("embedded key: {e}"))
}
