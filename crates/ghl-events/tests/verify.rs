//! Signature and freshness checks on raw bytes, and the spool's dedupe and
//! delivery leases, against a real SQLite store.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey};
use ghl_events::event::{NewEvent, State};
use ghl_events::keys;
use ghl_events::spool::{Spool, Stored};
use ghl_events::verify::{Proof, Refusal, Verifier, now_ms};

fn verifier(k: &SigningKey) -> Verifier {
    Verifier {
        keys: vec![k.verifying_key()],
        secret: Some("a-long-shared-secret".into()),
        legacy_rsa: None,
        window_ms: 300_000,
        skew_ms: 30_000,
    }
}

#[test]
fn highlevels_published_key_is_embedded_and_round_trips() {
    let k = keys::highlevel_key();
    assert_eq!(keys::spki_base64(&k), keys::HIGHLEVEL_ED25519_SPKI);
    // Raw 32-byte base64 and PEM forms are accepted too.
    let raw = STANDARD.encode(k.as_bytes());
    assert_eq!(keys::parse_public_key(&raw).unwrap(), k);
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        keys::HIGHLEVEL_ED25519_SPKI
    );
    assert_eq!(keys::parse_public_key(&pem).unwrap(), k);
    assert!(keys::parse_public_key("not base64!").is_err());
    assert!(keys::parse_public_key(&STANDARD.encode([1u8; 20])).is_err());
}

#[test]
fn signatures_are_checked_over_the_exact_bytes() {
    let k = SigningKey::from_bytes(&[1; 32]);
    let v = verifier(&k);
    let body = br#"{"type":"ContactCreate","webhookId":"w1"}"#;
    let sig = STANDARD.encode(k.sign(body).to_bytes());
    assert_eq!(v.authenticate(Some(&sig), None, body), Ok(Proof::Ed25519));
    // The same JSON re-serialised with a space is not what was signed.
    let spaced = br#"{"type": "ContactCreate","webhookId":"w1"}"#;
    assert_eq!(
        v.authenticate(Some(&sig), None, spaced),
        Err(Refusal::BadSignature)
    );
    assert_eq!(
        v.authenticate(Some("%%%"), None, body),
        Err(Refusal::BadSignature)
    );
    assert_eq!(
        v.authenticate(Some(&STANDARD.encode([0u8; 10])), None, body),
        Err(Refusal::BadSignature)
    );
    // A signature present but wrong is not rescued by a correct secret.
    let other = STANDARD.encode(SigningKey::from_bytes(&[2; 32]).sign(body).to_bytes());
    assert_eq!(
        v.authenticate(Some(&other), Some("a-long-shared-secret"), body),
        Err(Refusal::BadSignature)
    );
    assert_eq!(
        v.authenticate(None, Some("a-long-shared-secret"), body),
        Ok(Proof::Secret)
    );
    assert_eq!(
        v.authenticate(None, Some("a-long-shared-secreT"), body),
        Err(Refusal::BadSecret)
    );
    let no_secret = Verifier { secret: None, ..v };
    assert_eq!(
        no_secret.authenticate(None, Some("x"), body),
        Err(Refusal::Unsigned)
    );
}

#[test]
fn freshness_window_and_skew() {
    let k = SigningKey::from_bytes(&[1; 32]);
    let v = verifier(&k);
    let now = now_ms();
    assert_eq!(v.fresh(Some(now), Proof::Ed25519), Ok(()));
    assert_eq!(
        v.fresh(Some(now - 320_000), Proof::Ed25519),
        Ok(()),
        "inside window + skew"
    );
    assert_eq!(
        v.fresh(Some(now - 340_000), Proof::Ed25519),
        Err(Refusal::Stale)
    );
    assert_eq!(v.fresh(Some(now + 20_000), Proof::Ed25519), Ok(()));
    assert_eq!(
        v.fresh(Some(now + 40_000), Proof::Ed25519),
        Err(Refusal::Future)
    );
    assert_eq!(v.fresh(None, Proof::Ed25519), Err(Refusal::Stale));
    assert_eq!(v.fresh(None, Proof::Secret), Ok(()));
}

