//! Privacy and backups: provenance of every write, the audit log,
//! retention, erasing a person (no trace left in the files), and backups
//! taken while a writer writes.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use renmai::auth::{self, TokenScope};
use renmai::bundle::Bundle;
use renmai::store::sqlite::SqliteStore;
use renmai::store::{NoProgress, Store, StoredResponse};
use renmai::validate::SourceMap;
use renmai_graph::{OrgId, PersonId, Timestamp};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::helpers::{TestStore, write_small_bundle};

const NAME: &str = "Zora Quellmann";
const EMAIL: &str = "zora.quellmann@acme-bank.example";
const PHONE: &str = "+496912345677";

fn pid(s: &str) -> PersonId {
    PersonId::parse(s).unwrap()
}

/// The small bundle plus Zora (77) at Acme Bank: an address, a CRM id, a
/// two-person and a three-person interaction, influence, an assessment,
/// a deal role and a reporting line.
async fn store_with_zora() -> TestStore {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    let zora: Bundle = serde_json::from_value(json!({
        "people": [{"id": "77", "org": "1", "name": NAME, "title": "Head of Payments",
                    "level": 2, "role": "technical_buyer",
                    "emails": [EMAIL], "external_ids": [{"system": "salesforce", "id": "003ZORA"}],
                    "phones": [{"number": PHONE, "kind": "mobile"}]},
                   {"id": "78", "org": "1", "name": "Olaf Underling", "reports_to": "77"}],
        "interactions": [
            {"id": "z1", "kind": "meeting", "at": "2025-11-05T10:00:00Z", "initiator": "1", "participants": ["1", "77"]},
            {"id": "z2", "kind": "email", "at": "2025-11-06T10:00:00Z", "initiator": "77", "participants": ["77", "1", "10"]}
        ],
        "influences": [{"from": "77", "to": "10", "kind": "peer", "strength": 0.6}],
        "assessments": [{"from": "1", "to": "77", "level": 3, "at": "2025-11-07T00:00:00Z", "by": "1"}],
        "opportunity_contacts": [{"opportunity": "op1", "person": "77", "role": "technical_buyer",
                                  "attitude": "champion", "at": "2025-11-07T00:00:00Z"}]
    }))
    .unwrap();
    t.import(zora).await;
    t
}

