//! What the scope probes found is kept between starts: a second start lists
//! the same tools without a request, an older memo answers at once while the
//! probes run again behind it (and the client is told when the tools
//! change), and a memo someone else could have written is not believed.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::Env;
use ghl_core::{Client, Defaults, Policy, Secret, Transport, TransportConfig};
use ghl_mcp::scope_memo::{Memo, Remembered};
use ghl_mcp::{GhlMcp, ServerOptions};
use ghl_sandbox::DEMO_LOCATION_ID;
use rmcp::ServiceExt;
use rmcp::handler::client::ClientHandler;
use rmcp::service::{NotificationContext, RoleClient};
use tokio::sync::Notify;

/// The limited token's hidden tools (it has locations and contacts only).
const HIDDEN: [&str; 3] = ["list_calendars", "list_pipelines", "list_users"];

/// A client for the sandbox whose requests are counted.
fn counted_client(env: &Env, token: &str, sent: Arc<AtomicUsize>) -> Client {
    let mut config = TransportConfig::new(env.sandbox.base_url(), Secret::new(token));
    config.logger = Some(Arc::new(move |line: &str| {
        if line.starts_with("> ") {
            sent.fetch_add(1, Ordering::SeqCst);
        }
    }));
    Client::new(
        Arc::new(Transport::new(config).expect("transport")),
        Policy::default(),
        Defaults {
            location_id: Some(DEMO_LOCATION_ID.into()),
            company_id: None,
        },
    )
}

fn limited_token(env: &Env) -> String {
    ghl_sandbox::mint_token(
        &env.db(),
        Some(vec![
            "locations.readonly".into(),
            "contacts.readonly".into(),
        ]),
        None,
    )
    .expect("token")
}

fn with_memo(dir: &std::path::Path) -> ServerOptions {
    ServerOptions {
        memo_dir: Some(dir.to_path_buf()),
        ..ServerOptions::default()
    }
}

async fn names<H: ClientHandler>(
    c: &rmcp::service::RunningService<RoleClient, H>,
) -> BTreeSet<String> {
    c.list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect()
}

fn memo_for(client: &Client, dir: &std::path::Path) -> Memo {
    Memo::new(dir, &client.transport().credential_digest(DEMO_LOCATION_ID))
}

/// A sandbox, the limited token's counted client, and where its memo goes.
struct Limited {
    env: Env,
    memo_dir: tempfile::TempDir,
    sent: Arc<AtomicUsize>,
    client: Client,
    memo: Memo,
}

impl Limited {
    async fn new() -> Limited {
        let env = Env::new().await;
        let token = limited_token(&env);
        let memo_dir = tempfile::tempdir().unwrap();
        let sent = Arc::new(AtomicUsize::new(0));
        let client = counted_client(&env, &token, sent.clone());
        let memo = memo_for(&client, memo_dir.path());
        Limited {
            env,
            memo_dir,
            sent,
            client,
            memo,
        }
    }
}

#[tokio::test]
async fn a_second_start_lists_the_same_tools_without_a_request() {
    let env = Env::new().await;
    let token = limited_token(&env);
    let memo_dir = tempfile::tempdir().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));

    let first = common::connect(GhlMcp::new(
        counted_client(&env, &token, sent.clone()),
        with_memo(memo_dir.path()),
    ))
    .await;
    let listed = names(&first).await;
    for hidden in HIDDEN {
        assert!(!listed.contains(hidden), "{hidden} listed: {listed:?}");
    }
    assert!(listed.contains("get_contact"), "{listed:?}");
    let probes = sent.load(Ordering::SeqCst);
    assert!(probes >= 9, "the first start probes: {probes} requests");

    let second = common::connect(GhlMcp::new(
        counted_client(&env, &token, sent.clone()),
        with_memo(memo_dir.path()),
    ))
    .await;
    assert_eq!(names(&second).await, listed);
    assert_eq!(
        sent.load(Ordering::SeqCst),
        probes,
        "the second start sent requests"
    );

    // The memo is private and its name does not carry the token.
    let memo = memo_for(&counted_client(&env, &token, sent.clone()), memo_dir.path());
    let meta = std::fs::metadata(memo.path()).expect("memo written");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(memo.path()).unwrap();
    assert!(!memo.path().to_string_lossy().contains(&token));
    assert!(!text.contains(&token), "{text}");
    assert!(text.contains("calendars.readonly"), "{text}");

    // Another token is another memo: probed, and its tools listed.
    let all = common::connect(GhlMcp::new(
        counted_client(&env, ghl_sandbox::DEFAULT_TOKEN, sent.clone()),
        with_memo(memo_dir.path()),
    ))
    .await;
    let everything = names(&all).await;
    assert!(everything.contains("list_calendars"), "{everything:?}");
    assert!(sent.load(Ordering::SeqCst) >= probes + 9);
}

