//! Identity upkeep on the Neo4j store, with the embedded store's semantics
//! (`src/store/sqlite/identity.rs`): the review list of possible
//! duplicates, merging two people into one and splitting a merge again.
//!
//! A merge rewrites every reference to the merged person (interactions,
//! team, influence and assessment lines, deal roles, reporting lines, deal
//! ownership, e-mail addresses and CRM ids) to the survivor in one
//! transaction and keeps an undo record (`PersonMerge`) of exactly what it
//! removed and added; a split replays it backwards, so what was added to the
//! survivor after the merge stays with the survivor.
//!
//! Review pairs are `IdentityReview` nodes keyed by (existing, new).

use std::collections::{HashMap, HashSet};

use neo4rs::{Txn, query};
use renmai_graph::*;
use serde::{Deserialize, Serialize};

use super::{
    ASSESSMENT_FIELDS, ASSESSMENT_RET, AssessmentRow, Attempt, CONTACT_FIELDS, CONTACT_RET,
    ContactRow, INFLUENCE_FIELDS, INFLUENCE_RET, INTERACTION_RET, InfluenceRow, InteractionRow,
    PERSON_FIELDS, PERSON_RET, PersonRow, Row, StoreError, TEAM_FIELDS, TEAM_RET, TeamRow,
    assessment_key, assessment_row, block, contact_key, contact_row, influence_key, influence_row,
    int, key, list, opt_s, person_keys, person_row, s, team_key, team_row, txn_count, txn_rows,
};
use crate::ingest::resolve::MergeCandidate;
use crate::store::{MergeReport, ReviewItem};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A line between people, as kept in an undo record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Line {
    Team(TeamMember),
    Influence(Influence),
    Assessment(Assessment),
    Contact(OpportunityContact),
}

impl Line {
    fn label(&self) -> &'static str {
        match self {
            Line::Team(_) => "TeamMember",
            Line::Influence(_) => "Influence",
            Line::Assessment(_) => "Assessment",
            Line::Contact(_) => "OpportunityContact",
        }
    }
    fn key(&self) -> String {
        match self {
            Line::Team(t) => team_key(t),
            Line::Influence(x) => influence_key(x),
            Line::Assessment(a) => assessment_key(a),
            Line::Contact(c) => contact_key(c),
        }
    }
    fn row(&self) -> (Row, &'static [&'static str]) {
        match self {
            Line::Team(t) => (team_row(t), TEAM_FIELDS),
            Line::Influence(x) => (influence_row(x), INFLUENCE_FIELDS),
            Line::Assessment(a) => (assessment_row(a), ASSESSMENT_FIELDS),
            Line::Contact(c) => (contact_row(c), CONTACT_FIELDS),
        }
    }
    /// The line with `from` replaced by `to` wherever it names a person;
    /// `None` when that would make a line from someone to themselves.
    fn moved(&self, from: &PersonId, to: &PersonId) -> Option<Line> {
        let swap = |p: &PersonId| if p == from { to.clone() } else { p.clone() };
        Some(match self {
            Line::Team(t) => Line::Team(TeamMember {
                person: swap(&t.person),
                ..t.clone()
            }),
            Line::Influence(x) => {
                let (f, t) = (swap(&x.from), swap(&x.to));
                if f == t {
                    return None;
                }
                Line::Influence(Influence {
                    from: f,
                    to: t,
                    ..x.clone()
                })
            }
            Line::Assessment(a) => {
                let (f, t) = (swap(&a.from), swap(&a.to));
                if f == t {
                    return None;
                }
                Line::Assessment(Assessment {
                    from: f,
                    to: t,
                    by: a.by.as_ref().map(swap),
                    ..a.clone()
                })
            }
            Line::Contact(c) => Line::Contact(OpportunityContact {
                person: swap(&c.person),
                ..c.clone()
            }),
        })
    }
}

/// An interaction as it was before a merge, with its accounts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct StoredInteraction {
    pub(super) interaction: Interaction,
    pub(super) account: Option<String>,
    /// Its further accounts (`InteractionAccount` nodes).
    pub(super) more_accounts: Vec<String>,
}

