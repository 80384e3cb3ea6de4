//! The Neo4j store: the same [`Store`] over the Bolt protocol, for teams
//! that run several app servers against one shared database.
//!
//! Driver choice: `neo4rs` 0.9 (release candidate, pinned exactly) rather
//! than 0.8. 0.8 depends on the unmaintained `backoff` crate (RUSTSEC
//! advisory) for its auto-commit retries; 0.9 replaced it with `backon`,
//! negotiates Bolt up to 5.x (4.4 with ArcadeDB) and has the same query and
//! transaction API. We do not rely on the driver's retries anyway: every
//! write here is an explicit transaction with our own bounded retry, because
//! a driver-retried auto-commit statement can be applied twice (observed on
//! ArcadeDB under deadlocks).
//!
//! Data model. Every record is a node keyed by its own id, with the ids it
//! refers to as indexed properties (no relationships): scoring runs in Rust
//! on one account's slice, so the database only has to answer "everything of
//! account X" and "these ids" by index seeks, which every Bolt server does
//! fast, and upserts stay one `MERGE` per record.
//!
//! | label                | key                  | indexed                  |
//! |----------------------|----------------------|--------------------------|
//! | `Organization`       | `id`                 |                          |
//! | `Person`             | `id`                 | `org_id`                 |
//! | `TeamMember`         | `key` = org, person  | `org_id`                 |
//! | `Interaction`        | `id`                 | `account_id`             |
//! | `InteractionAccount` | `key` = account, id  | `account_id`, `interaction_id` |
//! | `Influence`          | `key` = from, to     | `from_id`                |
//! | `Assessment`         | `key` = from, to, at | `from_id`, `to_id`       |
//! | `Opportunity`        | `id`                 | `account_id`             |
//! | `OpportunityContact` | `key` = opp, person, at | `opportunity_id`         |
//! | `OpportunityStage`   | `key` = opp, at      | `opportunity_id`         |
//!
//! Users, teams, account assignments and sign-in sessions have nodes of
//! their own (see `access`); reads and writes are filtered by the viewer
//! (`crate::access`) in this file's `Store` methods, as in the SQLite store.
//!
//! Interactions are one node per record with the participant ids as a list
//! property (initiator first) and the first customer account they touch as
//! `account_id`, like the SQLite store; the rare interaction that touches
//! several accounts has an `InteractionAccount` node per further account.
//! Times are whole epoch seconds (integers), so nothing depends on how a
//! server stores temporal values.
//!
//! Cypher is kept to what Neo4j 5 and ArcadeDB (Bolt plugin) both accept:
//! `UNWIND`/`MERGE`/`OPTIONAL MATCH`, `IF NOT EXISTS` constraints and indexes,
//! parameters everywhere (labels and property names are constants of this
//! file, never user input).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use neo4rs::{BoltType, ConfigBuilder, Graph, Query, Txn, query};
use renmai_graph::*;
use serde::Deserialize;

use super::{
    AccountSummary, Counts, ImportSummary, MergeReport, PersonLookup, PersonRecord, PlanItem,
    PlanState, Progress, ReviewItem, Stats, Store, StoreError, StoredResponse,
};
use crate::access::{LoginRecord, NewUser, User};
use crate::auth::{ApiToken, TokenScope};
use crate::bundle::Bundle;
use crate::import::ImportError;
use crate::ingest::resolve::MergeCandidate;
use crate::validate::{self, ExistingOrg, ExistingPerson, ExistingRefs, SourceMap};
use renmai_graph::plan::AccountPlan;

/// A map of Bolt values: one row of an `UNWIND $rows` statement.
macro_rules! row {
    ($($k:literal => $v:expr),+ $(,)?) => {{
        let mut r = Row::new();
        $(r.insert($k.to_owned(), $v);)+
        r
    }};
}

/// Runs `$body` (which gets `&mut $txn` and returns `Result<T, Attempt>`)
/// in one explicit transaction, committed only when it succeeds and rerun
/// whole on transient failures, within the store's query timeout.
macro_rules! in_txn {
    ($store:expr, $what:expr, |$txn:ident| $body:expr) => {{
        let store = $store;
        store
            .bounded($what, async {
                let mut attempt = 0;
                loop {
                    let result = async {
                        let mut $txn = store.graph.start_txn().await?;
                        match $body.await {
                            Ok(out) => {
                                $txn.commit().await?;
                                Ok(out)
                            }
                            Err(e) => {
                                let _ = $txn.rollback().await;
                                Err(e)
                            }
                        }
                    }
                    .await;
                    match result {
                        Ok(out) => break Ok(out),
                        Err(Attempt::Driver(e)) if attempt < MAX_ATTEMPTS && retryable(&e) => {
                            attempt += 1;
                            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt)))
                                .await;
                        }
                        Err(Attempt::Driver(e)) => break Err(backend(e)),
                        Err(Attempt::Other(e)) => break Err(e),
                        Err(Attempt::Rejected(e)) => break Err(StoreError::Rejected(e)),
                    }
                }
            })
            .await
    }};
}

mod access;
mod block;
mod deal_support;
mod forget;
mod identity;
mod privacy;
mod service_cases;
mod version;

/// Rows per `UNWIND $rows` statement: big enough to amortize the round trip,
/// small enough that one statement's parameters stay a few hundred KB.
pub const BATCH: usize = 2_000;
/// Attempts of one import when the server reports a transient failure
/// (deadlock, leader switch, lost connection before commit).
pub const MAX_ATTEMPTS: u32 = 5;
/// Connections in the pool of one app server.
const MAX_CONNECTIONS: usize = 16;
/// The driver's own limit on one message's answer: above every bound of
/// ours (a big import's commit can take minutes); ours are tighter.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(900);
/// Default of [`Neo4jSettings::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`Neo4jSettings::query_timeout`].
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Extra time an import may take per record, on top of the query timeout:
/// generous for bulk imports on a loaded server (30,000 records took over
/// 40 s right after a restart at load 14; the medium bundle's 1.1M records
/// about 15 minutes), while an API write of 1,000 records still fails
/// within 20 s when the server hangs.
const IMPORT_TIME_PER_RECORD: Duration = Duration::from_millis(10);
/// Rows fetched per round trip when reading.
const FETCH_SIZE: usize = 5_000;
/// Layout of the stored data that this renmai writes: 1 was the first
/// (issue 6); 2 added name keys and the e-mail / external id nodes that
/// enrichment looks people up by. [`Neo4jStore::connect`] upgrades older data.
const DATA_VERSION: i64 = 2;
/// Separates the parts of a composite key; ids never contain control characters.
const SEP: &str = "\u{1f}";

/// Where the Neo4j store lives and how to log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neo4jSettings {
    /// `bolt://host:7687` or `neo4j://host:7687` (TLS: `bolt+s://`, `neo4j+s://`).
    pub uri: String,
    pub user: String,
    pub password: String,
    /// The database (Neo4j 4+ multi-database); `None` for the server's default.
    pub database: Option<String>,
    /// How long opening the store (connecting, logging in, checking the
    /// schema) may take per step before it fails.
    pub connect_timeout: Duration,
    /// How long one read or small write may take, and the base allowance
    /// of an import, before it fails with [`StoreError::Unavailable`]: a
    /// slow or hung server makes requests fail fast instead of hanging.
    pub query_timeout: Duration,
}

impl Default for Neo4jSettings {
    fn default() -> Self {
        Neo4jSettings {
            uri: "bolt://127.0.0.1:7687".into(),
            user: "neo4j".into(),
            password: String::new(),
            database: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            query_timeout: DEFAULT_QUERY_TIMEOUT,
        }
    }
}

pub struct Neo4jStore {
    graph: Graph,
    location: String,
    query_timeout: Duration,
    /// Account slices served from their packed block (see [`block`]).
    packed_reads: std::sync::atomic::AtomicU64,
    /// Writes by other app servers (see [`version`]); set once connected.
    external: Option<version::ExternalVersion>,
    /// Serializes this server's failed-login counts (see `login_failed`).
    login_writes: tokio::sync::Mutex<()>,
}

/// A URI without user and password, for messages and logs.
fn without_credentials(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let end = rest.find('/').unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => uri.to_owned(),
    }
}

/// Runs `work` for at most `limit`; a server that does not answer by then
/// gives [`StoreError::Unavailable`] naming the server and what waited.
async fn bounded<T>(
    location: &str,
    what: &str,
    limit: Duration,
    work: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r.map_err(|e| naming(e, location)),
        Err(_) => Err(StoreError::Unavailable {
            server: location.to_owned(),
            reason: format!("no answer within {} while {what}", humane(limit)),
        }),
    }
}

/// `e` with the server filled in where it is unnamed.
fn naming(e: StoreError, location: &str) -> StoreError {
    match e {
        StoreError::Unavailable { server, reason } if server.is_empty() => {
            StoreError::Unavailable {
                server: location.to_owned(),
                reason,
            }
        }
        e => e,
    }
}

/// "10 s", "1.5 s", "250 ms".
fn humane(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{} s", (d.as_secs_f64() * 10.0).round() / 10.0)
    }
}

fn backend(e: neo4rs::Error) -> StoreError {
    match &e {
        neo4rs::Error::IOError { .. }
        | neo4rs::Error::ConnectionError
        | neo4rs::Error::ConnectionTimedOut
        | neo4rs::Error::IncompleteBoltExchange => StoreError::Unavailable {
            // Filled in by `bounded` and `import`, which know the server.
            server: String::new(),
            reason: format!(
                "lost the connection to the Neo4j server ({e}); nothing of an unfinished import was committed"
            ),
        },
        _ => StoreError::Backend(format!("Neo4j: {e}")),
    }
}

impl From<neo4rs::Error> for StoreError {
    fn from(e: neo4rs::Error) -> Self {
        backend(e)
    }
}

fn decode(e: neo4rs::DeError) -> StoreError {
    StoreError::Backend(format!("Neo4j returned a value renmai did not expect: {e}"))
}

/// True for failures after which the whole transaction may simply be run
/// again: the server's transient errors and a connection lost mid-way (the
/// server rolls an unfinished transaction back).
fn retryable(e: &neo4rs::Error) -> bool {
    match e {
        // A unique key taken at commit: our writes are MERGEs of keys the
        // bundle holds once, so only a concurrent import can have created it
        // (servers with optimistic concurrency, such as ArcadeDB, report this
        // instead of making the MERGE wait). Rerun, the key is then found.
        neo4rs::Error::Neo4j(n) => {
            n.kind() == neo4rs::Neo4jErrorKind::Transient
                || n.code().contains("DeadlockDetected")
                || n.code().contains("NotALeader")
                || n.code() == "Neo.ClientError.Schema.ConstraintValidationFailed"
        }
        neo4rs::Error::IOError { .. }
        | neo4rs::Error::ConnectionError
        | neo4rs::Error::ConnectionTimedOut
        | neo4rs::Error::IncompleteBoltExchange => true,
        _ => false,
    }
}

/// Every label this store writes.
const LABELS: &[&str] = &[
    "Organization",
    "Person",
    "TeamMember",
    "Interaction",
    "InteractionAccount",
    "Influence",
    "Assessment",
    "Opportunity",
    "OpportunityContact",
    "OpportunityStage",
    "PlanItem",
    "PlanSnapshot",
    "PersonEmail",
    "PersonExternalId",
    "ApiToken",
    "IdempotencyKey",
    "AccountBlock",
    "AccountStamp",
    "WriterMark",
    "IdentityReview",
    "PersonMerge",
    "Import",
    "AuditEntry",
    "ServiceCase",
    "DealSupport",
    "RenmaiSchema",
];

