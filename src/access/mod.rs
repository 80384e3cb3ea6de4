//! Users, roles and who may see which account.
//!
//! Every HTTP request runs with a [`Viewer`] (set by one middleware,
//! `crate::web::access`, from a session cookie or a bearer token). The
//! viewer's [`Scope`] is read here, on the data path, by the stores' query
//! methods and by the engine before its caches: a handler that reads through
//! them is covered without code of its own. Code that runs outside a request
//! (the CLI, background rescoring) has no viewer and sees everything.
//!
//! Rules: an admin sees every account; a seller the accounts assigned to
//! them (`renmai team assign`) and those whose account team includes the
//! person they are (`renmai user add --person`); a manager their own and
//! those of the sellers on their team. Our own people (colleagues) are
//! visible to every signed-in user; a customer person only with their
//! account. A denied account answers as if it did not exist (404), so its
//! existence is not revealed.

pub mod password;

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use renmai_graph::{OrgId, PersonId, Timestamp};
use serde::{Deserialize, Serialize};
use std::time::Duration;

use crate::auth::TokenScope;
use crate::bundle::Bundle;
use crate::store::StoreError;

/// Sign-in settings (`[access]` in the config file).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    /// Mark cookies `Secure` (set it when renmai is served over TLS; it is
    /// also set for requests a proxy marks `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// How long a session lasts, in minutes.
    pub session_minutes: u32,
    /// Failed logins in a row that lock a user.
    pub lock_after: u32,
    /// How long a lock lasts, in minutes.
    pub lock_minutes: u32,
    /// Longest time a request may take, in seconds (then 408).
    pub request_timeout_seconds: u32,
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            secure_cookies: false,
            session_minutes: 12 * 60,
            lock_after: 5,
            lock_minutes: 15,
            request_timeout_seconds: 30,
        }
    }
}

impl AccessConfig {
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.request_timeout_seconds.max(1)))
    }
}

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Sees every account; the only role that may use `renmai user`.
    Admin,
    /// A coach: sees their own accounts and their sellers'.
    Manager,
    /// Sees their own accounts.
    Seller,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Seller => "seller",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "manager" | "coach" => Ok(Role::Manager),
            "seller" => Ok(Role::Seller),
            _ => Err(format!(
                "role must be admin, manager (or coach) or seller, not {s:?}"
            )),
        }
    }
}

/// A stored user (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub name: String,
    pub role: Role,
    /// Which of our people this user is: their account-team rows are
    /// their accounts.
    pub person: Option<PersonId>,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// A user as the login check needs them.
#[derive(Debug, Clone)]
pub struct LoginRecord {
    pub user: User,
    pub password_hash: String,
    pub failed_logins: u32,
    pub locked_until: Option<Timestamp>,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub person: Option<PersonId>,
}

/// User names: 1..=64 characters of letters, digits, `-`, `_`, `.`, `@`.
pub fn validate_user_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a user name has 1 to 64 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        return Err(format!(
            "user name {name:?}: use letters, digits, '-', '_', '.' or '@'"
        ));
    }
    Ok(())
}

/// Which accounts a viewer may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Accounts(Arc<HashSet<OrgId>>),
}

impl Scope {
    pub fn none() -> Scope {
        Scope::Accounts(Arc::new(HashSet::new()))
    }

    pub fn allows(&self, account: &OrgId) -> bool {
        match self {
            Scope::All => true,
            Scope::Accounts(set) => set.contains(account),
        }
    }
}

/// Who is asking: the user (none for an operator token made without
/// `--user`, which acts as an admin), their role, what they may see, and
/// how they proved it.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: Option<User>,
    pub role: Role,
    pub scope: Scope,
    /// The API token used, when the request carried one.
    pub token: Option<crate::auth::ApiToken>,
}

impl Viewer {
    /// Nobody signed in: sees nothing.
    pub fn anonymous() -> Viewer {
        Viewer {
            user: None,
            role: Role::Seller,
            scope: Scope::none(),
            token: None,
        }
    }

    pub fn name(&self) -> &str {
        self.user.as_ref().map_or("operator", |u| u.name.as_str())
    }

    /// Whether this viewer may write: sessions may; tokens need `write`.
    pub fn may_write(&self) -> bool {
        self.token
            .as_ref()
            .is_none_or(|t| t.scope.allows(TokenScope::Write))
    }
}

tokio::task_local! {
    static VIEWER: Arc<Viewer>;
}

/// Runs `fut` as `viewer`: every scoped read inside it is filtered.
pub async fn run_as<F: std::future::Future>(viewer: Arc<Viewer>, fut: F) -> F::Output {
    VIEWER.scope(viewer, fut).await
}

/// Runs `fut` with no viewer (full access): for work whose result is
/// shared by all viewers (the engine's caches), after access was checked.
pub async fn unrestricted<F: std::future::Future>(fut: F) -> F::Output {
    let all = Arc::new(Viewer {
        user: None,
        role: Role::Admin,
        scope: Scope::All,
        token: None,
    });
    VIEWER.scope(all, fut).await
}

