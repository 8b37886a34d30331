//! Conversations and messages: search, create, get, message history with
//! `lastMessageId` paging, and sending (which appends an outbound message to
//! the contact's conversation, creating it if needed).

use rusqlite::Connection;
use serde_json::{Value, json};

use super::{Ctx, created, merge, ok, owned, str_of};
use crate::contact_store as cs;
use crate::ids::{new_id, now_iso, parse_iso_ms};
use crate::reply::{ApiError, Reply};
use crate::store;

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    Some(match name {
        "conversations.search-conversation" => search(c, ctx),
        "conversations.create-conversation" => create(c, ctx),
        "conversations.get-conversation" => {
            owned(c, ctx, "conversations", ctx.p("conversationId")).map(|v| (200, v))
        }
        "conversations.update-conversation" => {
            owned(c, ctx, "conversations", ctx.p("conversationId")).and_then(|mut cv| {
                merge(&mut cv, &ctx.body);
                store::doc_put(
                    c,
                    "conversations",
                    ctx.p("conversationId"),
                    Some(&ctx.location_id),
                    None,
                    &cv,
                )?;
                ok(json!({"success": true, "conversation": cv}))
            })
        }
        "conversations.delete-conversation" => {
            owned(c, ctx, "conversations", ctx.p("conversationId")).and_then(|_| {
                store::doc_delete(c, "conversations", ctx.p("conversationId"))?;
                ok(json!({"success": true}))
            })
        }
        "conversations.get-messages" => messages(c, ctx),
        "conversations.get-message" => {
            owned(c, ctx, "messages", ctx.p("id")).map(|m| (200, json!({"message": m})))
        }
        "conversations.send-a-new-message" => send(c, ctx),
        "conversations.add-an-inbound-message" => add(c, ctx, "inbound"),
        "conversations.add-an-outbound-message" => add(c, ctx, "outbound"),
        "conversations.update-message-status" => owned(c, ctx, "messages", ctx.p("messageId"))
            .and_then(|mut m| {
                m["status"] = ctx.b("status").cloned().unwrap_or(Value::Null);
                let parent = str_of(&m, "conversationId").to_string();
                store::doc_put(
                    c,
                    "messages",
                    ctx.p("messageId"),
                    Some(&ctx.location_id),
                    Some(&parent),
                    &m,
                )?;
                ok(json!({"success": true}))
            }),
        _ => return None,
    })
}

fn search(c: &Connection, ctx: &Ctx) -> Reply {
    let q = ctx.q("query").map(str::to_lowercase);
    let mut convs: Vec<Value> = store::doc_list(c, "conversations", Some(&ctx.location_id), None)?
        .into_iter()
        .filter(|cv| {
            ctx.q("contactId")
                .is_none_or(|id| str_of(cv, "contactId") == id)
        })
        .filter(|cv| ctx.q("id").is_none_or(|id| str_of(cv, "id") == id))
        .filter(|cv| {
            ctx.q("assignedTo")
                .is_none_or(|id| str_of(cv, "assignedTo") == id)
        })
        .filter(|cv| match ctx.q("status") {
            Some("unread") => cv["unreadCount"].as_i64().unwrap_or(0) > 0,
            Some("starred") => cv["starred"].as_bool().unwrap_or(false),
            _ => true,
        })
        .filter(|cv| {
            q.as_ref().is_none_or(|q| {
                format!(
                    "{} {} {} {}",
                    str_of(cv, "fullName"),
                    str_of(cv, "email"),
                    str_of(cv, "phone"),
                    str_of(cv, "lastMessageBody")
                )
                .to_lowercase()
                .contains(q.as_str())
            })
        })
        .collect();
    convs.sort_by_key(|cv| std::cmp::Reverse(cv["lastMessageDate"].as_i64().unwrap_or(0)));
    if ctx.q("sort") == Some("asc") {
        convs.reverse();
    }
    let total = convs.len();
    if let Some(after) = ctx.q_num("startAfterDate") {
        let asc = ctx.q("sort") == Some("asc");
        convs.retain(|cv| {
            let d = cv["lastMessageDate"].as_i64().unwrap_or(0);
            if asc { d > after } else { d < after }
        });
    }
    convs.truncate(ctx.q_num("limit").unwrap_or(20).clamp(1, 100) as usize);
    // The search listing names the channel (`TYPE_PHONE`...) where get-by-id has a number.
    for cv in &mut convs {
        let channel = if str_of(cv, "lastMessageType") == "TYPE_EMAIL" {
            "TYPE_EMAIL"
        } else {
            "TYPE_PHONE"
        };
        cv["type"] = json!(channel);
    }
    ok(json!({"conversations": convs, "total": total}))
}

