use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::helpers::*;

async fn get(router: axum::Router, uri: &str) -> (StatusCode, String, String) {
    let resp = router
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, ctype, String::from_utf8(body.to_vec()).unwrap())
}

async fn loaded() -> TestStore {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    t
}

#[tokio::test]
async fn healthz_answers_ok() {
    let t = TestStore::new();
    let (status, _, body) = get(t.router(), "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ok");
}

#[tokio::test]
async fn index_lists_accounts_and_escapes_names() {
    let t = loaded().await;
    let mut b = renmai::bundle::Bundle::default();
    b.organizations.push(renmai_graph::Organization {
        id: renmai_graph::OrgId::parse("x").unwrap(),
        name: "<script>alert(1)</script> Corp".into(),
        industry: None,
        region: None,
        tier: None,
        is_ours: false,
        parent: None,
    });
    t.import(b).await;
    let (status, ctype, body) = get(t.router(), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/html"), "{ctype}");
    assert!(
        body.contains("Acme Bank") && body.contains("Acme Leasing"),
        "{body}"
    );
    assert!(
        !body.contains("<script>alert(1)"),
        "hostile name not escaped"
    );
    assert!(
        body.contains("&#60;script&#62;alert(1)&#60;/script&#62; Corp")
            || body.contains("&lt;script&gt;"),
        "{body}"
    );
}

#[tokio::test]
async fn index_without_data_says_how_to_start() {
    let t = TestStore::new();
    let (status, _, body) = get(t.router(), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("renmai serve --demo"), "{body}");
}

#[tokio::test]
async fn api_lists_accounts_as_json() {
    let t = loaded().await;
    // The API needs a bearer token (tests/it/api.rs covers the auth rules).
    let (status, _, _) = get(t.router(), "/api/v1/accounts").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let token = renmai::auth::generate_token();
    renmai::store::Store::save_token(
        t.store.as_ref(),
        "t",
        renmai::auth::TokenScope::Read,
        &renmai::auth::hash_token(&token),
        false,
    )
    .await
    .unwrap();
    let resp = t
        .router()
        .oneshot(
            Request::get("/api/v1/accounts")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status();
    let ctype = resp.headers()["content-type"].to_str().unwrap().to_owned();
    let body = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("application/json"), "{ctype}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let accounts = v["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(accounts[0]["name"], "Acme Bank");
    assert_eq!(accounts[0]["people"], 4);
    assert_eq!(accounts[0]["last_interaction"], "2025-11-02T09:00:00Z");
}

#[tokio::test]
async fn unknown_asset_is_404_and_css_is_served() {
    let t = TestStore::new();
    let (status, ctype, _) = get(t.router(), "/static/style.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/css"));
    let (status, _, _) = get(t.router(), "/static/nope.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
