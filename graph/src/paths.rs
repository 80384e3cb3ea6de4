//! Warm paths: the strongest chain of people from our account team to a
//! stakeholder.
//!
//! The path graph is directed:
//! * a virtual source → each account-team seller (cost 0);
//! * seller → stakeholder for each tie of a team seller, cost `−ln(closeness)`
//!   (0 when closeness rounds to 1);
//! * stakeholder ↔ stakeholder in both directions for each unordered pair
//!   linked by reports-to (strength `reports_to_strength`), influences (its
//!   strength) or a `KNOWS` assessment between them (`L / 4`), with the
//!   strength of the strongest link, cost `−ln(strength)`; interactions two
//!   stakeholders shared count as a link of their evidence (DESIGN.md:
//!   "shared interactions between customer people").
//!
//! Sellers have no incoming edge but the source's, so no path runs through a
//! second seller. Minimizing the summed cost maximizes the product of the hop
//! strengths: path strength = `exp(−cost)`. The k best simple paths come from
//! Yen's algorithm on the same graph.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::closeness::{StakeholderLink, Tie};
use crate::config::ScoringConfig;
use crate::model::{ClosenessLevel, InfluenceKind, PersonId, TeamRole};
use crate::time::Timestamp;

/// Cost of a hop of strength `s`: `−ln s`, exactly 0 for `s ≥ 1`, infinite for `s ≤ 0`.
#[inline]
pub fn strength_cost(s: f64) -> f64 {
    if s >= 1.0 {
        0.0
    } else if s <= 0.0 {
        f64::INFINITY
    } else {
        -s.ln()
    }
}

/// A directed graph with non-negative `f64` edge costs in CSR form.
#[derive(Debug, Clone, Default)]
pub struct CostGraph {
    offsets: Vec<u32>,
    targets: Vec<u32>,
    costs: Vec<f64>,
}

impl CostGraph {
    /// Builds from `(from, to, cost)`; edges with an infinite or NaN cost are dropped.
    pub fn from_edges(n: usize, edges: &[(u32, u32, f64)]) -> Self {
        let mut deg = vec![0u32; n + 1];
        for &(u, _, c) in edges {
            if c.is_finite() {
                deg[u as usize + 1] += 1;
            }
        }
        for i in 0..n {
            deg[i + 1] += deg[i];
        }
        let mut fill = deg.clone();
        let m = deg[n] as usize;
        let mut targets = vec![0u32; m];
        let mut costs = vec![0.0; m];
        for &(u, v, c) in edges {
            if c.is_finite() {
                let k = fill[u as usize] as usize;
                fill[u as usize] += 1;
                targets[k] = v;
                costs[k] = c.max(0.0);
            }
        }
        CostGraph {
            offsets: deg,
            targets,
            costs,
        }
    }
    pub fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    #[inline]
    pub fn out_edges(&self, u: u32) -> impl Iterator<Item = (u32, f64)> + '_ {
        let (a, b) = (
            self.offsets[u as usize] as usize,
            self.offsets[u as usize + 1] as usize,
        );
        self.targets[a..b]
            .iter()
            .copied()
            .zip(self.costs[a..b].iter().copied())
    }
    /// Cheapest cost of an edge `u → v` (parallel edges allowed).
    pub fn edge_cost(&self, u: u32, v: u32) -> Option<f64> {
        self.out_edges(u)
            .filter(|&(t, _)| t == v)
            .map(|(_, c)| c)
            .min_by(f64::total_cmp)
    }
    /// Σ edge costs along a node path.
    pub fn path_cost(&self, path: &[u32]) -> f64 {
        path.windows(2)
            .map(|w| self.edge_cost(w[0], w[1]).unwrap_or(f64::INFINITY))
            .sum()
    }
}

