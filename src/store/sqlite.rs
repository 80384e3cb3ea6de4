//! The embedded default store: one SQLite file (WAL, `synchronous=FULL`,
//! foreign keys on), schema migrations applied on open. SQLite work runs on
//! blocking threads, one writer and a few readers (WAL lets them overlap).

use std::collections::HashSet;

use rustc_hash::FxHashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
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
use crate::auth::{ApiToken, TokenScope};
use crate::bundle::Bundle;
use crate::import::ImportError;
use crate::ingest::resolve::{Directory, MergeCandidate};
use crate::validate::{self, ExistingOrg, ExistingPerson, ExistingRefs, SourceMap};
use renmai_graph::plan::AccountPlan;

/// Versioned schema: entry `i` brings the schema from version `i` to `i + 1`.
/// Never edit a released entry; append a new one.
mod identity;

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
    identity::MIGRATION,
];

/// Must stay the statement of migration 1, which it rebuilds after bulk loads.
const INTERACTIONS_ACCOUNT_INDEX: &str =
    "CREATE INDEX interactions_account ON interactions (account_id, at);";

/// How many reader connections are kept open between requests.
const MAX_IDLE_READERS: usize = 4;

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
    conn.pragma_update(None, "cache_size", -64_000)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    debug_assert!(MIGRATIONS[0].contains(INTERACTIONS_ACCOUNT_INDEX));
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
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

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
        // Readers serve point lookups (enrichment) under load: a page cache
        // like the writer's and memory-mapped reads save a pread per page.
        conn.pragma_update(None, "cache_size", -64_000)?;
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
            let out = f(&conn);
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

fn write_bundle(
    tx: &Transaction<'_>,
    b: &Bundle,
    progress: &dyn Progress,
) -> Result<ImportSummary, StoreError> {
    let mut s = ImportSummary::default();
    let mut done = 0u64;
    let tick = |n: &mut u64| {
        *n += 1;
        if (*n).is_multiple_of(PROGRESS_STEP) {
            progress.advance(PROGRESS_STEP);
        }
    };

    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO organizations (id, name, industry, region, tier, is_ours, parent_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
        let mut upd = tx.prepare_cached("UPDATE organizations SET name = ?2, industry = ?3, region = ?4, tier = ?5, is_ours = ?6, parent_id = ?7 WHERE id = ?1")?;
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
                    parent
                ],
                &mut s.organizations,
            )?;
            tick(&mut done);
        }
    }
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO people (id, org_id, name, title, department, level, reports_to, role, attitude) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")?;
        let mut upd = tx.prepare_cached("UPDATE people SET org_id = ?2, name = ?3, title = ?4, department = ?5, level = ?6, reports_to = ?7, role = ?8, attitude = ?9 WHERE id = ?1")?;
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
                    p.attitude.map(|a| a.as_str())
                ],
                &mut s.people,
            )?;
            if s.people.existing > before {
                del_emails.execute([p.id.as_str()])?;
                del_ext.execute([p.id.as_str()])?;
            }
            for e in &p.emails {
                ins_email.execute(params![e.as_str(), p.id.as_str()])?;
            }
            for x in &p.external_ids {
                ins_ext.execute(params![x.system, x.id, p.id.as_str()])?;
            }
            tick(&mut done);
        }
    }
    {
        let mut ins = tx.prepare_cached(
            "INSERT OR IGNORE INTO account_team (org_id, person_id, role) VALUES (?1, ?2, ?3)",
        )?;
        let mut upd = tx.prepare_cached(
            "UPDATE account_team SET role = ?3 WHERE org_id = ?1 AND person_id = ?2",
        )?;
        for t in &b.account_team {
            upsert(
                &mut ins,
                &mut upd,
                params![t.org.as_str(), t.person.as_str(), t.role.as_str()],
                &mut s.account_team,
            )?;
            tick(&mut done);
        }
    }
    write_interactions(tx, &b.interactions, &mut s.interactions, &mut || {
        tick(&mut done)
    })?;
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO influences (from_id, to_id, kind, strength) VALUES (?1, ?2, ?3, ?4)")?;
        let mut upd = tx.prepare_cached(
            "UPDATE influences SET kind = ?3, strength = ?4 WHERE from_id = ?1 AND to_id = ?2",
        )?;
        for x in &b.influences {
            upsert(
                &mut ins,
                &mut upd,
                params![
                    x.from.as_str(),
                    x.to.as_str(),
                    x.kind.as_str(),
                    x.strength.get()
                ],
                &mut s.influences,
            )?;
            tick(&mut done);
        }
    }
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO assessments (from_id, to_id, at, level, by_id) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        let mut upd = tx.prepare_cached("UPDATE assessments SET level = ?4, by_id = ?5 WHERE from_id = ?1 AND to_id = ?2 AND at = ?3")?;
        for a in &b.assessments {
            upsert(
                &mut ins,
                &mut upd,
                params![
                    a.from.as_str(),
                    a.to.as_str(),
                    a.at.epoch_seconds(),
                    a.level.get(),
                    a.by.as_ref().map(|p| p.as_str())
                ],
                &mut s.assessments,
            )?;
            tick(&mut done);
        }
    }
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO opportunities (id, account_id, name, amount, stage, status, close_date, owner_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
        let mut upd = tx.prepare_cached("UPDATE opportunities SET account_id = ?2, name = ?3, amount = ?4, stage = ?5, status = ?6, close_date = ?7, owner_id = ?8 WHERE id = ?1")?;
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
                    o.owner.as_ref().map(|p| p.as_str())
                ],
                &mut s.opportunities,
            )?;
            tick(&mut done);
        }
    }
    {
        let mut ins = tx.prepare_cached("INSERT OR IGNORE INTO opportunity_contacts (opportunity_id, person_id, role, attitude, solution_acceptance, price_acceptance, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?;
        let mut upd = tx.prepare_cached("UPDATE opportunity_contacts SET role = ?3, attitude = ?4, solution_acceptance = ?5, price_acceptance = ?6 WHERE opportunity_id = ?1 AND person_id = ?2 AND at = ?7")?;
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
                    c.at.map_or(0, |t| t.epoch_seconds())
                ],
                &mut s.opportunity_contacts,
            )?;
            tick(&mut done);
        }
    }
    progress.advance(done % PROGRESS_STEP);
    Ok(s)
}

