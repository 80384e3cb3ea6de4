//! Users and access: every role against every page and endpoint (allowed
//! and denied), sessions (login, expiry, logout, lockout), CSRF on the
//! login and logout forms, security headers.
//!
//! The store holds the small bundle: account 1 (Acme Bank, account team:
//! our people 1 and 2) and account 2 (Acme Leasing, no team). Users:
//! `admin`; `ana`, a seller who is our person 1 (account 1 through its
//! team); `lea`, a seller assigned account 2; `boss`, a manager whose team
//! is ana (account 1); `idle`, a manager with no team.
//!
//! The tests that are about the store run on both stores (see
//! [`on_both_stores`]): the embedded one always, the Neo4j one when
//! `BOLT_URI` names a Bolt server (`tests/bolt-server start PORT --fresh`
//! prints the variables); their Bolt halves are named `…_on_bolt`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use renmai::access::{NewUser, Role, password};
use renmai::auth::{TokenScope, generate_token, hash_token};
use renmai::store::{PersonLookup, Store, StoreError};
use renmai::validate::SourceMap;
use renmai_graph::{OrgId, PersonId};
use serde_json::json;
use tower::ServiceExt;

use crate::helpers::{TestStore, sign_in, write_small_bundle};

/// Defines `$sqlite`, which runs `$body(world)` on the embedded store, and
/// `$bolt`, which runs it on the Neo4j store of `BOLT_URI` (emptied first
/// and after; skipped with a notice without a server).
macro_rules! on_both_stores {
    ($sqlite:ident, $bolt:ident, $body:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            $body(world().await).await
        }

        #[cfg(feature = "neo4j")]
        #[tokio::test]
        async fn $bolt() {
            let _bolt = crate::conformance::BOLT.lock().await;
            let Some(store) = crate::conformance::bolt_store(stringify!($bolt)).await else {
                return;
            };
            $body(world_on(store.clone(), None).await).await;
            store.clear().await.expect("emptying the Bolt database");
        }
    };
}

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(router: &axum::Router, req: Request<Body>) -> Resp {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn get(uri: &str, cookie: Option<&str>, bearer: Option<&str>) -> Request<Body> {
    let mut r = Request::get(uri);
    if let Some(c) = cookie {
        r = r.header(header::COOKIE, c);
    }
    if let Some(t) = bearer {
        r = r.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    r.body(Body::empty()).unwrap()
}

/// The store, the users and each one's session cookie and API token.
struct World {
    store: Arc<dyn Store>,
    /// The embedded store's folder, kept while the test runs.
    sqlite: Option<TestStore>,
    users: Vec<(&'static str, Role, String, String)>,
}

impl World {
    /// The app with nobody signed in.
    fn anonymous_router(&self) -> axum::Router {
        renmai::web::app(renmai::web::AppState::new(
            self.store.clone(),
            Default::default(),
        ))
    }
}

const PASSWORD: &str = "a long enough password";

/// The world on a fresh embedded store.
async fn world() -> World {
    let t = TestStore::new();
    world_on(t.store.clone(), Some(t)).await
}

/// The world on an empty `store`.
async fn world_on(store: Arc<dyn Store>, sqlite: Option<TestStore>) -> World {
    let dir = tempfile::tempdir().unwrap();
    write_small_bundle(dir.path());
    let (_, b, _) = renmai::import::read(dir.path()).unwrap();
    let src = SourceMap::synthetic("test", &b);
    store
        .import(b, src, Arc::new(renmai::store::NoProgress))
        .await
        .expect("import");
    let s = store.as_ref();
    let people: &[(&str, Role, Option<&str>)] = &[
        ("admin", Role::Admin, None),
        ("ana", Role::Seller, Some("1")),
        ("lea", Role::Seller, None),
        ("boss", Role::Manager, None),
        ("idle", Role::Manager, None),
    ];
    for &(name, role, person) in people {
        assert!(
            s.create_user(NewUser {
                name: name.into(),
                role,
                password_hash: password::hash(PASSWORD).unwrap(),
                person: person.map(|p| PersonId::parse(p).unwrap()),
            })
            .await
            .unwrap()
        );
    }
    s.assign_account("lea", &OrgId::parse("2").unwrap())
        .await
        .unwrap();
    s.add_to_team("boss", "ana").await.unwrap();
    let mut users = Vec::new();
    for &(name, role, _) in people {
        let cookie = sign_in(s, name, role).await;
        let token = generate_token();
        let tname = format!("tok-{name}");
        assert!(
            s.save_token(&tname, TokenScope::Write, &hash_token(&token), false)
                .await
                .unwrap()
        );
        assert!(s.set_token_owner(&tname, name).await.unwrap());
        users.push((name, role, cookie, token));
    }
    World {
        store,
        sqlite,
        users,
    }
}

/// Which of the two accounts each user sees.
fn sees(user: &str, account: &str) -> bool {
    match user {
        "admin" => true,
        "ana" | "boss" => account == "1",
        "lea" => account == "2",
        _ => false,
    }
}

on_both_stores!(
    every_role_against_every_page_and_endpoint,
    every_role_against_every_page_and_endpoint_on_bolt,
    role_matrix
);

async fn role_matrix(w: World) {
    let r = w.anonymous_router();
    // Stakeholders of each account (a customer person of it).
    let person_of = |a: &str| if a == "1" { "10" } else { "20" };
    for (user, _, cookie, token) in &w.users {
        // Pages of each account, and its people.
        for account in ["1", "2"] {
            let expect = if sees(user, account) {
                StatusCode::OK
            } else {
                StatusCode::NOT_FOUND
            };
            for page in [
                format!("/accounts/{account}"),
                format!("/accounts/{account}/map.json"),
                format!("/accounts/{account}/paths"),
                format!("/accounts/{account}/coverage"),
                format!("/accounts/{account}/plan"),
                format!("/accounts/{account}/plan/history"),
                format!("/accounts/{account}/plan/print"),
                format!("/accounts/{account}/plan.md"),
                format!("/accounts/{account}/plan.json"),
                format!("/people/{}", person_of(account)),
            ] {
                let resp = send(&r, get(&page, Some(cookie), None)).await;
                assert_eq!(resp.status, expect, "{user} GET {page}: {}", resp.body);
                if expect == StatusCode::NOT_FOUND {
                    // Denied looks like missing: nothing of the account leaks.
                    assert!(!resp.body.contains("Acme"), "{user} {page}: {}", resp.body);
                }
            }
            for api in [
                format!("/api/v1/accounts/{account}"),
                format!("/api/v1/accounts/{account}/stakeholders"),
                format!("/api/v1/accounts/{account}/coverage"),
                format!("/api/v1/accounts/{account}/next-approaches"),
                format!("/api/v1/accounts/{account}/paths/{}", person_of(account)),
                format!("/api/v1/accounts/{account}/plan"),
                format!("/api/v1/people/{}", person_of(account)),
            ] {
                let resp = send(&r, get(&api, None, Some(token))).await;
                assert_eq!(resp.status, expect, "{user} GET {api}: {}", resp.body);
            }
            // Writes: a page form and an API call about the account's person.
            let resp = send(
                &r,
                Request::post("/api/v1/interactions")
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(
                        json!({"kind": "call", "at": "2026-01-10T10:00:00Z", "initiator": "1",
                               "participants": ["1", person_of(account)]})
                        .to_string(),
                    ))
                    .unwrap(),
            )
            .await;
            let expect_write = if sees(user, account) {
                StatusCode::CREATED
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(
                resp.status, expect_write,
                "{user} POST interaction on {account}: {}",
                resp.body
            );
        }
        // Lists: pages, API, enrichment and export show only what is seen.
        let index = send(&r, get("/", Some(cookie), None)).await;
        assert_eq!(index.status, StatusCode::OK, "{user} /");
        let coach = send(&r, get("/coach", Some(cookie), None)).await;
        assert_eq!(coach.status, StatusCode::OK, "{user} /coach");
        let list = send(&r, get("/api/v1/accounts", None, Some(token))).await;
        assert_eq!(list.status, StatusCode::OK, "{user} /api/v1/accounts");
        let enrich = send(
            &r,
            Request::post("/api/v1/enrich")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"records": [{"name": "Carla Chief", "company": "Acme Bank"},
                                       {"name": "Gil Lessor", "company": "Acme Leasing"}]})
                    .to_string(),
                ))
                .unwrap(),
        )
        .await;
        assert_eq!(
            enrich.status,
            StatusCode::OK,
            "{user} enrich: {}",
            enrich.body
        );
        let e: serde_json::Value = serde_json::from_str(&enrich.body).unwrap();
        for (i, (account, name)) in [("1", "Acme Bank"), ("2", "Acme Leasing")]
            .iter()
            .enumerate()
        {
            let seen = sees(user, account);
            assert_eq!(index.body.contains(name), seen, "{user} index lists {name}");
            if !seen {
                assert!(!coach.body.contains(name), "{user} coach lists {name}");
            }
            assert_eq!(list.body.contains(name), seen, "{user} API lists {name}");
            let status = e["results"][i]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert_eq!(
                status == "matched",
                seen,
                "{user} enriches {name}: {}",
                enrich.body
            );
        }
        // Export through the store as this user.
        let viewer = Arc::new(
            renmai::web::access::viewer_of(
                &renmai::web::AppState::new(w.store.clone(), Default::default()),
                w.store.login_record(user).await.unwrap().unwrap().user,
                None,
            )
            .await
            .unwrap(),
        );
        let exported = renmai::access::run_as(viewer.clone(), w.store.export())
            .await
            .unwrap();
        for account in ["1", "2"] {
            assert_eq!(
                exported
                    .organizations
                    .iter()
                    .any(|o| o.id.as_str() == account),
                sees(user, account),
                "{user} export has account {account}"
            );
        }
        assert!(
            exported.organizations.iter().any(|o| o.is_ours),
            "our company is always there"
        );
        store_reads_as(w.store.as_ref(), viewer, user).await;
    }
}

