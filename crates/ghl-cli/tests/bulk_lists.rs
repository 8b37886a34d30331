//! Bulk actions from a list (`--from FILE`): tags added and removed, a
//! workflow enrolment asked once with the count, dry-run changing nothing,
//! and the single-contact forms still working.

mod bulk_support;

use bulk_support::{ghl, n, sandbox, summary};
use serde_json::Value;

fn contact(dir: &std::path::Path, sb: &bulk_support::Sandbox, email: &str) -> Value {
    let out = ghl(dir, sb, &["contacts", "search", email, "-o", "json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .and_then(|a| a.iter().find(|c| c["email"] == email))
        .cloned()
        .unwrap_or_else(|| panic!("no contact {email}: {v}"))
}

fn tags(c: &Value) -> Vec<String> {
    c["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn tags_and_enrolment_from_a_list() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sb = sandbox(d, 0.0);
    let people = d.join("people.csv");
    std::fs::write(
        &people,
        "Email,Name\nlist1@example.com,One\nlist2@example.com,Two\nlist3@example.com,Three\n",
    )
    .unwrap();
    let s = summary(&ghl(
        d,
        &sb,
        &["contacts", "import", people.to_str().unwrap(), "-o", "json"],
    ));
    assert_eq!(n(&s, "/done/created"), 3, "{s}");
    let id3 = contact(d, &sb, "list3@example.com")["id"]
        .as_str()
        .unwrap()
        .to_string();

    let list = d.join("list.txt");
    std::fs::write(
        &list,
        format!("list1@example.com\nLIST2@example.com\n{id3}\nnobody@example.com\nnot an id!\nlist1@example.com\n"),
    )
    .unwrap();
    let from = list.to_str().unwrap();

    // Dry-run: the count, nothing changed.
    let dry = summary(&ghl(
        d,
        &sb,
        &[
            "contacts",
            "tags",
            "add",
            "--from",
            from,
            "vip,event",
            "--dry-run",
            "-o",
            "json",
        ],
    ));
    assert_eq!(n(&dry, "/done/add tags vip,event"), 4, "{dry}");
    assert!(tags(&contact(d, &sb, "list1@example.com")).is_empty());

    let out = ghl(
        d,
        &sb,
        &[
            "contacts",
            "tags",
            "add",
            "--from",
            from,
            "vip,event",
            "-o",
            "json",
        ],
    );
    let s = summary(&out);
    assert_eq!(n(&s, "/done/tagged"), 3, "{s}");
    assert_eq!(n(&s, "/failed"), 1, "{s}"); // nobody@example.com
    assert_eq!(n(&s, "/refused"), 1, "{s}");
    assert_eq!(n(&s, "/skipped"), 1, "{s}");
    assert_eq!(
        out.status.code(),
        Some(18),
        "a row not applied is a partial result"
    );
    for e in [
        "list1@example.com",
        "list2@example.com",
        "list3@example.com",
    ] {
        assert_eq!(tags(&contact(d, &sb, e)), vec!["vip", "event"], "{e}");
    }
    let fails = std::fs::read_to_string(d.join("list.failures.csv")).unwrap();
    assert!(
        fails.contains("not_found") && fails.contains("bad_id"),
        "{fails}"
    );

    // Removing is destructive: off a terminal it needs --yes, and nothing
    // happens without it.
    let refused = ghl(
        d,
        &sb,
        &[
            "contacts", "tags", "remove", "--from", from, "vip", "-o", "json",
        ],
    );
    assert_eq!(
        refused.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("4 contacts"));
    assert_eq!(
        tags(&contact(d, &sb, "list2@example.com")),
        vec!["vip", "event"]
    );
    ghl(
        d,
        &sb,
        &[
            "contacts", "tags", "remove", "--from", from, "vip", "--yes", "-o", "json",
        ],
    );
    assert_eq!(tags(&contact(d, &sb, "list2@example.com")), vec!["event"]);

    // Enrolment reaches people: asked once, then every listed contact.
    let wf: Value =
        serde_json::from_slice(&ghl(d, &sb, &["workflows", "list", "-o", "json"]).stdout).unwrap();
    let wf_id = wf["workflows"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(|w| w["id"].as_str())
        .unwrap_or_else(|| panic!("no workflow: {wf}"))
        .to_string();
    let no = ghl(
        d,
        &sb,
        &["workflows", "add", "--from", from, &wf_id, "-o", "json"],
    );
    assert_eq!(no.status.code(), Some(7));
    let s = summary(&ghl(
        d,
        &sb,
        &[
            "workflows",
            "add",
            "--from",
            from,
            &wf_id,
            "--yes",
            "-o",
            "json",
        ],
    ));
    assert_eq!(n(&s, "/done/enrolled"), 3, "{s}");

    // The single-contact forms are unchanged.
    let one = ghl(
        d,
        &sb,
        &["contacts", "tags", "add", &id3, "solo", "-o", "json"],
    );
    assert!(
        one.status.success(),
        "{}",
        String::from_utf8_lossy(&one.stderr)
    );
    assert!(tags(&contact(d, &sb, "list3@example.com")).contains(&"solo".to_string()));
    let both = ghl(
        d,
        &sb,
        &["contacts", "tags", "add", "--from", from, &id3, "x"],
    );
    assert_eq!(both.status.code(), Some(3));
}

#[test]
fn export_across_locations_tags_each_record_and_stops_at_a_forbidden_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sb = sandbox(d, 0.0);
    let out = ghl(
        d,
        &sb,
        &[
            "contacts",
            "export",
            "--locations",
            "SbxDemoLoc0000000001",
            "--query",
            "Jane",
            "-o",
            "csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("Location Id,Id,First Name")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|l| l.starts_with("SbxDemoLoc0000000001,")),
        "{text}"
    );

    // A friendly read across locations: every record names its location.
    let out = ghl(
        d,
        &sb,
        &[
            "contacts",
            "search",
            "Jane",
            "--locations",
            "SbxDemoLoc0000000001",
            "-o",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let found: Value = serde_json::from_slice(&out.stdout).unwrap();
    let found = found.as_array().unwrap();
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|c| c["_location"] == "SbxDemoLoc0000000001"),
        "{found:?}"
    );

    // A sub-account this token may not act for: an error, not a quiet gap.
    let out = ghl(
        d,
        &sb,
        &[
            "contacts",
            "export",
            "--locations",
            "SbxDemoLoc0000000001,OtherLoc000000000001",
            "-o",
            "jsonl",
        ],
    );
    assert!(!out.status.success());
    assert_ne!(out.status.code(), Some(101));
}

#[test]
fn opportunities_export_streams_every_record_csv_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sb = sandbox(d, 0.0);
    let all = ghl(d, &sb, &["opportunities", "search", "--all", "-o", "json"]);
    let all: Value = serde_json::from_slice(&all.stdout).unwrap();
    let expected = all.as_array().map(Vec::len).unwrap();
    assert!(expected > 0);

    let csv = ghl(d, &sb, &["opportunities", "export", "-o", "csv"]);
    assert!(
        csv.status.success(),
        "{}",
        String::from_utf8_lossy(&csv.stderr)
    );
    let mut r = csv::Reader::from_reader(csv.stdout.as_slice());
    let headers = r.headers().unwrap().clone();
    assert_eq!(&headers[0], "Id");
    assert_eq!(&headers[12], "Updated At", "{headers:?}");
    assert_eq!(r.records().count(), expected);

    let jsonl = ghl(d, &sb, &["opportunities", "export", "-o", "jsonl"]);
    let lines: Vec<Value> = String::from_utf8_lossy(&jsonl.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), expected);
    assert!(lines.iter().all(|o| o["customFields"].is_object()));
}
