//! The shared backend: a Postgres server several processes and machines use
//! at once. The store's surface is synchronous (planes run it on blocking
//! threads), so the connections' I/O runs on a small runtime of the store's
//! own, and statements wait on plain channels: callable from any thread,
//! inside or outside an async runtime.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::executor::block_on;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};
use tokio_postgres::{Client, NoTls, Statement};

use crate::error::{Error, Result};
use crate::{Backend, Row, Tx, Value};

const POOL: usize = 8;

pub(crate) struct PgStore {
    url: String,
    described: String,
    /// Always `Some` until drop, which hands it to `shutdown_background`:
    /// a store may be dropped inside an async task, where a runtime's
    /// ordinary drop (which blocks) panics.
    runtime: Option<tokio::runtime::Runtime>,
    idle: Mutex<Vec<Conn>>,
}

struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PgStore {
    pub(crate) fn open(url: &str, described: String) -> Result<PgStore> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ghl-store-pg")
            .enable_all()
            .build()
            .map_err(|e| Error::Backend(format!("cannot start the Postgres I/O thread: {e}")))?;
        let store = PgStore {
            url: url.to_string(),
            described,
            runtime: Some(runtime),
            idle: Mutex::new(Vec::new()),
        };
        // Connect once now so a wrong URL or a server that is down is said
        // at open, not at the first event.
        let c = store.connect()?;
        store.put_back(c);
        Ok(store)
    }

    pub(crate) fn describe(&self) -> String {
        self.described.clone()
    }

    fn connect(&self) -> Result<Conn> {
        let url = self.url.clone();
        let described = self.described.clone();
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| Error::Backend("the store is closing".into()))?;
        let joined = runtime.spawn(async move {
            let (client, connection) = tokio_postgres::connect(&url, NoTls).await.map_err(|e| {
                Error::Config(format!("cannot connect to {described}: {}", pg_message(&e)))
            })?;
            tokio::spawn(async move {
                // Ends when the client is dropped or the server goes away;
                // the next statement on that client then fails and the
                // connection is not reused.
                let _ = connection.await;
            });
            Ok::<_, Error>(client)
        });
        let client =
            block_on(joined).map_err(|e| Error::Backend(format!("connect task failed: {e}")))??;
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }

    fn take(&self) -> Result<Conn> {
        let reused = self.idle.lock().ok().and_then(|mut p| {
            while let Some(c) = p.pop() {
                if !c.client.is_closed() {
                    return Some(c);
                }
            }
            None
        });
        match reused {
            Some(c) => Ok(c),
            None => self.connect(),
        }
    }

    fn put_back(&self, c: Conn) {
        if c.client.is_closed() {
            return;
        }
        if let Ok(mut p) = self.idle.lock()
            && p.len() < POOL
        {
            p.push(c);
        }
    }

    fn run<T>(
        &self,
        begin: &str,
        commit: bool,
        f: impl FnOnce(&mut dyn Tx) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.take()?;
        block_on(conn.client.batch_execute(begin)).map_err(|e| from_pg(&e))?;
        let out = {
            let mut tx = PgTx { conn: &mut conn };
            f(&mut tx)
        };
        let end = match (&out, commit) {
            (Ok(_), true) => block_on(conn.client.batch_execute("COMMIT")),
            _ => block_on(conn.client.batch_execute("ROLLBACK")),
        };
        let ended = end.map_err(|e| from_pg(&e));
        self.put_back(conn);
        let v = out?;
        ended?;
        Ok(v)
    }

    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        self.run("BEGIN", true, f)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        self.run("BEGIN READ ONLY", false, f)
    }
}

struct PgTx<'c> {
    conn: &'c mut Conn,
}

impl PgTx<'_> {
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(s) = self.conn.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = block_on(self.conn.client.prepare(sql)).map_err(|e| from_pg(&e))?;
        self.conn.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

fn refs(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

impl Tx for PgTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let st = self.statement(sql)?;
        block_on(self.conn.client.execute(&st, &refs(params))).map_err(|e| from_pg(&e))
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let st = self.statement(sql)?;
        let columns: Arc<[String]> = st.columns().iter().map(|c| c.name().to_string()).collect();
        let rows = block_on(self.conn.client.query(&st, &refs(params))).map_err(|e| from_pg(&e))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                values.push(
                    r.try_get::<_, Value>(i)
                        .map_err(|e| Error::Data(e.to_string()))?,
                );
            }
            out.push(Row {
                columns: columns.clone(),
                values,
            });
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        // Schema changes invalidate prepared statements' result shapes.
        self.conn.statements.clear();
        block_on(self.conn.client.batch_execute(sql)).map_err(|e| from_pg(&e))
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }
}

fn pg_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => e.to_string(),
    }
}