/// The store's own reads and writes as `user`: the filtering happens in
/// the store, whatever calls it.
async fn store_reads_as(s: &dyn Store, viewer: Arc<renmai::access::Viewer>, user: &str) {
    // Runs a store call as the user.
    macro_rules! as_user {
        ($call:expr) => {
            renmai::access::run_as(viewer.clone(), $call)
        };
    }
    let visible: Vec<String> = as_user!(s.accounts())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id.to_string())
        .collect();
    let expected: Vec<&str> = ["1", "2"].into_iter().filter(|a| sees(user, a)).collect();
    assert_eq!(visible, expected, "{user} accounts()");
    for (account, customer) in [("1", "10"), ("2", "20")] {
        let seen = sees(user, account);
        let id = OrgId::parse(account).unwrap();
        let data = as_user!(s.account_data(&id)).await.unwrap();
        assert_eq!(data.is_some(), seen, "{user} account_data({account})");
        let person = as_user!(s.person(&PersonId::parse(customer).unwrap()))
            .await
            .unwrap();
        assert_eq!(person.is_some(), seen, "{user} person({customer})");
        match as_user!(s.plan_state(&id)).await {
            Ok(_) => assert!(seen, "{user} plan_state({account}) allowed"),
            Err(StoreError::NotFound(m)) => assert!(!seen && m.contains(account), "{m}"),
            Err(e) => panic!("{user} plan_state({account}): {e}"),
        }
        match as_user!(s.snapshots(&id)).await {
            Ok(_) => assert!(seen, "{user} snapshots({account}) allowed"),
            Err(e) => assert!(!seen && matches!(e, StoreError::NotFound(_)), "{e}"),
        }
    }
    // Our own people are visible to everyone signed in.
    let ours = as_user!(s.person(&PersonId::parse("2").unwrap()))
        .await
        .unwrap();
    assert!(ours.is_some_and(|r| r.is_ours), "{user} sees colleague 2");
    let found = as_user!(s.find_people(vec![
        PersonLookup::NameAtOrg {
            name: "carla chief".into(),
            org_name: "ACME BANK".into(),
        },
        PersonLookup::NameAtOrg {
            name: "Gil Lessor".into(),
            org_name: "Acme Leasing".into(),
        },
        PersonLookup::NameAtOrg {
            name: "Ben Presales".into(),
            org_name: "Our Company".into(),
        },
    ]))
    .await
    .unwrap();
    assert_eq!(
        found[0].len(),
        usize::from(sees(user, "1")),
        "{user} finds Carla"
    );
    assert_eq!(
        found[1].len(),
        usize::from(sees(user, "2")),
        "{user} finds Gil"
    );
    assert_eq!(found[2].len(), 1, "{user} finds colleague Ben");
    // Identity resolution matches against everyone, as on SQLite.
    let dir = as_user!(s.directory()).await.unwrap();
    let everything = renmai::access::unrestricted(s.export()).await.unwrap();
    let everything = crate::helpers::canonical(everything);
    let org_ids = |orgs: &[renmai_graph::Organization]| -> Vec<String> {
        orgs.iter().map(|o| o.id.to_string()).collect()
    };
    assert_eq!(
        org_ids(&dir.orgs),
        org_ids(&everything.organizations),
        "{user} directory orgs"
    );
    assert_eq!(dir.people, everything.people, "{user} directory people");
    // Writing: only an admin writes organizations (403, nothing written).
    let org = renmai::bundle::Bundle {
        organizations: vec![renmai_graph::Organization {
            id: OrgId::parse("3").unwrap(),
            name: "Acme Insurance".into(),
            industry: None,
            region: None,
            tier: None,
            parent: None,
            is_ours: false,
        }],
        ..Default::default()
    };
    let src = SourceMap::synthetic("test", &org);
    let wrote = as_user!(s.import(org, src, Arc::new(renmai::store::NoProgress))).await;
    match (user, wrote) {
        ("admin", r) => assert!(r.is_ok(), "admin writes organizations: {r:?}"),
        (_, Err(StoreError::Denied(m))) => assert!(m.contains("only an admin"), "{m}"),
        (_, r) => panic!("{user} wrote an organization: {r:?}"),
    }
}

