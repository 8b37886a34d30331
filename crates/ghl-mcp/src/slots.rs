//! Free slots by calendar day. A day given without a time means that whole
//! day where the calendar is (its time zone, else the location's), not
//! midnight UTC: an end date of `2026-07-01` includes the 1st's slots.
//!
//! Without a time-zone database the window is asked wide (a day either
//! side covers every offset) and the answer, keyed by the calendar's local
//! dates, is cut back to the days asked for. An empty answer says so, and
//! every answer carries the time now and the zone, so "next Tuesday" can
//! be worked out.

use ghl_core::{CallArgs, Client, Error};
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// The day range asked for, when either end was a bare date.
#[derive(Debug, Clone)]
pub struct Days {
    pub first: Option<Date>,
    pub last: Option<Date>,
}

const DAY_MS: i64 = 86_400_000;
/// Farther than any time zone is from UTC.
const PAD_MS: i64 = 15 * 3_600_000;

/// A bare `YYYY-MM-DD`.
pub fn bare_date(text: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.trim(), &fmt).ok()
}

fn utc_midnight_ms(d: Date) -> i64 {
    d.midnight().assume_utc().unix_timestamp() * 1000
}

/// The request window for a start day: early enough for any zone.
pub fn start_ms(d: Date) -> i64 {
    utc_midnight_ms(d) - PAD_MS
}

/// The request window for an end day: its whole day in any zone.
pub fn end_ms(d: Date) -> i64 {
    utc_midnight_ms(d) + DAY_MS + PAD_MS
}

/// The zone slots are counted in: the one asked for, else the calendar's,
/// else the location's.
pub async fn zone(client: &Client, args: &CallArgs, location: Option<&str>) -> Option<String> {
    if let Some(z) = args.params.get("timezone").and_then(Value::as_str) {
        return Some(z.to_string());
    }
    let text = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from)
    };
    if let Some(cal) = args.params.get("calendarId").cloned()
        && let Ok(v) = client
            .call(
                "calendars.get-calendar",
                CallArgs::new().param("calendarId", cal),
            )
            .await
        && let Some(z) = text(&v, "/calendar/timezone")
    {
        return Some(z);
    }
    let loc = location?;
    let v = client
        .call(
            "locations.get-location",
            CallArgs::new().param("locationId", loc),
        )
        .await
        .ok()?;
    text(&v, "/location/timezone")
}

/// Keep the days asked for, say plainly when there are none, and add the
/// time now and the zone.
pub fn finish(body: Value, days: Option<&Days>, zone: Option<&str>, window: (i64, i64)) -> Value {
    let Value::Object(map) = body else {
        return body;
    };
    let mut slots = Map::new();
    for (k, v) in map {
        let Some(d) = bare_date(&k) else { continue };
        let inside =
            days.is_none_or(|r| r.first.is_none_or(|f| d >= f) && r.last.is_none_or(|l| d <= l));
        if inside {
            slots.insert(k, v);
        }
    }
    let shown = |ms: i64, day: Option<Date>| match day {
        Some(d) => d.to_string(),
        None => OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| ms.to_string()),
    };
    let from = shown(window.0, days.and_then(|d| d.first));
    let to = shown(window.1, days.and_then(|d| d.last));
    let now = OffsetDateTime::now_utc();
    let mut out = json!({
        "now": now.format(&Rfc3339).unwrap_or_default(),
        "todayUtc": format!("{} {}", now.weekday(), now.date()),
    });
    if let Some(z) = zone {
        out["timezone"] = json!(z);
    }
    if slots.is_empty() {
        out["slots"] = json!({});
        out["note"] = json!(format!(
            "no free slots between {from} and {to}{}",
            zone.map(|z| format!(" ({z})")).unwrap_or_default()
        ));
    } else {
        out["slots"] = Value::Object(slots);
    }
    out
}

/// `startDate`/`endDate` of the request as sent.
pub fn window(args: &CallArgs) -> Result<(i64, i64), Error> {
    let get = |k: &str| {
        args.params
            .get(k)
            .and_then(Value::as_i64)
            .ok_or_else(|| Error::validation(format!("{k} is missing")))
    };
    Ok((get("startDate")?, get("endDate")?))
}
