//! The embedded default store: one SQLite file (WAL, `synchronous=FULL`,
//! foreign keys on), schema migrations applied on open. SQLite work runs on
//! blocking threads, one writer and a few readers (WAL lets them overlap).

use std::collections::HashSet;

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use renmai_graph::*;
use rusqlite::{
    Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
};

use super::{
    AccountSummary, Counts, ImportSummary, MergeReport, PersonLookup, PersonRecord, PlanItem,
    PlanState, Progress, ReviewItem, Stats, Store, StoreError, StoredResponse,
};
use crate::access::{LoginRecord, NewUser, User};
use crate::auth::{ApiToken, TokenScope};
use crate::bundle::Bundle;
use crate::import::ImportError;
use crate::ingest::resolve::{Directory, MergeCandidate};
use crate::validate::{self, ExistingOrg, ExistingPerson, ExistingRefs, SourceMap};
use renmai_graph::plan::AccountPlan;

mod access;
/// Versioned schema: entry `i` brings the schema from version `i` to `i + 1`.
/// Never edit a released entry; append a new one.
mod deal_support;
mod deals;
mod identity;
mod person_counts;
mod phones;
mod privacy;
mod service_cases;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE organizations (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    industry  TEXT,
    region    TEXT,
    tier      TEXT,
    is_ours   INTEGER NOT NULL DEFAULT 0,
    parent_id TEXT REFERENCES organizations(id) DEFERRABLE INITIALLY DEFERRED
) WITHOUT ROWID;

CREATE TABLE people (
    pk         INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    org_id     TEXT NOT NULL REFERENCES organizations(id) DEFERRABLE INITIALLY DEFERRED,
    name       TEXT NOT NULL,
    title      TEXT,
    department TEXT,
    level      INTEGER NOT NULL,
    reports_to TEXT REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED,
    role       TEXT,
    attitude   TEXT,
    -- newest interaction of this person, kept up to date by imports
    last_at    INTEGER
);
CREATE INDEX people_org ON people(org_id);

CREATE TABLE person_emails (
    email     TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
) WITHOUT ROWID;
CREATE INDEX person_emails_person ON person_emails(person_id);

CREATE TABLE person_external_ids (
    system    TEXT NOT NULL,
    ext_id    TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (system, ext_id)
) WITHOUT ROWID;
CREATE INDEX person_external_ids_person ON person_external_ids(person_id);

CREATE TABLE account_team (
    org_id    TEXT NOT NULL REFERENCES organizations(id) DEFERRABLE INITIALLY DEFERRED,
    person_id TEXT NOT NULL REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED,
    role      TEXT NOT NULL,
    PRIMARY KEY (org_id, person_id)
) WITHOUT ROWID;

-- Interactions are the bulk of the data (millions of rows), so they are
-- stored compactly: participants inline as person pks (initiator first), and
-- indexed by the customer account they belong to (scoring reads one account
-- at a time). The rare interaction with people of several accounts has its
-- further accounts in interaction_accounts. Internal ones have no account.
CREATE TABLE interactions (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    at           INTEGER NOT NULL,
    participants TEXT NOT NULL,
    account_id   TEXT
) WITHOUT ROWID;
CREATE INDEX interactions_account ON interactions (account_id, at);

CREATE TABLE interaction_accounts (
    account_id     TEXT NOT NULL,
    interaction_id TEXT NOT NULL,
    PRIMARY KEY (account_id, interaction_id)
) WITHOUT ROWID;

CREATE TABLE influences (
    from_id  TEXT NOT NULL REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED,
    to_id    TEXT NOT NULL REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED,
    kind     TEXT NOT NULL,
    strength REAL NOT NULL,
    PRIMARY KEY (from_id, to_id)
) WITHOUT ROWID;
CREATE INDEX influences_to ON influences(to_id);

CREATE TABLE assessments (
    from_id TEXT NOT NULL REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED,
    to_id   TEXT NOT NULL REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED,
    at      INTEGER NOT NULL,
    level   INTEGER NOT NULL,
    by_id   TEXT REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (from_id, to_id, at)
) WITHOUT ROWID;
CREATE INDEX assessments_to ON assessments(to_id);

CREATE TABLE opportunities (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES organizations(id) DEFERRABLE INITIALLY DEFERRED,
    name       TEXT NOT NULL,
    amount     REAL,
    stage      TEXT,
    status     TEXT NOT NULL,
    close_date TEXT,
    owner_id   TEXT REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED
) WITHOUT ROWID;
CREATE INDEX opportunities_account ON opportunities(account_id);

CREATE TABLE opportunity_contacts (
    opportunity_id      TEXT NOT NULL REFERENCES opportunities(id) DEFERRABLE INITIALLY DEFERRED,
    person_id           TEXT NOT NULL REFERENCES people(id) DEFERRABLE INITIALLY DEFERRED,
    role                TEXT,
    attitude            TEXT,
    solution_acceptance INTEGER,
    price_acceptance    INTEGER,
    -- every dated assessment is kept (the decision chain is versioned);
    -- 0 stands for "date unknown", which sorts before every real date
    at                  INTEGER NOT NULL,
    PRIMARY KEY (opportunity_id, person_id, at)
) WITHOUT ROWID;
"#,
    // 2: account plans (ESP+): objectives, users' decisions on actions, dated snapshots.
    r#"
CREATE TABLE plan_objectives (
    account_id TEXT NOT NULL REFERENCES organizations(id),
    id         TEXT NOT NULL,
    body       TEXT NOT NULL, -- JSON of renmai_graph::plan::Objective
    PRIMARY KEY (account_id, id)
) WITHOUT ROWID;

CREATE TABLE plan_actions (
    account_id TEXT NOT NULL REFERENCES organizations(id),
    id         TEXT NOT NULL,
    body       TEXT NOT NULL, -- JSON of renmai_graph::plan::Action
    PRIMARY KEY (account_id, id)
) WITHOUT ROWID;

CREATE TABLE plan_snapshots (
    account_id TEXT NOT NULL REFERENCES organizations(id),
    saved_at   INTEGER NOT NULL,
    body       TEXT NOT NULL, -- JSON of renmai_graph::plan::AccountPlan
    PRIMARY KEY (account_id, saved_at)
) WITHOUT ROWID;
"#,
    r#"
-- 3: the JSON API. Tokens are kept as SHA-256 hashes only.
CREATE TABLE api_tokens (
    name       TEXT PRIMARY KEY,
    scope      TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) WITHOUT ROWID;

-- Responses of writes sent with an Idempotency-Key, per client (token name).
CREATE TABLE idempotency_keys (
    client       TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (client, key)
) WITHOUT ROWID;

-- Enrichment matches people by name at a named organization.
CREATE INDEX people_name_nocase ON people(name COLLATE NOCASE);
CREATE INDEX organizations_name_nocase ON organizations(name COLLATE NOCASE);
"#,
    r#"
-- 4: interactions by account as a table that imports fill in key order
-- (appends), in place of the index interactions_account, which a bulk load
-- either grew by a million random inserts or rebuilt with a sort: either way
-- about 2 s of a 7 s import of a million interactions. Its rows mirror
-- interactions.account_id and interactions.at; write_interactions keeps them
-- in step. Also: the further accounts of one interaction, found by its id.
CREATE TABLE interactions_by_account (
    account_id     TEXT NOT NULL,
    at             INTEGER NOT NULL,
    interaction_id TEXT NOT NULL,
    PRIMARY KEY (account_id, at, interaction_id)
) WITHOUT ROWID;
INSERT INTO interactions_by_account (account_id, at, interaction_id)
    SELECT account_id, at, id FROM interactions WHERE account_id IS NOT NULL
    ORDER BY account_id, at, id;
DROP INDEX interactions_account;
CREATE INDEX interaction_accounts_interaction ON interaction_accounts (interaction_id);
"#,
    identity::MIGRATION,
    deals::MIGRATION,
    service_cases::MIGRATION,
    deal_support::MIGRATION,
    privacy::MIGRATION,
    access::MIGRATION,
    phones::MIGRATION,
    person_counts::MIGRATION,
];

/// How many reader connections are kept open between requests.
const MAX_IDLE_READERS: usize = 8;
/// Page cache of the writer connection while serving (negative: KiB). A
/// server's writes are small and touch few pages; the cache is what the
/// process keeps, so it is part of its memory bound.
const WRITER_CACHE_KIB: i64 = -16_000;
/// Page cache of the writer during a bulk import (a mailbox, a CRM
/// export), whose index updates touch far more pages; back to
/// [`WRITER_CACHE_KIB`] after it.
const BULK_CACHE_KIB: i64 = -256_000;
/// Imports of at least this many records are bulk imports.
const BULK_RECORDS: usize = 10_000;
/// Page cache of each reader connection (negative: KiB).
const READER_CACHE_KIB: i64 = -8_000;

pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Mutex<Vec<Connection>>>,
    /// The last `data_version` read by [`Store::external_version`].
    data_version: std::sync::atomic::AtomicU64,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // Deleted content is zeroed, not left in free space: erasure (`forget`,
    // retention) leaves no trace in the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: usize =
        conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Backend(format!(
            "the database has schema version {version}, newer than this renmai knows ({}); upgrade renmai",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if *sql == person_counts::MIGRATION {
            // Counted in Rust: SQL cannot split the participants column.
            person_counts::rebuild_person_import_counts(&tx, None)?;
        }
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Bundles of at least this many records are validated on a second
/// thread while they are written; smaller ones first, on this one.
const PARALLEL_VALIDATION_MIN: usize = 256;

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let open_err = |e: &dyn std::fmt::Display| StoreError::Open {
            location: path.display().to_string(),
            reason: e.to_string(),
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
        {
            return Err(open_err(&format!(
                "the folder {} does not exist",
                dir.display()
            )));
        }
        let mut conn = Connection::open(path).map_err(|e| open_err(&e))?;
        // Larger pages suit the bulk of the data (small rows, bulk loads);
        // this only takes effect when the file is created.
        conn.pragma_update(None, "page_size", 16384)
            .map_err(|e| open_err(&e))?;
        configure(&conn).map_err(|e| open_err(&e))?;
        migrate(&mut conn).map_err(|e| open_err(&e))?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Mutex::new(Vec::new())),
            data_version: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Replaces the database at `db` with the backup at `backup` (made by
    /// `renmai backup`), atomically, after checking it is a renmai database
    /// of a schema this renmai knows. Stop `serve` first.
    pub fn restore(backup: &Path, db: &Path) -> Result<(), StoreError> {
        privacy::check_backup(backup, MIGRATIONS.len())?;
        privacy::restore(backup, db)
    }

    fn reader(path: &Path, pool: &Mutex<Vec<Connection>>) -> Result<Connection, StoreError> {
        if let Some(c) = pool.lock().expect("reader pool").pop() {
            return Ok(c);
        }
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // Readers serve point lookups (enrichment) under load: memory-mapped
        // reads save a pread and a copy per page, so their own page caches
        // stay small.
        conn.pragma_update(None, "cache_size", READER_CACHE_KIB)?;
        conn.pragma_update(None, "mmap_size", 1i64 << 30)?;
        Ok(conn)
    }

    /// Runs a read on a blocking thread with a pooled read-only connection.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let path = self.path.clone();
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = Self::reader(&path, &pool)?;
            // One read transaction: the statements of a read see one
            // snapshot, and take the WAL's read lock once, not per statement.
            let out = conn
                .unchecked_transaction()
                .map_err(StoreError::from)
                .and_then(|tx| f(&tx));
            let mut idle = pool.lock().expect("reader pool");
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            out
        })
        .await
        .map_err(|e| StoreError::Backend(format!("reader thread failed: {e}")))?
    }

    /// Runs a write on a blocking thread holding the one writer connection.
    /// Runs `f` in one write transaction, committed when it returns `Ok`.
    async fn write_tx<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer
                .lock()
                .map_err(|_| StoreError::Backend("writer poisoned".into()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("writer thread failed: {e}")))?
    }
}

