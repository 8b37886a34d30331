//! Contacts that share one `dateAdded`, as an import leaves them: what a
//! walk cut at dates must divide without repeating or losing any.

use rusqlite::{Connection, TransactionBehavior};
use serde_json::json;

use crate::contact_store as cs;
use crate::ids::{new_id, parse_iso_ms};

/// Insert `n` contacts into `loc`, every one added at `added` (ISO-8601).
pub fn contacts(conn: &mut Connection, loc: &str, n: usize, added: &str) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let stamp = parse_iso_ms(added).unwrap_or(0);
    for i in 0..n {
        let id = new_id();
        let email = format!("import.{stamp}.{i}@bulk.example.com");
        let ct = json!({
            "id": id, "locationId": loc, "firstName": "Import", "lastName": format!("{i}"),
            "name": format!("Import {i}"), "email": email, "emailLowerCase": email,
            "tags": ["import"], "customFields": [], "type": "lead", "source": "import",
            "dnd": false, "dndSettings": {}, "dateAdded": added, "dateUpdated": added,
            "firstNameLowerCase": "import", "lastNameLowerCase": format!("{i}"),
        });
        cs::put(&tx, &ct)?;
    }
    tx.commit()
}