/// The viewer of the current request, if any.
pub fn current() -> Option<Arc<Viewer>> {
    VIEWER.try_with(|v| v.clone()).ok()
}

/// How provenance and the audit log name a page request's author:
/// `page:NAME` for the signed-in user.
pub fn page_actor() -> String {
    current().map_or_else(|| "page".to_owned(), |v| format!("page:{}", v.name()))
}

/// The current scope: everything outside a request.
pub fn scope() -> Scope {
    current().map_or(Scope::All, |v| v.scope.clone())
}

/// Whether the current viewer may see `account`.
pub fn may_see(account: &OrgId) -> bool {
    scope().allows(account)
}

/// `NotFound` (as if there were no such account) unless the current
/// viewer may see `account`.
pub fn require(account: &OrgId) -> Result<(), StoreError> {
    if may_see(account) {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!(
            "no customer account with id {account}"
        )))
    }
}

/// For store operations that are not filtered per account (erasing a
/// person on Neo4j): refuses a restricted viewer rather than letting them
/// act on everything.
pub fn require_unrestricted() -> Result<(), StoreError> {
    if scope() == Scope::All {
        Ok(())
    } else {
        Err(StoreError::Denied(
            "only an admin (or an operator token) may do this: it is not limited to your accounts"
                .into(),
        ))
    }
}

/// Whether the current viewer may see someone of org `org` (`is_ours`:
/// our own company, visible to everyone signed in).
pub fn may_see_person(org: &OrgId, is_ours: bool) -> bool {
    match current() {
        None => true,
        Some(v) => (is_ours && (v.user.is_some() || v.token.is_some())) || v.scope.allows(org),
    }
}

/// A bundle cut down to what the current viewer may see: their accounts,
/// our own company, the people in them and the records between those.
pub fn filter_bundle(mut b: Bundle) -> Bundle {
    let scope = scope();
    if scope == Scope::All {
        return b;
    }
    b.organizations.retain(|o| o.is_ours || scope.allows(&o.id));
    let orgs: HashSet<OrgId> = b.organizations.iter().map(|o| o.id.clone()).collect();
    b.people.retain(|p| orgs.contains(&p.org));
    let people: HashSet<PersonId> = b.people.iter().map(|p| p.id.clone()).collect();
    b.account_team
        .retain(|t| scope.allows(&t.org) && people.contains(&t.person));
    b.interactions
        .retain(|i| i.participants.iter().all(|p| people.contains(p)));
    b.influences
        .retain(|i| people.contains(&i.from) && people.contains(&i.to));
    b.assessments
        .retain(|a| people.contains(&a.from) && people.contains(&a.to));
    b.opportunities.retain(|o| scope.allows(&o.account));
    let opps: HashSet<_> = b.opportunities.iter().map(|o| o.id.clone()).collect();
    b.opportunity_contacts
        .retain(|c| opps.contains(&c.opportunity) && people.contains(&c.person));
    b
}

/// The people a restricted viewer's write names (whose organizations the
/// store must look up for [`check_write`]); empty for an unrestricted one.
pub fn people_written(bundle: &Bundle) -> Vec<PersonId> {
    if scope() == Scope::All {
        return Vec::new();
    }
    let mut v: Vec<PersonId> = bundle
        .interactions
        .iter()
        .flat_map(|i| i.participants.iter().cloned())
        .chain(
            bundle
                .assessments
                .iter()
                .flat_map(|a| [a.from.clone(), a.to.clone()]),
        )
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Whether the current viewer may write `bundle`. `org_of` names the
/// organization of a stored person (and whether it is ours). A restricted
/// viewer writes interactions and assessments of the people of their
/// accounts, nothing else; someone of another account is "not found".
pub fn check_write(
    bundle: &Bundle,
    org_of: &dyn Fn(&PersonId) -> Option<(OrgId, bool)>,
) -> Result<(), StoreError> {
    let scope = scope();
    if scope == Scope::All {
        return Ok(());
    }
    if !(bundle.organizations.is_empty()
        && bundle.people.is_empty()
        && bundle.account_team.is_empty()
        && bundle.influences.is_empty()
        && bundle.opportunities.is_empty()
        && bundle.opportunity_contacts.is_empty())
    {
        return Err(StoreError::Denied(
            "only an admin may write organizations, people, teams, influences or deals".into(),
        ));
    }
    let people = bundle
        .interactions
        .iter()
        .flat_map(|i| i.participants.iter())
        .chain(bundle.assessments.iter().flat_map(|a| [&a.from, &a.to]));
    for p in people {
        match org_of(p) {
            Some((_, true)) => {}
            Some((org, false)) if scope.allows(&org) => {}
            // Unknown people are left to validation, which names them.
            None => {}
            Some(_) => return Err(StoreError::NotFound(format!("no person with id {p}"))),
        }
    }
    Ok(())
}
