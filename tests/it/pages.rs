//! The pages for account managers and coaches, through `oneshot`: every
//! page on the demo data, escaping of hostile names, 404 problems, CSRF
//! rejection, and the forms changing the scores they show.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use renmai::bundle::Bundle;
use renmai_graph::{Person, PersonId};
use tower::ServiceExt;

use crate::helpers::*;

struct Resp {
    status: StatusCode,
    ctype: String,
    location: String,
    cookie: String,
    body: String,
}

async fn send(router: &axum::Router, req: Request<Body>) -> Resp {
    let resp = router.clone().oneshot(req).await.unwrap();
    let h = |n: header::HeaderName| {
        resp.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (ctype, location, cookie) = (
        h(header::CONTENT_TYPE),
        h(header::LOCATION),
        h(header::SET_COOKIE),
    );
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        ctype,
        location,
        cookie,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

async fn get(router: &axum::Router, uri: &str) -> Resp {
    send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn demo() -> (TestStore, axum::Router) {
    let t = TestStore::new();
    t.import(renmai::demo::demo_bundle(chrono::Utc::now().date_naive()))
        .await;
    let r = t.router();
    (t, r)
}

fn map_node(json: &str, id: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == id)
        .unwrap_or_else(|| panic!("no node {id}"))
        .clone()
}

#[tokio::test]
async fn every_page_renders_the_demo_with_names() {
    let (_t, r) = demo().await;
    let pages: &[(&str, &[&str])] = &[
        (
            "/",
            &[
                "Hartmann Maschinenbau AG",
                "Single-threaded: Rajesh Iyer holds every strong tie",
                "Cold economic buyer",
                "Influential opponent",
                "<svg class=\"spark\"",
            ],
        ),
        ("/coach", &["Next approaches", "introduced by", "Lumen"]),
        (
            "/accounts/acc-hartmann",
            &[
                "Birgit Schulz",
                "data-src=\"/accounts/acc-hartmann/map.json\"",
                "/static/vendor/cytoscape.min.js",
                "stakeholder-table",
            ],
        ),
        (
            "/accounts/acc-hartmann/paths?to=hm-001&k=2",
            &[
                "Warm paths to",
                "Best path",
                "Path 2",
                "Rajesh Iyer",
                "reports to",
            ],
        ),
        (
            "/accounts/acc-hartmann/paths",
            &["Choose a stakeholder", "Birgit Schulz"],
        ),
        (
            "/accounts/acc-hartmann/coverage",
            &[
                "Buying roles × levels",
                "Departments × levels",
                "Rajesh Iyer holds every strong tie",
                "What if Rajesh Iyer leaves?",
            ],
        ),
        (
            "/accounts/acc-hartmann/coverage?leaves=nw-04",
            &["If Rajesh Iyer leaves", "Relationship index"],
        ),
        (
            "/people/hm-001",
            &[
                "Birgit Schulz",
                "Our closeness",
                "Influence",
                "Paths from our team",
                "Log an interaction",
                "Record an assessment",
                "Interaction timeline",
                "What would lift this tie",
            ],
        ),
        (
            "/people/nw-04",
            &["Rajesh Iyer", "Hartmann Maschinenbau AG", "Ties"],
        ),
        (
            "/accounts/acc-lumen?all=1",
            &["Lumen Health Group", "stakeholder-table"],
        ),
    ];
    for (uri, needles) in pages {
        let resp = get(&r, uri).await;
        assert_eq!(resp.status, StatusCode::OK, "{uri}: {}", resp.body);
        assert!(resp.ctype.starts_with("text/html"), "{uri}: {}", resp.ctype);
        for n in *needles {
            assert!(resp.body.contains(n), "{uri} lacks {n:?}");
        }
        // Hops and explanations are rendered with names, never raw ids.
        assert!(!resp.body.contains(">nw-0"), "{uri} shows an id");
    }
    // The coach filter by seller keeps only that seller's suggestions.
    let all = get(&r, "/coach").await.body.matches("<tr>").count();
    let one = get(&r, "/coach?seller=nw-04").await;
    assert_eq!(one.status, StatusCode::OK);
    let n = one.body.matches("<tr>").count();
    assert!(n >= 1 && n < all, "{n} of {all}");
    let team = get(&r, "/coach?team=Sales").await;
    assert_eq!(team.status, StatusCode::OK);
}

#[tokio::test]
async fn map_json_has_every_stakeholder_with_evidence() {
    let (t, r) = demo().await;
    let resp = get(&r, "/accounts/acc-hartmann/map.json").await;
    assert_eq!(resp.status, StatusCode::OK);
    assert!(resp.ctype.starts_with("application/json"));
    let v: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
    let people = renmai::store::Store::accounts(t.store.as_ref())
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.id.as_str() == "acc-hartmann")
        .unwrap()
        .people;
    let nodes = v["nodes"].as_array().unwrap();
    let theirs = nodes.iter().filter(|n| n["ours"] == false).count() as u64;
    assert_eq!(theirs, people);
    assert!(nodes.iter().any(|n| n["ours"] == true));
    let kinds: Vec<&str> = v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in ["reports", "influence", "tie"] {
        assert!(kinds.contains(&k), "no {k} edge");
    }
    let birgit = map_node(&resp.body, "hm-001");
    assert!(birgit["why"].as_str().unwrap().contains("interaction"));
    assert_eq!(birgit["connector"]["name"], "Daniel Okafor");
}

#[tokio::test]
async fn hostile_names_are_escaped_everywhere() {
    let (t, _) = demo().await;
    let rec = renmai::store::Store::person(t.store.as_ref(), &PersonId::parse("hm-001").unwrap())
        .await
        .unwrap()
        .unwrap();
    let evil = Person {
        title: Some("<script>alert(1)</script>".into()),
        name: "Eve <img src=x onerror=alert(2)>".into(),
        ..rec.person
    };
    t.import(Bundle {
        people: vec![evil],
        ..Default::default()
    })
    .await;
    let r = t.router();
    for uri in [
        "/accounts/acc-hartmann",
        "/people/hm-001",
        "/accounts/acc-hartmann/paths?to=hm-001",
        "/accounts/acc-hartmann/coverage",
        "/people/nw-02",
        "/coach",
    ] {
        let resp = get(&r, uri).await;
        assert_eq!(resp.status, StatusCode::OK, "{uri}");
        assert!(!resp.body.contains("<script>alert"), "{uri} is not escaped");
        assert!(!resp.body.contains("<img src=x"), "{uri} is not escaped");
    }
    let person = get(&r, "/people/hm-001").await.body;
    // Shown as text, escaped (askama writes `<` as `&#60;`).
    assert!(
        person.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{person}"
    );
}

#[tokio::test]
async fn unknown_ids_are_404_problems_and_bad_k_is_422() {
    let (_t, r) = demo().await;
    for uri in [
        "/accounts/nope",
        "/accounts/nope/map.json",
        "/accounts/nope/coverage",
        "/accounts/nope/paths",
        "/people/nope",
        "/accounts/acc-hartmann/paths?to=nope",
        "/accounts/acc-hartmann/coverage?leaves=nope",
    ] {
        let resp = get(&r, uri).await;
        assert_eq!(resp.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(resp.ctype, "application/problem+json", "{uri}");
        let v: serde_json::Value = serde_json::from_str(&resp.body).unwrap();
        assert!(v["detail"].as_str().unwrap().contains("nope"), "{uri}");
    }
    for k in ["0", "11", "x"] {
        let resp = get(&r, &format!("/accounts/acc-hartmann/paths?to=hm-001&k={k}")).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "k={k}");
        assert!(resp.body.contains("k must be a whole number from 1 to 10"));
    }
}

/// The person page's CSRF cookie (name=value) and form token.
async fn token(r: &axum::Router, person: &str) -> (String, String) {
    let resp = get(r, &format!("/people/{person}")).await;
    let cookie = resp.cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("renmai_csrf="), "{}", resp.cookie);
    let at = resp.body.find("name=\"csrf\" value=\"").unwrap() + 19;
    let tok = resp.body[at..at + 64].to_owned();
    (cookie, tok)
}