#[derive(Clone, Copy, PartialEq)]
struct HeapItem(f64, u32);
impl Eq for HeapItem {}
impl Ord for HeapItem {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}
impl PartialOrd for HeapItem {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

pub const NO_PRED: u32 = u32::MAX;

/// Single-source Dijkstra: cost to every node (∞ if unreachable) and the
/// predecessor on one cheapest path.
pub fn dijkstra(g: &CostGraph, src: u32) -> (Vec<f64>, Vec<u32>) {
    let n = g.node_count();
    let mut dist = vec![f64::INFINITY; n];
    let mut pred = vec![NO_PRED; n];
    let mut heap = BinaryHeap::new();
    dist[src as usize] = 0.0;
    heap.push(HeapItem(0.0, src));
    while let Some(HeapItem(d, u)) = heap.pop() {
        if d > dist[u as usize] {
            continue;
        }
        for (v, c) in g.out_edges(u) {
            let nd = d + c;
            if nd < dist[v as usize] {
                dist[v as usize] = nd;
                pred[v as usize] = u;
                heap.push(HeapItem(nd, v));
            }
        }
    }
    (dist, pred)
}

/// The node path to `t` from a predecessor array (empty if unreachable).
pub fn path_to(pred: &[u32], src: u32, t: u32) -> Vec<u32> {
    let mut p = vec![t];
    let mut v = t;
    while v != src {
        v = pred[v as usize];
        if v == NO_PRED {
            return Vec::new();
        }
        p.push(v);
    }
    p.reverse();
    p
}

/// Dijkstra from `src` to `tgt` avoiding `banned` nodes and `banned_edges`;
/// stops when `tgt` is settled.
fn restricted_path(
    g: &CostGraph,
    src: u32,
    tgt: u32,
    banned: &[bool],
    banned_edges: &[(u32, u32)],
) -> Option<(f64, Vec<u32>)> {
    let n = g.node_count();
    let mut dist = vec![f64::INFINITY; n];
    let mut pred = vec![NO_PRED; n];
    let mut heap = BinaryHeap::new();
    dist[src as usize] = 0.0;
    heap.push(HeapItem(0.0, src));
    while let Some(HeapItem(d, u)) = heap.pop() {
        if d > dist[u as usize] {
            continue;
        }
        if u == tgt {
            return Some((d, path_to(&pred, src, tgt)));
        }
        for (v, c) in g.out_edges(u) {
            if banned[v as usize] || banned_edges.contains(&(u, v)) {
                continue;
            }
            let nd = d + c;
            if nd < dist[v as usize] {
                dist[v as usize] = nd;
                pred[v as usize] = u;
                heap.push(HeapItem(nd, v));
            }
        }
    }
    None
}

/// Cheapest path from `src` to `tgt`.
pub fn shortest_path(g: &CostGraph, src: u32, tgt: u32) -> Option<(f64, Vec<u32>)> {
    let banned = vec![false; g.node_count()];
    restricted_path(g, src, tgt, &banned, &[])
}

/// The `k` cheapest simple paths from `src` to `tgt` (Yen 1971), cheapest
/// first. Ties between equal costs are broken arbitrarily; the costs are
/// what is unique.
pub fn k_shortest_paths(g: &CostGraph, src: u32, tgt: u32, k: usize) -> Vec<(f64, Vec<u32>)> {
    let mut found: Vec<(f64, Vec<u32>)> = Vec::new();
    if k == 0 {
        return found;
    }
    let Some(first) = shortest_path(g, src, tgt) else {
        return found;
    };
    found.push(first);
    let mut candidates: Vec<(f64, Vec<u32>)> = Vec::new();
    let mut banned = vec![false; g.node_count()];
    while found.len() < k {
        let last = found.last().expect("non-empty").1.clone();
        for j in 0..last.len() - 1 {
            let spur = last[j];
            let root = &last[..=j];
            let banned_edges: Vec<(u32, u32)> = found
                .iter()
                .filter(|(_, p)| p.len() > j + 1 && &p[..=j] == root)
                .map(|(_, p)| (p[j], p[j + 1]))
                .collect();
            for &v in &root[..j] {
                banned[v as usize] = true;
            }
            if let Some((_, spur_path)) = restricted_path(g, spur, tgt, &banned, &banned_edges) {
                let mut path = root[..j].to_vec();
                path.extend_from_slice(&spur_path);
                if !candidates.iter().any(|(_, p)| *p == path)
                    && !found.iter().any(|(_, p)| *p == path)
                {
                    let cost = g.path_cost(&path);
                    candidates.push((cost, path));
                }
            }
            for &v in &root[..j] {
                banned[v as usize] = false;
            }
        }
        let Some(best) = candidates
            .iter()
            .enumerate()
            .min_by(|a, b| a.1.0.total_cmp(&b.1.0))
            .map(|(i, _)| i)
        else {
            break;
        };
        found.push(candidates.swap_remove(best));
    }
    found
}

/// Why a hop of a warm path exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HopReason {
    /// Our seller's tie to the stakeholder.
    Tie {
        closeness: f64,
        level: ClosenessLevel,
        interactions: u32,
        last_contact: Option<Timestamp>,
        assessed: bool,
    },
    /// `from` reports to `to`, or `to` reports to `from` (`upward` says which).
    ReportsTo { upward: bool },
    /// An influence line; `from_has_sway` when the hop's `from` is the influencer.
    Influence {
        kind: InfluenceKind,
        strength: f64,
        from_has_sway: bool,
    },
    /// A `KNOWS` assessment between two stakeholders.
    Knows {
        level: ClosenessLevel,
        at: Timestamp,
    },
    /// Interactions the two stakeholders shared.
    Shared {
        closeness: f64,
        interactions: u32,
        last_contact: Option<Timestamp>,
    },
}

