//! A walk continued from its `next` arguments (an MCP cursor) is not a
//! fresh first page: it asks for one page, repeats nothing, and a stated
//! total ends it, unless the total fell since the walk began.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ghl_core::{
    CallArgs, Client, Defaults, PageOpts, Policy, Resume, Secret, Transport, TransportConfig,
};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const OP: &str = "contacts.search-contacts-advanced";

/// POST /contacts/search over `total` records: `page` + `pageLimit`, or
/// `searchAfter` = [index, id] of the last record seen.
/// Records below `deleted` are gone (deleted after an earlier page showed
/// them): they no longer count in the total.
struct Search {
    total: usize,
    deleted: Arc<AtomicUsize>,
}

impl Respond for Search {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let limit = body["pageLimit"].as_u64().unwrap_or(20) as usize;
        let deleted = self.deleted.load(Ordering::SeqCst);
        let start = match body["searchAfter"].as_array() {
            Some(a) if a.len() == 2 => a[0].as_u64().unwrap_or(0) as usize + 1,
            _ => deleted + (body["page"].as_u64().unwrap_or(1).max(1) as usize - 1) * limit,
        };
        let recs: Vec<Value> = (start.max(deleted)..(start + limit).min(self.total))
            .map(|i| json!({"id": format!("c{i:03}"), "searchAfter": [i, format!("c{i:03}")]}))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"contacts": recs, "total": self.total - deleted}))
    }
}

fn client(base: &str) -> Client {
    let t = Transport::new(TransportConfig::new(
        base,
        Secret::new("pit-walk-0000000000"),
    ))
    .unwrap();
    Client::new(
        Arc::new(t),
        Policy::default(),
        Defaults {
            location_id: Some("LocWalk0000000000001".into()),
            company_id: None,
        },
    )
}

async fn server(total: usize) -> MockServer {
    server_deleting(total, Arc::default()).await
}

async fn server_deleting(total: usize, deleted: Arc<AtomicUsize>) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(Search { total, deleted })
        .mount(&s)
        .await;
    s
}

fn page(limit: usize) -> PageOpts {
    PageOpts {
        max: Some(limit),
        page_size: Some(limit as u64),
        concurrency: 1,
        ..PageOpts::default()
    }
}

fn args() -> CallArgs {
    CallArgs::new().with_body(json!({"locationId": "LocWalk0000000000001"}))
}

/// Walk page by page as an MCP client does; returns the ids and the
/// number of requests each call made.
async fn by_cursor(total: usize, limit: usize) -> (Vec<String>, Vec<usize>) {
    let s = server(total).await;
    let c = client(&s.uri());
    let (mut ids, mut requests) = (Vec::new(), Vec::new());
    let mut next = Some(args());
    // The total the walk began with, carried as an MCP cursor carries it.
    let mut began = None;
    while let Some(a) = next.take() {
        let before = s.received_requests().await.unwrap().len();
        let mut got = Vec::new();
        let summary = c
            .walk_from(
                OP,
                a,
                Resume::new(ids.len() as u64, began),
                page(limit),
                |p| {
                    got.extend(p.records);
                    Ok(())
                },
            )
            .await
            .unwrap();
        began = began.or(summary.total);
        requests.push(s.received_requests().await.unwrap().len() - before);
        ids.extend(got.iter().map(|r| r["id"].as_str().unwrap().to_string()));
        next = summary.next.filter(|_| summary.more);
        assert!(requests.len() < 50, "the walk does not end");
    }
    (ids, requests)
}

#[tokio::test]
async fn continued_walks_repeat_nothing_and_ask_once() {
    for (total, limit) in [(37, 7), (200, 30), (30, 10), (3, 100)] {
        let (ids, requests) = by_cursor(total, limit).await;
        let want: Vec<String> = (0..total).map(|i| format!("c{i:03}")).collect();
        assert_eq!(ids, want, "total {total} at {limit}");
        assert!(requests.iter().all(|n| *n == 1), "{requests:?}");
        assert_eq!(
            requests.len(),
            total.div_ceil(limit),
            "no call past the end"
        );
    }
}

#[tokio::test]
async fn a_stated_total_reached_means_no_more() {
    let s = server(3).await;
    let (records, summary) = client(&s.uri())
        .collect(OP, args(), PageOpts::default())
        .await
        .unwrap();
    assert_eq!(records.len(), 3);
    assert!(!summary.more && summary.next.is_none());
}

/// An assistant reads a page, deletes those records (merges duplicates,
/// say) and goes on: the total has fallen by what it deleted, so counting
/// against it would end the walk a page early and call it complete.
#[tokio::test]
async fn records_deleted_behind_the_cursor_do_not_end_the_walk_early() {
    let deleted = Arc::new(AtomicUsize::new(0));
    let s = server_deleting(30, deleted.clone()).await;
    let c = client(&s.uri());
    let first = c
        .walk_from(OP, args(), Resume::default(), page(10), |_| Ok(()))
        .await
        .unwrap();
    assert_eq!(first.total, Some(30));
    deleted.store(10, Ordering::SeqCst);
    let mut ids = Vec::new();
    let mut next = first.next.filter(|_| first.more);
    let mut resume = Resume {
        seen: 10,
        total: first.total,
    };
    while let Some(a) = next.take() {
        let summary = c
            .walk_from(OP, a, resume, page(10), |p| {
                ids.extend(
                    p.records
                        .iter()
                        .map(|r| r["id"].as_str().unwrap().to_string()),
                );
                Ok(())
            })
            .await
            .unwrap();
        resume.seen += summary.records as u64;
        next = summary.next.filter(|_| summary.more);
        assert!(ids.len() <= 40, "the walk does not end");
    }
    let want: Vec<String> = (10..30).map(|i| format!("c{i:03}")).collect();
    assert_eq!(ids, want);
}