on_both_stores!(
    nobody_signed_in_is_sent_to_login_or_refused,
    nobody_signed_in_is_sent_to_login_or_refused_on_bolt,
    signed_out
);

async fn signed_out(w: World) {
    let r = w.anonymous_router();
    for page in [
        "/",
        "/coach",
        "/accounts/1",
        "/people/10",
        "/accounts/1/plan",
        "/logout",
    ] {
        let resp = send(&r, get(page, None, None)).await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{page}");
        let to = resp.headers[header::LOCATION].to_str().unwrap();
        assert!(to.starts_with("/login?next="), "{page} -> {to}");
    }
    let resp = send(&r, get("/api/v1/accounts", None, None)).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.headers[header::CONTENT_TYPE],
        "application/problem+json"
    );
    // A bogus session cookie is no session.
    let resp = send(
        &r,
        get(
            "/",
            Some(&format!("renmai_session={}", "0".repeat(64))),
            None,
        ),
    )
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    // Public: login, health, assets, the API document.
    for p in [
        "/login",
        "/healthz",
        "/static/style.css",
        "/api/v1/openapi.json",
    ] {
        assert_eq!(
            send(&r, get(p, None, None)).await.status,
            StatusCode::OK,
            "{p}"
        );
    }
}

on_both_stores!(
    a_disabled_users_sessions_and_tokens_stop_working,
    a_disabled_users_sessions_and_tokens_stop_working_on_bolt,
    disabled_user
);

