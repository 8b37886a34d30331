//! The fallback for every catalog operation that is not modelled: a document
//! store keyed by the resource's collection path, so calls still behave
//! plausibly (create, read back, update, delete, list).
//!
//! The collection is derived from the concrete request path: a path whose
//! template ends in a placeholder names a document (`.../{id}`) in the
//! collection before it; any other path is the collection itself.

use ghl_catalog::Method;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::ids::{new_id, now_iso};
use crate::reply::{ApiError, Reply};
use crate::routes::{Ctx, created, merge, ok, slice};
use crate::store;

/// Last segments that make a POST a query rather than a create.
const QUERY_WORDS: [&str; 5] = ["search", "list", "filter", "query", "lookup"];

/// Last segments of a GET that lists the collection before them
/// (`GET /blogs/posts/all` lists what `POST /blogs/posts` created).
const LIST_WORDS: [&str; 4] = ["all", "list", "search", "filter"];

/// Query parameters that page, sort or scope a listing rather than filter
/// on a field of the documents.
const NOT_FILTERS: [&str; 12] = [
    "limit",
    "offset",
    "skip",
    "page",
    "pageLimit",
    "locationId",
    "altId",
    "altType",
    "sortBy",
    "sortOrder",
    "sortField",
    "order",
];

/// Parameters that search the documents' text.
const TEXT_SEARCH: [&str; 3] = ["searchTerm", "search", "query"];

fn camel(seg: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for ch in seg.chars() {
        if ch == '-' || ch == '_' || ch == '.' {
            up = true;
        } else if up {
            out.extend(ch.to_uppercase());
            up = false;
        } else {
            out.push(ch);
        }
    }
    if out.is_empty() { "items".into() } else { out }
}

/// The key a listing goes under: the last literal segment of the collection.
fn list_key(coll_path: &str, template: &str) -> String {
    let tpl: Vec<&str> = template.split('/').filter(|s| !s.is_empty()).collect();
    let n = coll_path.split('/').filter(|s| !s.is_empty()).count();
    tpl.iter()
        .take(n)
        .rev()
        .find(|s| !s.starts_with('{'))
        .map(|s| camel(s))
        .unwrap_or_else(|| "items".into())
}

pub fn handle(c: &Connection, ctx: &Ctx) -> Reply {
    if let Some(r) = special(ctx) {
        return r;
    }
    let template = ctx.op.path.as_str();
    let ends_with_param = template
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .is_some_and(|s| s.starts_with('{'));
    let concrete = ctx.raw_path.trim_end_matches('/');
    let (coll_path, id) = if ends_with_param {
        match concrete.rsplit_once('/') {
            Some((coll, id)) => (coll.to_string(), Some(crate::router::decode(id))),
            None => (concrete.to_string(), None),
        }
    } else {
        (concrete.to_string(), None)
    };
    let coll = format!("g:{coll_path}");
    let loc = ctx.location_id.as_str();

    match (ctx.op.method, id) {
        (Method::Get, Some(id)) => {
            let doc = store::doc_get(c, &coll, &id)?.ok_or_else(ApiError::not_found)?;
            ok(doc)
        }
        (Method::Get, None) => {
            let (parent, last) = coll_path
                .rsplit_once('/')
                .unwrap_or(("", coll_path.as_str()));
            if LIST_WORDS.iter().any(|w| last.eq_ignore_ascii_case(w)) && !parent.is_empty() {
                return list(c, ctx, &format!("g:{parent}"), parent);
            }
            list(c, ctx, &coll, &coll_path)
        }
        (Method::Post, None) => {
            let last = coll_path.rsplit('/').next().unwrap_or("");
            if QUERY_WORDS.iter().any(|w| last.eq_ignore_ascii_case(w)) {
                let parent = coll_path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                return list(c, ctx, &format!("g:{parent}"), parent);
            }
            let id = new_id();
            let now = now_iso();
            let mut doc =
                json!({"id": id, "_id": id, "locationId": loc, "createdAt": now, "updatedAt": now});
            merge(&mut doc, &ctx.body);
            store::doc_put(c, &coll, &id, Some(loc), None, &doc)?;
            let mut out = json!({"success": true});
            merge(&mut out, &doc);
            created(out)
        }
        (Method::Post, Some(id)) => {
            // An action on one resource: remember what was sent to it.
            let mut doc = store::doc_get(c, &coll, &id)?.unwrap_or_else(
                || json!({"id": id, "_id": id, "locationId": loc, "createdAt": now_iso()}),
            );
            merge(&mut doc, &ctx.body);
            doc["updatedAt"] = json!(now_iso());
            store::doc_put(c, &coll, &id, Some(loc), None, &doc)?;
            let mut out = json!({"success": true});
            merge(&mut out, &doc);
            ok(out)
        }
        (Method::Put | Method::Patch, Some(id)) => {
            let mut doc = store::doc_get(c, &coll, &id)?.ok_or_else(ApiError::not_found)?;
            merge(&mut doc, &ctx.body);
            doc["updatedAt"] = json!(now_iso());
            store::doc_put(c, &coll, &id, Some(loc), None, &doc)?;
            ok(doc)
        }
        (Method::Put | Method::Patch, None) => {
            // A singleton resource (settings and the like), created on first write.
            let mut doc =
                store::doc_get(c, &coll, "_")?.unwrap_or_else(|| json!({"locationId": loc}));
            merge(&mut doc, &ctx.body);
            doc["updatedAt"] = json!(now_iso());
            store::doc_put(c, &coll, "_", Some(loc), None, &doc)?;
            let mut out = json!({"success": true});
            merge(&mut out, &doc);
            ok(out)
        }
        (Method::Delete, Some(id)) => {
            if !store::doc_delete(c, &coll, &id)? {
                return Err(ApiError::not_found());
            }
            ok(json!({"success": true, "succeeded": true, "id": id}))
        }
        (Method::Delete, None) => ok(json!({"success": true, "succeeded": true})),
    }
}

