//! Storage: the [`Store`] trait every backend implements, and the types it
//! speaks. Protocol layers (HTTP, CLI) see only this trait.

#[cfg(feature = "neo4j")]
pub mod neo4j;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use renmai_graph::plan::{AccountPlan, Action, Objective};
use renmai_graph::{
    AccountData, Email, ExternalId, InteractionId, OrgId, Person, PersonId, Timestamp,
};
use serde::Serialize;

use crate::auth::{ApiToken, TokenScope};

use crate::bundle::Bundle;
use crate::import::ImportError;
use crate::ingest::resolve::{Directory, MergeCandidate};
use crate::validate::SourceMap;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data was refused; nothing was written.
    #[error(transparent)]
    Rejected(#[from] ImportError),
    #[error("the store at {location} cannot be opened: {reason}")]
    Open { location: String, reason: String },
    #[error("{0}")]
    NotFound(String),
    #[error("store failure: {0}")]
    Backend(String),
    /// The database server did not answer in time (slow, hung or gone):
    /// the request failed fast instead of waiting; trying later may work.
    #[error("the database server {server} is unavailable: {reason}")]
    Unavailable { server: String, reason: String },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(e.to_string())
    }
}

/// Reports progress of long writes (a progress bar in the CLI, nothing in tests).
pub trait Progress: Send + Sync {
    fn start(&self, _total: u64, _what: &str) {}
    fn advance(&self, _n: u64) {}
    fn finish(&self) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What an import did, kind by kind: records new to the store and records
/// that were already there (updated in place, never duplicated).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub organizations: Counts,
    pub people: Counts,
    pub account_team: Counts,
    pub interactions: Counts,
    pub influences: Counts,
    pub assessments: Counts,
    pub opportunities: Counts,
    pub opportunity_contacts: Counts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub new: u64,
    pub existing: u64,
}

impl ImportSummary {
    pub fn new_records(&self) -> u64 {
        self.rows().iter().map(|(_, c)| c.new).sum()
    }
    pub fn rows(&self) -> [(&'static str, Counts); 8] {
        [
            ("organizations", self.organizations),
            ("people", self.people),
            ("account_team", self.account_team),
            ("interactions", self.interactions),
            ("influences", self.influences),
            ("assessments", self.assessments),
            ("opportunities", self.opportunities),
            ("opportunity_contacts", self.opportunity_contacts),
        ]
    }
}

/// Counts of what a store holds (`renmai stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub store: String,
    pub location: String,
    pub organizations: u64,
    pub accounts: u64,
    pub people_ours: u64,
    pub people_customers: u64,
    pub account_team: u64,
    pub interactions: u64,
    pub influences: u64,
    pub assessments: u64,
    pub opportunities: u64,
}

/// One line of the accounts list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountSummary {
    pub id: OrgId,
    pub name: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub tier: Option<String>,
    pub people: u64,
    pub last_interaction: Option<Timestamp>,
}

/// A person and the account (or our company) they work at.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonRecord {
    pub person: Person,
    pub org_name: String,
    pub is_ours: bool,
}

/// What users decided about an account's plan: their objectives and their
/// accepted, edited or closed actions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanState {
    pub objectives: Vec<Objective>,
    pub actions: Vec<Action>,
}

/// One thing a user writes into a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanItem {
    Objective(Objective),
    Action(Action),
}

/// How another system names a person it wants to enrich.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonLookup {
    Email(Email),
    External(ExternalId),
    /// Exact name at an organization with this exact name, both compared
    /// case-insensitively (ASCII).
    NameAtOrg {
        name: String,
        org_name: String,
    },
}

/// A response kept under an idempotency key, with the hash of the request
/// that produced it (a retry must send the same request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

/// A possible duplicate waiting for a person's decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    pub existing: PersonId,
    pub new: PersonId,
    pub confidence: f64,
    pub reason: String,
    pub found_at: Timestamp,
}

/// What a merge or split moved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MergeReport {
    pub emails: usize,
    pub external_ids: usize,
    /// Team, influence, assessment and deal-role lines.
    pub lines: usize,
    pub interactions: usize,
    /// Interactions between just the two: after a merge, nobody else is left.
    pub interactions_dropped: usize,
}

/// A place to keep renmai's data. Writes are idempotent upserts keyed by
/// the records' own ids, applied all-or-nothing.
#[async_trait]
pub trait Store: Send + Sync {
    /// "sqlite" or "neo4j".
    fn kind(&self) -> &'static str;
    /// Where the data lives (a path or a URI without credentials).
    fn location(&self) -> String;

    /// Validates `bundle` against itself and the stored data, then writes
    /// it in one transaction, or writes nothing and says why.
    async fn import(
        &self,
        bundle: Bundle,
        sources: SourceMap,
        progress: Arc<dyn Progress>,
    ) -> Result<ImportSummary, StoreError>;

    /// Everything, as a bundle that imports back to the same data.
    async fn export(&self) -> Result<Bundle, StoreError>;

    async fn stats(&self) -> Result<Stats, StoreError>;

    /// Customer accounts (not our own company), by name.
    async fn accounts(&self) -> Result<Vec<AccountSummary>, StoreError>;

