//! Several stores of one kind side by side in one place: on SQLite each has
//! its file already (the name is in the path); on a shared Postgres each
//! gets a schema of its own in the one database, selected per connection
//! through `search_path`, so a plane's unqualified table names (and user SQL
//! such as `ghl sql`) see that store's tables and no other's.

use crate::error::{Error, Result};
use crate::location::StoreUrl;

/// Postgres silently truncates longer identifiers, which would let two
/// scopes collide; such a scope is refused instead.
const MAX_IDENT: usize = 63;

/// The store `scope` inside `url`: the URL itself for a SQLite file, a
/// schema of that name (created when missing) for Postgres.
///
/// `scope` may hold letters, digits, `-` and `_`; case is kept (the schema
/// name is quoted), so ids differing only in case stay apart.
pub fn scoped(url: &StoreUrl, scope: &str) -> Result<StoreUrl> {
    let StoreUrl::Postgres(base) = url else {
        return Ok(url.clone());
    };
    check_scope(scope)?;
    crate::postgres::exec_outside_tx(base, &format!("CREATE SCHEMA IF NOT EXISTS \"{scope}\""))
        .or_else(|e| {
            // Two processes creating the same schema at once: the loser's
            // CREATE fails on the catalog's unique index though the schema
            // now exists, which is what was wanted.
            // A role that may not create schemas (one that only reads)
            // uses the schema as it is; a missing one shows at first use.
            let text = e.to_string();
            if text.contains("already exists")
                || text.contains("duplicate key")
                || text.contains("permission denied")
            {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    Ok(StoreUrl::Postgres(with_search_path(base, scope)))
}

fn check_scope(scope: &str) -> Result<()> {
    if scope.is_empty()
        || scope.len() > MAX_IDENT
        || !scope
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Error::Config(format!(
            "`{scope}` cannot name a Postgres schema: use at most {MAX_IDENT} letters, digits, - and _"
        )));
    }
    Ok(())
}

/// `url` with `options=-c search_path="scope"` (percent-encoded), replacing
/// any `options` it had: the scope decides where unqualified names go.
fn with_search_path(url: &str, scope: &str) -> String {
    let option = format!("options=-c%20search_path%3D%22{scope}%22");
    match url.split_once('?') {
        Some((head, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|kv| !kv.is_empty() && !kv.starts_with("options="))
                .collect();
            if kept.is_empty() {
                format!("{head}?{option}")
            } else {
                format!("{head}?{}&{option}", kept.join("&"))
            }
        }
        None => format!("{url}?{option}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_path_replaces_options_and_keeps_the_rest() {
        assert_eq!(
            with_search_path("postgres://u@h/db", "m-A_1"),
            "postgres://u@h/db?options=-c%20search_path%3D%22m-A_1%22"
        );
        assert_eq!(
            with_search_path("postgres://u@h/db?sslmode=disable&options=x", "s"),
            "postgres://u@h/db?sslmode=disable&options=-c%20search_path%3D%22s%22"
        );
    }

    #[test]
    fn odd_scopes_are_refused() {
        assert!(check_scope("a\"b").is_err());
        assert!(check_scope("").is_err());
        assert!(check_scope(&"x".repeat(64)).is_err());
        assert!(check_scope("mirror-default-AbC_09").is_ok());
    }

    #[test]
    fn sqlite_urls_are_already_apart() {
        let u = StoreUrl::Sqlite("/x/y.db".into());
        assert_eq!(scoped(&u, "anything").unwrap(), u);
    }
}
