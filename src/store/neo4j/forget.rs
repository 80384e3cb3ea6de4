//! Erasing a person on the Neo4j store (`renmai forget`, `DELETE
//! /api/v1/people/{id}`), with the embedded store's semantics
//! (`src/store/sqlite/privacy.rs` `forget`) and the same report counts.
//!
//! In one transaction: the person node and what is theirs (e-mail and CRM
//! id nodes, team, influence, assessment and deal-contact lines, review
//! pairs, merge undo records, plan items naming them) go; interactions lose
//! them and go when fewer than two people remain (the next participant
//! initiates when they did); pointers to them (a report's manager, a deal's
//! owner, an assessment's author) are cleared; plan snapshots have their
//! mentions replaced; cached API responses naming them go. The packed
//! account blocks that held them are deleted and every stamp renewed, so no
//! stale slice serves them again and their name stays in no block.
//!
//! Service cases they raised go (those they handled lose their owner),
//! their deal support assignments go, audit lines naming them are redacted
//! and the erasure gets its own audit line, in the same transaction.

use std::collections::HashSet;

use neo4rs::{Txn, query};
use renmai_graph::{Interaction, PersonId};
use serde::Deserialize;

use super::identity::{
    accounts_of, delete_interaction, interactions_of, is_ours, must_person, put_interaction,
};
use super::{Attempt, Row, block, privacy, s, txn_count, txn_rows};
use crate::privacy::{ForgetReport, redacted_id};

/// Text `needle` as it appears inside a JSON string.
fn json_inner(needle: &str) -> String {
    let quoted = serde_json::to_string(needle).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_owned()
}

/// Finds and replaces mentions of the person in stored JSON text: their id
/// as a JSON string, their name and their e-mail addresses.
struct Mentions {
    needles: Vec<(String, String)>,
}

impl Mentions {
    fn new(id: &str, name: &str, emails: &[String]) -> Mentions {
        let mut needles: Vec<(String, String)> = vec![
            (format!("\"{}\"", json_inner(id)), "\"forgotten\"".into()),
            (json_inner(name), "[forgotten]".into()),
        ];
        needles.extend(emails.iter().map(|e| (json_inner(e), "[forgotten]".into())));
        needles.retain(|(n, _)| !n.is_empty());
        Mentions { needles }
    }
    fn found_in(&self, text: &str) -> bool {
        self.needles.iter().any(|(n, _)| text.contains(n.as_str()))
    }
    fn scrubbed(&self, text: &str) -> String {
        self.needles
            .iter()
            .fold(text.to_owned(), |t, (n, r)| t.replace(n.as_str(), r))
    }
}

#[derive(Deserialize)]
struct Keyed {
    key: String,
    body: String,
}

/// Nodes of `label` (a constant) whose JSON `body` property `hit` selects.
async fn keyed_bodies(
    txn: &mut Txn,
    label: &str,
    body: &str,
    hit: impl Fn(&str) -> bool,
) -> Result<Vec<Keyed>, Attempt> {
    let rows: Vec<Keyed> = txn_rows(
        txn,
        query(&format!(
            "MATCH (n:{label}) WHERE n.{body} IS NOT NULL RETURN n.key AS key, n.{body} AS body"
        )),
    )
    .await?;
    Ok(rows.into_iter().filter(|r| hit(&r.body)).collect())
}

async fn delete_keyed(txn: &mut Txn, label: &str, rows: &[Keyed]) -> Result<u64, Attempt> {
    if rows.is_empty() {
        return Ok(0);
    }
    let keys: Vec<String> = rows.iter().map(|r| r.key.clone()).collect();
    txn.run(
        query(&format!(
            "UNWIND $keys AS k MATCH (n:{label} {{key: k}}) DELETE n"
        ))
        .param("keys", keys),
    )
    .await?;
    Ok(rows.len() as u64)
}

/// Runs a statement that ends in `RETURN count(..) AS n`, bound to `$p`.
async fn counted(txn: &mut Txn, cypher: &str, p: &str) -> Result<u64, Attempt> {
    Ok(txn_count(txn, query(cypher).param("p", p)).await?)
}

