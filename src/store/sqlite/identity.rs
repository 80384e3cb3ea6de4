//! Identity upkeep on the embedded store: the review list of possible
//! duplicates, merging two people into one, and splitting a merge again.
//!
//! A merge rewrites every reference to the merged person (interactions,
//! team, influence and assessment lines, deal roles, reporting lines,
//! e-mail addresses and CRM ids) to the survivor, in one transaction, and
//! keeps an undo record of exactly what it changed: the rows it removed and
//! the rows it added. A split replays that record backwards, so a wrong
//! merge costs nothing, and what was added to the survivor after the merge
//! stays with the survivor.

use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::person_counts::rebuild_person_import_counts;
use super::{MergeReport, ReviewItem};
use crate::ingest::resolve::MergeCandidate;
use renmai_graph::PersonId;

/// Tables whose rows name people, with the columns that do. Rows are
/// moved from the merged person to the survivor with `INSERT OR IGNORE`
/// (the survivor may already have the same line).
const EDGE_TABLES: &[(&str, &[&str])] = &[
    ("account_team", &["person_id"]),
    ("influences", &["from_id", "to_id"]),
    ("assessments", &["from_id", "to_id", "by_id"]),
    ("opportunity_contacts", &["person_id"]),
];

/// A row as kept in an undo record.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    table: String,
    cols: Vec<String>,
    values: Vec<serde_json::Value>,
}

/// Everything a merge changed, to undo it.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Undo {
    merged_pk: i64,
    /// The merged person's row (all columns of `people`).
    person: Option<Row>,
    /// The survivor's row before the merge.
    survivor: Option<Row>,
    emails: Vec<String>,
    external_ids: Vec<(String, String)>,
    removed: Vec<Row>,
    added: Vec<Row>,
    /// People who reported to the merged person.
    reports: Vec<String>,
    /// Deals the merged person owned.
    owned: Vec<String>,
    /// Interactions as they were (whole rows: a merge drops the ones left
    /// with a single participant).
    interactions: Vec<Row>,
    interaction_accounts: Vec<(String, String)>,
}

pub(super) const MIGRATION: &str = r#"
-- 5: identity resolution. Possible duplicates found by imports, and merges
-- with what they changed so that a split can undo them.
CREATE TABLE identity_review (
    existing_id TEXT NOT NULL,
    new_id      TEXT NOT NULL,
    confidence  REAL NOT NULL,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    decided     TEXT,
    PRIMARY KEY (existing_id, new_id)
) WITHOUT ROWID;

CREATE TABLE person_merges (
    survivor_id TEXT NOT NULL,
    merged_id   TEXT NOT NULL,
    merged_at   INTEGER NOT NULL,
    undo        TEXT NOT NULL,
    split_at    INTEGER,
    PRIMARY KEY (survivor_id, merged_id, merged_at)
) WITHOUT ROWID;
"#;

pub(super) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn to_json(v: Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => i.into(),
        Value::Real(f) => f.into(),
        Value::Text(s) => s.into(),
        Value::Blob(b) => b.into(),
    }
}

fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Integer(*b as i64),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(Value::Integer)
            .unwrap_or_else(|| Value::Real(n.as_f64().unwrap_or(0.0))),
        serde_json::Value::String(s) => Value::Text(s.clone()),
        other => Value::Text(other.to_string()),
    }
}

