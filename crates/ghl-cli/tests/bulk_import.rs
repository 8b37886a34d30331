//! `ghl contacts import` as a user runs it, the real binary against a real
//! sandbox process: thousands of rows with bad ones among them, a second
//! run, SIGKILL midway and `--resume` against a failing server, and
//! malformed CSV.

mod bulk_support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bulk_support::{emails, ghl, ghl_cmd, http_get, n, sandbox, summary};
use serde_json::Value;

/// 2,000 rows; every 20th (offset 7) is bad, five kinds in turn.
fn big_csv(path: &Path) -> (BTreeMap<u64, &'static str>, BTreeSet<String>) {
    let mut bad = BTreeMap::new();
    let mut good = BTreeSet::new();
    let mut f = Vec::new();
    f.extend_from_slice(
        b"\xEF\xBB\xBFFirst Name,Last Name,Email,Phone,Tags,Lead Source,Address,Plan\r\n",
    );
    for i in 1..=2000u64 {
        let email = format!("bulk{i}@example.com");
        let line: Vec<u8> = if i % 20 == 7 {
            let kind = (i / 20) % 5;
            let (code, line) = match kind {
                0 => (
                    "bad_email",
                    format!("Bad,Email,bulk{i}-at-example.com,,,,,\r\n"),
                ),
                1 => (
                    "missing_email_and_phone",
                    "No,Contact,,,,,,\r\n".to_string(),
                ),
                2 => (
                    "unknown_custom_field",
                    format!("Un,Known,{email},,,,,gold\r\n"),
                ),
                3 => ("bad_phone", format!("Bad,Phone,{email},12-34,,,,\r\n")),
                _ => ("malformed_row", format!("Too,Many,{email},,,,,,x,y\r\n")),
            };
            bad.insert(i, code);
            line.into_bytes()
        } else {
            good.insert(email.clone());
            let phone = if i % 3 == 0 {
                format!("(555) {:03}-{:04}", 200 + i / 1000, i % 10000)
            } else {
                String::new()
            };
            format!(
                "Person,{i},{email},{phone},\"imported,batch{}\",Facebook,\"{i} Main St\nSuite {i}\",\r\n",
                i % 4
            )
            .into_bytes()
        };
        f.extend_from_slice(&line);
    }
    std::fs::write(path, f).unwrap();
    (bad, good)
}

#[test]
fn two_thousand_rows_with_bad_ones_then_a_second_run_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sb = sandbox(d, 0.0);
    let csv = d.join("leads.csv");
    let (bad, good) = big_csv(&csv);
    let file = csv.to_str().unwrap();
    let args = [
        "contacts",
        "import",
        file,
        "--default-country",
        "US",
        "--map",
        "Plan=contact.plan_tier",
        "-o",
        "json",
    ];

    // 50 of the file's contacts exist already: they are updates.
    let head = d.join("head.csv");
    let text = std::fs::read(&csv).unwrap();
    let first_lines: Vec<&[u8]> = text.split(|b| *b == b'\n').collect();
    let mut head_bytes = Vec::new();
    let mut rows = 0;
    let mut i = 0;
    while rows < 50 {
        let l = first_lines[i];
        head_bytes.extend_from_slice(l);
        head_bytes.push(b'\n');
        // A good row spans two lines (the address holds a newline).
        if i > 0 && l.starts_with(b"Suite") {
            rows += 1;
        }
        i += 1;
    }
    std::fs::write(&head, head_bytes).unwrap();
    let mut pre_args = args;
    pre_args[2] = head.to_str().unwrap();
    let pre = summary(&ghl(d, &sb, &pre_args));
    let pre_created = n(&pre, "/done/created");
    assert_eq!(pre_created, 50, "{pre}");

    let before = emails(d, &sb);
    let out = ghl(d, &sb, &args);
    let s = summary(&out);
    let (created, updated, refused) = (
        n(&s, "/done/created"),
        n(&s, "/done/updated"),
        n(&s, "/refused"),
    );
    assert_eq!(created + updated + refused, 2000, "{s}");
    assert_eq!(refused, 100, "{s}");
    assert_eq!(updated, pre_created, "{s}");
    assert_eq!(n(&s, "/failed"), 0, "{s}");
    assert_eq!(n(&s, "/skipped"), 0, "{s}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The failures file holds exactly the bad rows, each with its reason.
    let failures = d.join("leads.failures.csv");
    assert_eq!(s["failures_file"], failures.to_str().unwrap());
    let mut r = csv::Reader::from_path(&failures).unwrap();
    let listed: BTreeMap<u64, String> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].parse().unwrap(), rec[2].to_string())
        })
        .collect();
    let expected: BTreeMap<u64, String> = bad.iter().map(|(k, v)| (*k, v.to_string())).collect();
    assert_eq!(listed, expected);

    // Every good row is in the sandbox exactly once.
    let after = emails(d, &sb);
    for e in &good {
        assert_eq!(after.get(e), Some(&1), "{e}");
    }
    assert_eq!(
        after.len(),
        before.len() + good.len() - pre_created as usize
    );

    // The same file again: nothing new.
    let again = summary(&ghl(d, &sb, &args));
    assert_eq!(n(&again, "/done/created"), 0, "{again}");
    assert_eq!(n(&again, "/done/updated"), 1900, "{again}");
    assert_eq!(emails(d, &sb).len(), after.len());

    // The rate limiter kept within the budget: the sandbox never said 429.
    let stats: Value =
        serde_json::from_str(&http_get(sb.addr, "/_sandbox/stats").unwrap()).unwrap();
    assert_eq!(stats["rate_limited"], 0, "{stats}");
}