/// Erases person `id` everywhere in this store, in `txn`; `actor` goes in
/// the audit log.
pub(super) async fn forget(
    txn: &mut Txn,
    id: &PersonId,
    actor: &str,
) -> Result<ForgetReport, Attempt> {
    let person = must_person(txn, id).await?;
    let p = id.as_str();
    let mut rep = ForgetReport {
        person: redacted_id(p),
        // Phones are a property of the person node, which goes below.
        phones: person.phones.len() as u64,
        ..Default::default()
    };
    #[derive(Deserialize)]
    struct Email {
        email: String,
    }
    let emails: Vec<String> = txn_rows::<Email>(
        txn,
        query("MATCH (x:PersonEmail {person_id: $p}) RETURN x.email AS email").param("p", p),
    )
    .await?
    .into_iter()
    .map(|e| e.email)
    .collect();

    // Interactions, and the accounts whose packed blocks held them.
    let ours = is_ours(txn, &person.org).await?;
    let touched = interactions_of(txn, &person, ours).await?;
    let mut stale: HashSet<String> = HashSet::new();
    if !ours {
        stale.insert(person.org.as_str().to_owned());
    }
    let mut everyone: Vec<String> = Vec::new();
    for t in &touched {
        stale.extend(t.account.iter().cloned());
        stale.extend(t.more_accounts.iter().cloned());
        everyone.extend(
            t.interaction
                .participants
                .iter()
                .filter(|x| *x != id)
                .map(|x| x.as_str().to_owned()),
        );
    }
    everyone.sort();
    everyone.dedup();
    let account_of = accounts_of(txn, &everyone).await?;
    for t in &touched {
        let i = &t.interaction;
        // Initiator first, as stored; without them the next one initiates.
        let left: Vec<PersonId> = std::iter::once(&i.initiator)
            .chain(i.participants.iter().filter(|x| **x != i.initiator))
            .filter(|x| *x != id)
            .cloned()
            .collect();
        if left.len() < 2 {
            delete_interaction(txn, &i.id).await?;
            rep.interactions_deleted += 1;
            continue;
        }
        let mut accounts: Vec<String> = Vec::new();
        for x in &left {
            if let Some(Some(a)) = account_of.get(x.as_str())
                && !accounts.contains(a)
            {
                accounts.push(a.clone());
            }
        }
        let kept = Interaction {
            initiator: left[0].clone(),
            participants: left,
            ..i.clone()
        };
        put_interaction(
            txn,
            &kept,
            accounts.first().map(String::as_str),
            accounts.get(1..).unwrap_or(&[]),
        )
        .await?;
        rep.interactions_edited += 1;
    }

    rep.emails = counted(
        txn,
        "MATCH (x:PersonEmail {person_id: $p}) DELETE x RETURN count(*) AS n",
        p,
    )
    .await?;
    rep.external_ids = counted(
        txn,
        "MATCH (x:PersonExternalId {person_id: $p}) DELETE x RETURN count(*) AS n",
        p,
    )
    .await?;
    rep.account_team = counted(
        txn,
        "MATCH (t:TeamMember) WHERE t.person_id = $p DELETE t RETURN count(*) AS n",
        p,
    )
    .await?;
    rep.influences = counted(
        txn,
        "MATCH (x:Influence) WHERE x.from_id = $p OR x.to_id = $p DELETE x RETURN count(*) AS n",
        p,
    )
    .await?;
    rep.assessments = counted(
        txn,
        "MATCH (a:Assessment) WHERE a.from_id = $p OR a.to_id = $p DELETE a RETURN count(*) AS n",
        p,
    )
    .await?;
    rep.assessments_unattributed = counted(
        txn,
        "MATCH (a:Assessment) WHERE a.by_id = $p SET a.by_id = null RETURN count(a) AS n",
        p,
    )
    .await?;
    rep.deal_contacts = counted(
        txn,
        "MATCH (c:OpportunityContact) WHERE c.person_id = $p DELETE c RETURN count(*) AS n",
        p,
    )
    .await?;
    rep.deals_unowned = counted(
        txn,
        "MATCH (o:Opportunity) WHERE o.owner_id = $p SET o.owner_id = null RETURN count(o) AS n",
        p,
    )
    .await?;
    rep.reports_unlinked = counted(
        txn,
        "MATCH (x:Person) WHERE x.reports_to = $p SET x.reports_to = null RETURN count(x) AS n",
        p,
    )
    .await?;
    rep.service_cases = counted(
        txn,
        "MATCH (c:ServiceCase) WHERE c.contact_id = $p DELETE c RETURN count(*) AS n",
        p,
    )
    .await?
        + counted(
            txn,
            "MATCH (c:ServiceCase) WHERE c.owner_id = $p SET c.owner_id = null RETURN count(c) AS n",
            p,
        )
        .await?;
    rep.deal_support = counted(
        txn,
        "MATCH (x:DealSupport {person_id: $p}) DELETE x RETURN count(*) AS n",
        p,
    )
    .await?;
    rep.review_pairs = counted(
        txn,
        "MATCH (r:IdentityReview) WHERE r.existing_id = $p OR r.new_id = $p DELETE r RETURN count(*) AS n",
        p,
    )
    .await?;

    // JSON bodies are searched here, not in Cypher: string functions differ
    // between servers, and these lists are short.
    let quoted = format!("\"{}\"", json_inner(p));
    #[derive(Deserialize)]
    struct MergeRow {
        key: String,
        survivor_id: String,
        merged_id: String,
        undo: String,
    }
    let merges: Vec<MergeRow> = txn_rows(
        txn,
        query(
            "MATCH (x:PersonMerge) RETURN x.key AS key, x.survivor_id AS survivor_id, \
             x.merged_id AS merged_id, x.undo AS undo",
        ),
    )
    .await?;
    let merges: Vec<Keyed> = merges
        .into_iter()
        .filter(|m| m.survivor_id == p || m.merged_id == p || m.undo.contains(&quoted))
        .map(|m| Keyed {
            key: m.key,
            body: m.undo,
        })
        .collect();
    rep.merge_records = delete_keyed(txn, "PersonMerge", &merges).await?;
    let items = keyed_bodies(txn, "PlanItem", "body", |b| b.contains(&quoted)).await?;
    rep.plan_items = delete_keyed(txn, "PlanItem", &items).await?;

    let mentions = Mentions::new(p, &person.name, &emails);
    let snapshots = keyed_bodies(txn, "PlanSnapshot", "body", |b| mentions.found_in(b)).await?;
    if !snapshots.is_empty() {
        let rows: Vec<Row> = snapshots
            .iter()
            .map(|r| row! { "key" => s(&r.key), "body" => s(&mentions.scrubbed(&r.body)) })
            .collect();
        txn.run(
            query("UNWIND $rows AS r MATCH (n:PlanSnapshot {key: r.key}) SET n.body = r.body")
                .param("rows", rows),
        )
        .await?;
        rep.snapshots_scrubbed = snapshots.len() as u64;
    }
    // The person id is unquoted in a response's list of ids.
    let kept = keyed_bodies(txn, "IdempotencyKey", "body", |b| {
        mentions.found_in(b) || b.contains(p)
    })
    .await?;
    rep.idempotency_entries = delete_keyed(txn, "IdempotencyKey", &kept).await?;

    txn.run(query("MATCH (x:Person {id: $p}) DELETE x").param("p", p))
        .await?;
    rep.audit_lines_redacted = privacy::redact_audit(txn, p, &person.name, &emails).await?;
    privacy::audit(txn, actor, "forget", &rep.audit_detail()).await?;

    // Packed blocks: those that held them go (one of ours is in every
    // slice), and every stamp is renewed, since pointers changed anywhere.
    if ours {
        txn.run(query("MATCH (b:AccountBlock) DELETE b")).await?;
    } else {
        let mut stale: Vec<String> = stale.into_iter().collect();
        stale.sort();
        txn.run(
            query("UNWIND $ids AS a MATCH (b:AccountBlock {account_id: a}) DELETE b")
                .param("ids", stale),
        )
        .await?;
    }
    block::touch(txn, &HashSet::new(), true).await?;
    Ok(rep)
}
