//! Service cases on the Neo4j store, as on the embedded store
//! (`src/store/sqlite/service_cases.rs`): each case's own fields (severity,
//! opened, closed, subject) in a `ServiceCase` node keyed by the service
//! desk's case id, beside the `service_case` interaction it became.
//!
//! They feed `renmai leads` only, not account slices, so saving them
//! stamps no block.

use neo4rs::{BoltType, Txn, query};
use renmai_graph::service::{ServiceCase, Severity};
use renmai_graph::{InteractionId, OrgId, PersonId, Timestamp};
use serde::Deserialize;

use super::{Attempt, BATCH, Neo4jStore, Row, StoreError, int, opt_s, s, txn_count};

/// Upserts by case id; returns how many cases were new.
pub(super) async fn save(txn: &mut Txn, cases: &[ServiceCase]) -> Result<usize, Attempt> {
    let mut new = 0;
    for chunk in cases.chunks(BATCH) {
        let rows: Vec<Row> = chunk
            .iter()
            .map(|c| {
                row! {
                    "case_id" => s(&c.case_id),
                    "interaction_id" => s(c.interaction.as_str()),
                    "account_id" => s(c.account.as_str()),
                    "contact_id" => s(c.contact.as_str()),
                    "owner_id" => opt_s(c.owner.as_ref().map(PersonId::as_str)),
                    "opened" => int(c.opened.epoch_seconds()),
                    "closed" => c.closed.map_or(BoltType::Null(neo4rs::BoltNull), |t| int(t.epoch_seconds())),
                    "severity" => opt_s(c.severity.map(Severity::as_str)),
                    "subject" => opt_s(c.subject.as_deref()),
                }
            })
            .collect();
        let len = rows.len();
        let existing = txn_count(
            txn,
            query(
                "UNWIND $rows AS r \
                 OPTIONAL MATCH (old:ServiceCase {case_id: r.case_id}) \
                 WITH r, old IS NOT NULL AS existed \
                 MERGE (c:ServiceCase {case_id: r.case_id}) \
                 SET c.interaction_id = r.interaction_id, c.account_id = r.account_id, \
                     c.contact_id = r.contact_id, c.owner_id = r.owner_id, c.opened = r.opened, \
                     c.closed = r.closed, c.severity = r.severity, c.subject = r.subject \
                 RETURN sum(CASE WHEN existed THEN 1 ELSE 0 END) AS n",
            )
            .param("rows", rows),
        )
        .await? as usize;
        new += len - existing.min(len);
    }
    Ok(new)
}

#[derive(Deserialize)]
struct CaseRow {
    case_id: String,
    interaction_id: String,
    account_id: String,
    contact_id: String,
    owner_id: Option<String>,
    opened: i64,
    closed: Option<i64>,
    severity: Option<String>,
    subject: Option<String>,
}

/// Cases opened at or after `since` (all when `None`), oldest first.
pub(super) async fn load(
    store: &Neo4jStore,
    since: Option<Timestamp>,
) -> Result<Vec<ServiceCase>, StoreError> {
    let since = since.map_or(i64::MIN, Timestamp::epoch_seconds);
    let rows: Vec<CaseRow> = store
        .rows(
            query(
                "MATCH (c:ServiceCase) WHERE c.opened >= $since \
                 RETURN c.case_id AS case_id, c.interaction_id AS interaction_id, \
                        c.account_id AS account_id, c.contact_id AS contact_id, \
                        c.owner_id AS owner_id, c.opened AS opened, c.closed AS closed, \
                        c.severity AS severity, c.subject AS subject",
            )
            .param("since", since),
        )
        .await?;
    let corrupt =
        |e: renmai_graph::ModelError| StoreError::Backend(format!("stored service case: {e}"));
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(ServiceCase {
            case_id: r.case_id,
            interaction: InteractionId::try_from(r.interaction_id).map_err(corrupt)?,
            account: OrgId::try_from(r.account_id).map_err(corrupt)?,
            contact: PersonId::try_from(r.contact_id).map_err(corrupt)?,
            owner: r
                .owner_id
                .map(PersonId::try_from)
                .transpose()
                .map_err(corrupt)?,
            opened: Timestamp::from_epoch_seconds(r.opened),
            closed: r.closed.map(Timestamp::from_epoch_seconds),
            severity: r
                .severity
                .as_deref()
                .map(Severity::parse)
                .transpose()
                .map_err(corrupt)?,
            subject: r.subject,
        });
    }
    // As SQLite's ORDER BY opened, case_id (byte order).
    out.sort_by(|a, b| (a.opened, &a.case_id).cmp(&(b.opened, &b.case_id)));
    Ok(out)
}
