//! Privacy on the embedded store: provenance of every write (`imports`),
//! the append-only audit log, erasing a person (`forget`), retention of
//! interaction metadata, and online backups.
//!
//! Erasure leaves no trace in the file: the writer runs with
//! `secure_delete` (freed content is zeroed) and `forget` checkpoints the
//! WAL into the database and truncates it.

use std::path::Path;

use renmai_graph::Timestamp;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::StoreError;
use super::identity::{accounts_of, now, pks};
use super::person_counts::{rebuild_person_import_counts, table_exists};
use crate::privacy::{
    AuditEntry, EarlierWrites, ForgetReport, ImportRecord, PROVENANCE_WRITES, PersonProvenance,
    Provenance, RetentionReport, redact_audit_detail, redacted_id,
};

pub(super) const MIGRATION: &str = r#"
-- privacy: where every fact came from. One row per write (an import, an API
-- call, a page form, the demo); each fact keeps the id of the write that
-- last stored it (a small integer, cheap on a million interactions).
CREATE TABLE imports (
    id     INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    actor  TEXT NOT NULL,
    at     INTEGER NOT NULL
);
ALTER TABLE organizations ADD COLUMN import_id INTEGER;
ALTER TABLE people ADD COLUMN import_id INTEGER;
ALTER TABLE account_team ADD COLUMN import_id INTEGER;
ALTER TABLE interactions ADD COLUMN import_id INTEGER;
ALTER TABLE influences ADD COLUMN import_id INTEGER;
ALTER TABLE assessments ADD COLUMN import_id INTEGER;
ALTER TABLE opportunities ADD COLUMN import_id INTEGER;
ALTER TABLE opportunity_contacts ADD COLUMN import_id INTEGER;

-- The audit log: changes (imports, API writes, page forms, merges, splits,
-- erasures, retention, restores) and views of exports. Append-only: renmai
-- never updates or deletes a line, except that erasing a person replaces
-- mentions of them.
CREATE TABLE audit_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
"#;

