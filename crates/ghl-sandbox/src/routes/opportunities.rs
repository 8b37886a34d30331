//! Pipelines (with stages) and opportunities: CRUD, status, stage moves,
//! search with both of HighLevel's paginations.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::contacts::SEARCH_WINDOW;
use super::{Ctx, created, merge, ok, owned, str_of};
use crate::contact_store as cs;
use crate::ids::{new_id, now_iso, parse_iso_ms};
use crate::reply::{ApiError, Reply};
use crate::store;

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    Some(match name {
        "opportunities.get-pipelines" => {
            store::doc_list(c, "pipelines", Some(&ctx.location_id), None)
                .map_err(Into::into)
                .map(|p| (200, json!({"pipelines": p})))
        }
        "opportunities.get-opportunity" => {
            owned(c, ctx, "opportunities", ctx.p("id")).map(|o| (200, json!({"opportunity": o})))
        }
        "opportunities.create-opportunity" => create(c, ctx),
        "opportunities.update-opportunity" => update(c, ctx),
        "opportunities.update-opportunity-status" => {
            update(c, ctx).map(|_| (200, json!({"succeded": true})))
        }
        "opportunities.delete-opportunity" => {
            owned(c, ctx, "opportunities", ctx.p("id")).and_then(|_| {
                store::doc_delete(c, "opportunities", ctx.p("id"))?;
                ok(json!({"succeded": true}))
            })
        }
        "opportunities.upsert-opportunity" => upsert(c, ctx),
        "opportunities.search-opportunity" => search(c, ctx, false),
        "opportunities.search-opportunities-advanced" => search(c, ctx, true),
        _ => return None,
    })
}

fn check_stage(
    c: &Connection,
    ctx: &Ctx,
    pipeline_id: &str,
    stage_id: Option<&str>,
) -> Result<String, ApiError> {
    let p = store::doc_get(c, "pipelines", pipeline_id)?
        .filter(|p| str_of(p, "locationId") == ctx.location_id)
        .ok_or_else(|| ApiError::bad("Pipeline not found"))?;
    let stages = p["stages"].as_array().cloned().unwrap_or_default();
    match stage_id {
        Some(s) if stages.iter().any(|st| str_of(st, "id") == s) => Ok(s.to_string()),
        Some(_) => Err(ApiError::bad(
            "Pipeline stage does not belong to the pipeline",
        )),
        None => stages
            .first()
            .map(|st| str_of(st, "id").to_string())
            .ok_or_else(|| ApiError::bad("Pipeline has no stages")),
    }
}

pub fn contact_summary(ct: &Value) -> Value {
    json!({
        "id": str_of(ct, "id"), "name": str_of(ct, "name"), "companyName": str_of(ct, "companyName"),
        "email": str_of(ct, "email"), "phone": str_of(ct, "phone"), "tags": ct.get("tags").cloned().unwrap_or(json!([])),
    })
}

fn create(c: &Connection, ctx: &Ctx) -> Reply {
    check_status(ctx)?;
    let contact_id = ctx.b_str("contactId").unwrap_or("");
    let ct = cs::get(c, contact_id)?
        .filter(|ct| str_of(ct, "locationId") == ctx.location_id)
        .ok_or_else(|| ApiError::bad("Contact not found"))?;
    let pipeline = ctx.b_str("pipelineId").unwrap_or("");
    let stage = check_stage(c, ctx, pipeline, ctx.b_str("pipelineStageId"))?;
    let id = new_id();
    let now = now_iso();
    let mut o = json!({
        "id": id, "name": "", "monetaryValue": 0, "pipelineId": pipeline, "pipelineStageId": stage,
        "assignedTo": "", "status": "open", "source": "api", "lastStatusChangeAt": now,
        "lastStageChangeAt": now, "lastActionDate": now, "indexVersion": "1", "createdAt": now,
        "updatedAt": now, "contactId": contact_id, "locationId": ctx.location_id, "customFields": [],
        "followers": [],
    });
    merge(&mut o, &ctx.body);
    o["pipelineStageId"] = json!(stage);
    o["contact"] = contact_summary(&ct);
    store::doc_put(c, "opportunities", &id, Some(&ctx.location_id), None, &o)?;
    created(json!({"opportunity": o}))
}

/// A deal's status is open, won, lost or abandoned; `all` only filters a
/// search, and HighLevel refuses it (and anything else) on a write.
fn check_status(ctx: &Ctx) -> Result<(), ApiError> {
    const STATUS: [&str; 4] = ["open", "won", "lost", "abandoned"];
    match ctx.b("status") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if STATUS.contains(&s.as_str()) => Ok(()),
        Some(_) => Err(ApiError::invalid(vec![format!(
            "status must be one of the following values: {}",
            STATUS.join(", ")
        )])),
    }
}

