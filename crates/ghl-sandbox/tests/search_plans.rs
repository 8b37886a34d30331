//! Contact search answers the same whichever way the database finds the
//! rows (counted from the trigram index when one location holds every
//! contact, totals remembered per state of the table, rare matches sorted
//! from the index, common ones walked in sort order and tested row by row,
//! date ranges and cursors sought in the index): every page, cursor walk,
//! total and order is checked against the rows read straight from the
//! table, with one location, then two, then after changes made through the
//! API and straight in the table.

mod common;

use common::{LOC, empty_env};
use serde_json::{Value, json};

/// One search: a free-text query, a sort, a `dateAdded` range `[lo, hi)`,
/// another filter (what the request says, and what it means).
#[derive(Debug, Clone)]
struct Case {
    query: Option<&'static str>,
    by_first_name: bool,
    range: Option<(String, String)>,
    filter: Option<Filter>,
}

/// A filter as the request says it, and what it means for one contact.
type Filter = (Value, fn(&Value) -> bool);

/// The contacts of `LOC`, read straight from the table.
fn table(db: &std::path::Path) -> Vec<Value> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT data FROM contacts WHERE location_id = ?1")
        .unwrap();
    stmt.query_map([LOC], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|d| serde_json::from_str::<Value>(&d.unwrap()).unwrap())
        .collect()
}

/// What a search must return: contacts whose name, email, phone or
/// company contains `query` (case-blind), added within the range, ordered
/// by the sort key then id.
fn expected(table: &[Value], case: &Case) -> Vec<String> {
    let mut rows: Vec<(String, String)> = table
        .iter()
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
            let added = s("dateAdded");
            case.query.is_none_or(|q| text.contains(&q.to_lowercase()))
                && case
                    .range
                    .as_ref()
                    .is_none_or(|(lo, hi)| lo.as_str() <= added.as_str() && added < *hi)
                && case.filter.as_ref().is_none_or(|(_, test)| test(c))
        })
        .map(|c| {
            let key = if case.by_first_name {
                c["firstName"].as_str().unwrap().to_lowercase()
            } else {
                c["dateAdded"].as_str().unwrap().to_string()
            };
            (key, c["id"].as_str().unwrap().to_string())
        })
        .collect();
    rows.sort();
    if !case.by_first_name {
        rows.reverse();
    }
    rows.into_iter().map(|(_, id)| id).collect()
}

fn body(case: &Case, limit: usize) -> Value {
    let sort = if case.by_first_name {
        json!([{"field": "firstNameLowerCase", "direction": "asc"}])
    } else {
        json!([{"field": "dateAdded", "direction": "desc"}])
    };
    let mut body = json!({"locationId": LOC, "pageLimit": limit, "sort": sort});
    if let Some(q) = case.query {
        body["query"] = json!(q);
    }
    let mut filters = Vec::new();
    if let Some((lo, hi)) = &case.range {
        filters.push(
            json!({"field": "dateAdded", "operator": "range", "value": {"gte": lo, "lt": hi}}),
        );
    }
    if let Some((f, _)) = &case.filter {
        filters.push(f.clone());
    }
    if !filters.is_empty() {
        body["filters"] = json!(filters);
    }
    body
}

async fn search(e: &common::Env, body: Value) -> (Vec<String>, usize, Option<Value>) {
    let r = e
        .op(
            "contacts.search-contacts-advanced",
            &[],
            &[],
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, 200, "{body}: {}", r.body);
    let contacts = r.body["contacts"].as_array().unwrap();
    let ids = contacts
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let total = r.body["total"].as_u64().unwrap() as usize;
    (
        ids,
        total,
        contacts.last().map(|c| c["searchAfter"].clone()),
    )
}

