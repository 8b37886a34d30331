//! `Store::query_readonly`: user SQL may read anything and change nothing.

use ghl_store::{Error, Migration, QueryLimits, Store, StoreUrl, Value};

fn store() -> (tempfile::TempDir, Store, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let store = Store::open(&StoreUrl::Sqlite(path.clone())).unwrap();
    let sql = "CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT); CREATE VIEW v AS SELECT id FROM t;";
    store
        .migrate(
            "test",
            &[Migration {
                version: 1,
                sqlite: sql,
                postgres: sql,
            }],
        )
        .unwrap();
    store
        .write(|tx| {
            for i in 0..25 {
                tx.execute(
                    "INSERT INTO t (id, n) VALUES ($1, $2)",
                    &[format!("r{i:02}").into(), Value::Int(i)],
                )?;
            }
            Ok(())
        })
        .unwrap();
    (dir, store, path)
}

fn snapshot(store: &Store) -> Vec<Vec<Value>> {
    store
        .query_readonly(
            "SELECT type, name, sql FROM sqlite_master UNION ALL SELECT 'row', id, n FROM t ORDER BY 1, 2",
            &[],
            QueryLimits {
                max_rows: 10_000,
                ..QueryLimits::default()
            },
        )
        .unwrap()
        .rows
}

#[test]
fn reads_with_a_row_cap_and_a_continuation() {
    let (_d, store, _) = store();
    let limits = QueryLimits {
        max_rows: 10,
        ..QueryLimits::default()
    };
    let r = store
        .query_readonly("SELECT id, n FROM t ORDER BY n", &[], limits)
        .unwrap();
    assert_eq!(r.columns, vec!["id", "n"]);
    assert_eq!(r.rows.len(), 10);
    assert!(r.truncated);
    let next = store
        .query_readonly(
            "SELECT id, n FROM t ORDER BY n",
            &[],
            QueryLimits {
                offset: 20,
                ..limits
            },
        )
        .unwrap();
    assert_eq!(next.rows.len(), 5);
    assert!(!next.truncated);
    assert_eq!(next.rows[0][0], Value::Text("r20".into()));
    // Views, CTEs and parameters are reading too.
    let r = store
        .query_readonly(
            "WITH x AS (SELECT id FROM v WHERE id >= $1) SELECT COUNT(*) AS c FROM x",
            &["r20".into()],
            limits,
        )
        .unwrap();
    assert_eq!(r.rows[0][0], Value::Int(5));
}

#[test]
fn every_write_form_is_refused_and_nothing_changes() {
    let (dir, store, _) = store();
    let before = snapshot(&store);
    let other = dir.path().join("other.db");
    let attempts = [
        "INSERT INTO t (id, n) VALUES ('x', 1)".to_string(),
        "INSERT INTO t SELECT 'y', 2".into(),
        "REPLACE INTO t (id, n) VALUES ('r01', 99)".into(),
        "UPDATE t SET n = 0".into(),
        "DELETE FROM t".into(),
        "DROP TABLE t".into(),
        "DROP VIEW v".into(),
        "CREATE TABLE u (a)".into(),
        "CREATE TEMP TABLE u (a)".into(),
        "CREATE INDEX i ON t(n)".into(),
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM t; END".into(),
        "ALTER TABLE t ADD COLUMN z".into(),
        format!("ATTACH DATABASE '{}' AS o", other.display()),
        "DETACH DATABASE main".into(),
        "PRAGMA journal_mode = DELETE".into(),
        "PRAGMA query_only = OFF".into(),
        "PRAGMA user_version = 7".into(),
        "PRAGMA table_info(t)".into(),
        "SELECT load_extension('/tmp/evil.so')".into(),
        "VACUUM".into(),
        "VACUUM INTO '/tmp/copy.db'".into(),
        "REINDEX".into(),
        "ANALYZE".into(),
        "BEGIN".into(),
        "COMMIT".into(),
        "SAVEPOINT s".into(),
        "SELECT 1; DELETE FROM t".into(),
        "WITH d AS (SELECT 1) DELETE FROM t".into(),
        "INSERT INTO t (id, n) VALUES ('z', 1) RETURNING id".into(),
    ];
    for sql in &attempts {
        let e = store
            .query_readonly(sql, &[], QueryLimits::default())
            .expect_err(sql);
        assert!(
            matches!(e, Error::ReadOnly(_) | Error::Backend(_)),
            "{sql}: {e}"
        );
        let text = e.to_string();
        assert!(
            text.contains("read")
                || text.contains("one statement")
                || text.contains("not authorized"),
            "{sql}: unclear error: {text}"
        );
    }
    assert_eq!(snapshot(&store), before);
    assert!(!other.exists(), "ATTACH created a file");
    assert!(!std::path::Path::new("/tmp/copy.db").exists());
}

#[test]
fn a_runaway_query_is_interrupted() {
    let (_d, store, _) = store();
    let e = store
        .query_readonly(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT MAX(x) FROM c",
            &[],
            QueryLimits {
                timeout: std::time::Duration::from_millis(200),
                ..QueryLimits::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, Error::Busy(_)), "{e}");
}
