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
use renmai_graph::{
    AccountData, AccountScores, Interaction, OrgId, PersonId, ScoringConfig, Timestamp,
};
use rustc_hash::{FxHashMap, FxHashSet};
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

/// The largest write whose interactions are added to cached slices in
/// place; bigger ones (mailbox imports) drop the accounts they touch.
pub const APPEND_MAX: usize = 1_000;
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
    /// Cached slices a write of new interactions was added to in place.
    pub appends: AtomicU64,
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
    pub appends: u64,
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
    /// Names this version of the slice: scores computed from it carry it.
    generation: u64,
    data: Arc<AccountData>,
    /// The account's people, to find the accounts a write touches.
    people: FxHashSet<PersonId>,
    /// Our people in the slice: an appended interaction may name only
    /// people the slice already has (see [`Engine::import`]).
    ours: FxHashSet<PersonId>,
    bytes: usize,
}

struct ScoreEntry {
    /// The [`DataEntry::generation`] the scores were computed from: the
    /// entry is valid while that slice is the cached one.
    generation: u64,
    scores: Arc<AccountScores>,
    bytes: usize,
}

/// What a slice being loaded must still match when it is put in the cache:
/// no write since the load started may have touched the account.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct SliceVersion {
    epoch: u64,
    /// The account's write count, when its people are known.
    account: Option<u64>,
    /// Writes to people of accounts not known yet, when its are not.
    unknown: u64,
}

/// Who belongs where, learned from the slices loaded: narrow writes (new
/// interactions and assessments of existing people) then touch only the
/// accounts of their people, and loads of other accounts stay valid.
#[derive(Default)]
struct Membership {
    /// A customer's account, or `None` for one of our people.
    owner: FxHashMap<PersonId, Option<OrgId>>,
    /// Writes per known account.
    writes: FxHashMap<OrgId, u64>,
    /// Writes naming a person not in `owner`: any account not known yet
    /// may hold them.
    unknown_writes: u64,
}

/// Both caches and the write epoch under one lock, so "is this result still
/// current?" and "store it" are one step.
struct Caches {
    /// Bumped when everything is dropped; a computation that started in an
    /// older epoch may have read data a write has since changed, so its
    /// result is handed to its waiters but not cached.
    epoch: u64,
    members: Membership,
    next_generation: u64,
    data: LruCache<OrgId, DataEntry>,
    data_bytes: usize,
    scores: LruCache<ScoreKey, ScoreEntry>,
    scores_bytes: usize,
}

impl Caches {
    fn current_slice(
        &mut self,
        account: &OrgId,
        ttl: Option<Duration>,
    ) -> Option<(u64, Arc<AccountData>)> {
        let e = self.data.get(account)?;
        if ttl.is_some_and(|ttl| e.loaded.elapsed() >= ttl) {
            let e = self.data.pop(account).expect("present");
            self.data_bytes -= e.bytes;
            return None;
        }
        Some((e.generation, e.data.clone()))
    }

    fn version(&self, account: &OrgId) -> SliceVersion {
        match self.members.writes.get(account) {
            Some(&n) => SliceVersion {
                epoch: self.epoch,
                account: Some(n),
                unknown: 0,
            },
            None => SliceVersion {
                epoch: self.epoch,
                account: None,
                unknown: self.members.unknown_writes,
            },
        }
    }

    fn generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    fn drop_scores(&mut self, account: &OrgId, keep: impl Fn(i64) -> bool) -> Vec<ScoreKey> {
        let keys: Vec<ScoreKey> = self
            .scores
            .iter()
            .filter(|(k, _)| &k.0 == account)
            .map(|(k, _)| k.clone())
            .collect();
        let mut kept = Vec::new();
        for k in keys {
            if keep(k.1) {
                kept.push(k);
            } else if let Some(e) = self.scores.pop(&k) {
                self.scores_bytes -= e.bytes;
            }
        }
        kept
    }

    fn drop_account(&mut self, account: &OrgId) {
        if let Some(e) = self.data.pop(account) {
            self.data_bytes -= e.bytes;
        }
        self.drop_scores(account, |_| false);
    }

