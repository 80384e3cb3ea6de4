//! Users, managers' teams, account assignments, sign-in sessions, login
//! failures and token owners on the Neo4j store, with the embedded store's
//! semantics (`src/store/sqlite/access.rs`; the rules are in `crate::access`).
//!
//! | label         | key                        | indexed              |
//! |---------------|----------------------------|----------------------|
//! | `User`        | `name`                     |                      |
//! | `UserTeam`    | `key` = manager, seller    | `manager`            |
//! | `UserAccount` | `key` = user, account      | `user_name`          |
//! | `UserSession` | `hash` (SHA-256 of the id) | `user_name`, `expires_at` |
//!
//! A token's owner is the `owner` property of its `ApiToken` node. Writes
//! run in explicit transactions (see `in_txn!`); a user is never deleted,
//! so nothing has to cascade.

use std::collections::BTreeSet;

use neo4rs::{Txn, query};
use renmai_graph::{OrgId, PersonId, Timestamp};
use serde::Deserialize;

use super::{Attempt, Neo4jStore, StoreError, key, txn_count};
use crate::access::{LoginRecord, NewUser, Role, User};

/// The labels of this module, for [`Neo4jStore::clear`].
pub const LABELS: &[&str] = &["User", "UserTeam", "UserAccount", "UserSession"];

/// Constraints and indexes of this module, created on connect.
pub const SCHEMA: &[&str] = &[
    "CREATE CONSTRAINT renmai_user_name IF NOT EXISTS FOR (n:User) REQUIRE n.name IS UNIQUE",
    "CREATE CONSTRAINT renmai_user_team_key IF NOT EXISTS FOR (n:UserTeam) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX renmai_user_team_manager IF NOT EXISTS FOR (n:UserTeam) ON (n.manager)",
    "CREATE CONSTRAINT renmai_user_account_key IF NOT EXISTS FOR (n:UserAccount) REQUIRE n.key IS UNIQUE",
    "CREATE INDEX renmai_user_account_user IF NOT EXISTS FOR (n:UserAccount) ON (n.user_name)",
    "CREATE CONSTRAINT renmai_session_hash IF NOT EXISTS FOR (n:UserSession) REQUIRE n.hash IS UNIQUE",
    "CREATE INDEX renmai_session_user IF NOT EXISTS FOR (n:UserSession) ON (n.user_name)",
    "CREATE INDEX renmai_session_expiry IF NOT EXISTS FOR (n:UserSession) ON (n.expires_at)",
    // Whose account teams a seller is on (visible accounts).
    "CREATE INDEX renmai_team_person IF NOT EXISTS FOR (n:TeamMember) ON (n.person_id)",
];

const USER_RET: &str = "u.name AS name, u.role AS role, u.person_id AS person_id, \
                        u.disabled AS disabled, u.created_at AS created_at";

#[derive(Deserialize)]
struct UserRow {
    name: String,
    role: String,
    person_id: Option<String>,
    disabled: Option<bool>,
    created_at: i64,
}