/// Everything a merge changed, to undo it.
#[derive(Debug, Serialize, Deserialize)]
struct Undo {
    person: Person,
    survivor: Person,
    emails: Vec<String>,
    external_ids: Vec<String>,
    removed: Vec<Line>,
    added: Vec<Line>,
    /// People who reported to the merged person.
    reports: Vec<String>,
    /// Deals the merged person owned.
    owned: Vec<String>,
    interactions: Vec<StoredInteraction>,
}

async fn person(txn: &mut Txn, id: &PersonId) -> Result<Option<Person>, Attempt> {
    let rows: Vec<PersonRow> = txn_rows(
        txn,
        query(&format!("MATCH (p:Person {{id: $id}}) RETURN {PERSON_RET}"))
            .param("id", id.as_str()),
    )
    .await?;
    match rows.into_iter().next() {
        Some(r) => Ok(Some(r.into_person()?)),
        None => Ok(None),
    }
}

pub(super) async fn must_person(txn: &mut Txn, id: &PersonId) -> Result<Person, Attempt> {
    person(txn, id)
        .await?
        .ok_or_else(|| Attempt::Other(StoreError::NotFound(format!("no person with id {id}"))))
}

/// Writes `p` (every property, keyed by id).
async fn put_person(txn: &mut Txn, p: &Person) -> Result<(), Attempt> {
    let sets: Vec<String> = PERSON_FIELDS
        .iter()
        .map(|f| format!("n.{f} = r.{f}"))
        .collect();
    txn.run(
        query(&format!(
            "UNWIND $rows AS r MERGE (n:Person {{id: r.id}}) SET {}",
            sets.join(", ")
        ))
        .param("rows", vec![person_row(p)]),
    )
    .await?;
    Ok(())
}

/// Every line that names `id`.
async fn lines_of(txn: &mut Txn, id: &PersonId) -> Result<Vec<Line>, Attempt> {
    let p = id.as_str();
    let mut out = Vec::new();
    let team: Vec<TeamRow> = txn_rows(
        txn,
        query(&format!(
            "MATCH (t:TeamMember) WHERE t.person_id = $p RETURN {TEAM_RET}"
        ))
        .param("p", p),
    )
    .await?;
    for r in team {
        out.push(Line::Team(r.into_member()?));
    }
    // Index seeks on each side (an OR would scan on some servers).
    let mut seen = HashSet::new();
    for side in ["from_id", "to_id"] {
        let rows: Vec<InfluenceRow> = txn_rows(
            txn,
            query(&format!(
                "MATCH (x:Influence {{{side}: $p}}) RETURN {INFLUENCE_RET}"
            ))
            .param("p", p),
        )
        .await?;
        for r in rows {
            let x = r.into_influence()?;
            if seen.insert(influence_key(&x)) {
                out.push(Line::Influence(x));
            }
        }
    }
    for side in ["from_id", "to_id", "by_id"] {
        let rows: Vec<AssessmentRow> = txn_rows(
            txn,
            query(&format!(
                "MATCH (a:Assessment) WHERE a.{side} = $p RETURN {ASSESSMENT_RET}"
            ))
            .param("p", p),
        )
        .await?;
        for r in rows {
            let a = r.into_assessment()?;
            if seen.insert(assessment_key(&a)) {
                out.push(Line::Assessment(a));
            }
        }
    }
    let contacts: Vec<ContactRow> = txn_rows(
        txn,
        query(&format!(
            "MATCH (c:OpportunityContact) WHERE c.person_id = $p RETURN {CONTACT_RET}"
        ))
        .param("p", p),
    )
    .await?;
    for r in contacts {
        out.push(Line::Contact(r.into_contact()?));
    }
    Ok(out)
}

async fn delete_line(txn: &mut Txn, line: &Line) -> Result<(), Attempt> {
    txn.run(
        query(&format!("MATCH (n:{} {{key: $k}}) DELETE n", line.label())).param("k", line.key()),
    )
    .await?;
    Ok(())
}

