//! Sales support (MCI) on the embedded store: who of ours supports which deal.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Counts, StoreError};
use crate::import::ImportError;
use crate::validate::{Location, RecordError};
use renmai_graph::support::{DealSupport, SupportRole};
use renmai_graph::{OpportunityId, OrgId, PersonId};

pub(super) const MIGRATION: &str = r#"
-- sales support (MCI): our presales and experts assigned to deals.
CREATE TABLE deal_support (
    opportunity_id TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    role           TEXT NOT NULL,
    from_date      TEXT NOT NULL,
    to_date        TEXT,
    PRIMARY KEY (opportunity_id, person_id, role)
) WITHOUT ROWID;
CREATE INDEX deal_support_person ON deal_support (person_id);
"#;

/// Checks every row against the stored deals and people (the deal exists,
/// the person is one of ours), then upserts them all, or writes nothing.
pub(super) fn save(
    tx: &Transaction<'_>,
    rows: &[DealSupport],
    locations: &[Location],
) -> Result<Counts, StoreError> {
    let mut deal = tx.prepare_cached("SELECT 1 FROM opportunities WHERE id = ?1")?;
    let mut ours = tx.prepare_cached(
        "SELECT o.is_ours FROM people p JOIN organizations o ON o.id = p.org_id WHERE p.id = ?1",
    )?;
    let mut errors = Vec::new();
    for (i, s) in rows.iter().enumerate() {
        let at = locations.get(i).cloned().unwrap_or(Location {
            file: "deal support".into(),
            line: 0,
            path: Some(format!("/{i}")),
        });
        if !deal.exists([s.opportunity.as_str()])? {
            errors.push(RecordError {
                location: at.clone(),
                field: "opportunity_id".into(),
                value: s.opportunity.to_string(),
                expected: "the id of a stored opportunity".into(),
            });
        }
        match ours
            .query_row([s.person.as_str()], |r| r.get::<_, bool>(0))
            .optional()?
        {
            Some(true) => {}
            Some(false) => errors.push(RecordError {
                location: at,
                field: "person_id".into(),
                value: s.person.to_string(),
                expected: "one of our people (this is a customer's person)".into(),
            }),
            None => errors.push(RecordError {
                location: at,
                field: "person_id".into(),
                value: s.person.to_string(),
                expected: "the id of one of our stored people".into(),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::Rejected(ImportError::Invalid(errors)));
    }
    let mut exists = tx.prepare_cached(
        "SELECT 1 FROM deal_support WHERE opportunity_id = ?1 AND person_id = ?2 AND role = ?3",
    )?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO deal_support (opportunity_id, person_id, role, from_date, to_date) \
         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (opportunity_id, person_id, role) \
         DO UPDATE SET from_date = excluded.from_date, to_date = excluded.to_date",
    )?;
    let mut counts = Counts::default();
    for s in rows {
        let key = params![s.opportunity.as_str(), s.person.as_str(), s.role.as_str()];
        if exists.exists(key)? {
            counts.existing += 1;
        } else {
            counts.new += 1;
        }
        upsert.execute(params![
            s.opportunity.as_str(),
            s.person.as_str(),
            s.role.as_str(),
            s.from.to_string(),
            s.to.map(|d| d.to_string()),
        ])?;
    }
    Ok(counts)
}

/// Assignments on the deals of `account` (all when `None`).
/// Only assignments on deals of accounts in `scope` (the viewer's).
pub(super) fn load(
    conn: &Connection,
    account: Option<&OrgId>,
    scope: &crate::access::Scope,
) -> Result<Vec<DealSupport>, StoreError> {
    let mut q = conn.prepare_cached(
        "SELECT s.opportunity_id, s.person_id, s.role, s.from_date, s.to_date, o.account_id FROM deal_support s \
         JOIN opportunities o ON o.id = s.opportunity_id \
         WHERE ?1 IS NULL OR o.account_id = ?1 ORDER BY s.opportunity_id, s.person_id, s.role",
    )?;
    let rows = q.query_map([account.map(OrgId::as_str)], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let bad = |e: String| StoreError::Backend(format!("stored deal support: {e}"));
    let date = |s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| bad(format!("{s:?}: {e}")))
    };
    let mut out = Vec::new();
    for r in rows {
        let (opp, person, role, from, to, deal_account) = r?;
        if !scope.allows(&OrgId::try_from(deal_account).map_err(|e| bad(e.to_string()))?) {
            continue;
        }
        out.push(DealSupport {
            opportunity: OpportunityId::try_from(opp).map_err(|e| bad(e.to_string()))?,
            person: PersonId::try_from(person).map_err(|e| bad(e.to_string()))?,
            role: SupportRole::parse(&role).map_err(|e| bad(e.to_string()))?,
            from: date(&from)?,
            to: to.as_deref().map(date).transpose()?,
        });
    }
    Ok(out)
}