/// Looks up the stored records a bundle refers to until nothing more is wanted.
fn resolve_refs(tx: &Transaction<'_>, bundle: &Bundle) -> Result<ExistingRefs, StoreError> {
    let mut known = ExistingRefs::default();
    let mut org_q =
        tx.prepare_cached("SELECT parent_id, is_ours FROM organizations WHERE id = ?1")?;
    let mut person_q = tx.prepare_cached("SELECT org_id, reports_to FROM people WHERE id = ?1")?;
    let mut opp_q = tx.prepare_cached("SELECT 1 FROM opportunities WHERE id = ?1")?;
    loop {
        let w = validate::wanted(bundle, &known);
        if w.is_empty() {
            return Ok(known);
        }
        for id in w.orgs {
            let row = org_q
                .query_row([id.as_str()], |r| {
                    Ok((r.get::<_, Option<String>>(0)?, r.get::<_, bool>(1)?))
                })
                .optional()?;
            match row {
                Some((parent, is_ours)) => {
                    let parent = parent.map(OrgId::try_from).transpose().map_err(corrupt)?;
                    known.orgs.insert(id, ExistingOrg { parent, is_ours });
                }
                None => {
                    known.missing_orgs.insert(id);
                }
            }
        }
        for id in w.people {
            let row = person_q
                .query_row([id.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                })
                .optional()?;
            match row {
                Some((org, boss)) => {
                    let org = OrgId::try_from(org).map_err(corrupt)?;
                    let reports_to = boss.map(PersonId::try_from).transpose().map_err(corrupt)?;
                    known.people.insert(id, ExistingPerson { org, reports_to });
                }
                None => {
                    known.missing_people.insert(id);
                }
            }
        }
        for id in w.opportunities {
            if opp_q.exists([id.as_str()])? {
                known.opportunities.insert(id);
            } else {
                known.missing_opportunities.insert(id);
            }
        }
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encoding: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Backend(format!("stored plan data does not decode: {e}")))
}

fn corrupt(e: ModelError) -> StoreError {
    StoreError::Backend(format!("stored data does not pass validation: {e}"))
}

/// Inserts a row or, when its key exists, updates it; says which happened.
fn upsert(
    insert: &mut rusqlite::CachedStatement<'_>,
    update: &mut rusqlite::CachedStatement<'_>,
    p: &[&dyn rusqlite::ToSql],
    c: &mut Counts,
) -> rusqlite::Result<()> {
    if insert.execute(p)? == 1 {
        c.new += 1;
    } else {
        update.execute(p)?;
        c.existing += 1;
    }
    Ok(())
}

const PROGRESS_STEP: u64 = 10_000;

/// Writes `bundle` in one transaction, validated first or alongside.
fn import_bundle(
    conn: &mut Connection,
    bundle: Bundle,
    sources: SourceMap,
    progress: &dyn Progress,
) -> Result<ImportSummary, StoreError> {
    let t0 = std::time::Instant::now();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let known = resolve_refs(&tx, &bundle)?;
    let import_id = privacy::begin_import(&tx, &sources.provenance)?;
    let t1 = std::time::Instant::now();
    progress.start(bundle.len() as u64, "importing");
    // Validation runs on a second thread while this one writes: both
    // only read the bundle, and the transaction commits only when
    // validation passed, so a rejected bundle still writes nothing.
    // Its errors are what the user sees, whatever the write made of
    // the bad data (the write stops early once they are known).
    let stop = AtomicBool::new(false);
    let (valid, written) = if bundle.len() < PARALLEL_VALIDATION_MIN {
        // A small write (an API call) costs less than a thread.
        let valid = validate::validate(&bundle, &sources, &known);
        stop.store(valid.is_err(), Ordering::Relaxed);
        let written = write_bundle(&tx, &bundle, import_id, progress, &stop);
        (Ok(valid), written)
    } else {
        std::thread::scope(|s| {
            let check = s.spawn(|| {
                let t = std::time::Instant::now();
                let r = validate::validate(&bundle, &sources, &known);
                if r.is_err() {
                    stop.store(true, Ordering::Relaxed);
                }
                tracing::debug!(validate = ?t.elapsed(), "validation timings");
                r
            });
            let written = write_bundle(&tx, &bundle, import_id, progress, &stop);
            (check.join(), written)
        })
    };
    progress.finish();
    valid
        .map_err(|_| StoreError::Backend("validation failed unexpectedly".into()))?
        .map_err(ImportError::Invalid)?;
    let summary = written?;
    let p = &sources.provenance;
    let existing: u64 = summary.rows().iter().map(|(_, c)| c.existing).sum();
    privacy::audit(
        &tx,
        &p.actor,
        "import",
        &format!(
            "{} (write {import_id}): {} new, {existing} already stored",
            p.source,
            summary.new_records()
        ),
    )?;
    let t2 = std::time::Instant::now();
    tx.commit()?;
    tracing::debug!(refs = ?(t1 - t0), write = ?(t2 - t1), commit = ?t2.elapsed(), "import timings");
    // A million interactions take a while to free; the caller need
    // not wait for that.
    if bundle.len() >= PARALLEL_VALIDATION_MIN {
        std::thread::spawn(move || drop((bundle, sources)));
    }
    Ok(summary)
}

/// Writes a bundle in the open transaction. `stop` is checked every
/// [`PROGRESS_STEP`] records: validation, running alongside, sets it when
/// the bundle is rejected, and the write then ends early with an error.
fn write_bundle(
    tx: &Transaction<'_>,
    b: &Bundle,
    import_id: i64,
    progress: &dyn Progress,
    stop: &AtomicBool,
) -> Result<ImportSummary, StoreError> {
    let mut s = ImportSummary::default();
    let mut done = 0u64;
    let tick = |n: &mut u64| -> Result<(), StoreError> {
        *n += 1;
        if (*n).is_multiple_of(PROGRESS_STEP) {
            progress.advance(PROGRESS_STEP);
            if stop.load(Ordering::Relaxed) {
                return Err(StoreError::Backend(
                    "writing stopped: the bundle did not validate".into(),
                ));
            }
        }
        Ok(())
    };

    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO organizations (id, name, industry, region, tier, is_ours, parent_id, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        let mut upd = tx.prepare_cached("UPDATE organizations SET name = ?2, industry = ?3, region = ?4, tier = ?5, is_ours = ?6, parent_id = ?7, import_id = ?8 WHERE id = ?1")?;
        for o in &b.organizations {
            let parent = o.parent.as_ref().map(|p| p.as_str());
            upsert(
                &mut ins,
                &mut upd,
                params![
                    o.id.as_str(),
                    o.name,
                    o.industry,
                    o.region,
                    o.tier,
                    o.is_ours,
                    parent,
                    import_id
                ],
                &mut s.organizations,
            )?;
            tick(&mut done)?;
        }
    }
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO people (id, org_id, name, title, department, level, reports_to, role, attitude, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")?;
        let mut upd = tx.prepare_cached("UPDATE people SET org_id = ?2, name = ?3, title = ?4, department = ?5, level = ?6, reports_to = ?7, role = ?8, attitude = ?9, import_id = ?10 WHERE id = ?1")?;
        let mut del_emails = tx.prepare_cached("DELETE FROM person_emails WHERE person_id = ?1")?;
        let mut del_ext =
            tx.prepare_cached("DELETE FROM person_external_ids WHERE person_id = ?1")?;
        let mut ins_email = tx.prepare_cached("INSERT INTO person_emails (email, person_id) VALUES (?1, ?2) ON CONFLICT (email) DO UPDATE SET person_id = excluded.person_id")?;
        let mut ins_ext = tx.prepare_cached("INSERT INTO person_external_ids (system, ext_id, person_id) VALUES (?1, ?2, ?3) ON CONFLICT (system, ext_id) DO UPDATE SET person_id = excluded.person_id")?;
        for p in &b.people {
            let before = s.people.existing;
            upsert(
                &mut ins,
                &mut upd,
                params![
                    p.id.as_str(),
                    p.org.as_str(),
                    p.name,
                    p.title,
                    p.department,
                    p.level.get(),
                    p.reports_to.as_ref().map(|m| m.as_str()),
                    p.role.map(|r| r.as_str()),
                    p.attitude.map(|a| a.as_str()),
                    import_id
                ],
                &mut s.people,
            )?;
            let existed = s.people.existing > before;
            if existed {
                del_emails.execute([p.id.as_str()])?;
                del_ext.execute([p.id.as_str()])?;
            }
            if existed || !p.phones.is_empty() {
                phones::write_person_phones(tx, p.id.as_str(), &p.phones, existed)?;
            }
            for e in &p.emails {
                ins_email.execute(params![e.as_str(), p.id.as_str()])?;
            }
            for x in &p.external_ids {
                ins_ext.execute(params![x.system, x.id, p.id.as_str()])?;
            }
            tick(&mut done)?;
        }
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT OR IGNORE INTO account_team (org_id, person_id, role, import_id) VALUES (?1, ?2, ?3, ?4)",
        )?;
        let mut upd = tx.prepare_cached(
            "UPDATE account_team SET role = ?3, import_id = ?4 WHERE org_id = ?1 AND person_id = ?2",
        )?;
        for t in &b.account_team {
            upsert(
                &mut ins,
                &mut upd,
                params![
                    t.org.as_str(),
                    t.person.as_str(),
                    t.role.as_str(),
                    import_id
                ],
                &mut s.account_team,
            )?;
            tick(&mut done)?;
        }
    }
    write_interactions(
        tx,
        &b.interactions,
        import_id,
        &mut s.interactions,
        &mut || tick(&mut done),
    )?;
    phones::write_replies(tx, &b.interactions)?;
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO influences (from_id, to_id, kind, strength, import_id) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let mut upd = tx.prepare_cached(
            "UPDATE influences SET kind = ?3, strength = ?4, import_id = ?5 WHERE from_id = ?1 AND to_id = ?2",
        )?;
        for x in &b.influences {
            upsert(
                &mut ins,
                &mut upd,
                params![
                    x.from.as_str(),
                    x.to.as_str(),
                    x.kind.as_str(),
                    x.strength.get(),
                    import_id
                ],
                &mut s.influences,
            )?;
            tick(&mut done)?;
        }
    }
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO assessments (from_id, to_id, at, level, by_id, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
        let mut upd = tx.prepare_cached("UPDATE assessments SET level = ?4, by_id = ?5, import_id = ?6 WHERE from_id = ?1 AND to_id = ?2 AND at = ?3")?;
        for a in &b.assessments {
            upsert(
                &mut ins,
                &mut upd,
                params![
                    a.from.as_str(),
                    a.to.as_str(),
                    a.at.epoch_seconds(),
                    a.level.get(),
                    a.by.as_ref().map(|p| p.as_str()),
                    import_id
                ],
                &mut s.assessments,
            )?;
            tick(&mut done)?;
        }
    }
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO opportunities (id, account_id, name, amount, stage, status, close_date, owner_id, competitors, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)")?;
        let mut upd = tx.prepare_cached("UPDATE opportunities SET account_id = ?2, name = ?3, amount = ?4, stage = ?5, status = ?6, close_date = ?7, owner_id = ?8, competitors = ?9, import_id = ?10 WHERE id = ?1")?;
        for o in &b.opportunities {
            upsert(
                &mut ins,
                &mut upd,
                params![
                    o.id.as_str(),
                    o.account.as_str(),
                    o.name,
                    o.amount,
                    o.stage,
                    o.status.as_str(),
                    o.close_date.map(|d| d.to_string()),
                    o.owner.as_ref().map(|p| p.as_str()),
                    deals::competitors_to_sql(&o.competitors),
                    import_id
                ],
                &mut s.opportunities,
            )?;
            tick(&mut done)?;
        }
    }
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO opportunity_contacts (opportunity_id, person_id, role, attitude, solution_acceptance, price_acceptance, at, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        let mut upd = tx.prepare_cached("UPDATE opportunity_contacts SET role = ?3, attitude = ?4, solution_acceptance = ?5, price_acceptance = ?6, import_id = ?8 WHERE opportunity_id = ?1 AND person_id = ?2 AND at = ?7")?;
        for c in &b.opportunity_contacts {
            upsert(
                &mut ins,
                &mut upd,
                params![
                    c.opportunity.as_str(),
                    c.person.as_str(),
                    c.role.map(|r| r.as_str()),
                    c.attitude.map(|a| a.as_str()),
                    c.solution_acceptance.map(|a| a.get()),
                    c.price_acceptance.map(|a| a.get()),
                    c.at.map_or(0, |t| t.epoch_seconds()),
                    import_id
                ],
                &mut s.opportunity_contacts,
            )?;
            tick(&mut done)?;
        }
    }
    deals::write_stages(
        tx,
        &b.opportunity_stages,
        &mut s.opportunity_stages,
        &mut || tick(&mut done),
    )?;
    progress.advance(done % PROGRESS_STEP);
    Ok(s)
}

