//! The store conformance suite, privacy and service: provenance of every
//! write, the audit log, retention, service cases (leads) and deal support
//! (support load) give the same answers on every backend for the same
//! inputs, and erasing a person removes their cases and assignments. Runs
//! on the embedded store always and on the Neo4j store when `BOLT_URI` is
//! set (see `conformance.rs`).

use std::sync::Arc;

use renmai::bundle::Bundle;
use renmai::privacy::{EarlierWrites, PROVENANCE_WRITES, PersonProvenance, Provenance};
use renmai::store::{NoProgress, Store};
use renmai::validate::{Location, SourceMap};
use renmai_graph::service::{LeadsConfig, ServiceCase, Severity};
use renmai_graph::support::{DealSupport, SupportRole};
use renmai_graph::{InteractionId, OpportunityId, OrgId, PersonId, Timestamp};
use serde_json::json;

use crate::conformance::{BOLT, bolt_store};
use crate::helpers::*;

fn pid(s: &str) -> PersonId {
    PersonId::parse(s).unwrap()
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn acme() -> OrgId {
    OrgId::parse("1").unwrap()
}

async fn import_as(store: &dyn Store, b: Bundle, source: &str, actor: &str) {
    let src = SourceMap::synthetic(source, &b).with_provenance(Provenance::new(source, actor));
    store.import(b, src, Arc::new(NoProgress)).await.unwrap();
}

/// Provenance without what differs by store (write ids), times checked
/// to lie within the test's run and then dropped.
fn provenance_seen(p: &PersonProvenance, from: i64, to: i64) -> String {
    let mut out = Vec::new();
    if let Some(m) = &p.person {
        assert!(
            (from..=to).contains(&m.at.epoch_seconds()),
            "import time {} is not the time of the write",
            m.at.to_rfc3339()
        );
        out.push(format!("person: {} by {}", m.source, m.actor));
    }
    for (m, n) in &p.interactions {
        assert!((from..=to).contains(&m.at.epoch_seconds()));
        out.push(format!("{n} interactions: {} by {}", m.source, m.actor));
    }
    out.join("; ")
}

/// `detail` without the store's own write id: "x (write 12): …" → "x (write): …".
fn without_write_id(detail: &str) -> String {
    match (detail.find("(write "), detail.find("):")) {
        (Some(a), Some(b)) if a < b => format!("{}(write{}", &detail[..a], &detail[b..]),
        _ => detail.to_owned(),
    }
}

/// `detail` without how many audit lines an erasure redacted: a store's
/// write ids appear in its import lines, and the embedded store's small
/// ones ("write 2") are redacted with a person of the same id.
fn without_redacted_count(detail: &str) -> String {
    match detail.find(" audit lines redacted") {
        Some(end) => {
            let start = detail[..end].rfind(", ").unwrap_or(end);
            format!(
                "{}{}",
                &detail[..start],
                &detail[end + " audit lines redacted".len()..]
            )
        }
        None => detail.to_owned(),
    }
}

async fn audit_seen(store: &dyn Store) -> Vec<String> {
    let log = store.audit_log(None).await.unwrap();
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq), "oldest first");
    log.iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e.actor,
                e.action,
                without_redacted_count(&without_write_id(&e.detail))
            )
        })
        .collect()
}

fn case(id: &str, interaction: &str, contact: &str, opened: &str) -> ServiceCase {
    ServiceCase {
        case_id: id.into(),
        interaction: InteractionId::parse(interaction).unwrap(),
        account: acme(),
        contact: pid(contact),
        owner: Some(pid("2")),
        opened: ts(opened),
        closed: None,
        severity: Some(Severity::parse("high").unwrap()),
        subject: Some(format!("case {id}")),
    }
}

fn support(person: &str, opp: &str, role: SupportRole) -> DealSupport {
    DealSupport {
        opportunity: OpportunityId::parse(opp).unwrap(),
        person: pid(person),
        role,
        from: chrono::NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
        to: None,
    }
}

