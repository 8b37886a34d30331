//! Handlers for the modelled operations, and the dispatch from an operation
//! name to its handler (anything not listed falls to the generic store).

mod added_range;
pub mod agency;
mod calendars;
mod contacts;
mod conversations;
mod filtered_search;
mod invoices;
mod locations;
mod marketing;
mod opportunities;
mod products;
mod users;

use std::collections::HashMap;

use ghl_catalog::{Effect, Method, Operation};
use rusqlite::{Connection, TransactionBehavior};
use serde_json::Value;

use crate::reply::{ApiError, Reply};
use crate::validate::Query;

/// One validated request.
pub struct Ctx {
    pub op: &'static Operation,
    pub path: HashMap<String, String>,
    pub query: Query,
    pub body: Value,
    /// The location the token is bound to.
    pub location_id: String,
    pub base_url: String,
    pub raw_path: String,
    /// Record webhook events for this change (the sandbox serves webhooks).
    pub webhooks: bool,
}

impl Ctx {
    pub fn p(&self, name: &str) -> &str {
        self.path.get(name).map(String::as_str).unwrap_or("")
    }
    pub fn q(&self, name: &str) -> Option<&str> {
        self.query.get(name).filter(|v| !v.is_empty())
    }
    pub fn q_num(&self, name: &str) -> Option<i64> {
        self.q(name)
            .and_then(|v| v.parse::<f64>().ok())
            .map(|f| f as i64)
    }
    pub fn b(&self, name: &str) -> Option<&Value> {
        self.body.get(name).filter(|v| !v.is_null())
    }
    pub fn b_str(&self, name: &str) -> Option<&str> {
        self.b(name).and_then(Value::as_str)
    }
    pub fn b_num(&self, name: &str) -> Option<f64> {
        self.b(name).and_then(|v| match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        })
    }
}

/// Run the operation in a transaction: IMMEDIATE when it may write, so
/// read-modify-write sequences from two processes serialise cleanly.
pub fn run(conn: &mut Connection, ctx: &Ctx) -> Reply {
    // Reads (including POST searches) must not take the write lock.
    let behavior = if ctx.op.method == Method::Get || ctx.op.effect == Effect::Read {
        TransactionBehavior::Deferred
    } else {
        TransactionBehavior::Immediate
    };
    let tx = conn.transaction_with_behavior(behavior)?;
    let before = match ctx.webhooks {
        true => crate::webhooks::before(&tx, ctx)?,
        false => None,
    };
    let out = dispatch(&tx, ctx)?;
    if ctx.webhooks {
        crate::webhooks::record(&tx, ctx, before.as_ref(), &out.1)?;
    }
    tx.commit()?;
    Ok(out)
}

fn dispatch(c: &Connection, ctx: &Ctx) -> Reply {
    let name = crate::router::model_name(ctx.op);
    if let Some(r) = contacts::route(c, ctx, name) {
        return r;
    }
    if let Some(r) = locations::route(c, ctx, name) {
        return r;
    }
    if let Some(r) = users::route(c, ctx, name) {
        return r;
    }
    if let Some(r) = opportunities::route(c, ctx, name) {
        return r;
    }
    if let Some(r) = calendars::route(c, ctx, name) {
        return r;
    }
    if let Some(r) = conversations::route(c, ctx, name) {
        return r;
    }
    if let Some(r) = marketing::route(c, ctx, name) {
        return r;
    }
    if let Some(r) = products::route(c, ctx, name) {
        return r;
    }
    if let Some(r) = invoices::route(c, ctx, name) {
        return r;
    }
    if let Some(r) = agency::route(c, ctx, name) {
        return r;
    }
    crate::generic::handle(c, ctx)
}

/// Merge the fields of `patch` into `doc` (top level only, like HighLevel's PUTs).
pub fn merge(doc: &mut Value, patch: &Value) {
    if let (Some(d), Some(p)) = (doc.as_object_mut(), patch.as_object()) {
        for (k, v) in p {
            d.insert(k.clone(), v.clone());
        }
    }
}

pub fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// `offset`/`skip` + `limit` slicing.
pub fn slice(items: Vec<Value>, offset: i64, limit: i64) -> Vec<Value> {
    items
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(if limit <= 0 {
            usize::MAX
        } else {
            limit as usize
        })
        .collect()
}

pub fn ok(v: Value) -> Reply {
    Ok((200, v))
}

pub fn created(v: Value) -> Reply {
    Ok((201, v))
}

pub fn require<T>(v: Option<T>) -> Result<T, ApiError> {
    v.ok_or_else(ApiError::not_found)
}

/// A document of `coll` that must exist and belong to the caller's location.
pub fn owned(c: &Connection, ctx: &Ctx, coll: &str, id: &str) -> Result<Value, ApiError> {
    let doc = require(crate::store::doc_get(c, coll, id)?)?;
    let loc = doc
        .get("locationId")
        .or_else(|| doc.get("altId"))
        .and_then(Value::as_str);
    if loc.is_some_and(|l| l != ctx.location_id) {
        return Err(ApiError::new(
            403,
            "The token does not have access to this location",
        ));
    }
    Ok(doc)
}

// Constructors the seed reuses, so seeded documents have the same shape as
// ones created through the API.
pub use calendars::default_calendar as calendars_default;
pub use invoices::new_invoice as invoice_new;
pub use invoices::recompute as invoice_recompute;
pub use locations::field_key as field_key_of;
pub use opportunities::contact_summary as contact_summary_of;
pub use products::new_price as price_new;
pub use products::new_product as product_new;
