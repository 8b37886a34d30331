//! `ghl webhooks listen` and the legacy RSA `x-wh-signature`: refused with
//! a hint unless `--allow-legacy-rsa`; with it, a post signed by the
//! configured key is stored and delivered, and a forged or altered one is
//! refused with nothing stored. Real processes; the test's own RSA key.

mod webhooks_support;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rsa::pkcs8::DecodePrivateKey;
use serde_json::Value;
use webhooks_support::*;

const PRIVATE: &str = include_str!("../../ghl-events/tests/fixtures/test-only-rsa-private.pem");
const PUBLIC: &str = include_str!("../../ghl-events/tests/fixtures/test-only-rsa-public.pem");

fn rsa_sign(body: &[u8]) -> String {
    let k = rsa::PrivateKey::from_pkcs8_pem(PRIVATE).unwrap();
    STANDARD.encode(k.pkcs1v15_sign::<rsa::sha2::Sha256>(body).unwrap())
}

fn post_rsa(addr: &str, body: &[u8], sig: &str) -> (u16, String) {
    http(
        addr,
        "POST",
        "/webhooks/ghl",
        &[
            ("content-type", "application/json"),
            ("x-wh-signature", sig),
        ],
        body,
    )
}

fn listen(dir: &Dir, out: &std::path::Path, extra: &[&str]) -> Proc {
    let mut cmd = dir.ghl();
    cmd.args(["webhooks", "listen", "--listen", "127.0.0.1:0", "--store"])
        .arg(dir.store())
        .args(["--public-key", &public_b64(&key(7)), "--jsonl"])
        .arg(out)
        .args(extra);
    Proc::start(cmd)
}

fn stored_ids(dir: &Dir) -> Vec<String> {
    let v = dir.json(&["webhooks", "events", "list", "--store", &dir.store()]);
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["webhookId"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_rsa_signed_post_is_refused_with_a_hint_without_the_flag() {
    let dir = Dir::new();
    let out = dir.path("out.jsonl");
    let rx = listen(&dir, &out, &[]);
    let body = contact_event("wh-rsa-no-flag").to_string();
    let (status, answer) = post_rsa(&rx.addr, body.as_bytes(), &rsa_sign(body.as_bytes()));
    assert_eq!(status, 401, "{answer}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["refused"], "legacy_rsa");
    assert!(
        answer["hint"]
            .as_str()
            .unwrap()
            .contains("--allow-legacy-rsa"),
        "{answer}"
    );
    assert_eq!(health(&rx.addr)["refused"]["legacy_rsa"], 1);
    // Said to the person running it as well.
    let said = wait_for(5, || {
        rx.stderr
            .try_iter()
            .any(|l| l.contains("--allow-legacy-rsa"))
    });
    assert!(said, "no hint on stderr");
    drop(rx);
    assert!(stored_ids(&dir).is_empty());
    assert!(jsonl_ids(&out).is_empty());
}

#[test]
fn with_the_flag_a_valid_rsa_post_is_delivered_and_forgeries_are_not() {
    let dir = Dir::new();
    let out = dir.path("out.jsonl");
    let pem = dir.path("legacy.pem");
    std::fs::write(&pem, PUBLIC).unwrap();
    let rx = listen(
        &dir,
        &out,
        &[
            "--allow-legacy-rsa",
            "--legacy-rsa-key",
            pem.to_str().unwrap(),
        ],
    );
    let a = rx.addr.as_str();

    // Altered after signing.
    let body = contact_event("wh-rsa-altered").to_string();
    let sig = rsa_sign(body.as_bytes());
    let altered = body.replace("Jane", "Jana");
    assert_eq!(post_rsa(a, altered.as_bytes(), &sig).0, 401);
    // Forged: a signature of other bytes.
    let body = contact_event("wh-rsa-forged").to_string();
    assert_eq!(
        post_rsa(a, body.as_bytes(), &rsa_sign(b"other bytes")).0,
        401
    );
    // Garbage in the header.
    assert_eq!(post_rsa(a, body.as_bytes(), "not-a-signature!").0, 401);

    // The genuine one.
    let body = contact_event("wh-rsa-good").to_string();
    let (status, answer) = post_rsa(a, body.as_bytes(), &rsa_sign(body.as_bytes()));
    assert_eq!(status, 200, "{answer}");
    assert!(wait_for(15, || jsonl_ids(&out) == ["wh-rsa-good"]));
    assert_eq!(health(a)["refused"]["bad_signature"], 3);
    drop(rx);
    assert_eq!(stored_ids(&dir), ["wh-rsa-good"]);
}

#[test]
fn the_default_legacy_key_is_highlevels_so_the_test_key_is_refused() {
    let dir = Dir::new();
    let out = dir.path("out.jsonl");
    let rx = listen(&dir, &out, &["--allow-legacy-rsa"]);
    let body = contact_event("wh-rsa-other-key").to_string();
    let (status, _) = post_rsa(&rx.addr, body.as_bytes(), &rsa_sign(body.as_bytes()));
    assert_eq!(status, 401);
    drop(rx);
    assert!(stored_ids(&dir).is_empty());
}

#[test]
fn a_legacy_key_without_the_flag_or_unreadable_is_a_clear_error() {
    let dir = Dir::new();
    let out = dir.path("out.jsonl");
    let pem = dir.path("legacy.pem");
    std::fs::write(&pem, PUBLIC).unwrap();
    let o = dir
        .ghl()
        .args(["webhooks", "listen", "--listen", "127.0.0.1:0", "--jsonl"])
        .arg(&out)
        .arg("--legacy-rsa-key")
        .arg(&pem)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--allow-legacy-rsa"));
    std::fs::write(&pem, "not a key").unwrap();
    let o = dir
        .ghl()
        .args(["webhooks", "listen", "--listen", "127.0.0.1:0", "--jsonl"])
        .arg(&out)
        .args(["--allow-legacy-rsa", "--legacy-rsa-key"])
        .arg(&pem)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--legacy-rsa-key") && err.contains("RSA"),
        "{err}"
    );
}
