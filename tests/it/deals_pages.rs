//! The deal pages render, on a fresh store per test: the deals list (all
//! and one account), a deal with its timeline and chain as of a date and at
//! a stage, the reports page with CSV downloads, and 404/400 problems.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::deals::write_deal_bundle;
use crate::helpers::*;

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, String, String) {
    let resp = router
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8(body.to_vec()).unwrap())
}

async fn setup() -> (TestStore, axum::Router) {
    let t = TestStore::new();
    let dir = t.dir.path().join("deals");
    write_deal_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    let r = t.router();
    (t, r)
}

#[tokio::test]
async fn deals_list_deal_and_reports_pages_render() {
    let (_t, r) = setup().await;
    let (s, ctype, body) = get(&r, "/deals?as_of=2025-12-01").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(ctype.starts_with("text/html"));
    assert!(body.contains("Core banking renewal") && body.contains("Payments pilot"));
    assert!(
        body.contains("Globex, Initech") && body.contains("125,000"),
        "{body}"
    );
    let (s, _, body) = get(&r, "/deals?account=1").await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.contains("Deals · Acme Bank"), "{body}");

    let (s, _, body) = get(&r, "/deals/op1?as_of=2025-10-01").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("Stage timeline") && body.contains("Qualification"));
    assert!(body.contains("stage <strong>discovery</strong>"), "{body}");
    assert!(
        body.contains("Carla Chief") && !body.contains(">Dev Tech<"),
        "only the CEO was assessed by then"
    );
    let (_, _, body) = get(&r, "/deals/op1?stage=discovery").await;
    assert!(
        body.contains("Decision chain as of 2025-10-19T23:59:59Z"),
        "{body}"
    );
    assert!(body.contains(">Dev Tech<"), "{body}");
    assert!(body.contains("Negotiation: not reached"), "{body}");

    let (s, _, body) = get(&r, "/reports?as_of=2025-12-01").await;
    assert_eq!(s, StatusCode::OK, "{body}");
    for id in ["pipeline", "coverage", "risk", "trends"] {
        assert!(body.contains(&format!("id=\"{id}\"")), "{id}");
        assert!(
            body.contains(&format!("/reports/{id}/csv?as_of=2025-12-01")),
            "{id}"
        );
    }
    let (s, ctype, csv) = get(&r, "/reports/pipeline/csv?as_of=2025-12-01").await;
    assert_eq!(s, StatusCode::OK);
    assert!(ctype.starts_with("text/csv"));
    assert!(csv.contains("total,total,2,290000.00,125000.00"), "{csv}");
}

#[tokio::test]
async fn deal_pages_answer_problems_for_bad_requests() {
    let (_t, r) = setup().await;
    let (s, ctype, body) = get(&r, "/deals/nope").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(ctype, "application/problem+json");
    assert!(body.contains("no deal with id nope"));
    let (s, _, body) = get(&r, "/deals/op1?stage=closing").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, _, body) = get(&r, "/deals?as_of=soon").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("as_of"));
    let (s, _, _) = get(&r, "/reports/forecast/csv").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, body) = get(&r, "/deals?account=nope").await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn the_demo_deal_pages_render() {
    let t = TestStore::new();
    t.import(renmai::demo::demo_bundle(chrono::Utc::now().date_naive()))
        .await;
    let r = t.router();
    let (s, _, body) = get(&r, "/deals").await;
    assert_eq!(s, StatusCode::OK);
    let first = body
        .split("href=\"/deals/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a deal link")
        .to_owned();
    let (s, _, body) = get(&r, &format!("/deals/{first}")).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, _, _) = get(&r, "/reports").await;
    assert_eq!(s, StatusCode::OK);
}
