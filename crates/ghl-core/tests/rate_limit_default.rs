//! HighLevel's real budget, 100 requests per 10 s per location, against a
//! server that enforces exactly that: the default client provokes no 429.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ghl_core::{CallArgs, Client, Defaults, Policy, Secret, Transport, TransportConfig};
use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

#[derive(Clone, Default)]
struct Budget {
    seen: Arc<Mutex<VecDeque<Instant>>>,
    refused: Arc<Mutex<u32>>,
}

impl Respond for Budget {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(10))
        {
            seen.pop_front();
        }
        if seen.len() >= 100 {
            *self.refused.lock().unwrap() += 1;
            return ResponseTemplate::new(429)
                .set_body_json(json!({"statusCode": 429, "message": "Too many requests"}));
        }
        seen.push_back(now);
        let remaining = 100 - seen.len();
        ResponseTemplate::new(200)
            .insert_header("x-ratelimit-max", "100")
            .insert_header("x-ratelimit-remaining", remaining.to_string().as_str())
            .insert_header("x-ratelimit-interval-milliseconds", "10000")
            .set_body_json(json!({"contact": {"id": "c"}}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_limiter_provokes_no_429_at_100_per_10_s() {
    let server = MockServer::start().await;
    let budget = Budget::default();
    Mock::given(wiremock::matchers::any())
        .respond_with(budget.clone())
        .mount(&server)
        .await;
    // Defaults: 100 per 10 s, as HighLevel documents.
    let t = Transport::new(TransportConfig::new(
        server.uri(),
        Secret::new("pit-budget-000000000000"),
    ))
    .unwrap();
    let client = Client::new(
        Arc::new(t),
        Policy::default(),
        Defaults {
            location_id: Some("LocBudget00000000001".into()),
            company_id: None,
        },
    );
    let started = Instant::now();
    let calls = (0..130).map(|i| {
        let c = client.clone();
        async move {
            c.call(
                "contacts.get-contact",
                CallArgs::new().param("contactId", format!("c{i}")),
            )
            .await
            .map(|_| ())
        }
    });
    let results = futures::future::join_all(calls).await;
    assert!(
        results.iter().all(Result::is_ok),
        "{:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(
        *budget.refused.lock().unwrap(),
        0,
        "the server had to refuse requests"
    );
    // 130 requests cannot fit in one window: the client waited for it to roll.
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
}
