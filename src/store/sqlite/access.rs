//! Users, teams, account assignments, sessions and login failures on the
//! embedded store (see `crate::access` for the rules).

use renmai_graph::{OrgId, PersonId, Timestamp};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::StoreError;
use crate::access::{LoginRecord, NewUser, Role, User};

/// Appended to the store's migrations.
pub const MIGRATION: &str = r#"
-- users and access (issue 10)
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'manager', 'seller')),
    password_hash TEXT NOT NULL, -- argon2id PHC string
    person_id     TEXT,          -- which of our people the user is
    disabled      INTEGER NOT NULL DEFAULT 0,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  INTEGER,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE user_teams (
    manager TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    seller  TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    PRIMARY KEY (manager, seller)
) WITHOUT ROWID;

CREATE TABLE user_accounts (
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    org_id    TEXT NOT NULL,
    PRIMARY KEY (user_name, org_id)
) WITHOUT ROWID;

CREATE TABLE sessions (
    hash       TEXT PRIMARY KEY, -- SHA-256 of the cookie's random id
    user_name  TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_name);

-- the user whose rights a token carries; NULL: an operator token (admin)
ALTER TABLE api_tokens ADD COLUMN owner TEXT;
"#;

const USER_COLS: &str = "name, role, person_id, disabled, created_at";

fn user_from_row(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, Option<String>, bool, i64)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn make_user(
    (name, role, person, disabled, created_at): (String, String, Option<String>, bool, i64),
) -> Result<User, StoreError> {
    Ok(User {
        name,
        role: role
            .parse::<Role>()
            .map_err(|e| StoreError::Backend(format!("stored user role: {e}")))?,
        person: person
            .as_deref()
            .map(PersonId::parse)
            .transpose()
            .map_err(|e| StoreError::Backend(format!("stored user person: {e}")))?,
        disabled,
        created_at: Timestamp::from_epoch_seconds(created_at),
    })
}

fn no_user(name: &str) -> StoreError {
    StoreError::NotFound(format!(
        "there is no user named {name:?} (`renmai user list` shows them)"
    ))
}

fn user_exists(c: &Connection, name: &str) -> Result<bool, StoreError> {
    Ok(c.prepare_cached("SELECT 1 FROM users WHERE name = ?1")?
        .exists([name])?)
}

pub fn create_user(tx: &Transaction<'_>, u: &NewUser) -> Result<bool, StoreError> {
    let n = tx.execute(
        "INSERT OR IGNORE INTO users (name, role, password_hash, person_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            u.name,
            u.role.as_str(),
            u.password_hash,
            u.person.as_ref().map(|p| p.as_str()),
            chrono::Utc::now().timestamp()
        ],
    )?;
    Ok(n > 0)
}

pub fn users(c: &Connection) -> Result<Vec<User>, StoreError> {
    let mut q = c.prepare_cached(&format!("SELECT {USER_COLS} FROM users ORDER BY name"))?;
    let rows = q.query_map([], user_from_row)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(make_user(r?)?);
    }
    Ok(out)
}

pub fn login_record(c: &Connection, name: &str) -> Result<Option<LoginRecord>, StoreError> {
    let row = c
        .prepare_cached(&format!(
            "SELECT {USER_COLS}, password_hash, failed_logins, locked_until FROM users WHERE name = ?1"
        ))?
        .query_row([name], |r| {
            Ok((
                user_from_row(r)?,
                r.get::<_, String>(5)?,
                r.get::<_, u32>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ))
        })
        .optional()?;
    row.map(|(u, password_hash, failed_logins, locked)| {
        Ok(LoginRecord {
            user: make_user(u)?,
            password_hash,
            failed_logins,
            locked_until: locked.map(Timestamp::from_epoch_seconds),
        })
    })
    .transpose()
}

pub fn set_disabled(tx: &Transaction<'_>, name: &str, disabled: bool) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE users SET disabled = ?2 WHERE name = ?1",
        params![name, disabled],
    )?;
    if disabled {
        tx.execute("DELETE FROM sessions WHERE user_name = ?1", [name])?;
    }
    Ok(n > 0)
}

pub fn set_password(tx: &Transaction<'_>, name: &str, hash: &str) -> Result<bool, StoreError> {
    let n = tx.execute(
        "UPDATE users SET password_hash = ?2, failed_logins = 0, locked_until = NULL WHERE name = ?1",
        params![name, hash],
    )?;
    tx.execute("DELETE FROM sessions WHERE user_name = ?1", [name])?;
    Ok(n > 0)
}

