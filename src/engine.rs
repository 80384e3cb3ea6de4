//! The app's access to scores: loads an account's slice from the store,
//! scores it with `renmai-graph` off the async runtime, and keeps slices and
//! scores in memory-bounded LRU caches.
//!
//! Freshness is event-driven, not timed: a write through [`Engine::import`]
//! drops what it touches (the accounts of its people, or everything when it
//! changes more than interactions and assessments), and a write by another
//! process is noticed through [`Store::external_version`] within
//! [`EXTERNAL_POLL`]. Only a store that cannot report other processes'
//! writes falls back to trusting a slice for [`DATA_TTL`].
//!
//! Each slice and each score is computed once however many requests want it
//! at the same time (single-flight): concurrent requests for a cold account
//! wait for one load and one scoring instead of each doing their own, which
//! is what made a cold minute cost seconds at medium scale.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lru::LruCache;
use renmai_graph::paths::WarmPath;
use renmai_graph::plan::AccountPlan;
use renmai_graph::score::WhatIfLeaves;
use renmai_graph::{AccountData, AccountScores, OrgId, PersonId, ScoringConfig, Timestamp};
use rustc_hash::FxHashSet;
use tokio::sync::OnceCell;

use crate::bundle::Bundle;
use crate::store::{ImportSummary, Progress, Store, StoreError};
use crate::validate::SourceMap;

/// How long a cached slice is trusted when the store cannot report writes
/// by other processes (see [`Store::external_version`]).
pub const DATA_TTL: Duration = Duration::from_secs(30);
/// How often the store is asked whether another process wrote to it.
pub const EXTERNAL_POLL: Duration = Duration::from_millis(250);
/// Upper bound of the slices kept, by [`approx_data_bytes`]. The medium
/// bench (100 accounts, 20k people, 1M interactions) needs about a third of
/// it, so every account of it stays cached.
pub const DATA_BUDGET_BYTES: usize = 768 << 20;
/// Upper bound of the scores kept, by [`approx_scores_bytes`]: room for the
/// "now" scores of every medium account plus many fixed `as_of` ones.
pub const SCORES_BUDGET_BYTES: usize = 512 << 20;

/// How old the default ("now") scores may be while this minute's are
/// computed in the background.
pub const NOW_LAG: Duration = Duration::from_secs(300);

type ScoreKey = (OrgId, i64);

/// "Now", to the minute: requests within a minute share cached scores.
pub fn now_to_the_minute() -> Timestamp {
    let s = chrono::Utc::now().timestamp();
    Timestamp::from_epoch_seconds(s - s.rem_euclid(60))
}

/// What the engine computed since it started; tests read it to check that
/// caching and single-flight work, operators to see cache behaviour.
#[derive(Debug, Default)]
pub struct EngineStats {
    /// Account slices loaded from the store.
    pub data_loads: AtomicU64,
    /// Full scorings of an account.
    pub scorings: AtomicU64,
    /// Times the caches were dropped whole (imports of more than
    /// interactions and assessments, writes by another process).
    pub full_invalidations: AtomicU64,
    /// Accounts dropped from the caches by a write that touched them.
    pub account_invalidations: AtomicU64,
    /// Background moves of the default `as_of` to a new minute.
    pub refreshes: AtomicU64,
}

/// A snapshot of [`EngineStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EngineCounts {
    pub data_loads: u64,
    pub scorings: u64,
    pub full_invalidations: u64,
    pub account_invalidations: u64,
    pub refreshes: u64,
}

struct NowClock {
    serving: Timestamp,
    /// The minute served before `serving`.
    previous: Timestamp,
    refreshing: bool,
}

struct DataEntry {
    loaded: Instant,
    data: Arc<AccountData>,
    /// The account's people, to find the accounts a write touches.
    people: FxHashSet<PersonId>,
    bytes: usize,
}

struct ScoreEntry {
    /// The slice the scores were computed from: the entry is valid while
    /// that slice is the cached one.
    data: Arc<AccountData>,
    scores: Arc<AccountScores>,
    bytes: usize,
}

/// Both caches and the write epoch under one lock, so "is this result still
/// current?" and "store it" are one step.
struct Caches {
    /// Bumped by every invalidation; a computation that started in an
    /// older epoch may have read data a write has since changed, so its
    /// result is handed to its waiters but not cached.
    epoch: u64,
    data: LruCache<OrgId, DataEntry>,
    data_bytes: usize,
    scores: LruCache<ScoreKey, ScoreEntry>,
    scores_bytes: usize,
}

