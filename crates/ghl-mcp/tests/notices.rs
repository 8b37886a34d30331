//! A tool call that had to wait for the rate limit says so in its result
//! (issue 9): the assistant can tell the person why it took its time.

mod common;

use std::time::Duration;

use common::{Env, connect, ok};
use ghl_mcp::{GhlMcp, ServerOptions};
use ghl_sandbox::{RateLimit, SandboxOptions};
use serde_json::json;

#[tokio::test]
async fn a_long_rate_limit_wait_is_in_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = SandboxOptions::new(dir.path().join("sandbox.db"));
    opts.rate_limit = RateLimit {
        max: 1,
        interval: Duration::from_secs(5),
        ..RateLimit::default()
    };
    let sandbox = ghl_sandbox::start(opts).await.unwrap();
    let env = Env {
        sandbox,
        dir: tempfile::tempdir().unwrap(),
    };
    let client = connect(GhlMcp::new(env.client(), ServerOptions::default())).await;
    let args = json!({"query": "Jane", "limit": 1});
    let first = ok(&client, "search_contacts", args.clone()).await;
    let second = ok(&client, "search_contacts", args).await;
    let said = format!("{first} {second}");
    assert!(
        second["notices"].as_array().is_some_and(|n| n
            .iter()
            .any(|l| l.as_str().unwrap_or("").contains("waiting"))),
        "no notice of the wait: {said}"
    );
    client.cancel().await.ok();
}
