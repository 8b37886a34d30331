//! Limits a network service needs (issue 9): request bodies are bounded,
//! a contact with very many tags does not hold the write lock, and page
//! numbers outside 1.. are refused.

mod common;

use common::{LOC, env};
use serde_json::{Value, json};

#[tokio::test]
async fn an_oversized_request_body_is_refused_with_413() {
    let e = env().await;
    // 40 MB in one field of an otherwise valid contact.
    let big = "x".repeat(40 * 1024 * 1024);
    let r = e
        .op(
            "contacts.create-contact",
            &[],
            &[],
            Some(json!({"locationId": LOC, "firstName": "Big", "companyName": big})),
        )
        .await;
    assert_eq!(
        r.status,
        413,
        "{}",
        r.body.to_string().chars().take(300).collect::<String>()
    );
}

#[tokio::test]
async fn many_tags_do_not_lock_out_other_writers() {
    let e = env().await;
    let tags: Vec<Value> = (0..50_000).map(|i| json!(format!("tag-{i}"))).collect();
    let many = e.op(
        "contacts.create-contact",
        &[],
        &[],
        Some(json!({"locationId": LOC, "firstName": "Tagged", "email": "tagged@example.com", "tags": tags})),
    );
    let other = async {
        // Start once the big create holds the lock.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        e.op(
            "contacts.create-contact",
            &[],
            &[],
            Some(json!({"locationId": LOC, "firstName": "Other", "email": "other@example.com"})),
        )
        .await
    };
    let (many, other) = tokio::join!(many, other);
    assert!(
        many.status == 201 || many.status == 200,
        "{}",
        many.body.to_string().chars().take(300).collect::<String>()
    );
    assert!(
        other.status == 201 || other.status == 200,
        "the other writer was refused: {} {}",
        other.status,
        other.body
    );
    let listed = e
        .op(
            "locations.get-location-tags",
            &[("locationId", LOC)],
            &[],
            None,
        )
        .await;
    let n = listed.body["tags"].as_array().map(Vec::len).unwrap_or(0);
    assert!(n >= 50_000, "{n} location tags");
}

#[tokio::test]
async fn page_numbers_outside_one_and_up_are_refused() {
    let e = env().await;
    for page in [json!(0), json!(-1), json!(4_611_686_018_427_387_905u64)] {
        let r = e
            .op(
                "contacts.search-contacts-advanced",
                &[],
                &[],
                Some(json!({"locationId": LOC, "pageLimit": 10, "page": page})),
            )
            .await;
        assert_eq!(r.status, 422, "page {page}: {}", r.body);
    }
    for page in ["0", "-1", "4611686018427387905"] {
        let r = e
            .op(
                "opportunities.search-opportunity",
                &[],
                &[("location_id", LOC), ("page", page)],
                None,
            )
            .await;
        assert_eq!(r.status, 422, "page {page}: {}", r.body);
    }
    // Page 1 and 2 still work.
    let r = e
        .op(
            "contacts.search-contacts-advanced",
            &[],
            &[],
            Some(json!({"locationId": LOC, "pageLimit": 10, "page": 2})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
