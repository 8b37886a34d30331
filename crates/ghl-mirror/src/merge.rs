//! Merging duplicate contacts (`ghl contacts dedupe --apply`).
//!
//! HighLevel's API has no merge operation, so a merge here is what the
//! public operations can do without losing anything: the duplicate's tags,
//! the fields the kept contact lacks and its notes move to the kept
//! contact, then the duplicate is deleted. History the API cannot move
//! (opportunities, conversations, appointments, tasks) would be lost with the
//! duplicate, so such a duplicate is left alone and reported, to be merged
//! in HighLevel itself.
//!
//! Every step can be repeated: a run that stops midway and runs again adds
//! no tag, field or note twice (notes already on the kept contact are
//! recognised by their text), and a duplicate already gone is skipped.

use std::collections::{BTreeMap, BTreeSet};

use ghl_core::{CallArgs, Client, Error, ErrorCode};
use ghl_store::{QueryLimits, Value};
use serde_json::{Map, Value as Json, json};

use crate::Mirror;
use crate::reports::{self, ReportArgs};

/// Contact fields copied to the kept contact when it has none.
const FILLED: &[&str] = &[
    "firstName",
    "lastName",
    "address1",
    "city",
    "state",
    "postalCode",
    "country",
    "website",
    "timezone",
    "source",
    "dateOfBirth",
    "assignedTo",
];

/// Filled only after the duplicate is deleted: HighLevel may refuse a
/// second contact with the same email or phone while the first exists.
const FILLED_AFTER_DELETE: &[&str] = &["email", "phone"];

/// Contacts to merge into one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeGroup {
    pub keep: String,
    pub keep_name: String,
    /// (id, name) of the duplicates, oldest first.
    pub merge: Vec<(String, String)>,
    /// What they share, e.g. `email jane@example.com`.
    pub matched: Vec<String>,
}

/// What happened to one duplicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Merged {
        tags: usize,
        fields: Vec<String>,
        notes: usize,
        /// Fields HighLevel refused on the kept contact, with its reason.
        not_copied: Vec<String>,
    },
    /// Left alone: the reason says why and what to do.
    Skipped(String),
    /// Already deleted in HighLevel.
    Gone,
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Merged { .. } => "merged",
            Outcome::Skipped(_) => "skipped",
            Outcome::Gone => "gone",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Outcome::Merged {
                tags,
                fields,
                notes,
                not_copied,
            } => {
                let mut parts = vec![counted(*tags, "tag"), counted(*notes, "note")];
                if !fields.is_empty() {
                    parts.push(format!("fields {}", fields.join(", ")));
                }
                let mut text = format!("moved {}; duplicate deleted", parts.join(", "));
                for n in not_copied {
                    text.push_str("; ");
                    text.push_str(n);
                }
                text
            }
            Outcome::Skipped(why) => why.clone(),
            Outcome::Gone => "already deleted in HighLevel".into(),
        }
    }
}

/// The merge plan from the mirror: contacts linked by a shared email or
/// phone (also through one another) form one group, kept as the oldest.
pub fn plan(mirror: &Mirror, by: &[String]) -> Result<Vec<MergeGroup>, Error> {
    let report = reports::find("dedupe")?;
    let pairs = reports::run(
        mirror,
        report,
        &ReportArgs {
            by: by.to_vec(),
            ..ReportArgs::default()
        },
        QueryLimits {
            max_rows: 1_000_000,
            ..QueryLimits::default()
        },
    )?;
    let col = |name: &str| pairs.columns.iter().position(|c| c == name);
    let (Some(field), Some(value), Some(keep), Some(merge)) =
        (col("field"), col("value"), col("keep"), col("merge"))
    else {
        return Err(Error::new(
            ErrorCode::Server,
            "the dedupe report lost a column",
        ));
    };
    let text = |row: &[Value], i: usize| match row.get(i) {
        Some(Value::Text(s)) => s.clone(),
        Some(Value::Int(n)) => n.to_string(),
        _ => String::new(),
    };
    let mut groups = Groups::default();
    for row in &pairs.rows {
        let (k, m) = (text(row, keep), text(row, merge));
        groups.join(&k, &m, format!("{} {}", text(row, field), text(row, value)));
    }
    groups.into_plan(mirror)
}

/// Union-find over contact ids, with what linked them.
#[derive(Default)]
struct Groups {
    parent: BTreeMap<String, String>,
    matched: Vec<(String, String)>,
}

impl Groups {
    fn root(&mut self, id: &str) -> String {
        let mut at = id.to_string();
        while let Some(p) = self.parent.get(&at).filter(|p| **p != at) {
            at = p.clone();
        }
        at
    }

