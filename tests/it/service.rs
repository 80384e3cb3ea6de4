//! Service (CSM) end to end on the embedded store: a service-desk CSV
//! imported as `service_case` interactions that raise a tie's closeness,
//! idempotent by case id, and the leads-from-service list on the CLI's
//! function, the API and the page.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use renmai::auth::{self, TokenScope};
use renmai::cli::ingest::import;
use renmai::engine::Engine;
use renmai::ingest::SourceFormat;
use renmai::ingest::resolve::ResolveOptions;
use renmai::store::Store;
use renmai_graph::service::{LeadsConfig, Severity};
use renmai_graph::{OrgId, Timestamp};
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::{TestStore, write_small_bundle};

/// The small bundle with e-mail addresses for Ana (ours) and Carla and Eve (Acme Bank).
async fn store() -> TestStore {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, mut b, _) = renmai::import::read(&dir).unwrap();
    for p in &mut b.people {
        let email = match p.id.as_str() {
            "1" => "ana.seller@ourco.example",
            "10" => "carla.chief@acme-bank.example",
            "12" => "eve.user@acme-bank.example",
            _ => continue,
        };
        p.emails.push(renmai_graph::Email::parse(email).unwrap());
    }
    t.import(b).await;
    t
}

/// Eve raised 1 case in the 90 days before 2025-09-10 and 4 after, so Acme
/// Bank and Eve are leads as of 2025-12-09; Carla's single case is not.
const CASES: &str = "\
case_id,account,contact,owner,opened,closed,severity,subject
SC-1,Acme Bank,eve.user@acme-bank.example,ana.seller@ourco.example,2025-08-01,2025-08-02,low,Report export slow
SC-2,Acme Bank,eve.user@acme-bank.example,ana.seller@ourco.example,2025-10-01,2025-10-03,P1,Batch run fails
SC-3,Acme Bank,eve.user@acme-bank.example,Ana Seller,2025-10-20,,high,Batch run fails again
SC-4,Acme Bank,eve.user@acme-bank.example,ana.seller@ourco.example,2025-11-05,2025-11-06,medium,More users needed
SC-5,Acme Bank,eve.user@acme-bank.example,ana.seller@ourco.example,2025-12-01,,medium,New branch rollout
SC-6,Acme Bank,carla.chief@acme-bank.example,ana.seller@ourco.example,2025-11-15,,low,Invoice question
";

fn as_of() -> Timestamp {
    Timestamp::parse("2025-12-09T00:00:00Z").unwrap()
}

async fn run(t: &TestStore, path: &std::path::Path, strict: bool) -> anyhow::Result<()> {
    let store: std::sync::Arc<dyn renmai::store::Store> = t.store.clone();
    import(
        &store,
        path,
        SourceFormat::ServiceCases,
        None,
        strict,
        &ResolveOptions::default(),
        true,
    )
    .await
}

async fn eve_tie(t: &TestStore) -> Option<renmai_graph::closeness::Tie> {
    let engine = Engine::new(t.store.clone(), Default::default());
    let scores = engine
        .scores(&OrgId::parse("1").unwrap(), Some(as_of()))
        .await
        .unwrap()
        .unwrap();
    scores
        .ties
        .iter()
        .find(|x| x.ours.as_str() == "1" && x.theirs.as_str() == "12")
        .cloned()
}

#[tokio::test]
async fn imported_cases_raise_a_tie_once_and_keep_their_fields() {
    let t = store().await;
    let before = eve_tie(&t).await.map_or(0.0, |x| x.closeness);
    let ix0 = t.store.stats().await.unwrap().interactions;
    let path = t.dir.path().join("cases.csv");
    std::fs::write(&path, CASES).unwrap();

    run(&t, &path, false).await.unwrap();
    let tie = eve_tie(&t).await.expect("Ana and Eve have a tie now");
    assert!(
        tie.closeness > before,
        "closeness {} not above {before}",
        tie.closeness
    );
    let service = tie
        .explanation
        .by_kind
        .iter()
        .find(|k| k.kind == renmai_graph::InteractionKind::ServiceCase)
        .expect("the tie's evidence names the service cases");
    assert_eq!(service.count, 5);
    assert_eq!(t.store.stats().await.unwrap().interactions, ix0 + 6);

    let cases = t.store.service_cases(None).await.unwrap();
    assert_eq!(cases.len(), 6);
    let sc2 = cases.iter().find(|c| c.case_id == "SC-2").unwrap();
    assert_eq!(sc2.severity, Some(Severity::Critical));
    assert_eq!(sc2.subject.as_deref(), Some("Batch run fails"));
    assert_eq!(sc2.account.as_str(), "1");
    assert_eq!(sc2.contact.as_str(), "12");
    assert_eq!(sc2.owner.as_ref().map(|p| p.as_str()), Some("1"));
    assert_eq!(sc2.closed, Some(Timestamp::parse("2025-10-03").unwrap()));
    let sc3 = cases.iter().find(|c| c.case_id == "SC-3").unwrap();
    assert_eq!(
        sc3.owner.as_ref().map(|p| p.as_str()),
        Some("1"),
        "the owner named by name at our company is Ana"
    );

    // Again: nothing new.
    run(&t, &path, false).await.unwrap();
    assert_eq!(t.store.stats().await.unwrap().interactions, ix0 + 6);
    assert_eq!(t.store.service_cases(None).await.unwrap().len(), 6);
    assert_eq!(eve_tie(&t).await.unwrap().closeness, tie.closeness);
}

