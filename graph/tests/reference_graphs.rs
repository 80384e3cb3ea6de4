//! The kernels against published figures and NetworkX 3.6.1 on classic
//! organisational networks (data in `tests/data/`, see its README).

use std::collections::HashMap;
use std::path::Path;

use renmai_graph::influence::{
    PAGERANK_TOL, SimpleGraph, betweenness, brokers, normalize_betweenness, pagerank,
};

fn arcs(rel: &str) -> Vec<(String, String)> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (a, b) = l.split_once(',').expect("two columns");
            (a.to_string(), b.to_string())
        })
        .collect()
}

/// Interns names in order of first appearance.
struct Names(HashMap<String, u32>, Vec<String>);
impl Names {
    fn new() -> Self {
        Names(HashMap::new(), Vec::new())
    }
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.0.get(s) {
            return i;
        }
        let i = self.1.len() as u32;
        self.0.insert(s.to_string(), i);
        self.1.push(s.to_string());
        i
    }
}

fn numbered(n: u32) -> Names {
    let mut names = Names::new();
    for i in 1..=n {
        names.id(&i.to_string());
    }
    names
}

#[test]
fn florentine_marriage_betweenness_matches_published_table() {
    // 15 families with a marriage tie (Pucci, an isolate, excluded), as in
    // Padgett & Ansell and networkx.florentine_families_graph().
    let mut names = Names::new();
    let edges: Vec<(u32, u32)> = arcs("florentine_families/marriage.csv")
        .iter()
        .map(|(a, b)| (names.id(a), names.id(b)))
        .collect();
    assert_eq!(edges.len(), 20);
    let g = SimpleGraph::from_edges(names.1.len(), edges.iter().copied());
    assert_eq!(g.node_count(), 15);
    let bc = betweenness(&g);
    let norm = normalize_betweenness(&bc);
    let published = [
        ("Medici", 0.522),
        ("Guadagni", 0.255),
        ("Albizzi", 0.212),
        ("Salviati", 0.143),
        ("Ridolfi", 0.114),
        ("Bischeri", 0.104),
        ("Strozzi", 0.103),
        ("Barbadori", 0.093),
        ("Tornabuoni", 0.092),
        ("Castellani", 0.055),
        ("Peruzzi", 0.022),
        ("Pazzi", 0.0),
        ("Lamberteschi", 0.0),
        ("Ginori", 0.0),
        ("Acciaiuoli", 0.0),
    ];
    for (fam, v) in published {
        let i = names.0[fam] as usize;
        assert!((norm[i] - v).abs() < 5e-4, "{fam}: {} vs {v}", norm[i]);
    }
    // Raw counts (NetworkX normalized=False).
    let raw = |f: &str| bc[names.0[f] as usize];
    assert!((raw("Medici") - 47.5).abs() < 1e-12);
    assert!((raw("Guadagni") - 23.166_666_666_666_664).abs() < 1e-12);
    assert!((raw("Albizzi") - 19.333_333_333_333_336).abs() < 1e-12);
    // The Medici are the one broker of the top decile (2 of 15 nodes).
    let b = brokers(&bc);
    assert!(b[names.0["Medici"] as usize] && b[names.0["Guadagni"] as usize]);
    assert_eq!(b.iter().filter(|&&x| x).count(), 2);

    // With Pucci as an isolate the raw counts do not change; only the
    // normalisation over 16 nodes does.
    let pucci = names.id("Pucci");
    let g16 = SimpleGraph::from_edges(16, edges.iter().copied());
    let bc16 = betweenness(&g16);
    assert_eq!(bc16[pucci as usize], 0.0);
    assert!((bc16[names.0["Medici"] as usize] - 47.5).abs() < 1e-12);
    assert!(
        (normalize_betweenness(&bc16)[names.0["Medici"] as usize] - 47.5 / 105.0).abs() < 1e-12
    );
}