fn from_pg(e: &tokio_postgres::Error) -> Error {
    let msg = pg_message(e);
    match e.code().map(|c| c.code()) {
        // read_only_sql_transaction, insufficient_privilege
        Some("25006") | Some("42501") => Error::ReadOnly(msg),
        // serialization_failure, deadlock_detected, lock_not_available
        Some("40001") | Some("40P01") | Some("55P03") => Error::Busy(msg),
        _ if e.is_closed() => Error::Busy(format!("connection lost: {msg}")),
        _ => Error::Backend(msg),
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A value goes to whatever type the statement's parameter has: planes
/// write one `Value::Int` whether the column is INTEGER or BIGINT.
impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT8 => i.to_sql(ty, out),
                Type::FLOAT4 | Type::FLOAT8 => {
                    (*i as f64).to_sql(&Type::FLOAT8, out).and_then(|n| {
                        if *ty == Type::FLOAT4 {
                            out.clear();
                            (*i as f32).to_sql(ty, out)
                        } else {
                            Ok(n)
                        }
                    })
                }
                Type::BOOL => (*i != 0).to_sql(ty, out),
                _ => i.to_string().to_sql(&Type::TEXT, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::INT8 => (*f as i64).to_sql(ty, out),
                _ => f.to_string().to_sql(&Type::TEXT, out),
            },
            Value::Text(s) => match *ty {
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                Type::INT4 => s.parse::<i32>()?.to_sql(ty, out),
                _ => {
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
            },
            Value::Blob(b) => {
                out.extend_from_slice(b);
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Value, BoxError> {
        Ok(match *ty {
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)? as i64),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)? as i64),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)? as i64),
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::OID => Value::Int(u32::from_sql(ty, raw)? as i64),
            Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)? as f64),
            Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
            Type::NUMERIC => numeric(raw)?,
            Type::BYTEA => Value::Blob(raw.to_vec()),
            Type::JSONB => {
                Value::Text(String::from_utf8_lossy(raw.get(1..).unwrap_or_default()).into_owned())
            }
            _ => match std::str::from_utf8(raw) {
                // TEXT, VARCHAR, NAME, JSON, and anything else sent as text.
                Ok(s) if is_textual(ty) => Value::Text(s.to_string()),
                _ => {
                    return Err(format!(
                        "column type {ty} is not supported; cast it (::text or ::bigint)"
                    )
                    .into());
                }
            },
        })
    }

    fn from_sql_null(_: &Type) -> Result<Value, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn is_textual(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::UNKNOWN
    ) || ty.name() == "citext"
}

/// NUMERIC's binary form (what SUM over BIGINT returns): base-10000 digits
/// with a weight. Whole numbers become `Int`, others `Real`.
fn numeric(raw: &[u8]) -> Result<Value, BoxError> {
    let word = |i: usize| -> Result<i16, BoxError> {
        raw.get(i..i + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "short NUMERIC value".into())
    };
    let ndigits = word(0)?.max(0) as usize;
    let weight = word(2)? as i32;
    let sign = word(4)? as u16;
    let scale = word(6)?;
    if sign == 0xC000 {
        return Ok(Value::Real(f64::NAN));
    }
    let mut v = 0f64;
    for d in 0..ndigits {
        let digit = word(8 + 2 * d)? as f64;
        v += digit * 10000f64.powi(weight - d as i32);
    }
    if sign == 0x4000 {
        v = -v;
    }
    if scale == 0 && v.abs() < 9.0e15 {
        Ok(Value::Int(v as i64))
    } else {
        Ok(Value::Real(v))
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        // Connections close with their clients; the I/O thread is told to
        // stop without waiting for it.
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Run one statement outside any transaction (CREATE DATABASE cannot run
/// inside one), on a connection of its own.
pub(crate) fn exec_outside_tx(url: &str, sql: &str) -> Result<()> {
    // A runtime of its own cannot start on a thread that is already inside
    // one (an async test, a command opening a store): run on a thread apart.
    std::thread::scope(|s| {
        s.spawn(|| exec_on_own_runtime(url, sql))
            .join()
            .unwrap_or_else(|_| {
                Err(Error::Backend(
                    "the Postgres statement thread failed".into(),
                ))
            })
    })
}

fn exec_on_own_runtime(url: &str, sql: &str) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Backend(e.to_string()))?;
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .map_err(|e| Error::Config(pg_message(&e)))?;
        let conn = tokio::spawn(connection);
        let r = client.batch_execute(sql).await.map_err(|e| from_pg(&e));
        drop(client);
        let _ = conn.await;
        r
    })
}

impl PgStore {
    /// User SQL that may only read: a READ ONLY transaction (Postgres
    /// refuses every write in it), one statement (the extended protocol
    /// takes no more), wrapped so the server stops after the rows asked
    /// for, under a statement timeout, and always rolled back.
    pub(crate) fn query_readonly(
        &self,
        sql: &str,
        params: &[Value],
        limits: crate::QueryLimits,
    ) -> Result<crate::QueryResult> {
        let sql = sql.trim().trim_end_matches(';').trim();
        if sql.is_empty() {
            return Err(Error::ReadOnly("empty query".into()));
        }
        crate::pg_readonly::check(sql)?;
        let wrapped = format!(
            "SELECT * FROM ({sql}) AS ghl_query LIMIT {} OFFSET {}",
            limits.max_rows.saturating_add(1),
            limits.offset
        );
        let timeout_ms = limits.timeout.as_millis().max(1);
        self.read(|tx| {
            tx.batch(&format!("SET LOCAL statement_timeout = {timeout_ms}"))?;
            let rows = tx.query(&wrapped, params)?;
            let columns = match rows.first() {
                Some(r) => r.columns.to_vec(),
                // No row carries the column names: ask for one row of
                // NULLs shaped like the query (SQLite names them anyway).
                None => tx
                    .query(
                        &format!(
                            "SELECT ghl_query.* FROM (SELECT 1) AS ghl_one \
                             LEFT JOIN ({sql}) AS ghl_query ON true LIMIT 1"
                        ),
                        params,
                    )?
                    .first()
                    .map(|r| r.columns.to_vec())
                    .unwrap_or_default(),
            };
            let truncated = rows.len() > limits.max_rows;
            let rows = rows
                .into_iter()
                .take(limits.max_rows)
                .map(|r| r.values)
                .collect();
            Ok(crate::QueryResult {
                columns,
                rows,
                truncated,
            })
        })
    }
}