async fn check(e: &common::Env, table: &[Value], case: &Case) {
    let want = expected(table, case);
    for (page, limit) in [(1, 20), (3, 20), (1, 500)] {
        let mut b = body(case, limit);
        b["page"] = json!(page);
        let (got, total, _) = search(e, b).await;
        let from = ((page - 1) * limit).min(want.len());
        let to = (from + limit).min(want.len());
        assert_eq!(total, want.len(), "total for {case:?}");
        assert_eq!(got, want[from..to], "page {page} of {limit} for {case:?}");
    }
    // The whole walk by cursor, as an export makes it.
    let mut walked = Vec::new();
    let mut after: Option<Value> = None;
    loop {
        let mut b = body(case, 400);
        if let Some(a) = &after {
            b["searchAfter"] = a.clone();
        }
        let (got, total, last) = search(e, b).await;
        assert_eq!(total, want.len(), "total while walking {case:?}");
        if got.is_empty() {
            break;
        }
        walked.extend(got);
        after = last;
        assert!(walked.len() <= want.len(), "walk overran for {case:?}");
    }
    assert_eq!(walked, want, "cursor walk for {case:?}");
}

/// `[lo, hi)` around the middle third of the contacts' dates.
fn middle_third(db: &std::path::Path) -> (String, String) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let dates: Vec<String> = conn
        .prepare("SELECT date_added FROM contacts WHERE location_id = ?1 ORDER BY date_added")
        .unwrap()
        .query_map([LOC], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let at = |f: usize| dates[dates.len() * f / 3].clone();
    (at(1), at(2))
}

async fn check_all(e: &common::Env) {
    let queries = [
        None,
        Some("jane"),
        Some("Smith"),
        Some("mary.lee"),
        Some("+16460001"),
        Some("acme"),
        Some("bulk.example"),
        Some("import"),
        Some("ja"),
        Some("zzzz-nobody"),
        Some("zoë"),
        Some("ÅNGSTRÖM"),
        Some("ström|"),
    ];
    let range = middle_third(&e.db());
    let table = table(&e.db());
    for query in queries {
        for by_first_name in [false, true] {
            for range in [None, Some(range.clone())] {
                let case = Case {
                    query,
                    by_first_name,
                    range,
                    filter: None,
                };
                check(e, &table, &case).await;
            }
        }
    }
}

