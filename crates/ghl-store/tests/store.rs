//! The store's own contract, the same on a real SQLite file and a real
//! Postgres server (scripts/pg-test-server.sh).

use std::time::Duration;

use ghl_store::{Backend, Error, Migration, Store, StoreUrl, Value};

const M: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: "CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
        postgres: "CREATE TABLE things (id TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    },
    Migration {
        version: 2,
        sqlite: "ALTER TABLE things ADD COLUMN note TEXT",
        postgres: "ALTER TABLE things ADD COLUMN note TEXT",
    },
];

fn sqlite(dir: &tempfile::TempDir) -> Store {
    let s = Store::open(&StoreUrl::Sqlite(dir.path().join("s.db"))).unwrap();
    s.migrate("test", M).unwrap();
    s
}

fn postgres() -> Store {
    let url = ghl_store::testing::postgres_database().unwrap();
    let s = Store::open(&url).unwrap();
    assert_eq!(s.backend(), Backend::Postgres);
    s.migrate("test", M).unwrap();
    s
}

/// Each contract check, run once per backend.
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(&super::sqlite(&dir));
            }
            #[test]
            fn postgres() {
                super::$name(&super::postgres());
            }
        }
    };
}

fn writes_commit_reads_see_them_and_placeholders_bind_by_number(s: &Store) {
    s.migrate("test", M).unwrap(); // idempotent
    s.write(|tx| {
        // $2 used before $1: binding is by number, not by order of use.
        tx.execute(
            "INSERT INTO things (n, id, note) VALUES ($2, $1, $3)",
            &["a".into(), Value::Int(7), Value::Null],
        )
    })
    .unwrap();
    let row = s
        .read(|tx| {
            tx.query_opt(
                "SELECT id, n, note FROM things WHERE id = $1",
                &["a".into()],
            )
        })
        .unwrap()
        .unwrap();
    assert_eq!(row.text("id").unwrap(), "a");
    assert_eq!(row.int("n").unwrap(), 7);
    assert!(row.get("note").unwrap().is_null());
    // Aggregates come back as numbers on both (SUM of BIGINT is NUMERIC on Postgres).
    let agg = s
        .read(|tx| tx.query_opt("SELECT COUNT(*) AS c, SUM(n) AS total FROM things", &[]))
        .unwrap()
        .unwrap();
    assert_eq!(agg.int("c").unwrap(), 1);
    assert_eq!(agg.int("total").unwrap(), 7);
}
on_both!(writes_commit_reads_see_them_and_placeholders_bind_by_number);

fn a_failed_write_changes_nothing(s: &Store) {
    let r: Result<(), Error> = s.write(|tx| {
        tx.execute(
            "INSERT INTO things (id, n) VALUES ($1, $2)",
            &["b".into(), Value::Int(1)],
        )?;
        Err(Error::Data("caller gave up".into()))
    });
    assert!(r.is_err());
    let n = s
        .read(|tx| tx.query_opt("SELECT COUNT(*) AS c FROM things", &[]))
        .unwrap()
        .unwrap();
    assert_eq!(n.int("c").unwrap(), 0);
}
on_both!(a_failed_write_changes_nothing);

fn reads_cannot_write(s: &Store) {
    let r = s.read(|tx| tx.execute("INSERT INTO things (id, n) VALUES ('x', 1)", &[]));
    assert!(matches!(r, Err(Error::ReadOnly(_))), "{r:?}");
}
on_both!(reads_cannot_write);

fn a_lease_has_one_holder_until_it_expires(s: &Store) {
    let a = s
        .lease("sync:loc1", "a", Duration::from_millis(1500))
        .unwrap()
        .expect("a takes it");
    assert!(
        s.lease("sync:loc1", "b", Duration::from_secs(5))
            .unwrap()
            .is_none()
    );
    assert!(a.renew().unwrap());
    // Long enough that a loaded database answers b and a's renewal within
    // the lease; the sleep outlasts it.
    std::thread::sleep(Duration::from_millis(1700));
    let b = s
        .lease("sync:loc1", "b", Duration::from_secs(5))
        .unwrap()
        .expect("b takes over");
    assert!(!a.renew().unwrap(), "a lost it");
    b.release().unwrap();
    assert!(
        s.lease("sync:loc1", "c", Duration::from_secs(5))
            .unwrap()
            .is_some()
    );
}
on_both!(a_lease_has_one_holder_until_it_expires);

