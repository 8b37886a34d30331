//! `ghl contacts import`: read, map and check every row before anything is
//! sent, journal the plan, then upsert the rows at the rate ceiling.
//!
//! Created or updated: a real run reads HighLevel's own answer to each
//! upsert (`new: true|false`); `--dry-run` asks HighLevel's duplicate
//! lookup (`contacts.get-duplicate-contact`, email then phone, the match
//! upsert uses) for each row, which is a read and changes nothing.

use std::collections::HashMap;

use ghl_core::custom_fields::Resolver;
use ghl_core::{Client, Error};
use serde_json::Value;

use crate::action;
use crate::contact_row::{self, RowOptions};
use crate::input::Input;
use crate::journal::{NewRow, State};
use crate::mapping::Mapping;

/// The checked plan for one file, before anything is sent.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub rows: Vec<NewRow>,
    /// Columns that fill nothing (told to the user, not an error).
    pub ignored_headers: Vec<String>,
}

impl Plan {
    pub fn count(&self, state: State) -> usize {
        self.rows.iter().filter(|r| r.state == state).count()
    }
}

/// The location's custom fields, for mapping columns by key or name.
pub async fn mapping(client: &Client, location: &str, maps: &[String]) -> Result<Mapping, Error> {
    let fields = Resolver::new().fields(client, location).await?;
    Mapping::new(maps, (*fields).clone()).map_err(Error::validation)
}

/// Check every record: refused with a reason, skipped as a repeat of an
/// earlier row (same email, or same phone without email), or pending.
pub fn plan(input: &Input, mapping: &Mapping, opts: &RowOptions) -> Plan {
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rows = Vec::with_capacity(input.records.len());
    for rec in &input.records {
        let built = match &rec.fields {
            Ok(fields) => contact_row::build(fields, mapping, opts),
            Err(why) => Err(contact_row::Refusal::new("malformed_row", why.clone())),
        };
        let row = match built {
            Ok(c) => {
                let key = c.match_key();
                let payload = Value::Object(c.body).to_string();
                match seen.get(&key) {
                    Some(first) => NewRow {
                        row: rec.row,
                        line: rec.line,
                        match_key: key,
                        payload,
                        state: State::Skipped,
                        code: Some("duplicate_in_file".into()),
                        message: Some(format!("same contact as row {first}")),
                    },
                    None => {
                        seen.insert(key.clone(), rec.row);
                        NewRow {
                            row: rec.row,
                            line: rec.line,
                            match_key: key,
                            payload,
                            state: State::Pending,
                            code: None,
                            message: None,
                        }
                    }
                }
            }
            Err(refusal) => NewRow {
                row: rec.row,
                line: rec.line,
                match_key: String::new(),
                payload: "{}".into(),
                state: State::Refused,
                code: Some(refusal.code.into()),
                message: Some(refusal.message),
            },
        };
        rows.push(row);
    }
    Plan {
        ignored_headers: mapping.ignored(&input.headers),
        rows,
    }
}

/// `--dry-run`: for each row that would be sent, whether HighLevel holds a
/// contact it would match (updated) or not (created). Reads only.
pub async fn would_create_or_update(
    client: &Client,
    location: &str,
    plan: &Plan,
    concurrency: usize,
    progress: &indicatif::ProgressBar,
) -> Result<(u64, u64), Error> {
    use futures::StreamExt;
    let mut policy = client.policy().clone();
    policy.dry_run = false;
    policy.read_only = true;
    let reader = client.with_policy(policy);
    let lookups = plan
        .rows
        .iter()
        .filter(|r| r.state == State::Pending)
        .map(|r| {
            let reader = reader.clone();
            let (email, phone) = match r.match_key.split_once(':') {
                Some(("email", e)) => (Some(e.to_string()), None),
                Some(("phone", p)) => (None, Some(p.to_string())),
                _ => (None, None),
            };
            async move {
                action::find_duplicate(&reader, location, email.as_deref(), phone.as_deref())
                    .await
                    .map(|found| found.is_some())
            }
        });
    let mut stream = futures::stream::iter(lookups).buffer_unordered(concurrency.max(1));
    let (mut created, mut updated) = (0, 0);
    while let Some(found) = stream.next().await {
        if found? {
            updated += 1;
        } else {
            created += 1;
        }
        progress.inc(1);
    }
    Ok((created, updated))
}