fn list(c: &Connection, ctx: &Ctx, coll: &str, coll_path: &str) -> Reply {
    let docs: Vec<Value> = store::doc_list(c, coll, None, None)?
        .into_iter()
        .filter(|d| d.get("id").is_some())
        .filter(|d| matches_query(d, ctx))
        .collect();
    let total = docs.len();
    let offset = ctx
        .q_num("offset")
        .or_else(|| ctx.q_num("skip"))
        .unwrap_or(0);
    let limit = ctx.q_num("limit").unwrap_or(0);
    let page = slice(docs, offset, limit);
    let key = list_key(coll_path, &ctx.op.path);
    ok(json!({ key: page, "total": total, "count": total }))
}

/// A document kept by a listing's filters: each query parameter naming a
/// field of the document must equal it; a text search must occur in it.
fn matches_query(doc: &Value, ctx: &Ctx) -> bool {
    ctx.query.0.iter().all(|(k, v)| {
        if v.is_empty() || NOT_FILTERS.contains(&k.as_str()) {
            return true;
        }
        if TEXT_SEARCH.contains(&k.as_str()) {
            return doc
                .to_string()
                .to_ascii_lowercase()
                .contains(&v.to_ascii_lowercase());
        }
        match doc.get(k) {
            Some(Value::String(s)) => s.eq_ignore_ascii_case(v),
            Some(Value::Number(n)) => n.to_string() == *v,
            Some(Value::Bool(b)) => b.to_string() == *v,
            // Not a field of the documents: not a filter we can judge.
            _ => true,
        }
    })
}

/// Operations whose generic answer would be useless to a client.
fn special(ctx: &Ctx) -> Option<Reply> {
    match crate::router::model_name(ctx.op) {
        "oauth.get-access-token"
        | "oauth.get-location-access-token"
        | "oauth-v3.get-access-token"
        | "oauth-v3.get-location-access-token" => Some(ok(json!({
            "access_token": crate::DEFAULT_TOKEN,
            "token_type": "Bearer",
            "expires_in": 86399,
            "refresh_token": format!("sandbox-refresh-{}", new_id()),
            "scope": crate::all_scopes().join(" "),
            "userType": "Location",
            "locationId": ctx.location_id,
            "companyId": "SbxDemoCompany0000001",
        }))),
        _ => None,
    }
}
