//! `ghl sync --locations all|ID,ID`: this process is one sync worker among
//! any number (on this machine or others sharing a Postgres store); the
//! locations are split through per-location leases (`ghl_mirror::workers`).

use std::time::Duration;

use ghl_core::{Error, ErrorCode};
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

pub async fn run(
    args: &SyncArgs,
    opts: SyncOptions,
    global: &GlobalArgs,
    fmt: OutputFormat,
) -> Result<(), Error> {
    let spec = args.locations.as_deref().unwrap_or("").trim().to_string();
    let given = (spec != "all")
        .then(|| crate::locations::listed(&spec))
        .transpose()?;
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
        None => crate::locations::of_agency(&context::build(global).await?.client).await?,
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
