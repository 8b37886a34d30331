//! Builds an index of the embedded catalogs at compile time: every
//! operation's name and where its JSON object lies in the file, sorted by
//! name. `find` then parses one operation's few hundred bytes on first use
//! instead of the whole megabyte at every start.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets the manifest dir"));
    let mut out = String::new();
    let mut summary = String::new();
    for (file, prefix) in [("catalog.json", "V2"), ("catalog-v3.json", "V3")] {
        let path = dir.join("generated").join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let json = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let mut spans = operation_spans(&json);
        spans.sort_by(|a, b| a.name.cmp(&b.name));
        for pair in spans.windows(2) {
            assert!(
                pair[0].name != pair[1].name,
                "{file}: operation {} twice",
                pair[0].name
            );
        }
        writeln!(
            out,
            "pub(crate) const {prefix}_LEN: usize = {};",
            spans.len()
        )
        .unwrap();
        writeln!(
            out,
            "pub(crate) static {prefix}_INDEX: [Span; {prefix}_LEN] = ["
        )
        .unwrap();
        for op in &spans {
            writeln!(
                out,
                "    Span {{ name: {:?}, start: {}, end: {} }},",
                op.name, op.start, op.end
            )
            .unwrap();
        }
        out.push_str("];\n");
        summaries(&mut summary, prefix, &json);
    }
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("catalog_index.rs");
    std::fs::write(&dest, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
    let dest = dest.with_file_name("catalog_summary.rs");
    std::fs::write(&dest, summary)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", dest.display()));
}

/// The search summary of every operation (`summary.rs`), in the file's
/// order: each text field as a `(start, end)` range into one string, so
/// the tables hold no pointers and cost the dynamic loader nothing.
fn summaries(out: &mut String, prefix: &str, json: &str) {
    let v: serde_json::Value = serde_json::from_str(json).expect("generated catalog is JSON");
    let mut text = String::new();
    // Groups, tags and scope lists repeat from one operation to the next:
    // each distinct string is stored once.
    let mut seen: std::collections::HashMap<String, (u32, u32)> = Default::default();
    let mut range = |s: &str| -> (u32, u32) {
        if let Some(r) = seen.get(s) {
            return *r;
        }
        let start = text.len();
        text.push_str(s);
        let r = (start as u32, text.len() as u32);
        seen.insert(s.to_string(), r);
        r
    };
    let field = |o: &serde_json::Value, k: &str| -> String {
        o.get(k)
            .and_then(|x| x.as_str())
            .unwrap_or_else(|| panic!("every operation has a string {k}"))
            .to_string()
    };
    let ops = v["operations"].as_array().expect("operations is an array");
    writeln!(
        out,
        "pub(crate) static {prefix}_SUMMARY: [Row; {}] = [",
        ops.len()
    )
    .unwrap();
    for o in ops {
        let tags: Vec<&str> = o
            .get("tags")
            .and_then(|t| t.as_array())
            .map(|a| a.iter().filter_map(|t| t.as_str()).collect())
            .unwrap_or_default();
        let method = match field(o, "method").as_str() {
            "GET" => "Get",
            "POST" => "Post",
            "PUT" => "Put",
            "PATCH" => "Patch",
            "DELETE" => "Delete",
            m => panic!("unknown method {m}"),
        };
        let effect = match field(o, "effect").as_str() {
            "read" => "Read",
            "write" => "Write",
            "destructive" => "Destructive",
            "outbound" => "Outbound",
            e => panic!("unknown effect {e}"),
        };
        let scopes: Vec<&str> = o
            .get("scopes")
            .and_then(|t| t.as_array())
            .map(|a| a.iter().filter_map(|t| t.as_str()).collect())
            .unwrap_or_default();
        assert!(
            scopes.iter().all(|s| !s.is_empty() && !s.contains(' ')),
            "scopes are single words"
        );
        let idempotent = o
            .get("idempotent")
            .and_then(|b| b.as_bool())
            .unwrap_or(false);
        let has_body = o.get("body").is_some_and(|b| !b.is_null());
        let paged = o.get("pagination").is_some_and(|p| !p.is_null());
        writeln!(
            out,
            "    Row {{ name: {:?}, group: {:?}, path: {:?}, title: {:?}, tags: {:?}, operation_id: {:?}, scopes: {:?}, method: Method::{method}, effect: Effect::{effect}, idempotent: {idempotent}, has_body: {has_body}, paged: {paged} }},",
            range(&field(o, "name")),
            range(&field(o, "group")),
            range(&field(o, "path")),
            range(&field(o, "title")),
            range(&tags.join(" ")),
            range(&field(o, "operation_id")),
            range(&scopes.join(" ")),
        )
        .unwrap();
    }
    out.push_str("];\n");
    // Positions in the table, sorted by name, for lookups by name.
    let mut by_name: Vec<(String, usize)> = ops
        .iter()
        .enumerate()
        .map(|(i, o)| (field(o, "name"), i))
        .collect();
    by_name.sort();
    writeln!(
        out,
        "pub(crate) static {prefix}_BY_NAME: [u16; {}] = {:?};",
        by_name.len(),
        by_name.iter().map(|(_, i)| *i as u16).collect::<Vec<_>>()
    )
    .unwrap();
    let groups = v["groups"].as_array().expect("groups is an array");
    writeln!(
        out,
        "pub(crate) static {prefix}_GROUPS: [GroupRow; {}] = [",
        groups.len()
    )
    .unwrap();
    for g in groups {
        let n = g["operations"]
            .as_u64()
            .expect("a group's operations is a count");
        writeln!(
            out,
            "    GroupRow {{ name: {:?}, operations: {n} }},",
            range(&field(g, "name"))
        )
        .unwrap();
    }
    out.push_str("];\n");
    writeln!(out, "pub(crate) static {prefix}_TEXT: &str = {text:?};").unwrap();
}

