//! Users and access: every role against every page and endpoint (allowed
//! and denied), sessions (login, expiry, logout, lockout), CSRF on the
//! login and logout forms, security headers.
//!
//! The store holds the small bundle: account 1 (Acme Bank, account team:
//! our people 1 and 2) and account 2 (Acme Leasing, no team). Users:
//! `admin`; `ana`, a seller who is our person 1 (account 1 through its
//! team); `lea`, a seller assigned account 2; `boss`, a manager whose team
//! is ana (account 1); `idle`, a manager with no team.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use renmai::access::{NewUser, Role, password};
use renmai::auth::{TokenScope, generate_token, hash_token};
use renmai::store::Store;
use renmai_graph::{OrgId, PersonId};
use serde_json::json;
use tower::ServiceExt;

use crate::helpers::{TestStore, sign_in, write_small_bundle};

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
    t: TestStore,
    users: Vec<(&'static str, Role, String, String)>,
}

const PASSWORD: &str = "a long enough password";

async fn world() -> World {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    let s = t.store.as_ref();
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
    World { t, users }
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

#[tokio::test]
async fn every_role_against_every_page_and_endpoint() {
    let w = world().await;
    let r = w.t.anonymous_router();
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
        let viewer = renmai::web::access::viewer_of(
            &renmai::web::AppState::new(w.t.store.clone(), Default::default()),
            w.t.store.login_record(user).await.unwrap().unwrap().user,
            None,
        )
        .await
        .unwrap();
        let exported = renmai::access::run_as(Arc::new(viewer), w.t.store.export())
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
    }
}

#[tokio::test]
async fn nobody_signed_in_is_sent_to_login_or_refused() {
    let w = world().await;
    let r = w.t.anonymous_router();
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

#[tokio::test]
async fn a_disabled_users_sessions_and_tokens_stop_working() {
    let w = world().await;
    let r = w.t.anonymous_router();
    let (_, _, cookie, token) = w.users.iter().find(|u| u.0 == "ana").unwrap();
    assert_eq!(
        send(&r, get("/", Some(cookie), None)).await.status,
        StatusCode::OK
    );
    assert!(w.t.store.set_user_disabled("ana", true).await.unwrap());
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

#[tokio::test]
async fn login_sets_a_safe_session_and_logout_ends_it() {
    let w = world().await;
    let r = w.t.anonymous_router();
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
    let secure = w.t.anonymous_router();
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

#[tokio::test]
async fn login_needs_the_csrf_token_and_the_right_password() {
    let w = world().await;
    let r = w.t.anonymous_router();
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

#[tokio::test]
async fn repeated_failures_lock_the_user_for_a_while() {
    let w = world().await;
    let r = w.t.anonymous_router();
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
    w.t.store
        .set_password("lea", &password::hash(PASSWORD).unwrap())
        .await
        .unwrap();
    assert_eq!(attempt(PASSWORD).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sessions_expire() {
    let w = world().await;
    let r = w.t.anonymous_router();
    let id = password::random_secret(32);
    let past = renmai_graph::Timestamp::from_epoch_seconds(chrono::Utc::now().timestamp() - 1);
    w.t.store
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
    let r = w.t.router();
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

#[tokio::test]
async fn page_forms_and_plan_writes_of_other_accounts_are_404() {
    let w = world().await;
    let r = w.t.anonymous_router();
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

/// Runs the binary on `db`; returns (success, stdout, stderr).
fn cli(db: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_renmai"))
        .arg("--db")
        .arg(db)
        .args(args)
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

#[tokio::test]
async fn users_teams_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let bundle = dir.path().join("bundle");
    write_small_bundle(&bundle);
    assert!(cli(&db, &["--quiet", "import", bundle.to_str().unwrap()], None).0);

    let (ok, pw, err) = cli(
        &db,
        &["user", "add", "ana", "--role", "seller", "--person", "1"],
        None,
    );
    assert!(ok, "{err}");
    assert_eq!(pw.trim().len(), 24, "a random password printed once: {pw}");
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "boss", "--role", "coach", "--password-stdin"],
        Some("boss password 123\n"),
    );
    assert!(ok, "{err}");
    // Bad input: a clear error, nothing written.
    let (ok, _, err) = cli(&db, &["user", "add", "x", "--role", "king"], None);
    assert!(!ok && err.contains("role must be admin"), "{err}");
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "y", "--role", "seller", "--person", "10"],
        None,
    );
    assert!(!ok && err.contains("customer's"), "{err}");
    let (ok, _, err) = cli(
        &db,
        &["user", "add", "z", "--role", "seller", "--password-stdin"],
        Some("short\n"),
    );
    assert!(!ok && err.contains("at least"), "{err}");
    let (ok, _, err) = cli(&db, &["user", "add", "ana", "--role", "seller"], None);
    assert!(!ok && err.contains("exists"), "{err}");
    let (ok, _, err) = cli(&db, &["team", "add-seller", "ana", "boss"], None);
    assert!(!ok && err.contains("only a manager has a team"), "{err}");
    let (ok, _, err) = cli(&db, &["team", "assign", "ana", "404"], None);
    assert!(!ok && err.contains("no customer account"), "{err}");

    assert!(cli(&db, &["team", "add-seller", "boss", "ana"], None).0);
    assert!(cli(&db, &["team", "assign", "ana", "2"], None).0);
    let (ok, list, _) = cli(&db, &["user", "list"], None);
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
    let (ok, token, err) = cli(
        &db,
        &["token", "create", "--name", "anas", "--user", "ana"],
        None,
    );
    assert!(ok, "{err}");
    let (ok, tokens, _) = cli(&db, &["token", "list"], None);
    assert!(ok && tokens.contains("user ana"), "{tokens}");
    let store = Arc::new(renmai::store::sqlite::SqliteStore::open(&db).unwrap());
    let r = renmai::web::app(renmai::web::AppState::new(
        store.clone(),
        Default::default(),
    ));
    let resp = send(&r, get("/api/v1/accounts", None, Some(token.trim()))).await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.body.contains("Acme Bank") && resp.body.contains("Acme Leasing"));
    assert!(cli(&db, &["user", "disable", "ana"], None).0);
    let resp = send(&r, get("/api/v1/accounts", None, Some(token.trim()))).await;
    assert_eq!(resp.status, StatusCode::UNAUTHORIZED);
    let (ok, list, _) = cli(&db, &["user", "list"], None);
    assert!(ok && line_of(&list, "ana").contains("disabled"), "{list}");
}

fn line_of(text: &str, start: &str) -> String {
    text.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_default()
        .to_owned()
}
