//! Account plans as documents: Markdown, JSON and a printable HTML page (A4)
//! with the stakeholder map drawn as static SVG on the server.

use std::collections::HashMap;
use std::fmt::Write as _;

use askama::Template;
use renmai_graph::coverage::GroupKey;
use renmai_graph::plan::{AccountPlan, ActionStatus, PlanDiff, RolledUp, diff_plans};
use renmai_graph::{AccountData, PersonId};
use serde::Serialize;

use crate::humanize::percent;

/// Names of everyone in an account's slice, for documents people read.
pub struct Names(HashMap<PersonId, String>);

impl Names {
    pub fn of(data: &AccountData) -> Names {
        Names(
            data.people
                .iter()
                .chain(&data.our_people)
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
        )
    }
    pub fn get(&self, id: &PersonId) -> String {
        self.0.get(id).cloned().unwrap_or_else(|| id.to_string())
    }
    pub fn opt(&self, id: &Option<PersonId>) -> String {
        id.as_ref()
            .map(|i| self.get(i))
            .unwrap_or_else(|| "—".into())
    }
}

pub fn group_label(g: &GroupKey) -> String {
    match g {
        GroupKey::Role(r) => format!("role: {}", r.label()),
        GroupKey::Department(d) => format!("department: {d}"),
        GroupKey::Level(l) => format!("level {} ({})", l.get(), l.label()),
    }
}

fn rolled(r: &RolledUp) -> String {
    match r.value {
        Some(v) => format!("{} (from {} stakeholders)", percent(v), r.assessed),
        None => "not assessed".into(),
    }
}

/// A plan with its history, as the JSON export writes it.
#[derive(Serialize)]
pub struct PlanDocument<'a> {
    pub plan: &'a AccountPlan,
    pub history: Vec<HistoryPoint>,
    pub changes_since_last_snapshot: Option<PlanDiff>,
}

/// One snapshot on the trend line.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryPoint {
    pub saved_at: String,
    pub relationship_index: f64,
    pub coverage: f64,
    pub solution_acceptance: Option<f64>,
    pub price_acceptance: Option<f64>,
}

pub fn history(snapshots: &[AccountPlan]) -> Vec<HistoryPoint> {
    snapshots
        .iter()
        .map(|s| HistoryPoint {
            saved_at: s.as_of.to_rfc3339(),
            relationship_index: s.relationship_index,
            coverage: s.coverage,
            solution_acceptance: s.acceptances.solution.value,
            price_acceptance: s.acceptances.price.value,
        })
        .collect()
}

/// What changed between the latest snapshot and this plan.
pub fn changes(plan: &AccountPlan, snapshots: &[AccountPlan]) -> Option<PlanDiff> {
    snapshots
        .iter()
        .rev()
        .find(|s| s.as_of < plan.as_of)
        .map(|last| diff_plans(last, plan))
}

