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

/// HighLevel's RSA-4096 public key for the legacy `x-wh-signature`
/// (`ghl-openapi/docs/oauth/WebhookAuthentication.md`), accepted only with
/// `--allow-legacy-rsa`.
pub const HIGHLEVEL_RSA_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC
Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6
dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB
csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv
uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF
3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU
J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp
IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN
h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC
HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ
PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk
T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==
-----END PUBLIC KEY-----
";

/// An RSA public key as a PEM block (`BEGIN PUBLIC KEY`, SPKI, or
/// `BEGIN RSA PUBLIC KEY`, PKCS#1).
pub fn parse_rsa_public_key(pem: &str) -> Result<rsa::PublicKey, String> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    let pem = pem.trim();
    let parsed = if pem.contains("BEGIN RSA PUBLIC KEY") {
        rsa::PublicKey::from_pkcs1_pem(pem).map_err(|e| e.to_string())
    } else {
        rsa::PublicKey::from_public_key_pem(pem).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| format!("not an RSA public key in PEM form ({e})"))
}

/// HighLevel's legacy RSA key, parsed.
pub fn highlevel_rsa_key() -> rsa::PublicKey {
    // Our own constant, checked by a test.
    parse_rsa_public_key(HIGHLEVEL_RSA_PEM).unwrap_or_else(|e| panic!("embedded RSA key: {e}"))
}
