//! Privacy on the Neo4j store, with the embedded store's semantics
//! (`src/store/sqlite/privacy.rs`): provenance of every write, the audit
//! log and retention of interaction metadata. Erasure is in `forget.rs`.
//!
//! Provenance. Each write is an `Import` node (`id`, `source`, `actor`,
//! `at`), created in the write's own transaction, and every fact node the
//! write stores carries that id as `import_id`, so a fact names the write
//! that last stored it.
//!
//! Ids. `Import.id` and `AuditEntry.seq` are microseconds since the epoch,
//! strictly increasing within a process and unique by constraint across
//! processes (a clash fails the commit, which is then retried with a new
//! id). A counter node would give small numbers but make every pair of
//! concurrent writes conflict on it; these ids order like time and cost
//! nothing. The audit log and provenance list them newest-last and
//! newest-first as the embedded store does.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};

use neo4rs::{Txn, query};
use renmai_graph::{PersonId, Timestamp};
use serde::Deserialize;

use std::time::Duration;

use super::{
    Attempt, BATCH, MAX_ATTEMPTS, Neo4jStore, Row, StoreError, backend, block, int, retryable, s,
    txn_count, txn_rows,
};
use crate::privacy::{
    AuditEntry, EarlierWrites, ImportRecord, PersonProvenance, Provenance, RetentionReport,
};

/// Interactions one retention transaction deletes at most: a bounded
/// transaction on a loaded server, and an interrupted run keeps what the
/// finished batches did (the next run goes on).
const RETENTION_BATCH: i64 = 5_000;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A new id for an `Import` or an `AuditEntry`: the time in microseconds,
/// above every id this process gave before.
pub(super) fn next_id() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let micros = chrono::Utc::now().timestamp_micros();
    let prev = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(micros.max(last + 1))
        })
        .unwrap_or(0);
    micros.max(prev + 1)
}

/// Records a write about to happen in `txn`; its id goes on every fact it stores.
pub(super) async fn begin_import(txn: &mut Txn, p: &Provenance) -> Result<i64, Attempt> {
    let id = next_id();
    txn.run(
        query("CREATE (m:Import {id: $id, source: $source, actor: $actor, at: $at})")
            .param("id", id)
            .param("source", p.source.as_str())
            .param("actor", p.actor.as_str())
            .param("at", now()),
    )
    .await?;
    Ok(id)
}

/// Appends a line to the audit log in `txn`.
pub(super) async fn audit(
    txn: &mut Txn,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), Attempt> {
    txn.run(
        query(
            "CREATE (a:AuditEntry {seq: $seq, at: $at, actor: $actor, action: $action, detail: $detail})",
        )
        .param("seq", next_id())
        .param("at", now())
        .param("actor", actor)
        .param("action", action)
        .param("detail", detail),
    )
    .await?;
    Ok(())
}

#[derive(Deserialize)]
struct AuditRow {
    seq: i64,
    at: i64,
    actor: String,
    action: String,
    detail: String,
}

/// The audit log from `since` on, oldest first.
pub(super) async fn audit_log(
    store: &Neo4jStore,
    since: Option<Timestamp>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let since = since.map_or(i64::MIN, Timestamp::epoch_seconds);
    let mut rows: Vec<AuditRow> = store
        .rows(
            query(
                "MATCH (a:AuditEntry) WHERE a.at >= $since \
                 RETURN a.seq AS seq, a.at AS at, a.actor AS actor, a.action AS action, a.detail AS detail",
            )
            .param("since", since),
        )
        .await?;
    rows.sort_by_key(|r| r.seq);
    Ok(rows
        .into_iter()
        .map(|r| AuditEntry {
            seq: r.seq,
            at: Timestamp::from_epoch_seconds(r.at),
            actor: r.actor,
            action: r.action,
            detail: r.detail,
        })
        .collect())
}

