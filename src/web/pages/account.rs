//! The account pages: stakeholder map (and its JSON), path explorer, coverage.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use renmai_graph::closeness::Tie;
use renmai_graph::coverage::GroupKey;
use renmai_graph::paths::WarmPath;
use renmai_graph::{
    AccountData, AccountScores, BuyingRole, ClosenessLevel, Level, OrgId, PersonId, Timestamp,
};
use serde::{Deserialize, Serialize};

use super::{
    Choice, Link, Names, PathView, ago, attitude_label, enc, level_text, path_view, render,
    role_label,
};
use crate::engine::now_to_the_minute;
use crate::humanize;
use crate::web::{AppError, AppState};

/// The account's slice and scores, or a 404 naming the id.
pub(super) async fn load(
    state: &AppState,
    id: &str,
) -> Result<(Arc<AccountData>, Arc<AccountScores>), AppError> {
    let org = OrgId::parse(id).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let missing = || AppError::NotFound(format!("no account with id {id:?}"));
    let data = state.engine.account_data(&org).await?.ok_or_else(missing)?;
    let scores = state.engine.scores(&org, None).await?.ok_or_else(missing)?;
    Ok((data, scores))
}

/// Our strongest tie to each stakeholder, by (ours, theirs).
pub(super) fn tie_index(s: &AccountScores) -> HashMap<(&PersonId, &PersonId), &Tie> {
    s.ties.iter().map(|t| ((&t.ours, &t.theirs), t)).collect()
}

