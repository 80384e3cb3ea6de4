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
    assert_eq!(
        (c.appends, c.account_invalidations, c.full_invalidations),
        (1, 0, 0),
        "the new meeting was added to the cached slice"
    );
    assert_eq!(c.data_loads, 2, "no slice was read again");
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

async fn write_through(engine: &Engine, bundle: Bundle) {
    let src = SourceMap::synthetic("test", &bundle);
    engine
        .import(bundle, src, Arc::new(NoProgress))
        .await
        .unwrap();
}

/// Writes of new interactions are added to the cached slice in place: the
/// slice equals what a fresh read of the store gives (order, initiator
/// first), scores as of a time before every new interaction are kept, later
/// ones are recomputed with it; an interaction naming someone the slice
/// does not know drops the slice instead.
#[tokio::test]
async fn new_interactions_are_appended_to_the_cached_slice_as_the_store_would_read_it() {
    let (t, engine) = demo().await;
    let hartmann = org("acc-hartmann");
    let data = engine.account_data(&hartmann).await.unwrap().unwrap();
    let ours = data.team[0].person.clone();
    let (a, b) = (data.people[0].id.clone(), data.people[1].id.clone());
    let past = Timestamp::from_epoch_seconds(chrono::Utc::now().timestamp() - 30 * 86_400);
    let before_new = Timestamp::from_epoch_seconds(past.epoch_seconds() - 86_400);
    let kept = engine
        .scores(&hartmann, Some(before_new))
        .await
        .unwrap()
        .unwrap();
    let later = engine
        .scores(&hartmann, Some(tomorrow()))
        .await
        .unwrap()
        .unwrap();
    let loads = engine.counts().data_loads;

    // A three-way meeting whose initiator is listed last, and a call at the
    // same instant with a smaller id: both land where the store puts them.
    let write = |id: &str, kind, initiator: &PersonId, participants: Vec<PersonId>| Bundle {
        interactions: vec![Interaction {
            id: InteractionId::parse(id).unwrap(),
            kind,
            at: past,
            initiator: initiator.clone(),
            participants,
            in_reply_to: None,
        }],
        ..Default::default()
    };
    for bundle in [
        write(
            "zz-append-2",
            InteractionKind::Meeting,
            &ours,
            vec![a.clone(), b.clone(), ours.clone()],
        ),
        write(
            "aa-append-1",
            InteractionKind::Call,
            &a,
            vec![ours.clone(), a.clone()],
        ),
    ] {
        write_through(&engine, bundle).await;
    }
    let c = engine.counts();
    assert_eq!((c.appends, c.data_loads), (2, loads), "{c:?}");
    let appended = engine.account_data(&hartmann).await.unwrap().unwrap();
    let fresh = Engine::new(t.store.clone(), ScoringConfig::default());
    let read = fresh.account_data(&hartmann).await.unwrap().unwrap();
    assert_eq!(
        *appended, *read,
        "the appended slice is what the store reads"
    );

    // Scores as of before the new interactions are the same object; later
    // ones count them.
    let again = engine
        .scores(&hartmann, Some(before_new))
        .await
        .unwrap()
        .unwrap();
    assert!(Arc::ptr_eq(&kept, &again));
    let now = engine
        .scores(&hartmann, Some(tomorrow()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        interactions(&now, &ours, &a),
        interactions(&later, &ours, &a) + 2
    );
    assert_eq!(
        interactions(&now, &ours, &b),
        interactions(&later, &ours, &b) + 1
    );

    // One of our people the slice has never seen: the slice is read again.
    let newcomer = t
        .store
        .export()
        .await
        .unwrap()
        .people
        .into_iter()
        .find(|p| p.org.as_str() == "acc-lumen")
        .expect("the demo has people of Lumen");
    {
        let stranger = newcomer;
        let bundle = write(
            "append-3",
            InteractionKind::Email,
            &a,
            vec![a.clone(), stranger.id.clone()],
        );
        write_through(&engine, bundle).await;
        let c = engine.counts();
        assert_eq!(c.account_invalidations, 1, "{c:?}");
        let reread = engine.account_data(&hartmann).await.unwrap().unwrap();
        let read = Engine::new(t.store.clone(), ScoringConfig::default())
            .account_data(&hartmann)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(*reread, *read);
    }
}
