//! Pipelines (with stages) and opportunities: CRUD, status, stage moves,
//! search with both of HighLevel's paginations.

use rusqlite::Connection;
use serde_json::{Value, json};

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
    let mut items: Vec<Value> = store::doc_list(c, "opportunities", Some(&ctx.location_id), None)?
        .into_iter()
        .filter(|o| {
            pipeline
                .as_ref()
                .is_none_or(|p| str_of(o, "pipelineId") == p)
        })
        .filter(|o| {
            stage
                .as_ref()
                .is_none_or(|s| str_of(o, "pipelineStageId") == s)
        })
        .filter(|o| status.as_ref().is_none_or(|s| str_of(o, "status") == s))
        .filter(|o| contact.as_ref().is_none_or(|s| str_of(o, "contactId") == s))
        .filter(|o| {
            assigned
                .as_ref()
                .is_none_or(|s| str_of(o, "assignedTo") == s)
        })
        .filter(|o| {
            text.as_ref().is_none_or(|t| {
                format!(
                    "{} {} {}",
                    str_of(o, "name"),
                    o["contact"]["name"].as_str().unwrap_or(""),
                    o["contact"]["email"].as_str().unwrap_or("")
                )
                .to_lowercase()
                .contains(t.as_str())
            })
        })
        .collect();
    let key = |o: &Value| {
        (
            parse_iso_ms(str_of(o, "createdAt")).unwrap_or(0),
            str_of(o, "id").to_string(),
        )
    };
    // Newest first, as HighLevel's default `added_desc`.
    items.sort_by_key(|o| std::cmp::Reverse(key(o)));
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
    let (start, current) = match (&after_id, page) {
        (Some(id), _) => (
            items
                .iter()
                .position(|o| str_of(o, "id") == id)
                .map(|i| i + 1)
                .unwrap_or(items.len()),
            1,
        ),
        (None, Some(p)) if p >= 1 => (((p - 1) as usize) * limit, p),
        _ => (0, 1),
    };
    let page_items: Vec<Value> = items.iter().skip(start).take(limit).cloned().collect();
    let more = start + page_items.len() < total;
    let last = page_items.last().map(key);
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
            let k = key(&o);
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