/// Why our closeness to a stakeholder is what it is, in one sentence.
pub(super) fn closeness_why(names: &Names, tie: Option<&Tie>, now: Timestamp) -> String {
    let Some(t) = tie else {
        return "No tie from our team yet: no shared interactions and no assessment.".into();
    };
    let e = &t.explanation;
    let kinds = e
        .by_kind
        .iter()
        .map(|k| {
            format!(
                "{} {}{}",
                k.count,
                k.kind.as_str().replace('_', " "),
                if k.count == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut s = format!(
        "{} is at {} ({}): {} interaction{}{} (evidence {}), last {}",
        names.name(&t.ours),
        humanize::percent(t.closeness),
        level_text(t.level),
        e.interactions,
        if e.interactions == 1 { "" } else { "s" },
        if kinds.is_empty() {
            String::new()
        } else {
            format!(": {kinds}")
        },
        humanize::percent(e.evidence),
        ago(e.last_contact, now),
    );
    if let Some(a) = &e.assessment {
        s.push_str(&format!(
            "; assessed {} {}{} (trust {})",
            level_text(a.level),
            humanize::ago(a.at, now),
            a.by.as_ref()
                .map(|b| format!(" by {}", names.name(b)))
                .unwrap_or_default(),
            humanize::percent(a.trust)
        ));
    }
    s.push('.');
    s
}

/// One stakeholder row of the map's table (and the no-JS view).
pub struct StakeholderRow {
    pub link: Link,
    pub title: String,
    pub department: String,
    pub level: &'static str,
    pub level_sort: u8,
    pub role: &'static str,
    pub attitude: &'static str,
    pub closeness: String,
    pub closeness_value: f64,
    pub clevel: u8,
    pub clevel_name: String,
    pub connector: Option<Link>,
    pub influence: String,
    pub influence_value: f64,
    pub broker: bool,
}

fn stakeholder_rows(data: &AccountData, s: &AccountScores) -> Vec<StakeholderRow> {
    let names = Names::of(data);
    let mut rows: Vec<StakeholderRow> = data
        .people
        .iter()
        .zip(&s.stakeholders)
        .map(|(p, sc)| StakeholderRow {
            link: names.link(&p.id),
            title: p.title.clone().unwrap_or_default(),
            department: p.department.clone().unwrap_or_default(),
            level: p.level.label(),
            level_sort: p.level.get(),
            role: role_label(p.role),
            attitude: attitude_label(p.attitude),
            closeness: humanize::percent(sc.closeness.closeness),
            closeness_value: sc.closeness.closeness,
            clevel: sc.closeness.level.get(),
            clevel_name: level_text(sc.closeness.level),
            connector: sc.closeness.best_connector.as_ref().map(|c| names.link(c)),
            influence: humanize::percent(sc.influence.influence),
            influence_value: sc.influence.influence,
            broker: sc.influence.broker,
        })
        .collect();
    rows.sort_by(|a, b| b.influence_value.total_cmp(&a.influence_value));
    rows
}

#[derive(Template)]
#[template(path = "map.html")]
struct MapPage {
    name: String,
    href: String,
    index: String,
    coverage: String,
    rows: Vec<StakeholderRow>,
    total: usize,
    alerts: Vec<super::Alert>,
    /// Drawn by `static/bigmap.js` rather than Cytoscape (see [`canvas_map`]).
    canvas: bool,
}

/// Maps of more people than this (ours included) are drawn on a plain
/// canvas at the server's positions: Cytoscape.js with a dagre layout takes
/// seconds above it in a browser, so its scripts are not sent at all. The
/// same threshold as `DAGRE_MAX` in `static/map.js`, which also falls back
/// to the canvas whenever Cytoscape is missing.
const CANVAS_ABOVE: usize = 300;

fn canvas_map(data: &AccountData) -> bool {
    data.people.len() + data.our_people.len() > CANVAS_ABOVE
}

#[derive(Deserialize)]
pub struct MapQuery {
    /// Any value lists every stakeholder in the table.
    pub all: Option<String>,
}

/// Stakeholders listed in the map page's table unless `?all` asks for all:
/// the most influential first; a 2,000-person table costs the browser more
/// than the whole graph.
const TABLE_ROWS: usize = 200;

pub(super) async fn map_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<MapQuery>,
) -> Result<Html<String>, AppError> {
    let (data, scores) = load(&state, &id).await?;
    let all = q.all.is_some();
    if !all && let Some(html) = MAP_HTML.get(&data.account.id, &scores) {
        return Ok(Html(html.as_str().to_owned()));
    }
    let mut rows = stakeholder_rows(&data, &scores);
    let total = rows.len();
    if !all {
        rows.truncate(TABLE_ROWS);
    }
    let groups = scores.coverage.groups.len();
    let page = render(&MapPage {
        href: format!("/accounts/{}", enc(&id)),
        name: data.account.name.clone(),
        index: humanize::percent(scores.relationship_index),
        coverage: format!(
            "{}/{} groups",
            groups - scores.coverage.gaps.len().min(groups),
            groups
        ),
        rows,
        total,
        alerts: super::alerts(&data, &scores),
        canvas: canvas_map(&data),
    })?;
    if !all {
        MAP_HTML.put(&data.account.id, &scores, Arc::new(page.0.clone()));
    }
    Ok(page)
}

/// A node of the map: a stakeholder or one of our people.
#[derive(Serialize)]
pub struct MapNode {
    pub id: String,
    pub name: String,
    pub ours: bool,
    pub title: String,
    pub department: String,
    pub level: &'static str,
    pub role: Option<BuyingRole>,
    pub role_label: &'static str,
    pub attitude: &'static str,
    pub closeness: f64,
    pub closeness_text: String,
    pub clevel: u8,
    pub clevel_name: String,
    pub influence: f64,
    pub influence_text: String,
    pub broker: bool,
    pub connector: Option<Link>,
    pub why: String,
    pub lift: Option<String>,
    pub last_contact: String,
    pub href: String,
    pub paths_href: String,
    /// The org-chart position from [`chart_positions`], drawn as it is on
    /// accounts too large for a layout in the browser.
    pub x: f64,
    pub y: f64,
}

#[derive(Serialize)]
pub struct MapEdge {
    pub source: String,
    pub target: String,
    /// `reports` (manager → report), `influence` (influencer → influenced)
    /// or `tie` (our person → stakeholder, familiar or closer).
    pub kind: &'static str,
    pub strength: f64,
}

#[derive(Serialize)]
pub struct MapJson {
    pub account: Link,
    pub as_of: String,
    pub nodes: Vec<MapNode>,
    pub edges: Vec<MapEdge>,
}

/// Positions of the account's people on the map: the org chart of
/// [`super::layout`] over reports-to, reports in name order, one level below
/// the row of our people (at `y = 0`).
fn chart_positions(data: &AccountData) -> Vec<(f64, f64)> {
    let mut by_name: Vec<usize> = (0..data.people.len()).collect();
    by_name.sort_by(|a, b| {
        let (pa, pb) = (&data.people[*a], &data.people[*b]);
        pa.name.cmp(&pb.name).then_with(|| pa.id.cmp(&pb.id))
    });
    let mut rank = vec![0; by_name.len()];
    for (r, &i) in by_name.iter().enumerate() {
        rank[i] = r;
    }
    let index: HashMap<&PersonId, usize> = data
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.id, i))
        .collect();
    let managers: Vec<Option<usize>> = by_name
        .iter()
        .map(|&i| {
            let m = data.people[i].reports_to.as_ref()?;
            index.get(m).map(|&m| rank[m])
        })
        .collect();
    let placed = super::layout::org_chart(&managers);
    (0..data.people.len())
        .map(|i| {
            let (x, y) = placed[rank[i]];
            (x, y + super::layout::LEVEL)
        })
        .collect()
}