/// Writes `line` unless a line with its key exists; true when written.
async fn insert_line(txn: &mut Txn, line: &Line) -> Result<bool, Attempt> {
    let label = line.label();
    let exists = txn_count(
        txn,
        query(&format!(
            "MATCH (n:{label} {{key: $k}}) RETURN count(n) AS n"
        ))
        .param("k", line.key()),
    )
    .await?;
    if exists > 0 {
        return Ok(false);
    }
    let (row, fields) = line.row();
    let sets: Vec<String> = fields.iter().map(|f| format!("n.{f} = r.{f}")).collect();
    txn.run(
        query(&format!(
            "UNWIND $rows AS r MERGE (n:{label} {{key: r.key}}) SET {}",
            sets.join(", ")
        ))
        .param("rows", vec![row]),
    )
    .await?;
    Ok(true)
}

/// Interactions `id` takes part in, with their accounts: found through
/// the accounts of the person's organization when it is a customer (index
/// seeks), by a scan for our own people.
pub(super) async fn interactions_of(
    txn: &mut Txn,
    p: &Person,
    ours: bool,
) -> Result<Vec<StoredInteraction>, Attempt> {
    #[derive(Deserialize)]
    struct Found {
        #[serde(flatten)]
        row: InteractionRow,
        account_id: Option<String>,
    }
    let ret = format!("{INTERACTION_RET}, i.account_id AS account_id");
    let id = p.id.as_str();
    let found: Vec<Found> = if ours {
        txn_rows(
            txn,
            query(&format!(
                "MATCH (i:Interaction) WHERE $p IN i.participants RETURN {ret}"
            ))
            .param("p", id),
        )
        .await?
    } else {
        let org = p.org.as_str();
        let mut direct: Vec<Found> = txn_rows(
            txn,
            query(&format!(
                "MATCH (i:Interaction {{account_id: $org}}) WHERE $p IN i.participants RETURN {ret}"
            ))
            .param("org", org)
            .param("p", id),
        )
        .await?;
        let via: Vec<Found> = txn_rows(
            txn,
            query(&format!(
                "MATCH (x:InteractionAccount {{account_id: $org}}) MATCH (i:Interaction {{id: x.interaction_id}}) \
                 WHERE $p IN i.participants RETURN {ret}"
            ))
            .param("org", org)
            .param("p", id),
        )
        .await?;
        direct.extend(via);
        direct
    };
    #[derive(Deserialize)]
    struct Extra {
        interaction_id: String,
        account_id: String,
    }
    let ids: Vec<String> = found.iter().map(|f| f.row.id.clone()).collect();
    let extras: Vec<Extra> = txn_rows(
        txn,
        query(
            "UNWIND $ids AS id MATCH (x:InteractionAccount {interaction_id: id}) \
             RETURN x.interaction_id AS interaction_id, x.account_id AS account_id",
        )
        .param("ids", ids),
    )
    .await?;
    let mut more: HashMap<String, Vec<String>> = HashMap::new();
    for e in extras {
        more.entry(e.interaction_id).or_default().push(e.account_id);
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for f in found {
        if !seen.insert(f.row.id.clone()) {
            continue;
        }
        let mut more_accounts = more.remove(&f.row.id).unwrap_or_default();
        more_accounts.sort();
        out.push(StoredInteraction {
            interaction: f.row.into_interaction()?,
            account: f.account_id,
            more_accounts,
        });
    }
    out.sort_by(|a, b| a.interaction.id.cmp(&b.interaction.id));
    Ok(out)
}

/// Writes an interaction with exactly these accounts.
pub(super) async fn put_interaction(
    txn: &mut Txn,
    i: &Interaction,
    account: Option<&str>,
    more_accounts: &[String],
) -> Result<(), Attempt> {
    let others = i.participants.iter().filter(|p| **p != i.initiator);
    let parts: Vec<String> = std::iter::once(&i.initiator)
        .chain(others)
        .map(|p| p.as_str().to_owned())
        .collect();
    let id = i.id.as_str();
    txn.run(
        query(
            "MERGE (i:Interaction {id: $id}) SET i.kind = $kind, i.at = $at, \
             i.participants = $parts, i.account_id = $account, i.in_reply_to = $reply",
        )
        .param("id", id)
        .param("reply", opt_s(i.in_reply_to.as_ref().map(|r| r.as_str())))
        .param("kind", i.kind.as_str())
        .param("at", i.at.epoch_seconds())
        .param("parts", list(parts))
        .param("account", opt_s(account)),
    )
    .await?;
    txn.run(query("MATCH (x:InteractionAccount {interaction_id: $id}) DELETE x").param("id", id))
        .await?;
    let rows: Vec<Row> = more_accounts
        .iter()
        .map(|a| {
            row! {
                "key" => s(&key(&[a, id])),
                "account_id" => s(a),
                "interaction_id" => s(id),
                "at" => int(i.at.epoch_seconds()),
            }
        })
        .collect();
    if !rows.is_empty() {
        txn.run(
            query(
                "UNWIND $rows AS r MERGE (x:InteractionAccount {key: r.key}) \
                 SET x.account_id = r.account_id, x.interaction_id = r.interaction_id, x.at = r.at",
            )
            .param("rows", rows),
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn delete_interaction(txn: &mut Txn, id: &InteractionId) -> Result<(), Attempt> {
    txn.run(query("MATCH (i:Interaction {id: $id}) DELETE i").param("id", id.as_str()))
        .await?;
    txn.run(
        query("MATCH (x:InteractionAccount {interaction_id: $id}) DELETE x")
            .param("id", id.as_str()),
    )
    .await?;
    Ok(())
}

/// For each person, their customer account (`None` for our people).
pub(super) async fn accounts_of(
    txn: &mut Txn,
    people: &[String],
) -> Result<HashMap<String, Option<String>>, Attempt> {
    #[derive(Deserialize)]
    struct Of {
        id: String,
        org_id: String,
        is_ours: bool,
    }
    let rows: Vec<Of> = txn_rows(
        txn,
        query(
            "UNWIND $ids AS pid MATCH (p:Person {id: pid}) MATCH (o:Organization {id: p.org_id}) \
             RETURN p.id AS id, p.org_id AS org_id, o.is_ours AS is_ours",
        )
        .param("ids", people.to_vec()),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.id, (!r.is_ours).then_some(r.org_id)))
        .collect())
}

pub(super) async fn is_ours(txn: &mut Txn, org: &OrgId) -> Result<bool, Attempt> {
    Ok(txn_count(
        txn,
        query("MATCH (o:Organization {id: $id}) WHERE o.is_ours = true RETURN count(o) AS n")
            .param("id", org.as_str()),
    )
    .await?
        > 0)
}

fn review_key(a: &str, b: &str) -> String {
    key(&[a, b])
}

pub(super) async fn save_review(
    txn: &mut Txn,
    candidates: &[MergeCandidate],
) -> Result<usize, Attempt> {
    let at = now();
    let mut n = 0;
    for c in candidates {
        let (a, b) = (c.existing.as_str(), c.new.as_str());
        let listed = txn_count(
            txn,
            query("UNWIND $keys AS k MATCH (r:IdentityReview {key: k}) RETURN count(r) AS n")
                .param("keys", vec![review_key(a, b), review_key(b, a)]),
        )
        .await?;
        if listed > 0 {
            continue;
        }
        txn.run(
            query(
                "MERGE (r:IdentityReview {key: $key}) SET r.existing_id = $a, r.new_id = $b, \
                 r.confidence = $confidence, r.reason = $reason, r.created_at = $at",
            )
            .param("key", review_key(a, b))
            .param("a", a)
            .param("b", b)
            .param("confidence", c.confidence)
            .param("reason", c.reason.as_str())
            .param("at", at),
        )
        .await?;
        n += 1;
    }
    Ok(n)
}

#[derive(Deserialize)]
pub(super) struct ReviewRow {
    existing_id: String,
    new_id: String,
    confidence: f64,
    reason: String,
    created_at: i64,
}

pub(super) const REVIEW_QUERY: &str = "MATCH (r:IdentityReview) WHERE r.decided IS NULL \
     MATCH (a:Person {id: r.existing_id}) MATCH (b:Person {id: r.new_id}) \
     RETURN r.existing_id AS existing_id, r.new_id AS new_id, r.confidence AS confidence, \
            r.reason AS reason, r.created_at AS created_at";

/// Most likely first, as the embedded store orders them.
pub(super) fn review_items(rows: Vec<ReviewRow>) -> Result<Vec<ReviewItem>, StoreError> {
    let mut out = rows
        .into_iter()
        .map(|r| {
            Ok(ReviewItem {
                existing: super::parsed(PersonId::try_from(r.existing_id))?,
                new: super::parsed(PersonId::try_from(r.new_id))?,
                confidence: r.confidence,
                reason: r.reason,
                found_at: Timestamp::from_epoch_seconds(r.created_at),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    out.sort_by(|x, y| {
        y.confidence
            .total_cmp(&x.confidence)
            .then(x.found_at.cmp(&y.found_at))
            .then(x.existing.cmp(&y.existing))
    });
    Ok(out)
}

/// Marks the pair decided as `decision`; how many were undecided.
async fn decide(txn: &mut Txn, a: &str, b: &str, decision: &str) -> Result<u64, Attempt> {
    Ok(txn_count(
        txn,
        query(
            "UNWIND $keys AS k MATCH (r:IdentityReview {key: k}) WHERE r.decided IS NULL \
             SET r.decided = $d RETURN count(r) AS n",
        )
        .param("keys", vec![review_key(a, b), review_key(b, a)])
        .param("d", decision),
    )
    .await?)
}

pub(super) async fn dismiss(txn: &mut Txn, a: &PersonId, b: &PersonId) -> Result<bool, Attempt> {
    Ok(decide(txn, a.as_str(), b.as_str(), "distinct").await? > 0)
}

pub(super) async fn merge(
    txn: &mut Txn,
    survivor_id: &PersonId,
    merged_id: &PersonId,
) -> Result<MergeReport, Attempt> {
    if survivor_id == merged_id {
        return Err(Attempt::Other(StoreError::NotFound(format!(
            "cannot merge {survivor_id} into itself"
        ))));
    }
    let survivor = must_person(txn, survivor_id).await?;
    let merged = must_person(txn, merged_id).await?;
    let (emails, external_ids) = person_keys(&merged);
    let mut undo = Undo {
        person: merged.clone(),
        survivor: survivor.clone(),
        emails,
        external_ids,
        removed: Vec::new(),
        added: Vec::new(),
        reports: Vec::new(),
        owned: Vec::new(),
        interactions: Vec::new(),
    };
    let mut report = MergeReport {
        emails: undo.emails.len(),
        external_ids: undo.external_ids.len(),
        ..MergeReport::default()
    };
    let (m, v) = (merged_id.as_str(), survivor_id.as_str());

    // Addresses and ids.
    txn.run(
        query("MATCH (x:PersonEmail {person_id: $m}) SET x.person_id = $v")
            .param("m", m)
            .param("v", v),
    )
    .await?;
    txn.run(
        query("MATCH (x:PersonExternalId {person_id: $m}) SET x.person_id = $v")
            .param("m", m)
            .param("v", v),
    )
    .await?;

    // Lines between people.
    for line in lines_of(txn, merged_id).await? {
        delete_line(txn, &line).await?;
        if let Some(moved) = line.moved(merged_id, survivor_id)
            && insert_line(txn, &moved).await?
        {
            undo.added.push(moved);
        }
        undo.removed.push(line);
        report.lines += 1;
    }

    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let reports: Vec<Id> = txn_rows(
        txn,
        query("MATCH (p:Person) WHERE p.reports_to = $m RETURN p.id AS id").param("m", m),
    )
    .await?;
    undo.reports = reports.into_iter().map(|r| r.id).collect();
    undo.reports.sort();
    let owned: Vec<Id> = txn_rows(
        txn,
        query("MATCH (o:Opportunity) WHERE o.owner_id = $m RETURN o.id AS id").param("m", m),
    )
    .await?;
    undo.owned = owned.into_iter().map(|r| r.id).collect();
    undo.owned.sort();
    txn.run(
        query(
            "MATCH (p:Person) WHERE p.reports_to = $m \
             SET p.reports_to = CASE WHEN p.id = $v THEN null ELSE $v END",
        )
        .param("m", m)
        .param("v", v),
    )
    .await?;
    txn.run(
        query("MATCH (o:Opportunity) WHERE o.owner_id = $m SET o.owner_id = $v")
            .param("m", m)
            .param("v", v),
    )
    .await?;

    // The survivor keeps its own fields, takes the merged person's where it
    // has none, and gets their addresses and ids.
    let mut kept = survivor.clone();
    if kept.reports_to.as_ref() == Some(merged_id) {
        kept.reports_to = None;
    }
    kept.title = kept.title.or(merged.title.clone());
    kept.department = kept.department.or(merged.department.clone());
    if kept.level.get() == 0 {
        kept.level = merged.level;
    }
    kept.role = kept.role.or(merged.role);
    kept.attitude = kept.attitude.or(merged.attitude);
    if kept.reports_to.is_none() {
        kept.reports_to = merged.reports_to.clone().filter(|r| r != survivor_id);
    }
    kept.emails.extend(merged.emails.iter().cloned());
    kept.external_ids
        .extend(merged.external_ids.iter().cloned());
    for phone in &merged.phones {
        if !kept.phones.iter().any(|k| k.number == phone.number) {
            kept.phones.push(phone.clone());
        }
    }
    put_person(txn, &kept).await?;

    // Interactions: the merged person becomes the survivor.
    let ours = is_ours(txn, &merged.org).await?;
    let touched = interactions_of(txn, &merged, ours).await?;
    let mut everyone: Vec<String> = touched
        .iter()
        .flat_map(|t| {
            t.interaction
                .participants
                .iter()
                .map(|p| p.as_str().to_owned())
        })
        .chain([v.to_owned()])
        .collect();
    everyone.sort();
    everyone.dedup();
    let accounts = accounts_of(txn, &everyone).await?;
    for t in &touched {
        let i = &t.interaction;
        let swap = |p: &PersonId| {
            if p == merged_id {
                survivor_id.clone()
            } else {
                p.clone()
            }
        };
        let mut now: Vec<PersonId> = Vec::new();
        for p in i.participants.iter().map(swap) {
            if !now.contains(&p) {
                now.push(p);
            }
        }
        if now.len() < 2 {
            // Only the survivor is left: an interaction with oneself is none.
            delete_interaction(txn, &i.id).await?;
            report.interactions_dropped += 1;
            continue;
        }
        let initiator = swap(&i.initiator);
        let mut acc: Vec<String> = Vec::new();
        let ordered = std::iter::once(&initiator).chain(now.iter().filter(|p| **p != initiator));
        for p in ordered {
            if let Some(Some(a)) = accounts.get(p.as_str())
                && !acc.contains(a)
            {
                acc.push(a.clone());
            }
        }
        let moved = Interaction {
            initiator,
            participants: now,
            ..i.clone()
        };
        put_interaction(
            txn,
            &moved,
            acc.first().map(String::as_str),
            acc.get(1..).unwrap_or(&[]),
        )
        .await?;
        report.interactions += 1;
    }
    undo.interactions = touched;

    txn.run(query("MATCH (p:Person {id: $m}) DELETE p").param("m", m))
        .await?;
    decide(txn, v, m, "merged").await?;
    let undo = serde_json::to_string(&undo)
        .map_err(|e| StoreError::Backend(format!("undo record: {e}")))?;
    let at = now();
    txn.run(
        query(
            "CREATE (x:PersonMerge {key: $key, survivor_id: $v, merged_id: $m, merged_at: $at, undo: $undo})",
        )
        .param("key", key(&[v, m, &at.to_string(), &block::fresh_stamp()]))
        .param("v", v)
        .param("m", m)
        .param("at", at)
        .param("undo", undo),
    )
    .await?;
    block::touch(txn, &HashSet::new(), true).await?;
    Ok(report)
}

pub(super) async fn split(
    txn: &mut Txn,
    survivor_id: &PersonId,
    merged_id: &PersonId,
) -> Result<MergeReport, Attempt> {
    #[derive(Deserialize)]
    struct Kept {
        key: String,
        merged_at: i64,
        undo: String,
    }
    let (v, m) = (survivor_id.as_str(), merged_id.as_str());
    let mut kept: Vec<Kept> = txn_rows(
        txn,
        query(
            "MATCH (x:PersonMerge) WHERE x.survivor_id = $v AND x.merged_id = $m AND x.split_at IS NULL \
             RETURN x.key AS key, x.merged_at AS merged_at, x.undo AS undo",
        )
        .param("v", v)
        .param("m", m),
    )
    .await?;
    kept.sort_by(|a, b| (a.merged_at, &a.key).cmp(&(b.merged_at, &b.key)));
    let Some(latest) = kept.pop() else {
        return Err(Attempt::Other(StoreError::NotFound(format!(
            "{merged_id} was not merged into {survivor_id} (or has been split already)"
        ))));
    };
    let undo: Undo = serde_json::from_str(&latest.undo).map_err(|e| {
        StoreError::Backend(format!("undo record of {survivor_id}/{merged_id}: {e}"))
    })?;
    if person(txn, merged_id).await?.is_some() {
        return Err(Attempt::Other(StoreError::NotFound(format!(
            "a person with id {merged_id} exists again; cannot split"
        ))));
    }
    let survivor = must_person(txn, survivor_id).await?;
    let mut report = MergeReport {
        emails: undo.emails.len(),
        external_ids: undo.external_ids.len(),
        ..MergeReport::default()
    };

    // The person again, and the survivor as it was, minus what it took.
    put_person(txn, &undo.person).await?;
    let mut restored = Person {
        emails: survivor.emails.clone(),
        external_ids: survivor.external_ids.clone(),
        ..undo.survivor.clone()
    };
    restored
        .emails
        .retain(|e| !undo.emails.iter().any(|x| x == e.as_str()));
    restored
        .external_ids
        .retain(|x| !undo.external_ids.contains(&x.to_string()));
    put_person(txn, &restored).await?;
    txn.run(
        query("UNWIND $keys AS k MATCH (x:PersonEmail {email: k}) SET x.person_id = $m")
            .param("keys", undo.emails.clone())
            .param("m", m),
    )
    .await?;
    txn.run(
        query("UNWIND $keys AS k MATCH (x:PersonExternalId {key: k}) SET x.person_id = $m")
            .param("keys", undo.external_ids.clone())
            .param("m", m),
    )
    .await?;

    for line in &undo.added {
        delete_line(txn, line).await?;
    }
    for line in &undo.removed {
        insert_line(txn, line).await?;
        report.lines += 1;
    }
    txn.run(
        query("UNWIND $ids AS id MATCH (p:Person {id: id}) WHERE p.reports_to = $v SET p.reports_to = $m")
            .param("ids", undo.reports.clone())
            .param("v", v)
            .param("m", m),
    )
    .await?;
    txn.run(
        query("UNWIND $ids AS id MATCH (o:Opportunity {id: id}) WHERE o.owner_id = $v SET o.owner_id = $m")
            .param("ids", undo.owned.clone())
            .param("v", v)
            .param("m", m),
    )
    .await?;
    for t in &undo.interactions {
        put_interaction(txn, &t.interaction, t.account.as_deref(), &t.more_accounts).await?;
        report.interactions += 1;
    }
    txn.run(
        query("MATCH (x:PersonMerge {key: $key}) SET x.split_at = $at")
            .param("key", latest.key)
            .param("at", now()),
    )
    .await?;
    block::touch(txn, &HashSet::new(), true).await?;
    Ok(report)
}
