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
