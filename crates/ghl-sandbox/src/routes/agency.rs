//! The demo agency's other sub-accounts: `add_agency_locations` creates
//! them; the agency lists them (`locations.search-locations`) and mints a
//! location token for each (`oauth/locationToken`), so a client holding the
//! agency's token reaches every one, each with its own data and its own
//! request budget, as with HighLevel.

use rusqlite::Connection;
use serde_json::{Value, json};

use super::{Ctx, ok};
use crate::reply::{ApiError, Reply};
use crate::{DEMO_COMPANY_ID, DEMO_LOCATION_ID, auth, store};

const MINTS: &[&str] = &[
    "oauth.get-location-access-token",
    "oauth-v3.get-location-access-token",
];

/// Whether `op` mints a location token: the agency names the sub-account
/// in the body, which need not be the token's own location.
pub fn is_mint(op: &'static ghl_catalog::Operation) -> bool {
    MINTS.contains(&crate::router::model_name(op))
}

/// Whether a token bound to `bound_to` speaks for the demo agency (its
/// company token, or the default token of its first location).
pub fn speaks_for_agency(bound_to: &str) -> bool {
    bound_to == DEMO_COMPANY_ID || bound_to == DEMO_LOCATION_ID
}

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    match name {
        "locations.search-locations" => Some(search(c, ctx)),
        n if MINTS.contains(&n) => {
            let wanted = ctx.b_str("locationId").unwrap_or("").to_string();
            // The first location keeps its well-known token.
            (wanted != DEMO_LOCATION_ID).then(|| mint(c, ctx, &wanted))
        }
        _ => None,
    }
}

/// Whether `id` is a sub-account of the demo agency.
pub fn is_company_location(c: &Connection, id: &str) -> bool {
    company_locations(c)
        .map(|all| {
            all.iter()
                .any(|l| l.get("id").and_then(Value::as_str) == Some(id))
        })
        .unwrap_or(false)
}

fn company_locations(c: &Connection) -> Result<Vec<Value>, ApiError> {
    Ok(store::doc_list(c, "locations", None, None)?
        .into_iter()
        .filter(|l| l.get("companyId").and_then(Value::as_str) == Some(DEMO_COMPANY_ID))
        .collect())
}

fn search(c: &Connection, ctx: &Ctx) -> Reply {
    if !speaks_for_agency(&ctx.location_id) {
        return Err(ApiError::new(
            403,
            "The token does not have access to this company",
        ));
    }
    if ctx.q("companyId").is_some_and(|id| id != DEMO_COMPANY_ID) {
        return Err(ApiError::new(
            403,
            "The token does not have access to this company",
        ));
    }
    let all = company_locations(c)?;
    let skip: usize = ctx.q("skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let limit: usize = ctx
        .q("limit")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
        .clamp(1, 100);
    let page: Vec<Value> = all.iter().skip(skip).take(limit).cloned().collect();
    ok(json!({"locations": page, "count": all.len()}))
}

fn mint(c: &Connection, ctx: &Ctx, location: &str) -> Reply {
    if !speaks_for_agency(&ctx.location_id) {
        return Err(ApiError::new(
            403,
            "The token does not have access to this location",
        ));
    }
    if ctx
        .b_str("companyId")
        .is_some_and(|id| id != DEMO_COMPANY_ID)
        || !company_locations(c)?
            .iter()
            .any(|l| l.get("id").and_then(Value::as_str) == Some(location))
    {
        return Err(ApiError::new(
            403,
            "The token does not have access to this location",
        ));
    }
    let token = format!("pit-sandbox-{}", uuid::Uuid::new_v4());
    auth::insert(c, &token, location, None)?;
    ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": 86399,
        "scope": crate::all_scopes().join(" "),
        "userType": "Location",
        "locationId": location,
        "companyId": DEMO_COMPANY_ID,
    }))
}

/// `n` more sub-accounts of the demo agency, `SbxAgencyLoc00000001`…, each
/// with `contacts` contacts of its own; existing ones are kept. Their ids.
pub fn add_locations(
    conn: &mut Connection,
    n: usize,
    contacts: usize,
) -> rusqlite::Result<Vec<String>> {
    let mut ids = Vec::with_capacity(n);
    for i in 1..=n {
        let id = format!("SbxAgencyLoc{i:08}");
        store::doc_put(
            conn,
            "locations",
            &id,
            Some(&id),
            None,
            &json!({
                "id": id, "companyId": DEMO_COMPANY_ID, "name": format!("Sandbox Sub-account {i}"),
                "timezone": "America/New_York", "email": format!("owner{i}@sub.example.com"),
                "settings": {"allowDuplicateContact": false},
            }),
        )?;
        let have: i64 = conn.query_row(
            "SELECT COUNT(*) FROM contacts WHERE location_id = ?1",
            [&id],
            |r| r.get(0),
        )?;
        if have == 0 && contacts > 0 {
            crate::seed::bulk_contacts_seeded(conn, &id, contacts, 1_000 + i as u64)?;
        }
        ids.push(id);
    }
    Ok(ids)
}