fn apply_update(c: &Connection, ctx: &Ctx, o: &mut Value) -> Result<(), ApiError> {
    check_status(ctx)?;
    let now = now_iso();
    let pipeline = ctx
        .b_str("pipelineId")
        .unwrap_or(str_of(o, "pipelineId"))
        .to_string();
    if ctx.b("pipelineId").is_some() || ctx.b("pipelineStageId").is_some() {
        let stage = check_stage(
            c,
            ctx,
            &pipeline,
            ctx.b_str("pipelineStageId")
                .or(Some(str_of(o, "pipelineStageId"))),
        )?;
        if stage != str_of(o, "pipelineStageId") {
            o["lastStageChangeAt"] = json!(now);
        }
    }
    if let Some(s) = ctx.b_str("status")
        && s != str_of(o, "status")
    {
        o["lastStatusChangeAt"] = json!(now);
    }
    merge(o, &ctx.body);
    o["updatedAt"] = json!(now);
    o["lastActionDate"] = json!(now);
    Ok(())
}

fn update(c: &Connection, ctx: &Ctx) -> Reply {
    let id = ctx.p("id");
    let mut o = owned(c, ctx, "opportunities", id)?;
    apply_update(c, ctx, &mut o)?;
    o["id"] = json!(id);
    store::doc_put(c, "opportunities", id, Some(&ctx.location_id), None, &o)?;
    ok(json!({"opportunity": o}))
}

fn upsert(c: &Connection, ctx: &Ctx) -> Reply {
    let existing = match ctx.b_str("id") {
        Some(id) => store::doc_get(c, "opportunities", id)?,
        None => store::doc_list(c, "opportunities", Some(&ctx.location_id), None)?
            .into_iter()
            .find(|o| {
                ctx.b_str("contactId")
                    .is_some_and(|cid| str_of(o, "contactId") == cid)
                    && str_of(o, "pipelineId") == ctx.b_str("pipelineId").unwrap_or("")
            }),
    };
    match existing {
        Some(mut o) => {
            apply_update(c, ctx, &mut o)?;
            let id = str_of(&o, "id").to_string();
            store::doc_put(c, "opportunities", &id, Some(&ctx.location_id), None, &o)?;
            ok(json!({"opportunity": o, "new": false}))
        }
        None => create(c, ctx)
            .map(|(_, v)| (200, json!({"opportunity": v["opportunity"], "new": true}))),
    }
}