/// Replaces the erased person's mentions in every audit line, in `txn`;
/// how many lines changed.
pub(super) async fn redact_audit(
    txn: &mut Txn,
    id: &str,
    name: &str,
    emails: &[String],
) -> Result<u64, Attempt> {
    #[derive(Deserialize)]
    struct Line {
        seq: i64,
        detail: String,
    }
    let lines: Vec<Line> = txn_rows(
        txn,
        query("MATCH (a:AuditEntry) RETURN a.seq AS seq, a.detail AS detail"),
    )
    .await?;
    let changed: Vec<Row> = lines
        .into_iter()
        .filter_map(|l| {
            let redacted = crate::privacy::redact_audit_detail(&l.detail, id, name, emails);
            (redacted != l.detail).then(|| row! { "seq" => int(l.seq), "detail" => s(&redacted) })
        })
        .collect();
    let n = changed.len() as u64;
    if n > 0 {
        txn.run(
            query("UNWIND $rows AS r MATCH (a:AuditEntry {seq: r.seq}) SET a.detail = r.detail")
                .param("rows", changed),
        )
        .await?;
    }
    Ok(n)
}

/// Where a person's record and interactions came from; `None` when there
/// is no such person.
pub(super) async fn person_provenance(
    store: &Neo4jStore,
    id: &PersonId,
) -> Result<Option<PersonProvenance>, StoreError> {
    #[derive(Deserialize)]
    struct Found {
        import_id: Option<i64>,
        org_id: String,
        is_ours: bool,
    }
    #[derive(Deserialize)]
    struct Stored {
        id: String,
        import_id: Option<i64>,
    }
    let p = id.as_str();
    let found: Vec<Found> = store
        .rows(
            query(
                "MATCH (p:Person {id: $p}) OPTIONAL MATCH (o:Organization {id: p.org_id}) \
                 RETURN p.import_id AS import_id, p.org_id AS org_id, coalesce(o.is_ours, false) AS is_ours",
            )
            .param("p", p),
        )
        .await?;
    let Some(person) = found.into_iter().next() else {
        return Ok(None);
    };
    // Their interactions: through their account's indexes for a customer,
    // by a scan for one of ours (as `forget` finds them).
    let stored: Vec<Stored> = if person.is_ours {
        store
            .rows(
                query(
                    "MATCH (i:Interaction) WHERE $p IN i.participants \
                     RETURN i.id AS id, i.import_id AS import_id",
                )
                .param("p", p),
            )
            .await?
    } else {
        let (direct, via) = tokio::try_join!(
            store.rows::<Stored>(
                query(
                    "MATCH (i:Interaction {account_id: $org}) WHERE $p IN i.participants \
                     RETURN i.id AS id, i.import_id AS import_id",
                )
                .param("org", person.org_id.as_str())
                .param("p", p)
            ),
            store.rows::<Stored>(
                query(
                    "MATCH (x:InteractionAccount {account_id: $org}) \
                     MATCH (i:Interaction {id: x.interaction_id}) WHERE $p IN i.participants \
                     RETURN i.id AS id, i.import_id AS import_id",
                )
                .param("org", person.org_id.as_str())
                .param("p", p)
            ),
        )?;
        direct.into_iter().chain(via).collect()
    };
    let mut seen = HashSet::new();
    let mut per_import: HashMap<i64, u64> = HashMap::new();
    for s in stored {
        if let Some(m) = s.import_id
            && seen.insert(s.id)
        {
            *per_import.entry(m).or_default() += 1;
        }
    }
    let mut ids: Vec<i64> = per_import.keys().copied().collect();
    ids.extend(person.import_id);
    let records = imports(store, ids).await?;
    let mut interactions: Vec<(ImportRecord, u64)> = per_import
        .into_iter()
        .filter_map(|(m, n)| records.get(&m).map(|r| (r.clone(), n)))
        .collect();
    interactions.sort_by_key(|(m, _)| std::cmp::Reverse(m.id));
    let earlier = EarlierWrites::split_off(&mut interactions);
    Ok(Some(PersonProvenance {
        person: person.import_id.and_then(|m| records.get(&m).cloned()),
        interactions,
        earlier,
    }))
}

