//! The per-person provenance counts (`person_import_interactions`) stay
//! equal to a recount from the interactions through imports, re-imports
//! that change participants, retention, merge, split and erasure; and
//! `person_provenance` answers as the scan it replaced did.

use std::collections::BTreeMap;
use std::path::Path;

use renmai::bundle::Bundle;
use renmai::store::Store;
use renmai_graph::{PersonId, Timestamp};
use rusqlite::{Connection, OpenFlags};
use serde_json::json;

use crate::helpers::{TestStore, write_small_bundle};

fn pid(s: &str) -> PersonId {
    PersonId::parse(s).unwrap()
}

fn bundle(v: serde_json::Value) -> Bundle {
    serde_json::from_value(v).unwrap()
}

fn read_only(db: &Path) -> Connection {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// (person pk, import id) → n, as the table holds it.
fn table(conn: &Connection) -> BTreeMap<(i64, i64), i64> {
    conn.prepare("SELECT person_pk, import_id, n FROM person_import_interactions")
        .unwrap()
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The same, recounted from scratch with the scan the table replaced.
fn recount(conn: &Connection) -> BTreeMap<(i64, i64), i64> {
    let pks: Vec<i64> = conn
        .prepare("SELECT pk FROM people")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut q = conn
        .prepare(
            "SELECT import_id, count(*) FROM interactions
              WHERE import_id IS NOT NULL AND ',' || participants || ',' LIKE '%,' || ?1 || ',%'
              GROUP BY import_id",
        )
        .unwrap();
    let mut out = BTreeMap::new();
    for pk in pks {
        let rows: Vec<(i64, i64)> = q
            .query_map([pk], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (import, n) in rows {
            out.insert((pk, import), n);
        }
    }
    out
}

/// Provenance of a person's interactions as the former query computed it:
/// (import id, n), newest import first.
fn old_provenance(conn: &Connection, id: &str) -> Vec<(i64, u64)> {
    let (pk, account): (i64, Option<String>) = conn
        .query_row(
            "SELECT p.pk, CASE WHEN o.is_ours = 0 THEN o.id END
               FROM people p JOIN organizations o ON o.id = p.org_id WHERE p.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let row = |r: &rusqlite::Row<'_>| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64));
    match account {
        Some(account) => conn
            .prepare(
                "SELECT m.id, count(*) FROM interactions i
                   JOIN imports m ON m.id = i.import_id
                  WHERE i.id IN (SELECT interaction_id FROM interactions_by_account WHERE account_id = ?2
                                 UNION SELECT interaction_id FROM interaction_accounts WHERE account_id = ?2)
                    AND ',' || i.participants || ',' LIKE '%,' || ?1 || ',%'
                  GROUP BY m.id ORDER BY m.id DESC",
            )
            .unwrap()
            .query_map(rusqlite::params![pk, account], row)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap(),
        None => conn
            .prepare(
                "SELECT m.id, count(*) FROM interactions i
                   JOIN imports m ON m.id = i.import_id
                  WHERE ',' || i.participants || ',' LIKE '%,' || ?1 || ',%'
                  GROUP BY m.id ORDER BY m.id DESC",
            )
            .unwrap()
            .query_map([pk], row)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap(),
    }
}

/// The table equals the recount, and every person's provenance (ours and
/// customers') answers as the former scan did.
async fn check(t: &TestStore, step: &str) {
    let conn = read_only(&t.dir.path().join("renmai.db"));
    let kept = table(&conn);
    assert!(!kept.is_empty(), "{step}: the test must see counts");
    assert_eq!(kept, recount(&conn), "{step}: counts differ from a recount");
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM people ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for id in ids {
        let p = t.store.person_provenance(&pid(&id)).await.unwrap().unwrap();
        let now: Vec<(i64, u64)> = p.interactions.iter().map(|(m, n)| (m.id, *n)).collect();
        assert_eq!(now, old_provenance(&conn, &id), "{step}: person {id}");
    }
}

fn pk_of(t: &TestStore, id: &str) -> i64 {
    read_only(&t.dir.path().join("renmai.db"))
        .query_row("SELECT pk FROM people WHERE id = ?1", [id], |r| r.get(0))
        .unwrap()
}

fn interaction(id: &str, at: &str, parts: &[&str]) -> serde_json::Value {
    json!({"id": id, "kind": "meeting", "at": at, "initiator": parts[0], "participants": parts})
}

#[tokio::test]
async fn person_import_counts_match_a_recount_through_every_change() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    check(&t, "first import").await;

    // Another write: a second Carla (99), interactions with customers, ours,
    // and a three-person one.
    t.import(bundle(json!({
        "people": [{"id": "99", "org": "1", "name": "Carla C.", "level": 1}],
        "interactions": [
            interaction("a1", "2025-11-03T10:00:00Z", &["1", "99"]),
            interaction("a2", "2025-11-04T10:00:00Z", &["99", "10", "2"]),
            interaction("a3", "2025-11-05T10:00:00Z", &["11", "12"]),
            interaction("a4", "2025-11-06T10:00:00Z", &["1", "2"]),
            interaction("a5", "2025-11-07T10:00:00Z", &["13", "10"]),
            interaction("a6", "2025-11-08T10:00:00Z", &["13", "11", "1"]),
        ]
    })))
    .await;
    check(&t, "second import").await;
    let carla = t
        .store
        .person_provenance(&pid("10"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        carla
            .interactions
            .iter()
            .map(|(_, n)| *n)
            .collect::<Vec<_>>(),
        [2, 2],
        "Carla: a2 and a5 from the second write, interactions 1 and 2 from the first"
    );

    // Re-imports with changed participants: one of the first write's and
    // one of the second's; a1 comes again unchanged and keeps its write.
    t.import(bundle(json!({
        "interactions": [
            interaction("1", "2025-11-01T10:00:00Z", &["1", "10", "11"]),
            interaction("a1", "2025-11-03T10:00:00Z", &["1", "99"]),
            interaction("a2", "2025-11-04T10:00:00Z", &["99", "12", "1"]),
        ]
    })))
    .await;
    check(&t, "re-import with changes").await;
    let ana = t.store.person_provenance(&pid("1")).await.unwrap().unwrap();
    assert_eq!(
        ana.interactions.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
        [2, 3, 3],
        "Ana: 1 and a2 rewritten; a1, a4 and a6 from the second write; 2, 4 and 5 from the first"
    );

    // Retention drops the September interactions (4 and 5).
    let r = t
        .store
        .apply_retention(
            Timestamp::parse("2025-10-01T00:00:00Z").unwrap(),
            40,
            "retention",
        )
        .await
        .unwrap();
    assert_eq!(r.interactions_deleted, 2);
    check(&t, "retention").await;

    // Merge the second Carla into the first; then a1 (now Ana and Carla)
    // is written again with Finn instead, then the merge is undone.
    let merged_pk = pk_of(&t, "99");
    t.store.merge_people(&pid("10"), &pid("99")).await.unwrap();
    check(&t, "merge").await;
    let conn = read_only(&t.dir.path().join("renmai.db"));
    assert!(
        table(&conn).keys().all(|(p, _)| *p != merged_pk),
        "the merged person keeps no counts"
    );
    drop(conn);
    t.import(bundle(json!({
        "interactions": [interaction("a1", "2025-11-03T10:00:00Z", &["1", "13"])]
    })))
    .await;
    check(&t, "re-import after the merge").await;
    t.store.split_people(&pid("10"), &pid("99")).await.unwrap();
    check(&t, "split").await;

    // Erasure: Finn's counts go with him; a5 goes (Carla is left alone in
    // it) and a6 keeps Dev and Ana.
    let finn = pk_of(&t, "13");
    let before = table(&read_only(&t.dir.path().join("renmai.db")));
    assert!(before.keys().any(|(p, _)| *p == finn), "Finn has counts");
    t.store.forget_person(&pid("13"), "cli:test").await.unwrap();
    check(&t, "forget").await;
    let after = table(&read_only(&t.dir.path().join("renmai.db")));
    assert!(after.keys().all(|(p, _)| *p != finn), "Finn left a count");
}
