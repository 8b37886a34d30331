//! Products and their prices.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::{Ctx, created, merge, ok, owned, slice, str_of};
use crate::ids::{new_id, now_iso};
use crate::reply::{ApiError, Reply};
use crate::store;

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    Some(match name {
        "products.list-invoices" => list(c, ctx),
        "products.create-product" => create(c, ctx),
        "products.get-product-by-id" => {
            owned(c, ctx, "products", ctx.p("productId")).map(|p| (200, p))
        }
        "products.update-product-by-id" => update(c, ctx, "products", "productId", None),
        "products.delete-product-by-id" => {
            owned(c, ctx, "products", ctx.p("productId")).and_then(|_| {
                store::doc_delete(c, "products", ctx.p("productId"))?;
                for pr in store::doc_list(c, "prices", None, Some(ctx.p("productId")))? {
                    store::doc_delete(c, "prices", str_of(&pr, "_id"))?;
                }
                ok(json!({"status": true}))
            })
        }
        "products.list-prices-for-product" => prices(c, ctx),
        "products.create-price-for-product" => create_price(c, ctx),
        "products.get-price-by-id-for-product" => price(c, ctx).map(|p| (200, p)),
        "products.update-price-by-id-for-product" => price(c, ctx)
            .and_then(|_| update(c, ctx, "prices", "priceId", Some(ctx.p("productId")))),
        "products.delete-price-by-id-for-product" => price(c, ctx).and_then(|_| {
            store::doc_delete(c, "prices", ctx.p("priceId"))?;
            ok(json!({"status": true}))
        }),
        _ => return None,
    })
}

fn list(c: &Connection, ctx: &Ctx) -> Reply {
    let q = ctx.q("search").map(str::to_lowercase);
    let ids = ctx.query.all("productIds");
    let mut items: Vec<Value> = store::doc_list(c, "products", Some(&ctx.location_id), None)?
        .into_iter()
        .filter(|p| {
            q.as_ref()
                .is_none_or(|q| str_of(p, "name").to_lowercase().contains(q.as_str()))
        })
        .filter(|p| ids.is_empty() || ids.contains(&str_of(p, "_id")))
        .filter(|p| match ctx.q("availableInStore") {
            Some(v) => p["availableInStore"].as_bool().unwrap_or(false) == (v == "true"),
            None => true,
        })
        .collect();
    if ctx.q("sortOrder") == Some("asc") {
        items.reverse();
    }
    let total = items.len();
    let page = slice(
        items,
        ctx.q_num("offset").unwrap_or(0),
        ctx.q_num("limit").unwrap_or(100),
    );
    // The spec's ListProductsResponseDto carries the total as `[{total}]`.
    ok(json!({"products": page, "total": [{"total": total}]}))
}

pub fn new_product(loc: &str, id: &str, body: &Value) -> Value {
    let now = now_iso();
    let mut p = json!({
        "_id": id, "id": id, "locationId": loc, "name": "", "description": "", "productType": "DIGITAL",
        "availableInStore": false, "variants": [], "collectionIds": [], "isTaxesEnabled": false,
        "taxes": [], "createdAt": now, "updatedAt": now,
    });
    merge(&mut p, body);
    p
}

fn create(c: &Connection, ctx: &Ctx) -> Reply {
    let id = new_id();
    let p = new_product(&ctx.location_id, &id, &ctx.body);
    store::doc_put(c, "products", &id, Some(&ctx.location_id), None, &p)?;
    created(p)
}

fn update(c: &Connection, ctx: &Ctx, coll: &str, id_param: &str, parent: Option<&str>) -> Reply {
    let id = ctx.p(id_param);
    let mut doc = owned(c, ctx, coll, id)?;
    merge(&mut doc, &ctx.body);
    doc["_id"] = json!(id);
    doc["updatedAt"] = json!(now_iso());
    store::doc_put(c, coll, id, Some(&ctx.location_id), parent, &doc)?;
    ok(doc)
}

fn prices(c: &Connection, ctx: &Ctx) -> Reply {
    owned(c, ctx, "products", ctx.p("productId"))?;
    let ids = ctx.query.all("ids");
    let items: Vec<Value> = store::doc_list(c, "prices", None, Some(ctx.p("productId")))?
        .into_iter()
        .filter(|p| ids.is_empty() || ids.contains(&str_of(p, "_id")))
        .collect();
    let total = items.len();
    let page = slice(
        items,
        ctx.q_num("offset").unwrap_or(0),
        ctx.q_num("limit").unwrap_or(100),
    );
    ok(json!({"prices": page, "total": total}))
}

pub fn new_price(loc: &str, product: &str, id: &str, body: &Value) -> Value {
    let now = now_iso();
    let mut p = json!({
        "_id": id, "id": id, "locationId": loc, "product": product, "name": "", "type": "one_time",
        "currency": "USD", "amount": 0, "membershipOffers": [], "variantOptionIds": [],
        "trackInventory": false, "allowOutOfStockPurchases": true, "createdAt": now, "updatedAt": now,
    });
    merge(&mut p, body);
    p["product"] = json!(product);
    p
}

fn create_price(c: &Connection, ctx: &Ctx) -> Reply {
    let product = ctx.p("productId");
    owned(c, ctx, "products", product)?;
    if ctx.b_str("type") == Some("recurring") && ctx.b("recurring").is_none() {
        return Err(ApiError::invalid(vec![
            "recurring should not be empty for a recurring price".into(),
        ]));
    }
    let id = new_id();
    let p = new_price(&ctx.location_id, product, &id, &ctx.body);
    store::doc_put(c, "prices", &id, Some(&ctx.location_id), Some(product), &p)?;
    created(p)
}

fn price(c: &Connection, ctx: &Ctx) -> Result<Value, ApiError> {
    let p = owned(c, ctx, "prices", ctx.p("priceId"))?;
    if str_of(&p, "product") != ctx.p("productId") {
        return Err(ApiError::not_found());
    }
    Ok(p)
}