/// The plan as Markdown, for pasting into a document or a ticket.
pub fn markdown(
    plan: &AccountPlan,
    account_name: &str,
    names: &Names,
    snapshots: &[AccountPlan],
) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# Account plan: {account_name}\n");
    let _ = writeln!(m, "As of {}.\n", plan.as_of);
    let _ = writeln!(m, "## Health\n");
    let _ = writeln!(m, "| measure | value |\n| --- | --- |");
    let _ = writeln!(
        m,
        "| relationship index (closeness weighted by influence) | {} |",
        percent(plan.relationship_index)
    );
    let _ = writeln!(
        m,
        "| relationship closeness 关系紧密度 | {} |",
        rolled(&plan.acceptances.relationship)
    );
    let _ = writeln!(
        m,
        "| solution acceptance 方案认可度 | {} |",
        rolled(&plan.acceptances.solution)
    );
    let _ = writeln!(
        m,
        "| price acceptance 价格接受度 | {} |",
        rolled(&plan.acceptances.price)
    );
    let _ = writeln!(
        m,
        "| coverage (groups with a familiar stakeholder) | {} |",
        percent(plan.coverage)
    );
    let _ = writeln!(m, "\nLargest contributions to the index:\n");
    for p in plan.index_parts.iter().take(5) {
        let _ = writeln!(
            m,
            "- {}: influence {:.2} × closeness {:.2} → {:.3}",
            names.get(&p.person),
            p.influence,
            p.closeness,
            p.contribution
        );
    }
    let _ = writeln!(m, "\n## Risks\n");
    for r in risk_lines(plan, names) {
        let _ = writeln!(m, "- {r}");
    }
    let _ = writeln!(m, "\n## Actions\n");
    let _ = writeln!(
        m,
        "| status | action | whom | through | how | owner | due | why |\n| --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for a in &plan.actions {
        let _ = writeln!(
            m,
            "| {:?} | {} | {} | {} | {} | {} | {} | {} |",
            a.status,
            a.kind.as_str().replace('_', " "),
            names.get(&a.whom),
            names.opt(&a.through),
            a.interaction,
            names.opt(&a.owner),
            a.due,
            a.why.replace('|', "/")
        );
    }
    if !plan.objectives.is_empty() {
        let _ = writeln!(m, "\n## Objectives\n");
        for o in &plan.objectives {
            let state = if o.met {
                "met".to_owned()
            } else if o.overdue {
                "overdue".to_owned()
            } else {
                format!("{} days left", o.days_left)
            };
            let _ = writeln!(
                m,
                "- {} (due {}): {state}; now {}",
                o.objective.text,
                o.objective.due,
                o.current_level.map(|l| l.name()).unwrap_or("—")
            );
        }
    }
    if !plan.open_deals.is_empty() {
        let _ = writeln!(m, "\n## Open deals\n");
        for d in &plan.open_deals {
            let _ = writeln!(
                m,
                "### {} ({}, {}, closes {})\n",
                d.name,
                d.stage.as_deref().unwrap_or("no stage"),
                d.amount
                    .map(|a| format!("{a:.0}"))
                    .unwrap_or_else(|| "no amount".into()),
                d.close_date
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "—".into())
            );
            for c in &d.decision_chain {
                let _ = writeln!(
                    m,
                    "- {} — {}, {}, solution {}/4, price {}/4, closeness {:.2}",
                    names.get(&c.person),
                    c.role.map(|r| r.label()).unwrap_or("no role"),
                    c.attitude.map(|a| a.as_str()).unwrap_or("attitude unknown"),
                    c.solution_acceptance
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "?".into()),
                    c.price_acceptance
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "?".into()),
                    c.closeness
                );
            }
            if !d.roles_missing.is_empty() {
                let missing: Vec<&str> = d.roles_missing.iter().map(|r| r.label()).collect();
                let _ = writeln!(m, "- missing roles: {}", missing.join(", "));
            }
            m.push('\n');
        }
    }
    if !snapshots.is_empty() {
        let _ = writeln!(m, "\n## History\n");
        let _ = writeln!(
            m,
            "| saved | index | coverage | solution | price |\n| --- | --- | --- | --- | --- |"
        );
        for h in history(snapshots) {
            let opt = |x: Option<f64>| x.map(percent).unwrap_or_else(|| "—".into());
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} |",
                h.saved_at,
                percent(h.relationship_index),
                percent(h.coverage),
                opt(h.solution_acceptance),
                opt(h.price_acceptance)
            );
        }
        if let Some(d) = changes(plan, snapshots) {
            let _ = writeln!(m, "\n### What changed since the last review\n");
            for line in diff_lines(&d, names) {
                let _ = writeln!(m, "- {line}");
            }
        }
    }
    m
}

/// "What changed" as sentences.
pub fn diff_lines(d: &PlanDiff, names: &Names) -> Vec<String> {
    let mut out = vec![format!(
        "relationship index {:+.1} points, coverage {:+.1} points",
        d.index_change * 100.0,
        d.coverage_change * 100.0
    )];
    for p in &d.new_stakeholders {
        out.push(format!("new stakeholder: {}", names.get(p)));
    }
    for p in &d.departed_stakeholders {
        out.push(format!("departed: {}", names.get(p)));
    }
    for (p, a, b) in &d.warmed {
        out.push(format!(
            "warmed: {} from {} to {}",
            names.get(p),
            a.name(),
            b.name()
        ));
    }
    for (p, a, b) in &d.cooled {
        out.push(format!(
            "cooled: {} from {} to {}",
            names.get(p),
            a.name(),
            b.name()
        ));
    }
    for (p, a, b) in &d.attitude_changes {
        let s = |x: &Option<renmai_graph::Attitude>| x.map(|a| a.as_str()).unwrap_or("unknown");
        out.push(format!("attitude of {}: {} → {}", names.get(p), s(a), s(b)));
    }
    for g in &d.gaps_opened {
        out.push(format!("gap opened: {}", group_label(g)));
    }
    for g in &d.gaps_closed {
        out.push(format!("gap closed: {}", group_label(g)));
    }
    for a in &d.actions_done {
        out.push(format!("action done: {a}"));
    }
    for a in &d.actions_overdue {
        out.push(format!("action overdue: {a}"));
    }
    out
}

