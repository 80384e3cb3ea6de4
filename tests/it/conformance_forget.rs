//! The store conformance suite, erasure: `forget_person` on every backend,
//! fed the same data, reports the same counts and leaves the same data
//! (export, account slices, people, lookups by e-mail). Runs on the
//! embedded store always and on the Neo4j store when `BOLT_URI` is set
//! (see `conformance.rs`).

use std::sync::Arc;

use renmai::bundle::Bundle;
use renmai::ingest::resolve::MergeCandidate;
use renmai::privacy::ForgetReport;
use renmai::store::{NoProgress, PersonLookup, PlanItem, Store, StoreError, StoredResponse};
use renmai::validate::SourceMap;
use renmai_graph::{Email, OrgId, PersonId, Timestamp};
use serde_json::json;

use crate::conformance::{BOLT, bolt_store};
use crate::helpers::*;

const NAME: &str = "Zora Quellmann";
const EMAIL: &str = "zora.quellmann@acme-bank.example";

fn pid(s: &str) -> PersonId {
    PersonId::parse(s).unwrap()
}

fn acme() -> OrgId {
    OrgId::parse("1").unwrap()
}

async fn import(store: &dyn Store, b: Bundle) {
    let src = SourceMap::synthetic("forget", &b);
    store.import(b, src, Arc::new(NoProgress)).await.unwrap();
}

/// The small bundle plus Zora (77) at Acme Bank with an address, a CRM id,
/// a two-person meeting (goes with her) and a three-person e-mail she sent
/// (kept, Ana then initiates), influence, an assessment of her, a deal role,
/// a report (78), a review pair, a plan objective, a plan snapshot and a
/// kept API response naming her; and an assessment Ana (1) recorded.
async fn store_with_zora(store: Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    write_small_bundle(dir.path());
    let (_, b, _) = renmai::import::read(dir.path()).unwrap();
    import(store.as_ref(), b).await;
    let zora: Bundle = serde_json::from_value(json!({
        "people": [{"id": "77", "org": "1", "name": NAME, "title": "Head of Payments",
                    "level": 2, "role": "technical_buyer",
                    "emails": [EMAIL], "external_ids": [{"system": "salesforce", "id": "003ZORA"}],
                    "phones": [{"number": "+496912345677", "kind": "work"}, {"number": "0301234567"}]},
                   {"id": "78", "org": "1", "name": "Olaf Underling", "reports_to": "77"}],
        "interactions": [
            {"id": "z1", "kind": "meeting", "at": "2025-11-05T10:00:00Z", "initiator": "1", "participants": ["1", "77"]},
            {"id": "z2", "kind": "email", "at": "2025-11-06T10:00:00Z", "initiator": "77", "participants": ["77", "1", "10"], "in_reply_to": "z1"},
            {"id": "z3", "kind": "call", "at": "2025-11-08T10:00:00Z", "initiator": "2", "participants": ["2", "1", "78"]}
        ],
        "influences": [{"from": "77", "to": "10", "kind": "peer", "strength": 0.6}],
        "assessments": [{"from": "1", "to": "77", "level": 3, "at": "2025-11-07T00:00:00Z", "by": "1"},
                        {"from": "2", "to": "11", "level": 2, "at": "2025-11-07T00:00:00Z", "by": "1"}],
        "opportunity_contacts": [{"opportunity": "op1", "person": "77", "role": "technical_buyer",
                                  "attitude": "champion", "at": "2025-11-07T00:00:00Z"}]
    }))
    .unwrap();
    import(store.as_ref(), zora).await;
    store
        .save_review(vec![MergeCandidate {
            existing: pid("13"),
            new: pid("77"),
            confidence: 0.8,
            reason: "same surname".into(),
        }])
        .await
        .unwrap();
    let engine = renmai::engine::Engine::new(store.clone(), Default::default());
    let as_of = Timestamp::parse("2026-01-15T00:00:00Z").unwrap();
    let (_, plan) = engine.plan(&acme(), Some(as_of)).await.unwrap().unwrap();
    store.save_snapshot(&plan).await.unwrap();
    store
        .save_plan_item(
            &acme(),
            PlanItem::Objective(renmai_graph::plan::Objective {
                id: "zora".into(),
                text: "win the head of payments".into(),
                person: Some(pid("77")),
                target_level: Some(renmai_graph::ClosenessLevel::ALLY),
                due: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            }),
        )
        .await
        .unwrap();
    store
        .save_idempotent_response(
            "writer",
            "k1",
            StoredResponse {
                request_hash: "h".into(),
                status: 201,
                body: json!({"ids": ["77"], "note": format!("{NAME} <{EMAIL}>")}).to_string(),
            },
        )
        .await
        .unwrap();
}

/// The report without the count of redacted audit lines: import lines
/// hold each store's own write ids, and the embedded store's small ones
/// ("write 1") are redacted with a person of the same id.
fn comparable(mut r: ForgetReport) -> String {
    r.audit_lines_redacted = 0;
    format!("{r:?}")
}

