//! Calendars: free slots, booking, rescheduling, cancelling.

use ghl_core::{CallArgs, Error};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::{ConfirmOpt, ListOpts, Plan, ToolDef, curated, opt};
use crate::options::Toolset::Calendars;

const EDIT: &str = "calendars.edit-appointment";

#[derive(Deserialize, JsonSchema)]
struct List {
    #[serde(flatten)]
    #[allow(dead_code)]
    list: ListOpts,
}

// A day (`2026-07-01`), a date-time (RFC 3339) or epoch milliseconds.
#[derive(Deserialize, JsonSchema)]
#[serde(untagged)]
enum When {
    Millis(i64),
    Text(String),
}

impl When {
    /// Epoch ms for a start (`end` false) or end bound, and the day when a
    /// bare date was given: a bare end date includes that whole day.
    fn bound(self, name: &str, end: bool) -> Result<(i64, Option<time::Date>), Error> {
        if let When::Text(t) = &self
            && let Some(d) = crate::slots::bare_date(t)
        {
            let ms = if end {
                crate::slots::end_ms(d)
            } else {
                crate::slots::start_ms(d)
            };
            return Ok((ms, Some(d)));
        }
        Ok((self.millis(name)?, None))
    }

    fn millis(self, name: &str) -> Result<i64, Error> {
        use time::format_description::well_known::Rfc3339;
        match self {
            When::Millis(m) => Ok(m),
            When::Text(t) => {
                let t = t.trim();
                if let Ok(dt) = time::OffsetDateTime::parse(t, &Rfc3339) {
                    return Ok((dt.unix_timestamp_nanos() / 1_000_000) as i64);
                }
                let fmt = time::macros::format_description!("[year]-[month]-[day]");
                time::Date::parse(t, &fmt)
                    .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
                    .map_err(|_| {
                        Error::validation(format!(
                            "{name} must be YYYY-MM-DD, RFC 3339 or epoch ms"
                        ))
                    })
            }
        }
    }
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Slots {
    calendar_id: String,
    /// YYYY-MM-DD, RFC 3339 or epoch ms
    start_date: When,
    /// YYYY-MM-DD, RFC 3339 or epoch ms
    end_date: When,
    /// IANA zone, e.g. America/New_York
    timezone: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Book {
    calendar_id: String,
    contact_id: String,
    /// RFC 3339, e.g. 2026-07-01T15:00:00-04:00
    start_time: String,
    end_time: Option<String>,
    title: Option<String>,
    assigned_user_id: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Reschedule {
    /// Appointment (event) id
    event_id: String,
    start_time: String,
    end_time: Option<String>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Cancel {
    /// Appointment (event) id
    event_id: String,
    #[serde(flatten)]
    #[allow(dead_code)]
    confirm: ConfirmOpt,
}

pub fn tools() -> Vec<ToolDef> {
    vec![
        curated(
            "list_calendars",
            "List calendars",
            Calendars,
            "calendars.get-calendars",
            "Calendars of the location (ids for booking).",
            |_: List| Ok(Plan::list("calendars.get-calendars", CallArgs::new())),
        ),
        curated(
            "get_free_slots",
            "Free slots",
            Calendars,
            "calendars.get-slots",
            "Open slots between two dates (a bare date is that whole day); also the time now.",
            |a: Slots| {
                let (start, first) = a.start_date.bound("startDate", false)?;
                let (end, last) = a.end_date.bound("endDate", true)?;
                let mut args = CallArgs::new()
                    .param("calendarId", a.calendar_id)
                    .param("startDate", Value::from(start))
                    .param("endDate", Value::from(end));
                opt(&mut args, "timezone", a.timezone);
                let mut plan = Plan::call("calendars.get-slots", args);
                plan.slots = Some(crate::slots::Days { first, last });
                Ok(plan)
            },
        ),
        curated(
            "book_appointment",
            "Book an appointment",
            Calendars,
            "calendars.create-appointment",
            "Book a contact into a calendar slot (see get_free_slots).",
            |a: Book| {
                let mut args = CallArgs::new()
                    .param("calendarId", a.calendar_id)
                    .param("contactId", a.contact_id)
                    .param("startTime", a.start_time);
                opt(&mut args, "endTime", a.end_time);
                opt(&mut args, "title", a.title);
                opt(&mut args, "assignedUserId", a.assigned_user_id);
                Ok(Plan::call("calendars.create-appointment", args))
            },
        ),
        curated(
            "reschedule_appointment",
            "Reschedule an appointment",
            Calendars,
            EDIT,
            "Move an appointment to a new time.",
            |a: Reschedule| {
                let mut args = CallArgs::new()
                    .param("eventId", a.event_id)
                    .param("startTime", a.start_time);
                opt(&mut args, "endTime", a.end_time);
                Ok(Plan::call(EDIT, args))
            },
        ),
        curated(
            "cancel_appointment",
            "Cancel an appointment",
            Calendars,
            EDIT,
            "Cancel an appointment (the contact may be told). Asks the user first.",
            |a: Cancel| {
                Ok(Plan::call(
                    EDIT,
                    CallArgs::new()
                        .param("eventId", a.event_id)
                        .param("appointmentStatus", "cancelled"),
                ))
            },
        )
        .confirmed(),
    ]
}