/// Counts tools/list_changed notifications.
#[derive(Clone, Default)]
struct Watcher {
    changed: Arc<Notify>,
}

impl ClientHandler for Watcher {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.changed.notify_one();
    }
}

#[tokio::test]
async fn an_older_memo_answers_and_the_probes_correct_it_behind() {
    // The sandbox must outlive the test: bound, not used.
    let Limited {
        env: _sandbox,
        memo_dir,
        sent,
        client,
        memo,
    } = Limited::new().await;
    // An hour old, and wrong: it says the token lacks nothing.
    let an_hour_ago = Remembered {
        probed_at: Remembered::now(&Default::default()).probed_at - 3600,
        missing: Vec::new(),
    };
    memo.save(&an_hour_ago);
    assert_eq!(memo.load(), Some(an_hour_ago));

    let server = GhlMcp::new(client, with_memo(memo_dir.path()));
    let (s, c) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(s).await {
            let _ = running.waiting().await;
        }
    });
    let watcher = Watcher::default();
    let changed = watcher.changed.clone();
    let c = watcher.serve(c).await.expect("initialize");

    let first = names(&c).await;
    assert!(
        first.contains("list_calendars"),
        "the memo answers first: {first:?}"
    );
    tokio::time::timeout(Duration::from_secs(20), changed.notified())
        .await
        .expect("tools/list_changed after the probes");
    let second = names(&c).await;
    for hidden in HIDDEN {
        assert!(!second.contains(hidden), "{hidden} listed: {second:?}");
    }
    let kept = memo.load().expect("memo rewritten");
    assert!(kept.age() < Duration::from_secs(60), "{kept:?}");
    assert!(
        kept.missing.iter().any(|s| s == "calendars.readonly"),
        "{kept:?}"
    );
    assert!(sent.load(Ordering::SeqCst) >= 9);
}

#[tokio::test]
async fn a_memo_others_could_write_is_not_believed() {
    // The sandbox must outlive the test: bound, not used.
    let Limited {
        env: _sandbox,
        memo_dir,
        sent,
        client,
        memo,
    } = Limited::new().await;
    memo.save(&Remembered::now(&Default::default()));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(memo.path(), std::fs::Permissions::from_mode(0o666)).unwrap();
    assert_eq!(memo.load(), None);

    let c = common::connect(GhlMcp::new(client, with_memo(memo_dir.path()))).await;
    let listed = names(&c).await;
    for hidden in HIDDEN {
        assert!(!listed.contains(hidden), "{hidden} listed: {listed:?}");
    }
    assert!(sent.load(Ordering::SeqCst) >= 9, "probed instead");
}

#[tokio::test]
async fn a_memo_never_refuses_a_call() {
    // The person may have just added the scope the memo says is missing:
    // the listing follows the memo, a call still goes to HighLevel.
    let env = Env::new().await;
    let memo_dir = tempfile::tempdir().unwrap();
    let sent = Arc::new(AtomicUsize::new(0));
    let client = counted_client(&env, ghl_sandbox::DEFAULT_TOKEN, sent.clone());
    let memo = memo_for(&client, memo_dir.path());
    memo.save(&Remembered {
        missing: vec!["contacts.write".into()],
        ..Remembered::now(&Default::default())
    });
    let c = common::connect(GhlMcp::new(client, with_memo(memo_dir.path()))).await;
    let listed = names(&c).await;
    assert!(!listed.contains("delete_contact"), "{listed:?}");
    assert_eq!(sent.load(Ordering::SeqCst), 0, "a fresh memo: no probes");
    let jane = common::ok(&c, "search_contacts", serde_json::json!({"query": "Jane"})).await;
    let id = jane["records"][0]["id"].as_str().expect("Jane").to_string();
    let (err, preview) =
        common::call(&c, "delete_contact", serde_json::json!({"contactId": id})).await;
    assert!(!err, "{preview}");
    assert!(preview["confirm"].is_string(), "{preview}");
}