impl Caches {
    fn current_data(&mut self, account: &OrgId, ttl: Option<Duration>) -> Option<Arc<AccountData>> {
        let e = self.data.get(account)?;
        if ttl.is_some_and(|ttl| e.loaded.elapsed() >= ttl) {
            let e = self.data.pop(account).expect("present");
            self.data_bytes -= e.bytes;
            return None;
        }
        Some(e.data.clone())
    }

    fn drop_account(&mut self, account: &OrgId) {
        if let Some(e) = self.data.pop(account) {
            self.data_bytes -= e.bytes;
        }
        let keys: Vec<ScoreKey> = self
            .scores
            .iter()
            .filter(|(k, _)| &k.0 == account)
            .map(|(k, _)| k.clone())
            .collect();
        for k in keys {
            if let Some(e) = self.scores.pop(&k) {
                self.scores_bytes -= e.bytes;
            }
        }
    }

    fn clear(&mut self) {
        self.data.clear();
        self.scores.clear();
        self.data_bytes = 0;
        self.scores_bytes = 0;
    }
}

/// One computation per key at a time: callers that ask for a key being
/// computed await the same result. A flight belongs to the epoch it started
/// in; after an invalidation, callers start a new one rather than join a
/// computation that may have read the data before the write.
struct Flights<K, V> {
    map: Mutex<HashMap<K, Flight<V>>>,
}

/// The epoch a computation started in, and where its result will be.
type Flight<V> = (u64, Arc<OnceCell<V>>);

impl<K: Hash + Eq + Clone, V> Flights<K, V> {
    fn new() -> Self {
        Flights {
            map: Mutex::new(HashMap::new()),
        }
    }

    fn join(&self, key: &K, epoch: u64) -> Arc<OnceCell<V>> {
        let mut map = self.map.lock().expect("flights");
        match map.get(key) {
            Some((e, cell)) if *e == epoch => cell.clone(),
            _ => {
                let cell = Arc::new(OnceCell::new());
                map.insert(key.clone(), (epoch, cell.clone()));
                cell
            }
        }
    }

    fn land(&self, key: &K, cell: &Arc<OnceCell<V>>) {
        let mut map = self.map.lock().expect("flights");
        if map.get(key).is_some_and(|(_, c)| Arc::ptr_eq(c, cell)) {
            map.remove(key);
        }
    }
}

/// Cheap to clone: every clone shares the caches (background refreshes
/// hold one).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::ops::Deref for Engine {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

pub struct Inner {
    store: Arc<dyn Store>,
    config: Arc<ScoringConfig>,
    caches: Mutex<Caches>,
    data_flights: Flights<OrgId, Option<Arc<AccountData>>>,
    score_flights: Flights<ScoreKey, Option<Arc<AccountScores>>>,
    /// `None` when the store reports other processes' writes (no TTL).
    ttl: Option<Duration>,
    started: Instant,
    /// Milliseconds since `started` of the last external-write poll.
    last_poll_ms: AtomicU64,
    external_version: Mutex<Option<u64>>,
    /// The minute default requests are served as of (see
    /// [`Engine::default_as_of`]).
    clock: Mutex<NowClock>,
    /// Accounts asked for without an `as_of` since the last refresh.
    hot: Mutex<FxHashSet<OrgId>>,
    stats: EngineStats,
}

/// Estimated heap size of a slice: what the data budget counts.
pub fn approx_data_bytes(d: &AccountData) -> usize {
    use std::mem::size_of;
    let people = (d.people.len() + d.our_people.len()) * (size_of::<renmai_graph::Person>() + 64);
    let interactions: usize = d
        .interactions
        .iter()
        .map(|i| {
            size_of::<renmai_graph::Interaction>()
                + i.participants.capacity() * size_of::<PersonId>()
        })
        .sum();
    people
        + interactions
        + d.assessments.len() * size_of::<renmai_graph::Assessment>()
        + d.influences.len() * size_of::<renmai_graph::Influence>()
        + (d.opportunities.len() + d.opportunity_contacts.len() + d.team.len()) * 128
        // the people index of the entry
        + d.people.len() * (size_of::<PersonId>() + 8)
}