/// A node of the static map.
pub struct MapNode {
    pub x: f64,
    pub y: f64,
    pub r: f64,
    pub fill: &'static str,
    pub label: String,
}

pub struct MapEdge {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub influence: bool,
}

/// Colours of the closeness levels, stranger to ally (as in style.css).
pub const LEVEL_COLOURS: [&str; 5] = ["#c7ccd4", "#9ec5e8", "#5aa0d8", "#2a6fb8", "#153e75"];

/// A top-down org chart: depth from the reporting lines, leaves spread
/// evenly and managers centred over their reports.
pub fn static_map(
    data: &AccountData,
    plan: &AccountPlan,
) -> (f64, f64, Vec<MapNode>, Vec<MapEdge>) {
    let n = data.people.len();
    let idx: HashMap<&PersonId, usize> = data
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.id, i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, p) in data.people.iter().enumerate() {
        match p.reports_to.as_ref().and_then(|m| idx.get(m)) {
            Some(&m) => children[m].push(i),
            None => roots.push(i),
        }
    }
    let mut x = vec![0.0; n];
    let mut depth = vec![0usize; n];
    let mut next_leaf: f64 = 0.0;
    // Iterative post-order layout.
    for &r in &roots {
        let mut stack = vec![(r, 0usize, false)];
        while let Some((v, d, done)) = stack.pop() {
            depth[v] = d;
            if done || children[v].is_empty() {
                if children[v].is_empty() {
                    x[v] = next_leaf;
                    next_leaf += 1.0;
                } else {
                    let (a, b) = (children[v][0], *children[v].last().expect("nonempty"));
                    x[v] = (x[a] + x[b]) / 2.0;
                }
                continue;
            }
            stack.push((v, d, true));
            for &c in children[v].iter().rev() {
                stack.push((c, d + 1, false));
            }
        }
    }
    let (dx, dy, pad) = (26.0, 70.0, 20.0);
    let width = (next_leaf.max(1.0)) * dx + 2.0 * pad;
    let height = (depth.iter().copied().max().unwrap_or(0) as f64 + 1.0) * dy + 2.0 * pad;
    let closeness: HashMap<&PersonId, (usize, f64)> = plan
        .stakeholders
        .iter()
        .map(|s| (&s.person, (s.level.get() as usize, s.closeness)))
        .collect();
    let influence: HashMap<&PersonId, f64> = plan
        .index_parts
        .iter()
        .map(|p| (&p.person, p.influence))
        .collect();
    let pos = |i: usize| {
        (
            pad + x[i] * dx + dx / 2.0,
            pad + depth[i] as f64 * dy + 10.0,
        )
    };
    let nodes = data
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (cx, cy) = pos(i);
            let lvl = closeness.get(&p.id).map(|c| c.0).unwrap_or(0).min(4);
            MapNode {
                x: cx,
                y: cy,
                r: 4.0 + 8.0 * influence.get(&p.id).copied().unwrap_or(0.0),
                fill: LEVEL_COLOURS[lvl],
                label: p.name.clone(),
            }
        })
        .collect();
    let mut edges = Vec::new();
    for (i, p) in data.people.iter().enumerate() {
        if let Some(&m) = p.reports_to.as_ref().and_then(|m| idx.get(m)) {
            let ((x1, y1), (x2, y2)) = (pos(m), pos(i));
            edges.push(MapEdge {
                x1,
                y1,
                x2,
                y2,
                influence: false,
            });
        }
    }
    for f in &data.influences {
        if let (Some(&a), Some(&b)) = (idx.get(&f.from), idx.get(&f.to)) {
            let ((x1, y1), (x2, y2)) = (pos(a), pos(b));
            edges.push(MapEdge {
                x1,
                y1,
                x2,
                y2,
                influence: true,
            });
        }
    }
    (width, height, nodes, edges)
}