/// Uniqueness constraints on every key and indexes on every reference that
/// reads look up, created if absent.
const SCHEMA: &[&str] = &[
    "CREATE CONSTRAINT renmai_org_id IF NOT EXISTS FOR (n:Organization) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT renmai_person_id IF NOT EXISTS FOR (n:Person) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT renmai_team_key IF NOT EXISTS FOR (n:TeamMember) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT renmai_interaction_id IF NOT EXISTS FOR (n:Interaction) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT renmai_interaction_account_key IF NOT EXISTS FOR (n:InteractionAccount) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT renmai_influence_key IF NOT EXISTS FOR (n:Influence) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT renmai_assessment_key IF NOT EXISTS FOR (n:Assessment) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT renmai_opportunity_id IF NOT EXISTS FOR (n:Opportunity) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT renmai_contact_key IF NOT EXISTS FOR (n:OpportunityContact) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT renmai_stage_key IF NOT EXISTS FOR (n:OpportunityStage) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX renmai_stage_opportunity IF NOT EXISTS FOR (n:OpportunityStage) ON (n.opportunity_id)",
    "CREATE CONSTRAINT renmai_plan_item_key IF NOT EXISTS FOR (n:PlanItem) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT renmai_plan_snapshot_key IF NOT EXISTS FOR (n:PlanSnapshot) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX renmai_plan_item_account IF NOT EXISTS FOR (n:PlanItem) ON (n.account_id)",
    "CREATE INDEX renmai_plan_snapshot_account IF NOT EXISTS FOR (n:PlanSnapshot) ON (n.account_id)",
    "CREATE INDEX renmai_person_org IF NOT EXISTS FOR (n:Person) ON (n.org_id)",
    "CREATE INDEX renmai_team_org IF NOT EXISTS FOR (n:TeamMember) ON (n.org_id)",
    "CREATE INDEX renmai_interaction_account IF NOT EXISTS FOR (n:Interaction) ON (n.account_id)",
    "CREATE INDEX renmai_ia_account IF NOT EXISTS FOR (n:InteractionAccount) ON (n.account_id)",
    "CREATE INDEX renmai_ia_interaction IF NOT EXISTS FOR (n:InteractionAccount) ON (n.interaction_id)",
    "CREATE INDEX renmai_influence_from IF NOT EXISTS FOR (n:Influence) ON (n.from_id)",
    "CREATE INDEX renmai_assessment_from IF NOT EXISTS FOR (n:Assessment) ON (n.from_id)",
    "CREATE INDEX renmai_assessment_to IF NOT EXISTS FOR (n:Assessment) ON (n.to_id)",
    "CREATE INDEX renmai_opportunity_account IF NOT EXISTS FOR (n:Opportunity) ON (n.account_id)",
    "CREATE INDEX renmai_contact_opportunity IF NOT EXISTS FOR (n:OpportunityContact) ON (n.opportunity_id)",
    // The JSON API: enrichment by e-mail, external id or name at a company,
    // bearer tokens by hash, idempotency keys.
    "CREATE CONSTRAINT renmai_email IF NOT EXISTS FOR (n:PersonEmail) REQUIRE n.email IS UNIQUE",
    "CREATE CONSTRAINT renmai_external_id IF NOT EXISTS FOR (n:PersonExternalId) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX renmai_email_person IF NOT EXISTS FOR (n:PersonEmail) ON (n.person_id)",
    "CREATE INDEX renmai_external_id_person IF NOT EXISTS FOR (n:PersonExternalId) ON (n.person_id)",
    "CREATE INDEX renmai_person_name IF NOT EXISTS FOR (n:Person) ON (n.name_key)",
    "CREATE INDEX renmai_org_name IF NOT EXISTS FOR (n:Organization) ON (n.name_key)",
    "CREATE CONSTRAINT renmai_token_name IF NOT EXISTS FOR (n:ApiToken) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT renmai_token_hash IF NOT EXISTS FOR (n:ApiToken) REQUIRE n.hash IS UNIQUE",
    "CREATE CONSTRAINT renmai_idempotency_key IF NOT EXISTS FOR (n:IdempotencyKey) REQUIRE n.key IS UNIQUE",
    // Packed account blocks and the stamps that say whether they are current.
    "CREATE CONSTRAINT renmai_block_key IF NOT EXISTS FOR (n:AccountBlock) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX renmai_block_account IF NOT EXISTS FOR (n:AccountBlock) ON (n.account_id)",
    "CREATE CONSTRAINT renmai_stamp_account IF NOT EXISTS FOR (n:AccountStamp) REQUIRE n.account_id IS UNIQUE",
    // Identity review and merges (undo records).
    "CREATE CONSTRAINT renmai_review_key IF NOT EXISTS FOR (n:IdentityReview) REQUIRE n.key IS UNIQUE",
    "CREATE CONSTRAINT renmai_merge_key IF NOT EXISTS FOR (n:PersonMerge) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX renmai_merge_survivor IF NOT EXISTS FOR (n:PersonMerge) ON (n.survivor_id)",
    "CREATE CONSTRAINT renmai_schema_id IF NOT EXISTS FOR (n:RenmaiSchema) REQUIRE n.id IS UNIQUE",
    // Privacy: provenance of writes, the audit log, retention by time;
    // service cases and deal support (see `privacy`, `service_cases`,
    // `deal_support`).
    "CREATE CONSTRAINT renmai_import_id IF NOT EXISTS FOR (n:Import) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT renmai_audit_seq IF NOT EXISTS FOR (n:AuditEntry) REQUIRE n.seq IS UNIQUE",
    "CREATE INDEX renmai_audit_at IF NOT EXISTS FOR (n:AuditEntry) ON (n.at)",
    "CREATE INDEX renmai_interaction_at IF NOT EXISTS FOR (n:Interaction) ON (n.at)",
    "CREATE CONSTRAINT renmai_service_case_id IF NOT EXISTS FOR (n:ServiceCase) REQUIRE n.case_id IS UNIQUE",
    "CREATE INDEX renmai_service_case_opened IF NOT EXISTS FOR (n:ServiceCase) ON (n.opened)",
    "CREATE CONSTRAINT renmai_deal_support_key IF NOT EXISTS FOR (n:DealSupport) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX renmai_deal_support_opportunity IF NOT EXISTS FOR (n:DealSupport) ON (n.opportunity_id)",
    "CREATE INDEX renmai_deal_support_person IF NOT EXISTS FOR (n:DealSupport) ON (n.person_id)",
];

impl Neo4jStore {
    /// Connects (one pooled `Graph` shared by every request) and makes sure
    /// the constraints and indexes exist.
    pub async fn connect(s: &Neo4jSettings) -> Result<Neo4jStore, StoreError> {
        let uri = without_credentials(&s.uri);
        let location = match &s.database {
            Some(db) => format!("{uri} (database {db})"),
            None => uri,
        };
        let at = location.clone();
        let open_err = move |reason: String| StoreError::Open {
            location: at.clone(),
            reason,
        };
        let mut config = ConfigBuilder::default()
            .uri(s.uri.as_str())
            .user(s.user.as_str())
            .password(s.password.as_str())
            .max_connections(MAX_CONNECTIONS)
            .fetch_size(FETCH_SIZE)
            // neo4rs also uses this as the limit on waiting for any one
            // answer, and committing a big import can take minutes.
            .connection_timeout(RESPONSE_TIMEOUT);
        if let Some(db) = &s.database {
            config = config.db(db.as_str());
        }
        let config = config.build().map_err(|e| open_err(e.to_string()))?;
        let graph = Graph::connect(config).map_err(|e| open_err(e.to_string()))?;
        let store = Neo4jStore {
            graph,
            location,
            query_timeout: s.query_timeout,
            packed_reads: Default::default(),
            external: None,
            login_writes: Default::default(),
        };
        for stmt in SCHEMA.iter().chain(access::SCHEMA) {
            let run = async { Ok(store.graph.run(query(stmt)).await?) };
            bounded(&store.location, "connecting", s.connect_timeout, run)
                .await
                .map_err(|e| match e {
                    StoreError::Unavailable { reason, .. } => open_err(reason),
                    e => open_err(format!("{e} (while creating the schema: {stmt})")),
                })?;
        }
        store
            .upgrade()
            .await
            .map_err(|e| open_err(format!("{e} (while upgrading stored data)")))?;
        let external = version::ExternalVersion::start(store.graph.clone(), s.query_timeout).await;
        Ok(Neo4jStore {
            external: Some(external),
            ..store
        })
    }

