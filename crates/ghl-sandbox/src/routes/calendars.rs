//! Calendars, appointments and free slots computed from open hours minus
//! booked (non-cancelled) appointments.

use rusqlite::Connection;
use serde_json::{Map, Value, json};

use super::{Ctx, created, merge, ok, owned, str_of};
use crate::contact_store as cs;
use crate::ids::{iso, new_id, now_iso, parse_iso_ms};
use crate::reply::{ApiError, Reply};
use crate::{store, tz};

pub fn route(c: &Connection, ctx: &Ctx, name: &str) -> Option<Reply> {
    Some(match name {
        "calendars.get-calendars" => list(c, ctx),
        "calendars.get-calendar" => owned(c, ctx, "calendars", ctx.p("calendarId"))
            .map(|cal| (200, json!({"calendar": cal}))),
        "calendars.create-calendar" => create_calendar(c, ctx),
        "calendars.update-calendar" => {
            owned(c, ctx, "calendars", ctx.p("calendarId")).and_then(|mut cal| {
                merge(&mut cal, &ctx.body);
                store::doc_put(
                    c,
                    "calendars",
                    ctx.p("calendarId"),
                    Some(&ctx.location_id),
                    None,
                    &cal,
                )?;
                ok(json!({"calendar": cal}))
            })
        }
        "calendars.delete-calendar" => {
            owned(c, ctx, "calendars", ctx.p("calendarId")).and_then(|_| {
                store::doc_delete(c, "calendars", ctx.p("calendarId"))?;
                ok(json!({"success": true}))
            })
        }
        "calendars.get-slots" => free_slots(c, ctx),
        "calendars.create-appointment" => create_appointment(c, ctx),
        "calendars.edit-appointment" => edit_appointment(c, ctx),
        "calendars.get-appointment" => {
            owned(c, ctx, "appointments", ctx.p("eventId")).map(|e| (200, json!({"event": e})))
        }
        "calendars.delete-event" => {
            owned(c, ctx, "appointments", ctx.p("eventId")).and_then(|_| {
                store::doc_delete(c, "appointments", ctx.p("eventId"))?;
                ok(json!({"succeeded": true}))
            })
        }
        "calendars.get-calendar-events" => events(c, ctx),
        _ => return None,
    })
}

fn list(c: &Connection, ctx: &Ctx) -> Reply {
    let cals: Vec<Value> = store::doc_list(c, "calendars", Some(&ctx.location_id), None)?
        .into_iter()
        .filter(|cal| ctx.q("groupId").is_none_or(|g| str_of(cal, "groupId") == g))
        .collect();
    ok(json!({"calendars": cals}))
}

pub fn default_calendar(loc: &str, id: &str, name: &str) -> Value {
    json!({
        "id": id, "locationId": loc, "name": name, "description": "", "slug": crate::routes::locations::field_key(name),
        "widgetSlug": crate::routes::locations::field_key(name), "calendarType": "event", "widgetType": "classic",
        "eventTitle": "{{contact.name}}", "eventColor": "#039be5", "isActive": true, "groupId": "",
        "teamMembers": [], "slotDuration": 30, "slotDurationUnit": "mins", "slotInterval": 30,
        "slotIntervalUnit": "mins", "slotBuffer": 0, "preBuffer": 0, "appoinmentPerSlot": 1,
        "appoinmentPerDay": 0, "allowBookingAfter": 0, "allowBookingFor": 0,
        "openHours": [{"daysOfTheWeek": [1, 2, 3, 4, 5],
            "hours": [{"openHour": 9, "openMinute": 0, "closeHour": 17, "closeMinute": 0}]}],
        "enableRecurring": false, "notifications": [], "locationConfigurations": [],
    })
}

fn create_calendar(c: &Connection, ctx: &Ctx) -> Reply {
    let id = new_id();
    let mut cal = default_calendar(
        &ctx.location_id,
        &id,
        ctx.b_str("name").unwrap_or("Calendar"),
    );
    merge(&mut cal, &ctx.body);
    store::doc_put(c, "calendars", &id, Some(&ctx.location_id), None, &cal)?;
    created(json!({"calendar": cal}))
}

fn minutes(v: &Value, unit_key: &str, cal: &Value) -> i64 {
    let n = v.as_f64().unwrap_or(30.0) as i64;
    if cal.get(unit_key).and_then(Value::as_str) == Some("hours") {
        n * 60
    } else {
        n
    }
}

