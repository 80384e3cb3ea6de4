//! Server-rendered pages (askama templates in `templates/`) for account
//! managers and coaches: accounts overview, stakeholder map, person, path
//! explorer, coverage and next approaches, plus the two forms that write.
//!
//! Every page works without JavaScript; `static/map.js` turns the map's
//! table into an interactive graph fed by `/accounts/{id}/map.json`.
//! Person ids never reach the reader: hops, connectors and explanations are
//! rendered here from the scores' structured fields with names.

mod account;
pub(crate) mod csrf;
mod layout;
mod patterns;
mod person;
mod service;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use renmai_graph::paths::{HopReason, WarmPath};
use renmai_graph::{AccountData, AccountScores, Attitude, BuyingRole, OrgId, PersonId, Timestamp};
use serde::Deserialize;

use super::error::Problem;
use super::{AppError, AppState};
use crate::engine::now_to_the_minute;
use crate::humanize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/coach", get(coach))
        .route("/leads", get(service::leads_page))
        .route("/accounts/{id}/patterns", get(patterns::patterns_page))
        .route("/support", get(service::support_page))
        .route("/accounts/{id}", get(account::map_page))
        .route("/accounts/{id}/map.json", get(account::map_json))
        .route("/accounts/{id}/paths", get(account::paths_page))
        .route("/accounts/{id}/coverage", get(account::coverage_page))
        .route("/people/{id}", get(person::person_page))
        .route("/people/{id}/interactions", post(person::log_interaction))
        .route("/people/{id}/assessments", post(person::record_assessment))
}

fn render(t: &impl Template) -> Result<Html<String>, AppError> {
    t.render()
        .map(Html)
        .map_err(|e| AppError::Internal(format!("template: {e}")))
}

/// A 403 in the same problem+json shape as every other error.
pub(crate) fn forbidden(detail: String) -> Response {
    let body = Problem {
        kind: "about:blank".into(),
        title: "Forbidden".into(),
        status: 403,
        detail,
        field: None,
    };
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "application/problem+json")],
        axum::Json(body),
    )
        .into_response()
}

