//! One sync per mirror at a time, and sync workers sharing many locations.
//!
//! A sync holds a lease named after its profile and location in the
//! coordination store (`sync.db` in the data directory, or the shared
//! Postgres of `GHL_STORE_URL`/`--store`) and renews it while it runs. A
//! second sync of the same mirror is refused (or waits), naming the holder
//! and the lease's end; a sync that was killed stops renewing, its lease
//! expires, and the next one takes over from the mirror's checkpoints.
//!
//! Workers given a list of locations walk it, sync each location whose
//! lease they get, skip the ones others hold, and come back to those until
//! each is finished by someone: a dead worker's locations are taken over
//! when its leases expire.

use std::future::Future;
use std::time::Duration;

use ghl_core::{Error, ErrorCode};
use ghl_store::{Lease, Migration, Store, StoreUrl, Value};

use crate::{now_ms, store_error};

/// The store name (a file on SQLite) where sync leases live.
pub const COORDINATION_STORE: &str = "sync";

const PLANE: &str = "sync_workers";

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sqlite: "CREATE TABLE ghl_sync_runs (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, finished_ms BIGINT NOT NULL,
        outcome TEXT NOT NULL)",
    postgres: "CREATE TABLE ghl_sync_runs (
        name TEXT PRIMARY KEY, holder TEXT NOT NULL, finished_ms BIGINT NOT NULL,
        outcome TEXT NOT NULL)",
}];

/// The leases of one process: who it is, how long a lease lasts unrenewed.
#[derive(Clone)]
pub struct Coordinator {
    store: Store,
    holder: String,
    ttl: Duration,
}

/// A location's lease, as asked for.
pub enum Claim {
    Held(Held),
    /// Someone else syncs it; their lease runs until `until_ms`.
    Busy {
        holder: String,
        until_ms: i64,
    },
}

/// A held lease; [`Held::guard`] keeps it renewed while a sync runs.
pub struct Held {
    lease: Lease,
    ttl: Duration,
}

/// How one location of a worker run ended.
#[derive(Debug, Clone)]
pub struct LocationOutcome {
    pub location: String,
    /// The worker that synced it (this one or another).
    pub holder: String,
    pub mine: bool,
    /// `synced`, or `failed: …`.
    pub outcome: String,
    /// Records fetched, when this worker synced it.
    pub fetched: u64,
}

/// Names this machine in lease holders (default: the host name); set it
/// where host names are not unique or not telling (containers).
pub const ENV_WORKER_HOST: &str = "GHL_WORKER_HOST";

fn host_name() -> String {
    std::env::var(ENV_WORKER_HOST)
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| !c.is_control() && *c != '/')
                .take(64)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into())
}

/// `host/pid/nonce`: unique per process, and says where to look.
pub fn holder_id() -> String {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}/{}/{nonce:08x}", host_name(), std::process::id())
}

