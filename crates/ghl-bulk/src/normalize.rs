//! Emails and phone numbers as HighLevel matches them: an email trimmed and
//! lower-cased, a phone in E.164. Upsert matches by these values, so a row
//! written twice must normalise to the same text both times.

/// Country calling codes for `--default-country`, by ISO 3166 alpha-2, and
/// whether the country drops a leading trunk `0` from national numbers.
const COUNTRIES: &[(&str, &str, bool)] = &[
    ("US", "1", false),
    ("CA", "1", false),
    ("PR", "1", false),
    ("GB", "44", true),
    ("UK", "44", true),
    ("IE", "353", true),
    ("AU", "61", true),
    ("NZ", "64", true),
    ("ZA", "27", true),
    ("IN", "91", true),
    ("DE", "49", true),
    ("FR", "33", true),
    ("ES", "34", false),
    ("IT", "39", false),
    ("NL", "31", true),
    ("BE", "32", true),
    ("CH", "41", true),
    ("AT", "43", true),
    ("SE", "46", true),
    ("NO", "47", false),
    ("DK", "45", false),
    ("FI", "358", true),
    ("PT", "351", false),
    ("PL", "48", false),
    ("MX", "52", false),
    ("BR", "55", true),
    ("AR", "54", true),
    ("CO", "57", false),
    ("CL", "56", false),
    ("PH", "63", true),
    ("SG", "65", false),
    ("MY", "60", true),
    ("AE", "971", true),
    ("IL", "972", true),
    ("JP", "81", true),
    ("KR", "82", true),
    ("CN", "86", true),
    ("HK", "852", false),
    ("NG", "234", true),
    ("KE", "254", true),
];

/// A default country the phone rules know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    pub code: &'static str,
    calling: &'static str,
    trunk_zero: bool,
}

impl Country {
    pub fn parse(iso: &str) -> Option<Country> {
        let iso = iso.trim().to_ascii_uppercase();
        COUNTRIES
            .iter()
            .find(|(c, _, _)| *c == iso)
            .map(|(code, calling, trunk_zero)| Country {
                code,
                calling,
                trunk_zero: *trunk_zero,
            })
    }

    pub fn known() -> String {
        COUNTRIES
            .iter()
            .map(|(c, _, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `Jane.Doe@Example.COM ` -> `jane.doe@example.com`, or why it is not an
/// email address.
pub fn email(raw: &str) -> Result<String, String> {
    let e = raw.trim().trim_matches(|c| c == '<' || c == '>').trim();
    let e = e.strip_prefix("mailto:").unwrap_or(e).to_lowercase();
    let bad = |why: &str| Err(format!("bad email {raw:?}: {why}"));
    if e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("contains spaces");
    }
    let Some((local, domain)) = e.rsplit_once('@') else {
        return bad("no @");
    };
    if local.is_empty() || local.contains('@') {
        return bad("the part before @ is empty or holds another @");
    }
    if local.len() > 64 || e.len() > 254 {
        return bad("too long");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels.iter().any(|l| {
            l.is_empty()
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
    {
        return bad("the domain is not a domain name");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return bad("dots out of place");
    }
    Ok(e)
}

/// A phone number in E.164 (`+15551234567`), or why it cannot be one.
/// Numbers without a country code take `default`'s.
pub fn phone(raw: &str, default: Option<Country>) -> Result<String, String> {
    let text = raw.trim();
    // An extension is not part of the number HighLevel matches on.
    let text = ["ext", "x", "#"]
        .iter()
        .filter_map(|m| text.to_ascii_lowercase().find(m))
        .min()
        .map_or(text, |i| &text[..i])
        .trim();
    let bad = |why: &str| Err(format!("bad phone {raw:?}: {why}"));
    if text
        .chars()
        .any(|c| !(c.is_ascii_digit() || " +-.()/".contains(c)))
    {
        return bad("only digits, spaces, + - . ( ) are allowed");
    }
    let plus = text.starts_with('+');
    if text[usize::from(plus)..].contains('+') {
        return bad("+ only at the start");
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        let Some(c) = default else {
            return bad("no country code; give one (+44…) or pass --default-country");
        };
        let national = if c.calling == "1" && digits.len() == 11 && digits.starts_with('1') {
            &digits[1..]
        } else if c.trunk_zero {
            digits.strip_prefix('0').unwrap_or(&digits)
        } else {
            &digits
        };
        if c.calling == "1" && national.len() != 10 {
            return bad("a North American number has 10 digits");
        }
        format!("{}{national}", c.calling)
    };
    if !(8..=15).contains(&international.len()) || international.starts_with('0') {
        return bad("an international number has 8 to 15 digits after +");
    }
    Ok(format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(
            email("  Jane.Doe@Example.COM ").unwrap(),
            "jane.doe@example.com"
        );
        assert_eq!(email("<a@b.co>").unwrap(), "a@b.co");
        for bad in [
            "",
            "jane",
            "jane@",
            "@x.com",
            "a b@x.com",
            "a@x",
            "a@-x.com",
            "a@@x.com",
            "a..b@x.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        let us = Country::parse("us");
        let gb = Country::parse("GB");
        assert_eq!(phone("(555) 123-4567", us).unwrap(), "+15551234567");
        assert_eq!(phone("1-555-123-4567", us).unwrap(), "+15551234567");
        assert_eq!(phone("+1 555 123 4567", None).unwrap(), "+15551234567");
        assert_eq!(phone("0044 20 7946 0958", None).unwrap(), "+442079460958");
        assert_eq!(phone("020 7946 0958", gb).unwrap(), "+442079460958");
        assert_eq!(phone("555-123-4567 ext 12", us).unwrap(), "+15551234567");
        assert!(phone("555-1234", us).is_err());
        assert!(phone("5551234567", None).is_err());
        assert!(phone("call me", us).is_err());
        assert!(phone("+1 555 +123", us).is_err());
        assert!(phone("+123", None).is_err());
        assert!(Country::parse("ZZ").is_none());
    }
}
