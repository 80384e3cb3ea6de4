//! How many of each person's interactions each write stored, as a derived
//! table: the person page's provenance reads a person's few rows by key
//! instead of scanning every interaction of the account (or, for one of
//! our people, of the store) for their pk inside the participants column.
//!
//! The interaction writer keeps it exact as it writes (it knows the rows it
//! inserts and the old rows it replaces); the rare bulk changes (retention,
//! erasure, merge and split, restore, and the migration that creates it on
//! a database that has interactions already) recount it from the
//! interactions with [`rebuild_person_import_counts`].

use rusqlite::{Transaction, params};
use rustc_hash::{FxHashMap, FxHashSet};

use super::StoreError;

pub(super) const MIGRATION: &str = r#"
-- person provenance: per person (pk) and write (imports.id), how many of the
-- interactions stored with that write's import_id name the person. Derived
-- from interactions; never holds a zero.
CREATE TABLE person_import_interactions (
    person_pk INTEGER NOT NULL,
    import_id INTEGER NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (person_pk, import_id)
) WITHOUT ROWID;
"#;

/// Changes to the counts made by one write: +1 per participant of each
/// interaction it stores, −1 per participant of each stored row it replaces
/// (under that row's old write).
#[derive(Default)]
pub(super) struct CountChanges(FxHashMap<(i64, i64), i64>);

impl CountChanges {
    pub(super) fn add(&mut self, person_pk: i64, import_id: i64, n: i64) {
        *self.0.entry((person_pk, import_id)).or_default() += n;
    }

    /// Writes the changes: one statement per (person, write) whose count
    /// moved; a count that reaches zero loses its row.
    pub(super) fn apply(self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let mut changes: Vec<((i64, i64), i64)> =
            self.0.into_iter().filter(|(_, n)| *n != 0).collect();
        // In key order, so the inserts walk the b-tree once.
        changes.sort_unstable();
        let mut upsert = tx.prepare_cached(
            "INSERT INTO person_import_interactions (person_pk, import_id, n) VALUES (?1, ?2, ?3)
             ON CONFLICT (person_pk, import_id) DO UPDATE SET n = n + excluded.n",
        )?;
        let mut drop_empty = tx.prepare_cached(
            "DELETE FROM person_import_interactions WHERE person_pk = ?1 AND import_id = ?2 AND n <= 0",
        )?;
        for ((pk, import), n) in changes {
            upsert.execute(params![pk, import, n])?;
            if n < 0 {
                drop_empty.execute(params![pk, import])?;
            }
        }
        Ok(())
    }
}

/// Recounts the table from the interactions: every row when `only` is
/// `None`, else the rows of the people in `only` (who may be gone: their
/// rows are removed). One pass over the interactions either way; for the
/// rare bulk changes, not for the hot path.
pub(super) fn rebuild_person_import_counts(
    tx: &Transaction<'_>,
    only: Option<&[i64]>,
) -> Result<(), StoreError> {
    let only: Option<FxHashSet<i64>> = only.map(|o| o.iter().copied().collect());
    if only.as_ref().is_some_and(FxHashSet::is_empty) {
        return Ok(());
    }
    let mut counts: FxHashMap<(i64, i64), i64> = FxHashMap::default();
    {
        let mut q = tx.prepare(
            "SELECT participants, import_id FROM interactions WHERE import_id IS NOT NULL",
        )?;
        let mut rows = q.query([])?;
        let mut seen: Vec<i64> = Vec::new();
        while let Some(r) = rows.next()? {
            let parts = r
                .get_ref(0)?
                .as_str()
                .map_err(|e| StoreError::Backend(format!("stored participants: {e}")))?;
            let import: i64 = r.get(1)?;
            seen.clear();
            for p in parts.split(',') {
                let p: i64 = p.parse().map_err(|e| {
                    StoreError::Backend(format!("stored participants {parts:?}: {e}"))
                })?;
                // One per interaction, as a person is counted once in it.
                if !seen.contains(&p) && only.as_ref().is_none_or(|o| o.contains(&p)) {
                    seen.push(p);
                    *counts.entry((p, import)).or_default() += 1;
                }
            }
        }
    }
    match &only {
        None => {
            tx.execute("DELETE FROM person_import_interactions", [])?;
        }
        Some(people) => {
            let mut del =
                tx.prepare_cached("DELETE FROM person_import_interactions WHERE person_pk = ?1")?;
            for p in people {
                del.execute([p])?;
            }
        }
    }
    let mut counts: Vec<((i64, i64), i64)> = counts.into_iter().collect();
    counts.sort_unstable();
    let mut ins = tx.prepare_cached(
        "INSERT INTO person_import_interactions (person_pk, import_id, n) VALUES (?1, ?2, ?3)",
    )?;
    for ((pk, import), n) in counts {
        ins.execute(params![pk, import, n])?;
    }
    Ok(())
}

/// Whether the database behind `tx` has the table (a backup of an older
/// schema does not until its migrations run).
pub(super) fn table_exists(tx: &Transaction<'_>) -> Result<bool, StoreError> {
    Ok(tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'person_import_interactions')",
        [],
        |r| r.get(0),
    )?)
}

#[cfg(test)]
mod tests {
    use super::super::{MIGRATIONS, SqliteStore};
    use renmai_graph::PersonId;
    use rusqlite::Connection;

    /// A database made before the table existed gets it filled from its
    /// interactions on first open (one per participant, interactions
    /// stored before provenance was kept not counted), and provenance
    /// reads it.
    #[tokio::test]
    async fn the_migration_counts_existing_interactions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let conn = Connection::open(&path).unwrap();
        let mine = MIGRATIONS
            .iter()
            .position(|m| *m == super::MIGRATION)
            .unwrap();
        for sql in &MIGRATIONS[..mine] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", mine as i64)
            .unwrap();
        conn.execute_batch(
            "INSERT INTO organizations (id, name, is_ours) VALUES ('0', 'Us', 1), ('1', 'A', 0);
             INSERT INTO people (pk, id, org_id, name, level) VALUES (1, 's', '0', 'S', 4), (2, 'a', '1', 'A', 4), (3, 'b', '1', 'B', 4);
             INSERT INTO imports (id, source, actor, at) VALUES (1, 'first', 'cli:x', 10), (2, 'second', 'cli:x', 20);
             INSERT INTO interactions (id, kind, at, participants, account_id, import_id) VALUES
                 ('i1', 'call', 100, '1,2', '1', 1), ('i2', 'call', 50, '1,3', '1', 2),
                 ('i3', 'meeting', 70, '1,2,3', '1', 2), ('i4', 'call', 80, '2,3', '1', NULL);",
        )
        .unwrap();
        drop(conn);

        let store = SqliteStore::open(&path).unwrap();
        {
            let conn = store.writer.lock().unwrap();
            let rows: Vec<(i64, i64, i64)> = conn
                .prepare(
                    "SELECT person_pk, import_id, n FROM person_import_interactions ORDER BY 1, 2",
                )
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(
                rows,
                [(1, 1, 1), (1, 2, 2), (2, 1, 1), (2, 2, 1), (3, 2, 2)]
            );
        }
        use crate::store::Store;
        let p = store
            .person_provenance(&PersonId::parse("s").unwrap())
            .await
            .unwrap()
            .unwrap();
        let got: Vec<(i64, &str, u64)> = p
            .interactions
            .iter()
            .map(|(m, n)| (m.id, m.source.as_str(), *n))
            .collect();
        assert_eq!(got, [(2, "second", 2), (1, "first", 1)]);
    }
}
