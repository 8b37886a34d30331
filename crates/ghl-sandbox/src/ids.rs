//! Ids shaped like HighLevel's: 20 alphanumeric characters, random (never an
//! autoincrement, so two processes sharing a database cannot collide).

use rand::Rng;

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub fn new_id() -> String {
    id_from(&mut rand::rng())
}

/// An id from a given generator, so the demo seed is reproducible.
pub fn id_from<R: Rng + ?Sized>(rng: &mut R) -> String {
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Current time as an ISO-8601 UTC string with milliseconds, like HighLevel's.
pub fn now_iso() -> String {
    iso(time::OffsetDateTime::now_utc())
}

pub fn iso(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Parse an ISO-8601 timestamp (RFC 3339) into epoch milliseconds.
pub fn parse_iso_ms(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    Some((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Monotonic-enough ordering key for generic documents (creation order).
pub fn seq() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000) as i64
}