/// Serialized map data, kept while the account's scores stay the same.
static MAP_JSON: LazyLock<super::ViewCache<Vec<u8>>> = LazyLock::new(Default::default);
/// Rendered map pages, likewise (they derive from the same scores alone).
static MAP_HTML: LazyLock<super::ViewCache<String>> = LazyLock::new(Default::default);

pub(super) async fn map_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (data, scores) = load(&state, &id).await?;
    let body = match MAP_JSON.get(&data.account.id, &scores) {
        Some(b) => b,
        None => {
            let map = build_map(&data, &scores, scores.as_of);
            let b = Arc::new(
                serde_json::to_vec(&map).map_err(|e| AppError::Internal(format!("map: {e}")))?,
            );
            MAP_JSON.put(&data.account.id, &scores, b.clone());
            b
        }
    };
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Bytes::from_owner(ArcBytes(body)),
    )
        .into_response())
}

/// Lets a cached body be sent without copying it.
struct ArcBytes(Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_slice()
    }
}

fn build_map(data: &AccountData, s: &AccountScores, now: Timestamp) -> MapJson {
    let names = Names::of(data);
    let ties = tie_index(s);
    let pos = chart_positions(data);
    let mut nodes = Vec::with_capacity(data.people.len() + data.our_people.len());
    let paths_base = format!("/accounts/{}/paths?to=", enc(data.account.id.as_str()));
    for ((p, sc), (x, y)) in data.people.iter().zip(&s.stakeholders).zip(&pos) {
        let best = sc
            .closeness
            .best_connector
            .as_ref()
            .and_then(|c| ties.get(&(c, &p.id)).copied());
        nodes.push(MapNode {
            id: p.id.to_string(),
            name: p.name.clone(),
            ours: false,
            title: p.title.clone().unwrap_or_default(),
            department: p.department.clone().unwrap_or_default(),
            level: p.level.label(),
            role: p.role,
            role_label: role_label(p.role),
            attitude: attitude_label(p.attitude),
            closeness: sc.closeness.closeness,
            closeness_text: humanize::percent(sc.closeness.closeness),
            clevel: sc.closeness.level.get(),
            clevel_name: level_text(sc.closeness.level),
            influence: sc.influence.influence,
            influence_text: humanize::percent(sc.influence.influence),
            broker: sc.influence.broker,
            connector: sc.closeness.best_connector.as_ref().map(|c| names.link(c)),
            why: closeness_why(&names, best, now),
            lift: best.and_then(|t| t.explanation.lift.as_ref().map(|l| l.text.clone())),
            last_contact: ago(sc.closeness.last_contact, now),
            href: format!("/people/{}", enc(p.id.as_str())),
            paths_href: format!("{paths_base}{}", enc(p.id.as_str())),
            x: *x,
            y: *y,
        });
    }
    let width = pos.iter().map(|p| p.0).fold(0.0, f64::max);
    let k = data.our_people.len().max(1) as f64;
    for (i, p) in data.our_people.iter().enumerate() {
        nodes.push(MapNode {
            id: p.id.to_string(),
            name: p.name.clone(),
            ours: true,
            title: p.title.clone().unwrap_or_default(),
            department: p.department.clone().unwrap_or_default(),
            level: p.level.label(),
            role: None,
            role_label: "our team",
            attitude: "ours",
            closeness: 1.0,
            closeness_text: String::new(),
            clevel: 4,
            clevel_name: "our team".into(),
            influence: 0.3,
            influence_text: String::new(),
            broker: false,
            connector: None,
            why: {
                let n = s
                    .ties
                    .iter()
                    .filter(|t| t.ours == p.id && t.level >= ClosenessLevel::FAMILIAR)
                    .count();
                format!(
                    "{n} tie{} at familiar or closer at this account.",
                    if n == 1 { "" } else { "s" }
                )
            },
            lift: None,
            last_contact: String::new(),
            href: format!("/people/{}", enc(p.id.as_str())),
            paths_href: String::new(),
            x: (i as f64 + 0.5) * width.max(super::layout::SLOT * k) / k,
            y: 0.0,
        });
    }
    let mut edges = Vec::new();
    let theirs: std::collections::HashSet<&PersonId> = data.people.iter().map(|p| &p.id).collect();
    for p in &data.people {
        if let Some(m) = &p.reports_to
            && m != &p.id
            && theirs.contains(m)
        {
            edges.push(MapEdge {
                source: m.to_string(),
                target: p.id.to_string(),
                kind: "reports",
                strength: 1.0,
            });
        }
    }
    for i in &data.influences {
        edges.push(MapEdge {
            source: i.from.to_string(),
            target: i.to.to_string(),
            kind: "influence",
            strength: i.strength.get(),
        });
    }
    for t in &s.ties {
        if t.level >= ClosenessLevel::FAMILIAR {
            edges.push(MapEdge {
                source: t.ours.to_string(),
                target: t.theirs.to_string(),
                kind: "tie",
                strength: t.closeness,
            });
        }
    }
    MapJson {
        account: Link {
            href: format!("/accounts/{}", enc(data.account.id.as_str())),
            name: data.account.name.clone(),
        },
        as_of: s.as_of.to_rfc3339(),
        nodes,
        edges,
    }
}