    /// One account's slice of the graph for scoring, or `None` if there is
    /// no such customer account.
    async fn account_data(&self, account: &OrgId) -> Result<Option<AccountData>, StoreError>;

    async fn person(&self, id: &PersonId) -> Result<Option<PersonRecord>, StoreError>;

    /// Objectives and action decisions of an account's plan.
    async fn plan_state(&self, account: &OrgId) -> Result<PlanState, StoreError>;

    /// Upserts an objective or an action decision (by its id).
    async fn save_plan_item(&self, account: &OrgId, item: PlanItem) -> Result<(), StoreError>;

    /// Stores a dated snapshot of a plan (one per account and instant).
    async fn save_snapshot(&self, plan: &AccountPlan) -> Result<(), StoreError>;

    /// An account's plan snapshots, oldest first.
    async fn snapshots(&self, account: &OrgId) -> Result<Vec<AccountPlan>, StoreError>;
    /// For each lookup, in order, the people it matches (several when a
    /// name is ambiguous, none when unknown). One call answers a whole
    /// enrichment batch.
    async fn find_people(
        &self,
        _lookups: Vec<PersonLookup>,
    ) -> Result<Vec<Vec<PersonRecord>>, StoreError> {
        Err(unsupported("finding people by e-mail, external id or name"))
    }

    /// Stores an API token's hash under `name`. Returns false when a token
    /// of that name exists and `replace` is false.
    async fn save_token(
        &self,
        _name: &str,
        _scope: TokenScope,
        _hash: &str,
        _replace: bool,
    ) -> Result<bool, StoreError> {
        Err(unsupported("API tokens"))
    }

    /// Tokens that are not revoked, by name.
    async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        Err(unsupported("API tokens"))
    }

    /// Revokes the token `name`; false when there is no such live token.
    async fn revoke_token(&self, _name: &str) -> Result<bool, StoreError> {
        Err(unsupported("API tokens"))
    }

    /// The live token whose SHA-256 (hex) is `hash`.
    async fn token_by_hash(&self, _hash: &str) -> Result<Option<ApiToken>, StoreError> {
        Err(unsupported("API tokens"))
    }

    /// The response kept for idempotency key `key` of client `client`.
    async fn idempotent_response(
        &self,
        _client: &str,
        _key: &str,
    ) -> Result<Option<StoredResponse>, StoreError> {
        Err(unsupported("idempotency keys"))
    }

    /// Keeps `response` under (`client`, `key`); the first one kept wins.
    async fn save_idempotent_response(
        &self,
        _client: &str,
        _key: &str,
        _response: StoredResponse,
    ) -> Result<(), StoreError> {
        Err(unsupported("idempotency keys"))
    }

    /// A value that changes when another process (or another connection
    /// of this process) commits a write, read without waiting for a write
    /// in progress; `None` when the store cannot tell. The engine polls it
    /// to drop cached scores after `renmai import` into a served database,
    /// and keeps slices for a short time only when it is `None`.
    fn external_version(&self) -> Option<u64> {
        None
    }

    /// For each id, whether an interaction with that id is stored. Lets a
    /// re-import of a mailbox skip what it already holds without writing.
    async fn known_interactions(&self, ids: Vec<InteractionId>) -> Result<Vec<bool>, StoreError> {
        Ok(vec![false; ids.len()])
    }

    /// Every organization and person, without interactions: what identity
    /// resolution matches new handles against (see `crate::ingest::resolve`).
    async fn directory(&self) -> Result<Directory, StoreError> {
        let b = self.export().await?;
        Ok(Directory {
            orgs: b.organizations,
            people: b.people,
        })
    }

    /// Adds possible duplicates to the review list; pairs already listed
    /// (in either order, decided or not) are left as they are. Returns how
    /// many were new.
    async fn save_review(&self, _candidates: Vec<MergeCandidate>) -> Result<usize, StoreError> {
        Err(unsupported("the review list of possible duplicates"))
    }

    /// Undecided pairs whose people both still exist, most likely first.
    async fn review(&self) -> Result<Vec<ReviewItem>, StoreError> {
        Err(unsupported("the review list of possible duplicates"))
    }

    /// Decides a review pair as two different people. False when the pair
    /// is not on the list.
    async fn dismiss_review(&self, _a: &PersonId, _b: &PersonId) -> Result<bool, StoreError> {
        Err(unsupported("the review list of possible duplicates"))
    }

    /// Merges `merged` into `survivor`: every reference moves, `merged` is
    /// deleted, and what changed is kept so [`Store::split_people`] can undo it.
    async fn merge_people(
        &self,
        _survivor: &PersonId,
        _merged: &PersonId,
    ) -> Result<MergeReport, StoreError> {
        Err(unsupported("merging people"))
    }

    /// Undoes the latest merge of `merged` into `survivor`.
    async fn split_people(
        &self,
        _survivor: &PersonId,
        _merged: &PersonId,
    ) -> Result<MergeReport, StoreError> {
        Err(unsupported("splitting merged people"))
    }

    /// True when nothing has been stored yet.
    async fn is_empty(&self) -> Result<bool, StoreError> {
        let s = self.stats().await?;
        Ok(s.organizations == 0 && s.people_ours + s.people_customers == 0)
    }
}

fn unsupported(what: &str) -> StoreError {
    StoreError::Backend(format!("{what} is not supported by this store"))
}