    /// Brings data written by an older renmai to [`DATA_VERSION`], in
    /// batches that each commit on their own and are safe to repeat, so an
    /// interrupted upgrade simply continues at the next start.
    async fn upgrade(&self) -> Result<(), StoreError> {
        let version = self
            .count("MATCH (m:RenmaiSchema {id: 'renmai'}) RETURN m.version AS n")
            .await?;
        if version >= DATA_VERSION as u64 {
            return Ok(());
        }
        // 2: name keys and the lookup nodes of enrichment.
        loop {
            #[derive(Deserialize)]
            struct Named {
                id: String,
                name: String,
            }
            let orgs: Vec<Named> = self
                .rows(query(&format!(
                    "MATCH (o:Organization) WHERE o.name_key IS NULL RETURN o.id AS id, o.name AS name LIMIT {BATCH}"
                )))
                .await?;
            if orgs.is_empty() {
                break;
            }
            let rows: Vec<Row> = orgs
                .iter()
                .map(|o| row! { "id" => s(&o.id), "k" => s(&name_key(&o.name)) })
                .collect();
            self.write_one(
                query("UNWIND $rows AS r MATCH (o:Organization {id: r.id}) SET o.name_key = r.k")
                    .param("rows", rows),
            )
            .await?;
        }
        loop {
            let rows: Vec<PersonRow> = self
                .rows(query(&format!(
                    "MATCH (p:Person) WHERE p.name_key IS NULL RETURN {PERSON_RET} LIMIT {BATCH}"
                )))
                .await?;
            if rows.is_empty() {
                break;
            }
            let people = Bundle {
                people: all(rows, PersonRow::into_person)?,
                ..Bundle::default()
            };
            let mut attempt = 0;
            loop {
                let result = async {
                    let mut txn = self.graph.start_txn().await?;
                    write_person_keys(&mut txn, &people).await?;
                    let rows: Vec<Row> = people
                        .people
                        .iter()
                        .map(|p| row! { "id" => s(p.id.as_str()), "k" => s(&name_key(&p.name)) })
                        .collect();
                    txn.run(
                        query("UNWIND $rows AS r MATCH (p:Person {id: r.id}) SET p.name_key = r.k")
                            .param("rows", rows),
                    )
                    .await?;
                    txn.commit().await?;
                    Ok::<_, Attempt>(())
                }
                .await;
                match result {
                    Ok(()) => break,
                    Err(Attempt::Driver(e)) if attempt < MAX_ATTEMPTS && retryable(&e) => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                    }
                    Err(Attempt::Driver(e)) => return Err(backend(e)),
                    Err(Attempt::Other(e)) => return Err(e),
                    Err(Attempt::Rejected(e)) => return Err(StoreError::Rejected(e)),
                }
            }
        }
        self.write_one(
            query("MERGE (m:RenmaiSchema {id: 'renmai'}) SET m.version = $v")
                .param("v", DATA_VERSION),
        )
        .await
    }

    /// Deletes every renmai record (all the labels of this store), batch by
    /// batch. For tests and for starting a migration over; never called by
    /// the app.
    pub async fn clear(&self) -> Result<(), StoreError> {
        for label in LABELS.iter().chain(access::LABELS) {
            let q = format!("MATCH (n:{label}) WITH n LIMIT 5000 DELETE n RETURN count(*) AS n");
            let mut failures = 0;
            loop {
                match self.delete_some(&q).await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if failures < MAX_ATTEMPTS && retryable(&e) => {
                        failures += 1;
                        tokio::time::sleep(Duration::from_millis(200 * u64::from(failures))).await;
                    }
                    Err(e) => return Err(backend(e)),
                }
            }
        }
        Ok(())
    }

    /// One batch of [`Self::clear`] in its own transaction; how many it deleted.
    async fn delete_some(&self, cypher: &str) -> Result<u64, neo4rs::Error> {
        let mut txn = self.graph.start_txn().await?;
        let n = txn_count(&mut txn, query(cypher)).await?;
        txn.commit().await?;
        Ok(n)
    }

    /// Runs a read query and decodes every row. Boxed: neo4rs's futures
    /// are large, and slice reads join many of them, which made the future
    /// of a cold read outgrow a test thread's stack in debug builds.
    fn rows<'a, T: for<'de> Deserialize<'de> + Send + 'a>(
        &'a self,
        q: Query,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<T>, StoreError>> + Send + 'a>>
    {
        Box::pin(self.bounded("reading", async move {
            let mut stream = self.graph.execute(q).await?;
            let mut out = Vec::new();
            while let Some(row) = stream.next().await? {
                out.push(row.to::<T>().map_err(decode)?);
            }
            Ok(out)
        }))
    }

    /// [`bounded`] by the query timeout of this store.
    async fn bounded<T>(
        &self,
        what: &str,
        work: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        bounded(&self.location, what, self.query_timeout, work).await
    }

    async fn count_q(&self, q: Query) -> Result<u64, StoreError> {
        let rows: Vec<CountRow> = self.rows(q).await?;
        Ok(rows.first().map_or(0, |r| r.n.max(0) as u64))
    }

    /// One small write in its own explicit transaction, retried on
    /// transient errors (a MERGE is safe to repeat).
    async fn write_one(&self, q: Query) -> Result<(), StoreError> {
        self.bounded("writing", self.write_one_unbounded(q)).await
    }

    async fn write_one_unbounded(&self, q: Query) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            let result = async {
                let mut txn = self.graph.start_txn().await?;
                txn.run(q.clone()).await?;
                txn.commit().await
            }
            .await;
            match result {
                Ok(()) => return Ok(()),
                Err(e) if attempt < MAX_ATTEMPTS && retryable(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
                Err(e) => return Err(backend(e)),
            }
        }
    }

    /// Like [`Self::write_one`] for a statement that returns a count `n`
    /// (of what it changed); the count of the attempt that committed.
    async fn write_count(&self, q: Query) -> Result<u64, StoreError> {
        self.bounded("writing", self.write_count_unbounded(q)).await
    }

    async fn write_count_unbounded(&self, q: Query) -> Result<u64, StoreError> {
        let mut attempt = 0;
        loop {
            let result = async {
                let mut txn = self.graph.start_txn().await?;
                let n = txn_count(&mut txn, q.clone()).await?;
                txn.commit().await?;
                Ok::<_, neo4rs::Error>(n)
            }
            .await;
            match result {
                Ok(n) => return Ok(n),
                Err(e) if attempt < MAX_ATTEMPTS && retryable(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                }
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn count(&self, cypher: &str) -> Result<u64, StoreError> {
        let rows: Vec<CountRow> = self.rows(query(cypher)).await?;
        Ok(rows.first().map_or(0, |r| r.n.max(0) as u64))
    }

    /// One attempt of an import: one explicit transaction, committed only
    /// when everything is written.
    async fn import_once(
        &self,
        bundle: &Bundle,
        sources: &SourceMap,
        progress: &dyn Progress,
    ) -> Result<ImportSummary, Attempt> {
        let mut txn = self.graph.start_txn().await?;
        let known = resolve_refs(&mut txn, bundle).await?;
        if let Err(errs) = validate::validate(bundle, sources, &known) {
            let _ = txn.rollback().await;
            return Err(Attempt::Rejected(ImportError::Invalid(errs)));
        }
        progress.start(bundle.len() as u64, "importing");
        let p = &sources.provenance;
        let import_id = privacy::begin_import(&mut txn, p).await?;
        let summary = write_bundle(&mut txn, bundle, &known, import_id, progress).await?;
        let existing: u64 = summary.rows().iter().map(|(_, c)| c.existing).sum();
        let detail = format!(
            "{} (write {import_id}): {} new, {existing} already stored",
            p.source,
            summary.new_records()
        );
        privacy::audit(&mut txn, &p.actor, "import", &detail).await?;
        txn.commit().await?;
        progress.finish();
        Ok(summary)
    }
}

/// Why one import attempt failed.
enum Attempt {
    Rejected(ImportError),
    Driver(neo4rs::Error),
    Other(StoreError),
}

impl From<neo4rs::Error> for Attempt {
    fn from(e: neo4rs::Error) -> Self {
        Attempt::Driver(e)
    }
}
impl From<StoreError> for Attempt {
    fn from(e: StoreError) -> Self {
        Attempt::Other(e)
    }
}

#[derive(Deserialize)]
struct CountRow {
    n: i64,
}

/// A plan item or snapshot: a JSON body (with its kind, for items).
#[derive(Deserialize)]
struct BodyRow {
    kind: Option<String>,
    body: String,
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encoding: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Backend(format!("stored plan data does not decode: {e}")))
}

// ---- writes ----

type Row = HashMap<String, BoltType>;

fn s(v: &str) -> BoltType {
    BoltType::from(v)
}
fn opt_s(v: Option<&str>) -> BoltType {
    v.map_or(BoltType::Null(neo4rs::BoltNull), s)
}
fn int(v: i64) -> BoltType {
    BoltType::from(v)
}
fn list(v: Vec<String>) -> BoltType {
    BoltType::from(v)
}

/// Runs `cypher` (which must `RETURN` a count named `n`) in the transaction.
async fn txn_count(txn: &mut Txn, q: Query) -> Result<u64, neo4rs::Error> {
    let mut stream = txn.execute(q).await?;
    let mut n = 0;
    while let Some(row) = stream.next(txn.handle()).await? {
        n = row.get::<i64>("n").unwrap_or(0).max(0) as u64;
    }
    Ok(n)
}

/// Upserts `items` into nodes of `label` keyed by `key`, setting `fields`,
/// in batches of [`BATCH`]; counts records that were already stored.
///
/// Rows are built one batch at a time from the bundle (`to_row`), so the
/// client holds one batch of Bolt values, not a copy of the whole bundle:
/// a medium import (1M interactions) otherwise peaked at ~2 GB.
#[allow(clippy::too_many_arguments)]
async fn upsert<T>(
    txn: &mut Txn,
    import_id: i64,
    label: &str,
    key: &str,
    fields: &[&str],
    items: &[T],
    mut to_row: impl FnMut(&T) -> Result<Row, StoreError>,
    counts: &mut Counts,
    progress: &dyn Progress,
) -> Result<(), Attempt> {
    if items.is_empty() {
        return Ok(());
    }
    let mut sets: Vec<String> = fields.iter().map(|f| format!("n.{f} = r.{f}")).collect();
    // Provenance: the write that last stored the record.
    sets.push("n.import_id = $import_id".into());
    let cypher = format!(
        "UNWIND $rows AS r \
         OPTIONAL MATCH (old:{label} {{{key}: r.{key}}}) \
         WITH r, old IS NOT NULL AS existed \
         MERGE (n:{label} {{{key}: r.{key}}}) SET {} \
         RETURN sum(CASE WHEN existed THEN 1 ELSE 0 END) AS n",
        sets.join(", ")
    );
    for chunk in items.chunks(BATCH) {
        let batch = chunk
            .iter()
            .map(&mut to_row)
            .collect::<Result<Vec<Row>, _>>()?;
        let len = batch.len() as u64;
        let existing = txn_count(
            txn,
            query(&cypher)
                .param("rows", BoltType::from(batch))
                .param("import_id", import_id),
        )
        .await?;
        counts.existing += existing;
        counts.new += len - existing.min(len);
        progress.advance(len);
    }
    Ok(())
}

/// What enrichment compares names by: SQLite's `COLLATE NOCASE`, which
/// folds ASCII letters only, so both stores match the same names.
fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

fn key(parts: &[&str]) -> String {
    parts.join(SEP)
}

/// Looks up the stored records a bundle refers to until nothing more is
/// wanted, as the SQLite store does, so validation errors are identical.
async fn resolve_refs(txn: &mut Txn, bundle: &Bundle) -> Result<ExistingRefs, Attempt> {
    #[derive(Deserialize)]
    struct OrgRef {
        id: String,
        parent_id: Option<String>,
        is_ours: bool,
    }
    #[derive(Deserialize)]
    struct PersonRef {
        id: String,
        org_id: String,
        reports_to: Option<String>,
    }
    #[derive(Deserialize)]
    struct IdRow {
        id: String,
    }
    let mut known = ExistingRefs::default();
    // Opportunities found missing: `ExistingRefs` has no set for them, so
    // they are remembered here and not asked for again.
    let mut asked_opps: HashSet<OpportunityId> = HashSet::new();
    loop {
        let mut w = validate::wanted(bundle, &known);
        w.opportunities.retain(|o| !asked_opps.contains(o));
        if w.is_empty() {
            return Ok(known);
        }
        if !w.orgs.is_empty() {
            let ids: Vec<String> = w.orgs.iter().map(|o| o.as_str().to_owned()).collect();
            let q = query("UNWIND $ids AS id MATCH (o:Organization {id: id}) RETURN o.id AS id, o.parent_id AS parent_id, o.is_ours AS is_ours")
                .param("ids", ids);
            let found: Vec<OrgRef> = txn_rows(txn, q).await?;
            let mut seen = HashSet::new();
            for r in found {
                let id = parsed(OrgId::try_from(r.id))?;
                let parent = opt_parsed(r.parent_id, OrgId::parse)?;
                seen.insert(id.clone());
                known.orgs.insert(
                    id,
                    ExistingOrg {
                        parent,
                        is_ours: r.is_ours,
                    },
                );
            }
            for id in w.orgs {
                if !seen.contains(&id) {
                    known.missing_orgs.insert(id);
                }
            }
        }
        if !w.people.is_empty() {
            let ids: Vec<String> = w.people.iter().map(|o| o.as_str().to_owned()).collect();
            let q = query("UNWIND $ids AS id MATCH (p:Person {id: id}) RETURN p.id AS id, p.org_id AS org_id, p.reports_to AS reports_to")
                .param("ids", ids);
            let found: Vec<PersonRef> = txn_rows(txn, q).await?;
            let mut seen = HashSet::new();
            for r in found {
                let id = parsed(PersonId::try_from(r.id))?;
                seen.insert(id.clone());
                known.people.insert(
                    id,
                    ExistingPerson {
                        org: parsed(OrgId::try_from(r.org_id))?,
                        reports_to: opt_parsed(r.reports_to, PersonId::parse)?,
                    },
                );
            }
            for id in w.people {
                if !seen.contains(&id) {
                    known.missing_people.insert(id);
                }
            }
        }
        if !w.opportunities.is_empty() {
            let ids: Vec<String> = w
                .opportunities
                .iter()
                .map(|o| o.as_str().to_owned())
                .collect();
            let q = query("UNWIND $ids AS id MATCH (o:Opportunity {id: id}) RETURN o.id AS id")
                .param("ids", ids);
            let found: Vec<IdRow> = txn_rows(txn, q).await?;
            for r in found {
                known
                    .opportunities
                    .insert(parsed(OpportunityId::try_from(r.id))?);
            }
            asked_opps.extend(w.opportunities);
        }
    }
}

async fn txn_rows<T: for<'de> Deserialize<'de>>(
    txn: &mut Txn,
    q: Query,
) -> Result<Vec<T>, Attempt> {
    let mut stream = txn.execute(q).await?;
    let mut out = Vec::new();
    while let Some(row) = stream.next(txn.handle()).await? {
        out.push(row.to::<T>().map_err(decode)?);
    }
    Ok(out)
}

async fn write_bundle(
    txn: &mut Txn,
    b: &Bundle,
    known: &ExistingRefs,
    import_id: i64,
    progress: &dyn Progress,
) -> Result<ImportSummary, Attempt> {
    let mut sum = ImportSummary::default();

    upsert(
        txn,
        import_id,
        "Organization",
        "id",
        &[
            "name",
            "name_key",
            "industry",
            "region",
            "tier",
            "is_ours",
            "parent_id",
        ],
        &b.organizations,
        |o| {
            Ok(row! {
                "id" => s(o.id.as_str()),
                "name" => s(&o.name),
                "name_key" => s(&name_key(&o.name)),
                "industry" => opt_s(o.industry.as_deref()),
                "region" => opt_s(o.region.as_deref()),
                "tier" => opt_s(o.tier.as_deref()),
                "is_ours" => BoltType::from(o.is_ours),
                "parent_id" => opt_s(o.parent.as_ref().map(|p| p.as_str())),
            })
        },
        &mut sum.organizations,
        progress,
    )
    .await?;

    upsert(
        txn,
        import_id,
        "Person",
        "id",
        PERSON_FIELDS,
        &b.people,
        |p| Ok(person_row(p)),
        &mut sum.people,
        progress,
    )
    .await?;
    write_person_keys(txn, b).await?;

    upsert(
        txn,
        import_id,
        "TeamMember",
        "key",
        TEAM_FIELDS,
        &b.account_team,
        |t| Ok(team_row(t)),
        &mut sum.account_team,
        progress,
    )
    .await?;

    // What the write changes, for the packed blocks: a bundle of
    // interactions and assessments only stamps the accounts it touches
    // (before and after), anything else stamps every account.
    let narrow = b.organizations.is_empty()
        && b.people.is_empty()
        && b.account_team.is_empty()
        && b.influences.is_empty()
        && b.opportunities.is_empty()
        && b.opportunity_contacts.is_empty();
    let mut touched: HashSet<String> = HashSet::new();
    let mut everything = !narrow;
    if narrow {
        touched.extend(stored_accounts_of(txn, &b.interactions).await?);
        for a in &b.assessments {
            for p in [&a.from, &a.to] {
                match known.people.get(p) {
                    Some(e) => {
                        touched.insert(e.org.as_str().to_owned());
                    }
                    None => everything = true,
                }
            }
        }
    }
    write_interactions(
        txn,
        b,
        known,
        import_id,
        &mut sum.interactions,
        &mut touched,
        progress,
    )
    .await?;
    if !b.is_empty() {
        block::touch(txn, &touched, everything).await?;
    }

    upsert(
        txn,
        import_id,
        "Influence",
        "key",
        INFLUENCE_FIELDS,
        &b.influences,
        |x| Ok(influence_row(x)),
        &mut sum.influences,
        progress,
    )
    .await?;

    upsert(
        txn,
        import_id,
        "Assessment",
        "key",
        ASSESSMENT_FIELDS,
        &b.assessments,
        |a| Ok(assessment_row(a)),
        &mut sum.assessments,
        progress,
    )
    .await?;

    upsert(
        txn,
        import_id,
        "Opportunity",
        "id",
        &[
            "account_id",
            "name",
            "amount",
            "stage",
            "status",
            "close_date",
            "owner_id",
            "competitors",
        ],
        &b.opportunities,
        |o| {
            Ok(row! {
                "id" => s(o.id.as_str()),
                "account_id" => s(o.account.as_str()),
                "name" => s(&o.name),
                "amount" => o.amount.map_or(BoltType::Null(neo4rs::BoltNull), BoltType::from),
                "stage" => opt_s(o.stage.as_deref()),
                "status" => s(o.status.as_str()),
                "close_date" => opt_s(o.close_date.map(|d| d.to_string()).as_deref()),
                "owner_id" => opt_s(o.owner.as_ref().map(|p| p.as_str())),
                "competitors" => list(o.competitors.clone()),
            })
        },
        &mut sum.opportunities,
        progress,
    )
    .await?;

    upsert(
        txn,
        import_id,
        "OpportunityContact",
        "key",
        CONTACT_FIELDS,
        &b.opportunity_contacts,
        |c| Ok(contact_row(c)),
        &mut sum.opportunity_contacts,
        progress,
    )
    .await?;

    upsert(
        txn,
        import_id,
        "OpportunityStage",
        "key",
        &["opportunity_id", "at", "stage"],
        &b.opportunity_stages,
        |x| {
            Ok(row! {
                "key" => s(&key(&[x.opportunity.as_str(), &x.at.epoch_seconds().to_string()])),
                "opportunity_id" => s(x.opportunity.as_str()),
                "at" => int(x.at.epoch_seconds()),
                "stage" => s(&x.stage),
            })
        },
        &mut sum.opportunity_stages,
        progress,
    )
    .await?;
    Ok(sum)
}

/// The stored properties of a person (and their key).
fn person_row(p: &Person) -> Row {
    let (emails, exts) = person_keys(p);
    row! {
        "id" => s(p.id.as_str()),
        "org_id" => s(p.org.as_str()),
        "name" => s(&p.name),
        "name_key" => s(&name_key(&p.name)),
        "title" => opt_s(p.title.as_deref()),
        "department" => opt_s(p.department.as_deref()),
        "level" => int(i64::from(p.level.get())),
        "reports_to" => opt_s(p.reports_to.as_ref().map(|m| m.as_str())),
        "role" => opt_s(p.role.map(|r| r.as_str())),
        "attitude" => opt_s(p.attitude.map(|a| a.as_str())),
        "emails" => list(emails),
        "external_ids" => list(exts),
        "phones" => list(p.phones.iter().map(PersonPhone::tagged).collect()),
    }
}
const PERSON_FIELDS: &[&str] = &[
    "org_id",
    "name",
    "name_key",
    "title",
    "department",
    "level",
    "reports_to",
    "role",
    "attitude",
    "emails",
    "external_ids",
    "phones",
];

fn team_key(t: &TeamMember) -> String {
    key(&[t.org.as_str(), t.person.as_str()])
}
fn team_row(t: &TeamMember) -> Row {
    row! {
        "key" => s(&team_key(t)),
        "org_id" => s(t.org.as_str()),
        "person_id" => s(t.person.as_str()),
        "role" => s(t.role.as_str()),
    }
}
const TEAM_FIELDS: &[&str] = &["org_id", "person_id", "role"];

fn influence_key(x: &Influence) -> String {
    key(&[x.from.as_str(), x.to.as_str()])
}
fn influence_row(x: &Influence) -> Row {
    row! {
        "key" => s(&influence_key(x)),
        "from_id" => s(x.from.as_str()),
        "to_id" => s(x.to.as_str()),
        "kind" => s(x.kind.as_str()),
        "strength" => BoltType::from(x.strength.get()),
    }
}
const INFLUENCE_FIELDS: &[&str] = &["from_id", "to_id", "kind", "strength"];

fn assessment_key(a: &Assessment) -> String {
    key(&[
        a.from.as_str(),
        a.to.as_str(),
        &a.at.epoch_seconds().to_string(),
    ])
}
fn assessment_row(a: &Assessment) -> Row {
    row! {
        "key" => s(&assessment_key(a)),
        "from_id" => s(a.from.as_str()),
        "to_id" => s(a.to.as_str()),
        "at" => int(a.at.epoch_seconds()),
        "level" => int(i64::from(a.level.get())),
        "by_id" => opt_s(a.by.as_ref().map(|p| p.as_str())),
    }
}
const ASSESSMENT_FIELDS: &[&str] = &["from_id", "to_id", "at", "level", "by_id"];

fn contact_key(c: &OpportunityContact) -> String {
    key(&[
        c.opportunity.as_str(),
        c.person.as_str(),
        &c.at.map_or(0, |t| t.epoch_seconds()).to_string(),
    ])
}
fn contact_row(c: &OpportunityContact) -> Row {
    let opt_i = |v: Option<i64>| v.map_or(BoltType::Null(neo4rs::BoltNull), int);
    row! {
        "key" => s(&contact_key(c)),
        "opportunity_id" => s(c.opportunity.as_str()),
        "person_id" => s(c.person.as_str()),
        "role" => opt_s(c.role.map(|r| r.as_str())),
        "attitude" => opt_s(c.attitude.map(|a| a.as_str())),
        "solution_acceptance" => opt_i(c.solution_acceptance.map(|a| i64::from(a.get()))),
        "price_acceptance" => opt_i(c.price_acceptance.map(|a| i64::from(a.get()))),
        "at" => opt_i(c.at.map(|t| t.epoch_seconds())),
    }
}
const CONTACT_FIELDS: &[&str] = &[
    "opportunity_id",
    "person_id",
    "role",
    "attitude",
    "solution_acceptance",
    "price_acceptance",
    "at",
];

/// A person's e-mail addresses and external ids (`system:id`) as stored:
/// sorted, without duplicates.
fn person_keys(p: &Person) -> (Vec<String>, Vec<String>) {
    let mut emails: Vec<String> = p.emails.iter().map(|e| e.as_str().to_owned()).collect();
    emails.sort();
    emails.dedup();
    let mut exts: Vec<String> = p.external_ids.iter().map(|x| x.to_string()).collect();
    exts.sort();
    exts.dedup();
    (emails, exts)
}

/// Keeps the lookup nodes of enrichment (`PersonEmail`, `PersonExternalId`,
/// one per address or id, unique) in step with the bundle's people, as the
/// SQLite store keeps its `person_emails` and `person_external_ids` rows: a
/// person's keys are exactly those of their latest import, and a key given
/// to someone in this import is taken from whoever had it (who loses it from
/// their `emails`/`external_ids` list too).
async fn write_person_keys(txn: &mut Txn, b: &Bundle) -> Result<(), Attempt> {
    #[derive(Deserialize)]
    struct Owner {
        k: String,
        person_id: String,
    }
    if b.people.is_empty() {
        return Ok(());
    }
    let keyed: Vec<(&Person, Vec<String>, Vec<String>)> = b
        .people
        .iter()
        .map(|p| {
            let (e, x) = person_keys(p);
            (p, e, x)
        })
        .collect();
    let any_new = keyed.iter().any(|(_, e, x)| !e.is_empty() || !x.is_empty());
    // Nothing to give and nothing stored that could be taken away: the
    // common bulk case (no e-mails in the data) costs one query.
    if !any_new {
        let emails = txn_count(
            txn,
            query("MATCH (x:PersonEmail) WITH x LIMIT 1 RETURN count(x) AS n"),
        )
        .await?;
        let exts = txn_count(
            txn,
            query("MATCH (x:PersonExternalId) WITH x LIMIT 1 RETURN count(x) AS n"),
        )
        .await?;
        if emails + exts == 0 {
            return Ok(());
        }
    }
    let in_bundle: HashSet<&str> = b.people.iter().map(|p| p.id.as_str()).collect();
    for chunk in keyed.chunks(BATCH) {
        // Former owners outside the bundle lose the keys given here.
        let emails: Vec<String> = chunk.iter().flat_map(|c| c.1.iter().cloned()).collect();
        let exts: Vec<String> = chunk.iter().flat_map(|c| c.2.iter().cloned()).collect();
        let mut losers: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
        if !emails.is_empty() {
            let q = query("UNWIND $keys AS k MATCH (x:PersonEmail {email: k}) RETURN x.email AS k, x.person_id AS person_id")
                .param("keys", emails);
            for o in txn_rows::<Owner>(txn, q).await? {
                if !in_bundle.contains(o.person_id.as_str()) {
                    losers.entry(o.person_id).or_default().0.push(o.k);
                }
            }
        }
        if !exts.is_empty() {
            let q = query("UNWIND $keys AS k MATCH (x:PersonExternalId {key: k}) RETURN x.key AS k, x.person_id AS person_id")
                .param("keys", exts);
            for o in txn_rows::<Owner>(txn, q).await? {
                if !in_bundle.contains(o.person_id.as_str()) {
                    losers.entry(o.person_id).or_default().1.push(o.k);
                }
            }
        }
        if !losers.is_empty() {
            let rows: Vec<Row> = losers
                .into_iter()
                .map(|(id, (e, x))| row! { "id" => s(&id), "emails" => list(e), "exts" => list(x) })
                .collect();
            txn.run(
                query(
                    "UNWIND $rows AS r MATCH (o:Person {id: r.id}) \
                     SET o.emails = [e IN coalesce(o.emails, []) WHERE NOT e IN r.emails], \
                         o.external_ids = [x IN coalesce(o.external_ids, []) WHERE NOT x IN r.exts]",
                )
                .param("rows", rows),
            )
            .await?;
        }
        // Keys these people no longer have, then the ones they have.
        let rows: Vec<Row> = chunk
            .iter()
            .map(|(p, e, x)| row! { "id" => s(p.id.as_str()), "emails" => list(e.clone()), "exts" => list(x.clone()) })
            .collect();
        txn.run(
            query("UNWIND $rows AS r MATCH (x:PersonEmail {person_id: r.id}) WHERE NOT x.email IN r.emails DELETE x")
                .param("rows", rows.clone()),
        )
        .await?;
        txn.run(
            query("UNWIND $rows AS r MATCH (x:PersonExternalId {person_id: r.id}) WHERE NOT x.key IN r.exts DELETE x")
                .param("rows", rows),
        )
        .await?;
        let pairs = |email: bool| -> Vec<Row> {
            chunk
                .iter()
                .flat_map(|(p, e, x)| {
                    let keys = if email { e } else { x };
                    keys.iter()
                        .map(|k| row! { "k" => s(k), "person_id" => s(p.id.as_str()) })
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let (emails, exts) = (pairs(true), pairs(false));
        if !emails.is_empty() {
            txn.run(
                query("UNWIND $rows AS r MERGE (x:PersonEmail {email: r.k}) SET x.person_id = r.person_id")
                    .param("rows", emails),
            )
            .await?;
        }
        if !exts.is_empty() {
            txn.run(
                query("UNWIND $rows AS r MERGE (x:PersonExternalId {key: r.k}) SET x.person_id = r.person_id")
                    .param("rows", exts),
            )
            .await?;
        }
    }
    Ok(())
}

/// The accounts the stored versions of `interactions` (if any) touch: an
/// edited interaction leaves them.
async fn stored_accounts_of(
    txn: &mut Txn,
    interactions: &[Interaction],
) -> Result<HashSet<String>, Attempt> {
    #[derive(Deserialize)]
    struct AccountRow {
        a: Option<String>,
    }
    let mut out = HashSet::new();
    for chunk in interactions.chunks(BATCH) {
        let ids: Vec<String> = chunk.iter().map(|i| i.id.as_str().to_owned()).collect();
        let direct: Vec<AccountRow> = txn_rows(
            txn,
            query("UNWIND $ids AS id MATCH (i:Interaction {id: id}) RETURN i.account_id AS a")
                .param("ids", ids.clone()),
        )
        .await?;
        let via: Vec<AccountRow> = txn_rows(
            txn,
            query("UNWIND $ids AS id MATCH (x:InteractionAccount {interaction_id: id}) RETURN x.account_id AS a")
                .param("ids", ids),
        )
        .await?;
        out.extend(direct.into_iter().chain(via).filter_map(|r| r.a));
    }
    Ok(out)
}

/// Writes interactions with their customer accounts, computed from the
/// participants' organizations (the bundle's or the stored ones that
/// validation already fetched).
async fn write_interactions(
    txn: &mut Txn,
    b: &Bundle,
    known: &ExistingRefs,
    import_id: i64,
    counts: &mut Counts,
    touched: &mut HashSet<String>,
    progress: &dyn Progress,
) -> Result<(), Attempt> {
    if b.interactions.is_empty() {
        return Ok(());
    }
    let bundle_orgs: HashMap<&OrgId, bool> =
        b.organizations.iter().map(|o| (&o.id, o.is_ours)).collect();
    let bundle_people: HashMap<&PersonId, &OrgId> =
        b.people.iter().map(|p| (&p.id, &p.org)).collect();
    let account_of = |p: &PersonId| -> Result<Option<&OrgId>, StoreError> {
        let org = bundle_people
            .get(p)
            .copied()
            .or_else(|| known.people.get(p).map(|e| &e.org))
            .ok_or_else(|| StoreError::Backend(format!("participant {p} was not resolved")))?;
        let ours = bundle_orgs
            .get(org)
            .copied()
            .or_else(|| known.orgs.get(org).map(|e| e.is_ours))
            .ok_or_else(|| StoreError::Backend(format!("organization {org} was not resolved")))?;
        Ok((!ours).then_some(org))
    };

    // The rare further accounts are collected while the rows are built.
    let mut extra: Vec<(String, String, i64)> = Vec::new();
    upsert(
        txn,
        import_id,
        "Interaction",
        "id",
        &["kind", "at", "participants", "account_id", "in_reply_to"],
        &b.interactions,
        |i| {
            let others = i.participants.iter().filter(|p| **p != i.initiator);
            let mut parts = Vec::with_capacity(i.participants.len());
            let mut accounts: Vec<&OrgId> = Vec::new();
            for p in std::iter::once(&i.initiator).chain(others) {
                parts.push(p.as_str().to_owned());
                if let Some(a) = account_of(p)?
                    && !accounts.contains(&a)
                {
                    accounts.push(a);
                }
            }
            touched.extend(accounts.iter().map(|a| a.as_str().to_owned()));
            for a in accounts.iter().skip(1) {
                extra.push((
                    a.as_str().to_owned(),
                    i.id.as_str().to_owned(),
                    i.at.epoch_seconds(),
                ));
            }
            Ok(row! {
                "id" => s(i.id.as_str()),
                "kind" => s(i.kind.as_str()),
                "at" => int(i.at.epoch_seconds()),
                "participants" => list(parts),
                "account_id" => opt_s(accounts.first().map(|a| a.as_str())),
                "in_reply_to" => opt_s(i.in_reply_to.as_ref().map(|r| r.as_str())),
            })
        },
        counts,
        progress,
    )
    .await?;
    // An edited interaction may touch other accounts than before: its extra
    // accounts are replaced (only updated records can have stale ones).
    if counts.existing > 0 {
        for chunk in b.interactions.chunks(BATCH) {
            let ids: Vec<String> = chunk.iter().map(|i| i.id.as_str().to_owned()).collect();
            txn.run(
                query(
                    "UNWIND $ids AS id MATCH (x:InteractionAccount {interaction_id: id}) DELETE x",
                )
                .param("ids", ids),
            )
            .await?;
        }
    }
    let mut ignored = Counts::default();
    upsert(
        txn,
        import_id,
        "InteractionAccount",
        "key",
        &["account_id", "interaction_id", "at"],
        &extra,
        |(account, id, at)| {
            Ok(row! {
                "key" => s(&key(&[account, id])),
                "account_id" => s(account),
                "interaction_id" => s(id),
                "at" => int(*at),
            })
        },
        &mut ignored,
        &super::NoProgress,
    )
    .await?;
    Ok(())
}

// ---- reads ----

fn corrupt(e: ModelError) -> StoreError {
    StoreError::Backend(format!("stored data does not pass validation: {e}"))
}
fn parsed<T>(v: Result<T, ModelError>) -> Result<T, StoreError> {
    v.map_err(corrupt)
}
fn opt_parsed<T>(
    v: Option<String>,
    f: impl Fn(&str) -> Result<T, ModelError>,
) -> Result<Option<T>, StoreError> {
    v.map(|s| f(&s)).transpose().map_err(corrupt)
}
fn small(v: i64, what: &str) -> Result<u8, StoreError> {
    u8::try_from(v).map_err(|_| StoreError::Backend(format!("stored {what} {v} is out of range")))
}

const ORG_RET: &str = "o.id AS id, o.name AS name, o.industry AS industry, o.region AS region, o.tier AS tier, o.is_ours AS is_ours, o.parent_id AS parent_id";

#[derive(Deserialize)]
struct OrgRow {
    id: String,
    name: String,
    industry: Option<String>,
    region: Option<String>,
    tier: Option<String>,
    is_ours: bool,
    parent_id: Option<String>,
}

impl OrgRow {
    fn into_org(self) -> Result<Organization, StoreError> {
        Ok(Organization {
            id: parsed(OrgId::try_from(self.id))?,
            name: self.name,
            industry: self.industry,
            region: self.region,
            tier: self.tier,
            is_ours: self.is_ours,
            parent: opt_parsed(self.parent_id, OrgId::parse)?,
        })
    }
}

const PERSON_RET: &str = "p.id AS id, p.org_id AS org_id, p.name AS name, p.title AS title, p.department AS department, p.level AS level, p.reports_to AS reports_to, p.role AS role, p.attitude AS attitude, p.emails AS emails, p.external_ids AS external_ids, p.phones AS phones";

#[derive(Deserialize)]
struct PersonRow {
    id: String,
    org_id: String,
    name: String,
    title: Option<String>,
    department: Option<String>,
    level: i64,
    reports_to: Option<String>,
    role: Option<String>,
    attitude: Option<String>,
    emails: Option<Vec<String>>,
    external_ids: Option<Vec<String>>,
    #[serde(default)]
    phones: Option<Vec<String>>,
}

impl PersonRow {
    fn into_person(self) -> Result<Person, StoreError> {
        let mut emails = Vec::new();
        for e in self.emails.unwrap_or_default() {
            emails.push(parsed(Email::parse(&e))?);
        }
        emails.sort();
        let mut external_ids = Vec::new();
        for x in self.external_ids.unwrap_or_default() {
            let (system, id) = x.split_once(':').ok_or_else(|| {
                StoreError::Backend(format!("stored external id {x:?} has no system"))
            })?;
            external_ids.push(ExternalId {
                system: system.to_owned(),
                id: id.to_owned(),
            });
        }
        external_ids.sort();
        let mut phones = Vec::new();
        for x in self.phones.unwrap_or_default() {
            phones.push(parsed(PersonPhone::parse_tagged(&x))?);
        }
        phones.sort();
        Ok(Person {
            id: parsed(PersonId::try_from(self.id))?,
            org: parsed(OrgId::try_from(self.org_id))?,
            name: self.name,
            title: self.title,
            department: self.department,
            level: parsed(Level::new(small(self.level, "level")?))?,
            emails,
            external_ids,
            phones,
            reports_to: opt_parsed(self.reports_to, PersonId::parse)?,
            role: opt_parsed(self.role, BuyingRole::parse)?,
            attitude: opt_parsed(self.attitude, Attitude::parse)?,
        })
    }
}

const INTERACTION_RET: &str = "i.id AS id, i.kind AS kind, i.at AS at, i.participants AS participants, i.in_reply_to AS in_reply_to";

#[derive(Deserialize)]
struct InteractionRow {
    id: String,
    kind: String,
    at: i64,
    participants: Vec<String>,
    #[serde(default)]
    in_reply_to: Option<String>,
}

impl InteractionRow {
    fn into_interaction(self) -> Result<Interaction, StoreError> {
        let participants = self
            .participants
            .into_iter()
            .map(|p| parsed(PersonId::try_from(p)))
            .collect::<Result<Vec<_>, _>>()?;
        let initiator = participants
            .first()
            .cloned()
            .ok_or_else(|| StoreError::Backend("an interaction without participants".into()))?;
        Ok(Interaction {
            id: parsed(InteractionId::try_from(self.id))?,
            kind: parsed(InteractionKind::parse(&self.kind))?,
            at: Timestamp::from_epoch_seconds(self.at),
            initiator,
            participants,
            in_reply_to: opt_parsed(self.in_reply_to, InteractionId::parse)?,
        })
    }
}

const TEAM_RET: &str = "t.org_id AS org_id, t.person_id AS person_id, t.role AS role";

#[derive(Deserialize)]
struct TeamRow {
    org_id: String,
    person_id: String,
    role: String,
}

impl TeamRow {
    fn into_member(self) -> Result<TeamMember, StoreError> {
        Ok(TeamMember {
            org: parsed(OrgId::try_from(self.org_id))?,
            person: parsed(PersonId::try_from(self.person_id))?,
            role: parsed(TeamRole::parse(&self.role))?,
        })
    }
}

const INFLUENCE_RET: &str =
    "x.from_id AS from_id, x.to_id AS to_id, x.kind AS kind, x.strength AS strength";

#[derive(Deserialize)]
struct InfluenceRow {
    from_id: String,
    to_id: String,
    kind: String,
    strength: f64,
}

impl InfluenceRow {
    fn into_influence(self) -> Result<Influence, StoreError> {
        Ok(Influence {
            from: parsed(PersonId::try_from(self.from_id))?,
            to: parsed(PersonId::try_from(self.to_id))?,
            kind: parsed(InfluenceKind::parse(&self.kind))?,
            strength: parsed(Strength::new(self.strength))?,
        })
    }
}

const ASSESSMENT_RET: &str =
    "a.from_id AS from_id, a.to_id AS to_id, a.at AS at, a.level AS level, a.by_id AS by_id";

#[derive(Deserialize)]
struct AssessmentRow {
    from_id: String,
    to_id: String,
    at: i64,
    level: i64,
    by_id: Option<String>,
}

impl AssessmentRow {
    fn into_assessment(self) -> Result<Assessment, StoreError> {
        Ok(Assessment {
            from: parsed(PersonId::try_from(self.from_id))?,
            to: parsed(PersonId::try_from(self.to_id))?,
            level: parsed(ClosenessLevel::new(small(self.level, "closeness level")?))?,
            at: Timestamp::from_epoch_seconds(self.at),
            by: opt_parsed(self.by_id, PersonId::parse)?,
        })
    }
}

const OPP_RET: &str = "o.id AS id, o.account_id AS account_id, o.name AS name, o.amount AS amount, o.stage AS stage, o.status AS status, o.close_date AS close_date, o.owner_id AS owner_id, o.competitors AS competitors";

#[derive(Deserialize)]
struct OppRow {
    id: String,
    account_id: String,
    name: String,
    amount: Option<f64>,
    stage: Option<String>,
    status: String,
    close_date: Option<String>,
    owner_id: Option<String>,
    /// Absent on deals written before competitors were stored.
    competitors: Option<Vec<String>>,
}

impl OppRow {
    fn into_opportunity(self) -> Result<Opportunity, StoreError> {
        Ok(Opportunity {
            id: parsed(OpportunityId::try_from(self.id))?,
            account: parsed(OrgId::try_from(self.account_id))?,
            name: self.name,
            amount: self.amount,
            stage: self.stage,
            status: parsed(OpportunityStatus::parse(&self.status))?,
            close_date: self
                .close_date
                .map(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d"))
                .transpose()
                .map_err(|e| StoreError::Backend(format!("stored close date: {e}")))?,
            owner: opt_parsed(self.owner_id, PersonId::parse)?,
            competitors: self.competitors.unwrap_or_default(),
        })
    }
}

const STAGE_RET: &str = "x.opportunity_id AS opportunity_id, x.at AS at, x.stage AS stage";

#[derive(Deserialize)]
struct StageRow {
    opportunity_id: String,
    at: i64,
    stage: String,
}

impl StageRow {
    fn into_change(self) -> Result<StageChange, StoreError> {
        Ok(StageChange {
            opportunity: parsed(OpportunityId::try_from(self.opportunity_id))?,
            stage: self.stage,
            at: Timestamp::from_epoch_seconds(self.at),
        })
    }
}

const CONTACT_RET: &str = "c.opportunity_id AS opportunity_id, c.person_id AS person_id, c.role AS role, c.attitude AS attitude, c.solution_acceptance AS solution_acceptance, c.price_acceptance AS price_acceptance, c.at AS at";

#[derive(Deserialize)]
struct ContactRow {
    opportunity_id: String,
    person_id: String,
    role: Option<String>,
    attitude: Option<String>,
    solution_acceptance: Option<i64>,
    price_acceptance: Option<i64>,
    at: Option<i64>,
}

impl ContactRow {
    fn into_contact(self) -> Result<OpportunityContact, StoreError> {
        let acc = |v: Option<i64>| -> Result<Option<Acceptance>, StoreError> {
            v.map(|n| parsed(Acceptance::new(small(n, "acceptance")?)))
                .transpose()
        };
        Ok(OpportunityContact {
            opportunity: parsed(OpportunityId::try_from(self.opportunity_id))?,
            person: parsed(PersonId::try_from(self.person_id))?,
            role: opt_parsed(self.role, BuyingRole::parse)?,
            attitude: opt_parsed(self.attitude, Attitude::parse)?,
            solution_acceptance: acc(self.solution_acceptance)?,
            price_acceptance: acc(self.price_acceptance)?,
            at: self.at.map(Timestamp::from_epoch_seconds),
        })
    }
}

/// Most people one name lookup returns, as the SQLite store's `LIMIT 20`.
const NAME_MATCHES: usize = 20;

/// The key of an idempotency record: the client's name with its length in
/// front, so no (client, key) pair can be spelled like another.
fn idempotency_key(client: &str, key: &str) -> String {
    format!("{}:{client}{key}", client.len())
}

const TOKEN_RET: &str =
    "t.name AS name, t.scope AS scope, t.created_at AS created_at, t.owner AS owner";

#[derive(Deserialize)]
struct TokenRow {
    name: String,
    scope: String,
    created_at: i64,
    /// The user whose rights the token carries; none: an operator's.
    owner: Option<String>,
}

impl TokenRow {
    fn into_token(self) -> Result<ApiToken, StoreError> {
        Ok(ApiToken {
            name: self.name,
            scope: self
                .scope
                .parse()
                .map_err(|e: String| StoreError::Backend(format!("stored token scope: {e}")))?,
            created_at: Timestamp::from_epoch_seconds(self.created_at),
            owner: self.owner,
        })
    }
}

fn all<R, T>(rows: Vec<R>, f: impl Fn(R) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.into_iter().map(f).collect()
}

fn strings<'a>(ids: impl IntoIterator<Item = &'a PersonId>) -> Vec<String> {
    ids.into_iter().map(|p| p.as_str().to_owned()).collect()
}

impl Neo4jStore {
    /// How many account slices this store served from their packed block
    /// (for tests and benchmarks).
    pub fn packed_reads(&self) -> u64 {
        self.packed_reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current stamps of `account` and of our company ("" when unset).
    async fn stamps(&self, account: &str) -> Result<block::Stamps, StoreError> {
        #[derive(Deserialize)]
        struct StampRow {
            k: String,
            v: Option<String>,
        }
        let rows: Vec<StampRow> = self
            .rows(
                query("UNWIND $keys AS k MATCH (s:AccountStamp {account_id: k}) RETURN s.account_id AS k, s.v AS v")
                    .param("keys", vec![account.to_owned(), block::OURS.to_owned()]),
            )
            .await?;
        let mut out = block::Stamps::default();
        for r in rows {
            let v = r.v.unwrap_or_default();
            if r.k == block::OURS {
                out.ours = v;
            } else {
                out.account = v;
            }
        }
        Ok(out)
    }

    async fn block_rows(&self, account: &str) -> Result<Vec<block::ChunkRow>, StoreError> {
        self.rows(
            query(
                "MATCH (b:AccountBlock {account_id: $a}) \
                 RETURN b.seq AS seq, b.n AS n, b.stamp AS stamp, b.ours AS ours, b.body AS body",
            )
            .param("a", account),
        )
        .await
    }

    /// Stores `data` as the block of `account` built under `stamps`.
    async fn save_block(
        &self,
        account: &str,
        stamps: &block::Stamps,
        data: &AccountData,
    ) -> Result<(), StoreError> {
        let text = block::encode(data)?;
        let rows = block::chunk_rows(account, stamps, &text);
        let n = rows.len() as i64;
        self.bounded("saving an account block", async {
            let mut txn = self.graph.start_txn().await?;
            txn.run(
                query(
                    "UNWIND $rows AS r MERGE (b:AccountBlock {key: r.key}) \
                     SET b.account_id = r.account_id, b.seq = r.seq, b.n = r.n, \
                         b.stamp = r.stamp, b.ours = r.ours, b.body = r.body",
                )
                .param("rows", rows),
            )
            .await?;
            txn.run(
                query("MATCH (b:AccountBlock {account_id: $a}) WHERE b.seq >= $n DELETE b")
                    .param("a", account)
                    .param("n", n),
            )
            .await?;
            txn.commit().await?;
            Ok(())
        })
        .await
    }

    async fn load_account(&self, account: &OrgId) -> Result<Option<AccountData>, StoreError> {
        let a = account.as_str();
        let org: Vec<OrgRow> = self
            .rows(
                query(&format!(
                    "MATCH (o:Organization {{id: $id}}) WHERE o.is_ours = false RETURN {ORG_RET}"
                ))
                .param("id", a),
            )
            .await?;
        let Some(org) = org.into_iter().next() else {
            return Ok(None);
        };
        let org = org.into_org()?;

        // The independent parts of the slice are fetched concurrently over
        // the pool: latency is one round trip per step, not per query.
        let (people, direct, via, team, opps) = tokio::try_join!(
            self.rows::<PersonRow>(
                query(&format!("MATCH (p:Person {{org_id: $id}}) RETURN {PERSON_RET}"))
                    .param("id", a)
            ),
            self.rows::<InteractionRow>(
                query(&format!(
                    "MATCH (i:Interaction {{account_id: $id}}) RETURN {INTERACTION_RET}"
                ))
                .param("id", a)
            ),
            self.rows::<InteractionRow>(
                query(&format!(
                    "MATCH (x:InteractionAccount {{account_id: $id}}) MATCH (i:Interaction {{id: x.interaction_id}}) RETURN {INTERACTION_RET}"
                ))
                .param("id", a)
            ),
            self.rows::<TeamRow>(
                query(&format!("MATCH (t:TeamMember {{org_id: $id}}) RETURN {TEAM_RET}"))
                    .param("id", a)
            ),
            self.rows::<OppRow>(
                query(&format!("MATCH (o:Opportunity {{account_id: $id}}) RETURN {OPP_RET}"))
                    .param("id", a)
            ),
        )?;
        let mut people = all(people, PersonRow::into_person)?;
        people.sort_by(|x, y| (x.level, &x.id).cmp(&(y.level, &y.id)));
        let mut seen = HashSet::new();
        let mut interactions = Vec::with_capacity(direct.len() + via.len());
        for r in direct.into_iter().chain(via) {
            if seen.insert(r.id.clone()) {
                interactions.push(r.into_interaction()?);
            }
        }
        interactions.sort_by(|x, y| (x.at, &x.id).cmp(&(y.at, &y.id)));
        let mut team = all(team, TeamRow::into_member)?;
        team.sort_by(|x, y| x.person.cmp(&y.person));
        let mut opportunities = all(opps, OppRow::into_opportunity)?;
        opportunities.sort_by(|x, y| x.id.cmp(&y.id));

        let ids = strings(people.iter().map(|p| &p.id));
        let opp_ids: Vec<String> = opportunities
            .iter()
            .map(|o| o.id.as_str().to_owned())
            .collect();
        let (influences, from, to, contacts, stages) = tokio::try_join!(
            self.rows::<InfluenceRow>(
                query(&format!(
                    "UNWIND $ids AS pid MATCH (x:Influence {{from_id: pid}}) WHERE x.to_id IN $ids RETURN {INFLUENCE_RET}"
                ))
                .param("ids", ids.clone())
            ),
            self.rows::<AssessmentRow>(
                query(&format!(
                    "UNWIND $ids AS pid MATCH (a:Assessment {{from_id: pid}}) RETURN {ASSESSMENT_RET}"
                ))
                .param("ids", ids.clone())
            ),
            self.rows::<AssessmentRow>(
                query(&format!(
                    "UNWIND $ids AS pid MATCH (a:Assessment {{to_id: pid}}) RETURN {ASSESSMENT_RET}"
                ))
                .param("ids", ids.clone())
            ),
            self.rows::<ContactRow>(
                query(&format!(
                    "UNWIND $ids AS oid MATCH (c:OpportunityContact {{opportunity_id: oid}}) RETURN {CONTACT_RET}"
                ))
                .param("ids", opp_ids.clone())
            ),
            self.rows::<StageRow>(
                query(&format!(
                    "UNWIND $ids AS oid MATCH (x:OpportunityStage {{opportunity_id: oid}}) RETURN {STAGE_RET}"
                ))
                .param("ids", opp_ids)
            ),
        )?;
        let mut opportunity_stages = all(stages, StageRow::into_change)?;
        opportunity_stages.sort_by(|x, y| (&x.opportunity, x.at).cmp(&(&y.opportunity, y.at)));
        let mut influences = all(influences, InfluenceRow::into_influence)?;
        influences.sort_by(|x, y| (&x.from, &x.to).cmp(&(&y.from, &y.to)));
        let mut assessments = Vec::new();
        let mut seen = HashSet::new();
        for r in from.into_iter().chain(to) {
            if seen.insert((r.from_id.clone(), r.to_id.clone(), r.at)) {
                assessments.push(r.into_assessment()?);
            }
        }
        assessments.sort_by(|x, y| (x.at, &x.from, &x.to).cmp(&(y.at, &y.from, &y.to)));
        let mut opportunity_contacts = all(contacts, ContactRow::into_contact)?;
        opportunity_contacts.sort_by(|x, y| {
            (&x.opportunity, &x.person, x.at).cmp(&(&y.opportunity, &y.person, y.at))
        });

        // Our people: the team, everyone of ours in an interaction or
        // assessment with the account (as the SQLite store).
        let account_people: HashSet<&PersonId> = people.iter().map(|p| &p.id).collect();
        let mut ours: HashSet<&PersonId> = team.iter().map(|t| &t.person).collect();
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
        let our_rows: Vec<PersonRow> = self
            .rows(
                query(&format!(
                    "UNWIND $ids AS pid MATCH (p:Person {{id: pid}}) MATCH (o:Organization {{id: p.org_id}}) WHERE o.is_ours = true RETURN {PERSON_RET}"
                ))
                .param("ids", strings(ours)),
            )
            .await?;
        let mut our_people = all(our_rows, PersonRow::into_person)?;
        our_people.sort_by(|x, y| x.id.cmp(&y.id));

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
}

#[async_trait]
impl Store for Neo4jStore {
    fn kind(&self) -> &'static str {
        "neo4j"
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    /// Moves when another app server writes (see [`version`]).
    fn external_version(&self) -> Option<u64> {
        self.external
            .as_ref()
            .and_then(version::ExternalVersion::get)
    }

    /// Validates against the stored data and writes in one explicit
    /// transaction; a transient failure reruns the whole transaction (at
    /// most [`MAX_ATTEMPTS`] times), so nothing is counted or written twice.
    async fn import(
        &self,
        bundle: Bundle,
        sources: SourceMap,
        progress: Arc<dyn Progress>,
    ) -> Result<ImportSummary, StoreError> {
        // What a restricted viewer may write, as on SQLite (`check_write`).
        let written = crate::access::people_written(&bundle);
        let orgs = if written.is_empty() {
            Default::default()
        } else {
            self.person_orgs(&written).await?
        };
        crate::access::check_write(&bundle, &|p| orgs.get(p).cloned())?;
        let mut attempt = 1;
        // Per attempt: the query timeout plus a little per record, so a
        // hung server fails an API write in seconds and a bulk import still
        // has the minutes its commit needs.
        let limit = self.query_timeout + IMPORT_TIME_PER_RECORD * bundle.len() as u32;
        loop {
            let once = self.import_once(&bundle, &sources, progress.as_ref());
            let result = match tokio::time::timeout(limit, once).await {
                Ok(r) => r,
                Err(_) => {
                    progress.finish();
                    return Err(StoreError::Unavailable {
                        server: self.location.clone(),
                        reason: format!(
                            "no answer within {} while importing {} records; the import was not confirmed, and running it again is safe (records are keyed by id)",
                            humane(limit),
                            bundle.len()
                        ),
                    });
                }
            };
            match result {
                Ok(s) => return Ok(s),
                Err(Attempt::Rejected(e)) => return Err(StoreError::Rejected(e)),
                Err(Attempt::Other(e)) => return Err(e),
                Err(Attempt::Driver(e)) if attempt < MAX_ATTEMPTS && retryable(&e) => {
                    // Exponential backoff with jitter, so that writers that
                    // collided do not collide again.
                    let jitter = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| u64::from(d.subsec_nanos()) % 200);
                    let wait = Duration::from_millis(200 * 2u64.pow(attempt) + jitter);
                    tracing::warn!(attempt, error = %e, ?wait, "import failed transiently; retrying the transaction");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(Attempt::Driver(e)) => {
                    progress.finish();
                    return Err(match naming(backend(e), &self.location) {
                        StoreError::Backend(m) if attempt > 1 => {
                            StoreError::Backend(format!("{m} (after {attempt} attempts)"))
                        }
                        StoreError::Unavailable { server, reason } if attempt > 1 => {
                            StoreError::Unavailable {
                                server,
                                reason: format!("{reason} (after {attempt} attempts)"),
                            }
                        }
                        other => other,
                    });
                }
            }
        }
    }

    /// Everything the current viewer may see (`crate::access::filter_bundle`).
    async fn export(&self) -> Result<Bundle, StoreError> {
        let (orgs, people, team, interactions, influences, assessments, opps, contacts, stages) = tokio::try_join!(
            self.rows::<OrgRow>(query(&format!("MATCH (o:Organization) RETURN {ORG_RET}"))),
            self.rows::<PersonRow>(query(&format!("MATCH (p:Person) RETURN {PERSON_RET}"))),
            self.rows::<TeamRow>(query(&format!("MATCH (t:TeamMember) RETURN {TEAM_RET}"))),
            self.rows::<InteractionRow>(query(&format!(
                "MATCH (i:Interaction) RETURN {INTERACTION_RET}"
            ))),
            self.rows::<InfluenceRow>(query(&format!(
                "MATCH (x:Influence) RETURN {INFLUENCE_RET}"
            ))),
            self.rows::<AssessmentRow>(query(&format!(
                "MATCH (a:Assessment) RETURN {ASSESSMENT_RET}"
            ))),
            self.rows::<OppRow>(query(&format!("MATCH (o:Opportunity) RETURN {OPP_RET}"))),
            self.rows::<ContactRow>(query(&format!(
                "MATCH (c:OpportunityContact) RETURN {CONTACT_RET}"
            ))),
            self.rows::<StageRow>(query(&format!(
                "MATCH (x:OpportunityStage) RETURN {STAGE_RET}"
            ))),
        )?;
        let mut b = Bundle {
            organizations: all(orgs, OrgRow::into_org)?,
            people: all(people, PersonRow::into_person)?,
            account_team: all(team, TeamRow::into_member)?,
            interactions: all(interactions, InteractionRow::into_interaction)?,
            influences: all(influences, InfluenceRow::into_influence)?,
            assessments: all(assessments, AssessmentRow::into_assessment)?,
            opportunities: all(opps, OppRow::into_opportunity)?,
            opportunity_contacts: all(contacts, ContactRow::into_contact)?,
            opportunity_stages: all(stages, StageRow::into_change)?,
        };
        // The same order as the SQLite export, so exports diff cleanly.
        b.organizations
            .sort_by(|x, y| (!x.is_ours, &x.id).cmp(&(!y.is_ours, &y.id)));
        b.people
            .sort_by(|x, y| (&x.org, &x.id).cmp(&(&y.org, &y.id)));
        b.account_team
            .sort_by(|x, y| (&x.org, &x.person).cmp(&(&y.org, &y.person)));
        b.interactions
            .sort_by(|x, y| (x.at, &x.id).cmp(&(y.at, &y.id)));
        b.influences
            .sort_by(|x, y| (&x.from, &x.to).cmp(&(&y.from, &y.to)));
        b.assessments
            .sort_by(|x, y| (&x.from, &x.to, x.at).cmp(&(&y.from, &y.to, y.at)));
        b.opportunities.sort_by(|x, y| x.id.cmp(&y.id));
        b.opportunity_contacts.sort_by(|x, y| {
            (&x.opportunity, &x.person, x.at).cmp(&(&y.opportunity, &y.person, y.at))
        });
        b.opportunity_stages
            .sort_by(|x, y| (&x.opportunity, x.at).cmp(&(&y.opportunity, y.at)));
        Ok(crate::access::filter_bundle(b))
    }

    /// Every organization and person, unfiltered as on SQLite (identity
    /// resolution matches against everyone; `import` checks what the
    /// importer may write), without reading the interactions.
    async fn directory(&self) -> Result<crate::ingest::resolve::Directory, StoreError> {
        let (orgs, people) = tokio::try_join!(
            self.rows::<OrgRow>(query(&format!("MATCH (o:Organization) RETURN {ORG_RET}"))),
            self.rows::<PersonRow>(query(&format!("MATCH (p:Person) RETURN {PERSON_RET}"))),
        )?;
        let mut orgs = all(orgs, OrgRow::into_org)?;
        let mut people = all(people, PersonRow::into_person)?;
        // By id, as SQLite's directory.
        orgs.sort_by(|x, y| x.id.cmp(&y.id));
        people.sort_by(|x, y| x.id.cmp(&y.id));
        Ok(crate::ingest::resolve::Directory { orgs, people })
    }

    async fn stats(&self) -> Result<Stats, StoreError> {
        let (
            organizations,
            accounts,
            people_ours,
            people_customers,
            account_team,
            interactions,
            influences,
            assessments,
            opportunities,
        ) = tokio::try_join!(
            self.count("MATCH (o:Organization) RETURN count(o) AS n"),
            self.count("MATCH (o:Organization) WHERE o.is_ours = false RETURN count(o) AS n"),
            self.count("MATCH (o:Organization) WHERE o.is_ours = true MATCH (p:Person {org_id: o.id}) RETURN count(p) AS n"),
            self.count("MATCH (o:Organization) WHERE o.is_ours = false MATCH (p:Person {org_id: o.id}) RETURN count(p) AS n"),
            self.count("MATCH (t:TeamMember) RETURN count(t) AS n"),
            self.count("MATCH (i:Interaction) RETURN count(i) AS n"),
            self.count("MATCH (x:Influence) RETURN count(x) AS n"),
            self.count("MATCH (a:Assessment) RETURN count(a) AS n"),
            self.count("MATCH (o:Opportunity) RETURN count(o) AS n"),
        )?;
        Ok(Stats {
            store: "neo4j".into(),
            location: self.location(),
            organizations,
            accounts,
            people_ours,
            people_customers,
            account_team,
            interactions,
            influences,
            assessments,
            opportunities,
        })
    }

    /// The accounts the current viewer may see.
    async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError> {
        let scope = crate::access::scope();
        #[derive(Deserialize)]
        struct Row {
            #[serde(flatten)]
            org: OrgRow,
            people: i64,
            direct: Option<i64>,
            via: Option<i64>,
        }
        // The newest interaction of any person of the account is the newest
        // interaction that touches the account (what SQLite keeps per person).
        let rows: Vec<Row> = self
            .rows(query(&format!(
                "MATCH (o:Organization) WHERE o.is_ours = false \
                 OPTIONAL MATCH (p:Person {{org_id: o.id}}) \
                 WITH o, count(p) AS people \
                 OPTIONAL MATCH (i:Interaction {{account_id: o.id}}) \
                 WITH o, people, max(i.at) AS direct \
                 OPTIONAL MATCH (x:InteractionAccount {{account_id: o.id}}) \
                 RETURN {ORG_RET}, people, direct, max(x.at) AS via"
            )))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let last = r.direct.max(r.via);
            let org = r.org.into_org()?;
            if !scope.allows(&org.id) {
                continue;
            }
            out.push(AccountSummary {
                id: org.id,
                name: org.name,
                industry: org.industry,
                region: org.region,
                tier: org.tier,
                people: r.people.max(0) as u64,
                last_interaction: last.map(Timestamp::from_epoch_seconds),
            });
        }
        // SQLite orders by name then id (byte order); so do we, in Rust.
        out.sort_by(|x, y| (&x.name, &x.id).cmp(&(&y.name, &y.id)));
        Ok(out)
    }

    async fn account_data(&self, account: &OrgId) -> Result<Option<AccountData>, StoreError> {
        // A denied account answers as a missing one.
        if !crate::access::may_see(account) {
            return Ok(None);
        }
        let a = account.as_str();
        // Stamps first (or together): see `block` for why that is safe.
        let (stamps, chunks) = tokio::try_join!(self.stamps(a), self.block_rows(a))?;
        if let Some(text) = block::assemble(chunks, &stamps) {
            match block::decode(&text) {
                Ok(data) if data.account.id == *account => {
                    self.packed_reads
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return Ok(Some(data));
                }
                Ok(_) => {
                    tracing::warn!(%account, "an account block holds another account; rebuilding it")
                }
                Err(e) => tracing::warn!(%account, error = %e, "rebuilding an account block"),
            }
        }
        let Some(data) = self.load_account(account).await? else {
            return Ok(None);
        };
        // Best effort: a failed save only means the next read rebuilds.
        if let Err(e) = self.save_block(a, &stamps, &data).await {
            tracing::warn!(%account, error = %e, "could not save the account block");
        }
        Ok(Some(data))
    }

    async fn plan_state(&self, account: &OrgId) -> Result<PlanState, StoreError> {
        crate::access::require(account)?;
        let rows: Vec<BodyRow> = self
            .rows(
                query("MATCH (n:PlanItem {account_id: $account}) RETURN n.kind AS kind, n.body AS body ORDER BY n.kind, n.id")
                    .param("account", account.as_str()),
            )
            .await?;
        let mut out = PlanState::default();
        for r in rows {
            match r.kind.as_deref() {
                Some("objective") => out.objectives.push(from_json(&r.body)?),
                _ => out.actions.push(from_json(&r.body)?),
            }
        }
        Ok(out)
    }

    async fn save_plan_item(&self, account: &OrgId, item: PlanItem) -> Result<(), StoreError> {
        crate::access::require(account)?;
        let exists = self
            .count_q(
                query(
                    "MATCH (o:Organization {id: $id}) WHERE o.is_ours = false RETURN count(o) AS n",
                )
                .param("id", account.as_str()),
            )
            .await?;
        if exists == 0 {
            return Err(StoreError::NotFound(format!(
                "no customer account with id {account}"
            )));
        }
        let (kind, id, body) = match &item {
            PlanItem::Objective(o) => ("objective", o.id.clone(), to_json(o)?),
            PlanItem::Action(a) => ("action", a.id.clone(), to_json(a)?),
        };
        let q = query(
            "MERGE (n:PlanItem {key: $key}) SET n.account_id = $account, n.kind = $kind, n.id = $id, n.body = $body",
        )
        .param("key", key(&[account.as_str(), kind, &id]))
        .param("account", account.as_str())
        .param("kind", kind)
        .param("id", id.as_str())
        .param("body", body);
        self.write_one(q).await
    }

    async fn save_snapshot(&self, plan: &AccountPlan) -> Result<(), StoreError> {
        crate::access::require(&plan.account)?;
        let at = plan.as_of.epoch_seconds();
        let q = query(
            "MERGE (n:PlanSnapshot {key: $key}) SET n.account_id = $account, n.saved_at = $at, n.body = $body",
        )
        .param("key", key(&[plan.account.as_str(), &at.to_string()]))
        .param("account", plan.account.as_str())
        .param("at", at)
        .param("body", to_json(plan)?);
        self.write_one(q).await
    }

    async fn snapshots(&self, account: &OrgId) -> Result<Vec<AccountPlan>, StoreError> {
        crate::access::require(account)?;
        let rows: Vec<BodyRow> = self
            .rows(
                query("MATCH (n:PlanSnapshot {account_id: $account}) RETURN null AS kind, n.body AS body ORDER BY n.saved_at")
                    .param("account", account.as_str()),
            )
            .await?;
        rows.iter().map(|r| from_json(&r.body)).collect()
    }

    async fn find_people(
        &self,
        lookups: Vec<PersonLookup>,
    ) -> Result<Vec<Vec<PersonRecord>>, StoreError> {
        #[derive(Deserialize)]
        struct Found {
            i: i64,
            #[serde(flatten)]
            person: PersonRow,
            org_name: String,
            is_ours: bool,
        }
        // One query per kind of lookup for the whole batch (three round
        // trips at most, run concurrently), each an index seek per lookup.
        let (mut emails, mut exts, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for (i, l) in lookups.iter().enumerate() {
            let i = int(i as i64);
            match l {
                PersonLookup::Email(e) => emails.push(row! { "i" => i, "k" => s(e.as_str()) }),
                PersonLookup::External(x) => exts.push(row! { "i" => i, "k" => s(&x.to_string()) }),
                PersonLookup::NameAtOrg { name, org_name } => names.push(row! {
                    "i" => i,
                    "name" => s(&name_key(name)),
                    "org" => s(&name_key(org_name)),
                }),
            }
        }
        let ret = format!("r.i AS i, {PERSON_RET}, o.name AS org_name, o.is_ours AS is_ours");
        let run = |cypher: String, rows: Vec<Row>| async move {
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            self.rows::<Found>(query(&cypher).param("rows", rows)).await
        };
        let (by_email, by_ext, by_name) = tokio::try_join!(
            run(
                format!(
                    "UNWIND $rows AS r MATCH (x:PersonEmail {{email: r.k}}) \
                     MATCH (p:Person {{id: x.person_id}}) MATCH (o:Organization {{id: p.org_id}}) RETURN {ret}"
                ),
                emails
            ),
            run(
                format!(
                    "UNWIND $rows AS r MATCH (x:PersonExternalId {{key: r.k}}) \
                     MATCH (p:Person {{id: x.person_id}}) MATCH (o:Organization {{id: p.org_id}}) RETURN {ret}"
                ),
                exts
            ),
            run(
                format!(
                    "UNWIND $rows AS r MATCH (o:Organization {{name_key: r.org}}) \
                     MATCH (p:Person {{name_key: r.name}}) WHERE p.org_id = o.id RETURN {ret}"
                ),
                names
            ),
        )?;
        let mut out: Vec<Vec<(String, PersonRecord)>> = vec![Vec::new(); lookups.len()];
        for r in by_email.into_iter().chain(by_ext).chain(by_name) {
            let slot = usize::try_from(r.i)
                .ok()
                .and_then(|i| out.get_mut(i))
                .ok_or_else(|| StoreError::Backend(format!("lookup index {} out of range", r.i)))?;
            let person = r.person.into_person()?;
            slot.push((
                person.id.as_str().to_owned(),
                PersonRecord {
                    person,
                    org_name: r.org_name,
                    is_ours: r.is_ours,
                },
            ));
        }
        // As the SQLite store: by id, at most NAME_MATCHES per lookup, then
        // only the people the current viewer may see.
        Ok(out
            .into_iter()
            .map(|mut v| {
                v.sort_by(|a, b| a.0.cmp(&b.0));
                v.dedup_by(|a, b| a.0 == b.0);
                v.into_iter()
                    .take(NAME_MATCHES)
                    .map(|(_, r)| r)
                    .filter(|r| crate::access::may_see_person(&r.person.org, r.is_ours))
                    .collect()
            })
            .collect())
    }

    async fn save_token(
        &self,
        name: &str,
        scope: TokenScope,
        hash: &str,
        replace: bool,
    ) -> Result<bool, StoreError> {
        // One statement: the MERGE locks the token (or, on servers with
        // optimistic concurrency, makes a concurrent save conflict and be
        // retried), so "exists and is live" is decided on current data.
        let q = query(
            "MERGE (t:ApiToken {name: $name}) \
             WITH t, (t.hash IS NOT NULL AND t.revoked_at IS NULL) AS live \
             WHERE NOT live OR $replace \
             SET t.scope = $scope, t.hash = $hash, t.created_at = $now, t.revoked_at = null, t.owner = null \
             RETURN count(t) AS n",
        )
        .param("name", name)
        .param("scope", scope.as_str())
        .param("hash", hash)
        .param("replace", replace)
        .param("now", chrono::Utc::now().timestamp());
        Ok(self.write_count(q).await? > 0)
    }

    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = self
            .rows(query(&format!(
                "MATCH (t:ApiToken) WHERE t.revoked_at IS NULL RETURN {TOKEN_RET}"
            )))
            .await?;
        let mut out = all(rows, TokenRow::into_token)?;
        // Byte order of names, as SQLite's ORDER BY name.
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        let q = query(
            "MATCH (t:ApiToken {name: $name}) WHERE t.revoked_at IS NULL \
             SET t.revoked_at = $now RETURN count(t) AS n",
        )
        .param("name", name)
        .param("now", chrono::Utc::now().timestamp());
        Ok(self.write_count(q).await? > 0)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> = self
            .rows(
                query(&format!(
                    "MATCH (t:ApiToken {{hash: $hash}}) WHERE t.revoked_at IS NULL RETURN {TOKEN_RET}"
                ))
                .param("hash", hash),
            )
            .await?;
        rows.into_iter()
            .next()
            .map(TokenRow::into_token)
            .transpose()
    }

    async fn idempotent_response(
        &self,
        client: &str,
        key: &str,
    ) -> Result<Option<StoredResponse>, StoreError> {
        #[derive(Deserialize)]
        struct Kept {
            request_hash: String,
            status: i64,
            body: String,
        }
        let rows: Vec<Kept> = self
            .rows(
                query(
                    "MATCH (k:IdempotencyKey {key: $key}) \
                     RETURN k.request_hash AS request_hash, k.status AS status, k.body AS body",
                )
                .param("key", idempotency_key(client, key)),
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|k| {
                Ok(StoredResponse {
                    request_hash: k.request_hash,
                    status: u16::try_from(k.status).map_err(|_| {
                        StoreError::Backend(format!("stored status {} is out of range", k.status))
                    })?,
                    body: k.body,
                })
            })
            .transpose()
    }

    async fn save_idempotent_response(
        &self,
        client: &str,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        // ON CREATE only: the first response kept wins, as INSERT OR IGNORE.
        let q = query(
            "MERGE (k:IdempotencyKey {key: $key}) \
             ON CREATE SET k.client = $client, k.request_hash = $hash, k.status = $status, \
                           k.body = $body, k.created_at = $now",
        )
        .param("key", idempotency_key(client, key))
        .param("client", client)
        .param("hash", response.request_hash)
        .param("status", i64::from(response.status))
        .param("body", response.body)
        .param("now", chrono::Utc::now().timestamp());
        self.write_one(q).await
    }

    async fn save_review(&self, candidates: Vec<MergeCandidate>) -> Result<usize, StoreError> {
        in_txn!(self, "saving the review list", |txn| identity::save_review(
            &mut txn,
            &candidates
        ))
    }

    async fn review(&self) -> Result<Vec<ReviewItem>, StoreError> {
        identity::review_items(self.rows(query(identity::REVIEW_QUERY)).await?)
    }

    async fn dismiss_review(&self, a: &PersonId, b: &PersonId) -> Result<bool, StoreError> {
        in_txn!(self, "deciding a review pair", |txn| identity::dismiss(
            &mut txn, a, b
        ))
    }

    async fn merge_people(
        &self,
        survivor: &PersonId,
        merged: &PersonId,
    ) -> Result<MergeReport, StoreError> {
        in_txn!(self, "merging two people", |txn| identity::merge(
            &mut txn, survivor, merged
        ))
    }

    async fn split_people(
        &self,
        survivor: &PersonId,
        merged: &PersonId,
    ) -> Result<MergeReport, StoreError> {
        in_txn!(self, "splitting a merge", |txn| identity::split(
            &mut txn, survivor, merged
        ))
    }

    /// Erases them in one transaction (see [`forget`]), with its audit line.
    async fn forget_person(
        &self,
        id: &PersonId,
        actor: &str,
    ) -> Result<crate::privacy::ForgetReport, StoreError> {
        crate::access::require_unrestricted()?;
        in_txn!(self, "erasing a person", |txn| forget::forget(
            &mut txn, id, actor
        ))
    }

    async fn person_provenance(
        &self,
        id: &PersonId,
    ) -> Result<Option<crate::privacy::PersonProvenance>, StoreError> {
        crate::access::require_unrestricted()?;
        privacy::person_provenance(self, id).await
    }

    async fn record_audit(
        &self,
        actor: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        in_txn!(self, "writing the audit log", |txn| privacy::audit(
            &mut txn, actor, action, detail
        ))
    }

    async fn audit_log(
        &self,
        since: Option<Timestamp>,
    ) -> Result<Vec<crate::privacy::AuditEntry>, StoreError> {
        privacy::audit_log(self, since).await
    }

    async fn apply_retention(
        &self,
        cutoff: Timestamp,
        days: u32,
        actor: &str,
    ) -> Result<crate::privacy::RetentionReport, StoreError> {
        privacy::retention(self, cutoff, days, actor).await
    }

    async fn save_service_cases(
        &self,
        cases: Vec<renmai_graph::service::ServiceCase>,
    ) -> Result<usize, StoreError> {
        in_txn!(self, "saving service cases", |txn| service_cases::save(
            &mut txn, &cases
        ))
    }

    async fn service_cases(
        &self,
        since: Option<Timestamp>,
    ) -> Result<Vec<renmai_graph::service::ServiceCase>, StoreError> {
        let scope = crate::access::scope();
        let mut cases = service_cases::load(self, since).await?;
        cases.retain(|c| scope.allows(&c.account));
        Ok(cases)
    }

    async fn save_deal_support(
        &self,
        rows: Vec<renmai_graph::support::DealSupport>,
        locations: Vec<crate::validate::Location>,
    ) -> Result<Counts, StoreError> {
        in_txn!(self, "saving deal support", |txn| deal_support::save(
            &mut txn, &rows, &locations
        ))
    }

    async fn deal_support(
        &self,
        account: Option<&OrgId>,
    ) -> Result<Vec<renmai_graph::support::DealSupport>, StoreError> {
        let scope = crate::access::scope();
        deal_support::load(self, account, &scope).await
    }

    /// The person, unless the current viewer may not see them.
    async fn person(&self, id: &PersonId) -> Result<Option<PersonRecord>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            #[serde(flatten)]
            person: PersonRow,
            org_name: String,
            is_ours: bool,
        }
        let rows: Vec<Row> = self
            .rows(
                query(&format!(
                    "MATCH (p:Person {{id: $id}}) MATCH (o:Organization {{id: p.org_id}}) RETURN {PERSON_RET}, o.name AS org_name, o.is_ours AS is_ours"
                ))
                .param("id", id.as_str()),
            )
            .await?;
        let Some(r) = rows.into_iter().next() else {
            return Ok(None);
        };
        let found = PersonRecord {
            person: r.person.into_person()?,
            org_name: r.org_name,
            is_ours: r.is_ours,
        };
        Ok(crate::access::may_see_person(&found.person.org, found.is_ours).then_some(found))
    }

    // Users and access: see `access`.

    async fn create_user(&self, user: NewUser) -> Result<bool, StoreError> {
        in_txn!(self, "creating a user", |txn| access::create_user(
            &mut txn, &user
        ))
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.access_users().await
    }

    async fn login_record(&self, name: &str) -> Result<Option<LoginRecord>, StoreError> {
        self.access_login_record(name).await
    }

    async fn set_user_disabled(&self, name: &str, disabled: bool) -> Result<bool, StoreError> {
        in_txn!(self, "disabling a user", |txn| access::set_disabled(
            &mut txn, name, disabled
        ))
    }

    async fn set_password(&self, name: &str, hash: &str) -> Result<bool, StoreError> {
        in_txn!(self, "setting a password", |txn| access::set_password(
            &mut txn, name, hash
        ))
    }

    async fn login_failed(
        &self,
        name: &str,
        lock_after: u32,
        lock_until: Timestamp,
    ) -> Result<(), StoreError> {
        // One at a time within this server: concurrent failures on one user
        // node only conflict across servers, where retries settle them.
        let _one = self.login_writes.lock().await;
        in_txn!(self, "counting a failed login", |txn| access::login_failed(
            &mut txn, name, lock_after, lock_until
        ))
    }

    async fn login_succeeded(&self, name: &str) -> Result<(), StoreError> {
        in_txn!(self, "recording a login", |txn| access::login_succeeded(
            &mut txn, name
        ))
    }

    async fn add_to_team(&self, manager: &str, seller: &str) -> Result<(), StoreError> {
        in_txn!(self, "adding to a team", |txn| access::add_to_team(
            &mut txn, manager, seller
        ))
    }

    async fn assign_account(&self, user: &str, account: &OrgId) -> Result<(), StoreError> {
        in_txn!(self, "assigning an account", |txn| access::assign_account(
            &mut txn, user, account
        ))
    }

    async fn visible_accounts(&self, user: &str) -> Result<Vec<OrgId>, StoreError> {
        self.access_visible_accounts(user).await
    }

    async fn create_session(
        &self,
        hash: &str,
        user: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        in_txn!(self, "creating a session", |txn| access::create_session(
            &mut txn, hash, user, expires_at
        ))
    }

    async fn session_user(&self, hash: &str, now: Timestamp) -> Result<Option<User>, StoreError> {
        self.access_session_user(hash, now).await
    }

    async fn delete_session(&self, hash: &str) -> Result<(), StoreError> {
        in_txn!(self, "ending a session", |txn| access::delete_session(
            &mut txn, hash
        ))
    }

    async fn set_token_owner(&self, token: &str, user: &str) -> Result<bool, StoreError> {
        in_txn!(self, "setting a token's owner", |txn| {
            access::set_token_owner(&mut txn, token, user)
        })
    }
}
