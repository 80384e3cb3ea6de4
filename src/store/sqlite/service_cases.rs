//! Service cases on the embedded store: each case's own fields (severity,
//! opened, closed, subject) beside the `service_case` interaction it became.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::StoreError;
use renmai_graph::service::{ServiceCase, Severity};
use renmai_graph::{InteractionId, OrgId, PersonId, Timestamp};

pub(super) const MIGRATION: &str = r#"
-- service cases (CSM): a case's own fields, keyed by the service desk's case
-- id; its contact is the interaction `interaction_id`.
CREATE TABLE service_cases (
    case_id        TEXT PRIMARY KEY,
    interaction_id TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    contact_id     TEXT NOT NULL,
    owner_id       TEXT,
    opened         INTEGER NOT NULL,
    closed         INTEGER,
    severity       TEXT,
    subject        TEXT
) WITHOUT ROWID;
CREATE INDEX service_cases_opened ON service_cases (opened);
"#;

/// Upserts by case id; returns how many cases were new.
pub(super) fn save(tx: &Transaction<'_>, cases: &[ServiceCase]) -> Result<usize, StoreError> {
    let mut exists = tx.prepare_cached("SELECT 1 FROM service_cases WHERE case_id = ?1")?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO service_cases \
         (case_id, interaction_id, account_id, contact_id, owner_id, opened, closed, severity, subject) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (case_id) DO UPDATE SET interaction_id = excluded.interaction_id, \
         account_id = excluded.account_id, contact_id = excluded.contact_id, \
         owner_id = excluded.owner_id, opened = excluded.opened, closed = excluded.closed, \
         severity = excluded.severity, subject = excluded.subject",
    )?;
    let mut new = 0;
    for c in cases {
        if exists
            .query_row([&c.case_id], |_| Ok(()))
            .optional()?
            .is_none()
        {
            new += 1;
        }
        upsert.execute(params![
            c.case_id,
            c.interaction.as_str(),
            c.account.as_str(),
            c.contact.as_str(),
            c.owner.as_ref().map(PersonId::as_str),
            c.opened.epoch_seconds(),
            c.closed.map(Timestamp::epoch_seconds),
            c.severity.map(Severity::as_str),
            c.subject,
        ])?;
    }
    Ok(new)
}

/// Cases opened at or after `since`, oldest first.
pub(super) fn load(
    conn: &Connection,
    since: Option<Timestamp>,
) -> Result<Vec<ServiceCase>, StoreError> {
    let mut q = conn.prepare_cached(
        "SELECT case_id, interaction_id, account_id, contact_id, owner_id, opened, closed, severity, subject \
         FROM service_cases WHERE opened >= ?1 ORDER BY opened, case_id",
    )?;
    let since = since.map_or(i64::MIN, Timestamp::epoch_seconds);
    let rows = q.query_map([since], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, Option<i64>>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<String>>(8)?,
        ))
    })?;
    let corrupt =
        |e: renmai_graph::ModelError| StoreError::Backend(format!("stored service case: {e}"));
    let mut out = Vec::new();
    for r in rows {
        let (case_id, ix, account, contact, owner, opened, closed, severity, subject) = r?;
        out.push(ServiceCase {
            case_id,
            interaction: InteractionId::try_from(ix).map_err(corrupt)?,
            account: OrgId::try_from(account).map_err(corrupt)?,
            contact: PersonId::try_from(contact).map_err(corrupt)?,
            owner: owner.map(PersonId::try_from).transpose().map_err(corrupt)?,
            opened: Timestamp::from_epoch_seconds(opened),
            closed: closed.map(Timestamp::from_epoch_seconds),
            severity: severity
                .as_deref()
                .map(Severity::parse)
                .transpose()
                .map_err(corrupt)?,
            subject,
        });
    }
    Ok(out)
}
