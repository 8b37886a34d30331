//! Users of the location.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::{Ctx, created, merge, ok, owned, slice, str_of};
use crate::ids::new_id;
use crate::reply::Reply;
use crate::store;

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    Some(match name {
        "users.get-user-by-location" => store::doc_list(c, "users", Some(&ctx.location_id), None)
            .map_err(Into::into)
            .map(|u| (200, json!({"users": u}))),
        "users.search-users" => search(c, ctx),
        "users.get-user" => owned(c, ctx, "users", ctx.p("userId")).map(|u| (200, u)),
        "users.create-user" => {
            let id = new_id();
            let mut u = json!({"id": id, "locationId": ctx.location_id, "deleted": false});
            merge(&mut u, &ctx.body);
            u["name"] = json!(
                format!("{} {}", str_of(&u, "firstName"), str_of(&u, "lastName"))
                    .trim()
                    .to_string()
            );
            store::doc_put(c, "users", &id, Some(&ctx.location_id), None, &u)
                .map_err(Into::into)
                .and_then(|_| created(u))
        }
        "users.update-user" => owned(c, ctx, "users", ctx.p("userId")).and_then(|mut u| {
            merge(&mut u, &ctx.body);
            store::doc_put(
                c,
                "users",
                ctx.p("userId"),
                Some(&ctx.location_id),
                None,
                &u,
            )?;
            ok(u)
        }),
        "users.delete-user" => owned(c, ctx, "users", ctx.p("userId")).and_then(|_| {
            store::doc_delete(c, "users", ctx.p("userId"))?;
            ok(json!({"succeded": true, "message": "Queued deleting user"}))
        }),
        _ => return None,
    })
}

fn search(c: &Connection, ctx: &Ctx) -> Reply {
    let q = ctx.q("query").map(str::to_lowercase);
    let mut users: Vec<Value> = store::doc_list(c, "users", Some(&ctx.location_id), None)?
        .into_iter()
        .filter(|u| {
            q.as_ref().is_none_or(|q| {
                format!("{} {}", str_of(u, "name"), str_of(u, "email"))
                    .to_lowercase()
                    .contains(q.as_str())
            })
        })
        .filter(|u| {
            ctx.q("role")
                .is_none_or(|r| u["roles"]["role"].as_str() == Some(r))
        })
        .collect();
    let count = users.len();
    users = slice(
        users,
        ctx.q_num("skip").unwrap_or(0),
        ctx.q_num("limit").unwrap_or(25),
    );
    ok(json!({"users": users, "count": count}))
}
