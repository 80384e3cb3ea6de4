//! Identity upkeep: the review list, merging two people into one and
//! splitting them again, on the embedded store and (with `BOLT_URI`) on the
//! Neo4j store, which must behave the same.

use renmai::bundle::Bundle;
use renmai::ingest::resolve::MergeCandidate;
use renmai::store::Store;
use renmai_graph::PersonId;

use std::sync::Arc;

use renmai::store::NoProgress;
use renmai::validate::SourceMap;

use crate::helpers::{TestStore, canonical, write_small_bundle};

fn pid(s: &str) -> PersonId {
    PersonId::parse(s).unwrap()
}

/// The small bundle plus "C. Chief" (99), a duplicate of Carla Chief (10)
/// created by an import of her mailbox: her own address, two e-mails with
/// Ana (1), one with Carla herself, an influence line and a team of one.
async fn with_duplicate(store: &dyn Store) {
    let dir = tempfile::tempdir().unwrap();
    write_small_bundle(dir.path());
    let (_, b, _) = renmai::import::read(dir.path()).unwrap();
    import(store, b).await;
    let extra: Bundle = serde_json::from_value(serde_json::json!({
        "people": [{"id": "99", "org": "1", "name": "C. Chief",
                    "emails": ["carla.chief@acme-bank.example"], "title": "Chief Executive"}],
        "interactions": [
            {"id": "m1", "kind": "email", "at": "2025-12-01T09:00:00Z", "initiator": "99", "participants": ["99", "1"]},
            {"id": "m2", "kind": "email", "at": "2025-12-02T09:00:00Z", "initiator": "1", "participants": ["1", "99", "10"]},
            {"id": "m3", "kind": "email", "at": "2025-12-03T09:00:00Z", "initiator": "10", "participants": ["10", "99"]}
        ],
        "influences": [{"from": "99", "to": "11", "kind": "peer", "strength": 0.4},
                       {"from": "13", "to": "99", "kind": "trusted_advisor", "strength": 0.7}]
    }))
    .unwrap();
    import(store, extra).await;
}

async fn import(store: &dyn Store, b: Bundle) {
    let src = SourceMap::synthetic("test", &b);
    store
        .import(b, src, Arc::new(NoProgress))
        .await
        .expect("import");
}

/// Runs `check` on a fresh embedded store holding the duplicate, then on
/// the Neo4j store of `BOLT_URI` when one is set.
macro_rules! on_both_stores {
    ($name:literal, $check:ident) => {{
        let t = TestStore::new();
        with_duplicate(t.store.as_ref()).await;
        $check(t.store.as_ref()).await;
        #[cfg(feature = "neo4j")]
        {
            let _bolt = crate::conformance::BOLT.lock().await;
            if let Some(store) = crate::conformance::bolt_store($name).await {
                with_duplicate(store.as_ref()).await;
                $check(store.as_ref()).await;
            }
        }
    }};
}

#[tokio::test]
async fn merge_moves_every_reference_and_split_restores_the_store() {
    on_both_stores!("merge and split", merge_and_split);
}

async fn merge_and_split(store: &dyn Store) {
    let before = canonical(store.export().await.unwrap());
    // Read (and, on Neo4j, pack) the account first: the merge must make
    // every cached or packed copy of it stale.
    let account = renmai_graph::OrgId::parse("1").unwrap();
    let sliced = store.account_data(&account).await.unwrap().unwrap();
    assert!(sliced.people.iter().any(|p| p.id.as_str() == "99"));

    let r = store.merge_people(&pid("10"), &pid("99")).await.unwrap();
    assert_eq!(r.emails, 1);
    assert_eq!(r.interactions, 2, "m1 and m2 now name Carla");
    assert_eq!(r.interactions_dropped, 1, "m3 was Carla with herself");
    let after = canonical(store.export().await.unwrap());
    assert!(after.people.iter().all(|p| p.id.as_str() != "99"));
    let carla = after.people.iter().find(|p| p.id.as_str() == "10").unwrap();
    assert_eq!(carla.emails[0].as_str(), "carla.chief@acme-bank.example");
    assert_eq!(
        carla.title.as_deref(),
        Some("CEO"),
        "the survivor keeps her title"
    );
    let m2 = after
        .interactions
        .iter()
        .find(|i| i.id.as_str() == "m2")
        .unwrap();
    assert_eq!(m2.participants, [pid("1"), pid("10")]);
    assert!(after.interactions.iter().all(|i| i.id.as_str() != "m3"));
    // 13 → 99 (trusted advisor) became 13 → 10, which existed: kept once.
    let to_carla: Vec<_> = after
        .influences
        .iter()
        .filter(|i| i.to.as_str() == "10")
        .collect();
    assert_eq!(to_carla.len(), 1);
    assert!(
        after
            .influences
            .iter()
            .any(|i| i.from.as_str() == "10" && i.to.as_str() == "11")
    );
    // Carla's account data now carries Ana's December e-mails with her.
    let data = store
        .account_data(&renmai_graph::OrgId::parse("1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(data.interactions.iter().any(|i| i.id.as_str() == "m1"));

    let r = store.split_people(&pid("10"), &pid("99")).await.unwrap();
    assert_eq!(r.interactions, 3);
    let restored = canonical(store.export().await.unwrap());
    assert_eq!(restored, before, "a split undoes the merge exactly");

    let again = store.split_people(&pid("10"), &pid("99")).await;
    assert!(again.unwrap_err().to_string().contains("split already"));
}

#[tokio::test]
async fn review_list_keeps_undecided_pairs_once() {
    on_both_stores!("review list", review_list);
}

async fn review_list(store: &dyn Store) {
    let c = MergeCandidate {
        existing: pid("10"),
        new: pid("99"),
        confidence: 0.6,
        reason: "similar names at the same organization".into(),
    };
    assert_eq!(store.save_review(vec![c.clone()]).await.unwrap(), 1);
    let mirrored = MergeCandidate {
        existing: pid("99"),
        new: pid("10"),
        ..c.clone()
    };
    assert_eq!(store.save_review(vec![c, mirrored]).await.unwrap(), 0);
    let list = store.review().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].existing, pid("10"));

    store.merge_people(&pid("10"), &pid("99")).await.unwrap();
    assert!(store.review().await.unwrap().is_empty(), "merged: decided");

    // "Two different people": decided, off the list, in either order.
    let pair = MergeCandidate {
        existing: pid("11"),
        new: pid("12"),
        confidence: 0.5,
        reason: "same surname".into(),
    };
    assert_eq!(store.save_review(vec![pair]).await.unwrap(), 1);
    assert_eq!(store.review().await.unwrap().len(), 1);
    assert!(store.dismiss_review(&pid("12"), &pid("11")).await.unwrap());
    assert!(store.review().await.unwrap().is_empty());
    assert!(!store.dismiss_review(&pid("11"), &pid("12")).await.unwrap());
}

#[tokio::test]
async fn merging_unknown_or_identical_people_is_refused() {
    on_both_stores!("merge refusals", merge_refusals);
}

async fn merge_refusals(store: &dyn Store) {
    let e = store.merge_people(&pid("10"), &pid("nobody")).await;
    assert!(
        e.unwrap_err()
            .to_string()
            .contains("no person with id nobody")
    );
    let e = store.merge_people(&pid("10"), &pid("10")).await;
    assert!(e.unwrap_err().to_string().contains("into itself"));
}
