//! Deals by id (issue 9): one deal is looked up by its id in the store
//! (not by reading every account), only for a viewer who may see its
//! account; and a CRM re-import, which knows nothing of competitors, keeps
//! the competitors stored for its deals.

use std::path::Path;
use std::sync::Arc;

use renmai::access::{Scope, Viewer, run_as};
use renmai::cli::ingest::import;
use renmai::ingest::SourceFormat;
use renmai::ingest::resolve::ResolveOptions;
use renmai::store::Store;
use renmai_graph::{OpportunityId, OrgId};

use crate::helpers::{TestStore, write_small_bundle};

#[tokio::test]
async fn a_deal_is_found_by_its_id_for_who_may_see_its_account() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    t.import(renmai::import::read(&dir).unwrap().1).await;
    let op1 = OpportunityId::parse("op1").unwrap();

    let deal = t.store.opportunity(&op1).await.unwrap().expect("op1");
    assert_eq!(deal.account.as_str(), "1");
    assert_eq!(deal.name, "Core banking renewal");
    let unknown = OpportunityId::parse("no-such-deal").unwrap();
    assert!(t.store.opportunity(&unknown).await.unwrap().is_none());

    let viewer = |accounts: &[&str]| {
        let mut v = Viewer::anonymous();
        v.scope = Scope::Accounts(Arc::new(
            accounts.iter().map(|a| OrgId::parse(a).unwrap()).collect(),
        ));
        Arc::new(v)
    };
    let seen = run_as(viewer(&["1"]), t.store.opportunity(&op1)).await;
    assert_eq!(seen.unwrap().map(|o| o.id), Some(op1.clone()));
    let hidden = run_as(viewer(&["2"]), t.store.opportunity(&op1)).await;
    assert!(
        hidden.unwrap().is_none(),
        "a deal of an account the viewer may not see is as unknown"
    );

    // The Neo4j store answers the same (its lookup reads account by account).
    #[cfg(feature = "neo4j")]
    {
        let _bolt = crate::conformance::BOLT.lock().await;
        if let Some(neo) = crate::conformance::bolt_store("deal by id").await {
            let (_, b, _) = renmai::import::read(&dir).unwrap();
            let src = renmai::validate::SourceMap::synthetic("test", &b);
            neo.import(b, src, Arc::new(renmai::store::NoProgress))
                .await
                .unwrap();
            assert_eq!(neo.opportunity(&op1).await.unwrap(), Some(deal));
            assert!(neo.opportunity(&unknown).await.unwrap().is_none());
            neo.clear().await.unwrap();
        }
    }
}

async fn import_crm(t: &TestStore, path: &Path) {
    let store: Arc<dyn Store> = t.store.clone();
    import(
        &store,
        path,
        SourceFormat::Salesforce,
        None,
        false,
        &ResolveOptions::default(),
        true,
    )
    .await
    .expect("the Salesforce export imports");
}

#[tokio::test]
async fn a_crm_reimport_keeps_the_competitors_it_does_not_mention() {
    let t = TestStore::new();
    let export = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest/crm/salesforce");
    import_crm(&t, &export).await;
    let mut bundle = t.store.export().await.unwrap();
    let id = OpportunityId::parse("salesforce-0065g00000Op001AAB").unwrap();
    let mut deal = bundle
        .opportunities
        .iter()
        .find(|o| o.id == id)
        .cloned()
        .expect("the export's first opportunity");
    assert!(deal.competitors.is_empty());

    // Someone records the competitors (a bundle import: they are its field).
    deal.competitors = vec!["Initech".into(), "Umbrella Corp".into()];
    bundle = renmai::bundle::Bundle {
        opportunities: vec![deal.clone()],
        ..Default::default()
    };
    t.import(bundle).await;

    // The CRM export again: the deal is updated from it, competitors stay.
    import_crm(&t, &export).await;
    let after = t.store.opportunity(&id).await.unwrap().expect("the deal");
    assert_eq!(after.competitors, ["Initech", "Umbrella Corp"]);
    assert_eq!((&after.name, after.amount), (&deal.name, deal.amount));

    // A bundle that names competitors still replaces them.
    let mut cleared = after.clone();
    cleared.competitors = vec!["Hooli".into()];
    t.import(renmai::bundle::Bundle {
        opportunities: vec![cleared],
        ..Default::default()
    })
    .await;
    let last = t.store.opportunity(&id).await.unwrap().unwrap();
    assert_eq!(last.competitors, ["Hooli"]);
}
