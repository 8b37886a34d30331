//! The durable spool: every accepted event, its dedupe key and its delivery
//! state, in the ghl store (portable SQL; delivery claims are row leases so
//! several receivers can share one Postgres store later).

use ghl_store::{Migration, Row, Store, Tx, Value};

use crate::event::{Event, NewEvent, State};
use crate::verify::now_ms;

pub const PLANE: &str = "events";

// The backends differ only in how the sequence column is declared.
macro_rules! events_table {
    ($seq:literal) => {
        concat!(
            "CREATE TABLE IF NOT EXISTS ghl_events (seq ",
            $seq,
            ",
    webhook_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    location_id TEXT,
    contact_id TEXT,
    event_ts BIGINT,
    received_at BIGINT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    sinks_done TEXT NOT NULL DEFAULT '',
    last_error TEXT,
    lease_holder TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT
);
CREATE INDEX IF NOT EXISTS ghl_events_due ON ghl_events (state, next_at);
CREATE INDEX IF NOT EXISTS ghl_events_type ON ghl_events (event_type, seq);
CREATE INDEX IF NOT EXISTS ghl_events_contact ON ghl_events (contact_id, seq);
"
        )
    };
}

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sqlite: events_table!("INTEGER PRIMARY KEY AUTOINCREMENT"),
    postgres: events_table!("BIGSERIAL PRIMARY KEY"),
}];

const COLUMNS: &str = "seq, webhook_id, event_type, location_id, contact_id, event_ts, received_at, \
     body, state, attempts, next_at, sinks_done, last_error, delivered_at";

/// Events per INSERT statement (8 parameters each: far below either
/// engine's limit on parameters).
const INSERT_CHUNK: usize = 64;

/// `INSERT … VALUES (…), (…) … RETURNING webhook_id` for `rows` events;
/// a duplicate `webhookId` inserts nothing and returns nothing.
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO ghl_events (webhook_id, event_type, location_id, contact_id, event_ts,
            received_at, body, state, attempts, next_at) VALUES ",
    );
    for i in 0..rows {
        let p = i * 8;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, 0, ${})",
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5,
            p + 6,
            p + 7,
            p + 8,
            p + 6
        ));
    }
    sql.push_str(" ON CONFLICT (webhook_id) DO NOTHING RETURNING webhook_id");
    sql
}

/// Did the spool take an event?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// Its `webhookId` was already in the spool.
    Duplicate,
}

/// Which events a listing shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub event_type: Option<String>,
    pub location_id: Option<String>,
    pub contact_id: Option<String>,
    pub state: Option<State>,
    /// Received at or after, epoch ms.
    pub since_ms: Option<i64>,
    pub limit: i64,
}

#[derive(Clone)]
pub struct Spool {
    store: Store,
}

impl Spool {
    /// The spool in `store`, its tables created or brought up to date.
    pub fn open(store: Store) -> ghl_store::Result<Spool> {
        store.migrate(PLANE, MIGRATIONS)?;
        Ok(Spool { store })
    }

