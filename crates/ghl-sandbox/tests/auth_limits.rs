//! Tokens, scopes, location access, Version header, rate limits and faults.

mod common;

use std::time::Duration;

use common::{LOC, env, env_with};
use ghl_sandbox::RateLimit;
use serde_json::json;

#[tokio::test]
async fn tokens_scopes_locations_versions() {
    let e = env().await;
    // Missing and unknown tokens.
    let r = e
        .op_as(
            "",
            "contacts.get-contacts",
            &[],
            &[("locationId", LOC)],
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["statusCode"], 401);
    let r = e
        .op_as(
            "pit-nope",
            "contacts.get-contacts",
            &[],
            &[("locationId", LOC)],
            None,
        )
        .await;
    assert_eq!(r.status, 401);
    // A read-only token cannot create.
    let ro =
        ghl_sandbox::mint_token(&e.db(), Some(vec!["contacts.readonly".into()]), None).unwrap();
    let r = e
        .op_as(
            &ro,
            "contacts.get-contacts",
            &[],
            &[("locationId", LOC)],
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let r = e
        .op_as(
            &ro,
            "contacts.create-contact",
            &[],
            &[],
            Some(json!({"locationId": LOC, "firstName": "No"})),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body["message"],
        "The token is not authorized for this scope."
    );
    // Another location.
    let r = e
        .op(
            "contacts.get-contacts",
            &[],
            &[("locationId", "OtherLocation0000001")],
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body["message"],
        "The token does not have access to this location"
    );
    let other = ghl_sandbox::mint_token(&e.db(), None, Some("OtherLocation0000001")).unwrap();
    let r = e
        .op_as(
            &other,
            "locations.get-location",
            &[("locationId", LOC)],
            &[],
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    let r = e
        .op(
            "invoices.list-invoices",
            &[],
            &[
                ("altId", "OtherLocation0000001"),
                ("altType", "location"),
                ("limit", "1"),
                ("offset", "0"),
            ],
            None,
        )
        .await;
    assert_eq!(r.status, 403);
    // Version header: missing or wrong is refused.
    let r = e
        .raw(
            &e.token,
            "GET",
            "/contacts/",
            None,
            &[("locationId", LOC)],
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    let r = e
        .raw(
            &e.token,
            "GET",
            "/contacts/",
            Some("2021-04-15"),
            &[("locationId", LOC)],
            None,
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.body["message"][0]
            .as_str()
            .unwrap()
            .contains("2021-07-28")
    );
    // Required params, enums, body types.
    let r = e.op("contacts.get-contacts", &[], &[], None).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.body["message"], json!(["locationId should not be empty"]));
    let r = e
        .op(
            "conversations.search-conversation",
            &[],
            &[("locationId", LOC), ("sort", "sideways")],
            None,
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = e
        .op(
            "contacts.create-contact",
            &[],
            &[],
            Some(json!({"firstName": "NoLoc"})),
        )
        .await;
    assert_eq!(r.status, 422);
    let r = e
        .op(
            "contacts.create-contact",
            &[],
            &[],
            Some(json!({"locationId": LOC, "firstName": 5})),
        )
        .await;
    assert_eq!(r.status, 422);
    // Unknown routes are HighLevel-shaped 404s; literal segments beat placeholders.
    let r = e
        .raw(&e.token, "GET", "/nothing/here", None, &[], None)
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["statusCode"], 404);
    let r = e
        .op(
            "contacts.get-duplicate-contact",
            &[],
            &[("locationId", LOC), ("email", "nobody@nowhere.test")],
            None,
        )
        .await;
    assert_eq!(
        r.status, 200,
        "/contacts/search/duplicate is not a contact id: {}",
        r.body
    );
    assert!(ghl_sandbox::all_scopes().len() > 100);
}

#[tokio::test]
async fn rate_limit_counts_down_then_429() {
    let e = env_with(|o| o.rate_limit = "5/1s".parse::<RateLimit>().unwrap()).await;
    for i in 0..5u32 {
        let r = e
            .op("locations.get-location", &[("locationId", LOC)], &[], None)
            .await;
        assert_eq!(r.status, 200);
        let h = |k: &str| r.headers.get(k).unwrap().to_str().unwrap().to_string();
        assert_eq!(h("X-RateLimit-Max"), "5");
        assert_eq!(h("X-RateLimit-Remaining"), (4 - i).to_string());
        assert_eq!(h("X-RateLimit-Interval-Milliseconds"), "1000");
        assert_eq!(h("X-RateLimit-Limit-Daily"), "200000");
        assert_eq!(
            h("X-RateLimit-Daily-Remaining"),
            (200_000 - 1 - i).to_string()
        );
    }
    let r = e
        .op("locations.get-location", &[("locationId", LOC)], &[], None)
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(
        r.body,
        json!({"statusCode": 429, "message": "Too many requests", "error": "Too Many Requests"})
    );
    assert!(r.headers.get("retry-after").is_none());
    let stats: serde_json::Value = e
        .http
        .get(format!("{}/_sandbox/stats", e.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["rate_limited"], 1);
    assert_eq!(stats["requests"], 6);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = e
        .op("locations.get-location", &[("locationId", LOC)], &[], None)
        .await;
    assert_eq!(r.status, 200, "the window slid");
}

#[tokio::test]
async fn faults_and_latency() {
    let e = env_with(|o| {
        o.fail_rate = 1.0;
    })
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(700))
        .build()
        .unwrap();
    let (mut five, mut dropped, mut hung) = (0, 0, 0);
    // Each failure takes one of the three forms at random: ask until all
    // three are seen (a fixed count misses one now and then).
    let mut sent = 0;
    while sent < 60 && (five == 0 || dropped == 0 || hung == 0) {
        sent += 1;
        let r = client
            .get(format!("{}/locations/{LOC}", e.base))
            .bearer_auth(&e.token)
            .header("Version", "2021-07-28")
            .send()
            .await;
        match r {
            Ok(r) => {
                assert!([500, 502, 503].contains(&r.status().as_u16()));
                five += 1;
            }
            Err(err) if err.is_timeout() => hung += 1,
            Err(_) => dropped += 1,
        }
    }
    assert!(
        five > 0 && dropped > 0 && hung > 0,
        "5xx {five}, dropped {dropped}, hung {hung}"
    );
    let stats: serde_json::Value = e
        .http
        .get(format!("{}/_sandbox/stats", e.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["failures_injected"], sent);

    let slow = env_with(|o| o.latency_ms = 150).await;
    let t = std::time::Instant::now();
    let r = slow
        .op("locations.get-location", &[("locationId", LOC)], &[], None)
        .await;
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[test]
fn parse_options() {
    let r: RateLimit = "100/10s".parse().unwrap();
    assert_eq!(
        (r.max, r.interval, r.daily),
        (100, Duration::from_secs(10), 200_000)
    );
    assert_eq!(
        "5/500ms".parse::<RateLimit>().unwrap().interval,
        Duration::from_millis(500)
    );
    assert!("x/1s".parse::<RateLimit>().is_err());
    assert_eq!(
        "demo".parse::<ghl_sandbox::Seed>().unwrap(),
        ghl_sandbox::Seed::Demo
    );
    assert!("other".parse::<ghl_sandbox::Seed>().is_err());
    assert_eq!(ghl_sandbox::DEMO_LOCATION_ID.len(), 20);
}