/// Writes interactions in id order (so the unique index grows at its end),
/// one statement per interaction: this is what makes a million-row import
/// take seconds.
fn write_interactions(
    tx: &Transaction<'_>,
    interactions: &[Interaction],
    counts: &mut Counts,
    tick: &mut dyn FnMut(),
) -> Result<(), StoreError> {
    /// A participant's pk and, for customers, their account.
    struct Who {
        pk: i64,
        account: Option<String>,
    }
    let mut who: FxHashMap<&PersonId, Who> = FxHashMap::default();
    {
        let mut q = tx.prepare_cached(
            "SELECT p.pk, CASE WHEN o.is_ours THEN NULL ELSE p.org_id END FROM people p JOIN organizations o ON o.id = p.org_id WHERE p.id = ?1",
        )?;
        for i in interactions {
            for p in &i.participants {
                if !who.contains_key(p) {
                    let w = q.query_row([p.as_str()], |r| {
                        Ok(Who {
                            pk: r.get(0)?,
                            account: r.get(1)?,
                        })
                    })?;
                    who.insert(p, w);
                }
            }
        }
    }
    let mut order: Vec<&Interaction> = interactions.iter().collect();
    order.sort_unstable_by(|x, y| x.id.cmp(&y.id));
    // A bulk load into a small table builds the account index once at the
    // end (a sort) instead of a million random inserts into it. DROP and
    // CREATE are part of the transaction, so a crash leaves the old index.
    let stored: i64 = tx.query_row("SELECT count(*) FROM interactions", [], |r| r.get(0))?;
    let rebuild_index = interactions.len() >= 50_000 && (interactions.len() as i64) > stored;
    if rebuild_index {
        tx.execute_batch("DROP INDEX interactions_account")?;
    }

    let mut ins = tx.prepare_cached(
        "INSERT INTO interactions (id, kind, at, participants, account_id) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING",
    )?;
    let mut old_q = tx.prepare_cached("SELECT participants FROM interactions WHERE id = ?1")?;
    let mut upd = tx.prepare_cached(
        "UPDATE interactions SET kind = ?2, at = ?3, participants = ?4, account_id = ?5 WHERE id = ?1",
    )?;
    let mut del_accounts =
        tx.prepare_cached("DELETE FROM interaction_accounts WHERE interaction_id = ?1")?;
    let mut ins_account = tx.prepare_cached(
        "INSERT OR IGNORE INTO interaction_accounts (account_id, interaction_id) VALUES (?1, ?2)",
    )?;
    let mut last_at: FxHashMap<i64, i64> = FxHashMap::default();
    let mut recompute: Vec<i64> = Vec::new();
    let mut parts = String::new();
    let mut accounts: Vec<&str> = Vec::new();
    for i in order {
        let at = i.at.epoch_seconds();
        parts.clear();
        accounts.clear();
        // Initiator first, then the others in the order given.
        let others = i.participants.iter().filter(|p| **p != i.initiator);
        for (n, p) in std::iter::once(&i.initiator).chain(others).enumerate() {
            let w = &who[p];
            if n > 0 {
                parts.push(',');
            }
            let _ = write!(parts, "{}", w.pk);
            if let Some(a) = &w.account
                && !accounts.contains(&a.as_str())
            {
                accounts.push(a);
            }
        }
        let id = i.id.as_str();
        let account = accounts.first().copied();
        if ins.execute(params![id, i.kind.as_str(), at, parts, account])? == 1 {
            counts.new += 1;
        } else {
            counts.existing += 1;
            let old_parts: String = old_q.query_row([id], |r| r.get(0))?;
            if old_parts != parts {
                let now: Vec<i64> = parse_pks(&parts)?;
                recompute.extend(
                    parse_pks(&old_parts)?
                        .into_iter()
                        .filter(|p| !now.contains(p)),
                );
            }
            del_accounts.execute([id])?;
            upd.execute(params![id, i.kind.as_str(), at, parts, account])?;
        }
        for a in accounts.iter().skip(1) {
            ins_account.execute(params![a, id])?;
        }
        for p in &i.participants {
            let e = last_at.entry(who[p].pk).or_insert(at);
            *e = (*e).max(at);
        }
        tick();
    }
    drop((ins, old_q, upd, del_accounts, ins_account));
    if rebuild_index {
        tx.execute_batch(INTERACTIONS_ACCOUNT_INDEX)?;
    }
    let mut upd_last = tx.prepare_cached(
        "UPDATE people SET last_at = max(coalesce(last_at, ?2), ?2) WHERE pk = ?1",
    )?;
    for (p, at) in last_at {
        upd_last.execute(params![p, at])?;
    }
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
    Ok(())
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
        "SELECT i.id, i.kind, i.at, i.participants FROM interactions i WHERE i.id IN ({ids_sql}) ORDER BY i.at, i.id"
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
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (id, account, name, amount, stage, status, close, owner) = r?;
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

const OPP_COLS: &str = "id, account_id, name, amount, stage, status, close_date, owner_id";
const CONTACT_COLS: &str = "c.opportunity_id, c.person_id, c.role, c.attitude, c.solution_acceptance, c.price_acceptance, c.at";

fn count(conn: &Connection, sql: &str) -> Result<u64, StoreError> {
    Ok(conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64)
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
        "SELECT id FROM interactions WHERE account_id = ?1 UNION SELECT interaction_id FROM interaction_accounts WHERE account_id = ?1",
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
        self.write(move |conn| {
            let t0 = std::time::Instant::now();
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let known = resolve_refs(&tx, &bundle)?;
            validate::validate(&bundle, &sources, &known).map_err(ImportError::Invalid)?;
            let t1 = std::time::Instant::now();
            progress.start(bundle.len() as u64, "importing");
            let summary = write_bundle(&tx, &bundle, progress.as_ref())?;
            let t2 = std::time::Instant::now();
            tx.commit()?;
            progress.finish();
            tracing::debug!(validate = ?(t1 - t0), write = ?(t2 - t1), commit = ?t2.elapsed(), "import timings");
            Ok(summary)
        })
        .await
    }

    async fn export(&self) -> Result<Bundle, StoreError> {
        self.read(export_all).await
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
    }

    async fn account_data(&self, account: &OrgId) -> Result<Option<AccountData>, StoreError> {
        let account = account.clone();
        self.read(move |c| account_data(c, &account)).await
    }

    async fn plan_state(&self, account: &OrgId) -> Result<PlanState, StoreError> {
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

    async fn snapshots(&self, account: &OrgId) -> Result<Vec<AccountPlan>, StoreError> {
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
    }

    async fn find_people(
        &self,
        lookups: Vec<PersonLookup>,
    ) -> Result<Vec<Vec<PersonRecord>>, StoreError> {
        self.read(move |c| find_people(c, &lookups)).await
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
                 created_at = excluded.created_at, revoked_at = NULL",
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
                "SELECT name, scope, created_at FROM api_tokens WHERE revoked_at IS NULL ORDER BY name",
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
                    "SELECT name, scope, created_at FROM api_tokens WHERE hash = ?1 AND revoked_at IS NULL",
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

fn token_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64)> {
    Ok((col(r, 0)?, col(r, 1)?, col(r, 2)?))
}

fn make_token((name, scope, created_at): (String, String, i64)) -> Result<ApiToken, StoreError> {
    Ok(ApiToken {
        name,
        scope: scope
            .parse()
            .map_err(|e: String| StoreError::Backend(format!("stored token scope: {e}")))?,
        created_at: Timestamp::from_epoch_seconds(created_at),
    })
}
