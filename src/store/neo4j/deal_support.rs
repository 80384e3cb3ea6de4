//! Sales support (MCI) on the Neo4j store, as on the embedded store
//! (`src/store/sqlite/deal_support.rs`): who of ours supports which deal,
//! one `DealSupport` node keyed by (deal, person, role).
//!
//! Supporters join the team of the account's slice when it is scored, so
//! a save stamps the accounts of the deals it names (see `block`).

use std::collections::{HashMap, HashSet};

use neo4rs::{Txn, query};
use renmai_graph::support::{DealSupport, SupportRole};
use renmai_graph::{OpportunityId, OrgId, PersonId};
use serde::Deserialize;

use super::{Attempt, Counts, Neo4jStore, Row, StoreError, block, key, opt_s, s, txn_rows};
use crate::import::ImportError;
use crate::validate::{Location, RecordError};

fn support_key(x: &DealSupport) -> String {
    key(&[x.opportunity.as_str(), x.person.as_str(), x.role.as_str()])
}

/// Checks every row against the stored deals and people (the deal exists,
/// the person is one of ours), then upserts them all, or writes nothing.
pub(super) async fn save(
    txn: &mut Txn,
    rows: &[DealSupport],
    locations: &[Location],
) -> Result<Counts, Attempt> {
    #[derive(Deserialize)]
    struct Deal {
        id: String,
        account_id: String,
    }
    #[derive(Deserialize)]
    struct Who {
        id: String,
        is_ours: bool,
    }
    let mut opp_ids: Vec<String> = rows
        .iter()
        .map(|r| r.opportunity.as_str().to_owned())
        .collect();
    opp_ids.sort();
    opp_ids.dedup();
    let mut people: Vec<String> = rows.iter().map(|r| r.person.as_str().to_owned()).collect();
    people.sort();
    people.dedup();
    let deals: HashMap<String, String> = txn_rows::<Deal>(
        txn,
        query(
            "UNWIND $ids AS id MATCH (o:Opportunity {id: id}) \
             RETURN o.id AS id, o.account_id AS account_id",
        )
        .param("ids", opp_ids),
    )
    .await?
    .into_iter()
    .map(|d| (d.id, d.account_id))
    .collect();
    let ours: HashMap<String, bool> = txn_rows::<Who>(
        txn,
        query(
            "UNWIND $ids AS id MATCH (p:Person {id: id}) \
             OPTIONAL MATCH (o:Organization {id: p.org_id}) \
             RETURN p.id AS id, coalesce(o.is_ours, false) AS is_ours",
        )
        .param("ids", people),
    )
    .await?
    .into_iter()
    .map(|w| (w.id, w.is_ours))
    .collect();

    let mut errors = Vec::new();
    for (i, x) in rows.iter().enumerate() {
        let at = locations.get(i).cloned().unwrap_or(Location {
            file: "deal support".into(),
            line: 0,
            path: Some(format!("/{i}")),
        });
        if !deals.contains_key(x.opportunity.as_str()) {
            errors.push(RecordError {
                location: at.clone(),
                field: "opportunity_id".into(),
                value: x.opportunity.to_string(),
                expected: "the id of a stored opportunity".into(),
            });
        }
        let expected = match ours.get(x.person.as_str()) {
            Some(true) => continue,
            Some(false) => "one of our people (this is a customer's person)",
            None => "the id of one of our stored people",
        };
        errors.push(RecordError {
            location: at,
            field: "person_id".into(),
            value: x.person.to_string(),
            expected: expected.into(),
        });
    }
    if !errors.is_empty() {
        return Err(Attempt::Rejected(ImportError::Invalid(errors)));
    }

    #[derive(Deserialize)]
    struct Existing {
        key: String,
    }
    let mut keys: Vec<String> = rows.iter().map(support_key).collect();
    keys.sort();
    keys.dedup();
    let stored: HashSet<String> = txn_rows::<Existing>(
        txn,
        query("UNWIND $keys AS k MATCH (x:DealSupport {key: k}) RETURN x.key AS key")
            .param("keys", keys),
    )
    .await?
    .into_iter()
    .map(|e| e.key)
    .collect();
    // Counted row by row, as the embedded store: a repeated row in one
    // file counts as already stored the second time.
    let mut counts = Counts::default();
    let mut seen: HashSet<String> = HashSet::new();
    for x in rows {
        let k = support_key(x);
        if stored.contains(&k) || !seen.insert(k) {
            counts.existing += 1;
        } else {
            counts.new += 1;
        }
    }
    let out: Vec<Row> = rows
        .iter()
        .map(|x| {
            row! {
                "key" => s(&support_key(x)),
                "opportunity_id" => s(x.opportunity.as_str()),
                "person_id" => s(x.person.as_str()),
                "role" => s(x.role.as_str()),
                "from_date" => s(&x.from.to_string()),
                "to_date" => opt_s(x.to.map(|d| d.to_string()).as_deref()),
            }
        })
        .collect();
    if !out.is_empty() {
        txn.run(
            query(
                "UNWIND $rows AS r MERGE (x:DealSupport {key: r.key}) \
                 SET x.opportunity_id = r.opportunity_id, x.person_id = r.person_id, \
                     x.role = r.role, x.from_date = r.from_date, x.to_date = r.to_date",
            )
            .param("rows", out),
        )
        .await?;
        let touched: HashSet<String> = deals.into_values().collect();
        block::touch(txn, &touched, false).await?;
    }
    Ok(counts)
}