#[test]
fn krackhardt_advice_in_degree_and_pagerank() {
    let mut names = numbered(21);
    let advice: Vec<(u32, u32)> = arcs("krackhardt_hightech/advice.csv")
        .iter()
        .map(|(a, b)| (names.id(a), names.id(b)))
        .collect();
    assert_eq!(advice.len(), 190);
    let reports: Vec<(u32, u32)> = arcs("krackhardt_hightech/reports_to.csv")
        .iter()
        .map(|(a, b)| (names.id(a), names.id(b)))
        .collect();
    let mut indeg = [0u32; 21];
    for &(_, b) in &advice {
        indeg[b as usize] += 1;
    }
    // Manager 2 (a VP) is the most sought for advice (18), then 18 and 21 (15).
    let id = |s: &str| names.0[s] as usize;
    assert_eq!(indeg[id("2")], 18);
    assert_eq!(indeg[id("18")], 15);
    assert_eq!(indeg[id("21")], 15);
    assert!(indeg.iter().all(|&d| d <= 18));

    // PageRank of "goes to for advice" (the adviser receives importance).
    let edges: Vec<(u32, u32, f64)> = advice.iter().map(|&(a, b)| (a, b, 1.0)).collect();
    let pr = pagerank(21, &edges, 0.85, PAGERANK_TOL);
    assert!((pr.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let expected = [
        ("21", 0.163_790_486_736_516_03),
        ("7", 0.104_048_169_897_336_87),
        ("2", 0.093_917_697_969_264_95),
        ("18", 0.072_114_040_161_688_43),
        ("6", 0.071_600_990_284_058_93),
        ("1", 0.049_409_982_062_562_56),
    ];
    let mut order: Vec<usize> = (0..21).collect();
    order.sort_by(|&a, &b| pr[b].total_cmp(&pr[a]));
    for (k, (name, v)) in expected.iter().enumerate() {
        assert_eq!(names.1[order[k]], *name, "rank {k}");
        assert!(
            (pr[id(name)] - v).abs() < 1e-9,
            "{name}: {} vs {v}",
            pr[id(name)]
        );
    }

    // Betweenness of reports-to ∪ advice, undirected (NetworkX: CEO 7 ≈ 3.4715, VP 2 ≈ 6.4100, sum 65).
    let g = SimpleGraph::from_edges(21, reports.iter().chain(&advice).copied());
    let bc = betweenness(&g);
    assert!((bc[id("7")] - 3.471_536_796_536_797).abs() < 1e-9);
    assert!((bc[id("2")] - 6.409_978_909_978_911).abs() < 1e-9);
    assert!((bc.iter().sum::<f64>() - 65.0).abs() < 1e-9);
}

#[test]
fn lazega_advice_pagerank_and_cowork_betweenness() {
    let mut names = numbered(71);
    let advice: Vec<(u32, u32, f64)> = arcs("lazega_lawyers/advice.csv")
        .iter()
        .map(|(a, b)| (names.id(a), names.id(b), 1.0))
        .collect();
    assert_eq!(advice.len(), 892);
    let cowork: Vec<(u32, u32)> = arcs("lazega_lawyers/cowork.csv")
        .iter()
        .map(|(a, b)| (names.id(a), names.id(b)))
        .collect();
    let id = |s: &str| names.0[s] as usize;
    let mut indeg = [0u32; 71];
    for &(_, b, _) in &advice {
        indeg[b as usize] += 1;
    }
    assert_eq!(indeg[id("26")], 37);
    assert_eq!(indeg[id("13")], 34);
    let pr = pagerank(71, &advice, 0.85, PAGERANK_TOL);
    for (name, v) in [
        ("17", 0.055_922_233_776_847_4),
        ("1", 0.045_568_065_878_583_68),
        ("2", 0.043_286_162_438_104_65),
        ("26", 0.039_902_926_115_773_39),
        ("20", 0.038_630_436_634_641_06),
    ] {
        assert!((pr[id(name)] - v).abs() < 1e-9, "{name}");
    }
    let g = SimpleGraph::from_edges(71, cowork);
    assert_eq!(g.edge_count(), 726);
    let bc = betweenness(&g);
    assert!((bc.iter().sum::<f64>() - 1847.0).abs() < 1e-8);
    assert!((bc[id("24")] - 132.158_612_497_330_4).abs() < 1e-9);
    assert!((bc[id("31")] - 99.140_542_258_005_91).abs() < 1e-9);
    assert!((bc[id("26")] - 92.740_195_298_892_81).abs() < 1e-9);
}

#[test]
fn classic_small_graphs() {
    // Complete graph K5: nobody is between anyone.
    let k5: Vec<(u32, u32)> = (0..5).flat_map(|a| (0..5).map(move |b| (a, b))).collect();
    assert_eq!(betweenness(&SimpleGraph::from_edges(5, k5)), vec![0.0; 5]);
    // Path of 5: the middle node is on 2·2 = 4 pairs, its neighbours on 3.
    let p5 = SimpleGraph::from_edges(5, [(0, 1), (1, 2), (2, 3), (3, 4)]);
    assert_eq!(betweenness(&p5), vec![0.0, 3.0, 4.0, 3.0, 0.0]);
    // Two triangles joined by a bridge 2-3.
    let bridge =
        SimpleGraph::from_edges(6, [(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (4, 5), (3, 5)]);
    assert_eq!(betweenness(&bridge), vec![0.0, 0.0, 6.0, 6.0, 0.0, 0.0]);
    // PageRank of a directed cycle is uniform; a sink's mass is spread.
    let pr = pagerank(
        3,
        &[(0, 1, 1.0), (1, 2, 1.0), (2, 0, 1.0)],
        0.85,
        PAGERANK_TOL,
    );
    assert!(pr.iter().all(|&x| (x - 1.0 / 3.0).abs() < 1e-12));
    let pr = pagerank(2, &[(0, 1, 1.0)], 0.85, PAGERANK_TOL);
    // Node 1 dangles: x0 = 0.075 + 0.85·x1/2 and x1 = 0.075 + 0.85·(x0 + x1/2).
    assert!((pr[0] + pr[1] - 1.0).abs() < 1e-12 && pr[1] > pr[0]);
    assert!((pr[0] - (0.075 + 0.425 * pr[1])).abs() < 1e-10);
}