/// Adds the CSRF cookie to a page response when the browser had none.
fn with_cookie(mut resp: Response, cookie: Option<String>) -> Response {
    if let Some(c) = cookie
        && let Ok(v) = HeaderValue::from_str(&c)
    {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Percent-encodes an id for use as one path segment or query value (ids
/// may hold any printable character, `/` and `?` included).
pub fn enc(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A link to a person, by name.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Link {
    pub href: String,
    pub name: String,
}

/// Names of everyone an account's scores mention (stakeholders and ours).
pub struct Names {
    map: HashMap<PersonId, String>,
}

impl Names {
    pub fn of(data: &AccountData) -> Names {
        let map = data
            .people
            .iter()
            .chain(&data.our_people)
            .map(|p| (p.id.clone(), p.name.clone()))
            .collect();
        Names { map }
    }

    pub fn name(&self, id: &PersonId) -> String {
        self.map
            .get(id)
            .cloned()
            .unwrap_or_else(|| "someone no longer on record".into())
    }

    pub fn link(&self, id: &PersonId) -> Link {
        Link {
            href: format!("/people/{}", enc(id.as_str())),
            name: self.name(id),
        }
    }
}

/// "trusted", with the Chinese name, as shown next to a closeness.
pub fn level_text(l: renmai_graph::ClosenessLevel) -> String {
    format!("{} {}", l.name(), l.name_zh())
}

pub fn role_label(r: Option<BuyingRole>) -> &'static str {
    r.map_or("—", |r| r.label())
}

pub fn attitude_label(a: Option<Attitude>) -> &'static str {
    a.map_or("unknown", |a| a.as_str())
}

pub fn ago(t: Option<Timestamp>, now: Timestamp) -> String {
    t.map_or_else(|| "never".into(), |t| humanize::ago(t, now))
}

pub fn date(t: Timestamp) -> String {
    t.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// One hop of a warm path, in words, with names.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HopView {
    pub from: Link,
    pub to: Link,
    pub strength: String,
    pub why: String,
}

/// A warm path with names, for the pages and the map's highlight.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PathView {
    pub strength: String,
    pub strength_value: f64,
    pub seller: Link,
    pub hops: Vec<HopView>,
    /// Person ids along the path (seller first), for the map highlight.
    pub ids: Vec<String>,
}

pub fn hop_reason(names: &Names, h: &renmai_graph::paths::Hop, now: Timestamp) -> String {
    let (f, t) = (names.name(&h.from), names.name(&h.to));
    match &h.reason {
        HopReason::Tie {
            closeness,
            level,
            interactions,
            last_contact,
            assessed,
        } => format!(
            "{f}'s tie to {t}: {} ({}), {interactions} interaction{}, last {}{}",
            level_text(*level),
            humanize::percent(*closeness),
            if *interactions == 1 { "" } else { "s" },
            ago(*last_contact, now),
            if *assessed { ", assessed by us" } else { "" }
        ),
        HopReason::ReportsTo { upward: true } => format!("{f} reports to {t}"),
        HopReason::ReportsTo { upward: false } => format!("{t} reports to {f}"),
        HopReason::Influence {
            kind,
            strength,
            from_has_sway,
        } => {
            let (a, b) = if *from_has_sway { (&f, &t) } else { (&t, &f) };
            format!(
                "{a} influences {b} ({}, strength {})",
                kind.as_str().replace('_', " "),
                humanize::percent(*strength)
            )
        }
        HopReason::Knows { level, at } => format!(
            "{f} and {t} know each other: {} (assessed {})",
            level_text(*level),
            humanize::ago(*at, now)
        ),
        HopReason::Shared {
            closeness,
            interactions,
            last_contact,
        } => format!(
            "{f} and {t} met in {interactions} shared interaction{} (last {}), strength {}",
            if *interactions == 1 { "" } else { "s" },
            last_contact
                .map(|t| humanize::ago(t, now))
                .unwrap_or_else(|| "never".into()),
            humanize::percent(*closeness)
        ),
    }
}

pub fn path_view(names: &Names, p: &WarmPath, now: Timestamp) -> PathView {
    let mut ids = vec![p.seller.to_string()];
    ids.extend(p.hops.iter().map(|h| h.to.to_string()));
    PathView {
        strength: humanize::percent(p.strength),
        strength_value: p.strength,
        seller: names.link(&p.seller),
        hops: p
            .hops
            .iter()
            .map(|h| HopView {
                from: names.link(&h.from),
                to: names.link(&h.to),
                strength: humanize::percent(h.strength),
                why: hop_reason(names, h, now),
            })
            .collect(),
        ids,
    }
}

/// An alert on the accounts overview.
#[derive(Clone)]
pub struct Alert {
    pub class: &'static str,
    pub text: String,
}

/// The alerts of an account: single-threading, a cold economic buyer and
/// influential opponents, each naming who.
pub fn alerts(data: &AccountData, s: &AccountScores) -> Vec<Alert> {
    let names = Names::of(data);
    let mut out = Vec::new();
    let cov = &s.coverage;
    if let Some(seller) = &cov.single_threaded_seller {
        out.push(Alert {
            class: "warn",
            text: format!(
                "Single-threaded: {} holds every strong tie",
                names.name(seller)
            ),
        });
    }
    if let Some(p) = &cov.single_stakeholder {
        out.push(Alert {
            class: "warn",
            text: format!("One strong stakeholder only: {}", names.name(p)),
        });
    }
    for (p, sc) in data.people.iter().zip(&s.stakeholders) {
        if p.role != Some(BuyingRole::EconomicBuyer) {
            continue;
        }
        let cold = cov.cold.iter().find(|c| c.person == p.id);
        if let Some(c) = cold {
            out.push(Alert {
                class: "bad",
                text: format!(
                    "Cold economic buyer: {} silent for {:.0} days",
                    p.name, c.days_silent
                ),
            });
        } else if sc.closeness.closeness < 0.3 {
            out.push(Alert {
                class: "bad",
                text: format!(
                    "Cold economic buyer: {} at {} ({})",
                    p.name,
                    humanize::percent(sc.closeness.closeness),
                    sc.closeness.level.name()
                ),
            });
        }
    }
    for d in &cov.detractors {
        if d.attitude == Attitude::Opponent {
            out.push(Alert {
                class: "bad",
                text: format!(
                    "Influential opponent: {} (influence {})",
                    names.name(&d.person),
                    humanize::percent(d.influence)
                ),
            });
        }
    }
    out
}

pub struct AccountRow {
    pub href: String,
    pub name: String,
    pub industry: String,
    pub people: u64,
    pub index: String,
    pub index_value: f64,
    pub coverage: String,
    pub coverage_value: f64,
    pub alerts: Vec<Alert>,
    pub spark: Spark,
    pub last: String,
    pub last_sort: i64,
}

/// A small inline SVG line of monthly values (0..1), oldest first.
pub struct Spark {
    pub points: String,
    pub label: String,
    pub last_x: f64,
    pub last_y: f64,
}

const SPARK_W: f64 = 80.0;
const SPARK_H: f64 = 20.0;

fn spark(values: &[f64]) -> Spark {
    let n = values.len().max(2) as f64 - 1.0;
    let xy = |i: usize, v: f64| {
        (
            (i as f64) * SPARK_W / n,
            SPARK_H - 2.0 - v.clamp(0.0, 1.0) * (SPARK_H - 4.0),
        )
    };
    let points = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (x, y) = xy(i, *v);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ");
    let (last_x, last_y) = values
        .last()
        .map(|v| xy(values.len() - 1, *v))
        .unwrap_or((0.0, SPARK_H));
    let label = format!(
        "Relationship index, monthly over the last 6 months: {}",
        values
            .iter()
            .map(|v| humanize::percent(*v))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Spark {
        points,
        label,
        last_x,
        last_y,
    }
}

/// Months of history in the overview's trend line.
const TREND_MONTHS: i64 = 6;

/// Past as-of times of the trend, at UTC midnight so that they share the
/// engine's score cache across requests of the same day.
fn trend_times(now: Timestamp) -> Vec<Timestamp> {
    let s = now.epoch_seconds();
    let midnight = s - s.rem_euclid(86_400);
    (1..=TREND_MONTHS)
        .rev()
        .map(|m| Timestamp::from_epoch_seconds(midnight - m * 30 * 86_400))
        .collect()
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    accounts: Vec<AccountRow>,
}

/// What the overview derives from one account's scores: alerts and trend.
#[derive(Clone)]
struct IndexCore {
    alerts: Vec<Alert>,
    trend: Vec<f64>,
}

static INDEX_CORES: LazyLock<ViewCache<IndexCore>> = LazyLock::new(ViewCache::default);

/// The past points of each account's trend line, with the slice and the
/// times they were computed for: they depend on neither the minute nor the
/// scores, so a new minute's scores do not recompute six months of ties.
type PastTrend = (Arc<AccountData>, Vec<Timestamp>, Arc<Vec<f64>>);
static INDEX_TRENDS: LazyLock<Mutex<HashMap<OrgId, PastTrend>>> = LazyLock::new(Default::default);

/// The relationship index as of past times. Influence does not depend on
/// the as-of time, so only the ties are re-scored (no paths, betweenness or
/// coverage): the trend costs a fraction of a full scoring per month.
fn trend_values(
    data: &AccountData,
    scores: &AccountScores,
    cfg: &renmai_graph::ScoringConfig,
    times: &[Timestamp],
) -> Vec<f64> {
    let influence: Vec<_> = scores
        .stakeholders
        .iter()
        .map(|s| s.influence.clone())
        .collect();
    times
        .iter()
        .map(|t| {
            let ties = renmai_graph::closeness::account_ties(data, cfg, *t);
            let ours = renmai_graph::closeness::our_closeness(data, &ties, cfg);
            renmai_graph::score::relationship_index(&ours, &influence)
        })
        .collect()
}

async fn index(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let engine = &state.engine;
    let now = now_to_the_minute();
    let times = trend_times(now);
    let mut accounts = Vec::new();
    for a in state.store().accounts().await? {
        let Some(scores) = engine.scores(&a.id, None).await? else {
            continue;
        };
        let core = match INDEX_CORES.get(&a.id, &scores) {
            Some(c) => c,
            None => {
                let Some(data) = engine.account_data(&a.id).await? else {
                    continue;
                };
                let cached = INDEX_TRENDS
                    .lock()
                    .expect("trends")
                    .get(&a.id)
                    .filter(|(d, t, _)| Arc::ptr_eq(d, &data) && *t == times)
                    .map(|(_, _, v)| v.clone());
                let past = match cached {
                    Some(v) => v,
                    None => {
                        let cfg = engine.config().clone();
                        let (d, s, t) = (data.clone(), scores.clone(), times.clone());
                        let v = tokio::task::spawn_blocking(move || trend_values(&d, &s, &cfg, &t))
                            .await
                            .map_err(|e| AppError::Internal(format!("trend: {e}")))?;
                        let v = Arc::new(v);
                        INDEX_TRENDS
                            .lock()
                            .expect("trends")
                            .insert(a.id.clone(), (data.clone(), times.clone(), v.clone()));
                        v
                    }
                };
                let mut trend = past.as_ref().clone();
                trend.push(scores.relationship_index);
                let core = Arc::new(IndexCore {
                    alerts: alerts(&data, &scores),
                    trend,
                });
                INDEX_CORES.put(&a.id, &scores, core.clone());
                core
            }
        };
        let groups = scores.coverage.groups.len();
        let covered = groups - scores.coverage.gaps.len().min(groups);
        accounts.push(AccountRow {
            href: format!("/accounts/{}", enc(a.id.as_str())),
            industry: a.industry.clone().unwrap_or_else(|| "—".into()),
            people: a.people,
            index: humanize::percent(scores.relationship_index),
            index_value: scores.relationship_index,
            coverage: format!("{covered}/{groups}"),
            coverage_value: scores.coverage.coverage,
            alerts: core.alerts.clone(),
            spark: spark(&core.trend),
            last: ago(a.last_interaction, now),
            last_sort: a.last_interaction.map_or(0, |t| t.epoch_seconds()),
            name: a.name,
        });
    }
    render(&IndexPage { accounts })
}

/// Per-account view data derived from scores, kept while the engine hands
/// out the same scores (an `Arc` held here cannot be freed and reused, so
/// pointer equality means "the same scores"). A write or a new minute gives
/// new scores and the entry is rebuilt. Bounded by the number of accounts.
pub struct ViewCache<T> {
    map: Mutex<HashMap<OrgId, CachedView<T>>>,
}

/// The scores a view was derived from, and the view.
type CachedView<T> = (Arc<AccountScores>, Arc<T>);

impl<T> Default for ViewCache<T> {
    fn default() -> Self {
        ViewCache {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> ViewCache<T> {
    pub fn get(&self, org: &OrgId, scores: &Arc<AccountScores>) -> Option<Arc<T>> {
        let map = self.map.lock().expect("view cache");
        map.get(org)
            .filter(|(s, _)| Arc::ptr_eq(s, scores))
            .map(|(_, v)| v.clone())
    }

    pub fn put(&self, org: &OrgId, scores: &Arc<AccountScores>, v: Arc<T>) {
        self.map
            .lock()
            .expect("view cache")
            .insert(org.clone(), (scores.clone(), v));
    }
}

#[derive(Deserialize)]
pub struct CoachQuery {
    /// One of our people: suggestions they would make or broker.
    pub seller: Option<String>,
    /// A department of our company ("team"): suggestions for its people.
    pub team: Option<String>,
    /// Only accounts of this region.
    pub region: Option<String>,
    /// Only accounts of this tier.
    pub tier: Option<String>,
}

#[derive(Clone)]
pub struct CoachRow {
    pub person: Link,
    pub title: String,
    pub account: Link,
    pub role: &'static str,
    pub score: String,
    pub score_value: f64,
    pub closeness: String,
    pub influence: String,
    pub introducer: Option<Link>,
    pub connector: Option<Link>,
    pub path: Option<PathView>,
    pub why: String,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "coach.html")]
struct CoachPage {
    rows: Vec<CoachRow>,
    sellers: Vec<Choice>,
    teams: Vec<Choice>,
    regions: Vec<Choice>,
    tiers: Vec<Choice>,
    filtered: bool,
    total: usize,
}

/// Suggestions shown on the coach page at most.
const COACH_LIMIT: usize = 100;

/// One account's suggestions, with what the filters look at.
struct CoachCore {
    /// (row, people involved: introducer and connector, introducer's department)
    rows: Vec<(CoachRow, Vec<String>, Option<String>)>,
    /// Our people on the account: (id, name, department).
    ours: Vec<(String, String, Option<String>)>,
}

static COACH_CORES: LazyLock<ViewCache<CoachCore>> = LazyLock::new(ViewCache::default);

fn coach_core(
    data: &AccountData,
    scores: &AccountScores,
    account: &Link,
    target: f64,
    now: Timestamp,
) -> CoachCore {
    let names = Names::of(data);
    let dept: HashMap<&PersonId, Option<&str>> = data
        .our_people
        .iter()
        .map(|p| (&p.id, p.department.as_deref()))
        .collect();
    let people: HashMap<&PersonId, &renmai_graph::Person> =
        data.people.iter().map(|p| (&p.id, p)).collect();
    let mut rows = Vec::new();
    for n in &scores.next_approaches {
        let Some(p) = people.get(&n.person) else {
            continue;
        };
        let involved = [n.introducer.as_ref(), n.connector.as_ref()]
            .into_iter()
            .flatten()
            .map(|p| p.to_string())
            .collect();
        let team = n
            .introducer
            .as_ref()
            .and_then(|p| dept.get(p).copied().flatten())
            .map(str::to_owned);
        let why = format!(
            "{} ({}, {}) carries {} of the account's influence; we are at {} against a target of {}{}.",
            p.name,
            p.role.map_or("no buying role identified", |r| r.label()),
            p.level.label(),
            humanize::percent(n.influence),
            humanize::percent(n.closeness),
            humanize::percent(target),
            match &n.path {
                Some(w) if w.hops.len() > 1 => format!(
                    "; {} can get there in {} hops (path strength {}), introduced by {}",
                    names.name(&w.seller),
                    w.hops.len(),
                    humanize::percent(w.strength),
                    names.name(w.connector())
                ),
                Some(w) => format!(
                    "; {} has the direct tie (strength {})",
                    names.name(&w.seller),
                    humanize::percent(w.strength)
                ),
                None => String::new(),
            }
        );
        let row = CoachRow {
            person: names.link(&p.id),
            title: p.title.clone().unwrap_or_default(),
            account: account.clone(),
            role: role_label(p.role),
            score: format!("{:.3}", n.score),
            score_value: n.score,
            closeness: humanize::percent(n.closeness),
            influence: humanize::percent(n.influence),
            introducer: n.introducer.as_ref().map(|i| names.link(i)),
            connector: n
                .connector
                .as_ref()
                .filter(|c| Some(*c) != n.introducer.as_ref())
                .map(|c| names.link(c)),
            path: n.path.as_ref().map(|w| path_view(&names, w, now)),
            why,
        };
        rows.push((row, involved, team));
    }
    CoachCore {
        rows,
        ours: data
            .our_people
            .iter()
            .map(|p| (p.id.to_string(), p.name.clone(), p.department.clone()))
            .collect(),
    }
}

async fn coach(
    State(state): State<AppState>,
    Query(q): Query<CoachQuery>,
) -> Result<Html<String>, AppError> {
    let engine = &state.engine;
    let now = now_to_the_minute();
    let seller = q.seller.filter(|s| !s.is_empty());
    let team = q.team.filter(|s| !s.is_empty());
    let region = q.region.filter(|s| !s.is_empty());
    let tier = q.tier.filter(|s| !s.is_empty());
    let mut cores = Vec::new();
    // Our people and their departments, over every account we cover.
    let mut ours: HashMap<String, (String, Option<String>)> = HashMap::new();
    let accounts = state.store().accounts().await?;
    let choices = |values: Vec<&Option<String>>, picked: &Option<String>| -> Vec<Choice> {
        let mut v: Vec<String> = values.into_iter().flatten().cloned().collect();
        v.sort();
        v.dedup();
        v.into_iter()
            .map(|x| Choice {
                selected: picked.as_deref() == Some(x.as_str()),
                label: x.clone(),
                value: x,
            })
            .collect()
    };
    let regions = choices(accounts.iter().map(|a| &a.region).collect(), &region);
    let tiers = choices(accounts.iter().map(|a| &a.tier).collect(), &tier);
    for a in accounts {
        if region.is_some() && a.region != region || tier.is_some() && a.tier != tier {
            continue;
        }
        let Some(scores) = engine.scores(&a.id, None).await? else {
            continue;
        };
        let core = match COACH_CORES.get(&a.id, &scores) {
            Some(c) => c,
            None => {
                let Some(data) = engine.account_data(&a.id).await? else {
                    continue;
                };
                let account = Link {
                    href: format!("/accounts/{}", enc(a.id.as_str())),
                    name: a.name.clone(),
                };
                let core = Arc::new(coach_core(
                    &data,
                    &scores,
                    &account,
                    engine.config().target_closeness,
                    now,
                ));
                COACH_CORES.put(&a.id, &scores, core.clone());
                core
            }
        };
        for (id, name, dept) in &core.ours {
            ours.entry(id.clone())
                .or_insert_with(|| (name.clone(), dept.clone()));
        }
        cores.push(core);
    }
    // Filter and rank by reference; only the rows shown are copied.
    let mut rows: Vec<&CoachRow> = Vec::new();
    for core in &cores {
        for (row, involved, row_team) in &core.rows {
            if let Some(s) = &seller
                && !involved.iter().any(|p| p == s)
            {
                continue;
            }
            if let Some(t) = &team
                && !row_team
                    .as_deref()
                    .is_some_and(|d| d.eq_ignore_ascii_case(t))
            {
                continue;
            }
            rows.push(row);
        }
    }
    rows.sort_by(|a, b| b.score_value.total_cmp(&a.score_value));
    let total = rows.len();
    rows.truncate(COACH_LIMIT);
    let rows: Vec<CoachRow> = rows.into_iter().cloned().collect();
    let mut sellers: Vec<Choice> = ours
        .iter()
        .map(|(id, (name, _))| Choice {
            selected: seller.as_deref() == Some(id.as_str()),
            value: id.clone(),
            label: name.clone(),
        })
        .collect();
    sellers.sort_by(|a, b| a.label.cmp(&b.label));
    let mut teams: Vec<String> = ours.values().filter_map(|(_, d)| d.clone()).collect();
    teams.sort();
    teams.dedup();
    let teams = teams
        .into_iter()
        .map(|t| Choice {
            selected: team.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(&t)),
            label: t.clone(),
            value: t,
        })
        .collect();
    render(&CoachPage {
        rows,
        sellers,
        teams,
        regions,
        tiers,
        filtered: seller.is_some() || team.is_some() || region.is_some() || tier.is_some(),
        total,
    })
}

/// The CSRF nonce of a page's forms and the cookie to set, if new.
pub(crate) fn form_token(headers: &HeaderMap) -> (String, Option<String>) {
    let (nonce, cookie) = csrf::ensure_nonce(headers);
    (csrf::token_for(&nonce), cookie)
}