/// Assignments on the deals of `account` (all when `None`) that `scope`
/// (the viewer's accounts) allows, by deal, person and role.
pub(super) async fn load(
    store: &Neo4jStore,
    account: Option<&OrgId>,
    scope: &crate::access::Scope,
) -> Result<Vec<DealSupport>, StoreError> {
    #[derive(Deserialize)]
    struct Found {
        opportunity_id: String,
        person_id: String,
        role: String,
        from_date: String,
        to_date: Option<String>,
        account_id: String,
    }
    const RET: &str = "x.opportunity_id AS opportunity_id, x.person_id AS person_id, \
                       x.role AS role, x.from_date AS from_date, x.to_date AS to_date, \
                       o.account_id AS account_id";
    let rows: Vec<Found> = match account {
        Some(a) => {
            store
                .rows(
                    query(&format!(
                        "MATCH (o:Opportunity {{account_id: $a}}) \
                         MATCH (x:DealSupport {{opportunity_id: o.id}}) RETURN {RET}"
                    ))
                    .param("a", a.as_str()),
                )
                .await?
        }
        None => store
            .rows(query(&format!(
                "MATCH (x:DealSupport) MATCH (o:Opportunity {{id: x.opportunity_id}}) RETURN {RET}"
            )))
            .await?,
    };
    let bad = |e: String| StoreError::Backend(format!("stored deal support: {e}"));
    let date = |s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| bad(format!("{s:?}: {e}")))
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if !scope.allows(&OrgId::try_from(r.account_id).map_err(|e| bad(e.to_string()))?) {
            continue;
        }
        out.push(DealSupport {
            opportunity: OpportunityId::try_from(r.opportunity_id)
                .map_err(|e| bad(e.to_string()))?,
            person: PersonId::try_from(r.person_id).map_err(|e| bad(e.to_string()))?,
            role: SupportRole::parse(&r.role).map_err(|e| bad(e.to_string()))?,
            from: date(&r.from_date)?,
            to: r.to_date.as_deref().map(date).transpose()?,
        });
    }
    // As SQLite's ORDER BY opportunity_id, person_id, role (byte order).
    out.sort_by(|a, b| {
        (a.opportunity.as_str(), a.person.as_str(), a.role.as_str()).cmp(&(
            b.opportunity.as_str(),
            b.person.as_str(),
            b.role.as_str(),
        ))
    });
    Ok(out)
}
