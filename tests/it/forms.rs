//! Every page form (login, logout, plan snapshot and action decisions,
//! logging interactions and assessments) answers a body that is not
//! URL-encoded, or a form missing a field, with problem+json naming what
//! it expected, never with a plain-text rejection or a half-done write.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use renmai::store::Store;
use renmai_graph::OrgId;
use tower::ServiceExt;

use crate::helpers::{TestStore, write_small_bundle};

const FORM: &str = "application/x-www-form-urlencoded";

/// The status and the problem document of a response that must be one.
async fn problem(router: &axum::Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let what = format!("{} {}", req.method(), req.uri());
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ct = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(
        ct.as_deref(),
        Some("application/problem+json"),
        "{what} answered {status} with {ct:?}: {body}"
    );
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["status"], status.as_u16(), "{what}: {doc}");
    (status, doc)
}

fn post(uri: &str, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut r = Request::post(uri);
    if let Some(ct) = content_type {
        r = r.header(header::CONTENT_TYPE, ct);
    }
    r.body(Body::from(body.to_owned())).unwrap()
}

async fn store_with_small_bundle() -> TestStore {
    let t = TestStore::new();
    let dir = tempfile::tempdir().unwrap();
    write_small_bundle(dir.path());
    let (_, b, _) = renmai::import::read(dir.path()).unwrap();
    t.import(b).await;
    t
}

#[tokio::test]
async fn every_page_form_refuses_what_is_not_url_encoded_with_problem_json() {
    let t = store_with_small_bundle().await;
    let signed_in = t.router();
    let anonymous = t.anonymous_router();
    let before = t.store.export().await.unwrap();
    let forms: &[(&axum::Router, &str)] = &[
        (&anonymous, "/login"),
        (&signed_in, "/logout"),
        (&signed_in, "/accounts/1/plan/snapshots"),
        (&signed_in, "/accounts/1/plan/actions/some-action"),
        (&signed_in, "/people/10/interactions"),
        (&signed_in, "/people/10/assessments"),
    ];
    let bodies: &[(Option<&str>, &str)] = &[
        (
            Some("application/json"),
            r#"{"name":"admin","password":"x","csrf":"y","status":"done"}"#,
        ),
        (Some("text/plain"), "name=admin&password=x"),
        (Some("multipart/form-data; boundary=x"), "--x--"),
        (None, "name=admin&password=x"),
    ];
    for (router, uri) in forms {
        for (ct, body) in bodies {
            let (status, doc) = problem(router, post(uri, *ct, body)).await;
            assert_eq!(
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{uri} with {ct:?}: {doc}"
            );
            let detail = doc["detail"].as_str().unwrap();
            assert!(
                detail.contains(FORM) && detail.contains(uri),
                "{uri} with {ct:?}: the detail should name the path and the expected type: {detail}"
            );
        }
    }
    // Nothing was written, and no snapshot saved.
    assert_eq!(
        crate::helpers::canonical(t.store.export().await.unwrap()),
        crate::helpers::canonical(before)
    );
    assert!(
        t.store
            .snapshots(&OrgId::parse("1").unwrap())
            .await
            .unwrap()
            .is_empty()
    );
    // The JSON API is not a page form: JSON stays welcome there.
    let resp = signed_in
        .clone()
        .oneshot(post("/api/v1/enrich", Some("application/json"), "{}"))
        .await
        .unwrap();
    assert_ne!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_login_or_logout_form_missing_a_field_names_it() {
    let t = store_with_small_bundle().await;
    let anonymous = t.anonymous_router();
    for (body, missing) in [
        ("name=admin&csrf=x", "password"),
        ("password=secret&csrf=x", "name"),
        ("", "name"),
    ] {
        let (status, doc) = problem(&anonymous, post("/login", Some(FORM), body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:?}: {doc}");
        assert_eq!(doc["field"], missing, "{body:?}: {doc}");
        let detail = doc["detail"].as_str().unwrap();
        assert!(
            detail.contains(&format!("`{missing}`")) && detail.contains("name, password, csrf"),
            "{body:?}: the detail should name the missing field and the form's fields: {detail}"
        );
    }
    // A field twice is as clear.
    let (status, doc) = problem(
        &anonymous,
        post("/login", Some(FORM), "name=a&name=b&password=p"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{doc}");
    assert!(doc["detail"].as_str().unwrap().contains("name"), "{doc}");
    // With the fields there, the CSRF check still comes first: 403.
    let (status, _) = problem(
        &anonymous,
        post("/login", Some(FORM), "name=admin&password=secret"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = problem(&t.router(), post("/logout", Some(FORM), "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
