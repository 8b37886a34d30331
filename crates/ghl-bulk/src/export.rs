//! `ghl contacts export` / `ghl opportunities export`: every page streamed
//! to the writer as it arrives, custom fields as columns by key, in the
//! headers `ghl contacts import` maps back.

use std::io::Write;

use ghl_core::custom_fields::FieldSet;
use ghl_core::{CallArgs, Client, Error, ErrorCode, PageOpts};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Contacts,
    Opportunities,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Csv,
    Jsonl,
}

impl Kind {
    fn operation(self) -> &'static str {
        match self {
            Kind::Contacts => "contacts.search-contacts-advanced",
            Kind::Opportunities => "opportunities.search-opportunity",
        }
    }
    fn model(self) -> &'static str {
        match self {
            Kind::Contacts => "contact",
            Kind::Opportunities => "opportunity",
        }
    }
    /// Column header and the record's JSON pointer.
    fn columns(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Contacts => &[
                ("Id", "/id"),
                ("First Name", "/firstName"),
                ("Last Name", "/lastName"),
                ("Email", "/email"),
                ("Phone", "/phone"),
                ("Company Name", "/companyName"),
                ("Tags", "/tags"),
                ("Source", "/source"),
                ("Address", "/address1"),
                ("City", "/city"),
                ("State", "/state"),
                ("Postal Code", "/postalCode"),
                ("Country", "/country"),
                ("Website", "/website"),
                ("Timezone", "/timezone"),
                ("Date Added", "/dateAdded"),
                ("Date Updated", "/dateUpdated"),
            ],
            Kind::Opportunities => &[
                ("Id", "/id"),
                ("Name", "/name"),
                ("Status", "/status"),
                ("Pipeline Id", "/pipelineId"),
                ("Stage Id", "/pipelineStageId"),
                ("Monetary Value", "/monetaryValue"),
                ("Contact Id", "/contactId"),
                ("Contact Email", "/contact/email"),
                ("Contact Name", "/contact/name"),
                ("Assigned To", "/assignedTo"),
                ("Source", "/source"),
                ("Created At", "/createdAt"),
                ("Updated At", "/updatedAt"),
            ],
        }
    }
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::Validation,
        format!("cannot write the export: {e}"),
    )
}

/// Stream every record of `kind` matching `query` in `location` to `out`;
/// the number written. `with_location` adds a Location Id column (a run
/// across sub-accounts); `header` writes the CSV header (the first location).
#[allow(clippy::too_many_arguments)]
pub async fn export(
    client: &Client,
    kind: Kind,
    location: &str,
    query: Option<&str>,
    shape: Shape,
    with_location: bool,
    header: bool,
    out: &mut dyn Write,
) -> Result<u64, Error> {
    // HighLevel lists contact fields unless asked for another model.
    let fields = client
        .call(
            ghl_core::custom_fields::LIST_OPERATION,
            CallArgs::new()
                .param("locationId", location)
                .param("model", kind.model()),
        )
        .await
        .map(|body| FieldSet::from_body(&body))?;
    let customs: Vec<_> = fields
        .fields
        .iter()
        .filter(|f| f.model.as_deref().is_none_or(|m| m == kind.model()))
        .filter(|f| f.key.starts_with(&format!("{}.", kind.model())))
        .cloned()
        .collect();
    let mut args = CallArgs::new();
    match kind {
        Kind::Contacts => {
            let mut body = json!({"locationId": location});
            if let Some(q) = query {
                body["query"] = json!(q);
            }
            args = args.with_body(body);
        }
        Kind::Opportunities => {
            args.set("location_id", location);
            if let Some(q) = query {
                args.set("q", q);
            }
        }
    }
    let csv_out = shape == Shape::Csv;
    if csv_out && header {
        let mut h: Vec<String> = Vec::new();
        if with_location {
            h.push("Location Id".into());
        }
        h.extend(kind.columns().iter().map(|(c, _)| c.to_string()));
        h.extend(customs.iter().map(|f| f.key.clone()));
        out.write_all(&csv_line(&h)?).map_err(io)?;
    }
    let mut written = 0u64;
    let opts = PageOpts {
        all: true,
        page_size: Some(100),
        ..PageOpts::default()
    };
    let set = FieldSet {
        fields: customs.clone(),
    };
    client
        .walk(kind.operation(), args, opts, |page| {
            for rec in page.records {
                let by_key = custom_values(&rec, &set);
                match csv_out {
                    true => {
                        let mut row: Vec<String> = Vec::new();
                        if with_location {
                            row.push(location.to_string());
                        }
                        row.extend(kind.columns().iter().map(|(_, p)| cell(rec.pointer(p))));
                        row.extend(customs.iter().map(|f| cell(by_key.get(&f.key))));
                        out.write_all(&csv_line(&row)?).map_err(io)?;
                    }
                    false => {
                        let mut rec = rec;
                        if let Value::Object(m) = &mut rec {
                            m.insert("customFields".into(), Value::Object(by_key));
                            if with_location {
                                m.entry("locationId").or_insert(json!(location));
                            }
                        }
                        writeln!(out, "{rec}").map_err(io)?;
                    }
                }
                written += 1;
            }
            out.flush().map_err(io)
        })
        .await?;
    out.flush().map_err(io)?;
    Ok(written)
}

fn csv_line(cells: &[String]) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells).map_err(io)?;
    w.into_inner().map_err(io)
}

/// `customFields: [{id, value}]` as `{key: value}`.
fn custom_values(rec: &Value, set: &FieldSet) -> Map<String, Value> {
    let mut out = Map::new();
    let items = rec
        .get("customFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for it in items {
        let Some(id) = it.get("id").and_then(Value::as_str) else {
            continue;
        };
        let value = it
            .get("value")
            .or_else(|| it.get("fieldValue"))
            .or_else(|| it.get("field_value"))
            .cloned()
            .unwrap_or(Value::Null);
        let key = set
            .by_id(id)
            .map(|f| f.key.clone())
            .unwrap_or_else(|| id.to_string());
        out.insert(key, value);
    }
    out
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}