pub fn login_failed(
    tx: &Transaction<'_>,
    name: &str,
    lock_after: u32,
    lock_until: Timestamp,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE users SET failed_logins = failed_logins + 1 WHERE name = ?1",
        [name],
    )?;
    tx.execute(
        "UPDATE users SET failed_logins = 0, locked_until = ?3 WHERE name = ?1 AND failed_logins >= ?2",
        params![name, lock_after, lock_until.epoch_seconds()],
    )?;
    Ok(())
}

pub fn login_succeeded(tx: &Transaction<'_>, name: &str) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE name = ?1",
        [name],
    )?;
    Ok(())
}

pub fn add_to_team(tx: &Transaction<'_>, manager: &str, seller: &str) -> Result<(), StoreError> {
    for n in [manager, seller] {
        if !user_exists(tx, n)? {
            return Err(no_user(n));
        }
    }
    tx.execute(
        "INSERT OR IGNORE INTO user_teams (manager, seller) VALUES (?1, ?2)",
        [manager, seller],
    )?;
    Ok(())
}

pub fn assign_account(tx: &Transaction<'_>, user: &str, account: &OrgId) -> Result<(), StoreError> {
    if !user_exists(tx, user)? {
        return Err(no_user(user));
    }
    if !tx
        .prepare_cached("SELECT 1 FROM organizations WHERE id = ?1 AND is_ours = 0")?
        .exists([account.as_str()])?
    {
        return Err(StoreError::NotFound(format!(
            "there is no customer account with id {account}"
        )));
    }
    tx.execute(
        "INSERT OR IGNORE INTO user_accounts (user_name, org_id) VALUES (?1, ?2)",
        [user, account.as_str()],
    )?;
    Ok(())
}

pub fn visible_accounts(c: &Connection, user: &str) -> Result<Vec<OrgId>, StoreError> {
    let mut q = c.prepare_cached(
        "WITH members(name) AS (SELECT ?1 UNION SELECT seller FROM user_teams WHERE manager = ?1) \
         SELECT org_id FROM user_accounts WHERE user_name IN (SELECT name FROM members) \
         UNION \
         SELECT t.org_id FROM account_team t JOIN users u ON u.person_id = t.person_id \
         WHERE u.name IN (SELECT name FROM members) \
         ORDER BY 1",
    )?;
    let rows = q.query_map([user], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for r in rows {
        out.push(
            OrgId::parse(&r?)
                .map_err(|e| StoreError::Backend(format!("stored account id: {e}")))?,
        );
    }
    Ok(out)
}

pub fn create_session(
    tx: &Transaction<'_>,
    hash: &str,
    user: &str,
    expires_at: Timestamp,
) -> Result<(), StoreError> {
    let now = chrono::Utc::now().timestamp();
    // Expired sessions go when new ones come: the table stays small.
    tx.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])?;
    tx.execute(
        "INSERT INTO sessions (hash, user_name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![hash, user, now, expires_at.epoch_seconds()],
    )?;
    Ok(())
}

pub fn session_user(
    c: &Connection,
    hash: &str,
    now: Timestamp,
) -> Result<Option<User>, StoreError> {
    let row = c
        .prepare_cached(
            "SELECT u.name, u.role, u.person_id, u.disabled, u.created_at FROM sessions s \
             JOIN users u ON u.name = s.user_name \
             WHERE s.hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0",
        )?
        .query_row(params![hash, now.epoch_seconds()], user_from_row)
        .optional()?;
    row.map(make_user).transpose()
}

pub fn delete_session(tx: &Transaction<'_>, hash: &str) -> Result<(), StoreError> {
    tx.execute("DELETE FROM sessions WHERE hash = ?1", [hash])?;
    Ok(())
}

pub fn set_token_owner(tx: &Transaction<'_>, token: &str, user: &str) -> Result<bool, StoreError> {
    if !user_exists(tx, user)? {
        return Err(no_user(user));
    }
    let n = tx.execute(
        "UPDATE api_tokens SET owner = ?2 WHERE name = ?1 AND revoked_at IS NULL",
        [token, user],
    )?;
    Ok(n > 0)
}
