//! The demo agency's sub-accounts: listed for the agency, each reached
//! through a location token minted for it, each with its own data.

mod common;

use common::{LOC, env};
use serde_json::json;

#[tokio::test]
async fn the_agency_lists_its_sub_accounts_and_mints_a_token_for_each() {
    let e = env().await;
    let ids = ghl_sandbox::add_agency_locations(&e.db(), 3, 5).unwrap();
    assert_eq!(ids.len(), 3);
    // Adding again keeps what is there (no second batch of contacts).
    assert_eq!(
        ghl_sandbox::add_agency_locations(&e.db(), 3, 5).unwrap(),
        ids
    );

    let r = e
        .op(
            "locations.search-locations",
            &[],
            &[
                ("companyId", ghl_sandbox::DEMO_COMPANY_ID),
                ("limit", "100"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed: Vec<&str> = r.body["locations"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert!(listed.contains(&LOC), "{listed:?}");
    for id in &ids {
        assert!(listed.contains(&id.as_str()), "{listed:?}");
    }

    let mint = |loc: &str| json!({"companyId": ghl_sandbox::DEMO_COMPANY_ID, "locationId": loc});
    let r = e
        .op(
            "oauth.get-location-access-token",
            &[],
            &[],
            Some(mint(&ids[1])),
        )
        .await;
    assert_eq!(r.status / 100, 2, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(r.body["locationId"], ids[1].as_str());

    // That token sees its sub-account's contacts, and no other location's.
    let r = e
        .op_as(
            &token,
            "contacts.get-contacts",
            &[],
            &[("locationId", &ids[1])],
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["contacts"].as_array().map(Vec::len), Some(5));
    let theirs: Vec<&str> = r.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["locationId"].as_str())
        .collect();
    assert!(theirs.iter().all(|l| *l == ids[1]), "{theirs:?}");
    let r = e
        .op_as(
            &token,
            "contacts.get-contacts",
            &[],
            &[("locationId", LOC)],
            None,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // A location outside the agency gets no token, and a sub-account's
    // token cannot mint for its siblings.
    let r = e
        .op(
            "oauth.get-location-access-token",
            &[],
            &[],
            Some(mint("NotOurs0000000000001")),
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = e
        .op_as(
            &token,
            "oauth.get-location-access-token",
            &[],
            &[],
            Some(mint(&ids[0])),
        )
        .await;
    assert_ne!(r.status / 100, 2, "{}", r.body);
}
