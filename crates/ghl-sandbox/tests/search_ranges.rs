//! POST /contacts/search as a walk cut into date ranges needs it: `range`
//! bounds `gt`/`lt` leave their date out (two ranges meeting at a date
//! share no contact), `dateAdded` ranges combine with other filters and a
//! cursor, and numbered pages stop at the 10,000-record window.

mod common;

use common::{LOC, empty_env};
use serde_json::{Value, json};

const D1: &str = "2025-03-01T00:00:00.000Z";
const D2: &str = "2025-03-02T00:00:00.000Z";

async fn total(env: &common::Env, filters: Value) -> u64 {
    let r = env
        .op(
            "contacts.search-contacts-advanced",
            &[],
            &[],
            Some(json!({"locationId": LOC, "pageLimit": 100, "filters": filters})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["total"].as_u64().unwrap()
}

fn range(field: &str, bounds: Value) -> Value {
    json!([{"field": field, "operator": "range", "value": bounds}])
}

#[tokio::test]
async fn range_bounds_meet_without_sharing_a_date() {
    let env = empty_env().await;
    ghl_sandbox::bulk_seed_contacts_added_at(&env.db(), 5, D1).unwrap();
    ghl_sandbox::bulk_seed_contacts_added_at(&env.db(), 3, D2).unwrap();
    for field in ["dateAdded", "dateUpdated"] {
        assert_eq!(
            total(&env, range(field, json!({"gte": D1, "lt": D2}))).await,
            5,
            "{field}"
        );
        assert_eq!(
            total(&env, range(field, json!({"gte": D2}))).await,
            3,
            "{field}"
        );
        assert_eq!(
            total(&env, range(field, json!({"gt": D1}))).await,
            3,
            "{field}"
        );
        assert_eq!(
            total(&env, range(field, json!({"lte": D1}))).await,
            5,
            "{field}"
        );
        assert_eq!(
            total(&env, range(field, json!({"lt": D1}))).await,
            0,
            "{field}"
        );
    }
    // Epoch milliseconds read as dates too; a dateAdded range combines
    // with other filters.
    let ms = 1_740_873_600_000_i64; // D2
    assert_eq!(total(&env, range("dateAdded", json!({"lt": ms}))).await, 5);
    let mut both = range("dateAdded", json!({"gte": ms}));
    both.as_array_mut()
        .unwrap()
        .push(json!({"field": "tags", "operator": "eq", "value": "import"}));
    assert_eq!(total(&env, both).await, 3);
}

#[tokio::test]
async fn a_cursor_walks_within_a_range() {
    let env = empty_env().await;
    ghl_sandbox::bulk_seed_contacts_added_at(&env.db(), 7, D1).unwrap();
    ghl_sandbox::bulk_seed_contacts_added_at(&env.db(), 4, D2).unwrap();
    let mut seen = Vec::new();
    let mut after: Option<Value> = None;
    loop {
        let mut body = json!({"locationId": LOC, "pageLimit": 3,
            "sort": [{"field": "dateAdded", "direction": "asc"}],
            "filters": range("dateAdded", json!({"lt": D2}))});
        if let Some(a) = &after {
            body["searchAfter"] = a.clone();
        }
        let r = env
            .op("contacts.search-contacts-advanced", &[], &[], Some(body))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["total"], 7);
        let page = r.body["contacts"].as_array().unwrap().clone();
        if page.is_empty() {
            break;
        }
        after = page.last().map(|c| c["searchAfter"].clone());
        seen.extend(page.iter().map(|c| c["id"].as_str().unwrap().to_string()));
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (7, 7));
}

#[tokio::test]
async fn numbered_pages_stop_at_ten_thousand_records() {
    let env = empty_env().await;
    let search =
        |page: u64, limit: u64| json!({"locationId": LOC, "page": page, "pageLimit": limit});
    for (page, limit, status) in [
        (100, 100, 200),
        (101, 100, 422),
        (20, 500, 200),
        (21, 500, 422),
    ] {
        let r = env
            .op(
                "contacts.search-contacts-advanced",
                &[],
                &[],
                Some(search(page, limit)),
            )
            .await;
        assert_eq!(r.status, status, "page {page} x {limit}: {}", r.body);
        if status == 422 {
            assert!(r.body.to_string().contains("searchAfter"), "{}", r.body);
        }
    }
}
