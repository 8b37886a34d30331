//! Contact search answers the same whichever way the database finds the
//! rows (counted from the trigram index when one location holds every
//! contact, rare matches sorted from the index, common ones walked in sort
//! order): every page, total and order is checked against the rows read
//! straight from the table, with one location and then with two.

mod common;

use common::{LOC, empty_env};
use serde_json::{Value, json};

/// What a search must return, computed from the table: contacts of `LOC`
/// whose name, email, phone or company contains `query` (case-blind),
/// ordered by `key` then id.
fn expected(db: &std::path::Path, query: Option<&str>, by_first_name: bool) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT data FROM contacts WHERE location_id = ?1")
        .unwrap();
    let mut rows: Vec<(String, String)> = stmt
        .query_map([LOC], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|d| serde_json::from_str::<Value>(&d.unwrap()).unwrap())
        .filter(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or("").to_string();
            let text = format!(
                "{} {}|{}|{}|{}",
                s("firstName"),
                s("lastName"),
                s("email"),
                s("phone"),
                s("companyName")
            )
            .to_lowercase();
            query.is_none_or(|q| text.contains(&q.to_lowercase()))
        })
        .map(|c| {
            let key = if by_first_name {
                c["firstName"].as_str().unwrap().to_lowercase()
            } else {
                c["dateAdded"].as_str().unwrap().to_string()
            };
            (key, c["id"].as_str().unwrap().to_string())
        })
        .collect();
    rows.sort();
    if !by_first_name {
        rows.reverse();
    }
    rows.into_iter().map(|(_, id)| id).collect()
}

async fn check_all(e: &common::Env) {
    let queries = [
        None,
        Some("jane"),
        Some("Smith"),
        Some("mary.lee"),
        Some("+16460001"),
        Some("acme"),
        Some("ja"),
        Some("zzzz-nobody"),
    ];
    for query in queries {
        for by_first_name in [false, true] {
            let want = expected(&e.db(), query, by_first_name);
            let sort = if by_first_name {
                json!([{"field": "firstNameLowerCase", "direction": "asc"}])
            } else {
                json!([{"field": "dateAdded", "direction": "desc"}])
            };
            for (page, limit) in [(1, 20), (3, 20), (1, 500)] {
                let mut body =
                    json!({"locationId": LOC, "pageLimit": limit, "page": page, "sort": sort});
                if let Some(q) = query {
                    body["query"] = json!(q);
                }
                let r = e
                    .op("contacts.search-contacts-advanced", &[], &[], Some(body))
                    .await;
                assert_eq!(r.status, 200, "{query:?}: {}", r.body);
                let got: Vec<String> = r.body["contacts"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].as_str().unwrap().to_string())
                    .collect();
                let from = ((page - 1) * limit).min(want.len());
                let to = (from + limit).min(want.len());
                assert_eq!(
                    r.body["total"].as_u64().unwrap() as usize,
                    want.len(),
                    "total for {query:?}"
                );
                assert_eq!(
                    got,
                    want[from..to],
                    "page {page} of {limit} for {query:?}, by first name {by_first_name}"
                );
            }
        }
    }
}

#[tokio::test]
async fn search_pages_totals_and_order_match_the_table_with_one_and_two_locations() {
    let e = empty_env().await;
    ghl_sandbox::bulk_seed_contacts(&e.db(), 3000).unwrap();
    check_all(&e).await;

    // Another location's contacts, some matching every query: they must be
    // neither counted nor returned.
    let conn = rusqlite::Connection::open(e.db()).unwrap();
    conn.execute_batch(
        "INSERT INTO contacts(id, location_id, email_lower, phone, first_lower, last_lower, date_added, search, data)
         SELECT 'other-' || id, 'zz-other-location', email_lower, phone, first_lower, last_lower, date_added, search,
                json_set(data, '$.id', 'other-' || id, '$.locationId', 'zz-other-location')
         FROM contacts WHERE rowid % 3 = 0;
         INSERT INTO contacts(id, location_id, email_lower, phone, first_lower, last_lower, date_added, search, data)
         SELECT 'early-' || id, '0-early-location', email_lower, phone, first_lower, last_lower, date_added, search,
                json_set(data, '$.id', 'early-' || id, '$.locationId', '0-early-location')
         FROM contacts WHERE rowid % 7 = 0 AND location_id = 'zz-other-location';",
    )
    .unwrap();
    drop(conn);
    check_all(&e).await;
}
