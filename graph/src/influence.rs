//! Influence of a stakeholder inside their organization: weighted PageRank,
//! exact betweenness (brokers) and the blend the product shows.
//!
//! The kernels ([`pagerank`], [`betweenness`]) work on dense `u32` node
//! indices so the same code serves one account in the app and 1,000 accounts
//! in the relbench example.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::config::{ScoringConfig, role_weight};
use crate::model::{Level, PersonId};

/// PageRank stops when the L1 change of an iteration is below `n · PAGERANK_TOL`
/// (the NetworkX criterion, with the tolerance the bench references use).
pub const PAGERANK_TOL: f64 = 1e-12;
pub const PAGERANK_MAX_ITER: usize = 10_000;

/// Weighted PageRank over `n` nodes and directed weighted edges `(from, to, w)`.
///
/// Parallel edges are summed (equivalently: each contributes its weight).
/// Each node's out-weights are normalized; a node without out-weight
/// (dangling) spreads its mass uniformly; teleport is uniform; the result
/// sums to 1. Edges of non-positive weight are ignored.
pub fn pagerank(n: usize, edges: &[(u32, u32, f64)], damping: f64, tol: f64) -> Vec<f64> {
    if n == 0 {
        return Vec::new();
    }
    let mut out_w = vec![0.0f64; n];
    let mut in_deg = vec![0u32; n + 1];
    for &(u, v, w) in edges {
        if w > 0.0 {
            out_w[u as usize] += w;
            in_deg[v as usize + 1] += 1;
        }
    }
    for i in 0..n {
        in_deg[i + 1] += in_deg[i];
    }
    let offsets = in_deg;
    let mut fill = offsets.clone();
    let m = offsets[n] as usize;
    let mut src = vec![0u32; m];
    let mut coef = vec![0.0f64; m];
    for &(u, v, w) in edges {
        if w > 0.0 {
            let slot = fill[v as usize] as usize;
            fill[v as usize] += 1;
            src[slot] = u;
            coef[slot] = w / out_w[u as usize];
        }
    }
    let dangling: Vec<u32> = (0..n as u32)
        .filter(|&u| out_w[u as usize] == 0.0)
        .collect();
    let nf = n as f64;
    let mut x = vec![1.0 / nf; n];
    let mut next = vec![0.0f64; n];
    for _ in 0..PAGERANK_MAX_ITER {
        let dsum: f64 = dangling.iter().map(|&u| x[u as usize]).sum();
        let base = (1.0 - damping) / nf + damping * dsum / nf;
        let mut err = 0.0;
        for v in 0..n {
            let (a, b) = (offsets[v] as usize, offsets[v + 1] as usize);
            let mut s = 0.0;
            for k in a..b {
                s += x[src[k] as usize] * coef[k];
            }
            let nv = base + damping * s;
            err += (nv - x[v]).abs();
            next[v] = nv;
        }
        std::mem::swap(&mut x, &mut next);
        if err < nf * tol {
            break;
        }
    }
    x
}

/// An undirected simple graph in CSR form: self-loops dropped, duplicate and
/// reversed edges merged.
#[derive(Debug, Clone, Default)]
pub struct SimpleGraph {
    offsets: Vec<u32>,
    nbrs: Vec<u32>,
}

impl SimpleGraph {
    pub fn from_edges(n: usize, edges: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let mut pairs: Vec<(u32, u32)> = edges
            .into_iter()
            .filter(|(a, b)| a != b)
            .map(|(a, b)| (a.min(b), a.max(b)))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut deg = vec![0u32; n + 1];
        for &(a, b) in &pairs {
            deg[a as usize + 1] += 1;
            deg[b as usize + 1] += 1;
        }
        for i in 0..n {
            deg[i + 1] += deg[i];
        }
        let mut fill = deg.clone();
        let mut nbrs = vec![0u32; deg[n] as usize];
        for &(a, b) in &pairs {
            nbrs[fill[a as usize] as usize] = b;
            fill[a as usize] += 1;
            nbrs[fill[b as usize] as usize] = a;
            fill[b as usize] += 1;
        }
        SimpleGraph { offsets: deg, nbrs }
    }
    pub fn node_count(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }
    pub fn edge_count(&self) -> usize {
        self.nbrs.len() / 2
    }
    #[inline]
    pub fn neighbors(&self, v: u32) -> &[u32] {
        &self.nbrs[self.offsets[v as usize] as usize..self.offsets[v as usize + 1] as usize]
    }
    pub fn degree(&self, v: u32) -> usize {
        self.neighbors(v).len()
    }
}