/// One hop of a warm path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    pub from: PersonId,
    pub to: PersonId,
    pub strength: f64,
    pub reason: HopReason,
    pub text: String,
}

/// A warm path from our team to a stakeholder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarmPath {
    pub target: PersonId,
    /// Product of the hop strengths, `exp(−cost)`.
    pub strength: f64,
    pub cost: f64,
    /// Our seller who starts the path (the introducer on our side).
    pub seller: PersonId,
    pub seller_role: Option<TeamRole>,
    pub hops: Vec<Hop>,
}

impl WarmPath {
    /// The person who makes the last introduction: the stakeholder right
    /// before the target, or our seller when the path is one hop.
    pub fn connector(&self) -> &PersonId {
        self.hops.last().map_or(&self.seller, |h| &h.from)
    }
}

/// The account's path graph with the reason of every edge.
#[derive(Debug, Clone)]
pub struct PathGraph {
    pub graph: CostGraph,
    /// Node ids: 0 is the virtual source, then the team sellers, then the stakeholders.
    nodes: Vec<Option<PersonId>>,
    /// People's names by node, for the hop texts people read.
    labels: Vec<String>,
    seller_roles: Vec<Option<TeamRole>>,
    sellers: usize,
    index: HashMap<PersonId, u32>,
    reasons: HashMap<(u32, u32), (f64, HopReason)>,
}

pub const SOURCE: u32 = 0;

