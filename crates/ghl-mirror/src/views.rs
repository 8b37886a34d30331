//! Views for people. `contacts_wide` has one column per contact custom
//! field, named by its key (`contact.lead_source` → `lead_source`); it is
//! rebuilt whenever the field definitions are synced.

use ghl_store::{Result, Tx, Value};

/// Columns of `contacts` a custom field key may not shadow.
const BASE: &[&str] = &[
    "id",
    "first_name",
    "last_name",
    "name",
    "email",
    "phone",
    "company_name",
    "source",
    "type",
    "assigned_to",
    "dnd",
    "tags",
    "date_added",
    "date_added_ms",
    "date_updated",
    "date_updated_ms",
    "email_key",
    "phone_key",
    "raw",
];

/// A custom field key as a safe column name.
pub fn column_for_key(key: &str) -> Option<String> {
    let key = key.strip_prefix("contact.").unwrap_or(key);
    let mut col: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    col = col.trim_matches('_').to_string();
    if col.is_empty() || col.len() > 60 {
        return None;
    }
    if col.starts_with(|c: char| c.is_ascii_digit()) || BASE.contains(&col.as_str()) {
        col = format!("cf_{col}");
    }
    Some(col)
}

pub fn rebuild_contacts_wide(tx: &mut dyn Tx) -> Result<()> {
    let fields = tx.query(
        "SELECT id, field_key FROM custom_fields
         WHERE (model IS NULL OR model = 'contact') AND field_key IS NOT NULL ORDER BY field_key, id",
        &[],
    )?;
    let mut used: Vec<String> = Vec::new();
    let mut select = String::from("SELECT c.*");
    for f in fields {
        let (Some(id), Some(key)) = (
            f.get("id").and_then(Value::as_str),
            f.get("field_key").and_then(Value::as_str),
        ) else {
            continue;
        };
        let Some(col) = column_for_key(key) else {
            continue;
        };
        if used.contains(&col) {
            continue;
        }
        // Ids come from the API: keep them out of the SQL text unless they
        // are plain identifiers.
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            continue;
        }
        select.push_str(&format!(
            ",\n (SELECT v.value FROM contact_field_values v WHERE v.contact_id = c.id AND v.field_id = '{id}') AS \"{col}\""
        ));
        used.push(col);
    }
    select.push_str("\nFROM contacts c");
    tx.batch(&format!(
        "DROP VIEW IF EXISTS contacts_wide; CREATE VIEW contacts_wide AS {select};"
    ))
}

#[cfg(test)]
mod tests {
    use super::column_for_key;

    #[test]
    fn keys_become_safe_columns() {
        assert_eq!(
            column_for_key("contact.lead_source").unwrap(),
            "lead_source"
        );
        assert_eq!(
            column_for_key("contact.Deal Size ($)").unwrap(),
            "deal_size"
        );
        assert_eq!(column_for_key("contact.email").unwrap(), "cf_email");
        assert_eq!(column_for_key("contact.1st_call").unwrap(), "cf_1st_call");
        assert!(column_for_key("contact.\"; DROP").is_some_and(|c| !c.contains('"')));
        assert!(column_for_key("contact.").is_none());
    }
}