/// The `Import` records of `ids`, by id.
async fn imports(
    store: &Neo4jStore,
    mut ids: Vec<i64>,
) -> Result<HashMap<i64, ImportRecord>, StoreError> {
    #[derive(Deserialize)]
    struct Rec {
        id: i64,
        source: String,
        actor: String,
        at: i64,
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<Rec> = store
        .rows(
            query(
                "UNWIND $ids AS id MATCH (m:Import {id: id}) \
                 RETURN m.id AS id, m.source AS source, m.actor AS actor, m.at AS at",
            )
            .param("ids", ids),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                ImportRecord {
                    id: r.id,
                    source: r.source,
                    actor: r.actor,
                    at: Timestamp::from_epoch_seconds(r.at),
                },
            )
        })
        .collect())
}

/// One retention batch in `txn`: deletes up to [`RETENTION_BATCH`]
/// interactions before `cutoff` with their further-account nodes, stamps
/// the accounts whose slices held them, and returns how many went.
pub(super) async fn retention_batch(txn: &mut Txn, cutoff: i64) -> Result<u64, Attempt> {
    #[derive(Deserialize)]
    struct Old {
        id: String,
        account_id: Option<String>,
    }
    let old: Vec<Old> = txn_rows(
        txn,
        query(&format!(
            "MATCH (i:Interaction) WHERE i.at < $c \
             RETURN i.id AS id, i.account_id AS account_id LIMIT {RETENTION_BATCH}"
        ))
        .param("c", cutoff),
    )
    .await?;
    if old.is_empty() {
        return Ok(0);
    }
    let mut touched: HashSet<String> = old.iter().filter_map(|o| o.account_id.clone()).collect();
    let ids: Vec<String> = old.into_iter().map(|o| o.id).collect();
    #[derive(Deserialize)]
    struct Via {
        a: String,
    }
    for chunk in ids.chunks(BATCH) {
        let via: Vec<Via> = txn_rows(
            txn,
            query(
                "UNWIND $ids AS id MATCH (x:InteractionAccount {interaction_id: id}) \
                 WITH x, x.account_id AS a DELETE x RETURN a",
            )
            .param("ids", chunk.to_vec()),
        )
        .await?;
        touched.extend(via.into_iter().map(|v| v.a));
    }
    let n = txn_count(
        txn,
        query("UNWIND $ids AS id MATCH (i:Interaction {id: id}) DELETE i RETURN count(*) AS n")
            .param("ids", ids),
    )
    .await?;
    block::touch(txn, &touched, false).await?;
    Ok(n)
}

/// Deletes interactions before `cutoff` batch by batch, then service
/// cases opened before it, and writes the audit line when anything went.
pub(super) async fn retention(
    store: &Neo4jStore,
    cutoff: Timestamp,
    days: u32,
    actor: &str,
) -> Result<RetentionReport, StoreError> {
    let c = cutoff.epoch_seconds();
    let mut deleted = 0;
    loop {
        let n = in_txn!(store, "applying retention", |txn| retention_batch(
            &mut txn, c
        ))?;
        deleted += n;
        if n < RETENTION_BATCH as u64 {
            break;
        }
    }
    // A service case's own fields go with its interaction; the audit line
    // commits with the last deletion.
    let detail = format!(
        "deleted {deleted} interactions before {} (kept {days} days)",
        cutoff.to_rfc3339()
    );
    in_txn!(store, "applying retention", |txn| async {
        txn.run(query("MATCH (s:ServiceCase) WHERE s.opened < $c DELETE s").param("c", c))
            .await?;
        if deleted > 0 {
            audit(&mut txn, actor, "retention", &detail).await?;
        }
        Ok::<_, Attempt>(())
    })?;
    Ok(RetentionReport {
        cutoff,
        interactions_deleted: deleted,
    })
}