/// Booked (non-cancelled) intervals of a calendar, as `[start, end)` in ms.
fn booked(
    c: &Connection,
    loc: &str,
    calendar_id: &str,
    except: Option<&str>,
) -> rusqlite::Result<Vec<(i64, i64)>> {
    Ok(store::doc_list(c, "appointments", Some(loc), None)?
        .iter()
        .filter(|a| str_of(a, "calendarId") == calendar_id)
        .filter(|a| str_of(a, "appointmentStatus") != "cancelled")
        .filter(|a| except.is_none_or(|e| str_of(a, "id") != e))
        .filter_map(|a| {
            Some((
                parse_iso_ms(str_of(a, "startTime"))?,
                parse_iso_ms(str_of(a, "endTime"))?,
            ))
        })
        .collect())
}

fn calendar_tz(c: &Connection, ctx: &Ctx, cal: &Value) -> rusqlite::Result<String> {
    if let Some(t) = ctx.q("timezone").filter(|t| tz::known(t)) {
        return Ok(t.to_string());
    }
    if let Some(t) = cal
        .get("timezone")
        .and_then(Value::as_str)
        .filter(|t| tz::known(t))
    {
        return Ok(t.to_string());
    }
    Ok(store::doc_get(c, "locations", &ctx.location_id)?
        .and_then(|l| {
            l.get("timezone")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_else(|| "America/New_York".into()))
}

fn free_slots(c: &Connection, ctx: &Ctx) -> Reply {
    let cal = owned(c, ctx, "calendars", ctx.p("calendarId"))?;
    let (Some(start), Some(end)) = (ctx.q_num("startDate"), ctx.q_num("endDate")) else {
        return Err(ApiError::invalid(vec![
            "startDate and endDate must be epoch milliseconds".into(),
        ]));
    };
    if end < start {
        return Err(ApiError::invalid(vec![
            "endDate must be after startDate".into(),
        ]));
    }
    if end - start > 31 * 86_400_000 {
        return Err(ApiError::invalid(vec![
            "The date range must not exceed 31 days".into(),
        ]));
    }
    let zone = calendar_tz(c, ctx, &cal)?;
    let duration = minutes(&cal["slotDuration"], "slotDurationUnit", &cal).max(1);
    let interval = cal
        .get("slotInterval")
        .map(|v| minutes(v, "slotIntervalUnit", &cal))
        .unwrap_or(duration)
        .max(1);
    let taken = booked(c, &ctx.location_id, ctx.p("calendarId"), None)?;
    let open_hours = cal["openHours"].as_array().cloned().unwrap_or_default();

    let mut out = Map::new();
    let mut day = tz::local_date(&zone, start);
    let last = tz::local_date(&zone, end);
    while day <= last {
        let dow = i64::from(day.weekday().number_days_from_sunday());
        let mut slots = Vec::new();
        for oh in &open_hours {
            let days = oh["daysOfTheWeek"].as_array().cloned().unwrap_or_default();
            if !days.iter().any(|d| d.as_i64() == Some(dow)) {
                continue;
            }
            for h in oh["hours"].as_array().cloned().unwrap_or_default() {
                let open = h["openHour"].as_i64().unwrap_or(9) * 60
                    + h["openMinute"].as_i64().unwrap_or(0);
                let close = h["closeHour"].as_i64().unwrap_or(17) * 60
                    + h["closeMinute"].as_i64().unwrap_or(0);
                let mut m = open;
                while m + duration <= close {
                    let s = tz::local_to_utc_ms(&zone, day, m as i32);
                    let e = s + duration * 60_000;
                    if s >= start && s <= end && !taken.iter().any(|(bs, be)| s < *be && *bs < e) {
                        slots.push(tz::format_local(&zone, s));
                    }
                    m += interval;
                }
            }
        }
        if !slots.is_empty() {
            out.insert(day.to_string(), json!({"slots": slots}));
        }
        day = match day.next_day() {
            Some(d) => d,
            None => break,
        };
    }
    out.insert("traceId".into(), json!(new_id()));
    ok(Value::Object(out))
}

fn ms_to_iso(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(iso)
        .unwrap_or_default()
}

fn create_appointment(c: &Connection, ctx: &Ctx) -> Reply {
    let cal_id = ctx.b_str("calendarId").unwrap_or("");
    let cal = store::doc_get(c, "calendars", cal_id)?
        .filter(|cal| str_of(cal, "locationId") == ctx.location_id)
        .ok_or_else(|| ApiError::bad("Calendar not found"))?;
    let contact_id = ctx.b_str("contactId").unwrap_or("");
    cs::get(c, contact_id)?
        .filter(|ct| str_of(ct, "locationId") == ctx.location_id)
        .ok_or_else(|| ApiError::bad("Contact not found"))?;
    let start = parse_iso_ms(ctx.b_str("startTime").unwrap_or("")).ok_or_else(|| {
        ApiError::invalid(vec![
            "startTime must be a valid ISO 8601 date string".into(),
        ])
    })?;
    let end = match ctx.b_str("endTime") {
        Some(e) => parse_iso_ms(e).ok_or_else(|| {
            ApiError::invalid(vec!["endTime must be a valid ISO 8601 date string".into()])
        })?,
        None => start + minutes(&cal["slotDuration"], "slotDurationUnit", &cal) * 60_000,
    };
    if end <= start {
        return Err(ApiError::invalid(vec![
            "endTime must be after startTime".into(),
        ]));
    }
    let ignore = ctx
        .b("ignoreFreeSlotValidation")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !ignore
        && booked(c, &ctx.location_id, cal_id, None)?
            .iter()
            .any(|(bs, be)| start < *be && *bs < end)
    {
        return Err(ApiError::bad(
            "The slot you have selected is no longer available.",
        ));
    }
    let id = new_id();
    let now = now_iso();
    let mut a = json!({
        "id": id, "calendarId": cal_id, "locationId": ctx.location_id, "contactId": contact_id,
        "title": "Appointment", "appointmentStatus": "confirmed", "assignedUserId": "", "address": "",
        "groupId": str_of(&cal, "groupId"), "users": [], "notes": "", "description": "",
        "isRecurring": false, "dateAdded": now, "dateUpdated": now,
    });
    merge(&mut a, &ctx.body);
    a["startTime"] = json!(ms_to_iso(start));
    a["endTime"] = json!(ms_to_iso(end));
    store::doc_put(
        c,
        "appointments",
        &id,
        Some(&ctx.location_id),
        Some(cal_id),
        &a,
    )?;
    ok(a)
}

fn edit_appointment(c: &Connection, ctx: &Ctx) -> Reply {
    let id = ctx.p("eventId");
    let mut a = owned(c, ctx, "appointments", id)?;
    merge(&mut a, &ctx.body);
    let (Some(start), Some(end)) = (
        parse_iso_ms(str_of(&a, "startTime")),
        parse_iso_ms(str_of(&a, "endTime")),
    ) else {
        return Err(ApiError::invalid(vec![
            "startTime and endTime must be valid ISO 8601 date strings".into(),
        ]));
    };
    let ignore = ctx
        .b("ignoreFreeSlotValidation")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let moving = ctx.b("startTime").is_some() || ctx.b("endTime").is_some();
    if moving && !ignore && str_of(&a, "appointmentStatus") != "cancelled" {
        let cal = str_of(&a, "calendarId").to_string();
        if booked(c, &ctx.location_id, &cal, Some(id))?
            .iter()
            .any(|(bs, be)| start < *be && *bs < end)
        {
            return Err(ApiError::bad(
                "The slot you have selected is no longer available.",
            ));
        }
    }
    a["startTime"] = json!(ms_to_iso(start));
    a["endTime"] = json!(ms_to_iso(end));
    a["id"] = json!(id);
    a["dateUpdated"] = json!(now_iso());
    let cal = str_of(&a, "calendarId").to_string();
    store::doc_put(
        c,
        "appointments",
        id,
        Some(&ctx.location_id),
        Some(&cal),
        &a,
    )?;
    ok(a)
}

fn events(c: &Connection, ctx: &Ctx) -> Reply {
    let from = ctx.q_num("startTime").unwrap_or(i64::MIN);
    let to = ctx.q_num("endTime").unwrap_or(i64::MAX);
    let evs: Vec<Value> = store::doc_list(c, "appointments", Some(&ctx.location_id), None)?
        .into_iter()
        .filter(|a| {
            ctx.q("calendarId")
                .is_none_or(|id| str_of(a, "calendarId") == id)
        })
        .filter(|a| {
            ctx.q("userId")
                .is_none_or(|id| str_of(a, "assignedUserId") == id)
        })
        .filter(|a| ctx.q("groupId").is_none_or(|id| str_of(a, "groupId") == id))
        .filter(|a| parse_iso_ms(str_of(a, "startTime")).is_some_and(|s| s >= from && s <= to))
        .collect();
    ok(json!({"events": evs}))
}
