//! Just enough time-zone knowledge for free slots, without a tz database:
//! fixed standard offsets plus the US and EU daylight-saving rules.

use time::{Date, Month, OffsetDateTime, Weekday};

enum Dst {
    None,
    Us,
    Eu,
}

/// Standard offset in minutes and DST rule; `None` for an unknown zone.
fn zone(name: &str) -> Option<(i32, Dst)> {
    Some(match name {
        "UTC" | "Etc/UTC" | "GMT" => (0, Dst::None),
        "America/New_York" | "US/Eastern" | "America/Detroit" | "America/Toronto" => {
            (-300, Dst::Us)
        }
        "America/Chicago" | "US/Central" => (-360, Dst::Us),
        "America/Denver" | "US/Mountain" => (-420, Dst::Us),
        "America/Phoenix" => (-420, Dst::None),
        "America/Los_Angeles" | "US/Pacific" | "America/Vancouver" => (-480, Dst::Us),
        "America/Anchorage" => (-540, Dst::Us),
        "Pacific/Honolulu" => (-600, Dst::None),
        "Europe/London" | "Europe/Dublin" | "Europe/Lisbon" => (0, Dst::Eu),
        "Europe/Paris" | "Europe/Berlin" | "Europe/Madrid" | "Europe/Rome" | "Europe/Amsterdam" => {
            (60, Dst::Eu)
        }
        "Europe/Athens" | "Europe/Helsinki" => (120, Dst::Eu),
        "Asia/Kolkata" | "Asia/Calcutta" => (330, Dst::None),
        "Asia/Dubai" => (240, Dst::None),
        "Asia/Singapore" => (480, Dst::None),
        "Asia/Tokyo" => (540, Dst::None),
        "Australia/Brisbane" => (600, Dst::None),
        _ => return None,
    })
}

pub fn known(name: &str) -> bool {
    zone(name).is_some()
}

fn nth_sunday(year: i32, month: Month, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let skip = (7 + 7 - first.weekday().number_days_from_sunday()) % 7;
    first.checked_add(time::Duration::days(i64::from(skip) + 7 * i64::from(n - 1)))
}

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let next = match month {
        Month::December => Date::from_calendar_date(year + 1, Month::January, 1).ok()?,
        m => Date::from_calendar_date(year, m.next(), 1).ok()?,
    };
    let mut d = next.previous_day()?;
    while d.weekday() != Weekday::Sunday {
        d = d.previous_day()?;
    }
    Some(d)
}

fn utc_ms(d: Date, hour: u8, minus_minutes: i32) -> i64 {
    let t = d
        .with_hms(hour, 0, 0)
        .map(|dt| dt.assume_utc())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    (t.unix_timestamp() - i64::from(minus_minutes) * 60) * 1000
}

/// Offset from UTC (minutes) in zone `name` at instant `ms`; unknown zones are UTC.
pub fn offset_at(name: &str, ms: i64) -> i32 {
    let Some((std, rule)) = zone(name) else {
        return 0;
    };
    let year = OffsetDateTime::from_unix_timestamp(ms / 1000)
        .map(|t| t.year())
        .unwrap_or(1970);
    let in_dst = match rule {
        Dst::None => false,
        Dst::Us => {
            // 02:00 local standard time → 02:00 local daylight time.
            let start = nth_sunday(year, Month::March, 2).map(|d| utc_ms(d, 2, std));
            let end = nth_sunday(year, Month::November, 1).map(|d| utc_ms(d, 2, std + 60));
            matches!((start, end), (Some(s), Some(e)) if ms >= s && ms < e)
        }
        Dst::Eu => {
            let start = last_sunday(year, Month::March).map(|d| utc_ms(d, 1, 0));
            let end = last_sunday(year, Month::October).map(|d| utc_ms(d, 1, 0));
            matches!((start, end), (Some(s), Some(e)) if ms >= s && ms < e)
        }
    };
    if in_dst { std + 60 } else { std }
}

/// The UTC instant (ms) of a local wall-clock time in zone `name`.
pub fn local_to_utc_ms(name: &str, date: Date, minutes_of_day: i32) -> i64 {
    let naive =
        (date.midnight().assume_utc().unix_timestamp() + i64::from(minutes_of_day) * 60) * 1000;
    // Guess with the offset at the naive instant, then correct once.
    let guess = naive - i64::from(offset_at(name, naive)) * 60_000;
    naive - i64::from(offset_at(name, guess)) * 60_000
}

/// The local date of instant `ms` in zone `name`.
pub fn local_date(name: &str, ms: i64) -> Date {
    let local = ms + i64::from(offset_at(name, ms)) * 60_000;
    OffsetDateTime::from_unix_timestamp(local.div_euclid(1000))
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

/// ISO-8601 with the zone's offset, e.g. `2024-05-06T09:00:00-04:00`.
pub fn format_local(name: &str, ms: i64) -> String {
    let off = offset_at(name, ms);
    let t = OffsetDateTime::from_unix_timestamp((ms + i64::from(off) * 60_000).div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let sign = if off < 0 { '-' } else { '+' };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        off.abs() / 60,
        off.abs() % 60
    )
}