/// Exact betweenness, unweighted, undirected: raw counts with each unordered
/// pair `{s, t}` once and the endpoints excluded (NetworkX
/// `normalized=False`, igraph's default).
///
/// Org charts are trees with a few informal lines on top, so most of the
/// graph hangs off the rest by single edges. Degree-1 vertices are folded
/// into their neighbour first (Baglioni et al. 2012, "Fast exact computation
/// of betweenness centrality in social networks"): a vertex carries the
/// weight ω of the subtree folded into it, pairs that must cross a fold
/// point are counted in closed form, and Brandes runs only on what remains,
/// with a source of weight ω(s) and targets of weight ω(t). Same result as
/// [`betweenness_brandes`] (property-tested), a fraction of the work.
pub fn betweenness(g: &SimpleGraph) -> Vec<f64> {
    let n = g.node_count();
    let mut bc = vec![0.0f64; n];
    if n == 0 {
        return bc;
    }
    // Component sizes: pairs in different components never count.
    let mut comp = vec![u32::MAX; n];
    let mut comp_size: Vec<f64> = Vec::new();
    let mut stack: Vec<u32> = Vec::new();
    for s in 0..n as u32 {
        if comp[s as usize] != u32::MAX {
            continue;
        }
        let c = comp_size.len() as u32;
        comp[s as usize] = c;
        stack.push(s);
        let mut size = 0usize;
        while let Some(v) = stack.pop() {
            size += 1;
            for &w in g.neighbors(v) {
                if comp[w as usize] == u32::MAX {
                    comp[w as usize] = c;
                    stack.push(w);
                }
            }
        }
        comp_size.push(size as f64);
    }
    // Fold degree-1 vertices.
    let mut deg: Vec<u32> = (0..n as u32).map(|v| g.degree(v) as u32).collect();
    let mut omega = vec![1.0f64; n];
    let mut removed = vec![false; n];
    let mut leaves: Vec<u32> = (0..n as u32).filter(|&v| deg[v as usize] == 1).collect();
    while let Some(u) = leaves.pop() {
        let ui = u as usize;
        if removed[ui] || deg[ui] != 1 {
            continue;
        }
        let v = *g
            .neighbors(u)
            .iter()
            .find(|&&w| !removed[w as usize])
            .expect("degree 1");
        let vi = v as usize;
        let size = comp_size[comp[ui] as usize];
        removed[ui] = true;
        deg[ui] = 0;
        // Pairs from u's folded subtree (u excluded) to outside it pass through u.
        bc[ui] += (omega[ui] - 1.0) * (size - omega[ui]);
        // Pairs between u's subtree and what was folded into v before pass through v.
        bc[vi] += omega[ui] * (omega[vi] - 1.0);
        omega[vi] += omega[ui];
        deg[vi] -= 1;
        if deg[vi] == 1 {
            leaves.push(v);
        }
    }
    // What remains: compact it, count pairs from its folded subtrees outward.
    let mut new_id = vec![u32::MAX; n];
    let mut old_id: Vec<u32> = Vec::new();
    for v in 0..n {
        if !removed[v] {
            new_id[v] = old_id.len() as u32;
            old_id.push(v as u32);
            bc[v] += (omega[v] - 1.0) * (comp_size[comp[v] as usize] - omega[v]);
        }
    }
    let r = old_id.len();
    let mut offsets = vec![0u32; r + 1];
    let mut nbrs: Vec<u32> = Vec::new();
    for (i, &v) in old_id.iter().enumerate() {
        nbrs.extend(
            g.neighbors(v)
                .iter()
                .filter(|&&w| !removed[w as usize])
                .map(|&w| new_id[w as usize]),
        );
        offsets[i + 1] = nbrs.len() as u32;
    }
    let w_of: Vec<f64> = old_id.iter().map(|&v| omega[v as usize]).collect();
    let reduced = SimpleGraph { offsets, nbrs };
    let part = weighted_brandes(&reduced, &w_of);
    for (i, &v) in old_id.iter().enumerate() {
        bc[v as usize] += part[i];
    }
    bc
}

/// Sources per unit of parallel work in [`weighted_brandes`]: fixed, so the
/// sums are added in the same order on every machine and the result does
/// not depend on the number of cores.
const BRANDES_CHUNK: usize = 64;

/// Brandes over a graph whose vertices stand for `weight` people each:
/// pair `(s, t)` counts `weight[s] · weight[t]`; unordered pairs once.
/// Sources are independent: chunks of them run in parallel (rayon), each
/// with its own buffers, and their sums are added in chunk order.
fn weighted_brandes(g: &SimpleGraph, weight: &[f64]) -> Vec<f64> {
    use rayon::prelude::*;
    let n = g.node_count();
    let sources: Vec<u32> = (0..n as u32).collect();
    let parts: Vec<Vec<f64>> = sources
        .par_chunks(BRANDES_CHUNK)
        .map(|chunk| brandes_from(g, weight, chunk))
        .collect();
    let mut bc = vec![0.0f64; n];
    for part in parts {
        for (b, p) in bc.iter_mut().zip(part) {
            *b += p;
        }
    }
    for b in &mut bc {
        *b /= 2.0;
    }
    bc
}

