//! Project behaviour patterns (PBM) from the store: a bundle whose patterns
//! are known (four wins that all had the CFO by the proposal stage, two
//! losses without), through the CLI's text and the API, and on the open
//! deal's page and API with our tie to the CFO (absent, then strong).

use renmai::engine::Engine;
use renmai_graph::OrgId;
use renmai_graph::deals::DealConfig;
use renmai_graph::patterns::account_patterns;

use crate::helpers::TestStore;

fn write_bundle(dir: &std::path::Path) {
    write_bundle_with(dir, false);
}

/// The bundle; with `tie`, Ana Seller met the CFO often lately and assessed
/// her as an ally yesterday (dated from now: the pages score as of now).
fn write_bundle_with(dir: &std::path::Path, tie: bool) {
    std::fs::create_dir_all(dir).unwrap();
    let mut opps = String::from("opportunity_id,account_id,name,status,amount,stage,close_date\n");
    let mut stages = String::from("opportunity_id,stage,at\n");
    let mut contacts = String::from("opportunity_id,person_id,role,assessed_at\n");
    let deals = [
        ("w1", "won", "2023-01-01", "2023-03-31", true),
        ("w2", "won", "2023-06-01", "2023-09-29", true),
        ("w3", "won", "2024-01-01", "2024-03-31", true),
        ("w4", "won", "2024-12-01", "2025-03-28", true),
        ("l1", "lost", "2024-06-01", "2024-09-30", false),
        ("l2", "lost", "2025-01-01", "2025-04-30", false),
    ];
    for (id, status, start, close, cfo) in deals {
        let t0 = chrono::NaiveDate::parse_from_str(start, "%Y-%m-%d").unwrap();
        let prop = t0 + chrono::Days::new(30);
        let end = prop + chrono::Days::new(60);
        opps.push_str(&format!("{id},1,Deal {id},{status},100000,,{close}\n"));
        stages.push_str(&format!(
            "{id},discovery,{t0}T00:00:00Z\n{id},proposal,{prop}T00:00:00Z\n{id},closed_{status},{end}T00:00:00Z\n"
        ));
        contacts.push_str(&format!("{id},11,technical_buyer,{t0}T12:00:00Z\n"));
        if cfo {
            contacts.push_str(&format!("{id},10,economic_buyer,{prop}T12:00:00Z\n"));
        }
    }
    opps.push_str("o1,1,Expansion,open,120000,negotiation,2026-06-30\n");
    contacts.push_str("o1,11,technical_buyer,2025-10-01T00:00:00Z\n");
    let mut interactions =
        String::from("interaction_id,from_person,to_person,kind,timestamp,direction\n");
    let mut assessments = String::from("from_person,to_person,level,assessed_at,by_person\n");
    if tie {
        let now = chrono::Utc::now();
        for i in 1..=8i64 {
            let at = (now - chrono::Duration::days(i * 5)).format("%Y-%m-%dT10:00:00Z");
            interactions.push_str(&format!("m{i},1,10,meeting,{at},outbound\n"));
        }
        let at = (now - chrono::Duration::days(1)).format("%Y-%m-%dT00:00:00Z");
        assessments.push_str(&format!("1,10,4,{at},1\n"));
    }
    let files = [
        (
            "organizations.csv",
            "org_id,name,is_ours\n0,Our Company,1\n1,Acme Bank,0\n".to_owned(),
        ),
        (
            "people.csv",
            "person_id,org_id,name,title,level,role\n1,0,Ana Seller,,4,none\n10,1,Carla CFO,CFO,1,economic_buyer\n11,1,Dev Tech,,3,technical_buyer\n".to_owned(),
        ),
        ("interactions.csv", interactions),
        ("assessments.csv", assessments),
        ("opportunities.csv", opps),
        ("opportunity_stages.csv", stages),
        ("opportunity_contacts.csv", contacts),
    ];
    for (name, body) in files {
        std::fs::write(dir.join(name), body).unwrap();
    }
}

