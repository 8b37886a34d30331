//! An agency token reaches sub-accounts through location tokens minted once
//! per location; agency-level operations use the agency token itself.

use std::sync::Arc;

use ghl_core::{CallArgs, Client, Defaults, ErrorCode, Policy, Secret, Transport, TransportConfig};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const AGENCY: &str = "pit-agency-token-00000000000000";

fn agency_client(base: &str, location: Option<&str>) -> Client {
    let t = Transport::new(TransportConfig::new(base, Secret::new(AGENCY))).unwrap();
    Client::new(
        Arc::new(t),
        Policy::default(),
        Defaults {
            location_id: location.map(String::from),
            company_id: Some("CompanyAgency0000001".into()),
        },
    )
    .with_agency("CompanyAgency0000001")
}

async fn mint(server: &MockServer, location: &str, token: &str) {
    Mock::given(method("POST"))
        .and(path("/oauth/locationToken"))
        .and(header("authorization", format!("Bearer {AGENCY}").as_str()))
        .and(body_string_contains("companyId=CompanyAgency0000001"))
        .and(body_string_contains(
            format!("locationId={location}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "access_token": token, "token_type": "Bearer", "expires_in": 86399,
            "scope": "contacts.readonly", "locationId": location,
        })))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn location_calls_use_a_location_token_minted_once() {
    let server = MockServer::start().await;
    mint(&server, "LocAgencyOne00000001", "loc-token-one").await;
    mint(&server, "LocAgencyTwo00000002", "loc-token-two").await;
    Mock::given(method("GET"))
        .and(path("/contacts/c1"))
        .and(header("authorization", "Bearer loc-token-one"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"contact": {"id": "c1"}})))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/locations/LocAgencyTwo00000002"))
        .and(header("authorization", "Bearer loc-token-two"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"location": {"id": "two"}})))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/"))
        .and(header("authorization", "Bearer loc-token-two"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"contacts": []})))
        .expect(1)
        .mount(&server)
        .await;
    // Agency-level: the agency token itself, no minting.
    Mock::given(method("GET"))
        .and(path("/saas/saas-locations/CompanyAgency0000001"))
        .and(header("authorization", format!("Bearer {AGENCY}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"locations": []})))
        .expect(1)
        .mount(&server)
        .await;

    let c = agency_client(&server.uri(), Some("LocAgencyOne00000001"));
    for _ in 0..2 {
        let body = c
            .call(
                "contacts.get-contact",
                CallArgs::new().param("contactId", "c1"),
            )
            .await
            .unwrap();
        assert_eq!(body["contact"]["id"], "c1");
    }
    // Another location named by the request mints its own token.
    c.call(
        "contacts.get-contacts",
        CallArgs::new().param("locationId", "LocAgencyTwo00000002"),
    )
    .await
    .unwrap();
    // companyId comes from the defaults.
    c.call(
        "saas-api.get-saas-locations",
        CallArgs::new().param("page", 1),
    )
    .await
    .unwrap();
    server.verify().await;
}

#[tokio::test]
async fn an_agency_token_without_a_location_says_how_to_pick_one() {
    let server = MockServer::start().await;
    let c = agency_client(&server.uri(), None);
    let err = c
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "c1"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Config);
    assert!(err.hint.as_deref().unwrap_or("").contains("--location"));
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn a_refused_mint_names_the_scope_it_needs() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth/locationToken"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "statusCode": 401, "message": "The token is not authorized for this scope."
        })))
        .mount(&server)
        .await;
    let c = agency_client(&server.uri(), Some("LocAgencyOne00000001"));
    let err = c
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", "c1"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::MissingScope);
    assert_eq!(err.scopes, vec!["oauth.write".to_string()]);
    assert!(
        err.message.contains("LocAgencyOne00000001"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn a_refused_location_token_is_minted_again_once() {
    let server = MockServer::start().await;
    // First mint gives a token the API then refuses; the second a good one.
    Mock::given(method("POST"))
        .and(path("/oauth/locationToken"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"access_token": "stale-token", "expires_in": 86399})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/locationToken"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"access_token": "fresh-token", "expires_in": 86399})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/c1"))
        .and(header("authorization", "Bearer stale-token"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"statusCode": 401, "message": "Invalid JWT"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/contacts/c1"))
        .and(header("authorization", "Bearer fresh-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"contact": {"id": "c1"}})))
        .expect(2)
        .mount(&server)
        .await;
    let c = agency_client(&server.uri(), Some("LocAgencyOne00000001"));
    for _ in 0..2 {
        let body = c
            .call(
                "contacts.get-contact",
                CallArgs::new().param("contactId", "c1"),
            )
            .await
            .unwrap();
        assert_eq!(body["contact"]["id"], "c1");
    }
    server.verify().await;
}