    fn join(&mut self, a: &str, b: &str, why: String) {
        for id in [a, b] {
            self.parent
                .entry(id.to_string())
                .or_insert_with(|| id.to_string());
        }
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.parent.insert(rb, ra);
        }
        self.matched.push((a.to_string(), why));
    }

    fn into_plan(mut self, mirror: &Mirror) -> Result<Vec<MergeGroup>, Error> {
        let ids: Vec<String> = self.parent.keys().cloned().collect();
        let mut members: BTreeMap<String, Vec<(i64, String, String)>> = BTreeMap::new();
        for id in ids {
            let (added, name) = contact_age_and_name(mirror, &id)?;
            let root = self.root(&id);
            members.entry(root).or_default().push((added, id, name));
        }
        let mut why_by_root: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (id, why) in std::mem::take(&mut self.matched) {
            why_by_root.entry(self.root(&id)).or_default().insert(why);
        }
        let mut plan = Vec::new();
        for (root, mut list) in members {
            list.sort();
            let matched = why_by_root.remove(&root).unwrap_or_default();
            let mut it = list.into_iter();
            let Some((_, keep, keep_name)) = it.next() else {
                continue;
            };
            plan.push(MergeGroup {
                keep,
                keep_name,
                merge: it.map(|(_, id, name)| (id, name)).collect(),
                matched: matched.into_iter().collect(),
            });
        }
        Ok(plan)
    }
}

fn contact_age_and_name(mirror: &Mirror, id: &str) -> Result<(i64, String), Error> {
    let r = mirror.query_with(
        "SELECT COALESCE(date_added_ms, 0), COALESCE(name, '') FROM contacts WHERE id = $1",
        &[Value::Text(id.to_string())],
        QueryLimits::default(),
    )?;
    let row = r.rows.first();
    let added = match row.and_then(|r| r.first()) {
        Some(Value::Int(n)) => *n,
        _ => 0,
    };
    let name = match row.and_then(|r| r.get(1)) {
        Some(Value::Text(s)) => s.clone(),
        _ => String::new(),
    };
    Ok((added, name))
}

/// Merge one duplicate into the kept contact, through the client, and
/// bring the mirror up to date with what changed.
pub async fn merge_one(
    client: &Client,
    mirror: &Mirror,
    location: &str,
    keep: &str,
    dup: &str,
) -> Result<Outcome, Error> {
    let Some(d) = read_contact(client, dup).await? else {
        forget(mirror, dup)?;
        return Ok(Outcome::Gone);
    };
    if let Some(why) = unmovable_history(client, location, dup).await? {
        return Ok(Outcome::Skipped(why));
    }
    let k = read_contact(client, keep).await?.ok_or_else(|| {
        Error::new(
            ErrorCode::NotFound,
            format!("the contact to keep ({keep}) is gone from HighLevel"),
        )
        .with_hint("run `ghl sync` and look at the plan again")
    })?;

    let mut body = Map::new();
    let mut fields = Vec::new();
    for f in FILLED {
        if is_empty(k.get(*f)) && !is_empty(d.get(*f)) {
            body.insert((*f).to_string(), d[*f].clone());
            fields.push((*f).to_string());
        }
    }
    let custom = missing_custom_fields(&k, &d);
    if !custom.is_empty() {
        fields.push(format!("{} custom fields", custom.len()));
        body.insert("customFields".into(), Json::Array(custom));
    }
    if !body.is_empty() {
        update(client, keep, Json::Object(body)).await?;
    }

    let have: BTreeSet<&str> = str_list(&k, "tags").collect();
    let tags: Vec<&str> = str_list(&d, "tags").filter(|t| !have.contains(t)).collect();
    if !tags.is_empty() {
        client
            .call(
                "contacts.add-tags",
                CallArgs::new()
                    .param("contactId", keep)
                    .with_body(json!({ "tags": tags })),
            )
            .await?;
    }

    let notes = copy_notes(client, dup, keep).await?;

    client
        .call(
            "contacts.delete-contact",
            CallArgs::new().param("contactId", dup),
        )
        .await?;

    let mut not_copied = Vec::new();
    for f in FILLED_AFTER_DELETE {
        if !is_empty(k.get(*f)) || is_empty(d.get(*f)) {
            continue;
        }
        // A third contact may still hold the same email or phone, and the
        // location may refuse it twice: the merge stands without it.
        match update(client, keep, json!({ *f: d[*f].clone() })).await {
            Ok(()) => fields.push((*f).to_string()),
            Err(e) if matches!(e.code, ErrorCode::BadRequest | ErrorCode::Conflict) => {
                not_copied.push(format!("{f} not copied: {}", e.message));
            }
            Err(e) => return Err(e),
        }
    }

    forget(mirror, dup)?;
    if let Some(fresh) = read_contact(client, keep).await? {
        let mut event = fresh;
        event["type"] = json!("ContactUpdate");
        crate::apply_event(mirror, &event)?;
    }
    Ok(Outcome::Merged {
        tags: tags.len(),
        fields,
        notes,
        not_copied,
    })
}

