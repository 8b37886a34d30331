//! Servers that give fewer records per page than asked (their own cap) must
//! not make `--all` stop early or skip records: the stated total decides.

use std::sync::Arc;

use ghl_core::{CallArgs, Client, Defaults, PageOpts, Policy, Secret, Transport, TransportConfig};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOTAL: usize = 55;
const CAP: usize = 20;

/// Answers `{key: records, total}` with at most CAP records, for offset or
/// page-number requests.
struct Capped {
    key: &'static str,
    by_page: bool,
}

impl Respond for Capped {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let q = |k: &str| {
            r.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .and_then(|(_, v)| v.parse::<usize>().ok())
        };
        let asked = q("limit").or_else(|| q("pageSize")).unwrap_or(10);
        let size = asked.min(CAP);
        let start = if self.by_page {
            (q("page").unwrap_or(1).max(1) - 1) * size
        } else {
            q("offset").unwrap_or(0)
        };
        let recs: Vec<Value> = (start..(start + size).min(TOTAL))
            .map(|i| json!({"id": format!("r{i:03}")}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({self.key: recs, "total": TOTAL}))
    }
}

fn client(base: &str) -> Client {
    let t = Transport::new(TransportConfig::new(
        base,
        Secret::new("pit-capped-0000000000"),
    ))
    .unwrap();
    Client::new(
        Arc::new(t),
        Policy::default(),
        Defaults {
            location_id: Some("LocCapped00000000001".into()),
            company_id: None,
        },
    )
}

async fn all_of(op: &str, key: &'static str, by_page: bool, args: CallArgs) -> Vec<String> {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Capped { key, by_page })
        .mount(&server)
        .await;
    let opts = PageOpts {
        all: true,
        page_size: Some(100),
        ..PageOpts::default()
    };
    let (records, summary) = client(&server.uri()).collect(op, args, opts).await.unwrap();
    assert!(!summary.more, "{op}");
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

fn expected() -> Vec<String> {
    (0..TOTAL).map(|i| format!("r{i:03}")).collect()
}

#[tokio::test]
async fn offset_style_follows_the_total_not_the_short_page() {
    let got = all_of("products.list-invoices", "products", false, CallArgs::new()).await;
    assert_eq!(got, expected());
}

#[tokio::test]
async fn page_style_follows_the_total_not_the_short_page() {
    let got = all_of("voice-ai.get-agents", "agents", true, CallArgs::new()).await;
    assert_eq!(got, expected());
}
