use std::sync::Arc;

use renmai::import;
use renmai::store::{NoProgress, Store};

use crate::helpers::*;

#[tokio::test]
async fn every_entity_round_trips_through_the_store() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, bundle, src) = import::read(&dir).unwrap();
    let original = canonical(bundle.clone());
    t.store
        .import(bundle, src, Arc::new(NoProgress))
        .await
        .unwrap();
    let exported = canonical(t.store.export().await.unwrap());
    assert_eq!(exported, original);
    // Every kind is present, so the comparison covers every entity.
    assert!(exported.organizations.len() == 3 && exported.people.len() == 7);
    assert!(!exported.account_team.is_empty() && !exported.interactions.is_empty());
    assert!(!exported.influences.is_empty() && !exported.assessments.is_empty());
    assert!(!exported.opportunities.is_empty() && !exported.opportunity_contacts.is_empty());
}

#[tokio::test]
async fn reimport_changes_nothing() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, src) = import::read(&dir).unwrap();
    let first = t
        .store
        .import(b.clone(), src.clone(), Arc::new(NoProgress))
        .await
        .unwrap();
    let stats1 = t.store.stats().await.unwrap();
    let before = canonical(t.store.export().await.unwrap());
    let second = t.store.import(b, src, Arc::new(NoProgress)).await.unwrap();
    assert_eq!(first.interactions.new, 5);
    assert_eq!(second.new_records(), 0, "{second:?}");
    assert_eq!(second.interactions.existing, 5);
    assert_eq!(t.store.stats().await.unwrap(), stats1);
    assert_eq!(canonical(t.store.export().await.unwrap()), before);
}

#[tokio::test]
async fn export_round_trips_as_json_and_csv() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, src) = import::read(&dir).unwrap();
    t.store.import(b, src, Arc::new(NoProgress)).await.unwrap();
    let exported = t.store.export().await.unwrap();

    // JSON
    let json_path = t.dir.path().join("out.json");
    let f = std::fs::File::create(&json_path).unwrap();
    import::json_bundle::to_writer(&exported, f).unwrap();
    let (fmt, from_json, _) = import::read(&json_path).unwrap();
    assert_eq!(fmt, import::Format::JsonBundle);
    assert_eq!(canonical(from_json.clone()), canonical(exported.clone()));

    // CSV
    let csv_dir = t.dir.path().join("out-csv");
    import::csv_bundle::write_dir(&exported, &csv_dir).unwrap();
    let (fmt, from_csv, _) = import::read(&csv_dir).unwrap();
    assert_eq!(fmt, import::Format::CsvBundle);
    assert_eq!(canonical(from_csv.clone()), canonical(exported.clone()));

    // And both import into a fresh store giving the same data.
    for b in [from_json, from_csv] {
        let t2 = TestStore::new();
        t2.import(b).await;
        assert_eq!(
            canonical(t2.store.export().await.unwrap()),
            canonical(exported.clone())
        );
    }
}

#[tokio::test]
async fn account_data_holds_the_accounts_slice() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, _) = import::read(&dir).unwrap();
    t.import(b).await;
    let acct = renmai_graph::OrgId::parse("1").unwrap();
    let data = t.store.account_data(&acct).await.unwrap().unwrap();
    assert_eq!(data.people.len(), 4);
    assert_eq!(data.our_people.len(), 2);
    assert_eq!(data.team.len(), 2);
    // The internal call between our two people is not part of the account.
    assert_eq!(data.interactions.len(), 4);
    assert_eq!(data.influences.len(), 2);
    assert_eq!(data.assessments.len(), 1);
    assert_eq!(data.opportunities.len(), 1);
    assert_eq!(data.opportunity_contacts.len(), 1);
    // Our own company is not an account.
    assert!(
        t.store
            .account_data(&renmai_graph::OrgId::parse("0").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let accounts = t.store.accounts().await.unwrap();
    assert_eq!(accounts.len(), 2);
    let bank = accounts.iter().find(|a| a.id == acct).unwrap();
    assert_eq!(bank.people, 4);
    assert_eq!(
        bank.last_interaction.unwrap().to_rfc3339(),
        "2025-11-02T09:00:00Z"
    );
}

#[tokio::test]
async fn decision_chain_keeps_every_dated_assessment() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, _) = import::read(&dir).unwrap();
    let first = b.opportunity_contacts[0].clone();
    t.import(b).await;
    let mut later = first.clone();
    later.at = Some(renmai_graph::Timestamp::parse("2025-12-01T00:00:00Z").unwrap());
    later.attitude = Some(renmai_graph::Attitude::Champion);
    let bundle = renmai::bundle::Bundle {
        opportunity_contacts: vec![later.clone()],
        ..Default::default()
    };
    t.import(bundle.clone()).await;
    t.import(bundle).await; // idempotent
    let exported = t.store.export().await.unwrap();
    assert_eq!(exported.opportunity_contacts, vec![first, later]);
}