    /// Adds those of `written` (new interactions, not stored before) that
    /// name one of `account`'s people to its cached slice in place, in the store's order, when every
    /// person they name is known; scores as of a time before all of them
    /// stay valid. `false` when the slice must be read again instead.
    fn append(&mut self, account: &OrgId, written: &[Interaction]) -> bool {
        let Some(e) = self.data.get_mut(account) else {
            return true;
        };
        let new: Vec<&Interaction> = written
            .iter()
            .filter(|i| i.participants.iter().any(|p| e.people.contains(p)))
            .collect();
        let known = |p: &PersonId| {
            e.people.contains(p)
                || e.ours.contains(p)
                || matches!(self.members.owner.get(p), Some(Some(_)))
        };
        if !new.iter().all(|i| i.participants.iter().all(known)) {
            return false;
        }
        let data = Arc::make_mut(&mut e.data);
        for i in &new {
            // As the stores give them back: the initiator first.
            let mut participants = Vec::with_capacity(i.participants.len());
            participants.push(i.initiator.clone());
            participants.extend(
                i.participants
                    .iter()
                    .filter(|p| **p != i.initiator)
                    .cloned(),
            );
            let at = data
                .interactions
                .partition_point(|x| (x.at, &x.id) < (i.at, &i.id));
            data.interactions.insert(
                at,
                Interaction {
                    participants,
                    ..(*i).clone()
                },
            );
        }
        // Counted per interaction added, not over the whole slice again.
        let added: usize = new.iter().map(|i| approx_interaction_bytes(i)).sum();
        self.data_bytes += added;
        e.bytes += added;
        self.next_generation += 1;
        let generation = self.next_generation;
        e.generation = generation;
        let first = new.iter().map(|i| i.at.epoch_seconds()).min();
        let kept = self.drop_scores(account, |as_of| first.is_some_and(|f| as_of < f));
        for k in kept {
            if let Some(s) = self.scores.peek_mut(&k) {
                s.generation = generation;
            }
        }
        true
    }

    fn clear(&mut self) {
        self.data.clear();
        self.scores.clear();
        self.data_bytes = 0;
        self.scores_bytes = 0;
        self.members = Membership::default();
    }
}

/// One computation per key at a time: callers that ask for a key being
/// computed await the same result. A flight belongs to the version of the
/// data it started from (a [`SliceVersion`] for loads, a slice generation
/// for scorings); callers who need a newer one start their own rather than
/// join a computation that may have read the data before a write.
struct Flights<K, V, G> {
    map: Mutex<HashMap<K, Flight<V, G>>>,
}

/// The version a computation started from, and where its result will be.
type Flight<V, G> = (G, Arc<OnceCell<V>>);

impl<K: Hash + Eq + Clone, V, G: PartialEq> Flights<K, V, G> {
    fn new() -> Self {
        Flights {
            map: Mutex::new(HashMap::new()),
        }
    }