impl UserRow {
    fn into_user(self) -> Result<User, StoreError> {
        Ok(User {
            name: self.name,
            role: self
                .role
                .parse::<Role>()
                .map_err(|e| StoreError::Backend(format!("stored user role: {e}")))?,
            person: self
                .person_id
                .as_deref()
                .map(PersonId::parse)
                .transpose()
                .map_err(|e| StoreError::Backend(format!("stored user person: {e}")))?,
            disabled: self.disabled.unwrap_or(false),
            created_at: Timestamp::from_epoch_seconds(self.created_at),
        })
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn no_user(name: &str) -> Attempt {
    Attempt::Other(StoreError::NotFound(format!(
        "there is no user named {name:?} (`renmai user list` shows them)"
    )))
}

async fn user_exists(txn: &mut Txn, name: &str) -> Result<bool, Attempt> {
    let n = txn_count(
        txn,
        query("MATCH (u:User {name: $name}) RETURN count(u) AS n").param("name", name),
    )
    .await?;
    Ok(n > 0)
}

/// Creates the user unless the name is taken; true when created.
pub async fn create_user(txn: &mut Txn, u: &NewUser) -> Result<bool, Attempt> {
    // The old node is looked up first, so "created" is decided by this
    // statement; the uniqueness constraint makes a concurrent create of the
    // same name conflict (and be retried) instead of making two.
    let q = query(
        "OPTIONAL MATCH (old:User {name: $name}) \
         WITH old IS NULL AS fresh \
         MERGE (u:User {name: $name}) \
         ON CREATE SET u.role = $role, u.password_hash = $hash, u.person_id = $person, \
                       u.disabled = false, u.failed_logins = 0, u.created_at = $now \
         RETURN sum(CASE WHEN fresh THEN 1 ELSE 0 END) AS n",
    )
    .param("name", u.name.as_str())
    .param("role", u.role.as_str())
    .param("hash", u.password_hash.as_str())
    .param(
        "person",
        super::opt_s(u.person.as_ref().map(|p| p.as_str())),
    )
    .param("now", now());
    Ok(txn_count(txn, q).await? > 0)
}

/// Disables or enables a user; disabling ends their sessions.
pub async fn set_disabled(txn: &mut Txn, name: &str, disabled: bool) -> Result<bool, Attempt> {
    let n = txn_count(
        txn,
        query("MATCH (u:User {name: $name}) SET u.disabled = $disabled RETURN count(u) AS n")
            .param("name", name)
            .param("disabled", disabled),
    )
    .await?;
    if disabled {
        end_sessions(txn, name).await?;
    }
    Ok(n > 0)
}

async fn end_sessions(txn: &mut Txn, name: &str) -> Result<(), Attempt> {
    txn.run(query("MATCH (s:UserSession {user_name: $name}) DELETE s").param("name", name))
        .await?;
    Ok(())
}

/// Replaces the password hash, lifts any lock and ends the user's sessions.
pub async fn set_password(txn: &mut Txn, name: &str, hash: &str) -> Result<bool, Attempt> {
    let n = txn_count(
        txn,
        query(
            "MATCH (u:User {name: $name}) \
             SET u.password_hash = $hash, u.failed_logins = 0, u.locked_until = null \
             RETURN count(u) AS n",
        )
        .param("name", name)
        .param("hash", hash),
    )
    .await?;
    end_sessions(txn, name).await?;
    Ok(n > 0)
}

/// Counts a failure; the `lock_after`th in a row locks until `lock_until`
/// and starts the count again.
pub async fn login_failed(
    txn: &mut Txn,
    name: &str,
    lock_after: u32,
    lock_until: Timestamp,
) -> Result<(), Attempt> {
    // Writing first takes the node's write lock (Neo4j) or makes a
    // concurrent failure conflict and retry (ArcadeDB), so two failures at
    // once both count.
    txn.run(
        query("MATCH (u:User {name: $name}) SET u.failed_at = $now")
            .param("name", name)
            .param("now", now()),
    )
    .await?;
    txn.run(
        query(
            "MATCH (u:User {name: $name}) \
             WITH u, coalesce(u.failed_logins, 0) + 1 AS failed \
             SET u.failed_logins = CASE WHEN failed >= $after THEN 0 ELSE failed END, \
                 u.locked_until = CASE WHEN failed >= $after THEN $until ELSE u.locked_until END",
        )
        .param("name", name)
        .param("after", i64::from(lock_after))
        .param("until", lock_until.epoch_seconds()),
    )
    .await?;
    Ok(())
}

pub async fn login_succeeded(txn: &mut Txn, name: &str) -> Result<(), Attempt> {
    txn.run(
        query("MATCH (u:User {name: $name}) SET u.failed_logins = 0, u.locked_until = null")
            .param("name", name),
    )
    .await?;
    Ok(())
}

pub async fn add_to_team(txn: &mut Txn, manager: &str, seller: &str) -> Result<(), Attempt> {
    for n in [manager, seller] {
        if !user_exists(txn, n).await? {
            return Err(no_user(n));
        }
    }
    txn.run(
        query("MERGE (t:UserTeam {key: $key}) SET t.manager = $manager, t.seller = $seller")
            .param("key", key(&[manager, seller]))
            .param("manager", manager)
            .param("seller", seller),
    )
    .await?;
    Ok(())
}

pub async fn assign_account(txn: &mut Txn, user: &str, account: &OrgId) -> Result<(), Attempt> {
    if !user_exists(txn, user).await? {
        return Err(no_user(user));
    }
    let customer = txn_count(
        txn,
        query("MATCH (o:Organization {id: $id}) WHERE o.is_ours = false RETURN count(o) AS n")
            .param("id", account.as_str()),
    )
    .await?;
    if customer == 0 {
        return Err(Attempt::Other(StoreError::NotFound(format!(
            "there is no customer account with id {account}"
        ))));
    }
    txn.run(
        query("MERGE (a:UserAccount {key: $key}) SET a.user_name = $user, a.org_id = $org")
            .param("key", key(&[user, account.as_str()]))
            .param("user", user)
            .param("org", account.as_str()),
    )
    .await?;
    Ok(())
}

/// Stores a session by its hash, dropping expired ones on the way (the
/// sessions stay few).
pub async fn create_session(
    txn: &mut Txn,
    hash: &str,
    user: &str,
    expires_at: Timestamp,
) -> Result<(), Attempt> {
    if !user_exists(txn, user).await? {
        return Err(no_user(user));
    }
    let now = now();
    txn.run(query("MATCH (s:UserSession) WHERE s.expires_at <= $now DELETE s").param("now", now))
        .await?;
    txn.run(
        query(
            "MERGE (s:UserSession {hash: $hash}) \
             SET s.user_name = $user, s.created_at = $now, s.expires_at = $expires",
        )
        .param("hash", hash)
        .param("user", user)
        .param("now", now)
        .param("expires", expires_at.epoch_seconds()),
    )
    .await?;
    Ok(())
}

pub async fn delete_session(txn: &mut Txn, hash: &str) -> Result<(), Attempt> {
    txn.run(query("MATCH (s:UserSession {hash: $hash}) DELETE s").param("hash", hash))
        .await?;
    Ok(())
}

/// Makes the live token `token` carry `user`'s rights.
pub async fn set_token_owner(txn: &mut Txn, token: &str, user: &str) -> Result<bool, Attempt> {
    if !user_exists(txn, user).await? {
        return Err(no_user(user));
    }
    let n = txn_count(
        txn,
        query(
            "MATCH (t:ApiToken {name: $token}) WHERE t.revoked_at IS NULL \
             SET t.owner = $user RETURN count(t) AS n",
        )
        .param("token", token)
        .param("user", user),
    )
    .await?;
    Ok(n > 0)
}

/// Sorts and de-duplicates account ids as SQLite's `UNION … ORDER BY 1`
/// (byte order), parsing each.
fn account_ids(ids: impl IntoIterator<Item = String>) -> Result<Vec<OrgId>, StoreError> {
    ids.into_iter()
        .collect::<BTreeSet<String>>()
        .into_iter()
        .map(|id| {
            OrgId::parse(&id).map_err(|e| StoreError::Backend(format!("stored account id: {e}")))
        })
        .collect()
}

#[derive(Deserialize)]
struct IdRow {
    id: String,
}

/// Reads.
impl Neo4jStore {
    pub(super) async fn access_users(&self) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = self
            .rows(query(&format!("MATCH (u:User) RETURN {USER_RET}")))
            .await?;
        let mut out = rows
            .into_iter()
            .map(UserRow::into_user)
            .collect::<Result<Vec<_>, _>>()?;
        // Byte order of names, as SQLite's ORDER BY name.
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub(super) async fn access_login_record(
        &self,
        name: &str,
    ) -> Result<Option<LoginRecord>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            #[serde(flatten)]
            user: UserRow,
            password_hash: String,
            failed_logins: Option<i64>,
            locked_until: Option<i64>,
        }
        let rows: Vec<Row> = self
            .rows(
                query(&format!(
                    "MATCH (u:User {{name: $name}}) RETURN {USER_RET}, \
                     u.password_hash AS password_hash, u.failed_logins AS failed_logins, \
                     u.locked_until AS locked_until"
                ))
                .param("name", name),
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|r| {
                Ok(LoginRecord {
                    user: r.user.into_user()?,
                    password_hash: r.password_hash,
                    failed_logins: u32::try_from(r.failed_logins.unwrap_or(0).max(0))
                        .unwrap_or(u32::MAX),
                    locked_until: r.locked_until.map(Timestamp::from_epoch_seconds),
                })
            })
            .transpose()
    }