fn search(c: &Connection, ctx: &Ctx, advanced: bool) -> Reply {
    let get = |q: &str, b: &str| -> Option<String> {
        if advanced {
            ctx.b(b).and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| v.as_f64().map(|f| f.to_string()))
            })
        } else {
            ctx.q(q).map(str::to_string)
        }
    };
    let text = get("q", "query")
        .map(|s| s.to_lowercase())
        .filter(|s| !s.is_empty());
    let pipeline = get("pipeline_id", "pipelineId");
    let stage = get("pipeline_stage_id", "pipelineStageId");
    let status = get("status", "status").filter(|s| s != "all");
    let contact = get("contact_id", "contactId");
    let assigned = get("assigned_to", "assignedTo");
    // The fields the filters and the order use, read by SQLite: parsing
    // every document for each page made deep walks crawl.
    let mut items: Vec<Candidate> = candidates(c, &ctx.location_id)?
        .into_iter()
        .filter(|o| pipeline.as_ref().is_none_or(|p| o.pipeline == *p))
        .filter(|o| stage.as_ref().is_none_or(|s| o.stage == *s))
        .filter(|o| status.as_ref().is_none_or(|s| o.status == *s))
        .filter(|o| contact.as_ref().is_none_or(|s| o.contact == *s))
        .filter(|o| assigned.as_ref().is_none_or(|s| o.assigned == *s))
        .filter(|o| {
            text.as_ref()
                .is_none_or(|t| o.text.to_lowercase().contains(t.as_str()))
        })
        .collect();
    let key = |o: &Candidate| (o.created_ms, o.id.clone());
    // Newest first, as HighLevel's default `added_desc`.
    items.sort_by_cached_key(|o| std::cmp::Reverse(key(o)));
    if ctx.q("order") == Some("added_asc") {
        items.reverse();
    }
    let total = items.len();
    let limit = if advanced {
        ctx.b_num("limit").map(|f| f as i64)
    } else {
        ctx.q_num("limit")
    }
    .unwrap_or(20)
    .clamp(1, 100) as usize;
    let page = if advanced {
        ctx.b_num("page").map(|f| f as i64)
    } else {
        ctx.q_num("page")
    };
    let after_id = if advanced {
        ctx.b("searchAfter")
            .and_then(Value::as_array)
            .and_then(|a| a.get(1))
            .and_then(Value::as_str)
            .map(str::to_string)
    } else {
        ctx.q("startAfterId").map(str::to_string)
    };
    // Numbered pages of the POST search reach the first 10,000 records;
    // deeper ones need `searchAfter`, as on HighLevel.
    if advanced
        && after_id.is_none()
        && (page.unwrap_or(1).max(1) as u64) * (limit as u64) > SEARCH_WINDOW
    {
        return Err(ApiError::invalid(vec![format!(
            "page * limit must not be greater than {SEARCH_WINDOW}: use searchAfter to go further"
        )]));
    }
    let (start, current) = match (&after_id, page) {
        (Some(id), _) => (
            items
                .iter()
                .position(|o| o.id == *id)
                .map(|i| i + 1)
                .unwrap_or(items.len()),
            1,
        ),
        (None, Some(p)) if p >= 1 => (((p - 1) as usize) * limit, p),
        _ => (0, 1),
    };
    let page_keys: Vec<&Candidate> = items.iter().skip(start).take(limit).collect();
    let more = start + page_keys.len() < total;
    let last = page_keys.last().map(|o| key(o));
    let mut page_items = Vec::with_capacity(page_keys.len());
    for o in &page_keys {
        if let Some(doc) = store::doc_get(c, "opportunities", &o.id)? {
            page_items.push(doc);
        }
    }
    let next_url = match (&last, more) {
        (Some((ms, id)), true) => json!(format!(
            "{}/opportunities/search?location_id={}&startAfter={ms}&startAfterId={id}&limit={limit}",
            ctx.base_url, ctx.location_id
        )),
        _ => Value::Null,
    };
    let opportunities: Vec<Value> = page_items
        .into_iter()
        .map(|mut o| {
            let k = (
                parse_iso_ms(str_of(&o, "createdAt")).unwrap_or(0),
                str_of(&o, "id").to_string(),
            );
            if advanced {
                o["searchAfter"] = json!([k.0, k.1]);
            }
            o
        })
        .collect();
    ok(json!({
        "opportunities": opportunities,
        "meta": {
            "total": total,
            "nextPageUrl": next_url,
            "startAfterId": last.as_ref().map(|l| l.1.clone()),
            "startAfter": last.as_ref().map(|l| l.0),
            "currentPage": current,
            "nextPage": if more { json!(current + 1) } else { Value::Null },
            "prevPage": if current > 1 { json!(current - 1) } else { Value::Null },
        },
        "aggregations": {},
    }))
}

/// What the search filters and orders an opportunity by.
struct Candidate {
    id: String,
    created_ms: i64,
    pipeline: String,
    stage: String,
    status: String,
    contact: String,
    assigned: String,
    /// Name, contact name and contact email, for `query`.
    text: String,
}

fn candidates(c: &Connection, location: &str) -> rusqlite::Result<Vec<Candidate>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, json_extract(data, '$.createdAt'), json_extract(data, '$.pipelineId'),
                json_extract(data, '$.pipelineStageId'), json_extract(data, '$.status'),
                json_extract(data, '$.contactId'), json_extract(data, '$.assignedTo'),
                json_extract(data, '$.name'), json_extract(data, '$.contact.name'),
                json_extract(data, '$.contact.email')
         FROM docs WHERE coll = 'opportunities' AND location_id = ?1 ORDER BY seq, id",
    )?;
    // A field that is not a string counts as empty, as `str_of` reads it.
    let text = |r: &rusqlite::Row, i: usize| -> String {
        match r.get_ref(i) {
            Ok(rusqlite::types::ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
            _ => String::new(),
        }
    };
    let rows = stmt.query_map([location], |r| {
        Ok(Candidate {
            id: text(r, 0),
            created_ms: parse_iso_ms(&text(r, 1)).unwrap_or(0),
            pipeline: text(r, 2),
            stage: text(r, 3),
            status: text(r, 4),
            contact: text(r, 5),
            assigned: text(r, 6),
            text: format!("{} {} {}", text(r, 7), text(r, 8), text(r, 9)),
        })
    })?;
    rows.collect()
}