#[tokio::test]
async fn patterns_of_an_account_from_the_store_warn_on_the_open_deal() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;

    let engine = Engine::new(t.store.clone(), Default::default());
    let data = engine
        .account_data(&OrgId::parse("1").unwrap())
        .await
        .unwrap()
        .unwrap();
    let p = account_patterns(&data, &DealConfig::default());
    assert_eq!((p.won, p.lost, p.open), (4, 2, 1));
    assert_eq!(p.decision_months, vec![3], "{:?}", p.won_by_month);
    let text = renmai::cli::patterns::text("Acme Bank", &p);
    assert!(
        text.contains("Proposal") && text.contains("60 days"),
        "{text}"
    );
    assert!(
        text.contains("4 of 4 of their medium deals involved an economic buyer by stage Proposal; Expansion is at Negotiation"),
        "{text}"
    );
    assert!(text.contains("deals: w1, w2, w3, w4"), "{text}");

    // The API gives the same, and 404 for an unknown account.
    let secret = renmai::auth::generate_token();
    use renmai::store::Store;
    t.store
        .save_token(
            "crm",
            renmai::auth::TokenScope::Read,
            &renmai::auth::hash_token(&secret),
            false,
        )
        .await
        .unwrap();
    let (status, body) = get(&t, "/api/v1/accounts/1/patterns", &secret).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["won"], 4);
    assert_eq!(v["sufficient"], true);
    assert_eq!(v["warnings"].as_array().unwrap().len(), p.warnings.len());
    let (status, body) = get(&t, "/api/v1/accounts/nope/patterns", &secret).await;
    assert_eq!(status, 404, "{body}");
    assert!(
        renmai::web::api::openapi()
            .paths
            .paths
            .contains_key("/accounts/{id}/patterns")
    );
}

async fn get(t: &TestStore, uri: &str, token: &str) -> (u16, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let resp = t
        .router()
        .oneshot(
            axum::http::Request::get(uri)
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
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

#[tokio::test]
async fn the_deal_page_warns_that_we_have_no_tie_to_the_missing_cfo() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_bundle_with(&dir, false);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;

    let (status, body) = page(&t, "/deals/o1").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("id=\"pattern-warnings\""), "{body}");
    assert!(
        body.contains("4 of 4 of their medium deals involved an economic buyer by stage Proposal"),
        "{body}"
    );
    assert!(
        body.contains(
            "we have no tie to Carla CFO (CFO, economic buyer): none of our people has met them"
        ),
        "{body}"
    );
    assert!(
        body.contains("href=\"/deals/w1\""),
        "evidence links: {body}"
    );
    assert!(
        body.contains("stranger (0%): no tie"),
        "the holder with her score: {body}"
    );
    // A won deal has no pattern warnings.
    let (status, body) = page(&t, "/deals/w1").await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("pattern-warnings"), "{body}");
}

#[tokio::test]
async fn the_deal_page_and_api_name_our_strong_tie_to_the_missing_cfo() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_bundle_with(&dir, true);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;

    let (status, body) = page(&t, "/deals/o1").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("(Ana Seller): ask Ana Seller to bring Carla CFO in"),
        "{body}"
    );
    assert!(!body.contains("we have no tie"), "{body}");
    assert!(body.contains("through Ana Seller"), "{body}");

    let secret = renmai::auth::generate_token();
    use renmai::store::Store;
    t.store
        .save_token(
            "crm",
            renmai::auth::TokenScope::Read,
            &renmai::auth::hash_token(&secret),
            false,
        )
        .await
        .unwrap();
    let (status, body) = get(&t, "/api/v1/deals/o1", &secret).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let w = v["pattern_warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["missing"] == "role:economic_buyer")
        .unwrap_or_else(|| panic!("a warning on the economic buyer: {v}"));
    assert_eq!(w["evidence"].as_array().unwrap().len(), 4);
    let h = &w["holders"][0];
    assert_eq!(h["person"], "10");
    assert_eq!(h["best_connector"], "1");
    assert_eq!(h["strong"], true, "{h}");
    assert!(h["closeness"].as_f64().unwrap() >= 0.55, "{h}");
    // The account's patterns API carries the same holders.
    let (_, body) = get(&t, "/api/v1/accounts/1/patterns", &secret).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["warnings"][0]["holders"][0]["person"], "10", "{v}");
}
