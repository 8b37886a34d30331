//! `ghl sandbox serve|reset|token`.

use ghl_core::Error;

use crate::cli::{SandboxCommand, SimulateCommand};
use crate::sandbox_link;
use crate::stop_signal::stop_signal;

fn sandbox_err(e: impl std::fmt::Display) -> Error {
    Error::config(format!("sandbox: {e}"))
}

pub async fn run(cmd: SandboxCommand) -> Result<(), Error> {
    match cmd {
        SandboxCommand::Serve {
            listen,
            db,
            seed,
            latency_ms,
            fail_rate,
            rate_limit,
            oauth_ttl,
            allow_remote,
            webhook_url,
            webhook_retry_ms,
        } => {
            if !listen.ip().is_loopback() && !allow_remote {
                return Err(Error::validation(format!(
                    "--listen {listen} is not a loopback address"
                ))
                .with_hint("the sandbox's all-scopes token is printed and well known: anyone who can reach the address could use it; add --allow-remote if that is intended"));
            }
            if !(0.0..=1.0).contains(&fail_rate) {
                return Err(Error::validation(
                    "--fail-rate takes a share between 0 and 1",
                ));
            }
            let mut opts =
                ghl_sandbox::SandboxOptions::new(db.unwrap_or_else(ghl_sandbox::default_db_path));
            opts.listen = listen;
            opts.seed = seed.parse().map_err(sandbox_err)?;
            opts.latency_ms = latency_ms;
            opts.fail_rate = fail_rate;
            opts.oauth_access_ttl = std::time::Duration::from_secs(oauth_ttl);
            opts.rate_limit = rate_limit.parse().map_err(|e| {
                Error::validation(format!("--rate-limit {rate_limit}: {e}"))
                    .with_hint("write it as COUNT/WINDOW, e.g. 100/10s")
            })?;
            if let Some(url) = &webhook_url {
                check_webhook_url(url)?;
                let mut w = ghl_sandbox::WebhookOptions::new(url);
                w.retry_spacing = std::time::Duration::from_millis(webhook_retry_ms);
                opts.webhooks = Some(w);
            }
            let db_path = opts.db.clone();
            let server = ghl_sandbox::start(opts).await.map_err(sandbox_err)?;
            let addr_file = sandbox_link::addr_file();
            if let Err(e) = sandbox_link::announce(server.addr()) {
                eprintln!(
                    "warning: cannot write {} ({e}); `--sandbox` will not find this server",
                    addr_file.display()
                );
            }
            eprintln!(
                "ghl sandbox listening on {} (database {})",
                server.base_url(),
                db_path.display()
            );
            eprintln!(
                "token: the default sandbox token (all scopes); location {}",
                ghl_sandbox::DEMO_LOCATION_ID
            );
            eprintln!(
                "marketplace app: ghl --sandbox auth login --client-id {}",
                ghl_sandbox::DEMO_CLIENT_ID
            );
            eprintln!(
                "try: GHL_BASE_URL={} HIGHLEVEL_TOKEN={} HIGHLEVEL_LOCATION_ID={} ghl contacts search Jane",
                server.base_url(),
                ghl_sandbox::DEFAULT_TOKEN,
                ghl_sandbox::DEMO_LOCATION_ID
            );
            tokio::select! {
                _ = stop_signal() => {}
                _ = server.wait() => {}
            }
            let _ = std::fs::remove_file(&addr_file);
            Ok(())
        }
        SandboxCommand::WebhookKey { db } => {
            let path = db.unwrap_or_else(ghl_sandbox::default_db_path);
            println!(
                "{}",
                ghl_sandbox::webhook_public_key(&path).map_err(sandbox_err)?
            );
            Ok(())
        }
        SandboxCommand::Simulate(sim) => {
            let (contact, text, db, channel) = match sim {
                SimulateCommand::InboundSms { contact, text, db } => {
                    (contact, text, db, ghl_sandbox::Channel::Sms)
                }
                SimulateCommand::InboundEmail { contact, text, db } => {
                    (contact, text, db, ghl_sandbox::Channel::Email)
                }
            };
            let path = db.unwrap_or_else(ghl_sandbox::default_db_path);
            let out =
                ghl_sandbox::simulate_inbound(&path, &contact, channel, &text).map_err(|e| {
                    sandbox_err(e)
                        .with_hint("`ghl --sandbox contacts search NAME` finds a contact id")
                })?;
            println!("{out}");
            Ok(())
        }
        SandboxCommand::AddLocations {
            count,
            contacts,
            db,
        } => {
            let path = db.unwrap_or_else(ghl_sandbox::default_db_path);
            let ids = ghl_sandbox::add_agency_locations(&path, count as usize, contacts as usize)
                .map_err(sandbox_err)?;
            for id in &ids {
                println!("{id}");
            }
            eprintln!(
                "the demo agency has {} more sub-accounts; sync them all with `ghl --sandbox --agency --company {} sync --locations all`",
                ids.len(),
                ghl_sandbox::DEMO_COMPANY_ID
            );
            Ok(())
        }
        SandboxCommand::Reset { db, seed } => {
            let path = db.unwrap_or_else(ghl_sandbox::default_db_path);
            ghl_sandbox::reset(&path, seed.parse().map_err(sandbox_err)?).map_err(sandbox_err)?;
            eprintln!("sandbox at {} reset ({seed})", path.display());
            Ok(())
        }
        SandboxCommand::Token { scopes, db } => {
            let path = db.unwrap_or_else(ghl_sandbox::default_db_path);
            let scopes = scopes.map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
            });
            if let Some(list) = &scopes {
                let known = ghl_sandbox::all_scopes();
                if let Some(bad) = list.iter().find(|s| !known.contains(s)) {
                    return Err(Error::validation(format!("unknown scope {bad}"))
                        .with_hint("scopes look like contacts.readonly or contacts.write"));
                }
            }
            let token =
                ghl_sandbox::mint_token(&path, scopes.clone(), None).map_err(sandbox_err)?;
            eprintln!(
                "sandbox token with {} (use it with HIGHLEVEL_TOKEN=... ghl --sandbox ...):",
                scopes
                    .map(|s| s.join(", "))
                    .unwrap_or_else(|| "all scopes".into())
            );
            println!("{token}");
            Ok(())
        }
    }
}

fn check_webhook_url(url: &str) -> Result<(), Error> {
    let ok = url
        .split_once("://")
        .is_some_and(|(scheme, rest)| matches!(scheme, "http" | "https") && !rest.is_empty());
    if ok {
        Ok(())
    } else {
        Err(
            Error::validation(format!("--webhook-url {url}: expected an http(s) URL"))
                .with_hint("e.g. --webhook-url http://127.0.0.1:8790/webhooks/ghl"),
        )
    }
}
