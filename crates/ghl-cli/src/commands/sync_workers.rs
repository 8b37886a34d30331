//! `ghl sync --locations all|ID,ID`: this process is one sync worker among
//! any number (on this machine or others sharing a Postgres store); the
//! locations are split through per-location leases (`ghl_mirror::workers`).

use std::time::Duration;

use ghl_core::{CallArgs, Client, Error, ErrorCode, PageOpts};
use ghl_mirror::Mirror;
use ghl_mirror::sync::SyncOptions;
use ghl_mirror::workers::{Coordinator, LocationOutcome};
use serde_json::{Value as Json, json};

use super::mirror::{SyncArgs, io, mirror_key, sync_with_progress};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::context;
use crate::output;

/// The coordination store the flags and environment name.
pub fn coordinator(args: &SyncArgs) -> Result<Coordinator, Error> {
    Coordinator::open(args.store.as_deref(), Duration::from_secs(args.lease_ttl))
}

/// `ID,ID` as given, checked before any request.
fn listed(spec: &str) -> Result<Vec<String>, Error> {
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
async fn agency_locations(client: &Client) -> Result<Vec<String>, Error> {
    let company = client.defaults().company_id.clone().ok_or_else(|| {
        Error::config("--locations all needs the agency's company id")
            .with_hint("pass --agency --company ID (or set HIGHLEVEL_COMPANY_ID)")
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
        .filter_map(|r| r.get("id").or_else(|| r.get("_id")).and_then(Json::as_str))
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

pub async fn run(
    args: &SyncArgs,
    opts: SyncOptions,
    global: &GlobalArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let spec = args.locations.as_deref().unwrap_or("").trim().to_string();
    let given = (spec != "all").then(|| listed(&spec)).transpose()?;
    let resolved = if global.sandbox {
        None
    } else {
        Some(context::resolve(global)?)
    };
    let agency = global.agency || resolved.as_ref().is_some_and(|r| r.agency);
    // A location token reaches its own location only.
    if !agency {
        let (_, own) = mirror_key(global)?;
        if given
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|id| *id != own))
        {
            return Err(Error::config(
                "--locations needs an agency token to reach other locations",
            )
            .with_hint(
                "pass --agency --company ID with the agency's token; a location token syncs its own location with plain `ghl sync`",
            ));
        }
    }
    let coordinator = coordinator(args)?;
    let locations = match given {
        Some(ids) => ids,
        None => agency_locations(&context::build(global).await?.client).await?,
    };
    let (profile, _) = mirror_key(global)?;
    eprintln!(
        "worker {}: {} locations, leases in {}",
        coordinator.holder(),
        locations.len(),
        coordinator.describe()
    );
    let reconcile_every = args
        .reconcile_every
        .as_deref()
        .map(ghl_mirror::schedule::parse_every)
        .transpose()?;
    let sync_one = |location: String| {
        let mut g = global.clone();
        g.location = Some(location.clone());
        let (store, profile, opts) = (args.store.clone(), profile.clone(), opts.clone());
        async move {
            let ctx = context::build(&g).await?;
            let mirror = Mirror::open_for(store.as_deref(), &profile, &location)?;
            if let Some(every) = reconcile_every {
                ghl_mirror::schedule::set_every(&mirror, every)?;
            }
            let reports = sync_with_progress(&ctx.client, &mirror, &opts).await?;
            Ok(reports.iter().map(|r| r.fetched).sum::<u64>())
        }
    };
    let outcomes = coordinator
        .run_locations(&profile, &locations, sync_one, |o| {
            eprintln!(
                "{}: {} by {}{}",
                o.location,
                o.outcome,
                if o.mine {
                    "this worker"
                } else {
                    o.holder.as_str()
                },
                if o.mine && o.fetched > 0 {
                    format!(" ({} records)", o.fetched)
                } else {
                    String::new()
                }
            );
        })
        .await?;
    let rows: Vec<Json> = outcomes.iter().map(outcome_json).collect();
    output::records(fmt, &rows).map_err(io)?;
    let failed: Vec<&LocationOutcome> = outcomes
        .iter()
        .filter(|o| o.outcome.starts_with("failed"))
        .collect();
    if !failed.is_empty() {
        return Err(Error::new(
            ErrorCode::Partial,
            format!(
                "{} of {} locations failed to sync: {}",
                failed.len(),
                outcomes.len(),
                failed
                    .iter()
                    .map(|o| o.location.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_hint("run the same command again: each location continues from its checkpoints"));
    }
    Ok(())
}

fn outcome_json(o: &LocationOutcome) -> Json {
    json!({
        "location": o.location,
        "outcome": o.outcome,
        "worker": o.holder,
        "this_worker": o.mine,
        "fetched": o.fetched,
    })
}
