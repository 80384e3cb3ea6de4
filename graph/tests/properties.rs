//! Property tests of the kernels.

use proptest::prelude::*;
use renmai_graph::Timestamp;
use renmai_graph::closeness::{DecayClock, PairAccumulator, evidence};
use renmai_graph::influence::{SimpleGraph, betweenness, betweenness_brandes, pagerank};
use renmai_graph::paths::{CostGraph, k_shortest_paths, shortest_path, strength_cost};

fn strengths() -> impl Strategy<Value = (usize, Vec<(u32, u32, f64)>)> {
    (2usize..12).prop_flat_map(|n| {
        let e = (0..n as u32, 0..n as u32, 0.05f64..=1.0);
        (Just(n), proptest::collection::vec(e, 0..30))
    })
}

/// Betweenness by definition: Σ over pairs s<t of σ_st(v)/σ_st from BFS counts.
fn brute_betweenness(n: usize, edges: &[(u32, u32)]) -> Vec<f64> {
    let mut adj = vec![vec![false; n]; n];
    for &(a, b) in edges {
        if a != b {
            adj[a as usize][b as usize] = true;
            adj[b as usize][a as usize] = true;
        }
    }
    let bfs = |s: usize| {
        let mut d = vec![usize::MAX; n];
        let mut sigma = vec![0.0; n];
        d[s] = 0;
        sigma[s] = 1.0;
        let mut q = std::collections::VecDeque::from([s]);
        while let Some(v) = q.pop_front() {
            for w in 0..n {
                if adj[v][w] {
                    if d[w] == usize::MAX {
                        d[w] = d[v] + 1;
                        q.push_back(w);
                    }
                    if d[w] == d[v] + 1 {
                        sigma[w] += sigma[v];
                    }
                }
            }
        }
        (d, sigma)
    };
    let all: Vec<_> = (0..n).map(bfs).collect();
    let mut bc = vec![0.0; n];
    for s in 0..n {
        for t in s + 1..n {
            let (ds, ss) = &all[s];
            if ds[t] == usize::MAX {
                continue;
            }
            for v in 0..n {
                let (dv, sv) = &all[v];
                if v != s
                    && v != t
                    && ds[v] != usize::MAX
                    && dv[t] != usize::MAX
                    && ds[v] + dv[t] == ds[t]
                {
                    bc[v] += ss[v] * sv[t] / ss[t];
                }
            }
        }
    }
    bc
}

proptest! {
    #[test]
    fn path_strength_never_exceeds_a_hop((n, edges) in strengths()) {
        let costed: Vec<(u32, u32, f64)> = edges.iter().map(|&(a, b, s)| (a, b, strength_cost(s))).collect();
        let g = CostGraph::from_edges(n, &costed);
        let t = n as u32 - 1;
        let paths = k_shortest_paths(&g, 0, t, 4);
        if let Some((c, _)) = shortest_path(&g, 0, t) {
            prop_assert!((paths[0].0 - c).abs() < 1e-12);
        } else {
            prop_assert!(paths.is_empty());
        }
        for w in paths.windows(2) {
            prop_assert!(w[0].0 <= w[1].0 + 1e-12);
        }
        for (cost, p) in &paths {
            let mut seen = p.clone();
            seen.sort_unstable();
            seen.dedup();
            prop_assert_eq!(seen.len(), p.len(), "simple path");
            let strength = (-cost).exp();
            for h in p.windows(2) {
                let hop = (-g.edge_cost(h[0], h[1]).unwrap()).exp();
                prop_assert!(strength <= hop + 1e-12);
            }
        }
    }

    #[test]
    fn pagerank_sums_to_one((n, edges) in strengths()) {
        let pr = pagerank(n, &edges, 0.85, 1e-12);
        prop_assert!((pr.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        prop_assert!(pr.iter().all(|&x| x > 0.0));
    }

    #[test]
    fn betweenness_matches_definition((n, edges) in strengths()) {
        let e: Vec<(u32, u32)> = edges.iter().map(|&(a, b, _)| (a, b)).collect();
        let fast = betweenness(&SimpleGraph::from_edges(n, e.iter().copied()));
        let g = SimpleGraph::from_edges(n, e.iter().copied());
        let plain = betweenness_brandes(&g);
        let slow = brute_betweenness(n, &e);
        for ((a, b), c) in fast.iter().zip(&slow).zip(&plain) {
            prop_assert!((a - b).abs() < 1e-9 && (c - b).abs() < 1e-9, "{:?} {:?} vs {:?}", fast, plain, slow);
        }
    }

    #[test]
    fn closeness_monotone_in_added_interactions(
        events in proptest::collection::vec((1.0f64..=5.0, 0i64..100_000_000), 0..40),
        extra in (1.0f64..=5.0, 0i64..100_000_000),
    ) {
        let clock = DecayClock::new(Timestamp::from_epoch_seconds(1_767_225_600), 90.0);
        let base = 1_767_225_600 - 100_000_000;
        let mut acc = PairAccumulator::default();
        for &(w, t) in &events {
            acc.add(&clock, w, base + t);
        }
        let before = evidence(acc.raw, 10.0);
        acc.add(&clock, extra.0, base + extra.1);
        let after = evidence(acc.raw, 10.0);
        prop_assert!(after >= before);
        prop_assert!((0.0..1.0).contains(&after) || after == 1.0);
    }
}