async fn post(
    r: &axum::Router,
    uri: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
    body: String,
) -> Resp {
    let mut req = Request::post(uri)
        .header(header::HOST, "renmai.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    if let Some(o) = origin {
        req = req.header(header::ORIGIN, o);
    }
    send(r, req.body(Body::from(body)).unwrap()).await
}

fn meeting(tok: &str, when: &str) -> String {
    format!("csrf={tok}&kind=meeting&when={when}&ours=nw-02&with=hm-001")
}

fn now_local() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M").to_string()
}

#[tokio::test]
async fn posts_without_a_valid_token_or_from_another_origin_are_403() {
    let (_t, r) = demo().await;
    let (cookie, tok) = token(&r, "hm-001").await;
    let uri = "/people/hm-001/interactions";
    let when = now_local();
    let cases = [
        (None, None, meeting(&tok, &when)),
        (Some(cookie.as_str()), None, meeting("", &when)),
        (Some(cookie.as_str()), None, meeting(&"0".repeat(64), &when)),
        (
            Some(cookie.as_str()),
            Some("https://evil.example"),
            meeting(&tok, &when),
        ),
    ];
    for (c, o, body) in cases {
        let resp = post(&r, uri, c, o, body).await;
        assert_eq!(resp.status, StatusCode::FORBIDDEN);
        assert_eq!(resp.ctype, "application/problem+json");
        assert!(resp.body.contains("reload the page") || resp.body.contains("another site"));
    }
    let resp = post(
        &r,
        "/people/hm-001/assessments",
        None,
        None,
        "level=4&from=nw-02".into(),
    )
    .await;
    assert_eq!(resp.status, StatusCode::FORBIDDEN);
    // Nothing was written.
    let birgit = map_node(
        &get(&r, "/accounts/acc-hartmann/map.json").await.body,
        "hm-001",
    );
    assert!(birgit["closeness"].as_f64().unwrap() < 0.1);
}