/// Whether `holder` names a process of this machine that no longer runs:
/// its lease need not be waited out. Unsure (another machine, a pid that
/// exists, another user's) is "no".
fn died_here(holder: &str) -> bool {
    let mut parts = holder.split('/');
    let (Some(host), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    let Ok(pid) = pid.parse::<i32>() else {
        return false;
    };
    if host != host_name() || pid <= 0 || pid == std::process::id() as i32 {
        return false;
    }
    #[cfg(unix)]
    {
        // SAFETY: signal 0 only checks that the process exists.
        let r = unsafe { libc::kill(pid, 0) };
        r == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// The lease of the mirror of `location` under `profile`.
pub fn lease_name(profile: &str, location: &str) -> String {
    format!("sync/{profile}/{location}")
}

impl Coordinator {
    /// The coordination store `explicit` (a `--store` flag), else
    /// `GHL_STORE_URL`, else `sync.db` in the data directory names.
    pub fn open(explicit: Option<&str>, ttl: Duration) -> Result<Coordinator, Error> {
        let url = StoreUrl::resolve(explicit, COORDINATION_STORE).map_err(store_error)?;
        let store = Store::open(&url).map_err(store_error)?;
        Coordinator::with_store(store, holder_id(), ttl)
    }

    pub fn with_store(store: Store, holder: String, ttl: Duration) -> Result<Coordinator, Error> {
        store.migrate(PLANE, MIGRATIONS).map_err(store_error)?;
        Ok(Coordinator { store, holder, ttl })
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn describe(&self) -> String {
        self.store.describe()
    }

    /// Take the lease `name` when it is free or expired.
    pub async fn try_claim(&self, name: &str) -> Result<Claim, Error> {
        let (store, name, holder, ttl) = (
            self.store.clone(),
            name.to_string(),
            self.holder.clone(),
            self.ttl,
        );
        blocking(move || {
            if let Some(lease) = store.lease(&name, &holder, ttl)? {
                return Ok(Claim::Held(Held { lease, ttl }));
            }
            let mut h = store.lease_holder(&name)?;
            // A holder killed on this machine: free its lease now (taken in
            // its name, then released) rather than wait for it to expire.
            if let Some(dead) = h.as_ref().filter(|h| died_here(&h.holder)) {
                if let Some(theirs) = store.lease(&name, &dead.holder, ttl)? {
                    theirs.release()?;
                }
                if let Some(lease) = store.lease(&name, &holder, ttl)? {
                    return Ok(Claim::Held(Held { lease, ttl }));
                }
                h = store.lease_holder(&name)?;
            }
            Ok(Claim::Busy {
                holder: h
                    .as_ref()
                    .map(|h| h.holder.clone())
                    .unwrap_or_else(|| "another process".into()),
                until_ms: h.map(|h| h.expires_at_ms).unwrap_or(0),
            })
        })
        .await
    }

    /// Take the lease `name`, waiting for its holder (polling) when `wait`;
    /// else refuse saying who holds it and until when.
    pub async fn claim(&self, name: &str, what: &str, wait: bool) -> Result<Held, Error> {
        loop {
            match self.try_claim(name).await? {
                Claim::Held(h) => return Ok(h),
                Claim::Busy { holder, until_ms } if !wait => {
                    return Err(busy_error(what, &holder, until_ms));
                }
                Claim::Busy { .. } => tokio::time::sleep(self.poll()).await,
            }
        }
    }

    /// How often a waiting worker looks again: short, since a worker done
    /// with its own locations waits only for others to finish theirs (one
    /// small query per location it waits for).
    fn poll(&self) -> Duration {
        (self.ttl / 10).clamp(Duration::from_millis(100), Duration::from_millis(500))
    }

    /// When `name` was last finished, by whom and how, if at or after `since_ms`.
    async fn finished_since(
        &self,
        name: &str,
        since_ms: i64,
    ) -> Result<Option<(String, String)>, Error> {
        let (store, name) = (self.store.clone(), name.to_string());
        blocking(move || {
            let row = store.read(|tx| {
                tx.query_opt(
                    "SELECT holder, outcome FROM ghl_sync_runs WHERE name = $1 AND finished_ms >= $2",
                    &[name.as_str().into(), Value::Int(since_ms)],
                )
            })?;
            Ok(row.and_then(|r| {
                Some((
                    r.values.first()?.as_str()?.to_string(),
                    r.values.get(1)?.as_str()?.to_string(),
                ))
            }))
        })
        .await
    }

    async fn record_finished(&self, name: &str, outcome: &str) -> Result<(), Error> {
        let (store, name, holder, outcome) = (
            self.store.clone(),
            name.to_string(),
            self.holder.clone(),
            outcome.to_string(),
        );
        blocking(move || {
            store.write(|tx| {
                tx.execute(
                    "INSERT INTO ghl_sync_runs (name, holder, finished_ms, outcome) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                       finished_ms = excluded.finished_ms, outcome = excluded.outcome",
                    &[
                        name.as_str().into(),
                        holder.as_str().into(),
                        Value::Int(now_ms()),
                        outcome.as_str().into(),
                    ],
                )
            })
        })
        .await
        .map(|_| ())
    }

    /// Sync every location of `locations` exactly once among the workers
    /// running now: those whose lease this worker gets are synced here
    /// (`sync_one`), the others are waited for until someone finishes them
    /// (a dead worker's lease expires and this one takes over). A location
    /// counts as done once any worker finished it after this run began.
    pub async fn run_locations<F, Fut>(
        &self,
        profile: &str,
        locations: &[String],
        sync_one: F,
        on_outcome: impl Fn(&LocationOutcome),
    ) -> Result<Vec<LocationOutcome>, Error>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<u64, Error>>,
    {
        let started = now_ms();
        let mut pending: Vec<String> = locations.to_vec();
        let mut out = Vec::new();
        while !pending.is_empty() {
            let mut waiting = Vec::new();
            let mut progressed = false;
            for location in pending {
                let name = lease_name(profile, &location);
                let done = |holder: String, outcome: String| LocationOutcome {
                    location: location.clone(),
                    mine: holder == self.holder,
                    holder,
                    outcome,
                    fetched: 0,
                };
                if let Some((holder, outcome)) = self.finished_since(&name, started).await? {
                    let o = done(holder, outcome);
                    on_outcome(&o);
                    out.push(o);
                    progressed = true;
                    continue;
                }
                let held = match self.try_claim(&name).await? {
                    Claim::Held(h) => h,
                    Claim::Busy { .. } => {
                        waiting.push(location);
                        continue;
                    }
                };
                // Finished and released between the check and the claim.
                if let Some((holder, outcome)) = self.finished_since(&name, started).await? {
                    held.release().await;
                    let o = done(holder, outcome);
                    on_outcome(&o);
                    out.push(o);
                    progressed = true;
                    continue;
                }
                let Ok(result) = held.guard(sync_one(location.clone())).await else {
                    // The lease was lost (this process stalled past it): the
                    // worker holding it now finishes the location; wait for
                    // that like for any location another worker holds.
                    waiting.push(location);
                    continue;
                };
                let (outcome, fetched) = match &result {
                    Ok(n) => ("synced".to_string(), *n),
                    Err(e) => (format!("failed: {}", e.message), 0),
                };
                // Recorded before the lease is released, so whoever takes
                // the lease next sees the location is done.
                self.record_finished(&name, &outcome).await?;
                held.release().await;
                let o = LocationOutcome {
                    location: location.clone(),
                    holder: self.holder.clone(),
                    mine: true,
                    outcome,
                    fetched,
                };
                on_outcome(&o);
                out.push(o);
                progressed = true;
            }
            pending = waiting;
            if !pending.is_empty() && !progressed {
                tokio::time::sleep(self.poll()).await;
            }
        }
        Ok(out)
    }
}

impl Held {
    /// Run `work` while renewing the lease every third of its life. When
    /// the lease is lost (this process stalled past it and another took
    /// over), `work` is dropped and an error says so.
    pub async fn guard<T>(&self, work: impl Future<Output = T>) -> Result<T, Error> {
        let renew_every = self.ttl / 3;
        let lease = self.lease.clone();
        let renewer = async move {
            loop {
                tokio::time::sleep(renew_every).await;
                let l = lease.clone();
                match blocking(move || l.renew()).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    // A store hiccup: try again; the lease outlives a few.
                    Err(_) => {}
                }
            }
        };
        tokio::select! {
            out = work => Ok(out),
            () = renewer => Err(Error::new(
                ErrorCode::Conflict,
                format!("lost the lease {}: another process took it over", self.lease.name),
            )
            .with_hint("the sync stopped; the process holding the lease now finishes it")),
        }
    }

    /// Give the lease up (best effort: it expires anyway).
    pub async fn release(self) {
        let lease = self.lease;
        let _ = blocking(move || lease.release()).await;
    }
}

fn busy_error(what: &str, holder: &str, until_ms: i64) -> Error {
    Error::new(
        ErrorCode::Conflict,
        format!(
            "{what} is being synced by {holder} (its lease runs until {}, renewed while it runs)",
            crate::iso(until_ms)
        ),
    )
    .with_hint(
        "wait for that sync to finish, or pass --wait; if that process died, its lease expires by the time shown and the next sync takes over",
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> ghl_store::Result<T> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::config(format!("store task failed: {e}")))?
        .map_err(store_error)
}
