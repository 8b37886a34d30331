//! The HighLevel API v2 operation catalog.
//!
//! Everything here is generated from HighLevel's official OpenAPI specs by
//! `cargo xtask catalog`; the data lives in `generated/catalog.json` and is
//! embedded in the binary. Facts only: names, methods, paths, parameters,
//! types, enums, scopes, Version values, pagination style, short titles.

pub mod contact_search;
mod model;

pub use model::*;

use std::collections::HashMap;
use std::sync::OnceLock;

/// The generated catalog, as committed.
pub const CATALOG_JSON: &str = include_str!("../generated/catalog.json");

struct Loaded {
    catalog: Catalog,
    by_name: HashMap<String, usize>,
}

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        // The JSON is produced by our own generator and checked in CI, so a
        // parse failure is a build defect, not a user input problem.
        let catalog: Catalog =
            serde_json::from_str(CATALOG_JSON).expect("generated catalog.json is valid");
        let by_name = catalog
            .operations
            .iter()
            .enumerate()
            .map(|(i, op)| (op.name.clone(), i))
            .collect();
        Loaded { catalog, by_name }
    })
}

/// The whole catalog.
pub fn catalog() -> &'static Catalog {
    &loaded().catalog
}

/// All operations, sorted by name.
pub fn operations() -> &'static [Operation] {
    &loaded().catalog.operations
}

/// One operation by its `<group>.<action>` name.
pub fn find(name: &str) -> Option<&'static Operation> {
    let l = loaded();
    l.by_name.get(name).map(|&i| &l.catalog.operations[i])
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
    let words: Vec<String> = query
        .unwrap_or("")
        .split_whitespace()
        .map(|w| w.to_ascii_lowercase())
        .collect();
    operations().iter().filter(move |op| {
        if let Some(g) = group
            && !op.group.eq_ignore_ascii_case(g)
        {
            return false;
        }
        if words.is_empty() {
            return true;
        }
        let hay = format!(
            "{} {} {} {} {}",
            op.name,
            op.title,
            op.path,
            op.tags.join(" "),
            op.operation_id
        )
        .to_ascii_lowercase();
        words.iter().all(|w| hay.contains(w.as_str()))
    })
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
        assert_eq!(super::operations().len(), 576);
    }
}