#[tokio::test]
async fn strict_refuses_a_file_with_a_bad_case_and_writes_nothing() {
    let t = store().await;
    let ix0 = t.store.stats().await.unwrap().interactions;
    let path = t.dir.path().join("cases.csv");
    std::fs::write(
        &path,
        format!("{CASES}SC-7,Acme Bank,eve.user@acme-bank.example,ana.seller@ourco.example,2025-12-01,,urgent,x\n"),
    )
    .unwrap();
    let err = run(&t, &path, true).await.unwrap_err().to_string();
    assert!(
        err.contains("rejected (--strict)")
            && err.contains("cases.csv:8")
            && err.contains("severity"),
        "{err}"
    );
    assert_eq!(t.store.stats().await.unwrap().interactions, ix0);
    assert!(t.store.service_cases(None).await.unwrap().is_empty());
    // Without --strict the good cases go in and the bad one is skipped.
    run(&t, &path, false).await.unwrap();
    assert_eq!(t.store.service_cases(None).await.unwrap().len(), 6);
}

async fn get(router: axum::Router, uri: &str, token: Option<&str>) -> (StatusCode, String, String) {
    let mut req = Request::get(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = router
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn leads_from_service_list_the_rising_account_and_stakeholder() {
    let t = store().await;
    let path = t.dir.path().join("cases.csv");
    std::fs::write(&path, CASES).unwrap();
    run(&t, &path, false).await.unwrap();

    let report = renmai::leads::leads(t.store.as_ref(), as_of(), LeadsConfig::default())
        .await
        .unwrap();
    assert_eq!(report.cases_considered, 6);
    let accounts: Vec<(&str, u32, u32)> = report
        .accounts
        .iter()
        .map(|l| (l.account_name.as_str(), l.recent, l.prior))
        .collect();
    assert_eq!(accounts, vec![("Acme Bank", 5, 1)]);
    let people: Vec<(Option<&str>, u32, u32, u32)> = report
        .stakeholders
        .iter()
        .map(|l| (l.person_name.as_deref(), l.recent, l.prior, l.recent_urgent))
        .collect();
    assert_eq!(people, vec![(Some("Eve User"), 4, 1, 2)]);
    let evidence: Vec<&str> = report.stakeholders[0]
        .cases
        .iter()
        .map(|c| c.case_id.as_str())
        .collect();
    assert_eq!(evidence, vec!["SC-5", "SC-4", "SC-3", "SC-2"]);
    // A higher minimum: nobody.
    let strict = LeadsConfig {
        window_days: 90,
        min_recent: 6,
    };
    let none = renmai::leads::leads(t.store.as_ref(), as_of(), strict)
        .await
        .unwrap();
    assert!(none.accounts.is_empty() && none.stakeholders.is_empty());

    // The API.
    let secret = auth::generate_token();
    t.store
        .save_token("crm", TokenScope::Read, &auth::hash_token(&secret), false)
        .await
        .unwrap();
    let (status, _, body) = get(
        t.router(),
        "/api/v1/leads?as_of=2025-12-09T00:00:00Z",
        Some(&secret),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["accounts"][0]["account"], "1");
    assert_eq!(v["accounts"][0]["recent"], 5);
    assert_eq!(v["stakeholders"][0]["person"], "12");
    assert_eq!(v["stakeholders"][0]["cases"][0]["severity"], "medium");
    assert_eq!(v["window_days"], 90);
    let (status, ctype, body) = get(t.router(), "/api/v1/leads?window_days=0", Some(&secret)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(ctype, "application/problem+json");
    assert!(body.contains("window_days"), "{body}");
    let (status, _, _) = get(t.router(), "/api/v1/leads", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let doc = renmai::web::api::openapi();
    assert!(doc.paths.paths.contains_key("/leads"));

    // The page.
    let (status, _, html) = get(t.router(), "/leads?as_of=2025-12-09", None).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(
        html.contains("Eve User") && html.contains("Acme Bank"),
        "{html}"
    );
    assert!(
        html.contains("5 cases in the last 90 days against 1"),
        "{html}"
    );
    assert!(html.contains("Batch run fails"), "{html}");
    assert!(!html.contains("Carla Chief"), "Carla has one case: no lead");
    let (status, ctype, _) = get(t.router(), "/leads?min_cases=0", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(ctype, "application/problem+json");
}