fn ev(id: &str) -> NewEvent {
    let body =
        format!(r#"{{"type":"NoteCreate","webhookId":"{id}","locationId":"l1","contactId":"c1"}}"#);
    NewEvent::from_body(body.as_bytes(), Proof::Ed25519).unwrap()
}

#[test]
fn the_spool_dedupes_and_leases_claims() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        ghl_store::Store::open(&ghl_store::StoreUrl::Sqlite(dir.path().join("e.db"))).unwrap();
    let spool = Spool::open(store).unwrap();
    let got = spool
        .insert_batch(&[
            (ev("a"), State::Pending),
            (ev("b"), State::Pending),
            (ev("a"), State::Pending),
        ])
        .unwrap();
    assert_eq!(got, [Stored::New, Stored::New, Stored::Duplicate]);

    // One holder's claim keeps the events from another until it lapses.
    let first = spool.claim("r1", 10, 60_000).unwrap();
    assert_eq!(first.len(), 2);
    assert!(spool.claim("r2", 10, 60_000).unwrap().is_empty());
    // The same holder, restarted, takes its claims back at once.
    assert_eq!(spool.claim("r1", 10, 60_000).unwrap().len(), 2);

    // A failure backs off; the limit makes it dead; replay revives it.
    let a = &first[0];
    assert_eq!(
        spool.failed(a.seq, "r1", "boom", 2, now_ms() - 1).unwrap(),
        State::Pending
    );
    // Due again at once (next_at in the past): claimable, then dead at the limit.
    assert!(
        spool
            .claim("r1", 10, 60_000)
            .unwrap()
            .iter()
            .any(|e| e.seq == a.seq)
    );
    assert_eq!(
        spool.failed(a.seq, "r1", "boom", 2, now_ms()).unwrap(),
        State::Dead
    );
    let revived = spool.replay(&a.webhook_id).unwrap().unwrap();
    assert_eq!((revived.state, revived.attempts), (State::Pending, 0));
    // Only the lease holder can settle an event.
    spool.delivered(a.seq, "someone-else").unwrap();
    assert_eq!(
        spool.get(&a.webhook_id).unwrap().unwrap().state,
        State::Pending
    );

    // An unsigned body without webhookId is refused when signed-only.
    assert_eq!(
        NewEvent::from_body(br#"{"type":"X"}"#, Proof::Ed25519).unwrap_err(),
        Refusal::MissingId
    );
    assert_eq!(
        NewEvent::from_body(b"[1,2]", Proof::Ed25519).unwrap_err(),
        Refusal::NotJson
    );
}

#[test]
fn only_the_indexed_fields_are_read_from_the_body() {
    let e = NewEvent::from_body(
        br#"{"type":"ContactTagUpdate","id":"c9","nested":{"id":"x","webhookId":"inner"},
            "list":[1,{"a":"b"}],"locationId":"l1","webhookId":"w-old","webhookId":"w9",
            "timestamp":"2026-01-01T00:00:00Z"}"#,
        Proof::Ed25519,
    )
    .unwrap();
    // A repeated key counts by its last value; nested keys are not read.
    assert_eq!(e.webhook_id, "w9");
    assert_eq!(e.event_type, "ContactTagUpdate");
    assert_eq!(e.contact_id.as_deref(), Some("c9"));
    assert_eq!(e.location_id.as_deref(), Some("l1"));
    assert_eq!(e.timestamp_ms, Some(1_767_225_600_000));
    // The body is kept byte for byte.
    assert!(e.body.contains(r#""webhookId":"w-old""#));
    // A number is not an id; broken JSON anywhere is refused.
    assert_eq!(
        NewEvent::from_body(br#"{"webhookId":5}"#, Proof::Ed25519).unwrap_err(),
        Refusal::MissingId
    );
    assert_eq!(
        NewEvent::from_body(br#"{"webhookId":"w","x":[1,}"#, Proof::Ed25519).unwrap_err(),
        Refusal::NotJson
    );
    assert_eq!(
        NewEvent::from_body(br#""w""#, Proof::Ed25519).unwrap_err(),
        Refusal::NotJson
    );
}
