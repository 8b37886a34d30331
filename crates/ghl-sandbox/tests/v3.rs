//! API v3 in the sandbox: the Version header picks the operation, and a v3
//! operation on a v2 path acts on the same state as its v2 twin.

mod common;

use common::{LOC, env, s};
use serde_json::json;

#[tokio::test]
async fn v3_and_v2_share_a_contact() {
    let e = env().await;
    let made = e
        .op(
            "contacts.create-contact",
            &[],
            &[],
            Some(json!({"locationId": LOC, "firstName": "Vera", "email": "vera@example.com"})),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let id = s(&made.body["contact"]["id"]).to_string();

    // Read through v3 (Version: v3) what v2 created.
    let got = e
        .op("contacts-v3.get-contact", &[("contactId", &id)], &[], None)
        .await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["contact"]["firstName"], "Vera");

    // Change it through v3, read it back through v2.
    let upd = e
        .op(
            "contacts-v3.update-contact",
            &[("contactId", &id)],
            &[],
            Some(json!({"lastName": "Three"})),
        )
        .await;
    assert_eq!(upd.status, 200, "{}", upd.body);
    let back = e
        .op("contacts.get-contact", &[("contactId", &id)], &[], None)
        .await;
    assert_eq!(back.body["contact"]["lastName"], "Three", "{}", back.body);
}

#[tokio::test]
async fn the_version_header_is_the_operations_own() {
    let e = env().await;
    let path = format!("/contacts/{}", "nope0000000000000001");
    // v2's and v3's Version both reach the contact handler ("Contact not
    // found"); any other Version is refused.
    let v2 = e
        .raw(&e.token, "GET", &path, Some("2021-07-28"), &[], None)
        .await;
    let v3 = e.raw(&e.token, "GET", &path, Some("v3"), &[], None).await;
    assert_eq!(
        (v2.status, v3.status),
        (400, 400),
        "{} {}",
        v2.body,
        v3.body
    );
    let bad = e
        .raw(&e.token, "GET", &path, Some("2021-04-15"), &[], None)
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    // A v3-only path wants v3.
    let only = e
        .raw(
            &e.token,
            "GET",
            "/calendars/services/catalog",
            Some("2021-07-28"),
            &[("locationId", LOC)],
            None,
        )
        .await;
    assert_eq!(only.status, 422, "{}", only.body);
    assert!(only.body.to_string().contains("v3"), "{}", only.body);
}
