//! POST /opportunities/search past HighLevel's 10,000-record page window,
//! against the sandbox: beyond it the walk follows `searchAfter`, and the
//! spec marks every body field (`page` too) required, so each request must
//! still carry one. Every record comes back once.

mod support;

use std::collections::HashSet;

use ghl_core::{CallArgs, Client, PageOpts};
use serde_json::json;

const OP: &str = "opportunities.search-opportunities-advanced";
const LOC: &str = ghl_sandbox::DEMO_LOCATION_ID;
const BULK: usize = 10_050;

fn client(base: &str) -> Client {
    support::sandbox_client(base)
}

#[tokio::test]
async fn the_walk_goes_past_the_window_with_search_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sandbox.db");
    ghl_sandbox::reset(&db, ghl_sandbox::Seed::Demo).unwrap();
    ghl_sandbox::bulk_seed_opportunities(&db, BULK).unwrap();
    let mut opts = ghl_sandbox::SandboxOptions::new(db);
    opts.seed = ghl_sandbox::Seed::Empty;
    // About a hundred pages: HighLevel's 100 per 10 s would make the test
    // wait, not check more.
    opts.rate_limit.max = 10_000;
    let sandbox = ghl_sandbox::start(opts).await.unwrap();
    let c = client(&sandbox.base_url());

    // The window holds: a numbered page past it is refused.
    let deep = c
        .prepare(
            OP,
            &CallArgs::new().with_body(json!({
                "locationId": LOC, "query": "", "limit": 100, "page": 101,
                "searchAfter": [], "additionalDetails": {},
            })),
        )
        .unwrap();
    let refused = c.execute(&deep).await.unwrap_err();
    assert!(refused.message.contains("searchAfter"), "{refused:?}");

    let (records, summary) = c
        .collect(
            OP,
            CallArgs::new().with_body(json!({
                "locationId": LOC, "query": "", "searchAfter": [], "additionalDetails": {},
            })),
            PageOpts {
                all: true,
                page_size: Some(100),
                ..PageOpts::default()
            },
        )
        .await
        .unwrap_or_else(|e| panic!("walk past the window: {e:?}"));
    let ids: HashSet<&str> = records.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids.len(), records.len(), "a record came twice");
    let total = summary.total.expect("the search states its total");
    assert!(total > BULK as u64, "{total}");
    assert_eq!(records.len() as u64, total, "records missing");
}