type PathKey = (OrgId, PersonId, usize);
type CachedPaths = (Arc<AccountScores>, Arc<Vec<WarmPath>>);

/// The k best warm paths, kept while the account's scores stay the same
/// (see [`super::ViewCache`]); bounded, emptied when full.
static PATHS: LazyLock<Mutex<HashMap<PathKey, CachedPaths>>> = LazyLock::new(Default::default);
const PATHS_CAPACITY: usize = 4096;

pub(super) async fn cached_paths(
    state: &AppState,
    scores: &Arc<AccountScores>,
    target: &PersonId,
    k: usize,
) -> Result<Arc<Vec<WarmPath>>, AppError> {
    let key = (scores.account.clone(), target.clone(), k);
    if let Some((s, p)) = PATHS.lock().expect("paths cache").get(&key)
        && Arc::ptr_eq(s, scores)
    {
        return Ok(p.clone());
    }
    let paths = Arc::new(
        state
            .engine
            .warm_paths(&scores.account, target, k, Some(scores.as_of))
            .await?
            .unwrap_or_default(),
    );
    let mut cache = PATHS.lock().expect("paths cache");
    if cache.len() >= PATHS_CAPACITY {
        cache.clear();
    }
    cache.insert(key, (scores.clone(), paths.clone()));
    Ok(paths)
}

#[derive(Deserialize)]
pub struct PathsQuery {
    pub to: Option<String>,
    pub k: Option<String>,
}

/// Most paths the explorer lists.
const MAX_K: usize = 10;

#[derive(Template)]
#[template(path = "paths.html")]
struct PathsPage {
    name: String,
    href: String,
    people: Vec<Choice>,
    k: usize,
    target: Option<Link>,
    target_title: String,
    paths: Vec<PathView>,
    highlight: String,
    canvas: bool,
}

pub(super) async fn paths_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PathsQuery>,
) -> Result<Html<String>, AppError> {
    let (data, scores) = load(&state, &id).await?;
    let k = match q.k.as_deref().map(str::trim) {
        None | Some("") => 3,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|k| (1..=MAX_K).contains(k))
            .ok_or_else(|| AppError::Unprocessable {
                detail: format!("k must be a whole number from 1 to {MAX_K}, got {s:?}"),
                field: Some("k".into()),
            })?,
    };
    let to = q.to.filter(|t| !t.is_empty());
    let names = Names::of(&data);
    let now = now_to_the_minute();
    let mut target = None;
    let mut target_title = String::new();
    let mut paths = Vec::new();
    if let Some(t) = &to {
        let p = data
            .people
            .iter()
            .find(|p| p.id.as_str() == t)
            .ok_or_else(|| {
                AppError::NotFound(format!(
                    "no stakeholder with id {t:?} at {}",
                    data.account.name
                ))
            })?;
        target = Some(names.link(&p.id));
        target_title = p.title.clone().unwrap_or_default();
        paths = cached_paths(&state, &scores, &p.id, k)
            .await?
            .iter()
            .map(|w| path_view(&names, w, now))
            .collect();
    }
    let mut people: Vec<Choice> = data
        .people
        .iter()
        .map(|p| Choice {
            selected: to.as_deref() == Some(p.id.as_str()),
            value: p.id.to_string(),
            label: match &p.title {
                Some(t) => format!("{} — {t}", p.name),
                None => p.name.clone(),
            },
        })
        .collect();
    people.sort_by(|a, b| a.label.cmp(&b.label));
    let highlight = serde_json::to_string(&paths.first().map(|p| &p.ids)).unwrap_or_default();
    render(&PathsPage {
        href: format!("/accounts/{}", enc(&id)),
        name: data.account.name.clone(),
        people,
        k,
        target,
        target_title,
        paths,
        highlight,
        canvas: canvas_map(&data),
    })
}

