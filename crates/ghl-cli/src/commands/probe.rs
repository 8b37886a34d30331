//! Checking a token against a location with cheap reads: the location
//! itself (its name), then the first few contacts.

use ghl_core::{CallArgs, Client, Error, ErrorCode};
use serde_json::{Value, json};

pub const GET_LOCATION: &str = "locations.get-location";
pub const SEARCH_CONTACTS: &str = "contacts.search-contacts-advanced";

/// What a successful check learned.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    /// The location's name, when the token may read it.
    pub name: Option<String>,
    /// Something worth saying that did not stop the check.
    pub warning: Option<String>,
}

/// Is `token` (inside `client`) good for `location_id`? The location is read
/// first; a token without `locations.readonly` is checked with a contacts
/// search instead.
pub async fn verify(client: &Client, location_id: &str) -> Result<Verified, Error> {
    let args = CallArgs::new().param("locationId", location_id);
    match client.call(GET_LOCATION, args).await {
        Ok(body) => Ok(Verified {
            name: location_name(&body),
            warning: None,
        }),
        Err(e) if e.code == ErrorCode::MissingScope => {
            let warning = format!(
                "the token cannot read the location's details (it lacks {}); checked it with a contacts search instead",
                e.scopes.join(" or ")
            );
            match contacts(client, location_id, 1).await {
                Ok(_) => Ok(Verified {
                    name: None,
                    warning: Some(warning),
                }),
                Err(e2) if e2.code == ErrorCode::MissingScope => Ok(Verified {
                    name: None,
                    warning: Some(format!(
                        "the token was accepted, but it can read neither the location nor its contacts (it lacks {} and {}), so access to this location is unconfirmed",
                        e.scopes.join(" or "),
                        e2.scopes.join(" or ")
                    )),
                }),
                Err(e2) => Err(e2),
            }
        }
        Err(e) => Err(e),
    }
}

/// The first `n` contacts of the location.
pub async fn contacts(client: &Client, location_id: &str, n: u32) -> Result<Vec<Value>, Error> {
    let args =
        CallArgs::new().with_body(json!({"locationId": location_id, "pageLimit": n, "page": 1}));
    let body = client.call(SEARCH_CONTACTS, args).await?;
    let list = body
        .get("contacts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(list.into_iter().take(n as usize).collect())
}

fn location_name(body: &Value) -> Option<String> {
    body.get("location")
        .unwrap_or(body)
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// One line per contact: name, email, phone.
pub fn contact_line(c: &Value) -> String {
    let s = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let mut name = s("contactName");
    if name.is_empty() {
        name = format!("{} {}", s("firstName"), s("lastName"))
            .trim()
            .to_string();
    }
    if name.is_empty() {
        name = "(no name)".into();
    }
    let extra: Vec<String> = [s("email"), s("phone")]
        .into_iter()
        .filter(|v| !v.is_empty())
        .collect();
    if extra.is_empty() {
        name
    } else {
        format!("{name}  <{}>", extra.join(", "))
    }
}

/// What went wrong, for a person choosing what to try next.
pub fn explain(e: &Error, location_id: &str) -> String {
    match e.code {
        ErrorCode::InvalidToken => "HighLevel refused the token: it is mistyped, revoked, or expired after a rotation. Copy it again from Settings > Private Integrations.".to_string(),
        ErrorCode::LocationForbidden => format!(
            "The token works, but not for location {location_id}: a sub-account token only reaches its own location. Check the Location ID (or paste the app URL of the right sub-account)."
        ),
        ErrorCode::NotFound => format!("There is no location {location_id}. Check the Location ID."),
        ErrorCode::MissingScope => format!(
            "The token lacks a scope this check needs ({}). Add it in {}.",
            e.scopes.join(" or "),
            crate::commands::guide::WHERE_TO_ADD_SCOPES
        ),
        ErrorCode::Network | ErrorCode::Timeout => format!(
            "Could not reach the API ({}). Check the network (or --base-url).",
            e.message
        ),
        _ => {
            let mut s = e.message.clone();
            if let Some(h) = &e.hint {
                s.push_str(&format!(" ({h})"));
            }
            s
        }
    }
}