/// Where one operation's object lies in the file.
struct OpSpan {
    name: String,
    start: usize,
    end: usize,
}

/// Each object in the root's `operations` array. A small string-aware
/// scanner: the file is our own generator's output, and anything
/// unexpected fails the build rather than the program.
fn operation_spans(json: &str) -> Vec<OpSpan> {
    let b = json.as_bytes();
    let mut spans = Vec::new();
    let mut depth = 0usize;
    let mut root_key = String::new();
    let mut in_ops = false;
    let mut op_start = 0usize;
    let mut op_name: Option<String> = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let (s, end) = string_at(json, i);
                let colon = skip_ws(b, end);
                i = end;
                if b.get(colon) != Some(&b':') {
                    continue;
                }
                if depth == 1 {
                    root_key = s;
                } else if in_ops && depth == 3 && s == "name" && op_name.is_none() {
                    let value = skip_ws(b, colon + 1);
                    assert_eq!(b[value], b'"', "operation name is a string");
                    let (name, end) = string_at(json, value);
                    op_name = Some(name);
                    i = end;
                }
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth == 2 && b[i] == b'[' && root_key == "operations" {
                    in_ops = true;
                } else if in_ops && depth == 3 && b[i] == b'{' {
                    op_start = i;
                    op_name = None;
                }
            }
            b'}' | b']' => {
                if in_ops && depth == 3 && b[i] == b'}' {
                    let name = op_name.take().expect("every operation has a name");
                    spans.push(OpSpan {
                        name,
                        start: op_start,
                        end: i + 1,
                    });
                } else if in_ops && depth == 2 {
                    in_ops = false;
                }
                depth -= 1;
            }
            _ => {}
        }
        i += 1;
    }
    assert!(!spans.is_empty(), "no operations found in the catalog");
    spans
}

/// The string starting at the quote at `at` (escapes kept raw; names have
/// none) and the index just past its closing quote.
fn string_at(json: &str, at: usize) -> (String, usize) {
    let b = json.as_bytes();
    let mut i = at + 1;
    while b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    (json[at + 1..i].to_string(), i + 1)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}
