//! The build-time search summary says exactly what the parsed catalog says,
//! in the same order, and searching it finds the same operations.

use ghl_catalog::summary;

#[test]
fn summaries_match_the_parsed_catalog() {
    let ops = ghl_catalog::operations();
    let sums: Vec<summary::Summary> = summary::summaries().collect();
    assert_eq!(sums.len(), ops.len());
    for (s, op) in sums.iter().zip(ops) {
        assert_eq!(s.name(), op.name);
        assert_eq!(s.group(), op.group, "{}", op.name);
        assert_eq!(s.path(), op.path, "{}", op.name);
        assert_eq!(s.title(), op.title, "{}", op.name);
        assert_eq!(s.tags(), op.tags.join(" "), "{}", op.name);
        assert_eq!(s.operation_id(), op.operation_id, "{}", op.name);
        assert_eq!(s.method(), op.method, "{}", op.name);
        assert_eq!(s.effect(), op.effect, "{}", op.name);
        assert_eq!(s.has_body(), op.body.is_some(), "{}", op.name);
        assert_eq!(s.paged(), op.pagination.is_some(), "{}", op.name);
        assert_eq!(s.idempotent(), op.idempotent, "{}", op.name);
        assert_eq!(
            s.needs_confirmation(),
            op.needs_confirmation(),
            "{}",
            op.name
        );
        assert_eq!(s.scopes().collect::<Vec<_>>(), op.scopes, "{}", op.name);
        let found = summary::find(&op.name).expect("every operation is found by name");
        assert_eq!(found.name(), op.name);
        assert!(ghl_catalog::find(&op.name).is_some());
    }
    assert!(summary::find("contacts.no-such-thing").is_none());
    assert!(summary::find("").is_none());
    let groups: Vec<(&str, usize)> = summary::groups().collect();
    let parsed: Vec<(&str, usize)> = ghl_catalog::catalog()
        .groups
        .iter()
        .map(|g| (g.name.as_str(), g.operations))
        .collect();
    assert_eq!(groups, parsed);
}

#[test]
fn searching_the_summary_finds_what_searching_the_catalog_finds() {
    for (q, g) in [
        (Some("contact"), None),
        (Some("list invoices"), None),
        (Some("opp"), None),
        (Some("GET /locations"), None),
        (None, Some("blogs")),
        (Some("post"), Some("social-media-posting")),
        (Some("zzzz-nothing"), None),
        (None, None),
    ] {
        let want: Vec<&str> = ghl_catalog::search(q, g).map(|o| o.name.as_str()).collect();
        let got: Vec<&str> = summary::search(q, g).map(|s| s.name()).collect();
        assert_eq!(got, want, "query {q:?} group {g:?}");
    }
}