/// The betweenness that the shortest paths from `sources` give (each pair
/// still counted from both ends; [`weighted_brandes`] halves the total).
fn brandes_from(g: &SimpleGraph, weight: &[f64], sources: &[u32]) -> Vec<f64> {
    let n = g.node_count();
    let mut bc = vec![0.0f64; n];
    let mut sigma = vec![0.0f64; n];
    let mut dist = vec![u32::MAX; n];
    let mut delta = vec![0.0f64; n];
    // BFS queue; also the visiting order.
    let mut order = vec![0u32; n + 1];
    // Edges of the shortest-path DAG (v one level above w) in discovery
    // order. Walked backwards, every edge out of w comes before any edge
    // into w, so δ(w) is final when it is passed up: the backward phase
    // touches only DAG edges instead of rescanning every neighbour.
    let mut dag: Vec<(u32, u32)> = vec![(0, 0); g.nbrs.len() + 1];
    // The loops are written without data-dependent branches: the "new
    // vertex?" and "one level down?" tests are unpredictable.
    for &s in sources {
        sigma[s as usize] = 1.0;
        dist[s as usize] = 0;
        order[0] = s;
        let (mut head, mut tail, mut ne) = (0usize, 1usize, 0usize);
        while head < tail {
            let v = order[head];
            head += 1;
            let next = dist[v as usize] + 1;
            for &w in g.neighbors(v) {
                let wi = w as usize;
                let dw = dist[wi];
                let fresh = dw == u32::MAX;
                order[tail] = w;
                tail += usize::from(fresh);
                let dw = if fresh { next } else { dw };
                dist[wi] = dw;
                dag[ne] = (v, w);
                ne += usize::from(dw == next);
            }
        }
        // Path counts along the DAG in discovery order: every edge into v
        // was found before any edge out of v.
        for &(v, w) in &dag[..ne] {
            sigma[w as usize] += sigma[v as usize];
        }
        for &(v, w) in dag[..ne].iter().rev() {
            let (vi, wi) = (v as usize, w as usize);
            delta[vi] += sigma[vi] / sigma[wi] * (weight[wi] + delta[wi]);
        }
        let ws = weight[s as usize];
        for &w in &order[..tail] {
            let wi = w as usize;
            if w != s {
                bc[wi] += ws * delta[wi];
            }
            sigma[wi] = 0.0;
            dist[wi] = u32::MAX;
            delta[wi] = 0.0;
        }
    }
    bc
}

/// Plain Brandes (2001) on the whole graph, O(n·m): the reference for
/// [`betweenness`].
pub fn betweenness_brandes(g: &SimpleGraph) -> Vec<f64> {
    weighted_brandes(g, &vec![1.0; g.node_count()])
}

/// Betweenness divided by the number of pairs that could route through a
/// node, `(n − 1)(n − 2) / 2` (NetworkX `normalized=True`).
pub fn normalize_betweenness(bc: &[f64]) -> Vec<f64> {
    let n = bc.len() as f64;
    let pairs = (n - 1.0) * (n - 2.0) / 2.0;
    bc.iter()
        .map(|&b| if pairs > 0.0 { b / pairs } else { 0.0 })
        .collect()
}

/// Brokers: nodes in the top decile of betweenness (at least one node) with
/// betweenness > 0. They sit on many of the shortest lines between others.
pub fn brokers(bc: &[f64]) -> Vec<bool> {
    let n = bc.len();
    if n == 0 {
        return Vec::new();
    }
    let mut sorted: Vec<f64> = bc.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let k = n.div_ceil(10);
    let cut = sorted[k - 1];
    bc.iter().map(|&b| b > 0.0 && b >= cut).collect()
}

/// Prior importance of a seniority level: 1 (C-level) 1.0, 2 0.8, 3 0.6,
/// 4 0.45, 5 0.3, 6 (unknown) 0.2.
pub fn level_prior(level: Level) -> f64 {
    match level.get() {
        1 => 1.0,
        2 => 0.8,
        3 => 0.6,
        4 => 0.45,
        5 => 0.3,
        _ => 0.2,
    }
}

/// Weights of the influence blend (they sum to 1).
pub const W_PAGERANK: f64 = 0.5;
pub const W_LEVEL: f64 = 0.25;
pub const W_ROLE: f64 = 0.25;