/// One cell of a heat matrix: members and strongly covered members.
pub struct Cell {
    pub members: u32,
    pub strong: u32,
    pub class: &'static str,
    pub title: String,
}

pub struct MatrixRow {
    pub label: String,
    pub cells: Vec<Cell>,
}

/// Heat classes: no people (empty), none covered (gap), some, most, all.
fn heat(members: u32, strong: u32) -> &'static str {
    if members == 0 {
        "h-empty"
    } else if strong == 0 {
        "h-gap"
    } else if strong * 2 < members {
        "h-some"
    } else if strong < members {
        "h-most"
    } else {
        "h-all"
    }
}

fn matrix<K: Ord + Clone>(
    data: &AccountData,
    s: &AccountScores,
    threshold: f64,
    key: impl Fn(&renmai_graph::Person) -> K,
    label: impl Fn(&K) -> String,
) -> Vec<MatrixRow> {
    let mut m: std::collections::BTreeMap<K, [(u32, u32); 6]> = Default::default();
    for (p, sc) in data.people.iter().zip(&s.stakeholders) {
        let row = m.entry(key(p)).or_insert([(0, 0); 6]);
        let c = &mut row[(p.level.get() - 1) as usize];
        c.0 += 1;
        if sc.closeness.closeness >= threshold {
            c.1 += 1;
        }
    }
    m.into_iter()
        .map(|(k, cells)| MatrixRow {
            label: label(&k),
            cells: cells
                .iter()
                .enumerate()
                .map(|(i, (n, st))| Cell {
                    members: *n,
                    strong: *st,
                    class: heat(*n, *st),
                    title: format!(
                        "{}, {}: {st} of {n} at familiar or closer",
                        label(&k),
                        Level::new(i as u8 + 1).map_or("?", |l| l.label())
                    ),
                })
                .collect(),
        })
        .collect()
}

pub struct Spof {
    pub text: String,
    /// Who would leave: their link and their id, encoded for a query.
    pub leaves: Option<(Link, String)>,
}

pub struct WhatIfView {
    pub who: String,
    pub before: String,
    pub after: String,
    pub unreachable: Vec<Link>,
    pub weakened: Vec<(Link, String, String)>,
    pub gaps: Vec<String>,
    pub ties_lost: usize,
}

pub struct GroupRow {
    pub label: String,
    pub members: u32,
    pub strong: u32,
    pub gap: bool,
    pub closest: Option<(Link, String)>,
}

