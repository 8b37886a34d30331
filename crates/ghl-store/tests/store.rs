//! The store's own contract, on a real SQLite file.

use std::time::Duration;

use ghl_store::{Error, Migration, Store, StoreUrl, Value};

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

fn open(dir: &tempfile::TempDir) -> Store {
    let s = Store::open(&StoreUrl::Sqlite(dir.path().join("s.db"))).unwrap();
    s.migrate("test", M).unwrap();
    s
}

#[test]
fn writes_commit_reads_see_them_and_placeholders_bind_by_number() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
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
}

#[test]
fn a_failed_write_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
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

#[test]
fn reads_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let r = s.read(|tx| tx.execute("INSERT INTO things (id, n) VALUES ('x', 1)", &[]));
    assert!(matches!(r, Err(Error::ReadOnly(_))), "{r:?}");
}

#[test]
fn a_lease_has_one_holder_until_it_expires() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let a = s
        .lease("sync:loc1", "a", Duration::from_millis(200))
        .unwrap()
        .expect("a takes it");
    assert!(
        s.lease("sync:loc1", "b", Duration::from_secs(5))
            .unwrap()
            .is_none()
    );
    assert!(a.renew().unwrap());
    std::thread::sleep(Duration::from_millis(300));
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
