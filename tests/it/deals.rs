//! Deals (TAS+): competitors and stage history through the bundle and the
//! store; stage and decision chain as of a date on stored data.

use std::path::Path;
use std::sync::Arc;

use renmai::import;
use renmai::store::{NoProgress, Store};
use renmai_graph::deals::{chain_at_stage, decision_chain, stage_at, stage_history};
use renmai_graph::{DealConfig, OrgId, Timestamp};

use crate::helpers::*;

/// The small bundle with a deal history: op1 went qualification →
/// discovery → proposal, a second deal was lost, and the economic buyer was
/// assessed twice on op1.
pub fn write_deal_bundle(dir: &Path) {
    write_small_bundle(dir);
    std::fs::write(
        dir.join("opportunities.csv"),
        "opportunity_id,account_id,name,status,amount,stage,close_date,owner_id,competitors\n\
         op1,1,Core banking renewal,open,250000,proposal,2026-03-31,1,Globex;Initech\n\
         op2,1,Payments pilot,lost,40000,negotiation,2025-09-30,1,Globex\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("opportunity_contacts.csv"),
        "opportunity_id,person_id,role,attitude,solution_acceptance,price_acceptance,assessed_at\n\
         op1,10,economic_buyer,neutral,1,1,2025-09-01T00:00:00Z\n\
         op1,10,economic_buyer,supporter,3,2,2025-11-01T00:00:00Z\n\
         op1,11,technical_buyer,champion,4,3,2025-10-15T00:00:00Z\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("opportunity_stages.csv"),
        "opportunity_id,stage,at\n\
         op1,qualification,2025-08-01T00:00:00Z\n\
         op1,discovery,2025-09-15T00:00:00Z\n\
         op1,proposal,2025-10-20T00:00:00Z\n",
    )
    .unwrap();
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

#[tokio::test]
async fn competitors_and_stage_history_round_trip_through_csv_json_and_store() {
    let t = TestStore::new();
    let dir = t.dir.path().join("deals");
    write_deal_bundle(&dir);
    let (_, b, src) = import::read(&dir).unwrap();
    assert_eq!(b.opportunity_stages.len(), 3);
    assert_eq!(b.opportunities[0].competitors, ["Globex", "Initech"]);
    let summary = t.store.import(b, src, Arc::new(NoProgress)).await.unwrap();
    assert_eq!(summary.opportunity_stages.new, 3);
    let exported = t.store.export().await.unwrap();
    assert_eq!(exported.opportunity_stages.len(), 3);
    assert_eq!(exported.opportunities[0].competitors, ["Globex", "Initech"]);

    let json_path = t.dir.path().join("out.json");
    import::json_bundle::to_writer(&exported, std::fs::File::create(&json_path).unwrap()).unwrap();
    let (_, from_json, _) = import::read(&json_path).unwrap();
    assert_eq!(canonical(from_json.clone()), canonical(exported.clone()));

    let csv_dir = t.dir.path().join("out-csv");
    import::csv_bundle::write_dir(&exported, &csv_dir).unwrap();
    let (_, from_csv, _) = import::read(&csv_dir).unwrap();
    assert_eq!(canonical(from_csv.clone()), canonical(exported.clone()));

    // Re-importing the same history changes nothing.
    let src = renmai::validate::SourceMap::synthetic("again", &from_csv);
    let again = t
        .store
        .import(from_csv, src, Arc::new(NoProgress))
        .await
        .unwrap();
    assert_eq!(again.new_records(), 0, "{again:?}");
    assert_eq!(
        canonical(t.store.export().await.unwrap()),
        canonical(exported)
    );
}

#[tokio::test]
async fn stage_and_decision_chain_as_of_a_date_from_the_store() {
    let t = TestStore::new();
    let dir = t.dir.path().join("deals");
    write_deal_bundle(&dir);
    let (_, b, _) = import::read(&dir).unwrap();
    t.import(b).await;
    let data = t
        .store
        .account_data(&OrgId::parse("1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(data.opportunity_stages.len(), 3);
    let cfg = DealConfig::default();
    let op1 = data
        .opportunities
        .iter()
        .find(|o| o.id.as_str() == "op1")
        .unwrap();
    let h = stage_history(
        &cfg,
        op1,
        &data.opportunity_stages,
        &data.opportunity_contacts,
    );
    assert_eq!(stage_at(&h, ts("2025-10-01")).unwrap().stage, "discovery");

    let sept = decision_chain(&op1.id, &data.opportunity_contacts, Some(ts("2025-10-01")));
    assert_eq!(sept.len(), 1, "the technical buyer came in on 15 October");
    assert_eq!(sept[0].solution_acceptance, Some(1));
    let now = decision_chain(&op1.id, &data.opportunity_contacts, None);
    assert_eq!(now.len(), 2);
    assert_eq!(now[0].solution_acceptance, Some(3));
    assert_eq!(now[0].versions, 2);
    let at_qualification = chain_at_stage(op1, &h, &data.opportunity_contacts, 0).unwrap();
    assert_eq!(
        at_qualification.len(),
        1,
        "qualification ended 15 September"
    );
    let at_discovery = chain_at_stage(op1, &h, &data.opportunity_contacts, 1).unwrap();
    assert_eq!(at_discovery.len(), 2, "discovery ended 20 October");
    assert_eq!(at_discovery[0].solution_acceptance, Some(1));

    // A deal without recorded changes gets one derived period at its outcome.
    let op2 = data
        .opportunities
        .iter()
        .find(|o| o.id.as_str() == "op2")
        .unwrap();
    let h2 = stage_history(
        &cfg,
        op2,
        &data.opportunity_stages,
        &data.opportunity_contacts,
    );
    assert_eq!(h2.len(), 1);
    assert!(h2[0].derived);
    assert_eq!(h2[0].stage, "closed_lost");
    assert_eq!(h2[0].from, Some(ts("2025-09-30")));
}

/// Imports `dir` expecting a refusal; returns the message.
async fn refused(t: &TestStore, dir: &Path) -> String {
    let before = canonical(t.store.export().await.unwrap());
    let err = match import::read(dir) {
        Err(e) => e.to_string(),
        Ok((_, b, src)) => t
            .store
            .import(b, src, Arc::new(NoProgress))
            .await
            .expect_err("refused")
            .to_string(),
    };
    assert_eq!(canonical(t.store.export().await.unwrap()), before);
    err
}

#[tokio::test]
async fn bad_stage_rows_and_competitors_are_refused_naming_file_line_and_field() {
    let t = TestStore::new();
    let dir = t.dir.path().join("deals");
    write_deal_bundle(&dir);
    let stages = dir.join("opportunity_stages.csv");
    let good = std::fs::read_to_string(&stages).unwrap();

    std::fs::write(
        &stages,
        format!("{good}op9,proposal,2025-10-20T00:00:00Z\n"),
    )
    .unwrap();
    let err = refused(&t, &dir).await;
    assert!(
        err.contains("opportunity_stages.csv:5: field `opportunity_id`") && err.contains("op9"),
        "{err}"
    );

    std::fs::write(&stages, format!("{good}op1,negotiation,next week\n")).unwrap();
    let err = refused(&t, &dir).await;
    assert!(
        err.contains("opportunity_stages.csv:5: field `at`") && err.contains("RFC 3339"),
        "{err}"
    );

    std::fs::write(
        &stages,
        format!("{good}op1,negotiation,2025-10-20T00:00:00Z\n"),
    )
    .unwrap();
    let err = refused(&t, &dir).await;
    assert!(
        err.contains("opportunity_stages.csv:5: field `at`") && err.contains("given twice"),
        "{err}"
    );

    std::fs::write(&stages, format!("{good}op1,,2025-12-20T00:00:00Z\n")).unwrap();
    let err = refused(&t, &dir).await;
    assert!(
        err.contains("opportunity_stages.csv:5: field `stage`"),
        "{err}"
    );
    std::fs::write(&stages, good).unwrap();

    // JSON: a competitor with a `;` would not survive the CSV form.
    let (_, mut b, _) = import::read(&dir).unwrap();
    b.opportunities[0].competitors.push("A;B".into());
    let path = t.dir.path().join("bad.json");
    import::json_bundle::to_writer(&b, std::fs::File::create(&path).unwrap()).unwrap();
    let err = refused(&t, &path).await;
    assert!(
        err.contains("/opportunities/0") && err.contains("`competitors`") && err.contains("A;B"),
        "{err}"
    );
}
