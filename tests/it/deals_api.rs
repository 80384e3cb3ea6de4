//! Deals and reports through the JSON API, the CLI: happy paths, sums and
//! problem+json errors.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use renmai::auth::{self, TokenScope};
use renmai::store::Store;
use serde_json::Value;
use tower::ServiceExt;

use crate::deals::write_deal_bundle;
use crate::helpers::*;

struct Resp {
    status: StatusCode,
    content_type: String,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

/// A store with the deal bundle, its router and a read token.
async fn setup() -> (TestStore, axum::Router, String) {
    let t = TestStore::new();
    let dir = t.dir.path().join("deals");
    write_deal_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    let secret = auth::generate_token();
    t.store
        .save_token(
            "reader",
            TokenScope::Read,
            &auth::hash_token(&secret),
            false,
        )
        .await
        .unwrap();
    let router = t.router();
    (t, router, secret)
}

async fn get(router: &axum::Router, uri: &str, token: Option<&str>) -> Resp {
    let mut b = Request::get(format!("/api/v1{uri}"));
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let resp = router
        .clone()
        .oneshot(b.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let content_type = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Resp {
        status,
        content_type,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn assert_problem(r: &Resp, status: StatusCode, detail_has: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.content_type, "application/problem+json", "{}", r.text);
    let detail = r.json()["detail"].as_str().unwrap_or_default().to_owned();
    assert!(
        detail.contains(detail_has),
        "{detail:?} lacks {detail_has:?}"
    );
}

#[tokio::test]
async fn deals_list_detail_and_reports_sum_to_the_deals() {
    let (_t, router, token) = setup().await;
    let tok = Some(token.as_str());
    let r = get(&router, "/deals?as_of=2025-12-01", tok).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = r.json();
    let deals = list["deals"].as_array().unwrap();
    assert_eq!(deals.len(), 2);
    assert_eq!(deals[0]["id"], "op1");
    assert_eq!(deals[0]["stage_name"], "Proposal");
    assert_eq!(deals[0]["category"], "large");
    assert_eq!(deals[0]["weighted"], 125_000.0);
    assert_eq!(deals[0]["competitors"][1], "Initech");
    assert_eq!(deals[1]["stage_name"], "Closed lost");

    // The pipeline's total and each of its lists sum to the listed deals.
    let r = get(&router, "/reports/pipeline?as_of=2025-12-01", tok).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let p = &r.json()["report"];
    let amount: f64 = deals.iter().map(|d| d["amount"].as_f64().unwrap()).sum();
    let weighted: f64 = deals.iter().map(|d| d["weighted"].as_f64().unwrap()).sum();
    assert_eq!(p["total"]["count"], 2);
    assert_eq!(p["total"]["amount"].as_f64().unwrap(), amount);
    for list in ["by_stage", "by_category"] {
        let buckets = p[list].as_array().unwrap();
        let sum = |k: &str| -> f64 { buckets.iter().map(|b| b[k].as_f64().unwrap()).sum() };
        assert_eq!(sum("count"), 2.0, "{list}");
        assert_eq!(sum("amount"), amount, "{list}");
        assert_eq!(sum("weighted"), weighted, "{list}");
    }

    // CSV of every report, with its header row.
    for (kind, header) in [
        ("pipeline", "by,key,count,amount,weighted,deals"),
        ("coverage", "stage,deals,key_roles,covered,share,uncovered"),
        ("risk", "deal,name,account,stage,amount,risk,evidence"),
        (
            "trends",
            "month,created,created_amount,won,won_amount,lost,lost_amount",
        ),
    ] {
        let r = get(
            &router,
            &format!("/reports/{kind}/csv?as_of=2025-12-01"),
            tok,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{kind}: {}", r.text);
        assert!(r.content_type.starts_with("text/csv"), "{kind}");
        assert_eq!(r.text.lines().next().unwrap(), header, "{kind}");
    }
    let r = get(&router, "/reports/trends/csv?as_of=2025-12-01", tok).await;
    assert!(
        r.text.contains("2025-08,1,250000.00"),
        "op1 created in August: {}",
        r.text
    );
    // op2 has no recorded history: its derived first stage starts at its close date.
    assert!(
        r.text.contains("2025-09,1,40000.00,0,0.00,1,40000.00"),
        "{}",
        r.text
    );

    // One deal as of a date and at a stage.
    let r = get(&router, "/deals/op1?as_of=2025-10-01", tok).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let d = r.json();
    assert_eq!(d["stage_as_of"], "discovery");
    assert_eq!(d["history"].as_array().unwrap().len(), 3);
    assert_eq!(d["deal"]["chain"].as_array().unwrap().len(), 1);
    assert_eq!(d["versions"].as_array().unwrap().len(), 3);
    let r = get(&router, "/deals/op1?stage=discovery", tok).await;
    let d = r.json();
    assert_eq!(d["as_of"], "2025-10-19T23:59:59Z");
    assert_eq!(d["deal"]["chain"].as_array().unwrap().len(), 2);
    assert_eq!(d["by_stage"][0]["chain"].as_array().unwrap().len(), 1);
    assert!(
        d["by_stage"][4]["chain"].is_null(),
        "negotiation never reached"
    );
}

#[tokio::test]
async fn deal_errors_are_problem_details() {
    let (_t, router, token) = setup().await;
    let tok = Some(token.as_str());
    assert_problem(
        &get(&router, "/deals", None).await,
        StatusCode::UNAUTHORIZED,
        "Bearer",
    );
    assert_problem(
        &get(&router, "/deals/nope", tok).await,
        StatusCode::NOT_FOUND,
        "no deal with id nope",
    );
    let r = get(&router, "/deals?as_of=yesterday", tok).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "as_of");
    assert_eq!(r.json()["field"], "as_of");
    let r = get(&router, "/deals/op1?stage=closing", tok).await;
    assert_problem(
        &r,
        StatusCode::UNPROCESSABLE_ENTITY,
        "qualification, discovery",
    );
    assert_eq!(r.json()["field"], "stage");
    assert_problem(
        &get(&router, "/deals/op1?stage=commit", tok).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "never reached",
    );
    assert_problem(
        &get(&router, "/deals?account=nope", tok).await,
        StatusCode::NOT_FOUND,
        "no customer account with id nope",
    );
    assert_problem(
        &get(&router, "/reports/forecast", tok).await,
        StatusCode::NOT_FOUND,
        "pipeline, coverage, risk and trends",
    );

    let doc = get(&router, "/openapi.json", None).await.json();
    for p in [
        "/deals",
        "/deals/{id}",
        "/reports/{kind}",
        "/reports/{kind}/csv",
    ] {
        let op = &doc["paths"][p]["get"];
        assert!(op.is_object(), "{p} is documented");
        for status in ["401", "404", "422"] {
            assert!(
                op["responses"][status]["content"]["application/problem+json"].is_object(),
                "{p} documents {status}"
            );
        }
    }
    assert!(
        doc["paths"]["/reports/{kind}/csv"]["get"]["responses"]["200"]["content"]["text/csv"]
            .is_object()
    );
    // Every reference in the document resolves (schemathesis refuses it otherwise).
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    for r in all {
        let name = r.trim_start_matches("#/components/schemas/");
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{r} does not resolve"
        );
    }
}

fn renmai(db: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_renmai"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("RENMAI_STORE")
        .env_remove("RENMAI_CONFIG")
        .output()
        .expect("running renmai");
    assert!(
        out.status.success(),
        "renmai {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[tokio::test]
async fn cli_lists_shows_and_reports() {
    let (t, _router, _) = setup().await;
    let db = t.dir.path().join("renmai.db");
    drop(t.store.clone());
    let list = renmai(&db, &["deals", "list", "--as-of", "2025-12-01"]);
    assert!(list.lines().next().unwrap().starts_with("deal"), "{list}");
    assert!(
        list.contains("op1") && list.contains("Globex;Initech"),
        "{list}"
    );
    let show = renmai(&db, &["deals", "show", "op1", "--stage", "qualification"]);
    assert!(show.contains("stage timeline"), "{show}");
    assert!(
        show.contains("decision chain as of 2025-09-14T23:59:59Z"),
        "{show}"
    );
    let csv = renmai(
        &db,
        &[
            "report",
            "pipeline",
            "--as-of",
            "2025-12-01",
            "--format",
            "csv",
        ],
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("total,total,2,290000.00,125000.00")),
        "{csv}"
    );
    let json = renmai(
        &db,
        &[
            "report",
            "risk",
            "--as-of",
            "2025-12-01",
            "--format",
            "json",
        ],
    );
    let risks: Value = serde_json::from_str(&json).unwrap();
    assert!(risks["deals"].is_array(), "{json}");
}