/// A stakeholder's influence and how it was made.
///
/// `blend = W_PAGERANK·pagerank_norm + W_LEVEL·level_prior + W_ROLE·role_weight`
/// (the three `*_part` fields), and `influence = blend / account_max_blend`,
/// so the most influential stakeholder of the account has 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StakeholderInfluence {
    pub person: PersonId,
    pub influence: f64,
    pub pagerank: f64,
    /// PageRank divided by the account's highest PageRank.
    pub pagerank_norm: f64,
    pub level_prior: f64,
    pub role_weight: f64,
    pub pagerank_part: f64,
    pub level_part: f64,
    pub role_part: f64,
    pub account_max_blend: f64,
    pub betweenness: f64,
    pub betweenness_norm: f64,
    pub broker: bool,
}

/// A directed weighted edge `(from, to, weight)` over node indices.
pub type WeightedEdge = (u32, u32, f64);

/// The account's people graph as index edges: PageRank edges
/// (`report → manager` 1.0, `influenced → influencer` strength) and the
/// undirected simple graph of reports-to ∪ influences.
pub fn org_graph_edges(
    data: &AccountData,
    idx: &HashMap<&PersonId, u32>,
) -> (Vec<WeightedEdge>, Vec<(u32, u32)>) {
    let mut pr = Vec::new();
    let mut und = Vec::new();
    for (i, p) in data.people.iter().enumerate() {
        if let Some(m) = p.reports_to.as_ref().and_then(|m| idx.get(m)) {
            pr.push((i as u32, *m, 1.0));
            und.push((i as u32, *m));
        }
    }
    for inf in &data.influences {
        if let (Some(&a), Some(&b)) = (idx.get(&inf.from), idx.get(&inf.to)) {
            pr.push((b, a, inf.strength.get()));
            und.push((a, b));
        }
    }
    (pr, und)
}

/// Influence of every stakeholder of the account, in `data.people` order.
pub fn account_influence(data: &AccountData, cfg: &ScoringConfig) -> Vec<StakeholderInfluence> {
    let n = data.people.len();
    let idx: HashMap<&PersonId, u32> = data
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.id, i as u32))
        .collect();
    let (pr_edges, und) = org_graph_edges(data, &idx);
    let pr = pagerank(n, &pr_edges, cfg.damping, PAGERANK_TOL);
    let g = SimpleGraph::from_edges(n, und);
    let bc = betweenness(&g);
    let bcn = normalize_betweenness(&bc);
    let broker = brokers(&bc);
    let pr_max = pr.iter().copied().fold(0.0, f64::max);
    let mut out: Vec<StakeholderInfluence> = data
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let prn = if pr_max > 0.0 { pr[i] / pr_max } else { 0.0 };
            let lp = level_prior(p.level);
            let rw = role_weight(p.role);
            StakeholderInfluence {
                person: p.id.clone(),
                influence: 0.0,
                pagerank: pr[i],
                pagerank_norm: prn,
                level_prior: lp,
                role_weight: rw,
                pagerank_part: W_PAGERANK * prn,
                level_part: W_LEVEL * lp,
                role_part: W_ROLE * rw,
                account_max_blend: 0.0,
                betweenness: bc[i],
                betweenness_norm: bcn[i],
                broker: broker[i],
            }
        })
        .collect();
    let blend = |s: &StakeholderInfluence| s.pagerank_part + s.level_part + s.role_part;
    let max = out.iter().map(blend).fold(0.0, f64::max);
    for s in &mut out {
        s.account_max_blend = max;
        s.influence = if max > 0.0 { blend(s) / max } else { 0.0 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagerank_sums_to_one_with_dangling() {
        let pr = pagerank(
            4,
            &[(0, 1, 1.0), (1, 2, 0.5), (2, 0, 1.0), (0, 1, 1.0)],
            0.85,
            1e-12,
        );
        assert!((pr.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(pr[3] < pr[0]);
    }

    #[test]
    fn star_betweenness() {
        // Star with centre 0 and 4 leaves: centre lies on C(4,2) = 6 pairs.
        let g = SimpleGraph::from_edges(5, [(0, 1), (0, 2), (0, 3), (4, 0), (1, 0)]);
        assert_eq!(g.edge_count(), 4);
        let bc = betweenness(&g);
        assert_eq!(bc, vec![6.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(normalize_betweenness(&bc)[0], 1.0);
        assert_eq!(brokers(&bc), vec![true, false, false, false, false]);
    }

    #[test]
    fn path_betweenness_counts_pairs_once() {
        // Path 0-1-2-3: node 1 on {0,2},{0,3}; node 2 on {0,3},{1,3}.
        let g = SimpleGraph::from_edges(4, [(0, 1), (1, 2), (2, 3)]);
        assert_eq!(betweenness(&g), vec![0.0, 2.0, 2.0, 0.0]);
        // Cycle of 4: each node carries half of the one opposite pair.
        let c = SimpleGraph::from_edges(4, [(0, 1), (1, 2), (2, 3), (3, 0)]);
        assert_eq!(betweenness(&c), vec![0.5; 4]);
    }
}