/// Rows per multi-row INSERT in bulk writes. One statement per row pays a
/// VDBE program start and reset per row; with 64 rows per statement that
/// overhead is amortized and the bound values stay well under SQLite's limit
/// on host parameters.
const INSERT_BATCH: usize = 64;

/// Interactions are gathered, compared with the stored rows and written in
/// batches of this many, in id order.
const LOOKUP_CHUNK: usize = 4096;

/// No account (an internal interaction) in the per-interaction account index.
const NO_ACCOUNT: u32 = u32::MAX;

/// A participant as the store knows them: their pk, also as text for the
/// participants column, and for customers their account (an index into
/// [`Participants::accounts`]).
struct Who {
    pk: i64,
    pk_text: String,
    account: u32,
}

/// The participants of a bundle's interactions, looked up once.
struct Participants<'b> {
    who: FxHashMap<&'b PersonId, Who>,
    /// Account ids, sorted, so that comparing indexes compares ids.
    accounts: Vec<String>,
}

impl<'b> Participants<'b> {
    fn load(tx: &Transaction<'_>, interactions: &'b [Interaction]) -> Result<Self, StoreError> {
        use rayon::prelude::*;
        // Two million participant references name some thousands of people:
        // find those on all cores, then ask the store about each once.
        let distinct: FxHashSet<&'b PersonId> = interactions
            .par_chunks(1 << 16)
            .map(|c| {
                let mut s = FxHashSet::default();
                // The initiator too: validation (alongside) rejects one
                // who is not a participant, but the write must not trip
                // over it first.
                s.extend(
                    c.iter()
                        .flat_map(|i| std::iter::once(&i.initiator).chain(&i.participants)),
                );
                s
            })
            .reduce(FxHashSet::default, |mut a, b| {
                a.extend(b);
                a
            });
        let mut q = tx.prepare_cached(
            "SELECT p.pk, CASE WHEN o.is_ours THEN NULL ELSE p.org_id END FROM people p JOIN organizations o ON o.id = p.org_id WHERE p.id = ?1",
        )?;
        let mut found: Vec<(&PersonId, i64, Option<String>)> = Vec::with_capacity(distinct.len());
        for p in distinct {
            let (pk, account) = q.query_row([p.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
            found.push((p, pk, account));
        }
        let mut accounts: Vec<String> = found.iter().filter_map(|w| w.2.clone()).collect();
        accounts.sort_unstable();
        accounts.dedup();
        let who = found
            .into_iter()
            .map(|(p, pk, account)| {
                let account = account
                    .and_then(|a| accounts.binary_search(&a).ok())
                    .map_or(NO_ACCOUNT, |k| k as u32);
                let pk_text = pk.to_string();
                (
                    p,
                    Who {
                        pk,
                        pk_text,
                        account,
                    },
                )
            })
            .collect();
        Ok(Participants { who, accounts })
    }

    /// Initiator first, then the others in the order given.
    fn in_order(i: &Interaction) -> impl Iterator<Item = &PersonId> {
        let others = i.participants.iter().filter(|p| **p != i.initiator);
        std::iter::once(&i.initiator).chain(others)
    }

    /// Appends the participants column of `i` (pks, initiator first) to
    /// `parts`, and puts their pks in `pks` and the accounts they belong to,
    /// each once in participant order, in `accounts`: the first is the
    /// interaction's `account_id`, the others go to `interaction_accounts`.
    fn render(
        &self,
        i: &Interaction,
        parts: &mut String,
        pks: &mut Vec<i64>,
        accounts: &mut Vec<u32>,
    ) {
        pks.clear();
        accounts.clear();
        for (n, p) in Self::in_order(i).enumerate() {
            let w = &self.who[p];
            if n > 0 {
                parts.push(',');
            }
            parts.push_str(&w.pk_text);
            pks.push(w.pk);
            if w.account != NO_ACCOUNT && !accounts.contains(&w.account) {
                accounts.push(w.account);
            }
        }
    }

    fn account(&self, k: u32) -> Option<&str> {
        self.accounts.get(k as usize).map(String::as_str)
    }
}

/// The first 8 bytes of an id as a big-endian number, zero-padded: ordering
/// by it orders by id except between ids sharing those bytes (ids hold no
/// NUL, so padding sorts a shorter id first, as `str` ordering does).
fn id_prefix(id: &str) -> u64 {
    let mut b = [0u8; 8];
    let n = id.len().min(8);
    b[..n].copy_from_slice(&id.as_bytes()[..n]);
    u64::from_be_bytes(b)
}

/// An interaction as it is written, gathered in id order into a
/// [`Gathered`] batch: the write loop then reads memory in sequence instead
/// of jumping around a bundle of a million interactions for each row.
struct Out {
    /// Index in the bundle.
    n: u32,
    id: InteractionId,
    kind: InteractionKind,
    at: i64,
    /// The participants column, a span of [`Gathered::parts`].
    parts: (u32, u32),
    /// The account it is filed under, or [`NO_ACCOUNT`].
    account: u32,
    /// Its participants belong to more than one account.
    multi: bool,
}

/// A batch of interactions in id order and their participants columns.
struct Gathered {
    rows: Vec<Out>,
    parts: String,
}

impl Gathered {
    fn of(interactions: &[Interaction], ps: &Participants<'_>, idx: &[(u64, u32)]) -> Gathered {
        let mut g = Gathered {
            rows: Vec::with_capacity(idx.len()),
            parts: String::with_capacity(idx.len() * 12),
        };
        let (mut pks, mut accounts) = (Vec::new(), Vec::new());
        for &(_, n) in idx {
            let i = &interactions[n as usize];
            let start = g.parts.len() as u32;
            ps.render(i, &mut g.parts, &mut pks, &mut accounts);
            g.rows.push(Out {
                n,
                id: i.id.clone(),
                kind: i.kind,
                at: i.at.epoch_seconds(),
                parts: (start, g.parts.len() as u32),
                account: accounts.first().copied().unwrap_or(NO_ACCOUNT),
                multi: accounts.len() > 1,
            });
        }
        g
    }

    fn parts(&self, o: &Out) -> &str {
        &self.parts[o.parts.0 as usize..o.parts.1 as usize]
    }
}

/// The `interactions_by_account` rows of the interactions whose `account`
/// is given, in key order.
fn account_order(interactions: &[Interaction], account: &[u32]) -> Vec<(u32, i64, InteractionId)> {
    let mut order: Vec<(u32, i64, InteractionId)> = account
        .iter()
        .zip(interactions)
        .filter(|&(&a, _)| a != NO_ACCOUNT)
        .map(|(&a, i)| (a, i.at.epoch_seconds(), i.id.clone()))
        .collect();
    order.sort_unstable();
    order
}

/// What the store holds for an interaction id, compared with the bundle's.
enum Stored {
    Absent,
    Same,
    Changed {
        parts: String,
        account: Option<String>,
        at: i64,
        /// The write that stored it (none before provenance was kept).
        import_id: Option<i64>,
    },
}

/// How stored rows are found for comparison.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lookup {
    /// The table is empty: every row is new.
    None,
    /// One query per id: few rows against a big table.
    Point,
    /// One range scan per batch, merged with the batch's ids: many rows.
    Range,
}

/// Column `c` of `r` as text, borrowed from SQLite (no copy).
fn text<'r>(r: &'r rusqlite::Row<'_>, c: usize) -> rusqlite::Result<&'r str> {
    Ok(r.get_ref(c)?.as_str()?)
}

/// Column `c` of `r` as text or NULL, borrowed from SQLite (no copy).
fn opt_text<'r>(r: &'r rusqlite::Row<'_>, c: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(r.get_ref(c)?.as_str_or_null()?)
}

/// What an import compares stored interactions with.
struct Compare<'a, 'c> {
    interactions: &'a [Interaction],
    ps: &'a Participants<'a>,
    /// Whether any interaction is stored with further accounts.
    stored_extras: bool,
    extras_q: rusqlite::CachedStatement<'c>,
}

impl Compare<'_, '_> {
    /// Compares `o` with its stored row, read from `r` starting at column
    /// `c` (kind, at, participants, account_id, import_id).
    fn stored(
        &mut self,
        g: &Gathered,
        o: &Out,
        r: &rusqlite::Row<'_>,
        c: usize,
    ) -> Result<Stored, StoreError> {
        let old_kind = text(r, c)?;
        let old_at: i64 = r.get(c + 1)?;
        let old_parts = text(r, c + 2)?;
        let old_account = opt_text(r, c + 3)?;
        let mut same = old_kind == o.kind.as_str()
            && old_at == o.at
            && old_parts == g.parts(o)
            && old_account == self.ps.account(o.account);
        if same && (self.stored_extras || o.multi) {
            let (mut parts, mut pks, mut accounts) = (String::new(), Vec::new(), Vec::new());
            let i = &self.interactions[o.n as usize];
            self.ps.render(i, &mut parts, &mut pks, &mut accounts);
            let mut old_extras: Vec<String> = self
                .extras_q
                .query_map([o.id.as_str()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut new_extras: Vec<&str> = accounts
                .iter()
                .skip(1)
                .filter_map(|&a| self.ps.account(a))
                .collect();
            old_extras.sort_unstable();
            new_extras.sort_unstable();
            same = old_extras.iter().map(String::as_str).eq(new_extras);
        }
        Ok(if same {
            Stored::Same
        } else {
            Stored::Changed {
                parts: old_parts.to_owned(),
                account: old_account.map(str::to_owned),
                at: old_at,
                import_id: r.get(c + 4)?,
            }
        })
    }
}

/// Writes interactions, comparing each with the stored row of its id: new
/// ones are inserted, changed ones updated, unchanged ones left alone (so a
/// re-import of unchanged data only reads).
///
/// New rows are inserted in id order, which appends to the table's b-tree,
/// and their `interactions_by_account` rows in (account, time, id) order,
/// which appends within each account. That is two streams of appends; an
/// index on `interactions` would instead take a million random inserts or a
/// rebuild by SQLite's sorter, each about 2 s of a million-row import. Work
/// that needs no SQLite runs on the other cores: gathering rows in id order,
/// and (into an empty table) sorting the account order while this thread
/// writes.
fn write_interactions(
    tx: &Transaction<'_>,
    interactions: &[Interaction],
    import_id: i64,
    counts: &mut Counts,
    tick: &mut dyn FnMut() -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    use rayon::prelude::*;
    if interactions.is_empty() {
        return Ok(());
    }
    let t0 = std::time::Instant::now();
    let ps = Participants::load(tx, interactions)?;
    let mut by_id: Vec<(u64, u32)> = interactions
        .par_iter()
        .enumerate()
        .map(|(n, i)| (id_prefix(i.id.as_str()), n as u32))
        .collect();
    by_id.par_sort_unstable_by(|x, y| {
        x.0.cmp(&y.0).then_with(|| {
            interactions[x.1 as usize]
                .id
                .cmp(&interactions[y.1 as usize].id)
        })
    });
    let batches: Vec<Gathered> = by_id
        .par_chunks(LOOKUP_CHUNK)
        .map(|idx| Gathered::of(interactions, &ps, idx))
        .collect();
    drop(by_id);
    // The account each interaction is filed under, in bundle order.
    let mut account = vec![NO_ACCOUNT; interactions.len()];
    for o in batches.iter().flat_map(|g| &g.rows) {
        account[o.n as usize] = o.account;
    }
    let stored: i64 = tx.query_row("SELECT count(*) FROM interactions", [], |r| r.get(0))?;
    let stored_extras: bool = tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM interaction_accounts)",
        [],
        |r| r.get(0),
    )?;
    let lookup = if stored == 0 {
        Lookup::None
    } else if (interactions.len() as i64).saturating_mul(16) < stored {
        Lookup::Point
    } else {
        Lookup::Range
    };
    let t1 = std::time::Instant::now();
    let ps = &ps;

