//! Which contact field each column of the user's file fills. The headers
//! people's exports carry map by themselves, whatever their case and
//! spacing; `--map "Header=target"` adds or overrides; a header equal to a
//! custom field's key or name fills that custom field.

use std::collections::HashMap;

use ghl_core::custom_fields::FieldSet;

/// Where one column's values go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A top-level upsert field (`firstName`, `email`...).
    Field(&'static str),
    /// A full name, split when first and last are not given.
    FullName,
    /// Tags, comma- or semicolon-separated.
    Tags,
    /// A custom field by key (`contact.lead_source`) as the user wrote it.
    Custom(String),
    Skip,
}

/// Headers as people write them, squashed (lower case, letters and digits).
const STANDARD: &[(&str, &str)] = &[
    ("firstname", "firstName"),
    ("first", "firstName"),
    ("givenname", "firstName"),
    ("lastname", "lastName"),
    ("last", "lastName"),
    ("surname", "lastName"),
    ("familyname", "lastName"),
    ("email", "email"),
    ("emailaddress", "email"),
    ("mail", "email"),
    ("phone", "phone"),
    ("phonenumber", "phone"),
    ("mobile", "phone"),
    ("mobilephone", "phone"),
    ("mobilenumber", "phone"),
    ("cell", "phone"),
    ("cellphone", "phone"),
    ("telephone", "phone"),
    ("companyname", "companyName"),
    ("company", "companyName"),
    ("organization", "companyName"),
    ("organisation", "companyName"),
    ("businessname", "companyName"),
    ("source", "source"),
    ("contactsource", "source"),
    ("address", "address1"),
    ("address1", "address1"),
    ("streetaddress", "address1"),
    ("street", "address1"),
    ("city", "city"),
    ("town", "city"),
    ("state", "state"),
    ("province", "state"),
    ("region", "state"),
    ("postalcode", "postalCode"),
    ("postcode", "postalCode"),
    ("zip", "postalCode"),
    ("zipcode", "postalCode"),
    ("country", "country"),
    ("website", "website"),
    ("web", "website"),
    ("url", "website"),
    ("timezone", "timezone"),
    ("tz", "timezone"),
    ("dateofbirth", "dateOfBirth"),
    ("dob", "dateOfBirth"),
    ("birthday", "dateOfBirth"),
    ("gender", "gender"),
];

/// Field names a `--map` target may use besides custom keys.
const TARGETS: &[&str] = &[
    "firstName",
    "lastName",
    "email",
    "phone",
    "companyName",
    "source",
    "address1",
    "city",
    "state",
    "postalCode",
    "country",
    "website",
    "timezone",
    "dateOfBirth",
    "gender",
];

pub fn squash(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The mapping for one import.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    overrides: HashMap<String, Target>,
    customs: FieldSet,
}

impl Mapping {
    /// `--map` values (`Header=target`) and the location's custom fields.
    pub fn new(maps: &[String], customs: FieldSet) -> Result<Mapping, String> {
        let mut overrides = HashMap::new();
        for m in maps {
            let Some((header, target)) = m.split_once('=') else {
                return Err(format!(
                    "--map {m:?} is not HEADER=TARGET (e.g. \"Lead Source=contact.lead_source\")"
                ));
            };
            let (header, target) = (header.trim(), target.trim());
            if header.is_empty() || target.is_empty() {
                return Err(format!("--map {m:?} needs a header and a target"));
            }
            overrides.insert(squash(header), parse_target(target)?);
        }
        Ok(Mapping { overrides, customs })
    }

    pub fn customs(&self) -> &FieldSet {
        &self.customs
    }

