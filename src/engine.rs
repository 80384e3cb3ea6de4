//! The app's access to scores: loads an account's slice from the store,
//! scores it with `renmai-graph` off the async runtime, and keeps recent
//! slices and scores in bounded LRU caches. Every write that goes through
//! the engine invalidates them; writes by another process are seen within
//! [`DATA_TTL`].

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;
use renmai_graph::paths::WarmPath;
use renmai_graph::plan::AccountPlan;
use renmai_graph::score::WhatIfLeaves;
use renmai_graph::{AccountData, AccountScores, OrgId, PersonId, ScoringConfig, Timestamp};

use crate::bundle::Bundle;
use crate::store::{ImportSummary, Progress, Store, StoreError};
use crate::validate::SourceMap;

/// How long a cached account slice is trusted without a write through us.
pub const DATA_TTL: Duration = Duration::from_secs(30);
const DATA_CAPACITY: usize = 64;
const SCORES_CAPACITY: usize = 256;

type ScoreKey = (OrgId, i64);
/// A cached slice: when it was loaded, at which generation, the data.
type CachedData = (Instant, u64, Arc<AccountData>);

pub struct Engine {
    store: Arc<dyn Store>,
    config: Arc<ScoringConfig>,
    data: Mutex<LruCache<OrgId, CachedData>>,
    scores: Mutex<LruCache<ScoreKey, (u64, Arc<AccountScores>)>>,
    /// Bumped by every write; cached entries of an older generation are stale.
    generation: Mutex<u64>,
}

/// "Now", to the minute: requests within a minute share cached scores.
pub fn now_to_the_minute() -> Timestamp {
    let s = chrono::Utc::now().timestamp();
    Timestamp::from_epoch_seconds(s - s.rem_euclid(60))
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, config: ScoringConfig) -> Engine {
        Engine {
            store,
            config: Arc::new(config),
            data: Mutex::new(LruCache::new(
                NonZeroUsize::new(DATA_CAPACITY).expect("nonzero"),
            )),
            scores: Mutex::new(LruCache::new(
                NonZeroUsize::new(SCORES_CAPACITY).expect("nonzero"),
            )),
            generation: Mutex::new(0),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &ScoringConfig {
        &self.config
    }

    fn generation(&self) -> u64 {
        *self.generation.lock().expect("generation")
    }

    /// Forgets every cached slice and score.
    pub fn invalidate(&self) {
        *self.generation.lock().expect("generation") += 1;
        self.data.lock().expect("data cache").clear();
        self.scores.lock().expect("score cache").clear();
    }

    /// Writes a bundle through the store, then drops what the caches hold.
    pub async fn import(
        &self,
        bundle: Bundle,
        sources: SourceMap,
        progress: Arc<dyn Progress>,
    ) -> Result<ImportSummary, StoreError> {
        let result = self.store.import(bundle, sources, progress).await;
        self.invalidate();
        result
    }

    /// One account's slice, from the cache when fresh.
    pub async fn account_data(
        &self,
        account: &OrgId,
    ) -> Result<Option<Arc<AccountData>>, StoreError> {
        let generation = self.generation();
        if let Some((at, g, d)) = self.data.lock().expect("data cache").get(account)
            && *g == generation
            && at.elapsed() < DATA_TTL
        {
            return Ok(Some(d.clone()));
        }
        let Some(data) = self.store.account_data(account).await? else {
            return Ok(None);
        };
        let data = Arc::new(data);
        self.data
            .lock()
            .expect("data cache")
            .put(account.clone(), (Instant::now(), generation, data.clone()));
        Ok(Some(data))
    }

    /// All scores of an account as of `as_of` (default: now, to the minute).
    pub async fn scores(
        &self,
        account: &OrgId,
        as_of: Option<Timestamp>,
    ) -> Result<Option<Arc<AccountScores>>, StoreError> {
        let as_of = as_of.unwrap_or_else(now_to_the_minute);
        let key = (account.clone(), as_of.epoch_seconds());
        let generation = self.generation();
        if let Some((g, s)) = self.scores.lock().expect("score cache").get(&key)
            && *g == generation
        {
            return Ok(Some(s.clone()));
        }
        let Some(data) = self.account_data(account).await? else {
            return Ok(None);
        };
        let config = self.config.clone();
        let scores =
            tokio::task::spawn_blocking(move || renmai_graph::score_account(&data, &config, as_of))
                .await
                .map_err(|e| StoreError::Backend(format!("scoring failed: {e}")))?;
        let scores = Arc::new(scores);
        self.scores
            .lock()
            .expect("score cache")
            .put(key, (generation, scores.clone()));
        Ok(Some(scores))
    }

    /// The `k` best warm paths to `target` in `account`.
    pub async fn warm_paths(
        &self,
        account: &OrgId,
        target: &PersonId,
        k: usize,
        as_of: Option<Timestamp>,
    ) -> Result<Option<Vec<WarmPath>>, StoreError> {
        let as_of = as_of.unwrap_or_else(now_to_the_minute);
        let Some(data) = self.account_data(account).await? else {
            return Ok(None);
        };
        let config = self.config.clone();
        let target = target.clone();
        tokio::task::spawn_blocking(move || {
            renmai_graph::warm_paths(&data, &config, as_of, &target, k)
        })
        .await
        .map(Some)
        .map_err(|e| StoreError::Backend(format!("path search failed: {e}")))
    }

    /// The account plan as of `as_of`, with users' objectives and decisions.
    pub async fn plan(
        &self,
        account: &OrgId,
        as_of: Option<Timestamp>,
    ) -> Result<Option<(Arc<AccountData>, AccountPlan)>, StoreError> {
        let Some(scores) = self.scores(account, as_of).await? else {
            return Ok(None);
        };
        let data = self.account_data(account).await?.ok_or_else(|| {
            StoreError::NotFound(format!("no customer account with id {account}"))
        })?;
        let state = self.store.plan_state(account).await?;
        let config = self.config.clone();
        let d = data.clone();
        let plan = tokio::task::spawn_blocking(move || {
            renmai_graph::plan::account_plan(
                &d,
                &scores,
                &config,
                &state.objectives,
                &state.actions,
            )
        })
        .await
        .map_err(|e| StoreError::Backend(format!("planning failed: {e}")))?;
        Ok(Some((data, plan)))
    }

    /// What `account` loses if `person` leaves.
    pub async fn what_if_leaves(
        &self,
        account: &OrgId,
        person: &PersonId,
        as_of: Option<Timestamp>,
    ) -> Result<Option<WhatIfLeaves>, StoreError> {
        let as_of = as_of.unwrap_or_else(now_to_the_minute);
        let Some(data) = self.account_data(account).await? else {
            return Ok(None);
        };
        let config = self.config.clone();
        let person = person.clone();
        tokio::task::spawn_blocking(move || {
            renmai_graph::what_if_leaves(&data, &config, as_of, &person)
        })
        .await
        .map(Some)
        .map_err(|e| StoreError::Backend(format!("what-if failed: {e}")))
    }
}
