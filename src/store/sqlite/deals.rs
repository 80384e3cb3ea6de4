//! Deals on the embedded store: competitors of a deal and its stage history.

use renmai_graph::{OpportunityId, StageChange, Timestamp};
use rusqlite::{Connection, Transaction, params};

use super::{StoreError, corrupt};
use crate::store::Counts;

/// Appended to `MIGRATIONS`: competitors (a JSON array of names) and every
/// dated stage change of a deal.
pub const MIGRATION: &str = r#"
-- deals (TAS+): competitors per deal and the stage history
ALTER TABLE opportunities ADD COLUMN competitors TEXT NOT NULL DEFAULT '[]';
CREATE TABLE opportunity_stages (
    opportunity_id TEXT NOT NULL REFERENCES opportunities(id) DEFERRABLE INITIALLY DEFERRED,
    at             INTEGER NOT NULL,
    stage          TEXT NOT NULL,
    PRIMARY KEY (opportunity_id, at)
) WITHOUT ROWID;
"#;

/// Competitor names as stored.
pub fn competitors_to_sql(c: &[String]) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "[]".into())
}

pub fn competitors_from_sql(s: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(s)
        .map_err(|e| StoreError::Backend(format!("stored competitors do not decode: {e}")))
}

/// Upserts stage changes (key: deal and instant).
pub fn write_stages(
    tx: &Transaction<'_>,
    stages: &[StageChange],
    counts: &mut Counts,
    tick: &mut dyn FnMut() -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut ins = tx.prepare_cached(
        "INSERT OR IGNORE INTO opportunity_stages (opportunity_id, at, stage) VALUES (?1, ?2, ?3)",
    )?;
    let mut upd = tx.prepare_cached(
        "UPDATE opportunity_stages SET stage = ?3 WHERE opportunity_id = ?1 AND at = ?2",
    )?;
    for s in stages {
        let p = params![s.opportunity.as_str(), s.at.epoch_seconds(), s.stage];
        if ins.execute(p)? == 1 {
            counts.new += 1;
        } else {
            upd.execute(p)?;
            counts.existing += 1;
        }
        tick()?;
    }
    Ok(())
}

/// Stage changes selected by `sql` (columns: opportunity_id, at, stage).
pub fn load_stages(
    conn: &Connection,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<StageChange>, StoreError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(args, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (o, at, stage) = r?;
        out.push(StageChange {
            opportunity: OpportunityId::try_from(o).map_err(corrupt)?,
            stage,
            at: Timestamp::from_epoch_seconds(at),
        });
    }
    Ok(out)
}
