//! The engine's caches: one computation per cold account however many
//! requests ask at once, a write seen by the next read (and only its
//! account recomputed), another process's write seen after a poll.

use std::sync::Arc;

use renmai::bundle::Bundle;
use renmai::engine::{EXTERNAL_POLL, Engine};
use renmai::store::sqlite::SqliteStore;
use renmai::store::{NoProgress, Store};
use renmai::validate::SourceMap;
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

/// A day ahead, so an interaction logged now counts.
fn tomorrow() -> Timestamp {
    Timestamp::from_epoch_seconds(chrono::Utc::now().timestamp() + 86_400)
}

/// A meeting now between one of our team and the account's first stakeholder.
async fn meeting(engine: &Engine, account: &OrgId, id: &str) -> (Bundle, PersonId, PersonId) {
    let data = engine.account_data(account).await.unwrap().unwrap();
    let ours = data.team[0].person.clone();
    let theirs = data.people[0].id.clone();
    let bundle = Bundle {
        interactions: vec![Interaction {
            id: InteractionId::parse(id).unwrap(),
            kind: InteractionKind::Meeting,
            at: Timestamp::from_epoch_seconds(chrono::Utc::now().timestamp()),
            initiator: ours.clone(),
            participants: vec![ours.clone(), theirs.clone()],
            in_reply_to: None,
        }],
        ..Default::default()
    };
    (bundle, ours, theirs)
}

fn interactions(s: &AccountScores, ours: &PersonId, theirs: &PersonId) -> u32 {
    s.ties
        .iter()
        .find(|t| &t.ours == ours && &t.theirs == theirs)
        .map_or(0, |t| t.explanation.interactions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_for_a_cold_account_load_and_score_it_once() {
    let (_t, engine) = demo().await;
    let as_of = tomorrow();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let e = engine.clone();
            tokio::spawn(async move {
                e.scores(&org("acc-hartmann"), Some(as_of))
                    .await
                    .unwrap()
                    .unwrap()
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.push(t.await.unwrap());
    }
    assert!(all.iter().all(|s| Arc::ptr_eq(s, &all[0])));
    let c = engine.counts();
    assert_eq!((c.data_loads, c.scorings), (1, 1), "{c:?}");
    // Cached now: asking again computes nothing.
    engine
        .scores(&org("acc-hartmann"), Some(as_of))
        .await
        .unwrap();
    assert_eq!(engine.counts().scorings, 1);
}

#[tokio::test]
async fn a_write_through_the_engine_is_seen_by_the_next_read_and_spares_other_accounts() {
    let (_t, engine) = demo().await;
    let (hartmann, lumen) = (org("acc-hartmann"), org("acc-lumen"));
    let as_of = tomorrow();
    let before = engine
        .scores(&hartmann, Some(as_of))
        .await
        .unwrap()
        .unwrap();
    let other = engine.scores(&lumen, Some(as_of)).await.unwrap().unwrap();
    let (bundle, ours, theirs) = meeting(&engine, &hartmann, "engine-test-1").await;
    let src = SourceMap::synthetic("test", &bundle);
    engine
        .import(bundle, src, Arc::new(NoProgress))
        .await
        .unwrap();
    let after = engine
        .scores(&hartmann, Some(as_of))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        interactions(&after, &ours, &theirs),
        interactions(&before, &ours, &theirs) + 1
    );
    let c = engine.counts();
    assert_eq!((c.account_invalidations, c.full_invalidations), (1, 0));
    // The other account was not touched: same scores, no new load.
    let loads = c.data_loads;
    let again = engine.scores(&lumen, Some(as_of)).await.unwrap().unwrap();
    assert!(Arc::ptr_eq(&other, &again));
    assert_eq!(engine.counts().data_loads, loads);
}

#[tokio::test]
async fn a_write_by_another_connection_is_seen_after_a_poll() {
    let (t, engine) = demo().await;
    let hartmann = org("acc-hartmann");
    let as_of = tomorrow();
    let before = engine
        .scores(&hartmann, Some(as_of))
        .await
        .unwrap()
        .unwrap();
    let (bundle, ours, theirs) = meeting(&engine, &hartmann, "engine-test-2").await;
    // Another connection, as `renmai import` in another process would be.
    let other = SqliteStore::open(&t.dir.path().join("renmai.db")).unwrap();
    let src = SourceMap::synthetic("test", &bundle);
    other
        .import(bundle, src, Arc::new(NoProgress))
        .await
        .unwrap();
    tokio::time::sleep(EXTERNAL_POLL * 2).await;
    let after = engine
        .scores(&hartmann, Some(as_of))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        interactions(&after, &ours, &theirs),
        interactions(&before, &ours, &theirs) + 1
    );
    assert_eq!(engine.counts().full_invalidations, 1);
}
