//! The JSON API under /api/v1, through `oneshot`: per endpoint the happy
//! path, auth failures and validation failures.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use renmai::auth::{self, TokenScope};
use renmai::store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::*;

struct Api {
    t: TestStore,
    router: axum::Router,
    read: String,
    write: String,
}

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl Api {
    /// The demo data as of a fixed day, a read and a write token.
    async fn demo() -> Api {
        let t = TestStore::new();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        t.import(renmai::demo::demo_bundle(day)).await;
        let read = token(&t, "reader", TokenScope::Read).await;
        let write = token(&t, "writer", TokenScope::Write).await;
        let router = t.router();
        Api {
            t,
            router,
            read,
            write,
        }
    }

    async fn call(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, uri: &str, token: Option<&str>) -> Resp {
        let mut b = Request::get(format!("/api/v1{uri}"));
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        self.call(b.body(Body::empty()).unwrap()).await
    }

    async fn post(&self, uri: &str, token: &str, body: &Value, key: Option<&str>) -> Resp {
        let mut b = Request::post(format!("/api/v1{uri}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        if let Some(k) = key {
            b = b.header("idempotency-key", k);
        }
        self.call(b.body(Body::from(body.to_string())).unwrap())
            .await
    }
}

async fn token(t: &TestStore, name: &str, scope: TokenScope) -> String {
    let secret = auth::generate_token();
    assert!(
        t.store
            .save_token(name, scope, &auth::hash_token(&secret), false)
            .await
            .unwrap()
    );
    secret
}

fn assert_problem(r: &Resp, status: StatusCode, detail_has: &str) {
    assert_eq!(r.status, status, "{:?}", r.body);
    assert_eq!(
        r.headers["content-type"], "application/problem+json",
        "{:?}",
        r.body
    );
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains(detail_has),
        "detail {detail:?} lacks {detail_has:?}"
    );
}

// ---- OpenAPI ----

#[tokio::test]
async fn openapi_document_is_public_3_1_and_describes_every_route() {
    let api = Api::demo().await;
    let r = api.get("/openapi.json", None).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = &r.body;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/enrich",
        "/accounts",
        "/accounts/{id}",
        "/accounts/{id}/stakeholders",
        "/accounts/{id}/coverage",
        "/accounts/{id}/next-approaches",
        "/accounts/{id}/paths/{person}",
        "/people/{id}",
        "/interactions",
        "/interactions/batch",
        "/assessments",
        "/openapi.json",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the document");
    }
    // Every authenticated operation documents 401 as problem+json.
    for (p, item) in paths {
        for (method, op) in item.as_object().unwrap() {
            if p == "/openapi.json" {
                assert_eq!(op["security"], json!([{}]), "openapi.json is public");
                continue;
            }
            for (status, r) in op["responses"].as_object().unwrap() {
                assert!(
                    r["description"].is_string(),
                    "{method} {p} {status}: no description"
                );
            }
            let r401 = &op["responses"]["401"];
            assert!(
                r401["content"]["application/problem+json"].is_object(),
                "{method} {p} lacks a problem+json 401"
            );
        }
    }
    for s in [
        "Problem",
        "EnrichRequest",
        "EnrichResult",
        "AccountPage",
        "WriteResult",
    ] {
        assert!(doc["components"]["schemas"][s].is_object(), "schema {s}");
    }
    // The document the code generates is the one served.
    let generated = serde_json::to_value(renmai::web::api::openapi()).unwrap();
    assert_eq!(&generated, doc);
}

// ---- auth ----