impl PathGraph {
    /// Builds the graph of the module doc from the account, its ties and
    /// the links between its stakeholders (see [`crate::closeness::stakeholder_links`];
    /// pass `&[]` to leave shared interactions out, as the bench contract does).
    pub fn build(
        data: &AccountData,
        ties: &[Tie],
        links: &[StakeholderLink],
        cfg: &ScoringConfig,
    ) -> Self {
        let mut nodes: Vec<Option<PersonId>> = vec![None];
        let mut seller_roles = vec![None];
        let mut index: HashMap<PersonId, u32> = HashMap::new();
        for m in data.team.iter().filter(|m| m.org == data.account.id) {
            if !index.contains_key(&m.person) {
                index.insert(m.person.clone(), nodes.len() as u32);
                nodes.push(Some(m.person.clone()));
                seller_roles.push(Some(m.role));
            }
        }
        let sellers = nodes.len() - 1;
        for p in &data.people {
            if !index.contains_key(&p.id) {
                index.insert(p.id.clone(), nodes.len() as u32);
                nodes.push(Some(p.id.clone()));
                seller_roles.push(None);
            }
        }
        let is_stakeholder = |i: u32| i as usize > sellers;
        let mut reasons: HashMap<(u32, u32), (f64, HopReason)> = HashMap::new();
        for s in 1..=sellers as u32 {
            reasons.insert(
                (SOURCE, s),
                (1.0, HopReason::ReportsTo { upward: false }), // placeholder, never shown
            );
        }
        for t in ties {
            if let (Some(&u), Some(&v)) = (index.get(&t.ours), index.get(&t.theirs))
                && !is_stakeholder(u)
                && is_stakeholder(v)
                && t.closeness > 0.0
            {
                reasons.insert(
                    (u, v),
                    (
                        t.closeness,
                        HopReason::Tie {
                            closeness: t.closeness,
                            level: t.level,
                            interactions: t.explanation.interactions,
                            last_contact: t.explanation.last_contact,
                            assessed: t.explanation.assessment.is_some(),
                        },
                    ),
                );
            }
        }
        // Stakeholder links: keep the strongest per unordered pair, both directions.
        let mut offer = |a: u32, b: u32, s: f64, ab: HopReason, ba: HopReason| {
            if a == b || !is_stakeholder(a) || !is_stakeholder(b) || s <= 0.0 {
                return;
            }
            let cur = reasons.get(&(a, b)).map_or(0.0, |x| x.0);
            if s > cur {
                reasons.insert((a, b), (s, ab));
                reasons.insert((b, a), (s, ba));
            }
        };
        for p in &data.people {
            if let (Some(&a), Some(&b)) = (
                index.get(&p.id),
                p.reports_to.as_ref().and_then(|m| index.get(m)),
            ) {
                offer(
                    a,
                    b,
                    cfg.reports_to_strength,
                    HopReason::ReportsTo { upward: true },
                    HopReason::ReportsTo { upward: false },
                );
            }
        }
        for inf in &data.influences {
            if let (Some(&a), Some(&b)) = (index.get(&inf.from), index.get(&inf.to)) {
                let s = inf.strength.get();
                let r = |sway| HopReason::Influence {
                    kind: inf.kind,
                    strength: s,
                    from_has_sway: sway,
                };
                offer(a, b, s, r(true), r(false));
            }
        }
        let mut latest: HashMap<(u32, u32), &crate::model::Assessment> = HashMap::new();
        for a in &data.assessments {
            if let (Some(&x), Some(&y)) = (index.get(&a.from), index.get(&a.to))
                && is_stakeholder(x)
                && is_stakeholder(y)
            {
                let e = latest.entry((x.min(y), x.max(y))).or_insert(a);
                if a.at >= e.at {
                    *e = a;
                }
            }
        }
        for l in links {
            if let (Some(&x), Some(&y)) = (index.get(&l.a), index.get(&l.b)) {
                let r = HopReason::Shared {
                    closeness: l.closeness,
                    interactions: l.interactions,
                    last_contact: l.last_contact,
                };
                offer(x, y, l.closeness, r.clone(), r);
            }
        }
        for ((x, y), a) in latest {
            let r = HopReason::Knows {
                level: a.level,
                at: a.at,
            };
            offer(x, y, a.level.as_score(), r.clone(), r);
        }
        let mut edges: Vec<(u32, u32, f64)> = reasons
            .iter()
            .map(|(&(u, v), &(s, _))| (u, v, strength_cost(s)))
            .collect();
        edges.sort_by_key(|&(u, v, _)| (u, v));
        let names: HashMap<&PersonId, &str> = data
            .people
            .iter()
            .chain(&data.our_people)
            .map(|p| (&p.id, p.name.as_str()))
            .collect();
        let labels = nodes
            .iter()
            .map(|n| match n {
                Some(id) => names
                    .get(id)
                    .map_or_else(|| id.to_string(), |s| (*s).to_owned()),
                None => String::new(),
            })
            .collect();
        PathGraph {
            graph: CostGraph::from_edges(nodes.len(), &edges),
            nodes,
            labels,
            seller_roles,
            sellers,
            index,
            reasons,
        }
    }

    pub fn node_of(&self, p: &PersonId) -> Option<u32> {
        self.index.get(p).copied()
    }
    pub fn person(&self, node: u32) -> Option<&PersonId> {
        self.nodes.get(node as usize).and_then(Option::as_ref)
    }
    pub fn is_seller(&self, node: u32) -> bool {
        node >= 1 && node as usize <= self.sellers
    }

    /// Turns a node path (starting at the source) into a [`WarmPath`].
    pub fn explain(&self, cost: f64, path: &[u32]) -> Option<WarmPath> {
        if path.len() < 3 || path[0] != SOURCE {
            return None;
        }
        let name = |i: u32| self.nodes[i as usize].clone().expect("person node");
        let hops = path[1..]
            .windows(2)
            .map(|w| {
                let (s, reason) = self.reasons[&(w[0], w[1])].clone();
                let (a, b) = (name(w[0]), name(w[1]));
                let (a_id, b_id) = (a, b);
                let (a, b) = (&self.labels[w[0] as usize], &self.labels[w[1] as usize]);
                let text = match &reason {
                    HopReason::Tie {
                        closeness,
                        level,
                        interactions,
                        last_contact,
                        ..
                    } => format!(
                        "{a} knows {b}: {} ({closeness:.2}) from {interactions} interactions{}",
                        level.name(),
                        last_contact.map_or(String::new(), |t| format!(
                            ", last {}",
                            t.to_rfc3339().get(..10).unwrap_or_default()
                        ))
                    ),
                    HopReason::ReportsTo { upward: true } => format!("{a} reports to {b}"),
                    HopReason::ReportsTo { upward: false } => format!("{b} reports to {a}"),
                    HopReason::Influence {
                        kind,
                        strength,
                        from_has_sway,
                    } => {
                        let (x, y) = if *from_has_sway { (&a, &b) } else { (&b, &a) };
                        format!("{x} has sway over {y} ({kind}, {strength:.2})")
                    }
                    HopReason::Shared {
                        closeness,
                        interactions,
                        ..
                    } => format!(
                        "{a} and {b} met in {interactions} shared interactions ({closeness:.2})"
                    ),
                    HopReason::Knows { level, at } => format!(
                        "{a} and {b} are {} (assessed {})",
                        level.name(),
                        at.to_rfc3339().get(..10).unwrap_or_default()
                    ),
                };
                Hop {
                    from: a_id,
                    to: b_id,
                    strength: s,
                    reason,
                    text,
                }
            })
            .collect();
        Some(WarmPath {
            target: name(*path.last().expect("non-empty")),
            strength: (-cost).exp(),
            cost,
            seller: name(path[1]),
            seller_role: self.seller_roles[path[1] as usize],
            hops,
        })
    }