fn rows(
    tx: &Transaction<'_>,
    table: &str,
    filter: &str,
    arg: &str,
) -> Result<Vec<Row>, StoreError> {
    let mut stmt = tx.prepare(&format!("SELECT * FROM {table} WHERE {filter}"))?;
    let cols: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let n = cols.len();
    let found = stmt
        .query_map([arg], |r| {
            (0..n)
                .map(|i| r.get::<_, Value>(i).map(to_json))
                .collect::<rusqlite::Result<Vec<_>>>()
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(found
        .into_iter()
        .map(|values| Row {
            table: table.to_owned(),
            cols: cols.clone(),
            values,
        })
        .collect())
}

/// Inserts `row` unless an equal key exists; true when it was inserted.
fn insert(tx: &Transaction<'_>, row: &Row, or: &str) -> Result<bool, StoreError> {
    let marks = vec!["?"; row.cols.len()].join(", ");
    let sql = format!(
        "INSERT OR {or} INTO {} ({}) VALUES ({marks})",
        row.table,
        row.cols.join(", ")
    );
    let values: Vec<Value> = row.values.iter().map(from_json).collect();
    Ok(tx.execute(&sql, rusqlite::params_from_iter(values))? == 1)
}

fn delete(tx: &Transaction<'_>, row: &Row) -> Result<(), StoreError> {
    let filter = row
        .cols
        .iter()
        .map(|c| format!("{c} IS ?"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let values: Vec<Value> = row.values.iter().map(from_json).collect();
    tx.execute(
        &format!("DELETE FROM {} WHERE {filter}", row.table),
        rusqlite::params_from_iter(values),
    )?;
    Ok(())
}

/// The number column of a `person_phones` row.
fn phone_number(r: &Row) -> Option<&str> {
    r.values.get(1).and_then(|v| v.as_str())
}

/// Phones of a merge: the merged person's rows go, the survivor gains the
/// numbers it lacked; both recorded in `undo` so that a split puts them back.
fn move_phones(
    tx: &Transaction<'_>,
    survivor: &str,
    merged: &str,
    undo: &mut Undo,
) -> Result<(), StoreError> {
    let theirs = rows(tx, "person_phones", "person_id = ?1", merged)?;
    let had: Vec<String> = rows(tx, "person_phones", "person_id = ?1", survivor)?
        .iter()
        .filter_map(|r| phone_number(r).map(str::to_owned))
        .collect();
    tx.execute(
        "INSERT OR IGNORE INTO person_phones (person_id, number, kind) \
         SELECT ?1, number, kind FROM person_phones WHERE person_id = ?2",
        [survivor, merged],
    )?;
    tx.execute("DELETE FROM person_phones WHERE person_id = ?1", [merged])?;
    let gained = rows(tx, "person_phones", "person_id = ?1", survivor)?
        .into_iter()
        .filter(|r| phone_number(r).is_some_and(|n| !had.iter().any(|h| h == n)));
    undo.added.extend(gained);
    undo.removed.extend(theirs);
    Ok(())
}

fn person_pk(tx: &Transaction<'_>, id: &str) -> Result<i64, StoreError> {
    tx.query_row("SELECT pk FROM people WHERE id = ?1", [id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("no person with id {id}")))
}

/// The customer account of each participant (none for our people).
pub(super) fn accounts_of(tx: &Transaction<'_>, pks: &[i64]) -> Result<Vec<String>, StoreError> {
    let mut q = tx.prepare_cached(
        "SELECT CASE WHEN o.is_ours THEN NULL ELSE p.org_id END FROM people p JOIN organizations o ON o.id = p.org_id WHERE p.pk = ?1",
    )?;
    let mut out: Vec<String> = Vec::new();
    for pk in pks {
        if let Some(Some(a)) = q
            .query_row([pk], |r| r.get::<_, Option<String>>(0))
            .optional()?
            && !out.contains(&a)
        {
            out.push(a);
        }
    }
    Ok(out)
}

/// Keeps `interactions_by_account` in step with an interaction whose
/// account moved from `old` to `new` (each an account and the time).
fn move_account_row(
    tx: &Transaction<'_>,
    id: &str,
    old: Option<(&str, i64)>,
    new: Option<(&str, i64)>,
) -> Result<(), StoreError> {
    if let Some((account, at)) = old {
        tx.execute(
            "DELETE FROM interactions_by_account WHERE account_id = ?1 AND at = ?2 AND interaction_id = ?3",
            params![account, at, id],
        )?;
    }
    if let Some((account, at)) = new {
        tx.execute(
            "INSERT OR IGNORE INTO interactions_by_account (account_id, at, interaction_id) VALUES (?1, ?2, ?3)",
            params![account, at, id],
        )?;
    }
    Ok(())
}

/// The stored account and time of an interaction, if it is stored.
fn account_row(
    tx: &Transaction<'_>,
    id: &str,
) -> Result<Option<(Option<String>, i64)>, StoreError> {
    Ok(tx
        .query_row(
            "SELECT account_id, at FROM interactions WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub(super) fn pks(s: &str) -> Result<Vec<i64>, StoreError> {
    s.split(',')
        .map(|x| x.parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|e| StoreError::Backend(format!("stored participants {s:?}: {e}")))
}

fn join(pks: &[i64]) -> String {
    pks.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

pub(super) fn save_review(
    tx: &Transaction<'_>,
    candidates: &[MergeCandidate],
) -> Result<usize, StoreError> {
    let mut ins = tx.prepare_cached(
        "INSERT OR IGNORE INTO identity_review (existing_id, new_id, confidence, reason, created_at) \
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE NOT EXISTS \
         (SELECT 1 FROM identity_review WHERE existing_id = ?2 AND new_id = ?1)",
    )?;
    let mut n = 0;
    let at = now();
    for c in candidates {
        n += ins.execute(params![
            c.existing.as_str(),
            c.new.as_str(),
            c.confidence,
            c.reason,
            at
        ])?;
    }
    Ok(n)
}

pub(super) fn review(conn: &rusqlite::Connection) -> Result<Vec<ReviewItem>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT r.existing_id, r.new_id, r.confidence, r.reason, r.created_at \
         FROM identity_review r \
         JOIN people a ON a.id = r.existing_id JOIN people b ON b.id = r.new_id \
         WHERE r.decided IS NULL ORDER BY r.confidence DESC, r.created_at, r.existing_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, f64>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (a, b, confidence, reason, at) = r?;
        out.push(ReviewItem {
            existing: super::parsed(PersonId::try_from(a))?,
            new: super::parsed(PersonId::try_from(b))?,
            confidence,
            reason,
            found_at: renmai_graph::Timestamp::from_epoch_seconds(at),
        });
    }
    Ok(out)
}

/// Marks a review pair as decided without merging ("these are two people").
pub(super) fn dismiss(tx: &Transaction<'_>, a: &str, b: &str) -> Result<bool, StoreError> {
    Ok(tx.execute(
        "UPDATE identity_review SET decided = 'distinct' WHERE decided IS NULL AND \
         ((existing_id = ?1 AND new_id = ?2) OR (existing_id = ?2 AND new_id = ?1))",
        [a, b],
    )? > 0)
}

pub(super) fn merge(
    tx: &Transaction<'_>,
    survivor: &str,
    merged: &str,
) -> Result<MergeReport, StoreError> {
    if survivor == merged {
        return Err(StoreError::NotFound(format!(
            "cannot merge {survivor} into itself"
        )));
    }
    let a = person_pk(tx, survivor)?;
    let b = person_pk(tx, merged)?;
    let mut undo = Undo {
        merged_pk: b,
        person: rows(tx, "people", "id = ?1", merged)?.pop(),
        survivor: rows(tx, "people", "id = ?1", survivor)?.pop(),
        ..Default::default()
    };
    let mut report = MergeReport::default();

    // Addresses and ids.
    {
        let mut q = tx.prepare("SELECT email FROM person_emails WHERE person_id = ?1")?;
        undo.emails = q
            .query_map([merged], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut q =
            tx.prepare("SELECT system, ext_id FROM person_external_ids WHERE person_id = ?1")?;
        undo.external_ids = q
            .query_map([merged], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
    }
    tx.execute(
        "UPDATE person_emails SET person_id = ?1 WHERE person_id = ?2",
        [survivor, merged],
    )?;
    tx.execute(
        "UPDATE person_external_ids SET person_id = ?1 WHERE person_id = ?2",
        [survivor, merged],
    )?;
    report.emails = undo.emails.len();
    report.external_ids = undo.external_ids.len();
    move_phones(tx, survivor, merged, &mut undo)?;

    // Lines between people.
    for (table, cols) in EDGE_TABLES {
        let filter = cols
            .iter()
            .map(|c| format!("{c} = ?1"))
            .collect::<Vec<_>>()
            .join(" OR ");
        for row in rows(tx, table, &filter, merged)? {
            let mut moved = row.clone();
            for (i, c) in moved.cols.iter().enumerate() {
                if cols.contains(&c.as_str()) && moved.values[i] == merged {
                    moved.values[i] = survivor.into();
                }
            }
            delete(tx, &row)?;
            undo.removed.push(row);
            let self_loop = cols.len() >= 2 && {
                let v = |c: &str| {
                    moved
                        .cols
                        .iter()
                        .position(|x| x == c)
                        .map(|i| &moved.values[i])
                };
                v(cols[0]) == v(cols[1])
            };
            if !self_loop && insert(tx, &moved, "IGNORE")? {
                undo.added.push(moved);
            }
            report.lines += 1;
        }
    }
    {
        let mut q = tx.prepare("SELECT id FROM people WHERE reports_to = ?1")?;
        undo.reports = q
            .query_map([merged], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut q = tx.prepare("SELECT id FROM opportunities WHERE owner_id = ?1")?;
        undo.owned = q
            .query_map([merged], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
    }
    tx.execute(
        "UPDATE people SET reports_to = CASE WHEN id = ?1 THEN NULL ELSE ?1 END WHERE reports_to = ?2",
        [survivor, merged],
    )?;
    tx.execute(
        "UPDATE opportunities SET owner_id = ?1 WHERE owner_id = ?2",
        [survivor, merged],
    )?;
    // The survivor keeps its own fields and takes the merged person's where
    // it has none.
    tx.execute(
        "UPDATE people SET \
           title = coalesce(title, (SELECT title FROM people WHERE pk = ?2)), \
           department = coalesce(department, (SELECT department FROM people WHERE pk = ?2)), \
           level = CASE WHEN level = 0 THEN (SELECT level FROM people WHERE pk = ?2) ELSE level END, \
           role = coalesce(role, (SELECT role FROM people WHERE pk = ?2)), \
           attitude = coalesce(attitude, (SELECT attitude FROM people WHERE pk = ?2)), \
           reports_to = coalesce(reports_to, (SELECT reports_to FROM people WHERE pk = ?2 AND reports_to <> ?3)), \
           last_at = max(coalesce(last_at, 0), coalesce((SELECT last_at FROM people WHERE pk = ?2), 0)) \
         WHERE pk = ?1",
        params![a, b, survivor],
    )?;

    // Interactions: the merged person's pk becomes the survivor's.
    let like = format!("%,{b},%");
    let touched = rows(
        tx,
        "interactions",
        "',' || participants || ',' LIKE ?1",
        &like,
    )?;
    let field = |row: &Row, c: &str| -> Option<String> {
        row.cols
            .iter()
            .position(|x| x == c)
            .and_then(|i| row.values[i].as_str().map(str::to_owned))
    };
    for row in &touched {
        let (Some(id), Some(parts)) = (field(row, "id"), field(row, "participants")) else {
            return Err(StoreError::Backend(
                "an interaction row without id or participants".into(),
            ));
        };
        let (id, parts) = (&id, &parts);
        let mut q = tx.prepare_cached(
            "SELECT account_id FROM interaction_accounts WHERE interaction_id = ?1",
        )?;
        for acc in q.query_map([id], |r| r.get::<_, String>(0))? {
            undo.interaction_accounts.push((acc?, id.clone()));
        }
        let before = account_row(tx, id)?;
        let old_account = before
            .as_ref()
            .and_then(|(a, at)| a.as_deref().map(|a| (a, *at)));
        let mut now: Vec<i64> = Vec::new();
        for p in pks(parts)? {
            let p = if p == b { a } else { p };
            if !now.contains(&p) {
                now.push(p);
            }
        }
        tx.execute(
            "DELETE FROM interaction_accounts WHERE interaction_id = ?1",
            [id],
        )?;
        if now.len() < 2 {
            // Only the survivor is left: an interaction with oneself is none.
            tx.execute("DELETE FROM interactions WHERE id = ?1", [id])?;
            move_account_row(tx, id, old_account, None)?;
            report.interactions_dropped += 1;
            continue;
        }
        let accounts = accounts_of(tx, &now)?;
        tx.execute(
            "UPDATE interactions SET participants = ?2, account_id = ?3 WHERE id = ?1",
            params![id, join(&now), accounts.first()],
        )?;
        let at = before.as_ref().map(|(_, at)| *at).unwrap_or_default();
        move_account_row(
            tx,
            id,
            old_account,
            accounts.first().map(|a| (a.as_str(), at)),
        )?;
        for acc in accounts.iter().skip(1) {
            tx.execute(
                "INSERT OR IGNORE INTO interaction_accounts (account_id, interaction_id) VALUES (?1, ?2)",
                params![acc, id],
            )?;
        }
        report.interactions += 1;
    }
    undo.interactions = touched;
    // The merged person's counts are the survivor's now (less the
    // interactions dropped); nobody else's change.
    rebuild_person_import_counts(tx, Some(&[a, b]))?;

    tx.execute("DELETE FROM people WHERE pk = ?1", [b])?;
    tx.execute(
        "UPDATE identity_review SET decided = 'merged' WHERE decided IS NULL AND \
         ((existing_id = ?1 AND new_id = ?2) OR (existing_id = ?2 AND new_id = ?1))",
        [survivor, merged],
    )?;
    let undo = serde_json::to_string(&undo)
        .map_err(|e| StoreError::Backend(format!("undo record: {e}")))?;
    tx.execute(
        "INSERT INTO person_merges (survivor_id, merged_id, merged_at, undo) VALUES (?1, ?2, ?3, ?4)",
        params![survivor, merged, now(), undo],
    )?;
    Ok(report)
}

pub(super) fn split(
    tx: &Transaction<'_>,
    survivor: &str,
    merged: &str,
) -> Result<MergeReport, StoreError> {
    let (merged_at, undo): (i64, String) = tx
        .query_row(
            "SELECT merged_at, undo FROM person_merges WHERE survivor_id = ?1 AND merged_id = ?2 \
             AND split_at IS NULL ORDER BY merged_at DESC LIMIT 1",
            [survivor, merged],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| {
            StoreError::NotFound(format!(
                "{merged} was not merged into {survivor} (or has been split already)"
            ))
        })?;
    let undo: Undo = serde_json::from_str(&undo)
        .map_err(|e| StoreError::Backend(format!("undo record of {survivor}/{merged}: {e}")))?;
    if tx
        .query_row("SELECT 1 FROM people WHERE id = ?1", [merged], |_| Ok(()))
        .optional()?
        .is_some()
    {
        return Err(StoreError::NotFound(format!(
            "a person with id {merged} exists again; cannot split"
        )));
    }
    let a = person_pk(tx, survivor)?;
    let mut report = MergeReport::default();

    // The person again, under the old pk if it is free.
    let Some(mut person) = undo.person else {
        return Err(StoreError::Backend("undo record without the person".into()));
    };
    let pk_col = person.cols.iter().position(|c| c == "pk");
    let pk_free = tx
        .query_row(
            "SELECT 1 FROM people WHERE pk = ?1",
            [undo.merged_pk],
            |_| Ok(()),
        )
        .optional()?
        .is_none();
    if !pk_free && let Some(i) = pk_col {
        person.cols.remove(i);
        person.values.remove(i);
    }
    insert(tx, &person, "ABORT")?;
    let b = person_pk(tx, merged)?;
    if let Some(before) = undo.survivor {
        // The survivor's own fields as they were (its pk and id unchanged).
        let sets: Vec<String> = before
            .cols
            .iter()
            .filter(|c| *c != "pk" && *c != "id")
            .map(|c| format!("{c} = ?"))
            .collect();
        let mut values: Vec<Value> = before
            .cols
            .iter()
            .zip(&before.values)
            .filter(|(c, _)| *c != "pk" && *c != "id")
            .map(|(_, v)| from_json(v))
            .collect();
        values.push(Value::Integer(a));
        tx.execute(
            &format!("UPDATE people SET {} WHERE pk = ?", sets.join(", ")),
            rusqlite::params_from_iter(values),
        )?;
    }
    for e in &undo.emails {
        tx.execute(
            "UPDATE person_emails SET person_id = ?1 WHERE email = ?2",
            [merged, e],
        )?;
    }
    for (system, id) in &undo.external_ids {
        tx.execute(
            "UPDATE person_external_ids SET person_id = ?1 WHERE system = ?2 AND ext_id = ?3",
            [merged, system, id],
        )?;
    }
    for row in &undo.added {
        delete(tx, row)?;
    }
    for row in &undo.removed {
        insert(tx, row, "IGNORE")?;
        report.lines += 1;
    }
    for id in &undo.reports {
        tx.execute(
            "UPDATE people SET reports_to = ?1 WHERE id = ?2 AND reports_to IS ?3",
            params![merged, id, survivor],
        )?;
    }
    for id in &undo.owned {
        tx.execute(
            "UPDATE opportunities SET owner_id = ?1 WHERE id = ?2 AND owner_id = ?3",
            [merged, id, survivor],
        )?;
    }
    // Whose provenance counts change: the two, and everyone in an
    // interaction as it is now or as it is put back (it may have been
    // written again since the merge).
    let mut recount: Vec<i64> = vec![a, b, undo.merged_pk];
    for row in &undo.interactions {
        let mut row = row.clone();
        let Some(i) = row.cols.iter().position(|c| c == "participants") else {
            continue;
        };
        let parts = row.values[i].as_str().unwrap_or_default().to_owned();
        let restored: Vec<i64> = pks(&parts)?
            .into_iter()
            .map(|p| if p == undo.merged_pk { b } else { p })
            .collect();
        recount.extend(&restored);
        row.values[i] = join(&restored).into();
        let value = |c: &str| row.cols.iter().position(|x| x == c).map(|i| &row.values[i]);
        let id = value("id")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let at = value("at").and_then(|v| v.as_i64()).unwrap_or_default();
        let account = value("account_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        tx.execute(
            "DELETE FROM interaction_accounts WHERE interaction_id = ?1",
            [&id],
        )?;
        if let Some(now) = tx
            .query_row(
                "SELECT participants FROM interactions WHERE id = ?1",
                [&id],
                |r| r.get::<_, String>(0),
            )
            .optional()?
        {
            recount.extend(pks(&now)?);
        }
        if let Some((Some(a), at_now)) = account_row(tx, &id)? {
            move_account_row(tx, &id, Some((&a, at_now)), None)?;
        }
        insert(tx, &row, "REPLACE")?;
        move_account_row(tx, &id, None, account.as_deref().map(|a| (a, at)))?;
        report.interactions += 1;
    }
    for (acc, id) in &undo.interaction_accounts {
        tx.execute(
            "INSERT OR IGNORE INTO interaction_accounts (account_id, interaction_id) \
             SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM interactions WHERE id = ?2)",
            [acc, id],
        )?;
    }
    rebuild_person_import_counts(tx, Some(&recount))?;
    report.emails = undo.emails.len();
    report.external_ids = undo.external_ids.len();
    tx.execute(
        "UPDATE person_merges SET split_at = ?4 WHERE survivor_id = ?1 AND merged_id = ?2 AND merged_at = ?3",
        params![survivor, merged, merged_at, now()],
    )?;
    Ok(report)
}