async fn read_contact(client: &Client, id: &str) -> Result<Option<Json>, Error> {
    match client
        .call(
            "contacts.get-contact",
            CallArgs::new().param("contactId", id),
        )
        .await
    {
        Ok(answer) => Ok(Some(answer.get("contact").cloned().unwrap_or(answer))),
        Err(e) if e.code == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

async fn update(client: &Client, id: &str, body: Json) -> Result<(), Error> {
    client
        .call(
            "contacts.update-contact",
            CallArgs::new().param("contactId", id).with_body(body),
        )
        .await
        .map(|_| ())
}

/// Records tied to the duplicate that no public operation can move to
/// another contact; deleting it would delete or orphan them.
async fn unmovable_history(
    client: &Client,
    location: &str,
    dup: &str,
) -> Result<Option<String>, Error> {
    let opps = client
        .call(
            "opportunities.search-opportunity",
            CallArgs::new()
                .param("location_id", location)
                .param("contact_id", dup)
                .param("limit", 1),
        )
        .await?;
    let convs = client
        .call(
            "conversations.search-conversation",
            CallArgs::new()
                .param("locationId", location)
                .param("contactId", dup)
                .param("limit", 1),
        )
        .await?;
    let appts = client
        .call(
            "contacts.get-appointments-for-contact",
            CallArgs::new().param("contactId", dup),
        )
        .await?;
    let tasks = client
        .call(
            "contacts.get-all-tasks",
            CallArgs::new().param("contactId", dup),
        )
        .await?;
    let found: Vec<String> = [
        (count(&opps, "opportunities"), "opportunity"),
        (count(&convs, "conversations"), "conversation"),
        (count(&appts, "events"), "appointment"),
        (count(&tasks, "tasks"), "task"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| counted(n as usize, what))
    .collect();
    if found.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "has {}, which the API cannot move to another contact; merge these contacts in HighLevel (Contacts, Merge)",
        found.join(", ")
    )))
}

fn counted(n: usize, one: &str) -> String {
    match (n, one.strip_suffix('y')) {
        (1, _) => format!("1 {one}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {one}s"),
    }
}

/// How many records an answer says there are: its `total` when stated,
/// else the length of its list.
fn count(answer: &Json, list: &str) -> u64 {
    let listed = answer
        .get(list)
        .and_then(Json::as_array)
        .map_or(0, |a| a.len() as u64);
    let total = answer
        .get("total")
        .or_else(|| answer.pointer("/meta/total"))
        .and_then(Json::as_u64);
    total.unwrap_or(0).max(listed)
}

/// Copy the duplicate's notes the kept contact does not have yet.
async fn copy_notes(client: &Client, dup: &str, keep: &str) -> Result<usize, Error> {
    let notes_of = |id: &str| {
        client.call(
            "contacts.get-all-notes",
            CallArgs::new().param("contactId", id.to_string()),
        )
    };
    let theirs = notes_of(dup).await?;
    let ours = notes_of(keep).await?;
    let have: BTreeSet<&str> = notes(&ours).filter_map(note_body).collect();
    let mut copied = 0;
    for note in notes(&theirs) {
        let Some(text) = note_body(note).filter(|b| !have.contains(b)) else {
            continue;
        };
        let mut body = json!({ "body": text });
        if let Some(user) = note.get("userId").and_then(Json::as_str) {
            body["userId"] = json!(user);
        }
        client
            .call(
                "contacts.create-note",
                CallArgs::new().param("contactId", keep).with_body(body),
            )
            .await?;
        copied += 1;
    }
    Ok(copied)
}

fn notes(answer: &Json) -> impl Iterator<Item = &Json> {
    answer
        .get("notes")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
}

fn note_body(note: &Json) -> Option<&str> {
    note.get("body")
        .and_then(Json::as_str)
        .filter(|b| !b.is_empty())
}

fn str_list<'a>(v: &'a Json, key: &str) -> impl Iterator<Item = &'a str> {
    v.get(key)
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
}

fn is_empty(v: Option<&Json>) -> bool {
    match v {
        None | Some(Json::Null) => true,
        Some(Json::String(s)) => s.trim().is_empty(),
        Some(Json::Array(a)) => a.is_empty(),
        Some(Json::Object(o)) => o.is_empty(),
        Some(_) => false,
    }
}

/// The duplicate's custom field values for fields the kept contact has no
/// value in, in the shape the update operation takes.
fn missing_custom_fields(keep: &Json, dup: &Json) -> Vec<Json> {
    let values = |c: &Json| -> BTreeMap<String, Json> {
        c.get("customFields")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let id = f.get("id").and_then(Json::as_str)?;
                let value = f.get("value").or_else(|| f.get("field_value"))?;
                (!is_empty(Some(value))).then(|| (id.to_string(), value.clone()))
            })
            .collect()
    };
    let ours = values(keep);
    values(dup)
        .into_iter()
        .filter(|(id, _)| !ours.contains_key(id))
        .map(|(id, value)| json!({ "id": id, "field_value": value }))
        .collect()
}

fn forget(mirror: &Mirror, id: &str) -> Result<(), Error> {
    crate::apply_event(mirror, &json!({ "type": "ContactDelete", "id": id })).map(|_| ())
}