    /// Where a column goes.
    pub fn target(&self, header: &str) -> Target {
        let s = squash(header);
        if let Some(t) = self.overrides.get(&s) {
            return t.clone();
        }
        if let Some((_, f)) = STANDARD.iter().find(|(h, _)| *h == s) {
            return Target::Field(f);
        }
        if matches!(s.as_str(), "name" | "fullname" | "contactname") {
            return Target::FullName;
        }
        if s == "tags" || s == "tag" || s == "labels" || is_numbered_tag(&s) {
            return Target::Tags;
        }
        if let Some(f) = self.customs.fields.iter().find(|f| {
            f.key.eq_ignore_ascii_case(header.trim())
                || squash(&f.name) == s
                || squash(f.short_key()) == s
        }) {
            return Target::Custom(f.key.clone());
        }
        Target::Skip
    }

    /// Headers that fill nothing, to tell the user before anything is sent.
    pub fn ignored(&self, headers: &[String]) -> Vec<String> {
        headers
            .iter()
            .filter(|h| !h.is_empty() && self.target(h) == Target::Skip)
            .filter(|h| {
                !self
                    .overrides
                    .get(&squash(h))
                    .is_some_and(|t| *t == Target::Skip)
            })
            .cloned()
            .collect()
    }
}

fn is_numbered_tag(s: &str) -> bool {
    s.strip_prefix("tag")
        .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn parse_target(t: &str) -> Result<Target, String> {
    if t.eq_ignore_ascii_case("tags") || t.eq_ignore_ascii_case("tag") {
        return Ok(Target::Tags);
    }
    if t.eq_ignore_ascii_case("skip") || t.eq_ignore_ascii_case("ignore") {
        return Ok(Target::Skip);
    }
    if t.eq_ignore_ascii_case("name") || t.eq_ignore_ascii_case("fullName") {
        return Ok(Target::FullName);
    }
    if let Some(f) = TARGETS.iter().find(|f| f.eq_ignore_ascii_case(t)) {
        return Ok(Target::Field(f));
    }
    if let Some(key) = t.strip_prefix("contact.").filter(|k| !k.is_empty()) {
        return Ok(Target::Custom(format!("contact.{key}")));
    }
    Err(format!(
        "--map target {t:?} is not a field ({}), tags, skip, or a custom field key like contact.lead_source",
        TARGETS.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn common_headers_map_by_themselves() {
        let customs = FieldSet::from_body(&json!({"customFields": [
            {"id": "f1", "name": "Lead Source", "fieldKey": "contact.lead_source", "model": "contact"}
        ]}));
        let m = Mapping::new(&["Interest=tags".into(), "Notes=skip".into()], customs).unwrap();
        assert_eq!(m.target("First Name"), Target::Field("firstName"));
        assert_eq!(m.target(" EMAIL "), Target::Field("email"));
        assert_eq!(m.target("e-mail"), Target::Field("email"));
        assert_eq!(m.target("Postal Code"), Target::Field("postalCode"));
        assert_eq!(m.target("Company Name"), Target::Field("companyName"));
        assert_eq!(m.target("Full Name"), Target::FullName);
        assert_eq!(m.target("Tag 2"), Target::Tags);
        assert_eq!(m.target("Interest"), Target::Tags);
        assert_eq!(
            m.target("lead source"),
            Target::Custom("contact.lead_source".into())
        );
        assert_eq!(
            m.target("contact.lead_source"),
            Target::Custom("contact.lead_source".into())
        );
        assert_eq!(m.target("Favourite Colour"), Target::Skip);
        let ignored = m.ignored(&["Notes".into(), "Favourite Colour".into(), "Email".into()]);
        assert_eq!(ignored, vec!["Favourite Colour".to_string()]);
    }

    #[test]
    fn bad_map_flags() {
        assert!(Mapping::new(&["Lead Source".into()], FieldSet::default()).is_err());
        assert!(Mapping::new(&["X=nonsense".into()], FieldSet::default()).is_err());
        let m = Mapping::new(&["LS=contact.lead_source".into()], FieldSet::default()).unwrap();
        assert_eq!(m.target("ls"), Target::Custom("contact.lead_source".into()));
    }
}