    std::thread::scope(|scope| -> Result<(), StoreError> {
        // Into an empty table every row is new: sort their account order
        // now, alongside the writes.
        let sorter = (lookup == Lookup::None).then(|| {
            let account = &account;
            scope.spawn(move || account_order(interactions, account))
        });

        let mut ins_one = tx.prepare_cached(
            "INSERT INTO interactions (id, kind, at, participants, account_id, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let mut ins_many = bulk::Bulk::prepare(
            tx,
            &multi_row_insert(
                "interactions (id, kind, at, participants, account_id, import_id)",
                6,
            ),
        )?;
        let mut values: Vec<bulk::Value<'_>> = Vec::with_capacity(INSERT_BATCH * 6);
        let mut point_q = tx.prepare_cached(
            "SELECT kind, at, participants, account_id, import_id FROM interactions WHERE id = ?1",
        )?;
        let mut range_q = tx.prepare_cached(
            "SELECT id, kind, at, participants, account_id, import_id FROM interactions WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
        )?;
        let mut cmp = Compare {
            interactions,
            ps,
            stored_extras,
            extras_q: tx.prepare_cached(
                "SELECT account_id FROM interaction_accounts WHERE interaction_id = ?1",
            )?,
        };
        let mut upd = tx.prepare_cached(
            "UPDATE interactions SET kind = ?2, at = ?3, participants = ?4, account_id = ?5, import_id = ?6 WHERE id = ?1",
        )?;
        let mut del_by_account = tx.prepare_cached(
            "DELETE FROM interactions_by_account WHERE account_id = ?1 AND at = ?2 AND interaction_id = ?3",
        )?;
        let mut ins_by_account_one = tx.prepare_cached(
            "INSERT INTO interactions_by_account (account_id, at, interaction_id) VALUES (?1, ?2, ?3)",
        )?;
        let mut del_extras =
            tx.prepare_cached("DELETE FROM interaction_accounts WHERE interaction_id = ?1")?;
        let mut ins_extra = tx.prepare_cached(
            "INSERT OR IGNORE INTO interaction_accounts (account_id, interaction_id) VALUES (?1, ?2)",
        )?;

        // Which interactions were inserted (true) or updated (false).
        let mut written: Vec<Option<bool>> = vec![None; interactions.len()];
        let mut recompute: Vec<i64> = Vec::new();
        // Per-person provenance counts: the replaced rows' participants
        // lose one under their old write here; everyone written gains one
        // under this write below.
        let mut count_changes = person_counts::CountChanges::default();
        let (mut parts, mut pks, mut accounts) = (String::new(), Vec::new(), Vec::new());
        let mut states: Vec<Stored> = Vec::with_capacity(LOOKUP_CHUNK);
        let mut new_rows: Vec<&Out> = Vec::with_capacity(LOOKUP_CHUNK);
        for g in &batches {
            states.clear();
            match lookup {
                Lookup::None => states.extend(g.rows.iter().map(|_| Stored::Absent)),
                Lookup::Point => {
                    for o in &g.rows {
                        let mut rows = point_q.query([o.id.as_str()])?;
                        states.push(match rows.next()? {
                            None => Stored::Absent,
                            Some(r) => cmp.stored(g, o, r, 0)?,
                        });
                    }
                }
                Lookup::Range => {
                    // Both sides in id order (SQLite's BINARY collation
                    // orders as `str` does): a merge.
                    let (lo, hi) = (&g.rows[0].id, &g.rows[g.rows.len() - 1].id);
                    let mut rows = range_q.query([lo.as_str(), hi.as_str()])?;
                    while let Some(r) = rows.next()? {
                        let id = text(r, 0)?;
                        while states.len() < g.rows.len() && g.rows[states.len()].id.as_str() < id {
                            states.push(Stored::Absent);
                        }
                        if states.len() < g.rows.len() && g.rows[states.len()].id.as_str() == id {
                            let s = cmp.stored(g, &g.rows[states.len()], r, 1)?;
                            states.push(s);
                        }
                    }
                    while states.len() < g.rows.len() {
                        states.push(Stored::Absent);
                    }
                }
            }

            new_rows.clear();
            for (o, state) in g.rows.iter().zip(states.drain(..)) {
                let id = o.id.as_str();
                let account = ps.account(o.account);
                match state {
                    Stored::Same => counts.existing += 1,
                    Stored::Absent => {
                        counts.new += 1;
                        written[o.n as usize] = Some(true);
                        new_rows.push(o);
                    }
                    Stored::Changed {
                        parts: old_parts,
                        account: old_account,
                        at: old_at,
                        import_id: old_import,
                    } => {
                        counts.existing += 1;
                        written[o.n as usize] = Some(false);
                        parts.clear();
                        ps.render(
                            &interactions[o.n as usize],
                            &mut parts,
                            &mut pks,
                            &mut accounts,
                        );
                        let old_pks = parse_pks(&old_parts)?;
                        if let Some(old_import) = old_import {
                            for &p in &old_pks {
                                count_changes.add(p, old_import, -1);
                            }
                        }
                        if old_parts != parts {
                            // Someone may have been dropped: their newest
                            // interaction is recomputed below.
                            recompute.extend(old_pks.into_iter().filter(|p| !pks.contains(p)));
                        }
                        if let Some(a) = &old_account {
                            del_by_account.execute(params![a, old_at, id])?;
                        }
                        del_extras.execute([id])?;
                        upd.execute(params![
                            id,
                            o.kind.as_str(),
                            o.at,
                            parts.as_str(),
                            account,
                            import_id
                        ])?;
                        if let Some(a) = account {
                            ins_by_account_one.execute(params![a, o.at, id])?;
                        }
                    }
                }
                tick()?;
            }

            let mut full = new_rows.chunks_exact(INSERT_BATCH);
            for rows in &mut full {
                values.clear();
                for o in rows {
                    values.extend([
                        bulk::Value::Text(o.id.as_str()),
                        bulk::Value::Text(o.kind.as_str()),
                        bulk::Value::Int(o.at),
                        bulk::Value::Text(g.parts(o)),
                        ps.account(o.account).into(),
                        bulk::Value::Int(import_id),
                    ]);
                }
                ins_many.exec(&values)?;
            }
            for o in full.remainder() {
                ins_one.execute(params![
                    o.id.as_str(),
                    o.kind.as_str(),
                    o.at,
                    g.parts(o),
                    ps.account(o.account),
                    import_id
                ])?;
            }
            // Further accounts, of new and changed rows.
            for o in g
                .rows
                .iter()
                .filter(|o| o.multi && written[o.n as usize].is_some())
            {
                parts.clear();
                ps.render(
                    &interactions[o.n as usize],
                    &mut parts,
                    &mut pks,
                    &mut accounts,
                );
                for a in accounts.iter().skip(1).filter_map(|&a| ps.account(a)) {
                    ins_extra.execute(params![a, o.id.as_str()])?;
                }
            }
        }
        drop((new_rows, values, ins_many));
        drop(batches);
        let t2 = std::time::Instant::now();

        // The new rows' account entries, in key order.
        let order = match sorter {
            Some(h) => h.join().map_err(|_| {
                StoreError::Backend("sorting interactions by account failed".into())
            })?,
            None => {
                let only_new: Vec<u32> = account
                    .iter()
                    .zip(&written)
                    .map(|(&a, w)| if *w == Some(true) { a } else { NO_ACCOUNT })
                    .collect();
                account_order(interactions, &only_new)
            }
        };
        let t3 = std::time::Instant::now();
        let mut ins_by_account_many = bulk::Bulk::prepare(
            tx,
            &multi_row_insert(
                "interactions_by_account (account_id, at, interaction_id)",
                3,
            ),
        )?;
        let mut values: Vec<bulk::Value<'_>> = Vec::with_capacity(INSERT_BATCH * 3);
        let mut full = order.chunks_exact(INSERT_BATCH);
        for rows in &mut full {
            values.clear();
            for (a, at, id) in rows {
                values.extend([
                    ps.account(*a).into(),
                    bulk::Value::Int(*at),
                    bulk::Value::Text(id.as_str()),
                ]);
            }
            ins_by_account_many.exec(&values)?;
        }
        for (a, at, id) in full.remainder() {
            ins_by_account_one.execute(params![ps.account(*a), at, id.as_str()])?;
        }
        drop(order);
        let t4 = std::time::Instant::now();

        // Each participant's newest interaction among those written, and
        // how many of them name them, on all cores.
        let last_at: FxHashMap<i64, (i64, i64)> = interactions
            .par_iter()
            .zip(&written)
            .filter(|(_, w)| w.is_some())
            .fold(
                FxHashMap::default,
                |mut m: FxHashMap<i64, (i64, i64)>, (i, _)| {
                    let at = i.at.epoch_seconds();
                    for p in &i.participants {
                        let e = m.entry(ps.who[p].pk).or_insert((at, 0));
                        *e = (e.0.max(at), e.1 + 1);
                    }
                    m
                },
            )
            .reduce(FxHashMap::default, |mut a, b| {
                for (p, (at, n)) in b {
                    let e = a.entry(p).or_insert((at, 0));
                    *e = (e.0.max(at), e.1 + n);
                }
                a
            });
        let mut upd_last = tx.prepare_cached(
            "UPDATE people SET last_at = max(coalesce(last_at, ?2), ?2) WHERE pk = ?1",
        )?;
        for (p, (at, n)) in last_at {
            upd_last.execute(params![p, at])?;
            count_changes.add(p, import_id, n);
        }
        count_changes.apply(tx)?;
        // An edited interaction may have dropped someone: recompute their newest
        // from the interactions that still name them.
        let mut fix_last = tx.prepare_cached(
            "UPDATE people SET last_at = (SELECT max(at) FROM interactions WHERE ',' || participants || ',' LIKE '%,' || ?1 || ',%') WHERE pk = ?1",
        )?;
        recompute.sort_unstable();
        recompute.dedup();
        for p in recompute {
            fix_last.execute([p])?;
        }
        tracing::debug!(
            prepare = ?(t1 - t0),
            rows = ?(t2 - t1),
            account_sort_wait = ?(t3 - t2),
            by_account = ?(t4 - t3),
            last_at = ?t4.elapsed(),
            "interaction write timings"
        );
        Ok(())
    })
}

/// `INSERT INTO {table_cols} VALUES (?, …), …` for [`INSERT_BATCH`] rows of
/// `width` values.
fn multi_row_insert(table_cols: &str, width: usize) -> String {
    let row = format!("({})", vec!["?"; width].join(", "));
    format!(
        "INSERT INTO {table_cols} VALUES {}",
        vec![row; INSERT_BATCH].join(", ")
    )
}