/// Estimated heap size of an account's scores: what the scores budget counts.
pub fn approx_scores_bytes(s: &AccountScores) -> usize {
    use std::mem::size_of;
    let paths: usize = s
        .stakeholders
        .iter()
        .filter_map(|x| x.best_path.as_ref())
        .map(|p| size_of::<WarmPath>() + p.hops.len() * 160)
        .sum();
    s.stakeholders.len() * size_of::<renmai_graph::score::StakeholderScore>()
        + paths
        + s.ties.len() * (size_of::<renmai_graph::closeness::Tie>() + 200)
        + s.next_approaches.len() * (size_of::<renmai_graph::next::NextApproach>() + 400)
        + s.coverage.groups.len() * 256
        + 4096
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, config: ScoringConfig) -> Engine {
        let version = store.external_version();
        let inner = Inner {
            ttl: if version.is_some() {
                None
            } else {
                Some(DATA_TTL)
            },
            store,
            config: Arc::new(config),
            caches: Mutex::new(Caches {
                epoch: 0,
                data: LruCache::unbounded(),
                data_bytes: 0,
                scores: LruCache::unbounded(),
                scores_bytes: 0,
            }),
            data_flights: Flights::new(),
            score_flights: Flights::new(),
            started: Instant::now(),
            last_poll_ms: AtomicU64::new(0),
            external_version: Mutex::new(version),
            clock: Mutex::new(NowClock {
                serving: now_to_the_minute(),
                previous: now_to_the_minute(),
                refreshing: false,
            }),
            hot: Mutex::new(FxHashSet::default()),
            stats: EngineStats::default(),
        };
        Engine {
            inner: Arc::new(inner),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn config(&self) -> &ScoringConfig {
        &self.config
    }

    /// What the engine has computed and dropped so far.
    pub fn counts(&self) -> EngineCounts {
        let s = &self.stats;
        EngineCounts {
            data_loads: s.data_loads.load(Ordering::Relaxed),
            scorings: s.scorings.load(Ordering::Relaxed),
            full_invalidations: s.full_invalidations.load(Ordering::Relaxed),
            account_invalidations: s.account_invalidations.load(Ordering::Relaxed),
            refreshes: s.refreshes.load(Ordering::Relaxed),
        }
    }

    fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches.lock().expect("engine caches")
    }

    fn epoch(&self) -> u64 {
        self.caches().epoch
    }

    /// Forgets every cached slice and score.
    pub fn invalidate(&self) {
        let mut c = self.caches();
        c.epoch += 1;
        c.clear();
        self.stats
            .full_invalidations
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Forgets the cached slices and scores of the accounts with one of
    /// `people` among their stakeholders. Computations under way are not
    /// cached when they finish (the epoch moves on): they may have read the
    /// data before the write, and which account a person of an account not
    /// yet cached belongs to is unknown here.
    fn invalidate_people(&self, people: &FxHashSet<&PersonId>) {
        let mut c = self.caches();
        c.epoch += 1;
        let touched: Vec<OrgId> = c
            .data
            .iter()
            .filter(|(_, e)| people.iter().any(|p| e.people.contains(*p)))
            .map(|(k, _)| k.clone())
            .collect();
        for a in &touched {
            c.drop_account(a);
        }
        self.stats
            .account_invalidations
            .fetch_add(touched.len() as u64, Ordering::Relaxed);
    }

    /// Asks the store, at most every [`EXTERNAL_POLL`], whether another
    /// process wrote to it; if so everything cached may be stale.
    fn poll_external(&self) {
        if self.ttl.is_some() {
            return;
        }
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_poll_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < EXTERNAL_POLL.as_millis() as u64
            || self
                .last_poll_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let Some(v) = self.store.external_version() else {
            return;
        };
        let mut seen = self.external_version.lock().expect("external version");
        if *seen != Some(v) {
            *seen = Some(v);
            drop(seen);
            tracing::info!("the store was written by another process; dropping cached scores");
            self.invalidate();
        }
    }

    /// Writes a bundle through the store, then drops what it touched: the
    /// accounts of the people in its interactions and assessments when that
    /// is all it holds and every interaction is new, else everything.
    pub async fn import(
        &self,
        bundle: Bundle,
        sources: SourceMap,
        progress: Arc<dyn Progress>,
    ) -> Result<ImportSummary, StoreError> {
        let narrow = bundle.organizations.is_empty()
            && bundle.people.is_empty()
            && bundle.account_team.is_empty()
            && bundle.influences.is_empty()
            && bundle.opportunities.is_empty()
            && bundle.opportunity_contacts.is_empty();
        let touched: Vec<PersonId> = if narrow {
            let mut v: Vec<PersonId> = bundle
                .interactions
                .iter()
                .flat_map(|i| i.participants.iter().cloned())
                .chain(
                    bundle
                        .assessments
                        .iter()
                        .flat_map(|a| [a.from.clone(), a.to.clone()]),
                )
                .collect();
            v.sort();
            v.dedup();
            v
        } else {
            Vec::new()
        };
        let result = self.store.import(bundle, sources, progress).await;
        match &result {
            // An interaction written again under its id may have moved to
            // other people: only new ones have a known set of accounts.
            Ok(summary) if narrow && summary.interactions.existing == 0 => {
                self.invalidate_people(&touched.iter().collect())
            }
            _ => self.invalidate(),
        }
        result
    }

    /// One account's slice, from the cache when current.
    pub async fn account_data(
        &self,
        account: &OrgId,
    ) -> Result<Option<Arc<AccountData>>, StoreError> {
        // Checked before the caches, which all viewers share.
        if !crate::access::may_see(account) {
            return Ok(None);
        }
        self.poll_external();
        if let Some(d) = self.caches().current_data(account, self.ttl) {
            return Ok(Some(d));
        }
        let epoch = self.epoch();
        let cell = self.data_flights.join(account, epoch);
        let result = cell
            .get_or_try_init(|| async {
                self.stats.data_loads.fetch_add(1, Ordering::Relaxed);
                let started = Instant::now();
                let Some(mut data) = self.store.account_data(account).await? else {
                    return Ok(None);
                };
                add_deal_supporters(self.store.as_ref(), &mut data).await?;
                tracing::debug!(%account, elapsed = ?started.elapsed(), "loaded the account's slice");
                let data = Arc::new(data);
                self.put_data(account, epoch, data.clone());
                Ok::<_, StoreError>(Some(data))
            })
            .await
            .cloned();
        self.data_flights.land(account, &cell);
        result
    }

    fn put_data(&self, account: &OrgId, epoch: u64, data: Arc<AccountData>) {
        let entry = DataEntry {
            loaded: Instant::now(),
            people: data.people.iter().map(|p| p.id.clone()).collect(),
            bytes: approx_data_bytes(&data),
            data,
        };
        let mut c = self.caches();
        if c.epoch != epoch {
            return;
        }
        c.data_bytes += entry.bytes;
        if let Some(old) = c.data.put(account.clone(), entry) {
            c.data_bytes -= old.bytes;
        }
        while c.data_bytes > DATA_BUDGET_BYTES && c.data.len() > 1 {
            let (_, e) = c.data.pop_lru().expect("nonempty");
            c.data_bytes -= e.bytes;
        }
    }

    /// All scores of an account as of `as_of`, by default as of
    /// [`Engine::default_as_of`].
    pub async fn scores(
        &self,
        account: &OrgId,
        as_of: Option<Timestamp>,
    ) -> Result<Option<Arc<AccountScores>>, StoreError> {
        match as_of {
            Some(t) => self.scores_at(account, t).await,
            None => self.scores_at(account, self.default_as_of()).await,
        }
    }

    /// The time requests without an `as_of` are scored as of: now, to the
    /// minute, or up to [`NOW_LAG`] earlier. Rescoring every account when a
    /// minute starts would make the first requests of each minute wait (a
    /// second or more for a large account, far more for all of the medium
    /// bench), so the minute moves on only once the accounts asked for
    /// since the last move are scored as of the new one, in the background
    /// and one account at a time. All requests of a moment share the same
    /// time, so a response is consistent, and each score carries it.
    pub fn default_as_of(&self) -> Timestamp {
        let wall = now_to_the_minute();
        let mut clock = self.clock.lock().expect("clock");
        if clock.serving == wall {
            return wall;
        }
        if wall.epoch_seconds() - clock.serving.epoch_seconds() > NOW_LAG.as_secs() as i64 {
            // Too far behind (or the engine was idle): catch up at once,
            // each account scored on its next request.
            clock.serving = wall;
            return wall;
        }
        if !clock.refreshing {
            clock.refreshing = true;
            let engine = self.clone();
            let hot: Vec<OrgId> = std::mem::take(&mut *self.hot.lock().expect("hot accounts"))
                .into_iter()
                .collect();
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn(async move { engine.refresh(hot, wall).await });
                }
                Err(_) => {
                    clock.refreshing = false;
                    clock.serving = wall;
                    return wall;
                }
            }
        }
        clock.serving
    }

    /// Scores `accounts` as of `to`, one at a time, then serves `to`.
    async fn refresh(&self, accounts: Vec<OrgId>, to: Timestamp) {
        for a in &accounts {
            if let Err(e) = self.scores_at(a, to).await {
                tracing::warn!("refreshing the scores of {a}: {e}");
            }
        }
        let mut clock = self.clock.lock().expect("clock");
        clock.refreshing = false;
        if to > clock.serving {
            // Requests may still be between reading the old minute and
            // reading its scores: those stay one more refresh, the ones
            // before are dropped.
            let serving = clock.serving;
            let stale = std::mem::replace(&mut clock.previous, serving);
            clock.serving = to;
            drop(clock);
            let mut c = self.caches();
            for a in &accounts {
                if let Some(e) = c.scores.pop(&(a.clone(), stale.epoch_seconds())) {
                    c.scores_bytes -= e.bytes;
                }
            }
        } else {
            drop(clock);
        }
        self.hot.lock().expect("hot accounts").extend(accounts);
        self.stats.refreshes.fetch_add(1, Ordering::Relaxed);
    }

    /// All scores of an account as of `as_of`.
    pub async fn scores_at(
        &self,
        account: &OrgId,
        as_of: Timestamp,
    ) -> Result<Option<Arc<AccountScores>>, StoreError> {
        if !crate::access::may_see(account) {
            return Ok(None);
        }
        let key = (account.clone(), as_of.epoch_seconds());
        if as_of == self.clock.lock().expect("clock").serving {
            self.hot
                .lock()
                .expect("hot accounts")
                .insert(account.clone());
        }
        self.poll_external();
        if let Some(s) = self.cached_scores(&key) {
            return Ok(Some(s));
        }
        let epoch = self.epoch();
        let cell = self.score_flights.join(&key, epoch);
        let result = cell
            .get_or_try_init(|| async {
                let Some(data) = self.account_data(account).await? else {
                    return Ok(None);
                };
                self.stats.scorings.fetch_add(1, Ordering::Relaxed);
                let config = self.config.clone();
                let d = data.clone();
                let started = Instant::now();
                let scores = tokio::task::spawn_blocking(move || {
                    renmai_graph::score_account(&d, &config, as_of)
                })
                .await
                .map_err(|e| StoreError::Backend(format!("scoring failed: {e}")))?;
                tracing::debug!(%account, %as_of, elapsed = ?started.elapsed(), "scored the account");
                let scores = Arc::new(scores);
                self.put_scores(&key, epoch, data, scores.clone());
                Ok::<_, StoreError>(Some(scores))
            })
            .await
            .cloned();
        self.score_flights.land(&key, &cell);
        result
    }

    fn cached_scores(&self, key: &ScoreKey) -> Option<Arc<AccountScores>> {
        let mut c = self.caches();
        let data = c.current_data(&key.0, self.ttl)?;
        let e = c.scores.get(key)?;
        Arc::ptr_eq(&e.data, &data).then(|| e.scores.clone())
    }

    fn put_scores(
        &self,
        key: &ScoreKey,
        epoch: u64,
        data: Arc<AccountData>,
        scores: Arc<AccountScores>,
    ) {
        let entry = ScoreEntry {
            bytes: approx_scores_bytes(&scores),
            data,
            scores,
        };
        let mut c = self.caches();
        if c.epoch != epoch {
            return;
        }
        c.scores_bytes += entry.bytes;
        if let Some(old) = c.scores.put(key.clone(), entry) {
            c.scores_bytes -= old.bytes;
        }

        while c.scores_bytes > SCORES_BUDGET_BYTES && c.scores.len() > 1 {
            let (_, e) = c.scores.pop_lru().expect("nonempty");
            c.scores_bytes -= e.bytes;
        }
    }

    /// The `k` best warm paths to `target` in `account`.
    pub async fn warm_paths(
        &self,
        account: &OrgId,
        target: &PersonId,
        k: usize,
        as_of: Option<Timestamp>,
    ) -> Result<Option<Vec<WarmPath>>, StoreError> {
        let as_of = as_of.unwrap_or_else(|| self.default_as_of());
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
        let as_of = as_of.unwrap_or_else(|| self.default_as_of());
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

/// Sales support (MCI): the presales and experts on the account's open deals
/// join its team in the slice, so warm paths start from them too. A store
/// without support assignments adds nobody.
async fn add_deal_supporters(store: &dyn Store, data: &mut AccountData) -> Result<(), StoreError> {
    if data.opportunities.is_empty() {
        return Ok(());
    }
    let supports = match store.deal_support(Some(&data.account.id)).await {
        Ok(s) => s,
        Err(StoreError::Backend(e)) if e.contains("not supported") => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut people = Vec::new();
    for s in &supports {
        if !data.our_people.iter().any(|p| p.id == s.person)
            && !people
                .iter()
                .any(|p: &renmai_graph::Person| p.id == s.person)
            && let Some(rec) = store.person(&s.person).await?
            && rec.is_ours
        {
            people.push(rec.person);
        }
    }
    let known: Vec<_> = data.our_people.iter().cloned().chain(people).collect();
    renmai_graph::support::add_supporters(data, &supports, &known);
    Ok(())
}