#[tokio::test]
async fn logging_meetings_raises_the_tie_and_redirects_back() {
    let (_t, r) = demo().await;
    let before = map_node(
        &get(&r, "/accounts/acc-hartmann/map.json").await.body,
        "hm-001",
    );
    let (cookie, tok) = token(&r, "hm-001").await;
    let when = now_local();
    for _ in 0..3 {
        let resp = post(
            &r,
            "/people/hm-001/interactions",
            Some(&cookie),
            Some("http://renmai.test"),
            meeting(&tok, &when),
        )
        .await;
        assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.body);
        assert_eq!(resp.location, "/people/hm-001?saved=interaction");
    }
    let after = map_node(
        &get(&r, "/accounts/acc-hartmann/map.json").await.body,
        "hm-001",
    );
    let (b, a) = (
        before["closeness"].as_f64().unwrap(),
        after["closeness"].as_f64().unwrap(),
    );
    assert!(a > b + 0.1, "closeness {b} -> {a}");
    let page = get(&r, "/people/hm-001?saved=interaction").await.body;
    assert!(page.contains("The interaction is logged"));
    assert!(
        page.contains("4 interactions"),
        "the tie counts the new meetings"
    );
}

#[tokio::test]
async fn assessment_updates_level_attitude_and_role() {
    let (t, r) = demo().await;
    let (cookie, tok) = token(&r, "hm-001").await;
    let resp = post(
        &r,
        "/people/hm-001/assessments",
        Some(&cookie),
        None,
        format!("csrf={tok}&from=nw-02&level=3&attitude=champion&role=economic_buyer"),
    )
    .await;
    assert_eq!(resp.status, StatusCode::SEE_OTHER, "{}", resp.body);
    let rec = renmai::store::Store::person(t.store.as_ref(), &PersonId::parse("hm-001").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.person.attitude, Some(renmai_graph::Attitude::Champion));
    assert_eq!(
        rec.person.role,
        Some(renmai_graph::BuyingRole::EconomicBuyer)
    );
    assert_eq!(rec.person.title.as_deref(), Some("Chief Executive Officer"));
    let birgit = map_node(
        &get(&r, "/accounts/acc-hartmann/map.json").await.body,
        "hm-001",
    );
    assert!(birgit["closeness"].as_f64().unwrap() > 0.5, "{birgit}");
    assert_eq!(birgit["attitude"], "champion");
}

#[tokio::test]
async fn invalid_forms_rerender_with_a_message() {
    let (_t, r) = demo().await;
    let (cookie, tok) = token(&r, "hm-001").await;
    let cases = [
        (
            format!("csrf={tok}&kind=telegram&when={}&ours=nw-02", now_local()),
            "telegram",
        ),
        (
            format!("csrf={tok}&kind=call&when=yesterday&ours=nw-02"),
            "when must be a date and time",
        ),
        (
            format!("csrf={tok}&kind=call&when=2999-01-01T10:00&ours=nw-02"),
            "in the future",
        ),
        (
            format!("csrf={tok}&kind=call&when={}", now_local()),
            "choose at least one of our people",
        ),
        (
            format!("csrf={tok}&kind=call&when={}&ours=hm-002", now_local()),
            "not one of our people",
        ),
    ];
    for (body, msg) in cases {
        let resp = post(&r, "/people/hm-001/interactions", Some(&cookie), None, body).await;
        assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY, "{msg}");
        assert!(resp.ctype.starts_with("text/html"));
        assert!(resp.body.contains("role=\"alert\""), "{msg}");
        assert!(resp.body.contains(msg), "{msg}: {}", resp.body);
    }
    let resp = post(
        &r,
        "/people/hm-001/assessments",
        Some(&cookie),
        None,
        format!("csrf={tok}&from=nw-02&level=9"),
    )
    .await;
    assert_eq!(resp.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(resp.body.contains("0 (stranger) to 4 (ally)"));
}

#[tokio::test]
async fn overview_trend_is_the_index_rescored_as_of_past_months() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    let r = t.router();
    let body = get(&r, "/").await.body;
    let at = body
        .find("aria-label=\"Relationship index, monthly")
        .unwrap();
    let label = &body[at..at + body[at..].find("\">").unwrap()];
    let values: Vec<f64> = label
        .split(": ")
        .nth(1)
        .unwrap()
        .split(", ")
        .map(|v| v.trim_end_matches('%').parse().unwrap())
        .collect();
    assert_eq!(values.len(), 7, "{label}");
    // The small bundle's interactions are all over a year old: the index
    // decays month by month, and the oldest point is the full scoring then.
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    let now = renmai::engine::now_to_the_minute().epoch_seconds();
    let six_months_ago =
        renmai_graph::Timestamp::from_epoch_seconds(now - now.rem_euclid(86_400) - 6 * 30 * 86_400);
    let data = renmai::store::Store::account_data(
        t.store.as_ref(),
        &renmai_graph::OrgId::parse("1").unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    let full = renmai_graph::score_account(&data, &Default::default(), six_months_ago);
    assert_eq!(
        values[0],
        (full.relationship_index * 100.0).round(),
        "{values:?}"
    );
}
