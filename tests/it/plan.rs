//! Account plans on the demo data: the stories the demo tells become actions.

use std::sync::Arc;

use renmai::bundle::Bundle;
use renmai::engine::Engine;
use renmai::plan::{Names, changes, markdown, printable};
use renmai::store::{PlanItem, Store};
use renmai_graph::plan::{ActionKind, ActionStatus};
use renmai_graph::*;

use crate::helpers::*;

async fn demo() -> (TestStore, Engine) {
    let t = TestStore::new();
    t.import(renmai::demo::demo_bundle(chrono::Utc::now().date_naive()))
        .await;
    let engine = Engine::new(t.store.clone(), ScoringConfig::default());
    (t, engine)
}

fn org(s: &str) -> OrgId {
    OrgId::parse(s).unwrap()
}

#[tokio::test]
async fn single_threaded_account_gets_a_multi_threading_action() {
    let (_t, engine) = demo().await;
    let (_, plan) = engine
        .plan(&org("acc-hartmann"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        plan.single_threaded_seller.as_ref().map(|p| p.as_str()),
        Some("nw-04")
    );
    let a = plan
        .actions
        .iter()
        .find(|a| a.kind == ActionKind::MultiThread)
        .expect("a multi-threading action");
    assert_eq!(
        a.through.as_ref().map(|p| p.as_str()),
        Some("nw-04"),
        "introduced by the one seller"
    );
    assert!(
        a.owner.as_ref().is_some_and(|o| o.as_str() != "nw-04"),
        "owned by a second seller"
    );
}

#[tokio::test]
async fn cold_economic_buyer_gets_re_engaged_through_the_best_introducer_and_logging_it_lifts_the_index()
 {
    let (t, engine) = demo().await;
    let account = org("acc-lumen");
    let (data, plan) = engine.plan(&account, None).await.unwrap().unwrap();
    let eb = data
        .people
        .iter()
        .find(|p| p.role == Some(BuyingRole::EconomicBuyer))
        .unwrap();
    let action = plan
        .actions
        .iter()
        .find(|a| a.kind == ActionKind::ReEngage && a.whom == eb.id)
        .expect("a re-engagement action for the economic buyer");
    let scores = engine.scores(&account, None).await.unwrap().unwrap();
    let best = scores
        .stakeholders
        .iter()
        .find(|s| s.person == eb.id)
        .unwrap()
        .best_path
        .clone()
        .unwrap();
    assert_eq!(
        action.owner.as_ref(),
        Some(&best.seller),
        "the best introducer owns it"
    );
    if best.hops.len() > 1 {
        assert_eq!(action.through.as_ref(), Some(best.connector()));
    }

    // Do it: log the meeting, close the action.
    let owner = action.owner.clone().unwrap();
    let b = Bundle {
        interactions: vec![Interaction {
            id: InteractionId::parse("re-engage-1").unwrap(),
            kind: InteractionKind::Meeting,
            at: Timestamp::from(chrono::Utc::now() - chrono::Duration::minutes(5)),
            initiator: owner.clone(),
            participants: vec![owner, eb.id.clone()],
            in_reply_to: None,
        }],
        ..Default::default()
    };
    let src = renmai::validate::SourceMap::synthetic("test", &b);
    engine
        .import(b, src, Arc::new(renmai::store::NoProgress))
        .await
        .unwrap();
    let mut done = action.clone();
    done.status = ActionStatus::Done;
    t.store
        .save_plan_item(&account, PlanItem::Action(done.clone()))
        .await
        .unwrap();

    let (_, after) = engine.plan(&account, None).await.unwrap().unwrap();
    assert!(
        after.relationship_index > plan.relationship_index,
        "index {} → {}",
        plan.relationship_index,
        after.relationship_index
    );
    let closed = after.actions.iter().find(|a| a.id == done.id).unwrap();
    assert_eq!(closed.status, ActionStatus::Done);
}

#[tokio::test]
async fn snapshot_history_shows_what_changed() {
    let (t, engine) = demo().await;
    let account = org("acc-meridian");
    let (data, first) = engine
        .plan(
            &account,
            Some(Timestamp::from(
                chrono::Utc::now() - chrono::Duration::days(30),
            )),
        )
        .await
        .unwrap()
        .unwrap();
    t.store.save_snapshot(&first).await.unwrap();

    // A stakeholder leaves (moves to another company), another turns opponent.
    let leaver = data
        .people
        .iter()
        .find(|p| p.reports_to.is_some() && p.role.is_none())
        .unwrap()
        .clone();
    let mut flipper = data
        .people
        .iter()
        .find(|p| p.id != leaver.id && p.attitude != Some(Attitude::Opponent))
        .unwrap()
        .clone();
    let mut moved = leaver.clone();
    moved.org = org("acc-lumen");
    moved.reports_to = None;
    flipper.attitude = Some(Attitude::Opponent);
    // The leaver's reports now report to the leaver's manager.
    let mut people = vec![moved, flipper.clone()];
    for p in data
        .people
        .iter()
        .filter(|p| p.reports_to.as_ref() == Some(&leaver.id))
    {
        let mut p = p.clone();
        p.reports_to = leaver.reports_to.clone();
        people.push(p);
    }
    let b = Bundle {
        people,
        ..Default::default()
    };
    let src = renmai::validate::SourceMap::synthetic("test", &b);
    engine
        .import(b, src, Arc::new(renmai::store::NoProgress))
        .await
        .unwrap();

    let (data2, now) = engine.plan(&account, None).await.unwrap().unwrap();
    let snapshots = t.store.snapshots(&account).await.unwrap();
    assert_eq!(snapshots.len(), 1);
    let d = changes(&now, &snapshots).expect("a diff against the snapshot");
    assert!(d.departed_stakeholders.contains(&leaver.id), "{d:?}");
    assert!(
        d.attitude_changes
            .iter()
            .any(|(p, _, after)| p == &flipper.id && *after == Some(Attitude::Opponent)),
        "{d:?}"
    );
    // And the documents say it in words.
    let names = Names::of(&data2);
    let md = markdown(&now, &data2.account.name, &names, &snapshots);
    assert!(md.contains("What changed since the last review"), "{md}");
    assert!(
        md.contains(&format!("attitude of {}", flipper.name)),
        "{md}"
    );
    let html = printable(&now, &data2, &names, &snapshots).unwrap();
    // The A4 layout is a stylesheet of its own (no inline style: the CSP).
    assert!(html.contains("<svg") && html.contains("/static/print.css"));
    assert!(include_str!("../../static/print.css").contains("@page { size: A4"));
    assert!(!html.contains("<style") && !html.contains("style="));
    assert!(html.contains(&flipper.name));
}

async fn get(router: axum::Router, uri: &str) -> (axum::http::StatusCode, String, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let resp = router
        .oneshot(
            axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
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

#[tokio::test]
async fn plan_pages_and_exports() {
    let (t, _engine) = demo().await;
    let (s, ctype, body) = get(t.router(), "/accounts/acc-hartmann/plan").await;
    assert_eq!(s, 200);
    assert!(ctype.starts_with("text/html"));
    assert!(
        body.contains("Single-threaded: Rajesh Iyer holds every strong tie."),
        "{body}"
    );
    assert!(body.contains("multi thread"));

    let (s, ctype, md) = get(t.router(), "/accounts/acc-hartmann/plan.md").await;
    assert_eq!(s, 200);
    assert!(ctype.starts_with("text/markdown"));
    assert!(md.starts_with("# Account plan: Hartmann Maschinenbau AG"));

    let (s, _, json) = get(t.router(), "/accounts/acc-lumen/plan.json").await;
    assert_eq!(s, 200);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        v["plan"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "re_engage")
    );
    assert!(v["plan"]["acceptances"]["solution"]["value"].is_number());

    let (s, _, html) = get(t.router(), "/accounts/acc-lumen/plan/print").await;
    assert_eq!(s, 200);
    assert!(html.contains("<svg") && html.contains("<circle"));

    let (s, _, hist) = get(t.router(), "/accounts/acc-lumen/plan/history").await;
    assert_eq!(s, 200);
    assert!(hist.contains("No snapshots yet"));

    let (s, ctype, problem) = get(t.router(), "/accounts/nope/plan").await;
    assert_eq!(s, 404);
    assert_eq!(ctype, "application/problem+json");
    assert!(
        problem.contains("no customer account with id nope"),
        "{problem}"
    );

    let (s, _, problem) = get(t.router(), "/accounts/acc-lumen/plan?as_of=yesterday").await;
    assert_eq!(s, 400);
    assert!(problem.contains("as_of"), "{problem}");
}

#[tokio::test]
async fn what_if_the_only_seller_leaves() {
    let (t, engine) = demo().await;
    let w = engine
        .what_if_leaves(
            &org("acc-hartmann"),
            &PersonId::parse("nw-04").unwrap(),
            None,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(
        w.index_after < w.index_before * 0.5,
        "{} → {}",
        w.index_before,
        w.index_after
    );
    assert!(!w.gaps_opened.is_empty());
    let (s, _, body) = get(t.router(), "/accounts/acc-hartmann/plan?without=nw-04").await;
    assert_eq!(s, 200);
    assert!(body.contains("If Rajesh Iyer leaves"), "{body}");
    assert!(body.contains("gap opens: nobody familiar in"), "{body}");
    let (s, _, body) = get(t.router(), "/accounts/acc-hartmann/plan?without=nobody").await;
    assert_eq!(s, 400);
    assert!(body.contains("neither a stakeholder"), "{body}");
}

#[tokio::test]
async fn coach_view_filters_by_region_and_tier() {
    let (t, _engine) = demo().await;
    let (s, _, all) = get(t.router(), "/coach").await;
    assert_eq!(s, 200);
    assert!(all.contains("Hartmann Maschinenbau AG") && all.contains("Lumen Health Group"));
    let (s, _, apac) = get(t.router(), "/coach?region=APAC").await;
    assert_eq!(s, 200);
    assert!(apac.contains("Hartmann Precision"), "{apac}");
    assert!(!apac.contains(">Lumen Health Group<") && !apac.contains(">Hartmann Maschinenbau AG<"));
    let (_, _, key) = get(t.router(), "/coach?tier=Key").await;
    assert!(key.contains(">Hartmann Maschinenbau AG<"));
    assert!(!key.contains(">Lumen Health Group<") && !key.contains(">Meridian Bank<"));
    assert!(key.contains(r#"<option value="Key" selected>"#));
}

async fn call(
    router: axum::Router,
    method: &str,
    uri: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            axum::body::Body::from(v.to_string())
        }
        None => axum::body::Body::empty(),
    };
    let resp = router.oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

#[tokio::test]
async fn plans_through_the_api() {
    use renmai::auth::{TokenScope, generate_token, hash_token};
    let (t, _engine) = demo().await;
    let (read, write) = (generate_token(), generate_token());
    t.store
        .save_token("r", TokenScope::Read, &hash_token(&read), false)
        .await
        .unwrap();
    t.store
        .save_token("w", TokenScope::Write, &hash_token(&write), false)
        .await
        .unwrap();

    let (s, plan) = call(
        t.router(),
        "GET",
        "/api/v1/accounts/acc-hartmann/plan",
        &read,
        None,
    )
    .await;
    assert_eq!(s, 200);
    let actions = plan["plan"]["actions"].as_array().unwrap();
    let mt = actions
        .iter()
        .find(|a| a["kind"] == "multi_thread")
        .expect("multi-thread action");
    let action_id = mt["id"].as_str().unwrap().to_owned();
    assert!(plan["history"].as_array().unwrap().is_empty());

    // Read tokens cannot write.
    let (s, p) = call(
        t.router(),
        "POST",
        "/api/v1/accounts/acc-hartmann/plan/snapshots",
        &read,
        None,
    )
    .await;
    assert_eq!(s, 403, "{p}");

    let (s, snap) = call(
        t.router(),
        "POST",
        "/api/v1/accounts/acc-hartmann/plan/snapshots",
        &write,
        None,
    )
    .await;
    assert_eq!(s, 201, "{snap}");
    assert!(snap["relationship_index"].as_f64().unwrap() > 0.0);

    let uri = format!("/api/v1/accounts/acc-hartmann/plan/actions/{action_id}");
    let (s, a) = call(
        t.router(),
        "PUT",
        &uri,
        &write,
        Some(serde_json::json!({"status": "done"})),
    )
    .await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["status"], "done");
    let (s, p) = call(
        t.router(),
        "PUT",
        &uri,
        &write,
        Some(serde_json::json!({"status": "finished"})),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(p["field"], "status");
    let (s, _) = call(
        t.router(),
        "PUT",
        "/api/v1/accounts/acc-hartmann/plan/actions/nope",
        &write,
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(s, 404);

    let obj = serde_json::json!({"text": "He Tao trusted by summer", "person": "hm-004", "target_level": "trusted", "due": "2027-06-30"});
    let (s, o) = call(
        t.router(),
        "PUT",
        "/api/v1/accounts/acc-hartmann/plan/objectives/he-tao",
        &write,
        Some(obj),
    )
    .await;
    assert_eq!(s, 200, "{o}");
    let bad = serde_json::json!({"text": "x", "target_level": "bestie", "due": "2027-06-30"});
    let (s, p) = call(
        t.router(),
        "PUT",
        "/api/v1/accounts/acc-hartmann/plan/objectives/x",
        &write,
        Some(bad),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(p["field"], "target_level");

    let (_, plan) = call(
        t.router(),
        "GET",
        "/api/v1/accounts/acc-hartmann/plan",
        &read,
        None,
    )
    .await;
    assert_eq!(plan["history"].as_array().unwrap().len(), 1);
    assert_eq!(plan["plan"]["objectives"][0]["objective"]["id"], "he-tao");
    let done = plan["plan"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == action_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(done["status"], "done");

    let (s, _) = call(t.router(), "GET", "/api/v1/accounts/nope/plan", &read, None).await;
    assert_eq!(s, 404);
    let (_, doc) = call(t.router(), "GET", "/api/v1/openapi.json", &read, None).await;
    for path in [
        "/accounts/{id}/plan",
        "/accounts/{id}/plan/snapshots",
        "/accounts/{id}/plan/objectives/{objective}",
        "/accounts/{id}/plan/actions/{action}",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} is not in the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn actions_are_decided_and_snapshots_saved_from_the_plan_page() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let (t, _engine) = demo().await;
    let resp = t
        .router()
        .oneshot(
            axum::http::Request::get("/accounts/acc-hartmann/plan")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let cookie = resp.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let body = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    let token = body
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let action = body
        .split(r#"data-action=""#)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    let post = |uri: String, form: String, with_cookie: bool| {
        let mut req = axum::http::Request::post(uri)
            .header("content-type", "application/x-www-form-urlencoded");
        if with_cookie {
            req = req.header("cookie", cookie.clone());
        }
        t.router()
            .oneshot(req.body(axum::body::Body::from(form)).unwrap())
    };
    let uri = format!("/accounts/acc-hartmann/plan/actions/{action}");
    let r = post(uri.clone(), format!("csrf={token}&status=done"), false)
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no cookie, no write");
    let r = post(uri.clone(), "csrf=00&status=done".into(), true)
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a forged token");
    let r = post(uri, format!("csrf={token}&status=done"), true)
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let state = t.store.plan_state(&org("acc-hartmann")).await.unwrap();
    assert_eq!(state.actions.len(), 1);
    assert_eq!(state.actions[0].id, action);
    assert_eq!(
        state.actions[0].status,
        renmai_graph::plan::ActionStatus::Done
    );

    let r = post(
        "/accounts/acc-hartmann/plan/snapshots".into(),
        format!("csrf={token}"),
        true,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"],
        "/accounts/acc-hartmann/plan/history"
    );
    assert_eq!(
        t.store.snapshots(&org("acc-hartmann")).await.unwrap().len(),
        1
    );
}
