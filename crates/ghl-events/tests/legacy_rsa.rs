//! The legacy RSA `x-wh-signature`: accepted only when the receiver allows
//! it, checked over the exact bytes, and never preferred over Ed25519.
//! Signed with the test's own RSA key (fixtures/test-only-rsa-*.pem).

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use ghl_events::keys;
use ghl_events::verify::{Proof, Refusal, Verifier};
use rsa::pkcs8::DecodePrivateKey;

const PRIVATE: &str = include_str!("fixtures/test-only-rsa-private.pem");
const PUBLIC: &str = include_str!("fixtures/test-only-rsa-public.pem");

fn rsa_sign(body: &[u8]) -> String {
    let k = rsa::PrivateKey::from_pkcs8_pem(PRIVATE).unwrap();
    STANDARD.encode(k.pkcs1v15_sign::<rsa::sha2::Sha256>(body).unwrap())
}

fn verifier(legacy: bool) -> Verifier {
    Verifier {
        keys: vec![SigningKey::from_bytes(&[7; 32]).verifying_key()],
        secret: None,
        legacy_rsa: legacy.then(|| Arc::new(keys::parse_rsa_public_key(PUBLIC).unwrap())),
        window_ms: 300_000,
        skew_ms: 30_000,
    }
}

#[test]
fn highlevels_rsa_key_is_embedded_and_is_rsa_4096() {
    use rsa::traits::PublicKeyParts;
    let k = keys::highlevel_rsa_key();
    assert_eq!(k.size() * 8, 4096);
    assert!(
        keys::parse_rsa_public_key("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
            .is_err()
    );
    // An Ed25519 key is not an RSA key.
    let ed = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        keys::HIGHLEVEL_ED25519_SPKI
    );
    assert!(keys::parse_rsa_public_key(&ed).is_err());
}

#[test]
fn rsa_signed_posts_are_accepted_only_when_allowed() {
    let body = br#"{"type":"ContactCreate","webhookId":"r1"}"#;
    let sig = rsa_sign(body);
    assert_eq!(
        verifier(true).authenticate_with(None, Some(&sig), None, body),
        Ok(Proof::Rsa)
    );
    let refused = verifier(false).authenticate_with(None, Some(&sig), None, body);
    assert_eq!(refused, Err(Refusal::LegacyRsa));
    assert!(
        Refusal::LegacyRsa
            .hint()
            .unwrap()
            .contains("--allow-legacy-rsa")
    );
    assert_eq!(Refusal::LegacyRsa.status(), 401);
}

#[test]
fn altered_or_forged_rsa_signatures_are_refused() {
    let v = verifier(true);
    let body = br#"{"type":"ContactCreate","webhookId":"r1"}"#;
    let sig = rsa_sign(body);
    let altered = br#"{"type": "ContactCreate","webhookId":"r1"}"#;
    assert_eq!(
        v.authenticate_with(None, Some(&sig), None, altered),
        Err(Refusal::BadSignature)
    );
    let mut raw = STANDARD.decode(&sig).unwrap();
    raw[10] ^= 1;
    assert_eq!(
        v.authenticate_with(None, Some(&STANDARD.encode(&raw)), None, body),
        Err(Refusal::BadSignature)
    );
    assert_eq!(
        v.authenticate_with(None, Some("%%%"), None, body),
        Err(Refusal::BadSignature)
    );
    // HighLevel's real key did not sign this: the test key's signature fails.
    let highlevel = Verifier {
        legacy_rsa: Some(Arc::new(keys::highlevel_rsa_key())),
        ..verifier(true)
    };
    assert_eq!(
        highlevel.authenticate_with(None, Some(&sig), None, body),
        Err(Refusal::BadSignature)
    );
}

#[test]
fn ed25519_is_preferred_when_both_headers_are_present() {
    let v = verifier(true);
    let body = br#"{"type":"ContactCreate","webhookId":"r1"}"#;
    let rsa_sig = rsa_sign(body);
    let good_ed = STANDARD.encode(SigningKey::from_bytes(&[7; 32]).sign(body).to_bytes());
    let bad_ed = STANDARD.encode(SigningKey::from_bytes(&[8; 32]).sign(body).to_bytes());
    assert_eq!(
        v.authenticate_with(Some(&good_ed), Some(&rsa_sig), None, body),
        Ok(Proof::Ed25519)
    );
    // A good RSA signature does not rescue a bad Ed25519 one.
    assert_eq!(
        v.authenticate_with(Some(&bad_ed), Some(&rsa_sig), None, body),
        Err(Refusal::BadSignature)
    );
}