    fn join(&self, key: &K, version: G) -> Arc<OnceCell<V>> {
        let mut map = self.map.lock().expect("flights");
        match map.get(key) {
            Some((v, cell)) if *v == version => cell.clone(),
            _ => {
                let cell = Arc::new(OnceCell::new());
                map.insert(key.clone(), (version, cell.clone()));
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
    data_flights: Flights<OrgId, Option<(u64, Arc<AccountData>)>, SliceVersion>,
    score_flights: Flights<ScoreKey, Option<Arc<AccountScores>>, u64>,
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

/// One interaction's share of [`approx_data_bytes`].
fn approx_interaction_bytes(i: &Interaction) -> usize {
    std::mem::size_of::<Interaction>() + i.participants.capacity() * std::mem::size_of::<PersonId>()
}

/// Estimated heap size of a slice: what the data budget counts.
pub fn approx_data_bytes(d: &AccountData) -> usize {
    use std::mem::size_of;
    let people = (d.people.len() + d.our_people.len()) * (size_of::<renmai_graph::Person>() + 64);
    let interactions: usize = d.interactions.iter().map(approx_interaction_bytes).sum();
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
                members: Membership::default(),
                next_generation: 0,
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
            appends: s.appends.load(Ordering::Relaxed),
            refreshes: s.refreshes.load(Ordering::Relaxed),
        }
    }

    fn caches(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.caches.lock().expect("engine caches")
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

    /// After a narrow write (interactions and assessments only, every
    /// interaction new), updates what it touched: the accounts of its
    /// people. With `appended`, their new interactions are added to the
    /// cached slices in place (no reload; scores as of before them stay);
    /// otherwise, or where a slice cannot take them, the account is
    /// dropped. Loads under way of a touched account, or of an account not
    /// known yet when the write names someone unknown, are not cached when
    /// they finish: they may have read the data before the write.
    fn narrow_write(&self, people: &[PersonId], appended: Option<&[Interaction]>) {
        let mut c = self.caches();
        let mut touched: Vec<OrgId> = Vec::new();
        let mut unknown = false;
        for p in people {
            match c.members.owner.get(p) {
                Some(Some(a)) => touched.push(a.clone()),
                Some(None) => {}
                None => unknown = true,
            }
        }
        touched.sort();
        touched.dedup();
        if unknown {
            c.members.unknown_writes += 1;
        }
        let (mut appended_to, mut dropped) = (0, 0);
        for a in &touched {
            *c.members.writes.entry(a.clone()).or_default() += 1;
            let ok = match appended {
                Some(new) => c.append(a, new),
                None => false,
            };
            if ok {
                appended_to += 1;
            } else {
                c.drop_account(a);
                dropped += 1;
            }
        }
        drop(c);
        self.stats
            .account_invalidations
            .fetch_add(dropped, Ordering::Relaxed);
        self.stats.appends.fetch_add(appended_to, Ordering::Relaxed);
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
        // Small writes of interactions alone (what API clients and CRMs
        // send) are added to the cached slices instead of dropping them.
        let appended =
            (narrow && bundle.assessments.is_empty() && bundle.interactions.len() <= APPEND_MAX)
                .then(|| bundle.interactions.clone());
        let result = self.store.import(bundle, sources, progress).await;
        match &result {
            // An interaction written again under its id may have moved to
            // other people: only new ones have a known set of accounts.
            Ok(summary) if narrow && summary.interactions.existing == 0 => {
                self.narrow_write(&touched, appended.as_deref())
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
        Ok(self.slice(account).await?.map(|(_, d)| d))
    }

    /// One account's slice and its generation.
    async fn slice(&self, account: &OrgId) -> Result<Option<(u64, Arc<AccountData>)>, StoreError> {
        // Checked before the caches, which all viewers share.
        if !crate::access::may_see(account) {
            return Ok(None);
        }
        self.poll_external();
        let version = {
            let mut c = self.caches();
            if let Some(d) = c.current_slice(account, self.ttl) {
                return Ok(Some(d));
            }
            c.version(account)
        };
        let cell = self.data_flights.join(account, version);
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
                let generation = self.put_data(account, version, data.clone());
                Ok::<_, StoreError>(Some((generation, data)))
            })
            .await
            .cloned();
        self.data_flights.land(account, &cell);
        result
    }

    /// Caches a slice loaded under `version` unless a write touched the
    /// account since; its generation either way.
    fn put_data(&self, account: &OrgId, version: SliceVersion, data: Arc<AccountData>) -> u64 {
        let people: FxHashSet<PersonId> = data.people.iter().map(|p| p.id.clone()).collect();
        let ours: FxHashSet<PersonId> = data.our_people.iter().map(|p| p.id.clone()).collect();
        let bytes = approx_data_bytes(&data);
        let mut c = self.caches();
        let generation = c.generation();
        let current = c.version(account) == version;
        if version.epoch == c.epoch {
            // Who belongs where does not change without a full invalidation.
            for p in &people {
                c.members.owner.insert(p.clone(), Some(account.clone()));
            }
            for p in &ours {
                c.members.owner.insert(p.clone(), None);
            }
            c.members.writes.entry(account.clone()).or_default();
        }
        if !current {
            return generation;
        }
        let entry = DataEntry {
            loaded: Instant::now(),
            generation,
            people,
            ours,
            bytes,
            data,
        };
        c.data_bytes += entry.bytes;
        if let Some(old) = c.data.put(account.clone(), entry) {
            c.data_bytes -= old.bytes;
        }
        while c.data_bytes > DATA_BUDGET_BYTES && c.data.len() > 1 {
            let (_, e) = c.data.pop_lru().expect("nonempty");
            c.data_bytes -= e.bytes;
        }
        generation
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
                    rt.spawn(async move {
                        engine.refresh(hot, wall).await;
                        // The minute's scorings held slices that writes then
                        // copied; the copies are freed now, between records
                        // that stay.
                        let _ = tokio::task::spawn_blocking(release_freed_memory).await;
                    });
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
        let Some((generation, data)) = self.slice(account).await? else {
            return Ok(None);
        };
        let cell = self.score_flights.join(&key, generation);
        let result = cell
            .get_or_try_init(|| async {
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
                self.put_scores(&key, generation, scores.clone());
                Ok::<_, StoreError>(Some(scores))
            })
            .await
            .cloned();
        self.score_flights.land(&key, &cell);
        result
    }

    fn cached_scores(&self, key: &ScoreKey) -> Option<Arc<AccountScores>> {
        let mut c = self.caches();
        let (generation, _) = c.current_slice(&key.0, self.ttl)?;
        let e = c.scores.get(key)?;
        (e.generation == generation).then(|| e.scores.clone())
    }

    /// Caches scores computed from the slice of `generation` while that
    /// slice is still the cached one.
    fn put_scores(&self, key: &ScoreKey, generation: u64, scores: Arc<AccountScores>) {
        let entry = ScoreEntry {
            bytes: approx_scores_bytes(&scores),
            generation,
            scores,
        };
        let mut c = self.caches();
        if c.data.peek(&key.0).map(|e| e.generation) != Some(generation) {
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

/// Hands freed heap pages back to the system. glibc keeps them in its
/// arenas while long-lived records sit between them, so a server whose
/// accounts grow under writes would otherwise hold every transient peak.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and releases the allocator's own free
    // memory; it takes the arenas' locks like any allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
