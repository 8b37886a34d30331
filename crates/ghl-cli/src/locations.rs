//! The sub-accounts a command acts in with `--locations all|ID,ID`
//! (bulk reads across locations, sync workers).

use ghl_core::{CallArgs, Client, Error, ErrorCode, PageOpts};
use serde_json::Value;

/// `ID,ID` as given, checked before any request.
pub fn listed(spec: &str) -> Result<Vec<String>, Error> {
    let mut ids: Vec<String> = Vec::new();
    for id in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            || id.len() > 64
        {
            return Err(
                Error::validation(format!("--locations: `{id}` is not a location id"))
                    .with_hint("write `all` or location ids separated by commas"),
            );
        }
        if !ids.iter().any(|x| x == id) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() {
        return Err(Error::validation("--locations needs `all` or location ids")
            .with_hint("e.g. --locations all, or --locations LOC1,LOC2"));
    }
    Ok(ids)
}

/// Every sub-account the agency token sees (`locations.search-locations`).
pub async fn of_agency(client: &Client) -> Result<Vec<String>, Error> {
    let company = client.defaults().company_id.clone().ok_or_else(|| {
        Error::config("--locations all needs the agency's company id").with_hint(
            "pass --company ID (or set HIGHLEVEL_COMPANY_ID), and --agency with an agency token",
        )
    })?;
    let (records, _) = client
        .collect(
            "locations.search-locations",
            CallArgs::new().param("companyId", company.as_str()),
            PageOpts {
                all: true,
                ..PageOpts::default()
            },
        )
        .await?;
    let mut ids: Vec<String> = Vec::new();
    for id in records
        .iter()
        .filter_map(|r| r.get("id").or_else(|| r.get("_id")).and_then(Value::as_str))
    {
        if !ids.iter().any(|x| x == id) {
            ids.push(id.to_string());
        }
    }
    if ids.is_empty() {
        return Err(Error::new(
            ErrorCode::NotFound,
            format!("the agency {company} has no sub-accounts this token can see"),
        ));
    }
    Ok(ids)
}
