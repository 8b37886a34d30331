//! A location token's every request counts against its location's budget,
//! whether or not the operation names the location: `contacts.add-tags`
//! (no location parameter) and `contacts.get-duplicate-contact` (one) must
//! share one rate-limit bucket, or the client allows itself twice the
//! budget and the server answers 429.

use std::sync::Arc;

use ghl_core::{CallArgs, Client, Defaults, Policy, Secret, Transport, TransportConfig};
use serde_json::json;

fn client() -> Client {
    let t = Transport::new(TransportConfig::new(
        "http://127.0.0.1:9",
        Secret::new("pit-test"),
    ))
    .unwrap();
    Client::new(
        Arc::new(t),
        Policy::default(),
        Defaults {
            location_id: Some("LocA".into()),
            company_id: None,
        },
    )
}

#[test]
fn operations_without_a_location_parameter_use_the_profile_location_bucket() {
    let c = client();
    let tags = c
        .prepare(
            "contacts.add-tags",
            &CallArgs::new()
                .param("contactId", "c1")
                .param("tags", json!(["x"])),
        )
        .unwrap();
    let lookup = c
        .prepare(
            "contacts.get-duplicate-contact",
            &CallArgs::new().param("email", "a@x.com"),
        )
        .unwrap();
    assert_eq!(lookup.location.as_deref(), Some("LocA"));
    assert_eq!(tags.location.as_deref(), Some("LocA"));
}
