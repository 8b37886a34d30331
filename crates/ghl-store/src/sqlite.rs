//! The embedded backend: one SQLite file in WAL mode. Writes go through one
//! connection per process (BEGIN IMMEDIATE, so processes queue on the file
//! lock instead of failing mid-transaction); reads use a small pool of
//! read-only connections.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::{Error, Result};
use crate::{Backend, Row, Tx, Value};

const BUSY_WAIT: Duration = Duration::from_secs(10);
const READ_POOL: usize = 4;

pub(crate) struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    pub(crate) fn open(path: &Path) -> Result<SqliteStore> {
        crate::location::prepare_file(path)?;
        let writer = Connection::open(path)?;
        writer.busy_timeout(BUSY_WAIT)?;
        // WAL lets readers run beside the writer; FULL makes a committed
        // transaction survive power loss, not only a killed process.
        writer.pragma_update(None, "journal_mode", "WAL")?;
        writer.pragma_update(None, "synchronous", "FULL")?;
        writer.pragma_update(None, "foreign_keys", "ON")?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn describe(&self) -> String {
        self.path.display().to_string()
    }

    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| Error::Backend("store writer poisoned".into()))?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut t = SqliteTx { conn: &tx };
        let out = f(&mut t)?;
        tx.commit()?;
        Ok(out)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let conn = match self.readers.lock().ok().and_then(|mut p| p.pop()) {
            Some(c) => c,
            None => self.open_reader()?,
        };
        let out = {
            let tx = conn.unchecked_transaction()?;
            let mut t = SqliteTx { conn: &tx };
            let out = f(&mut t);
            // Nothing to keep from a read; ending it frees the WAL snapshot.
            let _ = tx.rollback();
            out
        };
        if let Ok(mut pool) = self.readers.lock()
            && pool.len() < READ_POOL
        {
            pool.push(conn);
        }
        out
    }

    pub(crate) fn query_readonly(
        &self,
        sql: &str,
        params: &[Value],
        limits: crate::QueryLimits,
    ) -> Result<crate::QueryResult> {
        crate::readonly::run(&self.path, sql, params, limits)
    }

    fn open_reader(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(BUSY_WAIT)?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(conn)
    }
}

struct SqliteTx<'c> {
    conn: &'c Connection,
}

impl SqliteTx<'_> {
    fn prepare<'s>(&'s self, sql: &str, params: &[Value]) -> Result<rusqlite::CachedStatement<'s>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        // `$N` are named parameters to SQLite; bind each by its name so the
        // numbering means the same as on Postgres whatever the order of use.
        for (i, v) in params.iter().enumerate() {
            // Fast path: `$N` first used in order has index N (SQLite's
            // lookup by name is a linear scan, quadratic for long VALUES
            // lists); anything else is looked up by name.
            let idx = match stmt.parameter_name(i + 1) {
                Some(n)
                    if n.strip_prefix('$').and_then(|d| d.parse::<usize>().ok()) == Some(i + 1) =>
                {
                    i + 1
                }
                _ => {
                    let name = format!("${}", i + 1);
                    let Some(idx) = stmt.parameter_index(&name)? else {
                        return Err(Error::Backend(format!(
                            "statement has no parameter {name}: {sql}"
                        )));
                    };
                    idx
                }
            };
            stmt.raw_bind_parameter(idx, v)?;
        }
        Ok(stmt)
    }
}

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut stmt = self.prepare(sql, params)?;
        Ok(stmt.raw_execute()? as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        let mut stmt = self.prepare(sql, params)?;
        let columns: Arc<[String]> = stmt.column_names().map(|c| c.to_string()).collect();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            let mut values = Vec::with_capacity(columns.len());
            for i in 0..columns.len() {
                values.push(from_ref(r.get_ref(i)?));
            }
            out.push(Row {
                columns: columns.clone(),
                values,
            });
        }
        Ok(out)
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }
}

pub(crate) fn from_ref(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}
