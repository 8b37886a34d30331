//! Read-mostly automation and marketing resources: workflows, campaigns,
//! forms and their submissions, courses.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::{Ctx, ok, slice, str_of};
use crate::ids::{new_id, now_iso, parse_iso_ms};
use crate::reply::Reply;
use crate::store;

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    Some(match name {
        "workflows.get-workflow" => {
            all(c, ctx, "workflows").map(|w| (200, json!({"workflows": w})))
        }
        "campaigns.get-campaigns" => all(c, ctx, "campaigns").map(|cs| {
            let cs: Vec<Value> = cs
                .into_iter()
                .filter(|x| ctx.q("status").is_none_or(|s| str_of(x, "status") == s))
                .collect();
            (200, json!({"campaigns": cs}))
        }),
        "forms.get-forms" => forms(c, ctx),
        "forms.get-forms-submissions" => submissions(c, ctx),
        "courses.import-courses" => import_courses(c, ctx),
        _ => return None,
    })
}

fn all(c: &Connection, ctx: &Ctx, coll: &str) -> Result<Vec<Value>, crate::reply::ApiError> {
    Ok(store::doc_list(c, coll, Some(&ctx.location_id), None)?)
}

fn forms(c: &Connection, ctx: &Ctx) -> Reply {
    let forms: Vec<Value> = all(c, ctx, "forms")?
        .into_iter()
        .filter(|f| ctx.q("type").is_none_or(|t| str_of(f, "type") == t))
        .collect();
    let total = forms.len();
    let page = slice(
        forms,
        ctx.q_num("skip").unwrap_or(0),
        ctx.q_num("limit").unwrap_or(10).clamp(1, 50),
    );
    ok(json!({"forms": page, "total": total}))
}

fn submissions(c: &Connection, ctx: &Ctx) -> Reply {
    let q = ctx.q("q").map(str::to_lowercase);
    let from = ctx
        .q("startAt")
        .and_then(|d| parse_iso_ms(&format!("{d}T00:00:00Z")).or_else(|| parse_iso_ms(d)));
    let to = ctx
        .q("endAt")
        .and_then(|d| parse_iso_ms(&format!("{d}T23:59:59Z")).or_else(|| parse_iso_ms(d)));
    let mut subs: Vec<Value> = all(c, ctx, "formSubmissions")?
        .into_iter()
        .filter(|s| ctx.q("formId").is_none_or(|f| str_of(s, "formId") == f))
        .filter(|s| {
            q.as_ref().is_none_or(|q| {
                format!("{} {}", str_of(s, "name"), str_of(s, "email"))
                    .to_lowercase()
                    .contains(q.as_str())
            })
        })
        .filter(|s| {
            let at = parse_iso_ms(str_of(s, "createdAt")).unwrap_or(0);
            from.is_none_or(|f| at >= f) && to.is_none_or(|t| at <= t)
        })
        .collect();
    subs.sort_by_key(|s| std::cmp::Reverse(str_of(s, "createdAt").to_string()));
    let total = subs.len() as i64;
    let limit = ctx.q_num("limit").unwrap_or(20).clamp(1, 100);
    let page = ctx.q_num("page").unwrap_or(1).max(1);
    let items = slice(subs, (page - 1) * limit, limit);
    let next = if page * limit < total {
        json!(page + 1)
    } else {
        Value::Null
    };
    let prev = if page > 1 {
        json!(page - 1)
    } else {
        Value::Null
    };
    ok(
        json!({"submissions": items, "meta": {"total": total, "currentPage": page, "nextPage": next, "prevPage": prev}}),
    )
}

fn import_courses(c: &Connection, ctx: &Ctx) -> Reply {
    let products = ctx
        .b("products")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut ids = Vec::new();
    for p in &products {
        let id = new_id();
        let mut doc = json!({"id": id, "locationId": ctx.location_id, "importedAt": now_iso()});
        super::merge(&mut doc, p);
        store::doc_put(c, "courses", &id, Some(&ctx.location_id), None, &doc)?;
        ids.push(id);
    }
    ok(json!({"success": true, "imported": ids.len(), "ids": ids}))
}