fn unique_keys_hold_across_handles(s: &Store) {
    // Two handles on one store (two processes' worth): a key inserted by
    // both is kept once, and the loser learns it from the row count.
    let url_twin = s.clone();
    let ins = |st: &Store| {
        st.write(|tx| {
            tx.execute(
                "INSERT INTO things (id, n) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                &["dup".into(), Value::Int(1)],
            )
        })
        .unwrap()
    };
    assert_eq!(ins(s) + ins(&url_twin), 1);
}
on_both!(unique_keys_hold_across_handles);

#[test]
fn migrations_race_safely_on_postgres() {
    let url = ghl_store::testing::postgres_database().unwrap();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || Store::open(&url).unwrap().migrate("test", M))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let s = Store::open(&url).unwrap();
    let n = s
        .read(|tx| {
            tx.query_opt(
                "SELECT COUNT(*) AS c FROM ghl_migrations WHERE plane = 'test'",
                &[],
            )
        })
        .unwrap()
        .unwrap();
    assert_eq!(n.int("c").unwrap(), 2);
}

#[test]
fn a_store_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    std::fs::write(&p, b"").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o666)).unwrap();
    let e = Store::open(&StoreUrl::Sqlite(p)).err().expect("refused");
    assert!(e.to_string().contains("other users"), "{e}");
}

