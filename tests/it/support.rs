//! Sales support (MCI) end to end: assignments imported by id and checked
//! against the store, supporters of open deals starting warm paths, their
//! ties counting in closeness, and the load per person and month.

use renmai::cli::support::import;
use renmai::engine::Engine;
use renmai::store::Store;
use renmai_graph::{OrgId, PersonId, Timestamp};

use crate::helpers::{TestStore, write_small_bundle};

/// The small bundle plus Pia (ours, presales, not on the team) with a
/// workshop with Eve.
async fn store() -> TestStore {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let add = |file: &str, line: &str| {
        let p = dir.join(file);
        let mut s = std::fs::read_to_string(&p).unwrap();
        s.push_str(line);
        std::fs::write(&p, s).unwrap();
    };
    add(
        "people.csv",
        "3,0,Pia Presales,Presales Consultant,4,Presales,none,\n",
    );
    add(
        "interactions.csv",
        "6,3,12,workshop,2025-11-20T10:00:00Z,outbound\n7,12,3,meeting,2025-11-27T10:00:00Z,inbound\n",
    );
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    t
}

fn as_of() -> Timestamp {
    Timestamp::parse("2025-12-01T00:00:00Z").unwrap()
}

async fn sellers_to_eve(t: &TestStore) -> Vec<String> {
    let engine = Engine::new(t.store.clone(), Default::default());
    engine
        .warm_paths(
            &OrgId::parse("1").unwrap(),
            &PersonId::parse("12").unwrap(),
            3,
            Some(as_of()),
        )
        .await
        .unwrap()
        .unwrap_or_default()
        .iter()
        .map(|p| p.seller.to_string())
        .collect()
}

#[tokio::test]
async fn supporters_of_open_deals_start_warm_paths_and_their_load_is_counted() {
    let t = store().await;
    assert!(
        !sellers_to_eve(&t).await.contains(&"3".to_owned()),
        "before the assignment Pia is not on the team"
    );
    let path = t.dir.path().join("support.csv");
    std::fs::write(
        &path,
        "opportunity_id,person_id,role,from,to\nop1,3,presales,2025-10-01,\nop1,2,solution_expert,2025-09-01,2025-12-31\n",
    )
    .unwrap();
    import(t.store.as_ref(), &path).await.unwrap();
    assert_eq!(t.store.deal_support(None).await.unwrap().len(), 2);

    let sellers = sellers_to_eve(&t).await;
    assert_eq!(
        sellers.first().map(String::as_str),
        Some("3"),
        "Pia's direct tie is the best path to Eve: {sellers:?}"
    );
    let engine = Engine::new(t.store.clone(), Default::default());
    let scores = engine
        .scores(&OrgId::parse("1").unwrap(), Some(as_of()))
        .await
        .unwrap()
        .unwrap();
    let eve = scores
        .stakeholders
        .iter()
        .find(|s| s.closeness.person.as_str() == "12")
        .unwrap();
    assert_eq!(
        eve.closeness.best_connector.as_ref().map(|p| p.as_str()),
        Some("3")
    );
    assert!(eve.closeness.closeness > 0.0);

    // Re-import: nothing new.
    import(t.store.as_ref(), &path).await.unwrap();
    assert_eq!(t.store.deal_support(None).await.unwrap().len(), 2);

    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let r = renmai::support::load_report(t.store.as_ref(), d("2025-09-01"), d("2025-12-01"))
        .await
        .unwrap();
    let got: Vec<(&str, Vec<u32>)> = r
        .people
        .iter()
        .map(|p| (p.name.as_str(), p.months.iter().map(|m| m.deals).collect()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Ben Presales", vec![1, 1, 1, 1]),
            ("Pia Presales", vec![0, 1, 1, 1])
        ]
    );

    // The page and the API show the same.
    let (status, html) = page(&t, "/support?from=2025-09&to=2025-12").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Pia Presales") && html.contains("presales"),
        "{html}"
    );
    let (status, body) = page(&t, "/support?from=2025-13").await;
    assert_eq!(status, 422, "{body}");
    assert!(
        renmai::web::api::openapi()
            .paths
            .paths
            .contains_key("/support/load")
    );
}

#[tokio::test]
async fn bad_assignments_are_refused_with_line_and_field_and_nothing_is_written() {
    let t = store().await;
    let path = t.dir.path().join("support.csv");
    std::fs::write(
        &path,
        "opportunity_id,person_id,role,from,to\nop1,3,presales,2025-10-01,\nop9,3,presales,2025-10-01,\nop1,10,presales,2025-10-01,\n",
    )
    .unwrap();
    let err = import(t.store.as_ref(), &path)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("support.csv:3") && err.contains("opportunity_id") && err.contains("op9"),
        "{err}"
    );
    assert!(
        err.contains("support.csv:4") && err.contains("one of our people"),
        "{err}"
    );
    assert!(t.store.deal_support(None).await.unwrap().is_empty());

    std::fs::write(
        &path,
        "opportunity_id,person_id,role,from,to\nop1,3,sales,2025-10-01,2025-09-01\n",
    )
    .unwrap();
    let err = import(t.store.as_ref(), &path)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("support.csv:2") && err.contains("role"),
        "{err}"
    );
    assert!(t.store.deal_support(None).await.unwrap().is_empty());
}

async fn page(t: &TestStore, uri: &str) -> (u16, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let resp = t
        .router()
        .oneshot(
            axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}