/// Requests the sandbox has answered (its own stats and health excluded).
fn requests_seen(sb: &bulk_support::Sandbox) -> u64 {
    http_get(sb.addr, "/_sandbox/stats")
        .and_then(|b| serde_json::from_str::<Value>(&b).ok())
        .map_or(0, |v| n(&v, "/requests"))
}

#[test]
fn killed_midway_against_a_failing_server_then_resumed_every_contact_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sb = sandbox(d, 0.05);
    let csv = d.join("kill.csv");
    let mut text = String::from("Email,First Name,Phone\n");
    let mut wanted = BTreeSet::new();
    for i in 0..600 {
        let email = format!("kill{i}@example.com");
        text.push_str(&format!("{email},K{i},+1555{:07}\n", 3_000_000 + i));
        wanted.insert(email);
    }
    std::fs::write(&csv, text).unwrap();
    let file = csv.to_str().unwrap();

    // 600 rows at 100 a second take six seconds and more with faults: kill
    // once the import has sent 60 requests (a fixed sleep is too short on a
    // loaded machine, where the debug binary may not have started yet).
    let mut child = ghl_cmd(
        d,
        &sb,
        &[
            "--response-timeout",
            "2",
            "contacts",
            "import",
            file,
            "-o",
            "json",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while requests_seen(&sb) < 60 {
        assert!(
            Instant::now() < deadline,
            "the import sent too few requests"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let midway = emails(d, &sb);
    let landed = wanted.iter().filter(|e| midway.contains_key(*e)).count();
    assert!(landed > 0 && landed < wanted.len(), "landed {landed}");

    // Resume until the journal says done (a row can exhaust its retries
    // against a 5% failure rate; `--resume` sends it again).
    let mut last = Value::Null;
    for _ in 0..4 {
        let out = ghl(
            d,
            &sb,
            &[
                "--response-timeout",
                "2",
                "contacts",
                "import",
                "--resume",
                "-o",
                "json",
            ],
        );
        last = summary(&out);
        if out.status.success() {
            break;
        }
    }
    assert_eq!(n(&last, "/pending"), 0, "{last}");
    assert_eq!(n(&last, "/failed"), 0, "{last}");
    assert_eq!(n(&last, "/rows"), 600, "{last}");

    let after = emails(d, &sb);
    for e in &wanted {
        assert_eq!(after.get(e), Some(&1), "{e}: {:?}", after.get(e));
    }
    // Nothing left to resume.
    let none = ghl(d, &sb, &["contacts", "import", "--resume", "-o", "json"]);
    assert_eq!(
        none.status.code(),
        Some(11),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
}

#[test]
fn malformed_csv_is_refused_row_by_row_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sb = sandbox(d, 0.0);
    let csv = d.join("odd.csv");
    let mut bytes = b"\xEF\xBB\xBFEmail,Full Name,Notes\r\n".to_vec();
    bytes.extend_from_slice(b"odd1@example.com,Ann Odd,\"line one\nline two\"\r\n"); // 1 quoted newline
    bytes.extend_from_slice(b"odd2@example.com,Bob\r\n"); // 2 ragged: too few
    bytes.extend_from_slice(b"odd3@example.com,Cy,x,y,z\r\n"); // 3 ragged: too many
    bytes.extend_from_slice(b"odd4@example.com,Ren\xE9e Latin1,\r\n"); // 4 not UTF-8
    bytes.extend_from_slice(b"\r\n"); // blank: not a row
    bytes.extend_from_slice(b"odd5@example.com,\"Quoted, Comma\",\r\n"); // 5 fine
    bytes.extend_from_slice(b"odd6@example.com,Six,\"never closed\r\nodd7@example.com,x,\r\n"); // 6 swallows the rest
    std::fs::write(&csv, &bytes).unwrap();
    let out = ghl(
        d,
        &sb,
        &["contacts", "import", csv.to_str().unwrap(), "-o", "json"],
    );
    assert_ne!(
        out.status.code(),
        Some(101),
        "panicked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = summary(&out);
    assert_eq!(n(&s, "/rows"), 6, "{s}");
    assert_eq!(n(&s, "/refused"), 3, "{s}");
    assert_eq!(n(&s, "/done/created"), 3, "{s}");
    let fails = std::fs::read_to_string(d.join("odd.failures.csv")).unwrap();
    let rows: Vec<&str> = fails
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(rows, vec!["2", "3", "4"], "{fails}");
    assert!(fails.contains("UTF-8"), "{fails}");
    let seen = emails(d, &sb);
    assert!(seen.contains_key("odd1@example.com") && seen.contains_key("odd5@example.com"));

    // A file in the wrong encoding as a whole: one clear error, nothing sent.
    let utf16 = d.join("utf16.csv");
    std::fs::write(&utf16, b"\xFF\xFEE\x00m\x00").unwrap();
    let out = ghl(
        d,
        &sb,
        &["contacts", "import", utf16.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UTF-16"));
    // Unknown format, and --map nonsense: refused before the network.
    let out = ghl(
        d,
        &sb,
        &["contacts", "import", d.join("x.xlsx").to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(3));
}