    /// The best warm path to every stakeholder, in `data.people` order of the
    /// build (one Dijkstra).
    pub fn best_paths(&self, data: &AccountData) -> Vec<Option<WarmPath>> {
        let (dist, pred) = dijkstra(&self.graph, SOURCE);
        data.people
            .iter()
            .map(|p| {
                let t = self.node_of(&p.id)?;
                if !dist[t as usize].is_finite() {
                    return None;
                }
                self.explain(dist[t as usize], &path_to(&pred, SOURCE, t))
            })
            .collect()
    }

    /// The `k` best simple warm paths to `target`.
    pub fn k_paths(&self, target: &PersonId, k: usize) -> Vec<WarmPath> {
        let Some(t) = self.node_of(target) else {
            return Vec::new();
        };
        if self.is_seller(t) {
            return Vec::new();
        }
        k_shortest_paths(&self.graph, SOURCE, t, k)
            .into_iter()
            .filter_map(|(c, p)| self.explain(c, &p))
            .collect()
    }

    /// People (sellers or stakeholders) on every warm path to `target`: lose
    /// one and `target` is out of reach. These are the dominators of
    /// `target` in the path graph rooted at the source (Cooper–Harvey–Kennedy
    /// via petgraph). Empty when `target` is unreachable.
    pub fn cut_people(&self, target: &PersonId) -> Vec<PersonId> {
        let Some(t) = self.node_of(target) else {
            return Vec::new();
        };
        let mut g = petgraph::graph::DiGraph::<(), ()>::with_capacity(self.nodes.len(), 0);
        for _ in 0..self.nodes.len() {
            g.add_node(());
        }
        for u in 0..self.nodes.len() as u32 {
            for (v, _) in self.graph.out_edges(u) {
                g.add_edge(u.into(), v.into(), ());
            }
        }
        let dom = petgraph::algo::dominators::simple_fast(&g, SOURCE.into());
        let Some(it) = dom.strict_dominators(t.into()) else {
            return Vec::new();
        };
        it.filter(|n| n.index() as u32 != SOURCE)
            .filter_map(|n| self.person(n.index() as u32).cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diamond() -> CostGraph {
        // 0→1 (1), 0→2 (2), 1→3 (1), 2→3 (0.5), 1→2 (0.25), 3→4 (0)
        CostGraph::from_edges(
            5,
            &[
                (0, 1, 1.0),
                (0, 2, 2.0),
                (1, 3, 1.0),
                (2, 3, 0.5),
                (1, 2, 0.25),
                (3, 4, 0.0),
            ],
        )
    }

    #[test]
    fn dijkstra_and_yen() {
        let g = diamond();
        let (c, p) = shortest_path(&g, 0, 4).unwrap();
        assert_eq!(c, 1.75);
        assert_eq!(p, vec![0, 1, 2, 3, 4]);
        let k = k_shortest_paths(&g, 0, 4, 5);
        let costs: Vec<f64> = k.iter().map(|x| x.0).collect();
        assert_eq!(costs, vec![1.75, 2.0, 2.5]);
        assert!(k_shortest_paths(&g, 4, 0, 3).is_empty());
    }

    #[test]
    fn strength_cost_edges() {
        assert_eq!(strength_cost(1.0), 0.0);
        assert_eq!(strength_cost(0.0), f64::INFINITY);
        assert!((strength_cost(0.5) - std::f64::consts::LN_2).abs() < 1e-15);
    }
}