fn new_conversation(ct: &Value, loc: &str) -> Value {
    let id = new_id();
    let now = crate::ids::now_ms();
    json!({
        "id": id, "contactId": str_of(ct, "id"), "locationId": loc, "deleted": false, "inbox": true,
        "type": 1, "unreadCount": 0, "starred": false, "assignedTo": "",
        "fullName": str_of(ct, "name"), "contactName": str_of(ct, "name"), "email": str_of(ct, "email"),
        "phone": str_of(ct, "phone"), "lastMessageBody": "", "lastMessageType": "TYPE_SMS",
        "lastMessageDate": now, "dateAdded": now, "dateUpdated": now,
    })
}

fn contact(c: &Connection, ctx: &Ctx, id: &str) -> Result<Value, ApiError> {
    cs::get(c, id)?
        .filter(|ct| str_of(ct, "locationId") == ctx.location_id)
        .ok_or_else(|| ApiError::bad("Contact not found"))
}

fn create(c: &Connection, ctx: &Ctx) -> Reply {
    let ct = contact(c, ctx, ctx.b_str("contactId").unwrap_or(""))?;
    if let Some(existing) = find_for_contact(c, &ctx.location_id, str_of(&ct, "id"))? {
        return Err(ApiError::bad("Conversation already exists")
            .with(json!({"conversationId": existing["id"]})));
    }
    let cv = new_conversation(&ct, &ctx.location_id);
    store::doc_put(
        c,
        "conversations",
        str_of(&cv, "id"),
        Some(&ctx.location_id),
        None,
        &cv,
    )?;
    created(json!({"success": true, "conversation": cv}))
}

fn find_for_contact(
    c: &Connection,
    loc: &str,
    contact_id: &str,
) -> rusqlite::Result<Option<Value>> {
    Ok(store::doc_list(c, "conversations", Some(loc), None)?
        .into_iter()
        .find(|cv| str_of(cv, "contactId") == contact_id))
}

/// Message history, newest first; `lastMessageId` continues after that message.
fn messages(c: &Connection, ctx: &Ctx) -> Reply {
    let cid = ctx.p("conversationId");
    owned(c, ctx, "conversations", cid)?;
    let mut all = store::doc_list(c, "messages", None, Some(cid))?;
    all.sort_by_key(|m| {
        std::cmp::Reverse((
            parse_iso_ms(str_of(m, "dateAdded")).unwrap_or(0),
            str_of(m, "id").to_string(),
        ))
    });
    if let Some(types) = ctx.q("type") {
        let wanted: Vec<&str> = types.split(',').collect();
        all.retain(|m| wanted.contains(&str_of(m, "messageType")));
    }
    let start = match ctx.q("lastMessageId") {
        Some(id) => all
            .iter()
            .position(|m| str_of(m, "id") == id)
            .map(|i| i + 1)
            .unwrap_or(all.len()),
        None => 0,
    };
    let limit = ctx.q_num("limit").unwrap_or(20).clamp(1, 100) as usize;
    let page: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
    let next = start + page.len() < all.len();
    let last = page.last().map(|m| str_of(m, "id").to_string());
    ok(json!({"messages": {"lastMessageId": last, "nextPage": next, "messages": page}}))
}