    /// The user and the sellers on their team (whatever the user's role,
    /// as on SQLite: only managers get sellers through `renmai team`).
    async fn members(&self, user: &str) -> Result<Vec<String>, StoreError> {
        #[derive(Deserialize)]
        struct Seller {
            seller: String,
        }
        let sellers: Vec<Seller> = self
            .rows(
                query("MATCH (t:UserTeam {manager: $name}) RETURN t.seller AS seller")
                    .param("name", user),
            )
            .await?;
        let mut members: Vec<String> = sellers.into_iter().map(|s| s.seller).collect();
        members.push(user.to_owned());
        Ok(members)
    }

    pub(super) async fn access_visible_accounts(
        &self,
        user: &str,
    ) -> Result<Vec<OrgId>, StoreError> {
        let members = self.members(user).await?;
        let (assigned, teams) = tokio::try_join!(
            self.rows::<IdRow>(
                query("MATCH (a:UserAccount) WHERE a.user_name IN $members RETURN a.org_id AS id")
                    .param("members", members.clone()),
            ),
            self.rows::<IdRow>(
                query(
                    "MATCH (u:User) WHERE u.name IN $members AND u.person_id IS NOT NULL \
                     MATCH (t:TeamMember {person_id: u.person_id}) RETURN t.org_id AS id",
                )
                .param("members", members),
            ),
        )?;
        account_ids(assigned.into_iter().chain(teams).map(|r| r.id))
    }

