//! The HighLevel API operation catalog: v2 (`apps/`) and v3 (`apps/v3/`).
//!
//! Everything here is generated from HighLevel's official OpenAPI specs by
//! `cargo xtask catalog`; the data lives in `generated/catalog.json` (v2) and
//! `generated/catalog-v3.json` (v3) and is embedded in the binary. Facts
//! only: names, methods, paths, parameters, types, enums, scopes, Version
//! values, pagination style, short titles.

pub mod contact_search;
pub mod errata;
mod model;
pub mod summary;

pub use model::*;

use std::sync::OnceLock;

// Statics, not consts: a const's megabyte is copied into every codegen
// unit that uses it (two copies of both files, 1.9 MB, in one build).
/// The generated v2 catalog, as committed.
pub static CATALOG_JSON: &str = include_str!("../generated/catalog.json");
/// The generated v3 catalog (operations that are not exact repeats of v2's).
pub static CATALOG_V3_JSON: &str = include_str!("../generated/catalog-v3.json");

struct Loaded {
    catalog: Catalog,
}

impl Loaded {
    fn new(catalog: Catalog) -> Loaded {
        Loaded { catalog }
    }

    fn parse(json: &str) -> Loaded {
        // The JSON is produced by our own generator and checked in CI, so a
        // parse failure is a build defect, not a user input problem.
        Loaded::new(serde_json::from_str(json).expect("generated catalog JSON is valid"))
    }
}

/// Each API's part is parsed on first use, so listing one API's operations
/// never pays for the other's.
fn part(api: Api) -> &'static Loaded {
    static V2: OnceLock<Loaded> = OnceLock::new();
    static V3: OnceLock<Loaded> = OnceLock::new();
    match api {
        Api::V2 => V2.get_or_init(|| Loaded::parse(CATALOG_JSON)),
        Api::V3 => V3.get_or_init(|| Loaded::parse(CATALOG_V3_JSON)),
    }
}

static ALL: OnceLock<Loaded> = OnceLock::new();

/// Both parts as one catalog, v2 then v3, each sorted by name. Parsed
/// afresh rather than cloned from the parts: cloning costs as much as parsing.
fn loaded() -> &'static Loaded {
    ALL.get_or_init(|| {
        let v2: Catalog =
            serde_json::from_str(CATALOG_JSON).expect("generated catalog JSON is valid");
        let v3: Catalog =
            serde_json::from_str(CATALOG_V3_JSON).expect("generated catalog JSON is valid");
        let mut all = v2;
        all.groups.extend(v3.groups);
        all.operations.extend(v3.operations);
        Loaded::new(all)
    })
}

/// The whole catalog, v2 and v3.
pub fn catalog() -> &'static Catalog {
    &loaded().catalog
}

/// All operations: v2's sorted by name, then v3's sorted by name.
pub fn operations() -> &'static [Operation] {
    &loaded().catalog.operations
}

/// The operations of one API, sorted by name.
pub fn operations_of(api: Api) -> &'static [Operation] {
    if let Some(all) = ALL.get() {
        let split = all.catalog.operations.partition_point(|o| o.api == Api::V2);
        return match api {
            Api::V2 => &all.catalog.operations[..split],
            Api::V3 => &all.catalog.operations[split..],
        };
    }
    &part(api).catalog.operations
}

/// Where one operation's JSON object lies in its catalog file.
struct Span {
    name: &'static str,
    start: usize,
    end: usize,
}

// `V2_INDEX`/`V3_INDEX` (sorted by name) and their lengths, from build.rs.
include!(concat!(env!("OUT_DIR"), "/catalog_index.rs"));

// Boxed, so the slots are a pointer each (17 KB in the binary, not 430 KB).
static V2_ONE: [OnceLock<Box<Operation>>; V2_LEN] = [const { OnceLock::new() }; V2_LEN];
static V3_ONE: [OnceLock<Box<Operation>>; V3_LEN] = [const { OnceLock::new() }; V3_LEN];

