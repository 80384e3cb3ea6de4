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

use crate::access::{LoginRecord, NewUser, User};
use crate::auth::{ApiToken, TokenScope};

use crate::bundle::Bundle;
use crate::import::ImportError;
use crate::ingest::resolve::{Directory, MergeCandidate};
use crate::privacy::{AuditEntry, ForgetReport, PersonProvenance, RetentionReport};
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
    /// The current viewer may not do this (see `crate::access`).
    #[error("{0}")]
    Denied(String),
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
    pub opportunity_stages: Counts,
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
    pub fn rows(&self) -> [(&'static str, Counts); 9] {
        [
            ("organizations", self.organizations),
            ("people", self.people),
            ("account_team", self.account_team),
            ("interactions", self.interactions),
            ("influences", self.influences),
            ("assessments", self.assessments),
            ("opportunities", self.opportunities),
            ("opportunity_contacts", self.opportunity_contacts),
            ("opportunity_stages", self.opportunity_stages),
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

    /// One deal by id (`None`: unknown, or its account is not the current
    /// viewer's). This default reads account by account; a store that can
    /// look a deal up by its id overrides it.
    async fn opportunity(
        &self,
        id: &renmai_graph::OpportunityId,
    ) -> Result<Option<renmai_graph::Opportunity>, StoreError> {
        for a in self.accounts().await? {
            if let Some(data) = self.account_data(&a.id).await?
                && let Some(o) = data.opportunities.into_iter().find(|o| &o.id == id)
            {
                return Ok(Some(o));
            }
        }
        Ok(None)
    }
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

    /// Upserts service cases' own fields by case id (their interactions
    /// come through [`Store::import`]). Returns how many were new.
    async fn save_service_cases(
        &self,
        _cases: Vec<renmai_graph::service::ServiceCase>,
    ) -> Result<usize, StoreError> {
        Err(unsupported("service cases"))
    }

    /// Service cases opened at or after `since` (all when `None`), oldest first.
    async fn service_cases(
        &self,
        _since: Option<Timestamp>,
    ) -> Result<Vec<renmai_graph::service::ServiceCase>, StoreError> {
        Err(unsupported("service cases"))
    }

    /// Upserts presales and expert assignments to deals, after checking
    /// each against the stored deals and people (`locations[i]` names row
    /// `i` in errors); all or nothing.
    async fn save_deal_support(
        &self,
        _rows: Vec<renmai_graph::support::DealSupport>,
        _locations: Vec<crate::validate::Location>,
    ) -> Result<Counts, StoreError> {
        Err(unsupported("sales support assignments"))
    }

    /// Support assignments on the deals of `account` (all when `None`).
    async fn deal_support(
        &self,
        _account: Option<&OrgId>,
    ) -> Result<Vec<renmai_graph::support::DealSupport>, StoreError> {
        Err(unsupported("sales support assignments"))
    }

    /// Where a person's record and interactions came from (which write,
    /// from what, by whom, when); `None` when there is no such person.
    async fn person_provenance(
        &self,
        _id: &PersonId,
    ) -> Result<Option<PersonProvenance>, StoreError> {
        Err(unsupported("provenance"))
    }

    /// Appends a line to the audit log (changes made outside an import,
    /// views of exports).
    async fn record_audit(
        &self,
        _actor: &str,
        _action: &str,
        _detail: &str,
    ) -> Result<(), StoreError> {
        Err(unsupported("the audit log"))
    }

    /// The audit log from `since` on (everything without), oldest first.
    async fn audit_log(&self, _since: Option<Timestamp>) -> Result<Vec<AuditEntry>, StoreError> {
        Err(unsupported("the audit log"))
    }

    /// Erases a person everywhere and says what was removed; nothing of
    /// them stays in the store's files.
    async fn forget_person(
        &self,
        _id: &PersonId,
        _actor: &str,
    ) -> Result<ForgetReport, StoreError> {
        Err(unsupported("erasing a person"))
    }

    /// Deletes the interactions before `cutoff` (retention of `days` days).
    async fn apply_retention(
        &self,
        _cutoff: Timestamp,
        _days: u32,
        _actor: &str,
    ) -> Result<RetentionReport, StoreError> {
        Err(unsupported("retention"))
    }

    /// Writes a consistent copy of the store to `dest` while it serves.
    async fn backup(&self, _dest: &std::path::Path) -> Result<(), StoreError> {
        Err(unsupported("backups"))
    }

    // Users and access (issue 10; see `crate::access`). Both built-in
    // stores keep them (Neo4j: `neo4j/access.rs`); a store that does not
    // says "not supported" (no sign-in there, operator tokens only).

    /// Creates a user; false when the name is taken.
    async fn create_user(&self, _user: NewUser) -> Result<bool, StoreError> {
        Err(unsupported("user management"))
    }

    /// Every user, by name.
    async fn users(&self) -> Result<Vec<User>, StoreError> {
        Err(unsupported("user management"))
    }

    /// A user with what the login check needs.
    async fn login_record(&self, _name: &str) -> Result<Option<LoginRecord>, StoreError> {
        Err(unsupported("user management"))
    }

    /// Disables (ending their sessions) or re-enables a user; false when
    /// there is no such user.
    async fn set_user_disabled(&self, _name: &str, _disabled: bool) -> Result<bool, StoreError> {
        Err(unsupported("user management"))
    }

    /// Replaces a user's password hash, ending their sessions.
    async fn set_password(&self, _name: &str, _hash: &str) -> Result<bool, StoreError> {
        Err(unsupported("user management"))
    }

    /// Counts a failed login; the `lock_after`th in a row locks the user
    /// until `lock_until` (and starts the count again).
    async fn login_failed(
        &self,
        _name: &str,
        _lock_after: u32,
        _lock_until: Timestamp,
    ) -> Result<(), StoreError> {
        Err(unsupported("user management"))
    }

    /// Clears the failed-login count and any lock.
    async fn login_succeeded(&self, _name: &str) -> Result<(), StoreError> {
        Err(unsupported("user management"))
    }

    /// Puts `seller` on `manager`'s team.
    async fn add_to_team(&self, _manager: &str, _seller: &str) -> Result<(), StoreError> {
        Err(unsupported("user management"))
    }

    /// Gives `user` the customer account `account`.
    async fn assign_account(&self, _user: &str, _account: &OrgId) -> Result<(), StoreError> {
        Err(unsupported("user management"))
    }

    /// The accounts `user` sees unless they are an admin: assigned ones,
    /// those whose account team has their person, and for a manager those
    /// of their team's sellers.
    async fn visible_accounts(&self, _user: &str) -> Result<Vec<OrgId>, StoreError> {
        Err(unsupported("user management"))
    }

    /// Stores a session by the SHA-256 of its id.
    async fn create_session(
        &self,
        _hash: &str,
        _user: &str,
        _expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        Err(unsupported("sign-in sessions"))
    }

    /// The enabled user of a live (unexpired at `now`) session.
    async fn session_user(&self, _hash: &str, _now: Timestamp) -> Result<Option<User>, StoreError> {
        Err(unsupported("sign-in sessions"))
    }

    /// Ends a session (logout).
    async fn delete_session(&self, _hash: &str) -> Result<(), StoreError> {
        Err(unsupported("sign-in sessions"))
    }

    /// Makes the live token `token` belong to `user`; false when there is
    /// no such token.
    async fn set_token_owner(&self, _token: &str, _user: &str) -> Result<bool, StoreError> {
        Err(unsupported("tokens owned by users"))
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