#[derive(Template)]
#[template(path = "coverage.html")]
struct CoveragePage {
    name: String,
    href: String,
    coverage: String,
    threshold: String,
    levels: Vec<&'static str>,
    roles: Vec<MatrixRow>,
    departments: Vec<MatrixRow>,
    groups: Vec<GroupRow>,
    roles_missing: Vec<&'static str>,
    spofs: Vec<Spof>,
    what_if: Option<WhatIfView>,
    cold: Vec<(Link, String, String, String)>,
    detractors: Vec<(Link, &'static str, String, String)>,
}

#[derive(Deserialize)]
pub struct CoverageQuery {
    /// Someone (ours or theirs) whose departure to simulate.
    pub leaves: Option<String>,
}

pub fn group_label(g: &GroupKey) -> String {
    match g {
        GroupKey::Role(r) => format!("Role: {}", r.label()),
        GroupKey::Department(d) => format!("Department: {d}"),
        GroupKey::Level(l) => format!("Level: {}", l.label()),
    }
}

pub(super) async fn coverage_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<CoverageQuery>,
) -> Result<Html<String>, AppError> {
    let (data, s) = load(&state, &id).await?;
    let names = Names::of(&data);
    let now = now_to_the_minute();
    let cov = &s.coverage;
    let th = cov.threshold;
    let roles = matrix(
        &data,
        &s,
        th,
        |p| {
            p.role.map_or(99, |r| {
                BuyingRole::ALL.iter().position(|x| *x == r).unwrap_or(98)
            })
        },
        |i| {
            BuyingRole::ALL
                .get(*i)
                .map_or("No buying role".to_owned(), |r| r.label().to_owned())
        },
    );
    let departments = matrix(
        &data,
        &s,
        th,
        |p| p.department.clone().unwrap_or_default(),
        |d| {
            if d.is_empty() {
                "No department".to_owned()
            } else {
                d.clone()
            }
        },
    );
    let title = |p: &PersonId| {
        data.people
            .iter()
            .find(|x| &x.id == p)
            .and_then(|x| x.title.clone())
            .map(|t| format!(", {t}"))
            .unwrap_or_default()
    };
    let mut spofs = Vec::new();
    if let Some(seller) = &cov.single_threaded_seller {
        spofs.push(Spof {
            text: format!(
                "{} holds every strong tie at this account: if they leave, we lose all of them.",
                names.name(seller)
            ),
            leaves: Some((names.link(seller), enc(seller.as_str()))),
        });
    }
    for d in &cov.dependencies {
        let eb = names.name(&d.economic_buyer);
        if !d.reachable {
            spofs.push(Spof {
                text: format!(
                    "No warm path to {eb}{} (economic buyer) at all.",
                    title(&d.economic_buyer)
                ),
                leaves: None,
            });
            continue;
        }
        for c in &d.cut_people {
            spofs.push(Spof {
                text: format!(
                    "If {} leaves we lose our only path to {eb}{} (economic buyer).",
                    names.name(c),
                    title(&d.economic_buyer)
                ),
                leaves: Some((names.link(c), enc(c.as_str()))),
            });
        }
    }
    let what_if = match q.leaves.filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => {
            let who = PersonId::parse(&l).map_err(|e| AppError::BadRequest(e.to_string()))?;
            if !data
                .people
                .iter()
                .chain(&data.our_people)
                .any(|p| p.id == who)
            {
                return Err(AppError::NotFound(format!(
                    "no one with id {l:?} at {}",
                    data.account.name
                )));
            }
            let w = state
                .engine
                .what_if_leaves(&data.account.id, &who, None)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no account with id {id:?}")))?;
            Some(WhatIfView {
                who: names.name(&who),
                before: humanize::percent(w.index_before),
                after: humanize::percent(w.index_after),
                unreachable: w.unreachable.iter().map(|p| names.link(p)).collect(),
                weakened: w
                    .weakened
                    .iter()
                    .map(|w| {
                        (
                            names.link(&w.person),
                            humanize::percent(w.before),
                            humanize::percent(w.after),
                        )
                    })
                    .collect(),
                gaps: w.gaps_opened.iter().map(group_label).collect(),
                ties_lost: w.ties_lost,
            })
        }
    };
    let groups = cov
        .groups
        .iter()
        .map(|g| GroupRow {
            label: group_label(&g.group),
            members: g.members,
            strong: g.strong_members,
            gap: g.gap,
            closest: g
                .closest
                .as_ref()
                .map(|(p, c)| (names.link(p), humanize::percent(*c))),
        })
        .collect();
    render(&CoveragePage {
        href: format!("/accounts/{}", enc(&id)),
        name: data.account.name.clone(),
        coverage: humanize::percent(cov.coverage),
        threshold: humanize::percent(th),
        levels: (1..=6)
            .map(|l| Level::new(l).map_or("?", |l| l.label()))
            .collect(),
        roles,
        departments,
        groups,
        roles_missing: cov.roles_missing.iter().map(|r| r.label()).collect(),
        spofs,
        what_if,
        cold: cov
            .cold
            .iter()
            .map(|c| {
                (
                    names.link(&c.person),
                    humanize::percent(c.influence),
                    humanize::ago(c.last_contact, now),
                    format!("{:.0}", c.days_silent),
                )
            })
            .collect(),
        detractors: cov
            .detractors
            .iter()
            .map(|d| {
                (
                    names.link(&d.person),
                    d.attitude.as_str(),
                    humanize::percent(d.influence),
                    humanize::percent(d.closeness),
                )
            })
            .collect(),
    })
}