/// What a store holds after erasing Zora, then Ana (one of ours, in every
/// account slice), each after the slices were read (and, on Neo4j, packed).
async fn forget_scenario(store: Arc<dyn Store>) -> Vec<String> {
    let mut seen = Vec::new();
    store_with_zora(store.clone()).await;
    let read_slices = || async {
        let mut out = Vec::new();
        for a in ["1", "2"] {
            out.push(
                store
                    .account_data(&OrgId::parse(a).unwrap())
                    .await
                    .unwrap()
                    .unwrap(),
            );
        }
        out
    };
    // Twice: the second read is served from the block the first packed.
    read_slices().await;
    let before = read_slices().await;
    let zora = before[0].people.iter().find(|p| p.id == pid("77")).unwrap();
    assert_eq!(zora.phones.len(), 2, "phones are stored and read back");
    let z2 = before[0]
        .interactions
        .iter()
        .find(|i| i.id.as_str() == "z2")
        .unwrap();
    assert_eq!(
        z2.in_reply_to.as_ref().map(|r| r.as_str()),
        Some("z1"),
        "reply links are stored and read back (from the packed block too)"
    );

    let r = store.forget_person(&pid("77"), "cli:test").await.unwrap();
    assert_eq!(
        (
            r.emails,
            r.external_ids,
            r.interactions_deleted,
            r.interactions_edited
        ),
        (1, 1, 1, 1),
        "{r:?}"
    );
    assert_eq!(r.phones, 2, "{r:?}");
    assert_eq!(
        (
            r.influences,
            r.assessments,
            r.deal_contacts,
            r.reports_unlinked
        ),
        (1, 1, 1, 1),
        "{r:?}"
    );
    assert_eq!(
        (
            r.review_pairs,
            r.plan_items,
            r.snapshots_scrubbed,
            r.idempotency_entries
        ),
        (1, 1, 1, 1),
        "{r:?}"
    );
    seen.push(comparable(r));

    let b = canonical(store.export().await.unwrap());
    assert!(b.people.iter().all(|p| p.id != pid("77")));
    assert!(b.interactions.iter().all(|i| i.id.as_str() != "z1"));
    let z2 = b
        .interactions
        .iter()
        .find(|i| i.id.as_str() == "z2")
        .unwrap();
    assert_eq!(z2.participants, vec![pid("1"), pid("10")]);
    assert_eq!(z2.initiator, pid("1"), "the next participant initiates");
    let olaf = b.people.iter().find(|p| p.id == pid("78")).unwrap();
    assert_eq!(olaf.reports_to, None);
    seen.push(format!("{b:?}"));

    let after = read_slices().await;
    let acme_now = &after[0];
    assert!(acme_now.people.iter().all(|p| p.id != pid("77")));
    assert!(
        acme_now
            .interactions
            .iter()
            .all(|i| !i.participants.contains(&pid("77"))),
        "a stale slice still holds her"
    );
    assert!(
        acme_now.interactions.len() < before[0].interactions.len(),
        "z1 is gone from the slice"
    );
    seen.push(format!("{after:?}"));
    let found = store
        .find_people(vec![PersonLookup::Email(Email::parse(EMAIL).unwrap())])
        .await
        .unwrap();
    assert_eq!(found, vec![vec![]]);
    assert_eq!(store.person(&pid("77")).await.unwrap(), None);
    assert!(store.review().await.unwrap().is_empty());
    let state = store.plan_state(&acme()).await.unwrap();
    assert!(state.objectives.is_empty(), "{state:?}");
    let snaps = format!("{:?}", store.snapshots(&acme()).await.unwrap());
    assert!(
        !snaps.contains(NAME) && !snaps.contains("\"77\""),
        "{snaps}"
    );
    seen.push(snaps);
    assert_eq!(
        store.idempotent_response("writer", "k1").await.unwrap(),
        None
    );
    let again = store.forget_person(&pid("77"), "cli:test").await;
    assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");

    // Ana: on the team, owns the deal, recorded an assessment; her
    // two-person interactions go, z3 keeps Ben and Olaf.
    let r = store.forget_person(&pid("1"), "cli:test").await.unwrap();
    assert_eq!(
        (
            r.account_team,
            r.deals_unowned,
            r.assessments_unattributed,
            r.interactions_edited
        ),
        (1, 1, 1, 1),
        "{r:?}"
    );
    assert!(r.interactions_deleted >= 4, "{r:?}");
    seen.push(comparable(r));
    let slices = read_slices().await;
    for s in &slices {
        assert!(s.our_people.iter().all(|p| p.id != pid("1")), "stale slice");
        assert!(s.team.iter().all(|t| t.person != pid("1")), "stale slice");
        assert!(
            s.interactions
                .iter()
                .all(|i| !i.participants.contains(&pid("1"))),
            "stale slice"
        );
    }
    seen.push(format!("{slices:?}"));
    let b = canonical(store.export().await.unwrap());
    assert!(b.opportunities.iter().all(|o| o.owner.is_none()));
    seen.push(format!("{b:?}"));
    seen
}

#[tokio::test]
async fn embedded_store_forgets_a_person_conformance() {
    let t = TestStore::new();
    let seen = forget_scenario(t.store.clone()).await;
    assert_eq!(seen.len(), 7);
}

#[tokio::test]
async fn neo4j_store_forgets_a_person_as_the_embedded_store_conformance() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("forget conformance").await else {
        return;
    };
    let t = TestStore::new();
    let expected = forget_scenario(t.store.clone()).await;
    let got = forget_scenario(neo.clone()).await;
    assert_eq!(expected.len(), got.len());
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(g, e, "the Neo4j store forgets differently");
    }
    assert!(neo.packed_reads() > 0, "the slices were read from blocks");
}