    /// A spool for reading only (no migration; an absent table reads empty).
    pub fn reader(store: Store) -> Spool {
        Spool { store }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Store a batch in one transaction (the group commit): durable when
    /// this returns. `state` says whether each is to be delivered.
    pub fn insert_batch(&self, batch: &[(NewEvent, State)]) -> ghl_store::Result<Vec<Stored>> {
        let now = now_ms();
        self.store.write(|tx| {
            // Multi-row statements: one round trip (Postgres) or one
            // statement step (SQLite) per chunk rather than per event.
            let mut inserted = std::collections::HashSet::new();
            for chunk in batch.chunks(INSERT_CHUNK) {
                let mut params = Vec::with_capacity(chunk.len() * 8);
                for (ev, state) in chunk {
                    params.extend([
                        Value::Text(ev.webhook_id.clone()),
                        Value::Text(ev.event_type.clone()),
                        ev.location_id.clone().into(),
                        ev.contact_id.clone().into(),
                        ev.timestamp_ms.into(),
                        Value::Int(now),
                        Value::Text(ev.body.clone()),
                        state.as_str().into(),
                    ]);
                }
                for r in tx.query(&insert_sql(chunk.len()), &params)? {
                    inserted.insert(r.text("webhook_id")?);
                }
            }
            // The first of a batch's events with one `webhookId` is new (if
            // the store did not have it); every other is a duplicate.
            Ok(batch
                .iter()
                .map(|(ev, _)| {
                    if inserted.remove(&ev.webhook_id) {
                        Stored::New
                    } else {
                        Stored::Duplicate
                    }
                })
                .collect())
        })
    }

    /// Take up to `limit` due events for `holder` until `lease_ms` from now.
    /// An event leased by a receiver that died becomes due again when its
    /// lease runs out; it comes back marked [`Event::redelivery`] (it may
    /// have reached a sink before the holder died). Takeovers come first.
    pub fn claim(&self, holder: &str, limit: i64, lease_ms: i64) -> ghl_store::Result<Vec<Event>> {
        let now = now_ms();
        self.store.write(|tx| {
            // Several receivers on one Postgres must not claim the same rows.
            let lock = match tx.backend() {
                ghl_store::Backend::Postgres => "FOR UPDATE SKIP LOCKED",
                ghl_store::Backend::Sqlite => "",
            };
            let mut evs = Vec::new();
            // Two statements with fixed text (prepared once each): claims
            // left by a holder that stopped renewing, then unclaimed events.
            for (held, redelivery) in [
                (
                    "lease_holder IS NOT NULL AND (lease_until < $3 OR lease_holder = $1)",
                    true,
                ),
                ("lease_holder IS NULL", false),
            ] {
                let want = limit - evs.len() as i64;
                if want <= 0 {
                    break;
                }
                let rows = tx.query(
                    &format!(
                        "UPDATE ghl_events SET lease_holder = $1, lease_until = $2
                         WHERE seq IN (SELECT seq FROM ghl_events
                                       WHERE state = 'pending' AND next_at <= $3 AND {held}
                                       ORDER BY seq LIMIT $4 {lock})
                         RETURNING {COLUMNS}"
                    ),
                    &[
                        holder.into(),
                        Value::Int(now + lease_ms),
                        Value::Int(now),
                        Value::Int(want),
                    ],
                )?;
                for r in &rows {
                    let mut ev = event_of(r)?;
                    ev.redelivery = redelivery;
                    evs.push(ev);
                }
            }
            evs.sort_by_key(|e| e.seq);
            Ok(evs)
        })
    }

    /// When the next unclaimed pending event falls due (epoch ms); a
    /// receiver sleeps until then rather than a whole polling interval, so
    /// retries keep their backoff.
    pub fn next_due(&self) -> ghl_store::Result<Option<i64>> {
        self.read(
            |tx| {
                let row = tx.query_opt(
                    "SELECT MIN(next_at) AS due FROM ghl_events
                     WHERE state = 'pending' AND lease_holder IS NULL",
                    &[],
                )?;
                Ok(row.and_then(|r| r.get("due").and_then(Value::as_i64)))
            },
            None,
        )
    }

    /// Keep `holder`'s unsettled claims for `lease_ms` more (a receiver
    /// renews while it delivers, so only a dead one's claims lapse).
    pub fn renew(&self, holder: &str, lease_ms: i64) -> ghl_store::Result<u64> {
        let until = now_ms() + lease_ms;
        self.store.write(|tx| {
            tx.execute(
                "UPDATE ghl_events SET lease_until = $1 WHERE lease_holder = $2 AND state = 'pending'",
                &[Value::Int(until), holder.into()],
            )
        })
    }

    /// The holders with unsettled claims (to find those of dead processes).
    pub fn holders(&self) -> ghl_store::Result<Vec<String>> {
        self.read(
            |tx| {
                let rows = tx.query(
                    "SELECT DISTINCT lease_holder FROM ghl_events
                     WHERE lease_holder IS NOT NULL AND state = 'pending'",
                    &[],
                )?;
                rows.iter().map(|r| r.text("lease_holder")).collect()
            },
            Vec::new(),
        )
    }

    /// End `holder`'s claims now, keeping its name on them so the next
    /// claimer treats them as possibly delivered (a holder known dead).
    pub fn expire(&self, holder: &str) -> ghl_store::Result<u64> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE ghl_events SET lease_until = 0 WHERE lease_holder = $1 AND state = 'pending'",
                &[holder.into()],
            )
        })
    }

    /// One sink took the event; remembered so a retry skips it.
    pub fn sink_done(&self, seq: i64, holder: &str, sink: &str) -> ghl_store::Result<()> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE ghl_events SET sinks_done = sinks_done || $1 || $2
                 WHERE seq = $3 AND lease_holder = $4",
                &[sink.into(), "\n".into(), Value::Int(seq), holder.into()],
            )?;
            Ok(())
        })
    }

    /// Every sink took it.
    pub fn delivered(&self, seq: i64, holder: &str) -> ghl_store::Result<()> {
        self.delivered_many(&[seq], holder)
    }

    /// Every sink took these: one transaction for a claimed batch.
    pub fn delivered_many(&self, seqs: &[i64], holder: &str) -> ghl_store::Result<()> {
        let now = now_ms();
        self.store.write(|tx| {
            for seq in seqs {
                tx.execute(
                    "UPDATE ghl_events SET state = 'delivered', delivered_at = $1, attempts = attempts + 1,
                        last_error = NULL, lease_holder = NULL, lease_until = 0
                     WHERE seq = $2 AND lease_holder = $3",
                    &[Value::Int(now), Value::Int(*seq), holder.into()],
                )?;
            }
            Ok(())
        })
    }

    /// An attempt failed: due again at `next_at_ms`, or dead at the limit.
    pub fn failed(
        &self,
        seq: i64,
        holder: &str,
        error: &str,
        max_attempts: i64,
        next_at_ms: i64,
    ) -> ghl_store::Result<State> {
        self.store.write(|tx| {
            let row = tx.query_opt(
                "UPDATE ghl_events SET attempts = attempts + 1, last_error = $1, next_at = $2,
                    state = CASE WHEN attempts + 1 >= $3 THEN 'dead' ELSE 'pending' END,
                    lease_holder = NULL, lease_until = 0
                 WHERE seq = $4 AND lease_holder = $5
                 RETURNING state",
                &[
                    error.into(),
                    Value::Int(next_at_ms),
                    Value::Int(max_attempts),
                    Value::Int(seq),
                    holder.into(),
                ],
            )?;
            Ok(row
                .and_then(|r| r.opt_text("state"))
                .and_then(|s| State::parse(&s))
                .unwrap_or(State::Pending))
        })
    }

    /// The `webhookId`s `holder` had claimed and not settled (after a crash:
    /// the events that may have reached a sink without being marked).
    pub fn claimed_by(&self, holder: &str) -> ghl_store::Result<Vec<String>> {
        let holder = holder.to_string();
        self.read(
            move |tx| {
                let rows = tx.query(
                    "SELECT webhook_id FROM ghl_events WHERE lease_holder = $1 AND state = 'pending'",
                    &[holder.as_str().into()],
                )?;
                rows.iter().map(|r| r.text("webhook_id")).collect()
            },
            Vec::new(),
        )
    }

    /// Give leases back (a receiver stopping with work claimed).
    pub fn release(&self, holder: &str) -> ghl_store::Result<()> {
        self.store.write(|tx| {
            tx.execute(
                "UPDATE ghl_events SET lease_holder = NULL, lease_until = 0 WHERE lease_holder = $1",
                &[holder.into()],
            )?;
            Ok(())
        })
    }

    /// Put an event (dead, delivered or skipped) back for delivery to every sink.
    pub fn replay(&self, id: &str) -> ghl_store::Result<Option<Event>> {
        let now = now_ms();
        self.store.write(|tx| {
            let Some(ev) = find(tx, id)? else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE ghl_events SET state = 'pending', attempts = 0, next_at = $1, sinks_done = '',
                    last_error = NULL, lease_holder = NULL, lease_until = 0, delivered_at = NULL
                 WHERE seq = $2",
                &[Value::Int(now), Value::Int(ev.seq)],
            )?;
            find(tx, id)
        })
    }

    /// One event by `webhookId` or spool sequence number.
    pub fn get(&self, id: &str) -> ghl_store::Result<Option<Event>> {
        let id = id.to_string();
        self.read(move |tx| find(tx, &id), None)
    }

    /// Newest first.
    pub fn list(&self, f: &Filter) -> ghl_store::Result<Vec<Event>> {
        let f = f.clone();
        self.read(
            move |tx| {
                let rows = tx.query(
                    &format!(
                        "SELECT {COLUMNS} FROM ghl_events
                         WHERE (CAST($1 AS TEXT) IS NULL OR event_type = $1)
                           AND (CAST($2 AS TEXT) IS NULL OR location_id = $2)
                           AND (CAST($3 AS TEXT) IS NULL OR contact_id = $3)
                           AND (CAST($4 AS TEXT) IS NULL OR state = $4)
                           AND (CAST($5 AS BIGINT) IS NULL OR received_at >= $5)
                         ORDER BY seq DESC LIMIT $6"
                    ),
                    &[
                        f.event_type.clone().into(),
                        f.location_id.clone().into(),
                        f.contact_id.clone().into(),
                        f.state.map(State::as_str).into(),
                        f.since_ms.into(),
                        Value::Int(if f.limit > 0 { f.limit } else { 50 }),
                    ],
                )?;
                rows.iter().map(event_of).collect()
            },
            Vec::new(),
        )
    }

    /// How many events in each state.
    pub fn counts(&self) -> ghl_store::Result<Vec<(String, i64)>> {
        self.read(
            |tx| {
                let rows = tx.query(
                    "SELECT state, COUNT(*) AS n FROM ghl_events GROUP BY state ORDER BY state",
                    &[],
                )?;
                rows.iter()
                    .map(|r| Ok((r.text("state")?, r.int("n")?)))
                    .collect()
            },
            Vec::new(),
        )
    }

    /// A read that answers `empty` when the spool was never created.
    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> ghl_store::Result<T>,
        empty: T,
    ) -> ghl_store::Result<T> {
        match self.store.read(f) {
            Err(ghl_store::Error::Backend(m)) if m.contains("no such table") => Ok(empty),
            other => other,
        }
    }
}