/// Rows of the printable page, already in words.
pub struct ActionRow {
    pub done: bool,
    pub kind: String,
    pub whom: String,
    pub through: String,
    pub how: String,
    pub owner: String,
    pub due: String,
    pub why: String,
}

#[derive(Template)]
#[template(path = "plan_print.html")]
pub struct PrintablePlan {
    pub account_name: String,
    pub as_of: String,
    pub index: String,
    pub relationship: String,
    pub solution: String,
    pub price: String,
    pub coverage: String,
    pub risks: Vec<String>,
    pub actions: Vec<ActionRow>,
    pub history: Vec<HistoryPoint>,
    pub changes: Vec<String>,
    pub map_width: f64,
    pub map_height: f64,
    pub nodes: Vec<MapNode>,
    pub edges: Vec<MapEdge>,
}

/// The plan's structural risks in words, for pages and documents.
pub fn risk_lines(plan: &AccountPlan, names: &Names) -> Vec<String> {
    let mut risks = Vec::new();
    if let Some(s) = &plan.single_threaded_seller {
        risks.push(format!(
            "Single-threaded: {} holds every strong tie.",
            names.get(s)
        ));
    }
    risks.extend(
        plan.gaps
            .iter()
            .map(|g| format!("Gap: nobody familiar in {}.", group_label(g))),
    );
    risks.extend(
        plan.cold
            .iter()
            .map(|c| format!("Going cold: {}.", names.get(c))),
    );
    risks.extend(plan.single_points_of_failure.iter().map(|p| {
        format!(
            "If {} leaves, we lose every warm path to an economic buyer.",
            names.get(p)
        )
    }));
    risks
}

/// The printable HTML page (A4) of a plan and its history.
pub fn printable(
    plan: &AccountPlan,
    data: &AccountData,
    names: &Names,
    snapshots: &[AccountPlan],
) -> Result<String, askama::Error> {
    let risks = risk_lines(plan, names);
    let (map_width, map_height, nodes, edges) = static_map(data, plan);
    PrintablePlan {
        account_name: data.account.name.clone(),
        as_of: plan.as_of.to_rfc3339(),
        index: percent(plan.relationship_index),
        relationship: rolled(&plan.acceptances.relationship),
        solution: rolled(&plan.acceptances.solution),
        price: rolled(&plan.acceptances.price),
        coverage: percent(plan.coverage),
        risks,
        actions: plan
            .actions
            .iter()
            .map(|a| ActionRow {
                done: a.status == ActionStatus::Done,
                kind: a.kind.as_str().replace('_', " "),
                whom: names.get(&a.whom),
                through: names.opt(&a.through),
                how: a.interaction.to_string(),
                owner: names.opt(&a.owner),
                due: a.due.to_string(),
                why: a.why.clone(),
            })
            .collect(),
        history: history(snapshots),
        changes: changes(plan, snapshots)
            .map(|d| diff_lines(&d, names))
            .unwrap_or_default(),
        map_width,
        map_height,
        nodes,
        edges,
    }
    .render()
}

/// "What if X leaves" in sentences: what the account loses.
pub fn what_if_lines(w: &renmai_graph::score::WhatIfLeaves, names: &Names) -> Vec<String> {
    let mut out = vec![format!(
        "relationship index {} → {} ({:+.1} points); {} of our ties lost",
        percent(w.index_before),
        percent(w.index_after),
        (w.index_after - w.index_before) * 100.0,
        w.ties_lost
    )];
    for g in &w.gaps_opened {
        out.push(format!("gap opens: nobody familiar in {}", group_label(g)));
    }
    for p in &w.unreachable {
        out.push(format!("no warm path left to {}", names.get(p)));
    }
    let mut weakened = w.weakened.clone();
    weakened.sort_by(|a, b| (a.after - a.before).total_cmp(&(b.after - b.before)));
    for x in weakened.iter().take(10) {
        out.push(format!(
            "path to {} weakens from {} to {}",
            names.get(&x.person),
            percent(x.before),
            percent(x.after)
        ));
    }
    out
}
