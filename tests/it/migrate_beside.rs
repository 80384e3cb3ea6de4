//! `renmai migrate` carries what lives beside the bundle (issue 9): service
//! cases' desk fields and deal-support assignments arrive in the target as
//! they are in the source, and running it again changes nothing.

use renmai::cli::migrate::copy;
use renmai::store::Store;

use crate::helpers::TestStore;

/// Records in a stable order, to compare two stores' answers.
fn sorted<T: serde::Serialize>(records: &[T]) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn migrate_copies_service_desk_fields_and_deal_support() {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let mut bundle = renmai::demo::demo_bundle(today);
    let extras = renmai::demo::demo_extras(today, &bundle);
    bundle.interactions.extend(extras.interactions);
    let source = TestStore::new();
    source.import(bundle).await;
    source
        .store
        .save_service_cases(extras.cases.clone())
        .await
        .unwrap();
    source
        .store
        .save_deal_support(extras.support.clone(), Vec::new())
        .await
        .unwrap();
    assert!(!extras.cases.is_empty() && !extras.support.is_empty());

    let target = TestStore::new();
    for run in ["first", "second"] {
        copy(source.store.as_ref(), target.store.as_ref(), true)
            .await
            .unwrap_or_else(|e| panic!("{run} migration: {e:#}"));
        assert_eq!(
            sorted(&target.store.service_cases(None).await.unwrap()),
            sorted(&source.store.service_cases(None).await.unwrap()),
            "{run} migration: service cases' desk fields differ"
        );
        assert_eq!(
            sorted(&target.store.deal_support(None).await.unwrap()),
            sorted(&source.store.deal_support(None).await.unwrap()),
            "{run} migration: deal-support assignments differ"
        );
    }
}