async fn disabled_user(w: World) {
    let r = w.anonymous_router();
    let (_, _, cookie, token) = w.users.iter().find(|u| u.0 == "ana").unwrap();
    assert_eq!(
        send(&r, get("/", Some(cookie), None)).await.status,
        StatusCode::OK
    );
    assert!(w.store.set_user_disabled("ana", true).await.unwrap());
    assert_eq!(
        send(&r, get("/", Some(cookie), None)).await.status,
        StatusCode::SEE_OTHER
    );
    let resp = send(&r, get("/api/v1/accounts", None, Some(token))).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED, "{}", resp.body);
    assert!(resp.body.contains("disabled"), "{}", resp.body);
}

/// The login page's CSRF cookie and token.
async fn login_form(r: &axum::Router) -> (String, String) {
    let resp = send(r, get("/login", None, None)).await;
    assert_eq!(resp.status, StatusCode::OK);
    let cookie = resp.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let tok = resp
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    (cookie, tok)
}

fn form_post(uri: &str, cookie: &str, body: String) -> Request<Body> {
    Request::post(uri)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

fn login_body(name: &str, pw: &str, csrf: &str, next: &str) -> String {
    serde_urlencoded::to_string([
        ("name", name),
        ("password", pw),
        ("csrf", csrf),
        ("next", next),
    ])
    .unwrap()
}

on_both_stores!(
    login_sets_a_safe_session_and_logout_ends_it,
    login_sets_a_safe_session_and_logout_ends_it_on_bolt,
    login_and_logout
);

async fn login_and_logout(w: World) {
    let r = w.anonymous_router();
    let (csrf_cookie, tok) = login_form(&r).await;
    let resp = send(
        &r,
        form_post(
            "/login",
            &csrf_cookie,
            login_body("ana", PASSWORD, &tok, "/accounts/1"),
        ),
    )
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.body);
    assert_eq!(resp.headers[header::LOCATION], "/accounts/1");
    let set = resp.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for attr in [
        "renmai_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(set.contains(attr), "{attr} in {set}");
    }
    assert!(!set.contains("Secure"), "no Secure over plain HTTP: {set}");
    let session = set.split(';').next().unwrap().to_owned();
    let both = format!("{csrf_cookie}; {session}");
    assert_eq!(
        send(&r, get("/accounts/1", Some(&both), None)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&r, get("/accounts/2", Some(&both), None)).await.status,
        StatusCode::NOT_FOUND
    );

    // Logout: needs the form's token; then the session is gone.
    let resp = send(&r, form_post("/logout", &both, "csrf=00".into())).await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    let logout_page = send(&r, get("/logout", Some(&both), None)).await;
    assert!(logout_page.body.contains("ana"));
    let resp = send(&r, form_post("/logout", &both, format!("csrf={tok}"))).await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert!(
        resp.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        send(&r, get("/accounts/1", Some(&both), None)).await.status,
        StatusCode::SEE_OTHER
    );

    // Behind TLS the cookie is Secure; a `next` off-site goes home instead.
    let secure = w.anonymous_router();
    let resp = send(
        &secure,
        Request::post("/login")
            .header(header::COOKIE, &csrf_cookie)
            .header("x-forwarded-proto", "https")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(login_body(
                "ana",
                PASSWORD,
                &tok,
                "//evil.test/",
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER);
    assert_eq!(resp.headers[header::LOCATION], "/");
    assert!(
        resp.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("; Secure")
    );
}

on_both_stores!(
    login_needs_the_csrf_token_and_the_right_password,
    login_needs_the_csrf_token_and_the_right_password_on_bolt,
    login_checks
);

async fn login_checks(w: World) {
    let r = w.anonymous_router();
    let (cookie, tok) = login_form(&r).await;
    // No token, a wrong token, another origin: 403, no session.
    for (c, body, origin) in [
        (cookie.as_str(), login_body("ana", PASSWORD, "", "/"), None),
        (
            cookie.as_str(),
            login_body("ana", PASSWORD, &"0".repeat(64), "/"),
            None,
        ),
        ("", login_body("ana", PASSWORD, &tok, "/"), None),
        (
            cookie.as_str(),
            login_body("ana", PASSWORD, &tok, "/"),
            Some("https://evil.test"),
        ),
    ] {
        let mut req = form_post("/login", c, body);
        req.headers_mut()
            .insert(header::HOST, "renmai.test".parse().unwrap());
        if let Some(o) = origin {
            req.headers_mut().insert(header::ORIGIN, o.parse().unwrap());
        }
        let resp = send(&r, req).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN, "{}", resp.body);
        assert!(
            !resp.headers.contains_key(header::SET_COOKIE)
                || !resp.headers[header::SET_COOKIE]
                    .to_str()
                    .unwrap()
                    .contains("renmai_session")
        );
    }
    // Wrong password and unknown user: the same answer.
    for (name, pw) in [("ana", "wrong password!"), ("nobody", PASSWORD)] {
        let resp = send(
            &r,
            form_post("/login", &cookie, login_body(name, pw, &tok, "/")),
        )
        .await;
        assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
        assert!(
            resp.body.contains("Wrong user name or password"),
            "{}",
            resp.body
        );
    }
}

on_both_stores!(
    repeated_failures_lock_the_user_for_a_while,
    repeated_failures_lock_the_user_for_a_while_on_bolt,
    lockout
);

async fn lockout(w: World) {
    let r = w.anonymous_router();
    let (cookie, tok) = login_form(&r).await;
    let attempt = |pw: &'static str| {
        let r = r.clone();
        let (cookie, tok) = (cookie.clone(), tok.clone());
        async move {
            send(
                &r,
                form_post("/login", &cookie, login_body("lea", pw, &tok, "/")),
            )
            .await
        }
    };
    for _ in 0..4 {
        assert_eq!(
            attempt("wrong password!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Four failures do not lock: the right password still works.
    assert_eq!(attempt(PASSWORD).await.status, StatusCode::SEE_OTHER);
    for _ in 0..5 {
        assert_eq!(
            attempt("wrong password!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // The fifth in a row locked her: even the right password is refused.
    let resp = attempt(PASSWORD).await;
    assert_eq!(resp.status, StatusCode::TOO_MANY_REQUESTS, "{}", resp.body);
    assert!(resp.body.contains("locked"), "{}", resp.body);
    // An admin's new password lifts the lock.
    w.store
        .set_password("lea", &password::hash(PASSWORD).unwrap())
        .await
        .unwrap();
    assert_eq!(attempt(PASSWORD).await.status, StatusCode::SEE_OTHER);
}

on_both_stores!(sessions_expire, sessions_expire_on_bolt, session_expiry);

async fn session_expiry(w: World) {
    let r = w.anonymous_router();
    let id = password::random_secret(32);
    let past = renmai_graph::Timestamp::from_epoch_seconds(chrono::Utc::now().timestamp() - 1);
    w.store
        .create_session(&renmai::auth::sha256_hex(id.as_bytes()), "ana", past)
        .await
        .unwrap();
    let resp = send(&r, get("/", Some(&format!("renmai_session={id}")), None)).await;
    assert_eq!(
        resp.status,
        StatusCode::SEE_OTHER,
        "an expired session is no session"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let w = world().await;
    let r = w.sqlite.as_ref().unwrap().router();
    for (uri, bearer) in [
        ("/", None),
        ("/login", None),
        ("/accounts/1", None),
        ("/static/app.js", None),
        ("/api/v1/accounts", Some(w.users[0].3.as_str())),
        ("/api/v1/accounts", None),
        ("/no/such/page", None),
    ] {
        let resp = send(&r, get(uri, None, bearer)).await;
        let csp = resp.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        assert!(
            csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{uri}: {csp}"
        );
        assert!(!csp.contains("unsafe-inline"), "{uri}: {csp}");
        assert_eq!(
            resp.headers[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff",
            "{uri}"
        );
        assert!(resp.headers.contains_key(header::REFERRER_POLICY), "{uri}");
    }
    // No inline script or style in any page.
    for uri in [
        "/",
        "/coach",
        "/accounts/1",
        "/accounts/1/plan",
        "/accounts/1/plan/print",
        "/people/10",
        "/login",
    ] {
        let body = send(&r, get(uri, None, None)).await.body;
        assert!(
            !body.contains("<script>") && !body.contains("<style") && !body.contains(" style="),
            "{uri}"
        );
        assert!(
            !body.contains(" onclick=") && !body.contains(" onload="),
            "{uri}"
        );
    }
}

on_both_stores!(
    page_forms_and_plan_writes_of_other_accounts_are_404,
    page_forms_and_plan_writes_of_other_accounts_are_404_on_bolt,
    other_accounts_forms
);

async fn other_accounts_forms(w: World) {
    let r = w.anonymous_router();
    let (_, _, cookie, _) = w.users.iter().find(|u| u.0 == "ana").unwrap();
    // Ana's own person page gives her a form token.
    let page = send(&r, get("/people/10", Some(cookie), None)).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf_cookie = page.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let tok = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let both = format!("{csrf_cookie}; {cookie}");
    let meeting = |person: &str| {
        form_post(
            &format!("/people/{person}/interactions"),
            &both,
            format!("csrf={tok}&kind=meeting&when=2026-01-10T10%3A00&ours=1&with={person}"),
        )
    };
    // Her account's person: written (redirect back); the other's: 404.
    let ok = send(&r, meeting("10")).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let denied = send(&r, meeting("20")).await;
    assert_eq!(denied.status, StatusCode::NOT_FOUND, "{}", denied.body);
    for uri in ["/accounts/2/plan/snapshots", "/accounts/2/plan/actions/a1"] {
        let resp = send(&r, form_post(uri, &both, format!("csrf={tok}&status=done"))).await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{uri}: {}", resp.body);
    }
}

/// How to run the binary on one store: its arguments and environment.
struct Cli {
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Cli {
    /// The embedded store at `db`.
    fn sqlite(db: &std::path::Path) -> Cli {
        Cli {
            args: vec!["--db".into(), db.display().to_string()],
            env: Vec::new(),
        }
    }

    /// The Neo4j store of `BOLT_URI`.
    #[cfg(feature = "neo4j")]
    fn bolt(s: &renmai::store::neo4j::Neo4jSettings) -> Cli {
        let mut env = vec![
            ("RENMAI_STORE".to_owned(), "neo4j".to_owned()),
            ("RENMAI_NEO4J_URI".to_owned(), s.uri.clone()),
            ("RENMAI_NEO4J_USER".to_owned(), s.user.clone()),
            ("RENMAI_NEO4J_PASSWORD".to_owned(), s.password.clone()),
        ];
        if let Some(db) = &s.database {
            env.push(("RENMAI_NEO4J_DB".to_owned(), db.clone()));
        }
        Cli {
            args: Vec::new(),
            env,
        }
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_renmai"));
        c.env_remove("RENMAI_STORE")
            .env_remove("RENMAI_ADMIN_PASSWORD")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .args(&self.args)
            .args(args);
        c
    }

    /// Runs the binary; returns (success, stdout, stderr).
    fn run(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        use std::io::Write;
        use std::process::Stdio;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[tokio::test]
async fn users_teams_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let store = Arc::new(renmai::store::sqlite::SqliteStore::open(&db).unwrap());
    users_from_the_command_line(&Cli::sqlite(&db), store).await;
}

#[cfg(feature = "neo4j")]
#[tokio::test]
async fn users_teams_and_tokens_from_the_command_line_on_bolt() {
    let _bolt = crate::conformance::BOLT.lock().await;
    let Some(store) = crate::conformance::bolt_store("user CLI on bolt").await else {
        return;
    };
    let cli = Cli::bolt(&crate::conformance::bolt_settings().unwrap());
    users_from_the_command_line(&cli, store.clone()).await;
    store.clear().await.unwrap();
}

/// `renmai user …`, `team …` and `token create --user` on an empty store
/// that `store` reads too.
async fn users_from_the_command_line(cli: &Cli, store: Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle");
    write_small_bundle(&bundle);
    let (ok, _, err) = cli.run(&["--quiet", "import", bundle.to_str().unwrap()], None);
    assert!(ok, "{err}");

    let (ok, pw, err) = cli.run(
        &["user", "add", "ana", "--role", "seller", "--person", "1"],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(pw.trim().len(), 24, "a random password printed once: {pw}");
    let (ok, _, err) = cli.run(
        &["user", "add", "boss", "--role", "coach", "--password-stdin"],
        Some("boss password 123\n"),
    );
    assert!(ok, "{err}");
    // Bad input: a clear error, nothing written.
    let (ok, _, err) = cli.run(&["user", "add", "x", "--role", "king"], None);
    assert!(!ok && err.contains("role must be admin"), "{err}");
    let (ok, _, err) = cli.run(
        &["user", "add", "y", "--role", "seller", "--person", "10"],
        None,
    );
    assert!(!ok && err.contains("customer's"), "{err}");
    let (ok, _, err) = cli.run(
        &["user", "add", "z", "--role", "seller", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!ok && err.contains("at least"), "{err}");
    let (ok, _, err) = cli.run(&["user", "add", "ana", "--role", "seller"], None);
    assert!(!ok && err.contains("exists"), "{err}");
    let (ok, _, err) = cli.run(&["team", "add-seller", "ana", "boss"], None);
    assert!(!ok && err.contains("only a manager has a team"), "{err}");
    let (ok, _, err) = cli.run(&["team", "assign", "ana", "404"], None);
    assert!(!ok && err.contains("no customer account"), "{err}");
    let (ok, _, err) = cli.run(&["team", "assign", "nobody", "2"], None);
    assert!(!ok && err.contains("no user named \"nobody\""), "{err}");
    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ana", "boss"], "refused users were not written");

    assert!(cli.run(&["team", "add-seller", "boss", "ana"], None).0);
    assert!(cli.run(&["team", "assign", "ana", "2"], None).0);
    let (ok, list, _) = cli.run(&["user", "list"], None);
    assert!(ok);
    let line = |n: &str| list.lines().find(|l| l.starts_with(n)).unwrap().to_owned();
    assert!(
        line("ana").contains("seller") && line("ana").contains("2 accounts"),
        "{list}"
    );
    assert!(
        line("boss").contains("manager") && line("boss").contains("2 accounts"),
        "{list}"
    );

    // A token with ana's rights, then ana disabled: the token stops working.
    let (ok, token, err) = cli.run(
        &["token", "create", "--name", "anas", "--user", "ana"],
        None,
    );
    assert!(ok, "{err}");
    let (ok, tokens, _) = cli.run(&["token", "list"], None);
    assert!(ok && tokens.contains("user ana"), "{tokens}");
    let r = renmai::web::app(renmai::web::AppState::new(
        store.clone(),
        Default::default(),
    ));
    let resp = send(&r, get("/api/v1/accounts", None, Some(token.trim()))).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.body.contains("Acme Bank") && resp.body.contains("Acme Leasing"));
    assert!(cli.run(&["user", "disable", "ana"], None).0);
    let resp = send(&r, get("/api/v1/accounts", None, Some(token.trim()))).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    let (ok, list, _) = cli.run(&["user", "list"], None);
    assert!(ok && line_of(&list, "ana").contains("disabled"), "{list}");
    assert!(cli.run(&["user", "enable", "ana"], None).0);
    let resp = send(&r, get("/api/v1/accounts", None, Some(token.trim()))).await;
    assert_eq!(resp.status, StatusCode::OK, "enabled again: {}", resp.body);
    // A new password: printed once, and it is the one that signs in.
    let (ok, pw, err) = cli.run(&["user", "password", "ana"], None);
    assert!(ok, "{err}");
    let record = store.login_record("ana").await.unwrap().unwrap();
    assert!(password::verify(pw.trim(), &record.password_hash));
}

fn line_of(text: &str, start: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_default()
        .to_owned()
}

on_both_stores!(
    tokens_carry_their_owner_until_replaced,
    tokens_carry_their_owner_until_replaced_on_bolt,
    token_owners
);

async fn token_owners(w: World) {
    let s = w.store.as_ref();
    let owner = |name: &'static str| async move {
        s.tokens()
            .await
            .unwrap()
            .into_iter()
            .find(|t| t.name == name)
            .map(|t| t.owner)
    };
    assert_eq!(owner("tok-ana").await, Some(Some("ana".to_owned())));
    assert!(!s.set_token_owner("no-such-token", "ana").await.unwrap());
    match s.set_token_owner("tok-ana", "nobody").await {
        Err(StoreError::NotFound(m)) => assert!(m.contains("nobody"), "{m}"),
        other => panic!("owner who is no user: {other:?}"),
    }
    // Replacing a token makes an operator's token of it, as a new one.
    let secret = generate_token();
    assert!(
        s.save_token("tok-ana", TokenScope::Read, &hash_token(&secret), true)
            .await
            .unwrap()
    );
    assert_eq!(owner("tok-ana").await, Some(None));
    let found = s
        .token_by_hash(&hash_token(&secret))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.name.as_str(), found.owner), ("tok-ana", None));
    // A revoked token has no owner to set.
    assert!(s.revoke_token("tok-lea").await.unwrap());
    assert!(!s.set_token_owner("tok-lea", "lea").await.unwrap());
    // Who sees what, straight from the store.
    let visible = |u: &'static str| async move {
        s.visible_accounts(u)
            .await
            .unwrap()
            .iter()
            .map(|o| o.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(visible("ana").await, ["1"]);
    assert_eq!(visible("boss").await, ["1"]);
    assert_eq!(visible("lea").await, ["2"]);
    assert!(visible("idle").await.is_empty());
    s.add_to_team("idle", "lea").await.unwrap();
    s.assign_account("idle", &OrgId::parse("1").unwrap())
        .await
        .unwrap();
    assert_eq!(visible("idle").await, ["1", "2"], "own and their seller's");
    assert!(matches!(
        s.add_to_team("idle", "ghost").await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        matches!(
            s.assign_account("lea", &OrgId::parse("0").unwrap()).await,
            Err(StoreError::NotFound(_))
        ),
        "our own company is no account to assign"
    );
}

/// Runs `serve` on a free port until it says it is serving; returns what
/// it printed on stderr up to then.
#[cfg(feature = "neo4j")]
fn serve_until_up(cli: &Cli, extra: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    use std::io::BufRead;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["serve", "--addr", addr.as_str()];
    args.extend_from_slice(extra);
    let mut child = cli
        .command(&args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let up = line.contains("renmai is serving");
        lines.push(line);
        if up {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines
            .last()
            .is_some_and(|l| l.contains("renmai is serving")),
        "serve stopped: {lines:#?}"
    );
    lines
}

/// The first start on Neo4j: without `--demo` the admin from
/// `RENMAI_ADMIN_PASSWORD`; `serve --demo` then loads the demo, makes the
/// demo users with printed passwords, and those passwords sign in to the
/// pages, each seeing their own accounts.
#[cfg(feature = "neo4j")]
#[tokio::test]
async fn serve_on_bolt_creates_the_admin_then_the_demo_users() {
    let _bolt = crate::conformance::BOLT.lock().await;
    let Some(store) = crate::conformance::bolt_store("serve on bolt").await else {
        return;
    };
    let cli = Cli::bolt(&crate::conformance::bolt_settings().unwrap());
    let admin_pw = "the first admin's password";
    let said = serve_until_up(&cli, &[], &[("RENMAI_ADMIN_PASSWORD", admin_pw)]);
    assert!(
        said.iter().any(|l| l.contains(
            "created the admin user \"admin\" with the password in RENMAI_ADMIN_PASSWORD"
        )),
        "{said:#?}"
    );
    let admin = store.login_record("admin").await.unwrap().unwrap();
    assert_eq!(admin.user.role, Role::Admin);
    assert!(password::verify(admin_pw, &admin.password_hash));

    let said = serve_until_up(&cli, &["--demo"], &[]);
    let printed = |name: &str| -> String {
        let line = said
            .iter()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no line for {name}: {said:#?}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[2], "password", "{line}");
        words[3].to_owned()
    };
    let token = said
        .iter()
        .find_map(|l| l.find("rm_").map(|i| l[i..].trim().to_owned()))
        .expect("a demo token");
    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["admin", "coach", "rajesh", "sofia"]);
    let sofia_sees = store.visible_accounts("sofia").await.unwrap();
    let rajesh_sees = store.visible_accounts("rajesh").await.unwrap();
    assert!(!sofia_sees.is_empty() && !rajesh_sees.is_empty());
    assert_ne!(
        sofia_sees, rajesh_sees,
        "the sellers have different accounts"
    );

    // Sign in to the pages as sofia with the printed password.
    let w = World {
        store: store.clone(),
        sqlite: None,
        users: Vec::new(),
    };
    let r = w.anonymous_router();
    let (csrf_cookie, tok) = login_form(&r).await;
    let wrong = send(
        &r,
        form_post(
            "/login",
            &csrf_cookie,
            login_body("sofia", admin_pw, &tok, "/"),
        ),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let resp = send(
        &r,
        form_post(
            "/login",
            &csrf_cookie,
            login_body("sofia", &printed("sofia"), &tok, "/"),
        ),
    )
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.body);
    let session = resp.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mine = format!("/accounts/{}", sofia_sees[0]);
    let resp = send(&r, get(&mine, Some(&session), None)).await;
    assert_eq!(resp.status, StatusCode::OK, "sofia GET {mine}");
    let other = rajesh_sees
        .iter()
        .find(|a| !sofia_sees.contains(a))
        .expect("an account of rajesh's only");
    let theirs = format!("/accounts/{other}");
    let resp = send(&r, get(&theirs, Some(&session), None)).await;
    assert_eq!(resp.status, StatusCode::NOT_FOUND, "sofia GET {theirs}");
    // The demo token is the admin's: every account.
    let all = send(&r, get("/api/v1/accounts?limit=500", None, Some(&token))).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let listed: serde_json::Value = serde_json::from_str(&all.body).unwrap();
    let n = store.stats().await.unwrap().accounts as usize;
    assert_eq!(
        listed["accounts"].as_array().map_or(0, Vec::len),
        n,
        "{}",
        all.body
    );
    // The admin's first password was replaced by the printed demo one.
    let admin = store.login_record("admin").await.unwrap().unwrap();
    assert!(password::verify(&printed("admin"), &admin.password_hash));
    store.clear().await.unwrap();
}

on_both_stores!(
    only_an_admin_erases_a_person,
    only_an_admin_erases_a_person_on_bolt,
    erasing
);

/// Erasing reaches every account the person touched: a seller's or a
/// manager's write token is refused (403, the same whether or not the
/// person exists or is theirs), an admin's erases.
async fn erasing(w: World) {
    let r = w.anonymous_router();
    let token = |name: &str| w.users.iter().find(|u| u.0 == name).unwrap().3.clone();
    let delete = |id: &str, token: String| {
        Request::delete(format!("/api/v1/people/{id}"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap()
    };
    for (user, id) in [("ana", "10"), ("lea", "10"), ("boss", "10"), ("lea", "404")] {
        let resp = send(&r, delete(id, token(user))).await;
        assert_eq!(
            resp.status,
            StatusCode::FORBIDDEN,
            "{user} erases {id}: {}",
            resp.body
        );
        assert_eq!(
            resp.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(resp.body.contains("only an admin"), "{}", resp.body);
    }
    assert!(
        w.store
            .person(&PersonId::parse("10").unwrap())
            .await
            .unwrap()
            .is_some(),
        "nothing was erased"
    );
    let resp = send(&r, delete("10", token("admin"))).await;
    assert_eq!(resp.status, StatusCode::OK, "{}", resp.body);
    assert!(
        w.store
            .person(&PersonId::parse("10").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

on_both_stores!(
    concurrent_failed_logins_all_count,
    concurrent_failed_logins_all_count_on_bolt,
    concurrent_failures
);

/// Failed logins arriving at once are each counted (no lost update lets a
/// guesser try more than `lock_after` times), and the lock comes at the
/// `lock_after`th.
async fn concurrent_failures(w: World) {
    let until = renmai_graph::Timestamp::from_epoch_seconds(chrono::Utc::now().timestamp() + 900);
    let fail = |after: u32| {
        let store = w.store.clone();
        tokio::spawn(async move { store.login_failed("lea", after, until).await })
    };
    let tasks: Vec<_> = (0..8).map(|_| fail(100)).collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let r = w.store.login_record("lea").await.unwrap().unwrap();
    assert_eq!((r.failed_logins, r.locked_until), (8, None));
    fail(10).await.unwrap().unwrap();
    let r = w.store.login_record("lea").await.unwrap().unwrap();
    assert_eq!((r.failed_logins, r.locked_until), (9, None));
    fail(10).await.unwrap().unwrap();
    let r = w.store.login_record("lea").await.unwrap().unwrap();
    assert_eq!(
        (r.failed_logins, r.locked_until),
        (0, Some(until)),
        "the 10th locks and starts the count again"
    );
    w.store.login_succeeded("lea").await.unwrap();
    let r = w.store.login_record("lea").await.unwrap().unwrap();
    assert_eq!((r.failed_logins, r.locked_until), (0, None));
}