#[tokio::test]
async fn missing_bad_and_revoked_tokens_get_401_with_bearer_challenge() {
    let api = Api::demo().await;
    let r = api.get("/accounts", None).await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "Authorization: Bearer");
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let r = api.get("/accounts", Some("rm_not-a-token")).await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "unknown or revoked");
    let req = Request::get("/api/v1/accounts")
        .header("authorization", "Basic Zm9vOmJhcg==")
        .body(Body::empty())
        .unwrap();
    assert_problem(
        &api.call(req).await,
        StatusCode::UNAUTHORIZED,
        "Bearer <token>",
    );
    assert!(api.t.store.revoke_token("reader").await.unwrap());
    let r = api.get("/accounts", Some(&api.read)).await;
    assert_problem(&r, StatusCode::UNAUTHORIZED, "revoked");
    assert_eq!(
        api.get("/accounts", Some(&api.write)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn read_tokens_cannot_write_but_can_enrich() {
    let api = Api::demo().await;
    let body = json!({"kind": "call", "at": "2026-11-01T10:00:00Z", "initiator": "nw-04", "participants": ["nw-04", "hm-001"]});
    let r = api.post("/interactions", &api.read, &body, None).await;
    assert_problem(&r, StatusCode::FORBIDDEN, "needs a write token");
    let r = api
        .post(
            "/assessments",
            &api.read,
            &json!({"from": "nw-04", "to": "hm-001", "level": 2}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = api
        .post(
            "/enrich",
            &api.read,
            &json!({"records": [{"email": "birgit.schulz@hartmann-mb.de"}]}),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

// ---- accounts ----

#[tokio::test]
async fn accounts_list_paginates_with_cursor_and_filters() {
    let api = Api::demo().await;
    let all = api.get("/accounts", Some(&api.read)).await;
    assert_eq!(all.status, StatusCode::OK);
    let ids: Vec<&str> = all.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 4);
    assert!(all.body["next_cursor"].is_null());
    // Two pages of two: same accounts in the same order, then no cursor.
    let p1 = api.get("/accounts?limit=2", Some(&api.read)).await;
    let cursor = p1.body["next_cursor"].as_str().unwrap().to_owned();
    let p2 = api
        .get(
            &format!("/accounts?limit=2&cursor={cursor}"),
            Some(&api.read),
        )
        .await;
    assert!(p2.body["next_cursor"].is_null());
    let paged: Vec<&str> = p1.body["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .chain(p2.body["accounts"].as_array().unwrap())
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(paged, ids);
    let r = api.get("/accounts?region=apac", Some(&api.read)).await;
    assert_eq!(r.body["accounts"][0]["id"], "acc-hartmann-cn");
    assert_eq!(r.body["accounts"].as_array().unwrap().len(), 1);
    let r = api
        .get("/accounts?industry=Banking&q=meridian", Some(&api.read))
        .await;
    assert_eq!(r.body["accounts"].as_array().unwrap().len(), 1);
    let r = api
        .get("/accounts?q=nothing-like-this", Some(&api.read))
        .await;
    assert_eq!(r.body["accounts"], json!([]));
    // Bad parameters name themselves.
    let r = api.get("/accounts?limit=0", Some(&api.read)).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "limit");
    assert_eq!(r.body["field"], "limit");
    let r = api.get("/accounts?limit=ten", Some(&api.read)).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "limit");
    let r = api.get("/accounts?cursor=zz", Some(&api.read)).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "next_cursor");
}

#[tokio::test]
async fn account_has_index_coverage_and_as_of_and_etag_gives_304() {
    let api = Api::demo().await;
    let r = api
        .get(
            "/accounts/acc-hartmann?as_of=2026-11-28T12:00:00Z",
            Some(&api.read),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["as_of"], "2026-11-28T12:00:00Z");
    assert_eq!(r.body["coverage"]["status"], "single_threaded");
    assert_eq!(r.body["coverage"]["single_threaded_seller"], "nw-04");
    let idx = r.body["relationship_index"].as_f64().unwrap();
    assert!(idx > 0.0 && idx < 1.0);
    // A past date gives other scores.
    let past = api
        .get("/accounts/acc-hartmann?as_of=2025-06-01", Some(&api.read))
        .await;
    assert_ne!(
        past.body["relationship_index"],
        r.body["relationship_index"]
    );

    let etag = r.headers["etag"].to_str().unwrap().to_owned();
    let req = Request::get("/api/v1/accounts/acc-hartmann?as_of=2026-11-28T12:00:00Z")
        .header("authorization", format!("Bearer {}", api.read))
        .header("if-none-match", &etag)
        .body(Body::empty())
        .unwrap();
    let r304 = api.call(req).await;
    assert_eq!(r304.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r304.headers["etag"].to_str().unwrap(), etag);
    assert!(r304.body.is_null());

    assert_problem(
        &api.get("/accounts/acc-nope", Some(&api.read)).await,
        StatusCode::NOT_FOUND,
        "acc-nope",
    );
    let r = api
        .get("/accounts/acc-hartmann?as_of=yesterday", Some(&api.read))
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "as_of");
    assert_eq!(r.body["field"], "as_of");
    assert_eq!(
        api.get("/accounts/acc-hartmann", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn stakeholders_coverage_next_approaches_and_paths() {
    let api = Api::demo().await;
    let tok = Some(api.read.as_str());
    let s = api.get("/accounts/acc-hartmann/stakeholders", tok).await;
    assert_eq!(s.status, StatusCode::OK);
    let list = s.body["stakeholders"].as_array().unwrap();
    assert!(list.len() > 10);
    let birgit = list.iter().find(|x| x["person"]["id"] == "hm-001").unwrap();
    assert!(birgit["influence"]["score"].as_f64().unwrap() > 0.5);
    assert!(!birgit["best_path"]["hops"].as_array().unwrap().is_empty());

    let c = api.get("/accounts/acc-hartmann/coverage", tok).await;
    assert_eq!(c.status, StatusCode::OK);
    let spof = c.body["single_points_of_failure"].as_array().unwrap();
    assert!(
        spof.iter()
            .any(|x| x["person"] == "nw-04" && x["kind"] == "single_threaded_seller"),
        "{spof:?}"
    );
    let l = api.get("/accounts/acc-lumen/coverage", tok).await;
    assert!(
        !l.body["report"]["detractors"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let n = api.get("/accounts/acc-hartmann/next-approaches", tok).await;
    assert_eq!(n.status, StatusCode::OK);
    let first = &n.body["next_approaches"][0];
    assert!(first["score"].as_f64().unwrap() > 0.0);
    assert!(!first["why"].as_str().unwrap().is_empty());
    assert!(first["introducer"].is_string());

    let p = api
        .get("/accounts/acc-hartmann/paths/hm-001?k=3", tok)
        .await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
    let paths = p.body["paths"].as_array().unwrap();
    assert!(!paths.is_empty() && paths.len() <= 3);
    let strengths: Vec<f64> = paths
        .iter()
        .map(|x| x["strength"].as_f64().unwrap())
        .collect();
    assert!(strengths.windows(2).all(|w| w[0] >= w[1]), "best first");
    for h in paths[0]["hops"].as_array().unwrap() {
        assert!(!h["text"].as_str().unwrap().is_empty(), "each hop says why");
    }
    assert_problem(
        &api.get("/accounts/acc-hartmann/paths/hm-001?k=0", tok)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "k",
    );
    assert_problem(
        &api.get("/accounts/acc-hartmann/paths/nobody", tok).await,
        StatusCode::NOT_FOUND,
        "nobody",
    );
    assert_problem(
        &api.get("/accounts/acc-nope/stakeholders", tok).await,
        StatusCode::NOT_FOUND,
        "acc-nope",
    );
    assert_eq!(
        api.get("/accounts/acc-hartmann/next-approaches", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

// ---- people ----

#[tokio::test]
async fn person_has_ties_with_explanations() {
    let api = Api::demo().await;
    let r = api
        .get("/people/hm-001?as_of=2026-11-28", Some(&api.read))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["person"]["name"], "Birgit Schulz");
    assert_eq!(r.body["as_of"], "2026-11-28T00:00:00Z");
    let ties = r.body["ties"].as_array().unwrap();
    assert!(!ties.is_empty());
    for t in ties {
        assert_eq!(t["theirs"], "hm-001");
        assert!(t["evidence"]["interactions"].as_u64().is_some());
        assert!(t["evidence"]["detail"]["by_kind"].is_array());
    }
    let ours = api.get("/people/nw-04", Some(&api.read)).await;
    assert_eq!(ours.body["person"]["is_ours"], true);
    assert!(ours.body["closeness"].is_null());
    assert_problem(
        &api.get("/people/nobody", Some(&api.read)).await,
        StatusCode::NOT_FOUND,
        "nobody",
    );
    assert_eq!(
        api.get("/people/hm-001", Some("x")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

// ---- enrichment ----

#[tokio::test]
async fn enrich_matches_by_email_external_id_and_name_with_evidence() {
    let api = Api::demo().await;
    let body = json!({
        "as_of": "2026-11-28",
        "records": [
            {"ref": "crm-1", "email": "Birgit.Schulz@Hartmann-MB.de"},
            {"external_id": "salesforce:0035g0000lzQBmX"},
            {"name": "birgit schulz", "company": "HARTMANN MASCHINENBAU AG"},
            {"email": "nobody@example.com"},
            {"email": "not-an-email"},
            {"name": "Birgit Schulz"},
            {}
        ]
    });
    let r = api.post("/enrich", &api.read, &body, None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["as_of"], "2026-11-28T00:00:00Z");
    assert_eq!(r.body["matched"], 3);
    let res = r.body["results"].as_array().unwrap();
    assert_eq!(res.len(), 7);
    let first = &res[0];
    assert_eq!(first["ref"], "crm-1");
    assert_eq!(first["status"], "matched");
    assert_eq!(first["matched_by"], "email");
    assert_eq!(first["confidence"], 1.0);
    assert_eq!(first["person"]["id"], "hm-001");
    assert!(first["closeness"]["score"].as_f64().is_some());
    assert!(first["closeness"]["best_connector"].is_string());
    assert!(first["influence"]["score"].as_f64().unwrap() > 0.5);
    assert_eq!(first["account"]["account"], "acc-hartmann");
    assert_eq!(first["account"]["status"], "single_threaded");
    assert_eq!(
        first["evidence"]["ours"], first["closeness"]["best_connector"],
        "the evidence is the best connector's tie"
    );
    assert!(first["evidence"]["interactions"].as_u64().unwrap() >= 1);
    assert_eq!(res[1]["matched_by"], "external_id");
    assert_eq!(res[1]["person"]["id"], "hm-001");
    assert_eq!(res[2]["matched_by"], "name_company");
    assert_eq!(res[2]["confidence"], 0.8);
    assert_eq!(res[3]["status"], "not_found");
    assert_eq!(res[4]["status"], "invalid");
    assert!(res[4]["detail"].as_str().unwrap().contains("email"));
    assert_eq!(res[5]["status"], "invalid");
    assert!(res[5]["detail"].as_str().unwrap().contains("company"));
    assert_eq!(res[6]["status"], "invalid");

    // A past as_of scores the past.
    let past = api
        .post(
            "/enrich",
            &api.read,
            &json!({"as_of": "2025-09-01", "records": [{"email": "birgit.schulz@hartmann-mb.de"}]}),
            None,
        )
        .await;
    assert_eq!(past.body["as_of"], "2025-09-01T00:00:00Z");
    assert_ne!(past.body["results"][0]["closeness"], first["closeness"]);
}

#[tokio::test]
async fn enrich_reports_ambiguous_names() {
    let api = Api::demo().await;
    let mut b = renmai::bundle::Bundle::default();
    for id in ["hm-twin-1", "hm-twin-2"] {
        b.people.push(renmai_graph::Person {
            id: renmai_graph::PersonId::parse(id).unwrap(),
            org: renmai_graph::OrgId::parse("acc-hartmann").unwrap(),
            name: "Jo Weber".into(),
            title: None,
            department: None,
            level: renmai_graph::Level::UNKNOWN,
            emails: vec![],
            external_ids: vec![],
            phones: vec![],
            reports_to: None,
            role: None,
            attitude: None,
        });
    }
    api.t.import(b).await;
    let r = api
        .post(
            "/enrich",
            &api.read,
            &json!({"records": [{"name": "Jo Weber", "company": "Hartmann Maschinenbau AG"}]}),
            None,
        )
        .await;
    let res = &r.body["results"][0];
    assert_eq!(res["status"], "ambiguous");
    assert_eq!(res["candidates"], json!(["hm-twin-1", "hm-twin-2"]));
    assert!(res["confidence"].as_f64().unwrap() < 0.5);
    assert!(res["person"].is_null());
}

#[tokio::test]
async fn enrich_rejects_bad_bodies_with_the_right_status() {
    let api = Api::demo().await;
    let r = api
        .post("/enrich", &api.read, &json!({"records": []}), None)
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "1 to 1000");
    assert_eq!(r.body["field"], "records");
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"email": format!("p{i}@x.com")}))
        .collect();
    let r = api
        .post("/enrich", &api.read, &json!({"records": many}), None)
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "got 1001");
    let r = api
        .post(
            "/enrich",
            &api.read,
            &json!({"records": [{"emial": "a@b.com"}]}),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "emial");
    assert_eq!(r.body["field"], "records[0].emial");
    let r = api
        .post(
            "/enrich",
            &api.read,
            &json!({"records": [{"email": 5}]}),
            None,
        )
        .await;
    assert_eq!(r.body["field"], "records[0].email");
    let r = api
        .post(
            "/enrich",
            &api.read,
            &json!({"records": [{"email": "a@b.com"}], "as_of": "soon"}),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "timestamp");
    assert_eq!(r.body["field"], "as_of");
    // Malformed JSON is a 400, a wrong content type a 415, a huge body a 413.
    let req = |ctype: &str, body: Vec<u8>| {
        Request::post("/api/v1/enrich")
            .header("authorization", format!("Bearer {}", api.read))
            .header("content-type", ctype)
            .body(Body::from(body))
            .unwrap()
    };
    let r = api
        .call(req("application/json", b"{\"records\": [".to_vec()))
        .await;
    assert_problem(&r, StatusCode::BAD_REQUEST, "not valid JSON");
    let r = api.call(req("text/plain", b"{}".to_vec())).await;
    assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/json");
    let huge = format!(
        "{{\"records\": [{{\"name\": \"{}\"}}]}}",
        "x".repeat(3 << 20)
    );
    let r = api.call(req("application/json", huge.into_bytes())).await;
    assert_problem(&r, StatusCode::PAYLOAD_TOO_LARGE, "larger than");
    // Without a token nothing is looked up.
    let r = api
        .call(
            Request::post("/api/v1/enrich")
                .header("content-type", "application/json")
                .body(Body::from("{\"records\":[{\"email\":\"a@b.com\"}]}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn enrich_answers_a_full_batch_of_1000() {
    let api = Api::demo().await;
    let records: Vec<Value> = (0..1000)
        .map(|i| match i % 3 {
            0 => json!({"ref": i.to_string(), "email": "birgit.schulz@hartmann-mb.de"}),
            1 => json!({"ref": i.to_string(), "name": "Birgit Schulz", "company": "Hartmann Maschinenbau AG"}),
            _ => json!({"ref": i.to_string(), "email": format!("unknown{i}@example.com")}),
        })
        .collect();
    let r = api
        .post("/enrich", &api.read, &json!({"records": records}), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 1000);
    assert_eq!(r.body["matched"], 667);
    assert_eq!(r.body["results"][999]["ref"], "999");
}

// ---- writes ----

async fn interaction_count(api: &Api) -> u64 {
    api.t.store.stats().await.unwrap().interactions
}

#[tokio::test]
async fn logging_an_interaction_is_idempotent_under_a_key() {
    let api = Api::demo().await;
    let before = interaction_count(&api).await;
    let body = json!({"kind": "meeting", "at": "2026-11-20T10:00:00Z", "initiator": "nw-01", "participants": ["nw-01", "hm-001"]});
    let r = api
        .post("/interactions", &api.write, &body, Some("key-1"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["created"], 1);
    let id = r.body["ids"][0].clone();
    assert_eq!(interaction_count(&api).await, before + 1);
    // The retry returns the stored response and writes nothing.
    let again = api
        .post("/interactions", &api.write, &body, Some("key-1"))
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body, r.body);
    assert_eq!(again.headers["idempotency-replayed"], "true");
    assert_eq!(interaction_count(&api).await, before + 1);
    // Same key, other body: refused.
    let other = json!({"kind": "call", "at": "2026-11-20T10:00:00Z", "initiator": "nw-01", "participants": ["nw-01", "hm-001"]});
    let r = api
        .post("/interactions", &api.write, &other, Some("key-1"))
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "different request");
    assert_eq!(r.body["field"], "Idempotency-Key");
    // The write shows in the scores (the engine's caches were invalidated).
    let p = api.get("/people/hm-001", Some(&api.read)).await;
    let nw01 = p.body["ties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["ours"] == "nw-01")
        .expect("a tie with nw-01 now");
    assert!(
        nw01["evidence"]["last_contact"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-2")
    );
    assert!(id.as_str().unwrap().starts_with("api-"));
    // A given id is idempotent without a key too.
    let with_id = json!({"id": "crm-call-7", "kind": "call", "at": "2026-11-21T10:00:00Z", "initiator": "hm-001", "participants": ["nw-01", "hm-001"]});
    assert_eq!(
        api.post("/interactions", &api.write, &with_id, None)
            .await
            .body["created"],
        1
    );
    let r = api.post("/interactions", &api.write, &with_id, None).await;
    assert_eq!(
        (r.body["created"].clone(), r.body["existing"].clone()),
        (json!(0), json!(1))
    );
}

#[tokio::test]
async fn interaction_writes_validate_fields() {
    let api = Api::demo().await;
    let before = interaction_count(&api).await;
    let r = api
        .post("/interactions", &api.write, &json!({"kind": "telepathy", "at": "2026-11-20T10:00:00Z", "initiator": "nw-01", "participants": ["nw-01", "hm-001"]}), None)
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "kind");
    assert_eq!(r.body["field"], "kind");
    let r = api
        .post("/interactions", &api.write, &json!({"kind": "call", "at": "2026-11-20T10:00:00Z", "initiator": "nw-01", "participants": ["nw-01", "ghost-9"]}), None)
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "ghost-9");
    let r = api
        .post("/interactions", &api.write, &json!({"kind": "call", "at": "2026-11-20T10:00:00Z", "initiator": "nw-01", "participants": ["nw-01"]}), None)
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "participants");
    let r = api
        .post(
            "/interactions",
            &api.write,
            &json!({"kind": "call"}),
            Some(&"k".repeat(300)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(interaction_count(&api).await, before, "nothing was written");
}

#[tokio::test]
async fn batch_of_interactions_is_all_or_nothing_and_idempotent() {
    let api = Api::demo().await;
    let before = interaction_count(&api).await;
    let one = |p: &str| json!({"kind": "email", "at": "2026-11-25T08:00:00Z", "initiator": "nw-04", "participants": ["nw-04", p]});
    let good = json!({"interactions": [one("hm-001"), one("hm-002"), one("hm-003")]});
    let r = api
        .post("/interactions/batch", &api.write, &good, Some("batch-1"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["created"], 3);
    assert_eq!(r.body["ids"].as_array().unwrap().len(), 3);
    let r2 = api
        .post("/interactions/batch", &api.write, &good, Some("batch-1"))
        .await;
    assert_eq!(r2.body, r.body);
    assert_eq!(interaction_count(&api).await, before + 3);
    let bad = json!({"interactions": [one("hm-001"), one("ghost")]});
    let r = api
        .post("/interactions/batch", &api.write, &bad, None)
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "ghost");
    assert_eq!(interaction_count(&api).await, before + 3);
    let r = api
        .post(
            "/interactions/batch",
            &api.write,
            &json!({"interactions": []}),
            None,
        )
        .await;
    assert_eq!(r.body["field"], "interactions");
}

#[tokio::test]
async fn assessments_are_recorded_and_validated() {
    let api = Api::demo().await;
    let r = api
        .post("/assessments", &api.write, &json!({"from": "nw-01", "to": "hm-001", "level": 4, "at": "2026-11-27", "by": "nw-01"}), Some("a-1"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["created"], 1);
    let p = api
        .get("/people/hm-001?as_of=2026-11-28", Some(&api.read))
        .await;
    let tie = p.body["ties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["ours"] == "nw-01")
        .unwrap()
        .clone();
    assert!(
        tie["closeness"].as_f64().unwrap() > 0.9,
        "a fresh ally assessment: {tie}"
    );
    let r = api
        .post(
            "/assessments",
            &api.write,
            &json!({"from": "nw-01", "to": "hm-001", "level": 9}),
            None,
        )
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "level");
    assert_eq!(r.body["field"], "level");
}

#[tokio::test]
async fn unknown_api_routes_are_problem_404s() {
    let api = Api::demo().await;
    let r = api.get("/nothing-here", Some(&api.read)).await;
    assert_problem(&r, StatusCode::NOT_FOUND, "openapi.json");
}