fn parse_pks(s: &str) -> Result<Vec<i64>, StoreError> {
    s.split(',')
        .map(|x| x.parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|e| StoreError::Backend(format!("stored participants {s:?}: {e}")))
}

// ---- reading rows back into domain types ----

fn col<T: rusqlite::types::FromSql>(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<T> {
    r.get(i)
}

/// Parses a stored value with its domain parser; a failure means the file
/// was edited by hand or is corrupt.
fn parsed<T>(v: ModelResult<T>) -> Result<T, StoreError> {
    v.map_err(corrupt)
}
type ModelResult<T> = Result<T, ModelError>;

fn opt_parsed<T>(
    v: Option<String>,
    f: impl Fn(&str) -> ModelResult<T>,
) -> Result<Option<T>, StoreError> {
    v.map(|s| f(&s)).transpose().map_err(corrupt)
}

const ORG_COLS: &str = "id, name, industry, region, tier, is_ours, parent_id";

type OrgRow = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    bool,
    Option<String>,
);

fn org_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OrgRow> {
    Ok((
        col(r, 0)?,
        col(r, 1)?,
        col(r, 2)?,
        col(r, 3)?,
        col(r, 4)?,
        col(r, 5)?,
        col(r, 6)?,
    ))
}

fn make_org(t: OrgRow) -> Result<Organization, StoreError> {
    Ok(Organization {
        id: parsed(OrgId::try_from(t.0))?,
        name: t.1,
        industry: t.2,
        region: t.3,
        tier: t.4,
        is_ours: t.5,
        parent: opt_parsed(t.6, OrgId::parse)?,
    })
}

const PERSON_COLS: &str =
    "p.id, p.org_id, p.name, p.title, p.department, p.level, p.reports_to, p.role, p.attitude";

type PersonRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    u8,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn person_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PersonRow> {
    Ok((
        col(r, 0)?,
        col(r, 1)?,
        col(r, 2)?,
        col(r, 3)?,
        col(r, 4)?,
        col(r, 5)?,
        col(r, 6)?,
        col(r, 7)?,
        col(r, 8)?,
    ))
}

fn make_person(t: PersonRow) -> Result<Person, StoreError> {
    Ok(Person {
        id: parsed(PersonId::try_from(t.0))?,
        org: parsed(OrgId::try_from(t.1))?,
        name: t.2,
        title: t.3,
        department: t.4,
        level: parsed(Level::new(t.5))?,
        emails: vec![],
        external_ids: vec![],
        phones: vec![],
        reports_to: opt_parsed(t.6, PersonId::parse)?,
        role: opt_parsed(t.7, BuyingRole::parse)?,
        attitude: opt_parsed(t.8, Attitude::parse)?,
    })
}

/// Reads people selected by `sql` (which must select [`PERSON_COLS`] from `people p`),
/// with their e-mails and external ids.
fn load_people(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Person>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, person_from_row)?;
    let mut people = Vec::new();
    for r in rows {
        people.push(make_person(r?)?);
    }
    let mut emails =
        conn.prepare_cached("SELECT email FROM person_emails WHERE person_id = ?1 ORDER BY email")?;
    let mut exts = conn.prepare_cached("SELECT system, ext_id FROM person_external_ids WHERE person_id = ?1 ORDER BY system, ext_id")?;
    for p in &mut people {
        for e in emails.query_map([p.id.as_str()], |r| r.get::<_, String>(0))? {
            p.emails.push(parsed(Email::parse(&e?))?);
        }
        for x in exts.query_map([p.id.as_str()], |r| {
            Ok(ExternalId {
                system: r.get(0)?,
                id: r.get(1)?,
            })
        })? {
            p.external_ids.push(x?);
        }
        p.phones = phones::person_phones(conn, p.id.as_str())?;
    }
    Ok(people)
}

/// Reads the interactions whose ids `ids_sql` selects, participants as ids
/// (initiator first), in time order.
fn load_interactions(
    conn: &Connection,
    ids_sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Interaction>, StoreError> {
    let sql = format!(
        "SELECT i.id, i.kind, i.at, i.participants, r.in_reply_to FROM interactions i \
         LEFT JOIN interaction_replies r ON r.interaction_id = i.id \
         WHERE i.id IN ({ids_sql}) ORDER BY i.at, i.id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(args)?;
    let mut id_q = conn.prepare_cached("SELECT id FROM people WHERE pk = ?1")?;
    let mut id_of: FxHashMap<i64, PersonId> = FxHashMap::default();
    let mut out: Vec<Interaction> = Vec::new();
    while let Some(r) = rows.next()? {
        let mut participants = Vec::new();
        for pk in parse_pks(&r.get::<_, String>(3)?)? {
            let id = match id_of.get(&pk) {
                Some(id) => id.clone(),
                None => {
                    let id = parsed(PersonId::try_from(
                        id_q.query_row([pk], |r| r.get::<_, String>(0))?,
                    ))?;
                    id_of.insert(pk, id.clone());
                    id
                }
            };
            participants.push(id);
        }
        let initiator = participants
            .first()
            .cloned()
            .ok_or_else(|| StoreError::Backend("an interaction without participants".into()))?;
        out.push(Interaction {
            id: parsed(InteractionId::try_from(r.get::<_, String>(0)?))?,
            kind: parsed(InteractionKind::parse(&r.get::<_, String>(1)?))?,
            at: Timestamp::from_epoch_seconds(r.get(2)?),
            initiator,
            participants,
            in_reply_to: opt_parsed(r.get(4)?, InteractionId::parse)?,
        });
    }
    Ok(out)
}

fn load_influences(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Influence>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            col::<String>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
            col::<f64>(r, 3)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (f, t, k, s) = r?;
        out.push(Influence {
            from: parsed(PersonId::try_from(f))?,
            to: parsed(PersonId::try_from(t))?,
            kind: parsed(InfluenceKind::parse(&k))?,
            strength: parsed(Strength::new(s))?,
        });
    }
    Ok(out)
}

fn load_assessments(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Assessment>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            col::<String>(r, 0)?,
            col::<String>(r, 1)?,
            col::<i64>(r, 2)?,
            col::<u8>(r, 3)?,
            col::<Option<String>>(r, 4)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (f, t, at, level, by) = r?;
        out.push(Assessment {
            from: parsed(PersonId::try_from(f))?,
            to: parsed(PersonId::try_from(t))?,
            level: parsed(ClosenessLevel::new(level))?,
            at: Timestamp::from_epoch_seconds(at),
            by: opt_parsed(by, PersonId::parse)?,
        });
    }
    Ok(out)
}

fn load_team(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<TeamMember>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            col::<String>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (o, p, role) = r?;
        out.push(TeamMember {
            org: parsed(OrgId::try_from(o))?,
            person: parsed(PersonId::try_from(p))?,
            role: parsed(TeamRole::parse(&role))?,
        });
    }
    Ok(out)
}

fn load_opportunities(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Opportunity>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            col::<String>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
            col::<Option<f64>>(r, 3)?,
            col::<Option<String>>(r, 4)?,
            col::<String>(r, 5)?,
            col::<Option<String>>(r, 6)?,
            col::<Option<String>>(r, 7)?,
            col::<String>(r, 8)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (id, account, name, amount, stage, status, close, owner, competitors) = r?;
        out.push(Opportunity {
            id: parsed(OpportunityId::try_from(id))?,
            account: parsed(OrgId::try_from(account))?,
            name,
            amount,
            stage,
            status: parsed(OpportunityStatus::parse(&status))?,
            close_date: close
                .map(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d"))
                .transpose()
                .map_err(|e| StoreError::Backend(format!("stored close date: {e}")))?,
            owner: opt_parsed(owner, PersonId::parse)?,
            competitors: deals::competitors_from_sql(&competitors)?,
        });
    }
    Ok(out)
}

fn load_contacts(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<OpportunityContact>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            col::<String>(r, 0)?,
            col::<String>(r, 1)?,
            col::<Option<String>>(r, 2)?,
            col::<Option<String>>(r, 3)?,
            col::<Option<u8>>(r, 4)?,
            col::<Option<u8>>(r, 5)?,
            col::<Option<i64>>(r, 6)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (o, p, role, att, sa, pa, at) = r?;
        out.push(OpportunityContact {
            opportunity: parsed(OpportunityId::try_from(o))?,
            person: parsed(PersonId::try_from(p))?,
            role: opt_parsed(role, BuyingRole::parse)?,
            attitude: opt_parsed(att, Attitude::parse)?,
            solution_acceptance: sa.map(Acceptance::new).transpose().map_err(corrupt)?,
            price_acceptance: pa.map(Acceptance::new).transpose().map_err(corrupt)?,
            at: at.filter(|t| *t != 0).map(Timestamp::from_epoch_seconds),
        });
    }
    Ok(out)
}

const OPP_COLS: &str =
    "id, account_id, name, amount, stage, status, close_date, owner_id, competitors";
const CONTACT_COLS: &str = "c.opportunity_id, c.person_id, c.role, c.attitude, c.solution_acceptance, c.price_acceptance, c.at";

fn count(conn: &Connection, sql: &str) -> Result<u64, StoreError> {
    Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
}

/// The organization of each stored person of `ids` (and whether it is
/// ours): what a restricted viewer's write is checked against.
fn person_orgs(
    conn: &Connection,
    ids: &[PersonId],
) -> Result<FxHashMap<PersonId, (OrgId, bool)>, StoreError> {
    let mut q = conn.prepare_cached(
        "SELECT p.org_id, o.is_ours FROM people p JOIN organizations o ON o.id = p.org_id WHERE p.id = ?1",
    )?;
    let mut out = FxHashMap::default();
    for id in ids {
        if let Some((org, ours)) = q
            .query_row([id.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
            })
            .optional()?
        {
            out.insert(id.clone(), (parsed(OrgId::try_from(org))?, ours));
        }
    }
    Ok(out)
}

fn export_all(conn: &Connection) -> Result<Bundle, StoreError> {
    let mut b = Bundle::default();
    let mut stmt = conn.prepare(&format!(
        "SELECT {ORG_COLS} FROM organizations ORDER BY is_ours DESC, id"
    ))?;
    for r in stmt.query_map([], org_from_row)? {
        b.organizations.push(make_org(r?)?);
    }
    // Parents before children, so the export reads naturally.
    b.people = load_people(
        conn,
        &format!("SELECT {PERSON_COLS} FROM people p ORDER BY p.org_id, p.id"),
        &[],
    )?;
    b.account_team = load_team(
        conn,
        "SELECT org_id, person_id, role FROM account_team ORDER BY org_id, person_id",
        &[],
    )?;
    b.interactions = load_interactions(conn, "SELECT id FROM interactions", &[])?;
    b.influences = load_influences(
        conn,
        "SELECT from_id, to_id, kind, strength FROM influences ORDER BY from_id, to_id",
        &[],
    )?;
    b.assessments = load_assessments(
        conn,
        "SELECT from_id, to_id, at, level, by_id FROM assessments ORDER BY from_id, to_id, at",
        &[],
    )?;
    b.opportunities = load_opportunities(
        conn,
        &format!("SELECT {OPP_COLS} FROM opportunities ORDER BY id"),
        &[],
    )?;
    b.opportunity_contacts = load_contacts(
        conn,
        &format!(
            "SELECT {CONTACT_COLS} FROM opportunity_contacts c ORDER BY c.opportunity_id, c.person_id, c.at"
        ),
        &[],
    )?;
    b.opportunity_stages = deals::load_stages(
        conn,
        "SELECT opportunity_id, at, stage FROM opportunity_stages ORDER BY opportunity_id, at",
        &[],
    )?;
    Ok(b)
}