#[tokio::test]
async fn search_pages_cursors_totals_and_order_match_the_table_through_changes() {
    let e = empty_env().await;
    ghl_sandbox::bulk_seed_contacts(&e.db(), 2000).unwrap();
    // Common enough to be walked in sort order, matching from the first
    // character, all added at one instant (the id breaks the ties).
    ghl_sandbox::bulk_seed_contacts_added_at(&e.db(), 300, "2025-06-01T00:00:00.000Z").unwrap();
    // A few names beyond ASCII: the trigram index answers them, not a
    // substring test of bytes.
    for (first, last) in [("Zoë", "Ångström"), ("ZOË", "Smith"), ("Jane", "Åström")] {
        let r = e
            .op(
                "contacts.create-contact",
                &[],
                &[],
                Some(json!({"locationId": LOC, "firstName": first, "lastName": last})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    check_all(&e).await;

    // Changes through the API move contacts in and out of the results
    // that were just counted: updates, then deletes (each on its own, so
    // each kind of change is seen to reach the totals).
    let (renamed, _, _) = search(
        &e,
        json!({"locationId": LOC, "pageLimit": 7, "query": "acme"}),
    )
    .await;
    for id in &renamed[..4] {
        let r = e
            .op(
                "contacts.update-contact",
                &[("contactId", id)],
                &[],
                Some(json!({"lastName": "Smith", "companyName": "Initech"})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    check_all(&e).await;
    for id in &renamed[4..] {
        let r = e
            .op("contacts.delete-contact", &[("contactId", id)], &[], None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    check_all(&e).await;

    // Another location's contacts, some matching every query, written
    // straight into the table: they must be neither counted nor returned.
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
    // And more of `LOC`'s own, behind the sandbox's back too.
    conn.execute(
        "INSERT INTO contacts(id, location_id, email_lower, phone, first_lower, last_lower, date_added, search, data)
         SELECT 'copy-' || id, location_id, email_lower, phone, first_lower, last_lower, date_added, search,
                json_set(data, '$.id', 'copy-' || id)
         FROM contacts WHERE rowid % 5 = 0 AND location_id = ?1",
        [LOC],
    )
    .unwrap();
    drop(conn);
    check_all(&e).await;
}

fn tags_of(c: &Value) -> Vec<String> {
    c["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

/// Filters read from each contact's document (no index answers them),
/// with and without a query, a sort, a date range, through changes.
async fn check_filtered(e: &common::Env) {
    let range = middle_third(&e.db());
    let table = table(&e.db());
    let filters: [Filter; 5] = [
        (
            json!({"field": "tags", "operator": "eq", "value": "VIP"}),
            |c| tags_of(c).iter().any(|t| t == "vip"),
        ),
        (
            json!({"field": "tags", "operator": "contains", "value": "cust"}),
            |c| tags_of(c).iter().any(|t| t.contains("cust")),
        ),
        (
            json!({"field": "dateUpdated", "operator": "range", "value": {"gte": "2025-06-01T00:00:00.000Z"}}),
            |c| c["dateUpdated"].as_str().unwrap_or("") >= "2025-06-01T00:00:00.000Z",
        ),
        (
            json!({"field": "companyName", "operator": "eq", "value": "globex"}),
            |c| c["companyName"].as_str().unwrap_or("").to_lowercase() == "globex",
        ),
        (
            json!({"group": "OR", "filters": [
                {"field": "tags", "operator": "eq", "value": "vip"},
                {"field": "companyName", "operator": "contains", "value": "corp"},
            ]}),
            |c| {
                tags_of(c).iter().any(|t| t == "vip")
                    || c["companyName"]
                        .as_str()
                        .unwrap_or("")
                        .to_lowercase()
                        .contains("corp")
            },
        ),
    ];
    for filter in filters {
        for query in [None, Some("smith"), Some("+16460001")] {
            for by_first_name in [false, true] {
                for range in [None, Some(range.clone())] {
                    let case = Case {
                        query,
                        by_first_name,
                        range,
                        filter: Some(filter.clone()),
                    };
                    check(e, &table, &case).await;
                }
            }
        }
    }
}

#[tokio::test]
async fn filtered_searches_match_the_table_through_changes() {
    let e = empty_env().await;
    ghl_sandbox::bulk_seed_contacts(&e.db(), 1500).unwrap();
    check_filtered(&e).await;

    // Tags added, contacts deleted: the very next page of a search that was
    // just answered sees it.
    let vip = Case {
        query: None,
        by_first_name: false,
        range: None,
        filter: Some((
            json!({"field": "tags", "operator": "eq", "value": "VIP"}),
            |c| tags_of(c).iter().any(|t| t == "vip"),
        )),
    };
    check(&e, &table(&e.db()), &vip).await;
    let (some, _, _) = search(&e, json!({"locationId": LOC, "pageLimit": 30})).await;
    for id in &some[..20] {
        let r = e
            .op(
                "contacts.add-tags",
                &[("contactId", id)],
                &[],
                Some(json!({"tags": ["VIP", "customer"]})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    check(&e, &table(&e.db()), &vip).await;
    check_filtered(&e).await;
    for id in &some[20..] {
        let r = e
            .op("contacts.delete-contact", &[("contactId", id)], &[], None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    check(&e, &table(&e.db()), &vip).await;
    check_filtered(&e).await;
}

/// Many requests for a total nobody has counted yet, at once (one counts,
/// the others wait for it): every one gets the table's answer, again after
/// a change.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_searches_share_one_count() {
    let e = empty_env().await;
    ghl_sandbox::bulk_seed_contacts(&e.db(), 1500).unwrap();
    for round in 0..2 {
        let table = table(&e.db());
        for query in ["smith", "+16460001", "bulk", "sm"] {
            let case = Case {
                query: Some(query),
                by_first_name: false,
                range: None,
                filter: None,
            };
            let want = expected(&table, &case).len();
            let calls = (0..16).map(|_| search(&e, body(&case, 5)));
            for (_, total, _) in futures::future::join_all(calls).await {
                assert_eq!(total, want, "{query} in round {round}");
            }
        }
        let (first, _, _) = search(
            &e,
            json!({"locationId": LOC, "pageLimit": 1, "query": "smith"}),
        )
        .await;
        let r = e
            .op(
                "contacts.delete-contact",
                &[("contactId", &first[0])],
                &[],
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}