fn message_type(t: &str) -> (&'static str, i64) {
    match t.to_ascii_lowercase().as_str() {
        "email" => ("TYPE_EMAIL", 3),
        "whatsapp" => ("TYPE_WHATSAPP", 19),
        "ig" => ("TYPE_INSTAGRAM", 18),
        "fb" => ("TYPE_FACEBOOK", 11),
        "live_chat" => ("TYPE_LIVE_CHAT", 29),
        "gmb" => ("TYPE_GMB", 15),
        "call" => ("TYPE_CALL", 1),
        "custom" => ("TYPE_CUSTOM_SMS", 20),
        _ => ("TYPE_SMS", 2),
    }
}

/// Append a message to a conversation and update the conversation's summary.
fn append(c: &Connection, ctx: &Ctx, cv: &mut Value, direction: &str) -> Result<Value, ApiError> {
    let (mtype, num) = message_type(ctx.b_str("type").unwrap_or("SMS"));
    let id = new_id();
    let body = ctx
        .b_str("message")
        .or_else(|| ctx.b_str("html"))
        .unwrap_or("")
        .to_string();
    let mut msg = json!({
        "id": id, "type": num, "messageType": mtype, "locationId": ctx.location_id,
        "contactId": str_of(cv, "contactId"), "conversationId": str_of(cv, "id"),
        "dateAdded": now_iso(), "body": body, "direction": direction,
        "status": if direction == "outbound" { "delivered" } else { "read" },
        "contentType": if mtype == "TYPE_EMAIL" { "text/html" } else { "text/plain" },
        "attachments": ctx.b("attachments").cloned().unwrap_or(json!([])), "source": "api", "meta": {},
    });
    if mtype == "TYPE_EMAIL" {
        msg["meta"] =
            json!({"email": {"subject": ctx.b_str("subject").unwrap_or(""), "messageIds": [id]}});
    }
    let cid = str_of(cv, "id").to_string();
    store::doc_put(c, "messages", &id, Some(&ctx.location_id), Some(&cid), &msg)?;
    cv["lastMessageBody"] = json!(body);
    cv["lastMessageType"] = json!(mtype);
    cv["lastMessageDirection"] = json!(direction);
    cv["lastMessageDate"] = json!(crate::ids::now_ms());
    cv["dateUpdated"] = cv["lastMessageDate"].clone();
    if direction == "inbound" {
        cv["unreadCount"] = json!(cv["unreadCount"].as_i64().unwrap_or(0) + 1);
    }
    store::doc_put(c, "conversations", &cid, Some(&ctx.location_id), None, cv)?;
    Ok(msg)
}

fn send(c: &Connection, ctx: &Ctx) -> Reply {
    let ct = contact(c, ctx, ctx.b_str("contactId").unwrap_or(""))?;
    let kind = ctx.b_str("type").unwrap_or("SMS");
    if kind.eq_ignore_ascii_case("sms") && str_of(&ct, "phone").is_empty() {
        return Err(ApiError::bad("Contact has no phone number"));
    }
    if kind.eq_ignore_ascii_case("email") && str_of(&ct, "email").is_empty() {
        return Err(ApiError::bad("Contact has no email address"));
    }
    if ct["dnd"].as_bool().unwrap_or(false) {
        return Err(ApiError::bad(
            "Cannot send message as DND is active for this contact",
        ));
    }
    let mut cv = match find_for_contact(c, &ctx.location_id, str_of(&ct, "id"))? {
        Some(cv) => cv,
        None => new_conversation(&ct, &ctx.location_id),
    };
    let msg = append(c, ctx, &mut cv, "outbound")?;
    let mut out = json!({
        "conversationId": cv["id"], "messageId": msg["id"], "messageIds": [msg["id"]],
        "msg": "Message queued successfully.", "status": "delivered",
    });
    if msg["messageType"] == "TYPE_EMAIL" {
        out["emailMessageId"] = msg["id"].clone();
    }
    ok(out)
}

fn add(c: &Connection, ctx: &Ctx, direction: &str) -> Reply {
    let mut cv = owned(
        c,
        ctx,
        "conversations",
        ctx.b_str("conversationId").unwrap_or(""),
    )
    .map_err(|_| ApiError::bad("Conversation not found"))?;
    let msg = append(c, ctx, &mut cv, direction)?;
    ok(
        json!({"success": true, "conversationId": cv["id"], "messageId": msg["id"], "message": "Message added"}),
    )
}