/// One operation by its `<group>.<action>` name. Only that operation's
/// JSON is parsed, once, on first use: a command that calls one operation
/// never pays for the other thousand.
pub fn find(name: &str) -> Option<&'static Operation> {
    let (json, index, one): (
        &'static str,
        &'static [Span],
        &'static [OnceLock<Box<Operation>>],
    ) = match Api::of_name(name) {
        Api::V2 => (CATALOG_JSON, &V2_INDEX, &V2_ONE),
        Api::V3 => (CATALOG_V3_JSON, &V3_INDEX, &V3_ONE),
    };
    let i = index.binary_search_by(|s| s.name.cmp(name)).ok()?;
    let span = &index[i];
    Some(one[i].get_or_init(|| {
        // Our own generator's output, indexed at build time: a parse
        // failure is a build defect, not a user input problem.
        Box::new(
            serde_json::from_str(&json[span.start..span.end])
                .expect("generated catalog operation JSON is valid"),
        )
    }))
}

/// Names closest to `name`, for "did you mean" hints.
pub fn suggest(name: &str, max: usize) -> Vec<&'static str> {
    let needle = name.to_ascii_lowercase();
    let words: Vec<&str> = needle
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut scored: Vec<(usize, &'static str)> = operations()
        .iter()
        .filter_map(|op| {
            let hay = op.name.as_str();
            let tokens: Vec<&str> = hay.split(['.', '-']).collect();
            // A whole-word match counts double a substring match.
            let score: usize = words
                .iter()
                .map(|w| match (tokens.contains(w), hay.contains(*w)) {
                    (true, _) => 3,
                    (false, true) => 1,
                    _ => 0,
                })
                .sum();
            (score > 0).then_some((score, hay))
        })
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.len().cmp(&b.1.len())));
    scored.into_iter().take(max).map(|(_, n)| n).collect()
}

/// Operations matching every word of `query` (in name, title, path or tags),
/// optionally restricted to one group.
pub fn search<'a>(
    query: Option<&'a str>,
    group: Option<&'a str>,
) -> impl Iterator<Item = &'static Operation> + 'a {
    let words = query_words(query);
    operations().iter().filter(move |op| {
        if let Some(g) = group
            && !op.group.eq_ignore_ascii_case(g)
        {
            return false;
        }
        matches_words(
            &words,
            [
                &op.name,
                &op.title,
                &op.path,
                &op.tags.join(" "),
                &op.operation_id,
            ],
        )
    })
}

/// The lower-cased words of a search query.
fn query_words(query: Option<&str>) -> Vec<String> {
    query
        .unwrap_or("")
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect()
}

/// Every word occurs in one of the fields (name, title, path, tags,
/// operationId), case-insensitively; no words matches everything.
fn matches_words(words: &[String], fields: [&str; 5]) -> bool {
    if words.is_empty() {
        return true;
    }
    let hay = fields.join(" ").to_ascii_lowercase();
    words.iter().all(|w| hay.contains(w.as_str()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggestions_prefer_whole_words() {
        assert_eq!(
            super::suggest("contact.get", 1),
            vec!["contacts.get-contact"]
        );
        assert!(super::find("contacts.get-contact").is_some());
        assert_eq!(super::operations_of(super::Api::V2).len(), 576);
    }

    #[test]
    fn both_apis_with_unique_names() {
        use super::Api;
        let all = super::operations();
        assert_eq!(all.len(), 576 + 510);
        let names: std::collections::HashSet<&str> = all.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names.len(), all.len(), "names are unique");
        for op in all {
            assert_eq!(Api::of_name(&op.name), op.api, "{}", op.name);
            let one = super::find(&op.name).expect("every operation is indexed");
            assert_eq!(
                serde_json::to_value(one).unwrap(),
                serde_json::to_value(op).unwrap(),
                "{}: the indexed parse equals the whole-file parse",
                op.name
            );
        }
        assert_eq!(
            super::V2_LEN + super::V3_LEN,
            all.len(),
            "the index has them all"
        );
        for missing in [
            "",
            "contacts",
            "contacts.get-contac",
            "zzz.zzz",
            "contacts-v3.nope",
        ] {
            assert!(super::find(missing).is_none(), "{missing:?}");
        }
        let v3 = super::find("contacts-v3.get-contact").expect("v3 contact read");
        assert_eq!(v3.version.as_deref(), Some("v3"));
        assert_eq!(
            super::find("contacts.get-contact")
                .unwrap()
                .version
                .as_deref(),
            Some("2021-07-28")
        );
    }
}
