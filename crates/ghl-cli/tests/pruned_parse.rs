//! Start-up parses with a tree pruned to the commands the arguments name.
//! Whatever the arguments, the outcome must be the one the full tree gives:
//! the same matches, or the same error text and kind.

use std::ffi::OsString;

fn outcome(parsed: Result<clap::ArgMatches, clap::Error>) -> String {
    match parsed {
        Ok(m) => format!("ok {}", matched(&m)),
        Err(e) => format!("err {:?}: {}", e.kind(), e.render()),
    }
}

/// Every argument matched, with its source and raw values, level by level.
fn matched(m: &clap::ArgMatches) -> String {
    let mut out = String::new();
    for id in m.ids() {
        let raw: Vec<_> = m
            .get_raw(id.as_str())
            .map(|v| v.collect())
            .unwrap_or_default();
        out += &format!("{id}={raw:?}({:?}) ", m.value_source(id.as_str()));
    }
    if let Some((name, sub)) = m.subcommand() {
        out += &format!("[{name}: {}]", matched(sub));
    }
    out
}

#[test]
fn a_pruned_tree_parses_like_the_full_tree() {
    let cases: &[&[&str]] = &[
        &["--version"],
        &["-V"],
        &["--help"],
        &[],
        &["contacts", "get", "abc", "--dry-run"],
        &["--json", "contacts", "get", "abc"],
        &[
            "contacts",
            "get",
            "abc",
            "--output",
            "table",
            "--location",
            "L1",
        ],
        &["contacts", "--version"],
        &["contacts"],
        &["contacts", "gett", "abc"],
        &["contcts", "get", "abc"],
        &["help", "contacts"],
        &["--profile", "contacts", "contacts", "get", "x"],
        &["--profile", "sync", "contacts", "get", "x"],
        &["contacts", "dedupe", "--by", "email"],
        &["sandbox", "--help"],
        &["sync", "--full"],
        &["sql", "select 1"],
        &["report", "funnel", "--pipeline", "Sales"],
        &["api", "list"],
        &["mcp", "config", "claude"],
        &["completion", "bash"],
        &["test_connection"],
        &["search_contacts", "Jane"],
        &["list_courses"],
        &["opportunities", "stage", "OPP", "Proposal sent"],
        &["--dry-run", "conversations", "send", "ID", "hi"],
        &["--bogus", "contacts", "get", "x"],
        &["contacts", "get"],
        &["contacts", "search", "tags"],
        &["contacts", "serch", "tags"],
        &["contacts", "tags", "add", "C1", "vip"],
        &["contacts", "tags", "add", "--from", "ids.txt", "vip"],
        &["contacts", "tags", "remove", "--resume"],
        &["contacts", "search", "Jane", "--locations", "all"],
        &["contacts", "notes", "list", "C1"],
        &["contacts", "import", "people.csv"],
        &["contacts", "export", "--all"],
        &["opportunities", "export"],
        &["workflows", "add", "--from", "ids.txt", "W1"],
        &["workflows", "add", "C1", "W1"],
        &["contacts", "tags", "--help"],
        &["contacts", "get", "--help"],
        &["calendars", "slots", "CAL", "--help"],
    ];
    for case in cases {
        let args: Vec<OsString> = std::iter::once("ghl")
            .chain(case.iter().copied())
            .map(OsString::from)
            .collect();
        assert_eq!(
            outcome(ghl_cli::parse_from(&args)),
            outcome(ghl_cli::command().try_get_matches_from(&args)),
            "ghl {}",
            case.join(" ")
        );
    }
}