fn account_data(conn: &Connection, account: &OrgId) -> Result<Option<AccountData>, StoreError> {
    let org = conn
        .query_row(
            &format!("SELECT {ORG_COLS} FROM organizations WHERE id = ?1 AND is_ours = 0"),
            [account.as_str()],
            org_from_row,
        )
        .optional()?;
    let Some(org) = org else { return Ok(None) };
    let org = make_org(org)?;
    let a: &[&dyn rusqlite::ToSql] = &[&account.as_str()];
    let people = load_people(
        conn,
        &format!("SELECT {PERSON_COLS} FROM people p WHERE p.org_id = ?1 ORDER BY p.level, p.id"),
        a,
    )?;
    let interactions = load_interactions(
        conn,
        "SELECT interaction_id FROM interactions_by_account WHERE account_id = ?1 UNION SELECT interaction_id FROM interaction_accounts WHERE account_id = ?1",
        a,
    )?;
    let team = load_team(
        conn,
        "SELECT org_id, person_id, role FROM account_team WHERE org_id = ?1 ORDER BY person_id",
        a,
    )?;
    let influences = load_influences(
        conn,
        "SELECT i.from_id, i.to_id, i.kind, i.strength FROM influences i JOIN people f ON f.id = i.from_id JOIN people t ON t.id = i.to_id \
         WHERE f.org_id = ?1 AND t.org_id = ?1 ORDER BY i.from_id, i.to_id",
        a,
    )?;
    let assessments = load_assessments(
        conn,
        "SELECT a.from_id, a.to_id, a.at, a.level, a.by_id FROM assessments a WHERE \
         a.from_id IN (SELECT id FROM people WHERE org_id = ?1) OR a.to_id IN (SELECT id FROM people WHERE org_id = ?1) \
         ORDER BY a.at, a.from_id, a.to_id",
        a,
    )?;
    let opportunities = load_opportunities(
        conn,
        &format!("SELECT {OPP_COLS} FROM opportunities WHERE account_id = ?1 ORDER BY id"),
        a,
    )?;
    let opportunity_contacts = load_contacts(
        conn,
        &format!(
            "SELECT {CONTACT_COLS} FROM opportunity_contacts c JOIN opportunities o ON o.id = c.opportunity_id WHERE o.account_id = ?1 ORDER BY c.opportunity_id, c.person_id, c.at"
        ),
        a,
    )?;
    let opportunity_stages = deals::load_stages(
        conn,
        "SELECT s.opportunity_id, s.at, s.stage FROM opportunity_stages s JOIN opportunities o ON o.id = s.opportunity_id WHERE o.account_id = ?1 ORDER BY s.opportunity_id, s.at",
        a,
    )?;

    // Our people: the team, everyone of ours in an interaction or assessment with the account.
    let mut ours: HashSet<&PersonId> = team.iter().map(|t| &t.person).collect();
    let account_people: HashSet<&PersonId> = people.iter().map(|p| &p.id).collect();
    for i in &interactions {
        ours.extend(
            i.participants
                .iter()
                .filter(|p| !account_people.contains(p)),
        );
    }
    for x in &assessments {
        ours.extend(
            [&x.from, &x.to]
                .into_iter()
                .filter(|p| !account_people.contains(p)),
        );
    }
    let mut our_people = Vec::new();
    let mut sorted: Vec<&PersonId> = ours.into_iter().collect();
    sorted.sort();
    for id in sorted {
        let found = load_people(
            conn,
            &format!(
                "SELECT {PERSON_COLS} FROM people p JOIN organizations o ON o.id = p.org_id WHERE p.id = ?1 AND o.is_ours = 1"
            ),
            &[&id.as_str()],
        )?;
        our_people.extend(found);
    }
    Ok(Some(AccountData {
        account: org,
        people,
        our_people,
        team,
        interactions,
        influences,
        assessments,
        opportunities,
        opportunity_contacts,
        opportunity_stages,
    }))
}

/// Answers every lookup of an enrichment batch with one statement per kind
/// of lookup (the values passed as a JSON array to `json_each`) and two for
/// the matched people's e-mails and external ids. Asking record by record
/// took four statements per record, most of a 1,000-record batch's time.
fn find_people(
    c: &Connection,
    lookups: &[PersonLookup],
) -> Result<Vec<Vec<PersonRecord>>, StoreError> {
    use serde_json::{Value, json};
    let (mut emails, mut externals, mut names) = (vec![], vec![], vec![]);
    let mut slots: Vec<(usize, usize)> = Vec::with_capacity(lookups.len());
    for l in lookups {
        slots.push(match l {
            PersonLookup::Email(e) => {
                emails.push(Value::from(e.as_str()));
                (0, emails.len() - 1)
            }
            PersonLookup::External(x) => {
                externals.push(json!([x.system.as_str(), x.id.as_str()]));
                (1, externals.len() - 1)
            }
            PersonLookup::NameAtOrg { name, org_name } => {
                names.push(json!([name, org_name]));
                (2, names.len() - 1)
            }
        });
    }
    let cols = "p.id, p.org_id, p.name, p.title, p.department, p.level, p.reports_to, p.role, p.attitude, o.name, o.is_ours";
    let queries = [
        format!(
            "SELECT j.key, {cols} FROM json_each(?1) j JOIN person_emails e ON e.email = j.value \
             JOIN people p ON p.id = e.person_id JOIN organizations o ON o.id = p.org_id ORDER BY j.key, p.id"
        ),
        format!(
            "SELECT j.key, {cols} FROM json_each(?1) j JOIN person_external_ids x \
             ON x.system = j.value ->> 0 AND x.ext_id = j.value ->> 1 \
             JOIN people p ON p.id = x.person_id JOIN organizations o ON o.id = p.org_id ORDER BY j.key, p.id"
        ),
        format!(
            "SELECT j.key, {cols} FROM json_each(?1) j JOIN people p ON p.name = (j.value ->> 0) COLLATE NOCASE \
             JOIN organizations o ON o.id = p.org_id WHERE o.name = (j.value ->> 1) COLLATE NOCASE ORDER BY j.key, p.id"
        ),
    ];
    let mut found: [Vec<Vec<PersonRecord>>; 3] = [
        vec![Vec::new(); emails.len()],
        vec![Vec::new(); externals.len()],
        vec![Vec::new(); names.len()],
    ];
    let mut ids: Vec<String> = Vec::new();
    for (kind, values) in [emails, externals, names].into_iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let values = Value::Array(values).to_string();
        let mut stmt = c.prepare_cached(&queries[kind])?;
        let rows = stmt.query_map([&values], |r| {
            let key: i64 = r.get(0)?;
            let p: PersonRow = (
                col(r, 1)?,
                col(r, 2)?,
                col(r, 3)?,
                col(r, 4)?,
                col(r, 5)?,
                col(r, 6)?,
                col(r, 7)?,
                col(r, 8)?,
                col(r, 9)?,
            );
            Ok((key, p, col::<String>(r, 10)?, col::<bool>(r, 11)?))
        })?;
        for row in rows {
            let (key, p, org_name, is_ours) = row?;
            let slot = &mut found[kind][key as usize];
            // A name may be shared: the first 20 by id are plenty to say
            // "ambiguous" (the per-record query had the same limit).
            if kind == 2 && slot.len() >= 20 {
                continue;
            }
            let person = make_person(p)?;
            ids.push(person.id.to_string());
            slot.push(PersonRecord {
                person,
                org_name,
                is_ours,
            });
        }
    }
    if !ids.is_empty() {
        ids.sort();
        ids.dedup();
        let ids = serde_json::to_string(&ids)
            .map_err(|e| StoreError::Backend(format!("encoding ids: {e}")))?;
        let mut person_emails: FxHashMap<String, Vec<Email>> = FxHashMap::default();
        let mut stmt = c.prepare_cached(
            "SELECT person_id, email FROM person_emails WHERE person_id IN (SELECT value FROM json_each(?1)) ORDER BY person_id, email",
        )?;
        for r in stmt.query_map([&ids], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })? {
            let (id, e) = r?;
            person_emails
                .entry(id)
                .or_default()
                .push(parsed(Email::parse(&e))?);
        }
        let person_phones = phones::phones_of(c, &ids)?;
        let mut person_exts: FxHashMap<String, Vec<ExternalId>> = FxHashMap::default();
        let mut stmt = c.prepare_cached(
            "SELECT person_id, system, ext_id FROM person_external_ids WHERE person_id IN (SELECT value FROM json_each(?1)) ORDER BY person_id, system, ext_id",
        )?;
        for r in stmt.query_map([&ids], |r| {
            Ok((
                r.get::<_, String>(0)?,
                ExternalId {
                    system: r.get(1)?,
                    id: r.get(2)?,
                },
            ))
        })? {
            let (id, x) = r?;
            person_exts.entry(id).or_default().push(x);
        }
        for rec in found.iter_mut().flatten().flatten() {
            let id = rec.person.id.as_str();
            if let Some(e) = person_emails.get(id) {
                rec.person.emails = e.clone();
            }
            if let Some(x) = person_exts.get(id) {
                rec.person.external_ids = x.clone();
            }
            if let Some(x) = person_phones.get(id) {
                rec.person.phones = x.clone();
            }
        }
    }
    Ok(slots
        .into_iter()
        .map(|(kind, i)| std::mem::take(&mut found[kind][i]))
        .collect())
}