#[test]
fn new_store_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sub").join("s.db");
    let _s = Store::open(&StoreUrl::Sqlite(p.clone())).unwrap();
    assert_eq!(
        std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(p.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
}

#[test]
fn a_wrong_postgres_url_is_said_at_open_without_the_password() {
    let e = Store::open(&StoreUrl::parse("postgres://ghl:hunter2@127.0.0.1:1/x").unwrap())
        .err()
        .expect("refused");
    let msg = e.to_string();
    assert!(msg.contains("cannot connect"), "{msg}");
    assert!(!msg.contains("hunter2"), "{msg}");
}

fn user_sql_only_reads_and_is_capped(s: &Store) {
    use ghl_store::QueryLimits;
    s.write(|tx| {
        for i in 0..5 {
            tx.execute(
                "INSERT INTO things (id, n) VALUES ($1, $2)",
                &[format!("r{i}").into(), Value::Int(i)],
            )?;
        }
        Ok(())
    })
    .unwrap();
    let limits = QueryLimits {
        max_rows: 3,
        ..QueryLimits::default()
    };
    let r = s
        .query_readonly("SELECT id, n FROM things ORDER BY n", &[], limits)
        .unwrap();
    assert_eq!(r.rows.len(), 3);
    assert!(r.truncated);
    assert_eq!(r.columns, vec!["id".to_string(), "n".to_string()]);
    for write in [
        "DELETE FROM things",
        "UPDATE things SET n = 0",
        "INSERT INTO things (id, n) VALUES ('x', 1)",
        "DROP TABLE things",
        "CREATE TABLE evil (x TEXT)",
    ] {
        assert!(s.query_readonly(write, &[], limits).is_err(), "{write} ran");
    }
    let n = s
        .read(|tx| tx.query_opt("SELECT COUNT(*) AS c FROM things", &[]))
        .unwrap()
        .unwrap();
    assert_eq!(n.int("c").unwrap(), 5, "the store is unchanged");
}
on_both!(user_sql_only_reads_and_is_capped);

#[test]
fn scopes_on_one_postgres_keep_their_tables_apart() {
    let url = ghl_store::testing::postgres_database().unwrap();
    // Mixed case and dashes, like a mirror's profile and location id.
    let a = Store::open(&ghl_store::scoped(&url, "mirror-p-LocA").unwrap()).unwrap();
    let b = Store::open(&ghl_store::scoped(&url, "mirror-p-loca").unwrap()).unwrap();
    a.migrate("test", M).unwrap();
    b.migrate("test", M).unwrap();
    a.write(|tx| tx.execute("INSERT INTO things (id, n) VALUES ('x', 1)", &[]))
        .unwrap();
    let count = |s: &Store| {
        s.query_readonly("SELECT COUNT(*) FROM things", &[], Default::default())
            .unwrap()
            .rows[0][0]
            .as_i64()
            .unwrap()
    };
    assert_eq!(count(&a), 1);
    assert_eq!(count(&b), 0);
    // Opening a scope again (another process) finds what it left.
    let again = Store::open(&ghl_store::scoped(&url, "mirror-p-LocA").unwrap()).unwrap();
    assert_eq!(count(&again), 1);
    assert!(ghl_store::scoped(&url, "bad\"name").is_err());
}

fn a_lease_says_who_holds_it_until_when(s: &Store) {
    assert_eq!(s.lease_holder("sync/p/L1").unwrap(), None);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let l = s
        .lease("sync/p/L1", "host/42/ab", Duration::from_secs(30))
        .unwrap()
        .unwrap();
    let h = s.lease_holder("sync/p/L1").unwrap().unwrap();
    assert_eq!(h.holder, "host/42/ab");
    assert!(
        h.expires_at_ms >= before + 29_000 && h.expires_at_ms <= before + 31_000,
        "{h:?}"
    );
    l.release().unwrap();
    assert_eq!(s.lease_holder("sync/p/L1").unwrap(), None);
}
on_both!(a_lease_says_who_holds_it_until_when);

fn an_empty_answer_still_names_its_columns(s: &Store) {
    let r = s
        .query_readonly(
            "SELECT id, n AS count FROM things WHERE n < $1",
            &[Value::Int(-1)],
            Default::default(),
        )
        .unwrap();
    assert!(r.rows.is_empty());
    assert_eq!(r.columns, vec!["id".to_string(), "count".to_string()]);
}
on_both!(an_empty_answer_still_names_its_columns);

/// `ghl sql` for people and dashboards on Postgres may connect as a role
/// that can only read: opening the store (schema, migrations) writes
/// nothing when it is up to date, and the role's own grants refuse writes
/// besides ghl's read-only transaction.
#[test]
fn a_role_that_only_reads_opens_an_up_to_date_store_and_queries_it() {
    let url = ghl_store::testing::postgres_database().unwrap();
    let StoreUrl::Postgres(base) = &url else {
        panic!("not Postgres: {url:?}")
    };
    let owner = Store::open(&ghl_store::scoped(&url, "mirror-p-L1").unwrap()).unwrap();
    owner.migrate("test", M).unwrap();
    owner
        .write(|tx| tx.execute("INSERT INTO things (id, n) VALUES ('x', 1)", &[]))
        .unwrap();
    let role = format!("reader_{}", std::process::id());
    let db = base.rsplit('/').next().unwrap().split('?').next().unwrap();
    owner
        .write(|tx| {
            tx.batch(&format!(
                "DROP ROLE IF EXISTS {role};
                 CREATE ROLE {role} LOGIN;
                 REVOKE CREATE ON SCHEMA public FROM PUBLIC;
                 GRANT CONNECT ON DATABASE {db} TO {role};
                 GRANT USAGE ON SCHEMA \"mirror-p-L1\" TO {role};
                 GRANT SELECT ON ALL TABLES IN SCHEMA \"mirror-p-L1\" TO {role};"
            ))
        })
        .unwrap();
    let as_reader = StoreUrl::Postgres(base.replacen("postgres@", &format!("{role}@"), 1));

    let reader = Store::open(&ghl_store::scoped(&as_reader, "mirror-p-L1").unwrap()).unwrap();
    reader.migrate("test", M).unwrap();
    let r = reader
        .query_readonly("SELECT COUNT(*) AS c FROM things", &[], Default::default())
        .unwrap();
    assert_eq!(r.rows[0][0].as_i64(), Some(1));
    let e = reader
        .write(|tx| tx.execute("INSERT INTO things (id, n) VALUES ('y', 2)", &[]))
        .unwrap_err();
    assert!(e.to_string().contains("permission denied"), "{e}");
    // A newer plane would need a migration: the reader cannot apply it and
    // says so, rather than going on with an old schema.
    let newer = [
        M[0],
        M[1],
        Migration {
            version: 3,
            sqlite: "",
            postgres: "ALTER TABLE things ADD COLUMN more TEXT",
        },
    ];
    assert!(reader.migrate("test", &newer).is_err());
    owner
        .write(|tx| tx.batch(&format!("REVOKE ALL ON DATABASE {db} FROM {role}")))
        .ok();
}