/// Everything one store answers through the scenario, to compare.
async fn privacy_scenario(store: Arc<dyn Store>) -> Vec<String> {
    let mut seen = Vec::new();
    let from = chrono::Utc::now().timestamp();
    let dir = tempfile::tempdir().unwrap();
    write_small_bundle(dir.path());
    let (_, small, _) = renmai::import::read(dir.path()).unwrap();
    import_as(store.as_ref(), small.clone(), "small-bundle", "cli:alice").await;
    // Service-desk contacts through the API: Carla three times, Dev once
    // long ago.
    let cases: Bundle = serde_json::from_value(json!({
        "interactions": [
            {"id": "sc1", "kind": "service_case", "at": "2025-11-10T10:00:00Z", "initiator": "10", "participants": ["10", "2"]},
            {"id": "sc2", "kind": "service_case", "at": "2025-11-12T10:00:00Z", "initiator": "10", "participants": ["10", "2"]},
            {"id": "sc3", "kind": "service_case", "at": "2025-11-20T10:00:00Z", "initiator": "10", "participants": ["10", "2"]},
            {"id": "sc4", "kind": "service_case", "at": "2025-08-01T10:00:00Z", "initiator": "11", "participants": ["11", "2"]}
        ]
    }))
    .unwrap();
    import_as(store.as_ref(), cases, "api POST /interactions", "api:desk").await;
    let to = chrono::Utc::now().timestamp();
    // A refused write records nothing: no import, no audit line.
    let logged = store.audit_log(None).await.unwrap().len();
    let bad: Bundle = serde_json::from_value(json!({
        "interactions": [{"id": "bad1", "kind": "call", "at": "2025-11-10T10:00:00Z",
                          "initiator": "10", "participants": ["10", "ghost"]}]
    }))
    .unwrap();
    let src = SourceMap::synthetic("bad", &bad).with_provenance(Provenance::new("bad", "api:x"));
    let refused = store.import(bad, src, Arc::new(NoProgress)).await;
    assert!(refused.is_err());
    assert_eq!(store.audit_log(None).await.unwrap().len(), logged);

    // Provenance: the person's record and their interactions by write.
    let p = store.person_provenance(&pid("10")).await.unwrap().unwrap();
    let text = provenance_seen(&p, from, to);
    assert_eq!(
        text,
        "person: small-bundle by cli:alice; 3 interactions: api POST /interactions by api:desk; \
         2 interactions: small-bundle by cli:alice"
    );
    seen.push(text);
    assert_eq!(store.person_provenance(&pid("nobody")).await.unwrap(), None);
    // A later write of the record is what it names then.
    let carla = small.people.iter().find(|p| p.id == pid("10")).unwrap();
    let fix = Bundle {
        people: vec![carla.clone()],
        ..Bundle::default()
    };
    import_as(store.as_ref(), fix, "page edit-person", "page:coach").await;
    let p = store.person_provenance(&pid("10")).await.unwrap().unwrap();
    let text = provenance_seen(&p, from, chrono::Utc::now().timestamp());
    assert!(
        text.starts_with("person: page edit-person by page:coach;"),
        "{text}"
    );
    seen.push(text);
    // Our people's interactions are found too (no account of their own).
    let p = store.person_provenance(&pid("2")).await.unwrap().unwrap();
    seen.push(provenance_seen(&p, from, chrono::Utc::now().timestamp()));

    // Service cases and leads.
    let all = vec![
        case("C-1", "sc1", "10", "2025-11-10T10:00:00Z"),
        case("C-2", "sc2", "10", "2025-11-12T10:00:00Z"),
        case("C-3", "sc3", "10", "2025-11-20T10:00:00Z"),
        case("C-4", "sc4", "11", "2025-08-01T10:00:00Z"),
    ];
    assert_eq!(store.save_service_cases(all.clone()).await.unwrap(), 4);
    assert_eq!(
        store.save_service_cases(all[..2].to_vec()).await.unwrap(),
        0
    );
    let stored = store.service_cases(None).await.unwrap();
    assert_eq!(stored.len(), 4);
    assert_eq!(stored[0].case_id, "C-4", "oldest first");
    seen.push(format!("{stored:?}"));
    let since = store
        .service_cases(Some(ts("2025-11-11T00:00:00Z")))
        .await
        .unwrap();
    assert_eq!(since.len(), 2);
    let cfg = LeadsConfig {
        window_days: 30,
        min_recent: 3,
    };
    let leads = renmai::leads::leads(store.as_ref(), ts("2025-11-25T00:00:00Z"), cfg)
        .await
        .unwrap();
    assert_eq!(leads.accounts.len(), 1, "{leads:?}");
    seen.push(format!("{leads:?}"));

    // Deal support: refused rows name the row and the field; good rows
    // are stored once, and Ben joins the account's slice as its support.
    let bad = vec![
        support("10", "op1", SupportRole::Presales),
        support("2", "no-such-deal", SupportRole::Presales),
    ];
    let at = |line| Location {
        file: "support.csv".into(),
        line,
        path: None,
    };
    let err = store
        .save_deal_support(bad, vec![at(2), at(3)])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("support.csv") && err.contains("opportunity_id") && err.contains("person_id"),
        "{err}"
    );
    seen.push(err);
    assert!(store.deal_support(None).await.unwrap().is_empty());
    let good = vec![
        support("2", "op1", SupportRole::Presales),
        support("1", "op1", SupportRole::SolutionExpert),
    ];
    let counts = store.save_deal_support(good.clone(), vec![]).await.unwrap();
    assert_eq!((counts.new, counts.existing), (2, 0));
    let counts = store.save_deal_support(good, vec![]).await.unwrap();
    assert_eq!((counts.new, counts.existing), (0, 2));
    let rows = store.deal_support(Some(&acme())).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(
        store
            .deal_support(Some(&OrgId::parse("2").unwrap()))
            .await
            .unwrap()
            .is_empty()
    );
    seen.push(format!("{rows:?}"));
    let load = renmai::support::load_report(
        store.as_ref(),
        chrono::NaiveDate::from_ymd_opt(2025, 10, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(load.people.len(), 2, "{load:?}");
    seen.push(format!("{load:?}"));

    // Retention: read (and, on Neo4j, pack) the slice, then delete what is
    // older than the cutoff; the slice and the scores age out at once.
    let as_of = ts("2026-01-15T00:00:00Z");
    let engine = renmai::engine::Engine::new(store.clone(), Default::default());
    store.account_data(&acme()).await.unwrap();
    let before = store.account_data(&acme()).await.unwrap().unwrap();
    let scores_before = engine.scores(&acme(), Some(as_of)).await.unwrap().unwrap();
    let r = store
        .apply_retention(ts("2025-10-01T00:00:00Z"), 30, "cli:ops")
        .await
        .unwrap();
    // 4 (Ana and Finn), 5 (ours only) and sc4.
    assert_eq!(r.interactions_deleted, 3, "{r:?}");
    let again = store
        .apply_retention(ts("2025-10-01T00:00:00Z"), 30, "cli:ops")
        .await
        .unwrap();
    assert_eq!(again.interactions_deleted, 0);
    let after = store.account_data(&acme()).await.unwrap().unwrap();
    assert_eq!(after.interactions.len(), before.interactions.len() - 2);
    assert!(
        after
            .interactions
            .iter()
            .all(|i| i.at >= ts("2025-10-01T00:00:00Z")),
        "a stale slice still holds old interactions"
    );
    engine.invalidate();
    let scores_after = engine.scores(&acme(), Some(as_of)).await.unwrap().unwrap();
    assert_ne!(scores_after, scores_before, "the scores did not age out");
    // Ana's dinner with Finn was the tie's only evidence.
    let finn = |s: &renmai_graph::AccountScores| {
        s.ties
            .iter()
            .find(|t| t.theirs == pid("13"))
            .map(|t| (t.ours.clone(), t.closeness, t.level))
    };
    assert!(finn(&scores_before).is_some());
    assert_ne!(finn(&scores_before), finn(&scores_after));
    seen.push(format!("Finn before {:?}", finn(&scores_before)));
    seen.push(format!("Finn after {:?}", finn(&scores_after)));
    let cases = store.service_cases(None).await.unwrap();
    assert_eq!(cases.len(), 3, "C-4 went with its interaction");
    seen.push(format!("{cases:?}"));
    let export = canonical(store.export().await.unwrap());
    seen.push(format!("{:?}", export.interactions));

    // A CRM that logs each call as it happens makes a write per call: the
    // newest writes are listed one by one, the older ones summed up.
    let before = store.person_provenance(&pid("10")).await.unwrap().unwrap();
    let (old_writes, old_n) = (
        before.interactions.len() as u64 + before.earlier.writes,
        before.interactions.iter().map(|(_, n)| n).sum::<u64>() + before.earlier.interactions,
    );
    for k in 0..PROVENANCE_WRITES + 2 {
        let call: Bundle = serde_json::from_value(json!({"interactions": [
            {"id": format!("sync{k}"), "kind": "call", "at": "2025-11-20T10:00:00Z",
             "initiator": "1", "participants": ["1", "10"]}
        ]}))
        .unwrap();
        import_as(store.as_ref(), call, "api POST /interactions", "api:crm").await;
    }
    let p = store.person_provenance(&pid("10")).await.unwrap().unwrap();
    assert_eq!(p.interactions.len(), PROVENANCE_WRITES);
    assert!(
        p.interactions
            .iter()
            .all(|(m, n)| m.actor == "api:crm" && *n == 1),
        "{p:?}"
    );
    assert_eq!(
        p.earlier,
        EarlierWrites {
            writes: old_writes + 2,
            interactions: old_n + 2
        }
    );
    seen.push(format!("{:?}", p.earlier));

    // Audit: an export view, then erasing Ben (owner of the cases, a
    // presales on the deal): his cases lose him, his assignment goes.
    store
        .record_audit("api:bi", "export view", "exported Ben Presales with 2")
        .await
        .unwrap();
    let r = store.forget_person(&pid("2"), "cli:dpo").await.unwrap();
    assert_eq!((r.service_cases, r.deal_support), (3, 1), "{r:?}");
    seen.push(format!("{:?}", (r.service_cases, r.deal_support)));
    let cases = store.service_cases(None).await.unwrap();
    assert!(cases.iter().all(|c| c.owner.is_none()), "{cases:?}");
    let rows = store.deal_support(None).await.unwrap();
    assert_eq!(rows.len(), 1);
    // Carla raised the cases: they go with her.
    let r = store.forget_person(&pid("10"), "cli:dpo").await.unwrap();
    assert_eq!(r.service_cases, 3, "{r:?}");
    assert!(store.service_cases(None).await.unwrap().is_empty());
    let log = audit_seen(store.as_ref()).await;
    assert!(
        log.iter()
            .any(|l| l.starts_with("cli:alice import small-bundle (write): ")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with("api:desk import api POST /interactions (write): 4 new")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l == "cli:ops retention deleted 3 interactions before 2025-10-01T00:00:00Z (kept 30 days)"),
        "{log:#?}"
    );
    let ben = renmai::privacy::redacted_id("2");
    assert!(
        log.iter()
            .any(|l| *l == format!("api:bi export view exported [forgotten] with {ben}")),
        "the export line still names Ben: {log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with(&format!("cli:dpo forget erased {ben}: "))),
        "{log:#?}"
    );
    assert!(!log.iter().any(|l| l.contains("Ben Presales")), "{log:#?}");
    seen.extend(log);
    let future = store
        .audit_log(Some(Timestamp::from_epoch_seconds(
            chrono::Utc::now().timestamp() + 3600,
        )))
        .await
        .unwrap();
    assert!(future.is_empty(), "{future:?}");
    seen
}

#[tokio::test]
async fn embedded_store_keeps_provenance_audit_retention_and_service_conformance() {
    let t = TestStore::new();
    let seen = privacy_scenario(t.store.clone()).await;
    assert!(seen.len() > 10);
}

#[tokio::test]
async fn neo4j_store_keeps_provenance_audit_retention_and_service_as_the_embedded_store_conformance()
 {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("privacy conformance").await else {
        return;
    };
    let t = TestStore::new();
    let expected = privacy_scenario(t.store.clone()).await;
    let got = privacy_scenario(neo.clone()).await;
    assert_eq!(expected.len(), got.len(), "{got:#?}");
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(g, e, "the Neo4j store answers differently");
    }
    assert!(neo.packed_reads() > 0, "the slices were read from blocks");
}