    pub(super) async fn access_session_user(
        &self,
        hash: &str,
        now: Timestamp,
    ) -> Result<Option<User>, StoreError> {
        let rows: Vec<UserRow> = self
            .rows(
                query(&format!(
                    "MATCH (s:UserSession {{hash: $hash}}) WHERE s.expires_at > $now \
                     MATCH (u:User {{name: s.user_name}}) WHERE u.disabled = false \
                     RETURN {USER_RET}"
                ))
                .param("hash", hash)
                .param("now", now.epoch_seconds()),
            )
            .await?;
        rows.into_iter().next().map(UserRow::into_user).transpose()
    }

    /// The organization of each stored person among `ids` and whether it
    /// is ours: what [`crate::access::check_write`] needs.
    pub(super) async fn person_orgs(
        &self,
        ids: &[PersonId],
    ) -> Result<std::collections::HashMap<PersonId, (OrgId, bool)>, StoreError> {
        #[derive(Deserialize)]
        struct Row {
            id: String,
            org: String,
            is_ours: bool,
        }
        let ids: Vec<String> = ids.iter().map(|p| p.as_str().to_owned()).collect();
        let rows: Vec<Row> = self
            .rows(
                query(
                    "UNWIND $ids AS id MATCH (p:Person {id: id}) \
                     MATCH (o:Organization {id: p.org_id}) \
                     RETURN p.id AS id, o.id AS org, o.is_ours AS is_ours",
                )
                .param("ids", ids),
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let bad = |e| StoreError::Backend(format!("stored id: {e}"));
                Ok((
                    PersonId::parse(&r.id).map_err(bad)?,
                    (OrgId::parse(&r.org).map_err(bad)?, r.is_ours),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_accounts_are_unique_and_in_byte_order() {
        let ids = account_ids(["b", "a", "B", "a"].map(String::from)).unwrap();
        let ids: Vec<&str> = ids.iter().map(|o| o.as_str()).collect();
        assert_eq!(ids, ["B", "a", "b"]);
    }

    #[test]
    fn a_stored_user_with_a_bad_role_is_a_clear_error() {
        let row = UserRow {
            name: "x".into(),
            role: "king".into(),
            person_id: None,
            disabled: None,
            created_at: 0,
        };
        let err = row.into_user().unwrap_err().to_string();
        assert!(err.contains("stored user role"), "{err}");
    }
}