fn interaction(id: &str, kind: &str, at: &str, people: &[&str]) -> renmai_graph::Interaction {
    let participants: Vec<renmai_graph::PersonId> = people
        .iter()
        .map(|p| renmai_graph::PersonId::parse(p).unwrap())
        .collect();
    renmai_graph::Interaction {
        id: renmai_graph::InteractionId::parse(id).unwrap(),
        kind: renmai_graph::InteractionKind::parse(kind).unwrap(),
        at: renmai_graph::Timestamp::parse(at).unwrap(),
        initiator: participants[0].clone(),
        in_reply_to: None,
        participants,
    }
}

async fn account_interactions(t: &TestStore, account: &str) -> Vec<String> {
    let acct = renmai_graph::OrgId::parse(account).unwrap();
    let data = t.store.account_data(&acct).await.unwrap().unwrap();
    let mut ids: Vec<String> = data.interactions.iter().map(|i| i.id.to_string()).collect();
    ids.sort();
    ids
}

/// The by-account table holds exactly the filed interactions at their times.
fn assert_filed_consistently(t: &TestStore) {
    let c = rusqlite::Connection::open(t.dir.path().join("renmai.db")).unwrap();
    let stray: i64 = c
        .query_row(
            "SELECT (SELECT count(*) FROM (SELECT account_id, at, id FROM interactions WHERE account_id IS NOT NULL EXCEPT SELECT account_id, at, interaction_id FROM interactions_by_account)) + (SELECT count(*) FROM (SELECT account_id, at, interaction_id FROM interactions_by_account EXCEPT SELECT account_id, at, id FROM interactions WHERE account_id IS NOT NULL))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stray, 0, "interactions_by_account is out of step");
}

/// Edited interactions move between accounts; unchanged ones are left as
/// they are; new ones are filed. Run against a small store (rows compared by
/// a range scan) and against one much bigger than the import (one lookup
/// per row).
#[tokio::test]
async fn reimport_with_edits_refiles_interactions() {
    for filler in [0usize, 100] {
        let t = TestStore::new();
        let dir = t.dir.path().join("bundle");
        write_small_bundle(&dir);
        let (_, b, _) = import::read(&dir).unwrap();
        t.import(b).await;
        if filler > 0 {
            let calls = (0..filler)
                .map(|k| {
                    interaction(
                        &format!("f{k:03}"),
                        "call",
                        "2025-01-05T10:00:00Z",
                        &["2", "12"],
                    )
                })
                .collect();
            t.import(renmai::bundle::Bundle {
                interactions: calls,
                ..Default::default()
            })
            .await;
        }
        assert_eq!(account_interactions(&t, "1").await.len(), 4 + filler);
        assert!(account_interactions(&t, "2").await.is_empty());

        let edits = renmai::bundle::Bundle {
            interactions: vec![
                // was 1 → 10 (account 1) on 2025-11-01: now with Gil of account 2, later
                interaction("1", "meeting", "2025-11-20T10:00:00Z", &["1", "20"]),
                // unchanged
                interaction("2", "email", "2025-11-02T09:00:00Z", &["10", "1"]),
                // new, account 2
                interaction("6", "call", "2025-11-21T10:00:00Z", &["2", "20"]),
                // new, both accounts: filed under 1, also listed for 2
                interaction("7", "workshop", "2025-11-22T10:00:00Z", &["1", "10", "20"]),
            ],
            ..Default::default()
        };
        let src = renmai::validate::SourceMap::synthetic("edits", &edits);
        let s = t
            .store
            .import(edits.clone(), src.clone(), Arc::new(NoProgress))
            .await
            .unwrap();
        assert_eq!((s.interactions.new, s.interactions.existing), (2, 2));
        let mut want1: Vec<String> = ["2", "3", "4", "7"].map(String::from).to_vec();
        want1.extend((0..filler).map(|k| format!("f{k:03}")));
        want1.sort();
        assert_eq!(account_interactions(&t, "1").await, want1);
        assert_eq!(account_interactions(&t, "2").await, ["1", "6", "7"]);
        assert_filed_consistently(&t);

        // Importing the edits again changes nothing.
        let before = canonical(t.store.export().await.unwrap());
        let again = t
            .store
            .import(edits, src, Arc::new(NoProgress))
            .await
            .unwrap();
        assert_eq!(
            (again.interactions.new, again.interactions.existing),
            (0, 4)
        );
        assert_eq!(canonical(t.store.export().await.unwrap()), before);
        assert_filed_consistently(&t);
    }
}
