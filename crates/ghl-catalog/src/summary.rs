//! What searching and listing the catalog needs of each operation (name,
//! group, path, title, tags, operationId, scopes, method, effect,
//! idempotence) and the group list, as tables written by build.rs.
//! Searching then parses no JSON: parsing the whole catalog for the first
//! search cost milliseconds and kept several megabytes for the life of a
//! long-running `ghl mcp`, and listing its tools parsed thirty operations.
//!
//! Text fields are ranges into one string, not `&str`s, so the tables hold
//! no pointers and cost the dynamic loader nothing at start.

use crate::{Effect, Method};

pub(crate) struct Row {
    name: (u32, u32),
    group: (u32, u32),
    path: (u32, u32),
    title: (u32, u32),
    tags: (u32, u32),
    operation_id: (u32, u32),
    scopes: (u32, u32),
    method: Method,
    effect: Effect,
    idempotent: bool,
    has_body: bool,
    paged: bool,
}

pub(crate) struct GroupRow {
    name: (u32, u32),
    operations: usize,
}

// `V2_SUMMARY`, `V2_BY_NAME`, `V2_GROUPS`, `V2_TEXT` and the same for v3,
// from build.rs.
include!(concat!(env!("OUT_DIR"), "/catalog_summary.rs"));

/// One operation as search sees it.
#[derive(Clone, Copy)]
pub struct Summary {
    row: &'static Row,
    text: &'static str,
}

impl Summary {
    fn at(&self, (start, end): (u32, u32)) -> &'static str {
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
    pub fn name(&self) -> &'static str {
        self.at(self.row.name)
    }
    pub fn group(&self) -> &'static str {
        self.at(self.row.group)
    }
    pub fn path(&self) -> &'static str {
        self.at(self.row.path)
    }
    pub fn title(&self) -> &'static str {
        self.at(self.row.title)
    }
    /// The tags joined by single spaces.
    pub fn tags(&self) -> &'static str {
        self.at(self.row.tags)
    }
    pub fn operation_id(&self) -> &'static str {
        self.at(self.row.operation_id)
    }
    pub fn method(&self) -> Method {
        self.row.method
    }
    pub fn effect(&self) -> Effect {
        self.row.effect
    }
    /// The scopes that can grant the operation (any one of them does).
    pub fn scopes(&self) -> impl Iterator<Item = &'static str> {
        self.at(self.row.scopes)
            .split(' ')
            .filter(|s| !s.is_empty())
    }
    /// It takes a JSON body (`Operation::body` is set).
    pub fn has_body(&self) -> bool {
        self.row.has_body
    }
    /// It pages (`Operation::pagination` is set).
    pub fn paged(&self) -> bool {
        self.row.paged
    }
    /// Safe to send again after a timeout or 5xx.
    pub fn idempotent(&self) -> bool {
        self.row.idempotent
    }
    /// As [`crate::Operation::needs_confirmation`].
    pub fn needs_confirmation(&self) -> bool {
        matches!(self.row.effect, Effect::Destructive | Effect::Outbound)
    }
}

/// One operation by its `<group>.<action>` name, as [`crate::find`] finds
/// it, without parsing it.
pub fn find(name: &str) -> Option<Summary> {
    let (rows, by_name, text): (&'static [Row], &'static [u16], &'static str) =
        match crate::Api::of_name(name) {
            crate::Api::V2 => (&V2_SUMMARY, &V2_BY_NAME, V2_TEXT),
            crate::Api::V3 => (&V3_SUMMARY, &V3_BY_NAME, V3_TEXT),
        };
    let at = |i: u16| Summary {
        row: &rows[i as usize],
        text,
    };
    let i = by_name.binary_search_by(|&i| at(i).name().cmp(name)).ok()?;
    Some(at(by_name[i]))
}

/// Every operation in the order of [`crate::operations`]: v2's, then v3's.
pub fn summaries() -> impl Iterator<Item = Summary> {
    let v2 = V2_SUMMARY.iter().map(|row| Summary { row, text: V2_TEXT });
    let v3 = V3_SUMMARY.iter().map(|row| Summary { row, text: V3_TEXT });
    v2.chain(v3)
}

/// Every group's name and operation count, in the order of
/// [`crate::catalog`]'s groups: v2's, then v3's.
pub fn groups() -> impl Iterator<Item = (&'static str, usize)> {
    let at = |text: &'static str, g: &'static GroupRow| {
        let (start, end) = g.name;
        (
            text.get(start as usize..end as usize).unwrap_or_default(),
            g.operations,
        )
    };
    let v2 = V2_GROUPS.iter().map(move |g| at(V2_TEXT, g));
    let v3 = V3_GROUPS.iter().map(move |g| at(V3_TEXT, g));
    v2.chain(v3)
}

/// [`crate::search`] over the summaries: operations matching every word
/// of `query` (in name, title, path, tags or operationId), optionally in
/// one group.
pub fn search<'a>(
    query: Option<&'a str>,
    group: Option<&'a str>,
) -> impl Iterator<Item = Summary> + 'a {
    let words = crate::query_words(query);
    summaries().filter(move |s| {
        group.is_none_or(|g| s.group().eq_ignore_ascii_case(g))
            && crate::matches_words(
                &words,
                [s.name(), s.title(), s.path(), s.tags(), s.operation_id()],
            )
    })
}