/// Records a write about to happen; its id goes on every row it stores.
pub(super) fn begin_import(tx: &Transaction<'_>, p: &Provenance) -> Result<i64, StoreError> {
    tx.execute(
        "INSERT INTO imports (source, actor, at) VALUES (?1, ?2, ?3)",
        params![p.source, p.actor, now()],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Appends a line to the audit log.
pub(super) fn audit(
    conn: &Connection,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
        params![now(), actor, action, detail],
    )?;
    Ok(())
}

pub(super) fn audit_log(
    conn: &Connection,
    since: Option<Timestamp>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut q = conn.prepare(
        "SELECT seq, at, actor, action, detail FROM audit_log WHERE at >= ?1 ORDER BY seq",
    )?;
    let since = since.map_or(i64::MIN, |t| t.epoch_seconds());
    let rows = q.query_map([since], |r| {
        Ok(AuditEntry {
            seq: r.get(0)?,
            at: Timestamp::from_epoch_seconds(r.get(1)?),
            actor: r.get(2)?,
            action: r.get(3)?,
            detail: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn import_record(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ImportRecord> {
    Ok(ImportRecord {
        id: r.get(first)?,
        source: r.get(first + 1)?,
        actor: r.get(first + 2)?,
        at: Timestamp::from_epoch_seconds(r.get(first + 3)?),
    })
}

/// Where a person's record and interactions came from. `None` when there
/// is no such person.
pub(super) fn person_provenance(
    conn: &Connection,
    id: &str,
) -> Result<Option<PersonProvenance>, StoreError> {
    let Some((pk, import_id)) = conn
        .query_row(
            "SELECT pk, import_id FROM people WHERE id = ?1",
            [id],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?)),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let person = match import_id {
        None => None,
        Some(i) => conn
            .query_row(
                "SELECT id, source, actor, at FROM imports WHERE id = ?1",
                [i],
                |r| import_record(r, 0),
            )
            .optional()?,
    };
    // The person's interactions per write, from the counts kept beside
    // them (a few rows by key, however many interactions the store holds).
    let interactions: Vec<(ImportRecord, u64)> = conn
        .prepare_cached(
            "SELECT m.id, m.source, m.actor, m.at, c.n FROM person_import_interactions c
               JOIN imports m ON m.id = c.import_id
              WHERE c.person_pk = ?1 AND c.n > 0
              ORDER BY c.import_id DESC LIMIT ?2",
        )?
        .query_map(params![pk, PROVENANCE_WRITES as i64], |r| {
            Ok((import_record(r, 0)?, r.get::<_, i64>(4)? as u64))
        })?
        .collect::<Result<_, _>>()?;
    let earlier = match interactions.last() {
        Some((oldest, _)) if interactions.len() == PROVENANCE_WRITES => {
            let (writes, n) = conn
                .prepare_cached(
                    "SELECT count(*), coalesce(sum(n), 0) FROM person_import_interactions
                      WHERE person_pk = ?1 AND n > 0 AND import_id < ?2",
                )?
                .query_row(params![pk, oldest.id], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
                })?;
            EarlierWrites {
                writes: writes as u64,
                interactions: n as u64,
            }
        }
        _ => EarlierWrites::default(),
    };
    Ok(Some(PersonProvenance {
        person,
        interactions,
        earlier,
    }))
}

/// Text `needle` as it appears inside a JSON string.
fn json_inner(needle: &str) -> String {
    let quoted = serde_json::to_string(needle).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_owned()
}

/// Erases person `id` from every table. Interactions they were part of
/// lose them, and go when fewer than two people remain; lines about them
/// go; lines that only point at them (a deal's owner, a report's manager,
/// an assessment's author) stay without the pointer; plan snapshots and the
/// audit log have their mentions replaced.
pub(super) fn forget(
    tx: &Transaction<'_>,
    id: &str,
    actor: &str,
) -> Result<ForgetReport, StoreError> {
    let (pk, name): (i64, String) = tx
        .query_row("SELECT pk, name FROM people WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no person with id {id}")))?;
    let emails: Vec<String> = tx
        .prepare("SELECT email FROM person_emails WHERE person_id = ?1")?
        .query_map([id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut rep = ForgetReport {
        person: redacted_id(id),
        ..Default::default()
    };

    // Interactions.
    let found: Vec<(String, i64, String, Option<String>)> = tx
        .prepare(
            "SELECT id, at, participants, account_id FROM interactions
              WHERE ',' || participants || ',' LIKE '%,' || ?1 || ',%'",
        )?
        .query_map([pk], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    let mut others: Vec<i64> = Vec::new();
    for (iid, at, parts, account) in found {
        let left: Vec<i64> = pks(&parts)?.into_iter().filter(|p| *p != pk).collect();
        if let Some(a) = &account {
            tx.execute(
                "DELETE FROM interactions_by_account WHERE account_id = ?1 AND at = ?2 AND interaction_id = ?3",
                params![a, at, iid],
            )?;
        }
        tx.execute(
            "DELETE FROM interaction_accounts WHERE interaction_id = ?1",
            [&iid],
        )?;
        others.extend(&left);
        if left.len() < 2 {
            tx.execute("DELETE FROM interactions WHERE id = ?1", [&iid])?;
            rep.interactions_deleted += 1;
            continue;
        }
        let accounts = accounts_of(tx, &left)?;
        let joined = left
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        tx.execute(
            "UPDATE interactions SET participants = ?2, account_id = ?3 WHERE id = ?1",
            params![iid, joined, accounts.first()],
        )?;
        if let Some(a) = accounts.first() {
            tx.execute(
                "INSERT OR IGNORE INTO interactions_by_account (account_id, at, interaction_id) VALUES (?1, ?2, ?3)",
                params![a, at, iid],
            )?;
        }
        for a in accounts.iter().skip(1) {
            tx.execute(
                "INSERT OR IGNORE INTO interaction_accounts (account_id, interaction_id) VALUES (?1, ?2)",
                params![a, iid],
            )?;
        }
        rep.interactions_edited += 1;
    }
    // Their provenance counts go (no row of them is left); the others'
    // drop with the interactions deleted.
    let mut recount = others.clone();
    recount.push(pk);
    rebuild_person_import_counts(tx, Some(&recount))?;
    // The others' newest interaction may have gone: one pass over the
    // interactions recomputes it for all of them (a query per person would
    // scan the table once each).
    let others: rustc_hash::FxHashSet<i64> = others.into_iter().collect();
    if !others.is_empty() {
        let mut newest: rustc_hash::FxHashMap<i64, i64> = Default::default();
        let mut q = tx.prepare("SELECT at, participants FROM interactions")?;
        let mut rows = q.query([])?;
        while let Some(r) = rows.next()? {
            let at: i64 = r.get(0)?;
            let parts = r
                .get_ref(1)?
                .as_str()
                .map_err(|e| StoreError::Backend(format!("stored participants: {e}")))?;
            for p in parts.split(',').filter_map(|x| x.parse::<i64>().ok()) {
                if others.contains(&p) {
                    let e = newest.entry(p).or_insert(at);
                    *e = (*e).max(at);
                }
            }
        }
        let mut set_last = tx.prepare_cached("UPDATE people SET last_at = ?2 WHERE pk = ?1")?;
        for p in others {
            set_last.execute(params![p, newest.get(&p)])?;
        }
    }

    let n = |sql: &str| -> Result<u64, StoreError> { Ok(tx.execute(sql, [id])? as u64) };
    rep.emails = n("DELETE FROM person_emails WHERE person_id = ?1")?;
    rep.external_ids = n("DELETE FROM person_external_ids WHERE person_id = ?1")?;
    rep.phones = n("DELETE FROM person_phones WHERE person_id = ?1")?;
    rep.account_team = n("DELETE FROM account_team WHERE person_id = ?1")?;
    rep.influences = n("DELETE FROM influences WHERE from_id = ?1 OR to_id = ?1")?;
    rep.assessments = n("DELETE FROM assessments WHERE from_id = ?1 OR to_id = ?1")?;
    rep.assessments_unattributed = n("UPDATE assessments SET by_id = NULL WHERE by_id = ?1")?;
    rep.deal_contacts = n("DELETE FROM opportunity_contacts WHERE person_id = ?1")?;
    rep.deals_unowned = n("UPDATE opportunities SET owner_id = NULL WHERE owner_id = ?1")?;
    rep.service_cases = n("DELETE FROM service_cases WHERE contact_id = ?1")?
        + n("UPDATE service_cases SET owner_id = NULL WHERE owner_id = ?1")?;
    rep.deal_support = n("DELETE FROM deal_support WHERE person_id = ?1")?;
    rep.reports_unlinked = n("UPDATE people SET reports_to = NULL WHERE reports_to = ?1")?;
    rep.review_pairs = n("DELETE FROM identity_review WHERE existing_id = ?1 OR new_id = ?1")?;
    // Undo records of merges hold whole rows of the people involved.
    rep.merge_records = n(
        "DELETE FROM person_merges WHERE survivor_id = ?1 OR merged_id = ?1 OR instr(undo, '\"' || ?1 || '\"') > 0",
    )?;
    rep.plan_items = n("DELETE FROM plan_objectives WHERE instr(body, '\"' || ?1 || '\"') > 0")?
        + n("DELETE FROM plan_actions WHERE instr(body, '\"' || ?1 || '\"') > 0")?;

    // Free text that may name them: what to look for and what replaces it.
    let mut needles: Vec<(String, String)> = vec![
        (format!("\"{}\"", json_inner(id)), "\"forgotten\"".into()),
        (json_inner(&name), "[forgotten]".into()),
    ];
    needles.extend(emails.iter().map(|e| (json_inner(e), "[forgotten]".into())));
    needles.retain(|(n, _)| !n.is_empty());
    let mentions = |text: &str| needles.iter().any(|(n, _)| text.contains(n.as_str()));
    let scrub = |text: &str| {
        needles
            .iter()
            .fold(text.to_owned(), |t, (n, r)| t.replace(n.as_str(), r))
    };

    let snapshots: Vec<(String, i64, String)> = tx
        .prepare("SELECT account_id, saved_at, body FROM plan_snapshots")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (account, saved_at, body) in snapshots {
        if mentions(&body) {
            tx.execute(
                "UPDATE plan_snapshots SET body = ?3 WHERE account_id = ?1 AND saved_at = ?2",
                params![account, saved_at, scrub(&body)],
            )?;
            rep.snapshots_scrubbed += 1;
        }
    }
    let kept: Vec<(String, String, String)> = tx
        .prepare("SELECT client, key, body FROM idempotency_keys")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    for (client, key, body) in kept {
        if mentions(&body) {
            tx.execute(
                "DELETE FROM idempotency_keys WHERE client = ?1 AND key = ?2",
                params![client, key],
            )?;
            rep.idempotency_entries += 1;
        }
    }
    let lines: Vec<(i64, String)> = tx
        .prepare("SELECT seq, detail FROM audit_log")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (seq, detail) in lines {
        let redacted = redact_audit_detail(&detail, id, &name, &emails);
        if redacted != detail {
            tx.execute(
                "UPDATE audit_log SET detail = ?2 WHERE seq = ?1",
                params![seq, redacted],
            )?;
            rep.audit_lines_redacted += 1;
        }
    }

    tx.execute("DELETE FROM people WHERE pk = ?1", [pk])?;
    audit(tx, actor, "forget", &rep.audit_detail())?;
    Ok(rep)
}

/// Moves everything in the WAL into the database file and empties the WAL,
/// so deleted content survives in neither. Retries while readers hold old
/// snapshots.
pub(super) fn checkpoint(conn: &Connection) -> Result<(), StoreError> {
    for attempt in 0..50 {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20 * (attempt + 1)));
    }
    Err(StoreError::Backend(
        "the write-ahead log could not be checkpointed: readers kept it busy for 25 s".into(),
    ))
}

/// Deletes interactions before `cutoff` (and their index rows); people's
/// newest-interaction dates that fall before it are cleared.
pub(super) fn retention(
    tx: &Transaction<'_>,
    cutoff: Timestamp,
    actor: &str,
    days: u32,
) -> Result<RetentionReport, StoreError> {
    let c = cutoff.epoch_seconds();
    tx.execute(
        "DELETE FROM interaction_accounts WHERE interaction_id IN (SELECT id FROM interactions WHERE at < ?1)",
        [c],
    )?;
    tx.execute("DELETE FROM interactions_by_account WHERE at < ?1", [c])?;
    // A service case's own fields go with its interaction.
    tx.execute("DELETE FROM service_cases WHERE opened < ?1", [c])?;
    let n = tx.execute("DELETE FROM interactions WHERE at < ?1", [c])? as u64;
    tx.execute("UPDATE people SET last_at = NULL WHERE last_at < ?1", [c])?;
    if n > 0 {
        rebuild_person_import_counts(tx, None)?;
        audit(
            tx,
            actor,
            "retention",
            &format!(
                "deleted {n} interactions before {} (kept {days} days)",
                cutoff.to_rfc3339()
            ),
        )?;
    }
    Ok(RetentionReport {
        cutoff,
        interactions_deleted: n,
    })
}

/// A consistent copy of the database at `dest`, taken on its own
/// connection: a WAL reader sees one committed state and never blocks the
/// writer, so this runs while `serve` writes.
pub(super) fn backup(db: &Path, dest: &Path) -> Result<(), StoreError> {
    if dest.exists() {
        return Err(StoreError::Backend(format!(
            "{} exists; backups never overwrite a file, pick a new name",
            dest.display()
        )));
    }
    let conn = Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    let dest_text = dest
        .to_str()
        .ok_or_else(|| StoreError::Backend(format!("{} is not UTF-8", dest.display())))?;
    conn.execute("VACUUM INTO ?1", [dest_text])
        .map_err(|e| StoreError::Backend(format!("backup to {}: {e}", dest.display())))?;
    Ok(())
}

/// Tables every renmai database has; a file without them is not one.
const RENMAI_TABLES: &[&str] = &["organizations", "people", "interactions", "imports"];

/// Checks that `backup` is a renmai database this renmai can open: SQLite,
/// renmai's tables, a schema no newer than `known` migrations, intact.
pub(super) fn check_backup(backup: &Path, known: usize) -> Result<usize, StoreError> {
    let bad = |why: String| {
        StoreError::Backend(format!("{} cannot be restored: {why}", backup.display()))
    };
    if !backup.is_file() {
        return Err(bad("there is no such file".into()));
    }
    let conn = Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| bad(e.to_string()))?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| bad(format!("it is not a SQLite database ({e})")))?;
    for t in RENMAI_TABLES {
        let found: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [t],
                |r| r.get(0),
            )
            .map_err(|e| bad(format!("it is not a SQLite database ({e})")))?;
        if !found {
            return Err(bad(format!(
                "it is not a renmai database (no table {t}; backups come from `renmai backup`)"
            )));
        }
    }
    if version as usize > known {
        return Err(bad(format!(
            "it has schema version {version}, newer than this renmai knows ({known}); restore it with a newer renmai"
        )));
    }
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(|e| bad(e.to_string()))?;
    if check != "ok" {
        return Err(bad(format!("it is damaged ({check})")));
    }
    Ok(version as usize)
}

/// Replaces the database at `db` with `backup`, atomically: the backup is
/// copied next to it, synced, and renamed over it, so a crash leaves either
/// the old or the new database. Any WAL of the old one is folded in first
/// and removed after, so it cannot be replayed onto the new file.
pub(super) fn restore(backup: &Path, db: &Path) -> Result<(), StoreError> {
    let tmp = db.with_extension("restoring");
    let _ = std::fs::remove_file(&tmp);
    {
        let src = Connection::open_with_flags(backup, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let tmp_text = tmp
            .to_str()
            .ok_or_else(|| StoreError::Backend(format!("{} is not UTF-8", tmp.display())))?;
        src.execute("VACUUM INTO ?1", [tmp_text])?;
        // Derived counts are recounted from the restored interactions, so
        // they match them whatever wrote the backup (an older schema gets
        // them from its migration on first open).
        let mut restored = Connection::open(&tmp)?;
        let tx = restored.transaction()?;
        if table_exists(&tx)? {
            rebuild_person_import_counts(&tx, None)?;
        }
        tx.commit()?;
    }
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| StoreError::Backend(format!("syncing {}: {e}", tmp.display())))?;
    if db.exists() {
        let old = Connection::open(db)?;
        old.busy_timeout(std::time::Duration::from_secs(10))?;
        checkpoint(&old)?;
        drop(old);
    }
    std::fs::rename(&tmp, db).map_err(|e| {
        StoreError::Backend(format!("replacing {} with the backup: {e}", db.display()))
    })?;
    for suffix in ["-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(p));
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}