#[async_trait]
impl Store for SqliteStore {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    async fn import(
        &self,
        bundle: Bundle,
        sources: SourceMap,
        progress: Arc<dyn Progress>,
    ) -> Result<ImportSummary, StoreError> {
        // Checked even when no person is named: a restricted viewer's
        // bundle of organizations alone is refused too.
        let written = crate::access::people_written(&bundle);
        let orgs = if written.is_empty() {
            Default::default()
        } else {
            self.read(move |c| person_orgs(c, &written)).await?
        };
        crate::access::check_write(&bundle, &|p| orgs.get(p).cloned())?;
        self.write(move |conn| {
            let bulk = bundle.len() >= BULK_RECORDS;
            if bulk {
                conn.pragma_update(None, "cache_size", BULK_CACHE_KIB)?;
            }
            let r = import_bundle(conn, bundle, sources, progress.as_ref());
            if bulk {
                conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)?;
            }
            r
        })
        .await
    }

    async fn export(&self) -> Result<Bundle, StoreError> {
        let all = self.read(export_all).await?;
        Ok(crate::access::filter_bundle(all))
    }

    /// `PRAGMA data_version` of the writer connection: SQLite changes it
    /// when any *other* connection commits, never for the writer's own
    /// commits, which go through the engine and invalidate precisely. While
    /// this process writes, the last value read stands (no waiting).
    fn external_version(&self) -> Option<u64> {
        let Ok(conn) = self.writer.try_lock() else {
            return Some(self.data_version.load(std::sync::atomic::Ordering::Relaxed));
        };
        match conn.pragma_query_value(None, "data_version", |r| r.get::<_, i64>(0)) {
            Ok(v) => {
                self.data_version
                    .store(v as u64, std::sync::atomic::Ordering::Relaxed);
                Some(v as u64)
            }
            Err(e) => {
                tracing::warn!("reading data_version: {e}");
                Some(self.data_version.load(std::sync::atomic::Ordering::Relaxed))
            }
        }
    }

    async fn save_review(&self, candidates: Vec<MergeCandidate>) -> Result<usize, StoreError> {
        self.write_tx(move |tx| identity::save_review(tx, &candidates))
            .await
    }

    async fn review(&self) -> Result<Vec<ReviewItem>, StoreError> {
        self.read(identity::review).await
    }

    async fn dismiss_review(&self, a: &PersonId, b: &PersonId) -> Result<bool, StoreError> {
        let (a, b) = (a.to_string(), b.to_string());
        self.write_tx(move |tx| identity::dismiss(tx, &a, &b)).await
    }

    async fn merge_people(
        &self,
        survivor: &PersonId,
        merged: &PersonId,
    ) -> Result<MergeReport, StoreError> {
        let (a, b) = (survivor.to_string(), merged.to_string());
        self.write_tx(move |tx| identity::merge(tx, &a, &b)).await
    }

    async fn split_people(
        &self,
        survivor: &PersonId,
        merged: &PersonId,
    ) -> Result<MergeReport, StoreError> {
        let (a, b) = (survivor.to_string(), merged.to_string());
        self.write_tx(move |tx| identity::split(tx, &a, &b)).await
    }

    async fn save_service_cases(
        &self,
        cases: Vec<renmai_graph::service::ServiceCase>,
    ) -> Result<usize, StoreError> {
        self.write_tx(move |tx| service_cases::save(tx, &cases))
            .await
    }

    async fn service_cases(
        &self,
        since: Option<Timestamp>,
    ) -> Result<Vec<renmai_graph::service::ServiceCase>, StoreError> {
        let scope = crate::access::scope();
        let mut cases = self.read(move |c| service_cases::load(c, since)).await?;
        cases.retain(|c| scope.allows(&c.account));
        Ok(cases)
    }

    async fn save_deal_support(
        &self,
        rows: Vec<renmai_graph::support::DealSupport>,
        locations: Vec<crate::validate::Location>,
    ) -> Result<Counts, StoreError> {
        self.write_tx(move |tx| deal_support::save(tx, &rows, &locations))
            .await
    }

    async fn deal_support(
        &self,
        account: Option<&OrgId>,
    ) -> Result<Vec<renmai_graph::support::DealSupport>, StoreError> {
        let account = account.cloned();
        let scope = crate::access::scope();
        self.read(move |c| deal_support::load(c, account.as_ref(), &scope))
            .await
    }

    async fn person_provenance(
        &self,
        id: &PersonId,
    ) -> Result<Option<crate::privacy::PersonProvenance>, StoreError> {
        let id = id.to_string();
        self.read(move |c| privacy::person_provenance(c, &id)).await
    }

    async fn record_audit(
        &self,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let (actor, action, detail) = (actor.to_owned(), action.to_owned(), detail.to_owned());
        self.write(move |c| privacy::audit(c, &actor, &action, &detail))
            .await
    }

    async fn audit_log(
        &self,
        since: Option<Timestamp>,
    ) -> Result<Vec<crate::privacy::AuditEntry>, StoreError> {
        self.read(move |c| privacy::audit_log(c, since)).await
    }

    async fn forget_person(
        &self,
        id: &PersonId,
        actor: &str,
    ) -> Result<crate::privacy::ForgetReport, StoreError> {
        // Erasing reaches every account the person touched: admins only,
        // as on Neo4j.
        crate::access::require_unrestricted()?;
        let (id, actor) = (id.to_string(), actor.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let report = privacy::forget(&tx, &id, &actor)?;
            tx.commit()?;
            privacy::checkpoint(conn)?;
            Ok(report)
        })
        .await
    }

    async fn apply_retention(
        &self,
        cutoff: Timestamp,
        days: u32,
        actor: &str,
    ) -> Result<crate::privacy::RetentionReport, StoreError> {
        let actor = actor.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let report = privacy::retention(&tx, cutoff, &actor, days)?;
            tx.commit()?;
            if report.interactions_deleted > 0 {
                privacy::checkpoint(conn)?;
            }
            Ok(report)
        })
        .await
    }

    async fn backup(&self, dest: &Path) -> Result<(), StoreError> {
        let (db, dest) = (self.path.clone(), dest.to_owned());
        tokio::task::spawn_blocking(move || privacy::backup(&db, &dest))
            .await
            .map_err(|e| StoreError::Backend(format!("backup thread failed: {e}")))?
    }

    async fn create_user(&self, user: NewUser) -> Result<bool, StoreError> {
        self.write_tx(move |tx| access::create_user(tx, &user))
            .await
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(access::users).await
    }

    async fn login_record(&self, name: &str) -> Result<Option<LoginRecord>, StoreError> {
        let name = name.to_owned();
        self.read(move |c| access::login_record(c, &name)).await
    }

    async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.write_tx(move |tx| access::set_disabled(tx, &name, disabled))
            .await
    }

    async fn set_password(&self, name: &str, hash: &str) -> Result<bool, StoreError> {
        let (name, hash) = (name.to_owned(), hash.to_owned());
        self.write_tx(move |tx| access::set_password(tx, &name, &hash))
            .await
    }

    async fn login_failed(
        &self,
        name: &str,
        lock_after: u32,
        lock_until: Timestamp,
    ) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.write_tx(move |tx| access::login_failed(tx, &name, lock_after, lock_until))
            .await
    }

    async fn login_succeeded(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.write_tx(move |tx| access::login_succeeded(tx, &name))
            .await
    }

    async fn add_to_team(&self, manager: &str, seller: &str) -> Result<(), StoreError> {
        let (m, s) = (manager.to_owned(), seller.to_owned());
        self.write_tx(move |tx| access::add_to_team(tx, &m, &s))
            .await
    }

    async fn assign_account(&self, user: &str, account: &OrgId) -> Result<(), StoreError> {
        let (user, account) = (user.to_owned(), account.clone());
        self.write_tx(move |tx| access::assign_account(tx, &user, &account))
            .await
    }

    async fn visible_accounts(&self, user: &str) -> Result<Vec<OrgId>, StoreError> {
        let user = user.to_owned();
        self.read(move |c| access::visible_accounts(c, &user)).await
    }

    async fn create_session(
        &self,
        hash: &str,
        user: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let (hash, user) = (hash.to_owned(), user.to_owned());
        self.write_tx(move |tx| access::create_session(tx, &hash, &user, expires_at))
            .await
    }

    async fn session_user(&self, hash: &str, now: Timestamp) -> Result<Option<User>, StoreError> {
        let hash = hash.to_owned();
        self.read(move |c| access::session_user(c, &hash, now))
            .await
    }

    async fn delete_session(&self, hash: &str) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        self.write_tx(move |tx| access::delete_session(tx, &hash))
            .await
    }

    async fn set_token_owner(&self, token: &str, user: &str) -> Result<bool, StoreError> {
        let (token, user) = (token.to_owned(), user.to_owned());
        self.write_tx(move |tx| access::set_token_owner(tx, &token, &user))
            .await
    }

    async fn known_interactions(&self, ids: Vec<InteractionId>) -> Result<Vec<bool>, StoreError> {
        self.read(move |conn| {
            let mut q = conn.prepare_cached("SELECT 1 FROM interactions WHERE id = ?1")?;
            ids.iter().map(|id| Ok(q.exists([id.as_str()])?)).collect()
        })
        .await
    }

    async fn directory(&self) -> Result<Directory, StoreError> {
        self.read(|conn| {
            let mut stmt =
                conn.prepare(&format!("SELECT {ORG_COLS} FROM organizations ORDER BY id"))?;
            let mut orgs = Vec::new();
            for r in stmt.query_map([], org_from_row)? {
                orgs.push(make_org(r?)?);
            }
            let people = load_people(
                conn,
                &format!("SELECT {PERSON_COLS} FROM people p ORDER BY p.id"),
                &[],
            )?;
            Ok(Directory { orgs, people })
        })
        .await
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        let location = self.location();
        self.read(move |c| {
            Ok(Stats {
                store: "sqlite".into(),
                location,
                organizations: count(c, "SELECT count(*) FROM organizations")?,
                accounts: count(c, "SELECT count(*) FROM organizations WHERE is_ours = 0")?,
                people_ours: count(c, "SELECT count(*) FROM people p JOIN organizations o ON o.id = p.org_id WHERE o.is_ours = 1")?,
                people_customers: count(c, "SELECT count(*) FROM people p JOIN organizations o ON o.id = p.org_id WHERE o.is_ours = 0")?,
                account_team: count(c, "SELECT count(*) FROM account_team")?,
                interactions: count(c, "SELECT count(*) FROM interactions")?,
                influences: count(c, "SELECT count(*) FROM influences")?,
                assessments: count(c, "SELECT count(*) FROM assessments")?,
                opportunities: count(c, "SELECT count(*) FROM opportunities")?,
            })
        })
        .await
    }

    async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT o.id, o.name, o.industry, o.region, o.tier, count(p.id), max(p.last_at) \
                 FROM organizations o LEFT JOIN people p ON p.org_id = o.id \
                 WHERE o.is_ours = 0 GROUP BY o.id ORDER BY o.name, o.id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    col::<String>(r, 0)?,
                    col::<String>(r, 1)?,
                    col::<Option<String>>(r, 2)?,
                    col::<Option<String>>(r, 3)?,
                    col::<Option<String>>(r, 4)?,
                    col::<i64>(r, 5)?,
                    col::<Option<i64>>(r, 6)?,
                ))
            })?;
            let mut out = Vec::new();
            for r in rows {
                let (id, name, industry, region, tier, people, last) = r?;
                out.push(AccountSummary {
                    id: parsed(OrgId::try_from(id))?,
                    name,
                    industry,
                    region,
                    tier,
                    people: people as u64,
                    last_interaction: last.map(Timestamp::from_epoch_seconds),
                });
            }
            Ok(out)
        })
        .await
        .map(|mut all: Vec<AccountSummary>| {
            let scope = crate::access::scope();
            all.retain(|a| scope.allows(&a.id));
            all
        })
    }

    async fn account_data(&self, account: &OrgId) -> Result<Option<AccountData>, StoreError> {
        if !crate::access::may_see(account) {
            return Ok(None);
        }
        let account = account.clone();
        self.read(move |c| account_data(c, &account)).await
    }

    async fn plan_state(&self, account: &OrgId) -> Result<PlanState, StoreError> {
        crate::access::require(account)?;
        let account = account.clone();
        self.read(move |c| {
            let mut out = PlanState::default();
            let mut q = c.prepare_cached(
                "SELECT body FROM plan_objectives WHERE account_id = ?1 ORDER BY id",
            )?;
            for b in q.query_map([account.as_str()], |r| r.get::<_, String>(0))? {
                out.objectives.push(from_json(&b?)?);
            }
            let mut q = c.prepare_cached(
                "SELECT body FROM plan_actions WHERE account_id = ?1 ORDER BY id",
            )?;
            for b in q.query_map([account.as_str()], |r| r.get::<_, String>(0))? {
                out.actions.push(from_json(&b?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn save_plan_item(&self, account: &OrgId, item: PlanItem) -> Result<(), StoreError> {
        crate::access::require(account)?;
        let account = account.clone();
        self.write(move |c| {
            if !c.prepare_cached("SELECT 1 FROM organizations WHERE id = ?1 AND is_ours = 0")?.exists([account.as_str()])? {
                return Err(StoreError::NotFound(format!("no customer account with id {account}")));
            }
            let (table, id, body) = match &item {
                PlanItem::Objective(o) => ("plan_objectives", o.id.clone(), to_json(o)?),
                PlanItem::Action(a) => ("plan_actions", a.id.clone(), to_json(a)?),
            };
            c.execute(
                &format!("INSERT INTO {table} (account_id, id, body) VALUES (?1, ?2, ?3) ON CONFLICT (account_id, id) DO UPDATE SET body = excluded.body"),
                params![account.as_str(), id, body],
            )?;
            Ok(())
        })
        .await
    }

    async fn save_snapshot(&self, plan: &AccountPlan) -> Result<(), StoreError> {
        crate::access::require(&plan.account)?;
        let body = to_json(plan)?;
        let (account, at) = (plan.account.clone(), plan.as_of.epoch_seconds());
        self.write(move |c| {
            c.execute(
                "INSERT INTO plan_snapshots (account_id, saved_at, body) VALUES (?1, ?2, ?3) ON CONFLICT (account_id, saved_at) DO UPDATE SET body = excluded.body",
                params![account.as_str(), at, body],
            )?;
            Ok(())
        })
        .await
    }

    async fn opportunity(&self, id: &OpportunityId) -> Result<Option<Opportunity>, StoreError> {
        let id = id.clone();
        let found = self
            .read(move |c| {
                load_opportunities(
                    c,
                    &format!("SELECT {OPP_COLS} FROM opportunities WHERE id = ?1"),
                    &[&id.as_str()],
                )
            })
            .await?;
        Ok(found
            .into_iter()
            .next()
            .filter(|o| crate::access::may_see(&o.account)))
    }

    async fn snapshots(&self, account: &OrgId) -> Result<Vec<AccountPlan>, StoreError> {
        crate::access::require(account)?;
        let account = account.clone();
        self.read(move |c| {
            let mut q = c.prepare_cached(
                "SELECT body FROM plan_snapshots WHERE account_id = ?1 ORDER BY saved_at",
            )?;
            let mut out = Vec::new();
            for b in q.query_map([account.as_str()], |r| r.get::<_, String>(0))? {
                out.push(from_json(&b?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn person(&self, id: &PersonId) -> Result<Option<PersonRecord>, StoreError> {
        let id = id.clone();
        self.read(move |c| {
            let mut people = load_people(
                c,
                &format!("SELECT {PERSON_COLS} FROM people p WHERE p.id = ?1"),
                &[&id.as_str()],
            )?;
            let Some(person) = people.pop() else {
                return Ok(None);
            };
            let (org_name, is_ours) = c.query_row(
                "SELECT name, is_ours FROM organizations WHERE id = ?1",
                [person.org.as_str()],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)),
            )?;
            Ok(Some(PersonRecord {
                person,
                org_name,
                is_ours,
            }))
        })
        .await
        .map(|found: Option<PersonRecord>| {
            found.filter(|r| crate::access::may_see_person(&r.person.org, r.is_ours))
        })
    }

    async fn find_people(
        &self,
        lookups: Vec<PersonLookup>,
    ) -> Result<Vec<Vec<PersonRecord>>, StoreError> {
        let mut found = self.read(move |c| find_people(c, &lookups)).await?;
        for matches in &mut found {
            matches.retain(|r| crate::access::may_see_person(&r.person.org, r.is_ours));
        }
        Ok(found)
    }

    async fn save_token(
        &self,
        name: &str,
        scope: TokenScope,
        hash: &str,
        replace: bool,
    ) -> Result<bool, StoreError> {
        let (name, hash) = (name.to_owned(), hash.to_owned());
        self.write(move |c| {
            let now = chrono::Utc::now().timestamp();
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let live: bool = tx
                .query_row(
                    "SELECT revoked_at IS NULL FROM api_tokens WHERE name = ?1",
                    [&name],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(false);
            if live && !replace {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO api_tokens (name, scope, hash, created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, NULL) \
                 ON CONFLICT (name) DO UPDATE SET scope = excluded.scope, hash = excluded.hash, \
                 created_at = excluded.created_at, revoked_at = NULL, owner = NULL",
                params![name, scope.as_str(), hash, now],
            )?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT name, scope, created_at, owner FROM api_tokens WHERE revoked_at IS NULL ORDER BY name",
            )?;
            let rows = stmt.query_map([], token_from_row)?;
            let mut out = Vec::new();
            for r in rows {
                out.push(make_token(r?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        let name = name.to_owned();
        self.write(move |c| {
            let n = c.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, chrono::Utc::now().timestamp()],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let hash = hash.to_owned();
        self.read(move |c| {
            let row = c
                .prepare_cached(
                    "SELECT name, scope, created_at, owner FROM api_tokens WHERE hash = ?1 AND revoked_at IS NULL",
                )?
                .query_row([&hash], token_from_row)
                .optional()?;
            row.map(make_token).transpose()
        })
        .await
    }

    async fn idempotent_response(
        &self,
        client: &str,
        key: &str,
    ) -> Result<Option<StoredResponse>, StoreError> {
        let (client, key) = (client.to_owned(), key.to_owned());
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT request_hash, status, body FROM idempotency_keys WHERE client = ?1 AND key = ?2",
            )?
            .query_row([&client, &key], |r| {
                Ok(StoredResponse {
                    request_hash: r.get(0)?,
                    status: r.get(1)?,
                    body: r.get(2)?,
                })
            })
            .optional()?)
        })
        .await
    }

    async fn save_idempotent_response(
        &self,
        client: &str,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        let (client, key) = (client.to_owned(), key.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO idempotency_keys (client, key, request_hash, status, body, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    client,
                    key,
                    response.request_hash,
                    response.status,
                    response.body,
                    chrono::Utc::now().timestamp()
                ],
            )?;
            Ok(())
        })
        .await
    }
}

type TokenRow = (String, String, i64, Option<String>);

fn token_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok((col(r, 0)?, col(r, 1)?, col(r, 2)?, col(r, 3)?))
}

fn make_token((name, scope, created_at, owner): TokenRow) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        name,
        scope: scope
            .parse()
            .map_err(|e: String| StoreError::Backend(format!("stored token scope: {e}")))?,
        created_at: Timestamp::from_epoch_seconds(created_at),
        owner,
    })
}

/// A prepared INSERT that binds text without copying it. Bulk writes bind
/// millions of short strings; rusqlite binds each as `SQLITE_TRANSIENT`, so
/// SQLite mallocs and copies every value (and frees the previous one), about
/// a tenth of the CPU of a million-row import. Here text is bound as
/// `SQLITE_STATIC`, which is sound because [`Bulk::exec`] binds, steps,
/// resets and clears the bindings before it returns: SQLite never holds a
/// pointer past the borrow of the values it was given.
mod bulk {
    use std::ffi::{c_char, c_int};
    use std::marker::PhantomData;

    use rusqlite::{Connection, ffi};

    /// One value to bind.
    #[derive(Clone, Copy)]
    pub enum Value<'a> {
        Text(&'a str),
        Int(i64),
        Null,
    }

    impl<'a> From<Option<&'a str>> for Value<'a> {
        fn from(v: Option<&'a str>) -> Self {
            v.map_or(Value::Null, Value::Text)
        }
    }

    pub struct Bulk<'c> {
        db: *mut ffi::sqlite3,
        stmt: *mut ffi::sqlite3_stmt,
        params: usize,
        _conn: PhantomData<&'c Connection>,
    }

    fn error(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
        // SAFETY: `db` is the open handle of the connection this statement
        // borrows; sqlite3_errmsg returns a NUL-terminated string it owns.
        let msg = unsafe {
            std::ffi::CStr::from_ptr(ffi::sqlite3_errmsg(db))
                .to_string_lossy()
                .into_owned()
        };
        rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some(msg))
    }

    impl<'c> Bulk<'c> {
        /// Prepares `sql`, one statement with `?` parameters.
        pub fn prepare(conn: &'c Connection, sql: &str) -> rusqlite::Result<Bulk<'c>> {
            let len = c_int::try_from(sql.len()).map_err(|_| {
                rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_TOOBIG), None)
            })?;
            let mut stmt = std::ptr::null_mut();
            // SAFETY: the handle is open for as long as `conn` is borrowed
            // ('c), and `sql` is valid for `len` bytes during the call.
            let (db, rc) = unsafe {
                let db = conn.handle();
                let rc = ffi::sqlite3_prepare_v2(
                    db,
                    sql.as_ptr().cast::<c_char>(),
                    len,
                    &mut stmt,
                    std::ptr::null_mut(),
                );
                (db, rc)
            };
            if rc != ffi::SQLITE_OK || stmt.is_null() {
                return Err(error(db, rc));
            }
            // SAFETY: `stmt` was just prepared and is not finalized.
            let params = unsafe { ffi::sqlite3_bind_parameter_count(stmt) } as usize;
            Ok(Bulk {
                db,
                stmt,
                params,
                _conn: PhantomData,
            })
        }

        /// Binds `values` to the statement's parameters in order, runs it to
        /// completion and releases the bindings.
        pub fn exec(&mut self, values: &[Value<'_>]) -> rusqlite::Result<()> {
            if values.len() != self.params {
                return Err(rusqlite::Error::InvalidParameterCount(
                    values.len(),
                    self.params,
                ));
            }
            let mut rc = ffi::SQLITE_OK;
            for (k, v) in values.iter().enumerate() {
                let i = (k + 1) as c_int;
                // SAFETY: `stmt` is a live statement of `db`; text is bound
                // as SQLITE_STATIC and stays borrowed (`values`) until the
                // bindings are cleared below, before this function returns.
                rc = unsafe {
                    match *v {
                        Value::Text(s) => match c_int::try_from(s.len()) {
                            Ok(n) => ffi::sqlite3_bind_text(
                                self.stmt,
                                i,
                                s.as_ptr().cast::<c_char>(),
                                n,
                                ffi::SQLITE_STATIC(),
                            ),
                            Err(_) => ffi::SQLITE_TOOBIG,
                        },
                        Value::Int(n) => ffi::sqlite3_bind_int64(self.stmt, i, n),
                        Value::Null => ffi::sqlite3_bind_null(self.stmt, i),
                    }
                };
                if rc != ffi::SQLITE_OK {
                    break;
                }
            }
            // SAFETY: as above; reset and clear_bindings end SQLite's use of
            // the bound text.
            let (rc, err) = unsafe {
                if rc == ffi::SQLITE_OK {
                    rc = ffi::sqlite3_step(self.stmt);
                }
                let err = (rc != ffi::SQLITE_DONE).then(|| error(self.db, rc));
                ffi::sqlite3_reset(self.stmt);
                ffi::sqlite3_clear_bindings(self.stmt);
                (rc, err)
            };
            debug_assert_eq!(err.is_none(), rc == ffi::SQLITE_DONE);
            err.map_or(Ok(()), Err)
        }
    }

    impl Drop for Bulk<'_> {
        fn drop(&mut self) {
            // SAFETY: `stmt` is live and finalized exactly once, here.
            unsafe {
                ffi::sqlite3_finalize(self.stmt);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made before migration 4 gets its interactions filed in
    /// the table that replaces the index, and reads them back by account.
    #[tokio::test]
    async fn migration_4_files_existing_interactions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO organizations (id, name, is_ours) VALUES ('0', 'Us', 1), ('1', 'A', 0), ('2', 'B', 0);
             INSERT INTO people (pk, id, org_id, name, level) VALUES (1, 's', '0', 'S', 4), (2, 'a', '1', 'A', 4), (3, 'b', '2', 'B', 4);
             INSERT INTO interactions (id, kind, at, participants, account_id) VALUES
                 ('i1', 'call', 100, '1,2', '1'), ('i2', 'call', 50, '1,3', '2'),
                 ('i3', 'meeting', 70, '1,2,3', '1'), ('i4', 'call', 80, '1,1', NULL);
             INSERT INTO interaction_accounts (account_id, interaction_id) VALUES ('2', 'i3');",
        )
        .unwrap();
        drop(conn);

        let store = SqliteStore::open(&path).unwrap();
        {
            let conn = store.writer.lock().unwrap();
            let mut q = conn
                .prepare("SELECT account_id, at, interaction_id FROM interactions_by_account ORDER BY 1, 2, 3")
                .unwrap();
            let rows: Vec<(String, i64, String)> = q
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let want = [("1", 70, "i3"), ("1", 100, "i1"), ("2", 50, "i2")]
                .map(|(a, t, i)| (a.to_owned(), t, i.to_owned()));
            assert_eq!(rows, want);
            let index: i64 = conn
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'interactions_account'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(index, 0, "the replaced index is gone");
            let version: i64 = conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .unwrap();
            assert_eq!(version as usize, MIGRATIONS.len());
        }
        let of = |a: &str| OrgId::parse(a).unwrap();
        let ids = |d: AccountData| {
            d.interactions
                .iter()
                .map(|i| i.id.to_string())
                .collect::<Vec<_>>()
        };
        let one = store.account_data(&of("1")).await.unwrap().unwrap();
        assert_eq!(ids(one), ["i3", "i1"]);
        let two = store.account_data(&of("2")).await.unwrap().unwrap();
        assert_eq!(ids(two), ["i2", "i3"]);
    }
}
