//! The location itself and its custom fields, custom values and tags.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::{Ctx, created, merge, ok, owned};
use crate::ids::{new_id, now_iso};
use crate::reply::{ApiError, Reply};
use crate::store;

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    Some(match name {
        "locations.get-location" => {
            owned(c, ctx, "locations", ctx.p("locationId")).map(|l| (200, json!({"location": l})))
        }
        "locations.put-location" => put_location(c, ctx),
        "locations.get-custom-fields" | "custom-fields.get-custom-fields" => {
            list(c, ctx, "customFields")
        }
        "locations.get-custom-field" => one(c, ctx, "customFields", "customField", "id"),
        "locations.create-custom-field" => create(c, ctx, "customFields", "customField"),
        "locations.update-custom-field" => update(c, ctx, "customFields", "customField", "id"),
        "locations.delete-custom-field" => delete(c, ctx, "customFields", "id"),
        "locations.get-custom-values" => list(c, ctx, "customValues"),
        "locations.get-custom-value" => one(c, ctx, "customValues", "customValue", "id"),
        "locations.create-custom-value" => create(c, ctx, "customValues", "customValue"),
        "locations.update-custom-value" => update(c, ctx, "customValues", "customValue", "id"),
        "locations.delete-custom-value" => delete(c, ctx, "customValues", "id"),
        "locations.get-location-tags" => list(c, ctx, "tags"),
        "locations.get-tag-by-id" => one(c, ctx, "tags", "tag", "tagId"),
        "locations.create-tag" => create(c, ctx, "tags", "tag"),
        "locations.update-tag" => update(c, ctx, "tags", "tag", "tagId"),
        "locations.delete-tag" => delete(c, ctx, "tags", "tagId"),
        _ => return None,
    })
}

fn put_location(c: &Connection, ctx: &Ctx) -> Reply {
    let mut loc = owned(c, ctx, "locations", ctx.p("locationId"))?;
    merge(&mut loc, &ctx.body);
    loc["id"] = json!(ctx.location_id);
    store::doc_put(
        c,
        "locations",
        &ctx.location_id,
        Some(&ctx.location_id),
        None,
        &loc,
    )?;
    ok(json!({"location": loc}))
}

fn list(c: &Connection, ctx: &Ctx, coll: &str) -> Reply {
    let mut items = store::doc_list(c, coll, Some(&ctx.location_id), None)?;
    if coll == "customFields"
        && let Some(model) = ctx.q("model").filter(|m| *m != "all")
    {
        items.retain(|f| f.get("model").and_then(Value::as_str).unwrap_or("contact") == model);
    }
    ok(json!({ coll: items }))
}

fn one(c: &Connection, ctx: &Ctx, coll: &str, key: &str, id_param: &str) -> Reply {
    let doc = owned(c, ctx, coll, ctx.p(id_param))?;
    ok(json!({ key: doc }))
}

/// `Lead Source` → `lead_source`.
pub fn field_key(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
        .collect()
}

fn create(c: &Connection, ctx: &Ctx, coll: &str, key: &str) -> Reply {
    let name = ctx.b_str("name").unwrap_or("");
    let existing = store::doc_list(c, coll, Some(&ctx.location_id), None)?;
    if existing
        .iter()
        .any(|d| d.get("name").and_then(Value::as_str) == Some(name))
    {
        return Err(ApiError::bad(format!(
            "A {key} named `{name}` already exists"
        )));
    }
    let id = new_id();
    let mut doc = json!({"id": id, "name": name, "locationId": ctx.location_id});
    match coll {
        "customFields" => {
            let model = ctx.b_str("model").unwrap_or("contact");
            doc["fieldKey"] = json!(format!("{model}.{}", field_key(name)));
            doc["model"] = json!(model);
            doc["position"] = json!(existing.len() * 50);
            doc["dateAdded"] = json!(now_iso());
        }
        "customValues" => {
            doc["fieldKey"] = json!(format!("{{{{ custom_values.{} }}}}", field_key(name)))
        }
        _ => {}
    }
    merge(&mut doc, &ctx.body);
    store::doc_put(c, coll, &id, Some(&ctx.location_id), None, &doc)?;
    created(json!({ key: doc }))
}

fn update(c: &Connection, ctx: &Ctx, coll: &str, key: &str, id_param: &str) -> Reply {
    let id = ctx.p(id_param);
    let mut doc = owned(c, ctx, coll, id)?;
    merge(&mut doc, &ctx.body);
    doc["id"] = json!(id);
    store::doc_put(c, coll, id, Some(&ctx.location_id), None, &doc)?;
    ok(json!({ key: doc }))
}

fn delete(c: &Connection, ctx: &Ctx, coll: &str, id_param: &str) -> Reply {
    owned(c, ctx, coll, ctx.p(id_param))?;
    store::doc_delete(c, coll, ctx.p(id_param))?;
    ok(json!({"succeded": true}))
}
