//! Invoices: create (totals computed from items and discount), list, get,
//! update, delete, send (→ sent), void (→ void), record payment
//! (→ partially_paid or paid).

use rusqlite::Connection;
use serde_json::{Value, json};

use super::{Ctx, merge, ok, owned, slice, str_of};
use crate::ids::{new_id, now_iso};
use crate::reply::{ApiError, Reply};
use crate::store;

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    Some(match name {
        "invoices.create-invoice" => create(c, ctx),
        "invoices.list-invoices" => list(c, ctx),
        "invoices.get-invoice" => owned(c, ctx, "invoices", ctx.p("invoiceId")).map(|i| (200, i)),
        "invoices.update-invoice" => update(c, ctx),
        "invoices.delete-invoice" => owned(c, ctx, "invoices", ctx.p("invoiceId")).and_then(|i| {
            store::doc_delete(c, "invoices", ctx.p("invoiceId"))?;
            ok(i)
        }),
        "invoices.send-invoice" => send(c, ctx),
        "invoices.void-invoice" => void(c, ctx),
        "invoices.record-invoice" => pay(c, ctx),
        _ => return None,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Recompute `invoiceItems`, totals and amount due from items and discount.
pub fn recompute(inv: &mut Value) {
    let items = inv["invoiceItems"].as_array().cloned().unwrap_or_default();
    let sub: f64 = items
        .iter()
        .map(|i| i["amount"].as_f64().unwrap_or(0.0) * i["qty"].as_f64().unwrap_or(1.0))
        .sum();
    let d = &inv["discount"];
    let dv = d["value"].as_f64().unwrap_or(0.0);
    let discount = if str_of(d, "type") == "fixed" {
        dv
    } else {
        sub * dv / 100.0
    };
    let total = round2((sub - discount).max(0.0));
    let paid = inv["amountPaid"].as_f64().unwrap_or(0.0);
    inv["total"] = json!(total);
    inv["amountDue"] = json!(round2((total - paid).max(0.0)));
    inv["totalSummary"] = json!({"subTotal": round2(sub), "discount": round2(discount), "tax": 0});
}

pub fn new_invoice(loc: &str, id: &str, number: i64, body: &Value) -> Value {
    let now = now_iso();
    let mut inv = json!({
        "_id": id, "status": "draft", "liveMode": false, "amountPaid": 0, "altId": loc, "altType": "location",
        "name": "", "title": "INVOICE", "businessDetails": {}, "invoiceNumber": number, "currency": "USD",
        "contactDetails": {}, "issueDate": &now[..10], "dueDate": &now[..10], "discount": {"type": "percentage", "value": 0},
        "invoiceItems": [], "total": 0, "amountDue": 0, "createdAt": now, "updatedAt": now,
        "automaticTaxesEnabled": false, "automaticTaxesCalculated": false, "paymentSchedule": {},
    });
    merge(&mut inv, body);
    if let Some(items) = body.get("items") {
        inv["invoiceItems"] = items.clone();
    }
    if let Some(obj) = inv.as_object_mut() {
        obj.remove("items");
    }
    if inv["invoiceNumber"].is_string() {
        inv["invoiceNumber"] = json!(
            inv["invoiceNumber"]
                .as_str()
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(number)
        );
    }
    if body.get("dueDate").is_none() {
        inv["dueDate"] = inv["issueDate"].clone();
    }
    recompute(&mut inv);
    inv
}

fn create(c: &Connection, ctx: &Ctx) -> Reply {
    if ctx.b_str("altType") != Some("location") {
        return Err(ApiError::invalid(vec![
            "altType must be one of the following values: location".into(),
        ]));
    }
    let existing = store::doc_list(c, "invoices", Some(&ctx.location_id), None)?;
    let number = existing
        .iter()
        .filter_map(|i| i["invoiceNumber"].as_i64())
        .max()
        .unwrap_or(1000)
        + 1;
    let id = new_id();
    let inv = new_invoice(&ctx.location_id, &id, number, &ctx.body);
    store::doc_put(c, "invoices", &id, Some(&ctx.location_id), None, &inv)?;
    ok(inv)
}

fn list(c: &Connection, ctx: &Ctx) -> Reply {
    let q = ctx.q("search").map(str::to_lowercase);
    let mut items: Vec<Value> = store::doc_list(c, "invoices", Some(&ctx.location_id), None)?
        .into_iter()
        .filter(|i| ctx.q("status").is_none_or(|s| str_of(i, "status") == s))
        .filter(|i| {
            ctx.q("contactId")
                .is_none_or(|s| i["contactDetails"]["id"].as_str() == Some(s))
        })
        .filter(|i| {
            q.as_ref().is_none_or(|q| {
                format!(
                    "{} {} {}",
                    str_of(i, "name"),
                    i["invoiceNumber"],
                    i["contactDetails"]["name"].as_str().unwrap_or("")
                )
                .to_lowercase()
                .contains(q.as_str())
            })
        })
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse(str_of(i, "createdAt").to_string()));
    if ctx.q("sortOrder") == Some("ascend") {
        items.reverse();
    }
    let total = items.len();
    let page = slice(
        items,
        ctx.q_num("offset").unwrap_or(0),
        ctx.q_num("limit").unwrap_or(10),
    );
    ok(json!({"invoices": page, "total": total}))
}

fn save(c: &Connection, ctx: &Ctx, inv: &mut Value) -> Result<(), ApiError> {
    inv["updatedAt"] = json!(now_iso());
    recompute(inv);
    store::doc_put(
        c,
        "invoices",
        ctx.p("invoiceId"),
        Some(&ctx.location_id),
        None,
        inv,
    )?;
    Ok(())
}

fn update(c: &Connection, ctx: &Ctx) -> Reply {
    let mut inv = owned(c, ctx, "invoices", ctx.p("invoiceId"))?;
    if str_of(&inv, "status") != "draft" {
        return Err(ApiError::bad("Only draft invoices can be edited"));
    }
    merge(&mut inv, &ctx.body);
    if let Some(items) = ctx.b("items") {
        inv["invoiceItems"] = items.clone();
    }
    if let Some(obj) = inv.as_object_mut() {
        obj.remove("items");
    }
    save(c, ctx, &mut inv)?;
    ok(inv)
}

fn send(c: &Connection, ctx: &Ctx) -> Reply {
    let mut inv = owned(c, ctx, "invoices", ctx.p("invoiceId"))?;
    match str_of(&inv, "status") {
        "void" => return Err(ApiError::bad("A void invoice cannot be sent")),
        "paid" => return Err(ApiError::bad("A paid invoice cannot be sent")),
        "draft" => inv["status"] = json!("sent"),
        _ => {}
    }
    inv["sentAt"] = json!(now_iso());
    inv["liveMode"] = ctx.b("liveMode").cloned().unwrap_or(json!(false));
    save(c, ctx, &mut inv)?;
    ok(json!({"invoice": inv, "smsData": {}, "emailData": {}}))
}

fn void(c: &Connection, ctx: &Ctx) -> Reply {
    let mut inv = owned(c, ctx, "invoices", ctx.p("invoiceId"))?;
    if matches!(str_of(&inv, "status"), "paid" | "partially_paid") {
        return Err(ApiError::bad("An invoice with payments cannot be voided"));
    }
    inv["status"] = json!("void");
    save(c, ctx, &mut inv)?;
    ok(inv)
}

fn pay(c: &Connection, ctx: &Ctx) -> Reply {
    let mut inv = owned(c, ctx, "invoices", ctx.p("invoiceId"))?;
    match str_of(&inv, "status") {
        "void" => return Err(ApiError::bad("A void invoice cannot be paid")),
        "paid" => return Err(ApiError::bad("Invoice is already paid")),
        _ => {}
    }
    let due = inv["amountDue"].as_f64().unwrap_or(0.0);
    let amount = ctx.b_num("amount").unwrap_or(due);
    if amount <= 0.0 || amount > due + 0.001 {
        return Err(ApiError::bad(format!(
            "Payment amount must be between 0 and the amount due ({due})"
        )));
    }
    let paid = round2(inv["amountPaid"].as_f64().unwrap_or(0.0) + amount);
    inv["amountPaid"] = json!(paid);
    recompute(&mut inv);
    let status = if inv["amountDue"].as_f64().unwrap_or(0.0) <= 0.0 {
        "paid"
    } else {
        "partially_paid"
    };
    inv["status"] = json!(status);
    let txn = json!({"_id": new_id(), "amount": amount, "mode": ctx.b_str("mode").unwrap_or("cash"), "notes": ctx.b("notes"), "at": now_iso()});
    let mut payments = inv["payments"].as_array().cloned().unwrap_or_default();
    payments.push(txn);
    inv["payments"] = json!(payments);
    save(c, ctx, &mut inv)?;
    ok(json!({"success": true, "invoice": inv}))
}