/// The database file and its WAL, as bytes.
fn file_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(w) = std::fs::read(&wal) {
        bytes.extend(w);
    }
    bytes
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn forget_erases_a_person_everywhere_and_leaves_no_trace_in_the_files() {
    let t = store_with_zora().await;
    let db = t.dir.path().join("renmai.db");
    // Her name also lands in a plan snapshot and a kept API response.
    let engine = renmai::engine::Engine::new(t.store.clone(), Default::default());
    let (_, plan) = engine
        .plan(&OrgId::parse("1").unwrap(), None)
        .await
        .unwrap()
        .unwrap();
    t.store.save_snapshot(&plan).await.unwrap();
    t.store
        .save_idempotent_response(
            "writer",
            "k1",
            StoredResponse {
                request_hash: "h".into(),
                status: 201,
                body: json!({"ids": ["z9"], "note": format!("{NAME} <{EMAIL}>")}).to_string(),
            },
        )
        .await
        .unwrap();
    // She raised a service case (its own fields live beside the interaction).
    t.store
        .save_service_cases(vec![renmai_graph::service::ServiceCase {
            case_id: "CASE-ZORA-1".into(),
            interaction: renmai_graph::InteractionId::parse("z1").unwrap(),
            account: OrgId::parse("1").unwrap(),
            contact: pid("77"),
            owner: Some(pid("1")),
            opened: Timestamp::parse("2025-11-05T10:00:00Z").unwrap(),
            closed: None,
            severity: None,
            subject: Some("Terminal outage".into()),
        }])
        .await
        .unwrap();
    let before = file_bytes(&db);
    assert!(contains(&before, NAME), "the test must see her before");
    assert!(contains(&before, EMAIL));
    assert!(contains(&before, PHONE));

    let r = t.store.forget_person(&pid("77"), "cli:test").await.unwrap();
    assert_eq!(r.emails, 1);
    assert_eq!(r.external_ids, 1);
    assert_eq!(r.phones, 1);
    assert_eq!(r.interactions_deleted, 1, "z1 had only Ana left");
    assert_eq!(r.interactions_edited, 1, "z2 keeps Ana and Carla");
    assert_eq!(r.influences, 1);
    assert_eq!(r.assessments, 1);
    assert_eq!(r.deal_contacts, 1);
    assert_eq!(r.service_cases, 1, "the case she raised goes with her");
    assert_eq!(r.reports_unlinked, 1);
    assert_eq!(r.snapshots_scrubbed, 1);
    assert_eq!(r.idempotency_entries, 1);

    let b = t.store.export().await.unwrap();
    assert!(b.people.iter().all(|p| p.id.as_str() != "77"));
    assert!(b.interactions.iter().all(|i| i.id.as_str() != "z1"));
    let z2 = b
        .interactions
        .iter()
        .find(|i| i.id.as_str() == "z2")
        .unwrap();
    assert_eq!(z2.participants.len(), 2);
    assert!(!z2.participants.contains(&pid("77")));
    assert_eq!(z2.initiator, pid("1"), "the next participant initiates");
    let olaf = b.people.iter().find(|p| p.id.as_str() == "78").unwrap();
    assert_eq!(olaf.reports_to, None);
    // The account still scores, without her.
    let data = t
        .store
        .account_data(&OrgId::parse("1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(data.people.iter().all(|p| p.id.as_str() != "77"));
    let log = t.store.audit_log(None).await.unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.action, "forget");
    assert_eq!(last.actor, "cli:test");
    assert!(!last.detail.contains("77"), "{}", last.detail);

    let after = file_bytes(&db);
    assert!(!contains(&after, NAME), "her name is still in the files");
    assert!(
        !contains(&after, EMAIL),
        "her address is still in the files"
    );
    assert!(
        !contains(&after, "003ZORA"),
        "her CRM id is still in the files"
    );
    assert!(
        !contains(&after, PHONE),
        "her phone number is still in the files"
    );

    assert!(
        !contains(&after, "CASE-ZORA-1"),
        "her service case is still in the files"
    );

    let again = t.store.forget_person(&pid("77"), "cli:test").await;
    assert!(matches!(again, Err(renmai::store::StoreError::NotFound(_))));
}

async fn call(router: &axum::Router, req: Request<Body>) -> (StatusCode, String, Value) {
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        ctype,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn req(method: &str, uri: &str, token: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(format!("/api/v1{uri}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

async fn token(t: &TestStore, name: &str, scope: TokenScope) -> String {
    let secret = auth::generate_token();
    t.store
        .save_token(name, scope, &auth::hash_token(&secret), false)
        .await
        .unwrap();
    secret
}

#[tokio::test]
async fn delete_person_api_erases_drops_cached_scores_and_answers_problems() {
    let t = store_with_zora().await;
    let read = token(&t, "reader", TokenScope::Read).await;
    let write = token(&t, "crm-sync", TokenScope::Write).await;
    let router = t.router();

    // Scores of the account are computed and cached with her in them.
    let (s, _, body) = call(&router, req("GET", "/accounts/1/stakeholders", &read)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(body.to_string().contains(NAME));
    // Her provenance is shown with her.
    let (s, _, body) = call(&router, req("GET", "/people/77", &read)).await;
    assert_eq!(s, StatusCode::OK);
    let prov = body["provenance"].as_array().unwrap();
    assert!(
        prov.iter()
            .any(|p| p["what"] == "person record" && p["source"] == "test"),
        "{prov:?}"
    );

    let (s, ctype, body) = call(&router, req("DELETE", "/people/77", &read)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(ctype, "application/problem+json");

    let (s, _, body) = call(&router, req("DELETE", "/people/77", &write)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["emails"], 1);
    assert_eq!(body["interactions_deleted"], 1);

    let (s, _, body) = call(&router, req("GET", "/accounts/1/stakeholders", &read)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        !body.to_string().contains(NAME),
        "cached scores still hold her"
    );
    let (s, ctype, body) = call(&router, req("GET", "/people/77", &read)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(ctype, "application/problem+json");
    let (s, ctype, body2) = call(&router, req("DELETE", "/people/77", &write)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(ctype, "application/problem+json");
    assert!(body2["detail"].as_str().unwrap().contains("no person"));
    let (s, ctype, _) = call(&router, req("DELETE", "/people/%20padded", &write)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(ctype, "application/problem+json");

    let log = t.store.audit_log(None).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "forget" && e.actor == "api:crm-sync")
    );

    let doc = serde_json::to_value(renmai::web::api::openapi()).unwrap();
    let del = &doc["paths"]["/people/{id}"]["delete"];
    for code in ["200", "401", "403", "404", "422"] {
        assert!(del["responses"][code].is_object(), "DELETE lacks {code}");
    }
}

#[tokio::test]
async fn api_writes_record_their_token_as_provenance() {
    let t = store_with_zora().await;
    let write = token(&t, "hubspot", TokenScope::Write).await;
    let router = t.router();
    let body = json!({"id": "api1", "kind": "call", "at": "2025-11-10T10:00:00Z",
                      "initiator": "1", "participants": ["1", "12"]});
    let r = Request::post("/api/v1/interactions")
        .header("authorization", format!("Bearer {write}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (s, _, b) = call(&router, r).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let p = t
        .store
        .person_provenance(&pid("12"))
        .await
        .unwrap()
        .unwrap();
    let (rec, n) = &p.interactions[0];
    assert_eq!((rec.actor.as_str(), *n), ("api:hubspot", 1));
    assert_eq!(rec.source, "api POST /interactions");
    assert!(
        rec.describe()
            .starts_with("from api POST /interactions, imported ")
    );
    let log = t.store.audit_log(None).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "import" && e.actor == "api:hubspot"),
        "{log:?}"
    );
}

fn renmai(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_renmai"))
        .arg("--quiet")
        .arg("--db")
        .arg(db)
        .args(args)
        .env("USER", "alice")
        .env_remove("RENMAI_CONFIG")
        .output()
        .unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn cli_import_forget_retention_and_audit_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let bundle = dir.path().join("bundle");
    write_small_bundle(&bundle);
    ok(&renmai(&db, &["import", bundle.to_str().unwrap()]));
    {
        let store = SqliteStore::open(&db).unwrap();
        let p = store.person_provenance(&pid("10")).await.unwrap().unwrap();
        let rec = p.person.unwrap();
        assert_eq!(rec.actor, "cli:alice");
        assert_eq!(rec.source, bundle.display().to_string());
        assert_eq!(p.interactions.iter().map(|(_, n)| n).sum::<u64>(), 2);
    }

    let out = ok(&renmai(&db, &["forget", "13", "--format", "json"]));
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["interactions_deleted"], 1, "{report}");
    assert_eq!(report["influences"], 1);
    let out = renmai(&db, &["forget", "13"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no person with id 13"));

    // Retention: off unless configured; 30 days deletes the 2025 interactions.
    let out = renmai(&db, &["retention", "apply"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("interactions_days"));
    let config = dir.path().join("renmai.toml");
    std::fs::write(&config, "[retention]\ninteractions_days = 30\n").unwrap();
    let out = ok(&renmai(
        &db,
        &["--config", config.to_str().unwrap(), "retention", "apply"],
    ));
    assert!(out.starts_with("deleted 4 interaction(s)"), "{out}");
    let stats: Value =
        serde_json::from_str(&ok(&renmai(&db, &["stats", "--format", "json"]))).unwrap();
    assert_eq!(stats["interactions"], 0);

    ok(&renmai(
        &db,
        &[
            "export",
            "--format",
            "json",
            dir.path().join("e.json").to_str().unwrap(),
        ],
    ));
    let log: Value =
        serde_json::from_str(&ok(&renmai(&db, &["audit", "--format", "json"]))).unwrap();
    let actions: Vec<(&str, &str)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        [
            ("import", "cli:alice"),
            ("forget", "cli:alice"),
            ("retention", "cli:alice"),
            ("export", "cli:alice")
        ]
    );
    let table = ok(&renmai(&db, &["audit", "--since", "2000-01-01T00:00:00Z"]));
    assert!(
        table.contains("audit view"),
        "viewing the log is logged too: {table}"
    );
    let out = renmai(&db, &["audit", "--since", "yesterday"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
}

#[tokio::test]
async fn retention_ages_scores_out() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    let acme = OrgId::parse("1").unwrap();
    let engine = renmai::engine::Engine::new(t.store.clone(), Default::default());
    let as_of = Timestamp::parse("2025-11-10T00:00:00Z").unwrap();
    let coach = |s: &renmai_graph::score::AccountScores| {
        s.stakeholders
            .iter()
            .find(|x| x.person.as_str() == "13")
            .unwrap()
            .closeness
            .closeness
    };
    let before = coach(&engine.scores(&acme, Some(as_of)).await.unwrap().unwrap());
    assert!(before > 0.0);
    let cutoff = Timestamp::parse("2025-10-01T00:00:00Z").unwrap();
    let r = t
        .store
        .apply_retention(cutoff, 40, "retention")
        .await
        .unwrap();
    assert_eq!(r.interactions_deleted, 2, "the September dinner and call");
    engine.invalidate();
    let after = coach(&engine.scores(&acme, Some(as_of)).await.unwrap().unwrap());
    assert!(after < before, "{after} !< {before}");
    let again = t
        .store
        .apply_retention(cutoff, 40, "retention")
        .await
        .unwrap();
    assert_eq!(again.interactions_deleted, 0);
}

fn interaction_batch(start: usize, n: usize) -> Bundle {
    let items: Vec<Value> = (start..start + n)
        .map(|i| {
            json!({"id": format!("w{i:06}"), "kind": "email",
                   "at": "2025-11-20T10:00:00Z", "initiator": "1", "participants": ["1", "10"]})
        })
        .collect();
    serde_json::from_value(json!({ "interactions": items })).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn backup_while_writing_restores_an_acknowledged_state() {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;
    let base = t.store.stats().await.unwrap().interactions;

    // A writer commits batches of 50 and notes each acknowledged count.
    let acked = Arc::new(std::sync::Mutex::new(vec![base]));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (store, acked, stop) = (t.store.clone(), acked.clone(), stop.clone());
        tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let b = interaction_batch(n, 50);
                let src = SourceMap::synthetic("writer", &b);
                store.import(b, src, Arc::new(NoProgress)).await.unwrap();
                n += 50;
                acked.lock().unwrap().push(base + n as u64);
            }
        })
    };
    while acked.lock().unwrap().len() < 5 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let backup = t.dir.path().join("backup.db");
    t.store.backup(&backup).await.unwrap();
    while acked.lock().unwrap().len() < 10 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    let live = t.store.stats().await.unwrap().interactions;
    assert_eq!(live, *acked.last().unwrap());

    // Backups never overwrite.
    let again = t.store.backup(&backup).await.unwrap_err();
    assert!(again.to_string().contains("exists"), "{again}");

    // Restored over another database: a state the writer saw acknowledged.
    let target = t.dir.path().join("restored.db");
    {
        let other = SqliteStore::open(&target).unwrap();
        let b = renmai::demo::demo_bundle(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
        let src = SourceMap::synthetic("other", &b);
        other.import(b, src, Arc::new(NoProgress)).await.unwrap();
    }
    SqliteStore::restore(&backup, &target).unwrap();
    let restored = SqliteStore::open(&target).unwrap();
    let n = restored.stats().await.unwrap().interactions;
    assert!(acked.contains(&n), "{n} is not one of {acked:?}");
    assert!(n > base && n < live, "the backup was taken mid-way: {n}");
    let people = restored.stats().await.unwrap();
    assert_eq!(people.people_customers, 5);
}

#[tokio::test]
async fn restore_refuses_what_is_not_a_renmai_backup() {
    let t = TestStore::new();
    let target = t.dir.path().join("target.db");
    let err = |p: &Path| SqliteStore::restore(p, &target).unwrap_err().to_string();

    let missing = t.dir.path().join("nope.db");
    assert!(err(&missing).contains("no such file"));
    let text = t.dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "hello, this is not a database at all, just some text",
    )
    .unwrap();
    let e = err(&text);
    assert!(
        e.contains("notes.txt") && e.contains("not a SQLite database"),
        "{e}"
    );
    let other = t.dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    assert!(err(&other).contains("not a renmai database"));
    let newer = t.dir.path().join("newer.db");
    t.store.backup(&newer).await.unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let e = err(&newer);
    assert!(
        e.contains("schema version 999") && e.contains("newer"),
        "{e}"
    );
    assert!(!target.exists(), "a refused restore writes nothing");
}

#[tokio::test]
async fn viewing_plan_exports_is_audited() {
    let t = store_with_zora().await;
    let read = token(&t, "bi-tool", TokenScope::Read).await;
    let router = t.router();
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let (s, _, _) = call(&router, get("/accounts/1/plan.md")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&router, get("/accounts/1/plan.json")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&router, req("GET", "/accounts/1/plan", &read)).await;
    assert_eq!(s, StatusCode::OK);
    let views: Vec<(String, String)> = t
        .store
        .audit_log(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "export view")
        .map(|e| (e.actor, e.detail))
        .collect();
    assert_eq!(
        views,
        [
            ("page:test-admin".to_owned(), "account 1 plan.md".to_owned()),
            (
                "page:test-admin".to_owned(),
                "account 1 plan.json".to_owned()
            ),
            ("api:bi-tool".to_owned(), "account 1 plan (API)".to_owned()),
        ]
    );
}

#[tokio::test]
async fn the_person_page_shows_where_their_facts_come_from() {
    let t = store_with_zora().await;
    let resp = t
        .router()
        .oneshot(Request::get("/people/77").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains("Where this comes from"), "{html}");
    assert!(html.contains("person record from test, imported "));
    assert!(html.contains("2 interactions from test, imported "));
}

#[tokio::test]
async fn serve_applies_configured_retention_on_its_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let bundle = dir.path().join("bundle");
    write_small_bundle(&bundle);
    ok(&renmai(&db, &["import", bundle.to_str().unwrap()]));
    let config = dir.path().join("renmai.toml");
    std::fs::write(&config, "[retention]\ninteractions_days = 30\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_renmai"))
        .args(["--quiet", "--db"])
        .arg(&db)
        .arg("--config")
        .arg(&config)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let store = SqliteStore::open(&db).unwrap();
    let mut left = u64::MAX;
    for _ in 0..300 {
        left = store.stats().await.unwrap().interactions;
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(left, 0, "serve did not apply retention within 30 s");
    let log = store.audit_log(None).await.unwrap();
    assert!(
        log.iter()
            .any(|e| e.action == "retention" && e.actor == "retention")
    );
}
