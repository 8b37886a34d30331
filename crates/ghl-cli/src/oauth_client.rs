//! A `Client` for a profile signed in as a marketplace app: its stored
//! OAuth tokens, refreshed by `ghl_core::oauth` when they expire.

use std::sync::Arc;

use ghl_core::config::{OAuthProfile, Resolved};
use ghl_core::oauth::{OAuthSession, Resource, UserType};
use ghl_core::{Client, Defaults, Error, Transport};

use crate::cli::GlobalArgs;
use crate::oauth_store;

pub fn client(
    global: &GlobalArgs,
    resolved: &Resolved,
    app: &OAuthProfile,
) -> Result<Client, Error> {
    let profile = resolved.profile.as_deref().unwrap_or("in use");
    if app.sandbox && !global.sandbox {
        return Err(Error::config(format!(
            "profile {profile} was signed in against the sandbox"
        ))
        .with_hint(format!("add --sandbox, or sign in to HighLevel with `ghl --profile {profile} auth login --client-id {}`", app.client_id)));
    }
    let user_type = UserType::parse(&app.user_type)?;
    if resolved.agency && user_type != UserType::Company {
        return Err(Error::config(format!(
            "profile {profile} is signed in to a location; --agency needs a company sign-in"
        ))
        .with_hint("drop --agency, or sign in with `ghl auth login --user-type company`"));
    }
    let resource = match user_type {
        UserType::Location => Resource::location(resolved.location_id.as_deref().unwrap_or(""))?,
        UserType::Company => Resource::company(resolved.company_id.as_deref().unwrap_or(""))?,
    };
    let session = OAuthSession::open(resource.clone(), oauth_store::vault()?, oauth_store::dir())
        .map_err(|e| {
        e.with_hint(format!(
            "sign in again: ghl {}--profile {profile} auth login --client-id {}",
            if app.sandbox { "--sandbox " } else { "" },
            app.client_id
        ))
    })?;
    let first = session
        .try_peek()
        .ok_or_else(|| Error::config("the OAuth session is busy"))?;
    let tc = crate::context::transport_config(global, resolved.base_url.clone(), first);
    let transport = Transport::new(tc)?;
    let client = Client::new(
        Arc::new(transport),
        crate::context::policy(global),
        Defaults {
            location_id: resolved.location_id.clone(),
            company_id: resolved.company_id.clone(),
        },
    )
    .with_oauth(Arc::new(session));
    // A company's token reaches its locations through minted location tokens.
    match (&resource, resolved.agency) {
        (Resource::Company(company), true) => Ok(client.with_agency(company)),
        _ => Ok(client),
    }
}