fn find(tx: &mut dyn Tx, id: &str) -> ghl_store::Result<Option<Event>> {
    let row = match id.parse::<i64>() {
        Ok(seq) => tx.query_opt(
            &format!("SELECT {COLUMNS} FROM ghl_events WHERE seq = $1 OR webhook_id = $2"),
            &[Value::Int(seq), id.into()],
        )?,
        Err(_) => tx.query_opt(
            &format!("SELECT {COLUMNS} FROM ghl_events WHERE webhook_id = $1"),
            &[id.into()],
        )?,
    };
    row.as_ref().map(event_of).transpose()
}

fn event_of(r: &Row) -> ghl_store::Result<Event> {
    let opt_int = |c: &str| r.get(c).and_then(Value::as_i64);
    Ok(Event {
        seq: r.int("seq")?,
        webhook_id: r.text("webhook_id")?,
        event_type: r.text("event_type")?,
        location_id: r.opt_text("location_id"),
        contact_id: r.opt_text("contact_id"),
        timestamp_ms: opt_int("event_ts"),
        received_at_ms: r.int("received_at")?,
        state: State::parse(&r.text("state")?)
            .ok_or_else(|| ghl_store::Error::Data("unknown event state".into()))?,
        attempts: r.int("attempts")?,
        next_at_ms: r.int("next_at")?,
        last_error: r.opt_text("last_error"),
        delivered_at_ms: opt_int("delivered_at"),
        sinks_done: r.opt_text("sinks_done").unwrap_or_default(),
        body: r.text("body")?,
        redelivery: false,
    })
}
