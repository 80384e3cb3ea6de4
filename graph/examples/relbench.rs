//! relbench: steps (a)–(d) of `shared/bench/README.md` ("The computation
//! contract") on a bundle written by `gen.py`, with the crate's own kernels.
//!
//! ```sh
//! python3 /work/shared/bench/gen.py --scale medium        # writes /tmp/relbench/medium
//! cargo run --release -p renmai-graph --example relbench -- /tmp/relbench/medium > out.txt
//! python3 /work/shared/bench/compare.py /work/shared/bench/expected/medium.txt out.txt
//! ```
//!
//! Prints `TIME <step> <s>` and `CHECK <name> <value>` like the Python
//! references. Step (a) maps `interactions.csv` in 64 chunks (each mapped,
//! scanned and unmapped in turn, so the resident set never holds the file),
//! parses rows by hand (word-at-a-time field scans) and folds them into
//! per-job maps of [`PairAccumulator`] (one hash probe per row), which are
//! merged. Steps (b)–(d) run per account with rayon.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hasher};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;
use renmai_graph::closeness::{DecayClock, PairAccumulator, evidence};
use renmai_graph::config::ScoringConfig;
use renmai_graph::coverage::group_coverage;
use renmai_graph::influence::{PAGERANK_TOL, SimpleGraph, WeightedEdge, betweenness, pagerank};
use renmai_graph::paths::{CostGraph, k_shortest_paths, shortest_path, strength_cost};
use renmai_graph::{InteractionKind, Timestamp};

const AS_OF_EPOCH: i64 = 1_767_225_600;
const STRONG_TIE: f64 = 0.5;
const K_PATHS: usize = 3;

/// Fx-style hasher for the `u64` pair keys: one multiply, one rotate.
#[derive(Default)]
struct PairHasher(u64);
impl Hasher for PairHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    #[inline]
    fn write_u64(&mut self, k: u64) {
        self.0 = (k ^ (k >> 29))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(26);
    }
}
type PairMap = HashMap<u64, PairAccumulator, BuildHasherDefault<PairHasher>>;

fn timed<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    println!("TIME {name} {:.3}", t.elapsed().as_secs_f64());
    r
}

/// Python's `{:.12g}`.
fn g12(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let e = format!("{x:.11e}");
    let (mant, exp) = e.split_once('e').expect("exponent");
    let exp: i32 = exp.parse().expect("int");
    if !(-4..12).contains(&exp) {
        let m = mant.trim_end_matches('0').trim_end_matches('.');
        return format!("{m}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    let prec = (11 - exp).max(0) as usize;
    let s = format!("{x:.prec$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn check_f(name: &str, v: f64) {
    println!("CHECK {name} {}", g12(v));
}
fn check_i(name: &str, v: usize) {
    println!("CHECK {name} {v}");
}

/// Neumaier-compensated sum.
fn fsum(it: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in it {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
    }
    s + c
}

fn read_table(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The first 8 comma-separated fields of each data row, without allocating.
fn rows(text: &str) -> impl Iterator<Item = [&str; 8]> {
    text.lines().skip(1).filter(|l| !l.is_empty()).map(|l| {
        let mut f = [""; 8];
        for (slot, x) in f.iter_mut().zip(l.split(',')) {
            *slot = x;
        }
        f
    })
}

#[derive(Clone, Copy, Default)]
struct Person {
    org: u32,
    level: u8,
    dept: u16,
    /// Index into `ROLES`; 0 = none.
    role: u8,
    reports_to: u32, // 0 = none
    ours: bool,
}

const ROLES: [&str; 7] = [
    "none",
    "economic_buyer",
    "technical_buyer",
    "user_buyer",
    "coach",
    "procurement",
    "gatekeeper",
];

/// Days from 1970-01-01 of a civil date (Howard Hinnant's algorithm).
#[inline]
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[inline]
fn num2(b: &[u8]) -> i64 {
    i64::from(b[0] - b'0') * 10 + i64::from(b[1] - b'0')
}

/// `YYYY-MM-DDTHH:MM:SSZ` to epoch seconds.
#[inline]
fn parse_ts(b: &[u8]) -> i64 {
    let y = num2(&b[0..2]) * 100 + num2(&b[2..4]);
    let days = days_from_civil(y, num2(&b[5..7]), num2(&b[8..10]));
    days * 86_400 + num2(&b[11..13]) * 3600 + num2(&b[14..16]) * 60 + num2(&b[17..19])
}

/// Bytes before the first ',' in `b[..8]` (8 when there is none), found
/// with one word compare instead of a byte loop whose exit mispredicts.
#[inline]
fn field_len8(b: &[u8]) -> usize {
    let w = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    let x = w ^ 0x2C2C_2C2C_2C2C_2C2C;
    let t = x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080;
    (t.trailing_zeros() / 8) as usize
}

/// The `len` (1..=8) ASCII digits at the start of `b`, parsed as one word
/// (SWAR: pairs, then quads, then the octet).
#[inline]
fn digits8(b: &[u8], len: usize) -> u32 {
    let w = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    let v = (w << (64 - 8 * len)) & 0x0F0F_0F0F_0F0F_0F0F;
    let v = v.wrapping_mul(2561) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    ((v & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001) >> 32) as u32
}

/// Skips a field and its comma.
#[inline]
fn skip_field(b: &[u8], pos: &mut usize) {
    let len = field_len8(&b[*pos..]);
    if len < 8 {
        *pos += len + 1;
    } else {
        while b[*pos] != b',' {
            *pos += 1;
        }
        *pos += 1;
    }
}

/// Parses an unsigned id and its comma.
#[inline]
fn parse_u32(b: &[u8], pos: &mut usize) -> u32 {
    let len = field_len8(&b[*pos..]);
    if (1..8).contains(&len) {
        let v = digits8(&b[*pos..], len);
        *pos += len + 1;
        return v;
    }
    let mut v = 0u32;
    while b[*pos] != b',' {
        v = v * 10 + u32::from(b[*pos] - b'0');
        *pos += 1;
    }
    *pos += 1;
    v
}

/// Kind and name length by the low 5 bits of the first two letters (all
/// distinct for the eight kinds): a table load instead of a match.
fn kind_table() -> Vec<(InteractionKind, u8)> {
    let mut t = vec![(InteractionKind::ServiceCase, 0u8); 1024];
    for &k in InteractionKind::ALL {
        let name = k.as_str().as_bytes();
        t[usize::from(name[0] & 31) * 32 + usize::from(name[1] & 31)] = (k, name.len() as u8);
    }
    t
}

#[inline]
fn kind_of(table: &[(InteractionKind, u8)], b: &[u8]) -> (InteractionKind, usize) {
    let (k, len) = table[usize::from(b[0] & 31) * 32 + usize::from(b[1] & 31)];
    assert!(len > 0, "unknown interaction kind");
    (k, usize::from(len))
}

struct ChunkResult {
    map: PairMap,
    used: usize,
    skipped: usize,
}

impl ChunkResult {
    fn new() -> Self {
        ChunkResult {
            map: PairMap::default(),
            used: 0,
            skipped: 0,
        }
    }
    /// Merges the smaller map into the larger.
    fn merge(a: Self, b: Self) -> Self {
        let (mut big, small) = if a.map.len() >= b.map.len() {
            (a, b)
        } else {
            (b, a)
        };
        for (k, v) in small.map {
            big.map.entry(k).or_default().merge(v);
        }
        big.used += small.used;
        big.skipped += small.skipped;
        big
    }
}

/// Longest row read past a chunk's end to finish its last row.
const MAX_LINE: usize = 4096;

/// Rows parsed before their map updates run: a tight update loop keeps many
/// independent cache misses in flight, which the parse-then-probe loop
/// cannot (measured ~30% faster on the large bundle).
const BATCH: usize = 256;

/// Step (a) over one chunk of whole lines.
#[allow(clippy::too_many_arguments)]
fn scan_chunk(
    mut acc: ChunkResult,
    buf: &[u8],
    start: usize,
    limit: usize,
    ours: &[bool],
    weights: &[f64; 8],
    kinds: &[(InteractionKind, u8)],
    clock: &DecayClock,
) -> ChunkResult {
    let ChunkResult {
        ref mut map,
        ref mut used,
        ref mut skipped,
    } = acc;
    let mut keys = [0u64; BATCH];
    let mut wts = [0f64; BATCH];
    let mut times = [0i64; BATCH];
    // Rows starting before `limit` are ours; `buf` runs on past `limit` to
    // the end of the last of them.
    let mut pos = start;
    let n = buf.len();
    while pos < limit {
        let mut k = 0;
        while pos < limit && k < BATCH {
            // Rows look like `id,from,to,kind,YYYY-MM-DDTHH:MM:SSZ,direction\n`.
            skip_field(buf, &mut pos);
            let a = parse_u32(buf, &mut pos);
            let b = parse_u32(buf, &mut pos);
            let (kind, klen) = kind_of(kinds, &buf[pos..]);
            pos += klen + 1;
            let ts = parse_ts(&buf[pos..pos + 20]);
            pos += 20;
            // ",outbound\n" and ",internal\n" are 10 bytes, ",inbound\n" 9.
            pos += 10 - usize::from(buf[pos + 3] == b'b');
            if buf[pos - 1] != b'\n' {
                // Not the generator's layout: find the line end.
                pos -= 1;
                while pos < n && buf[pos] != b'\n' {
                    pos += 1;
                }
                pos += 1;
            }
            let (oa, ob) = (ours[a as usize], ours[b as usize]);
            if oa == ob {
                *skipped += 1;
                continue;
            }
            keys[k] = if oa {
                (u64::from(a) << 32) | u64::from(b)
            } else {
                (u64::from(b) << 32) | u64::from(a)
            };
            wts[k] = weights[kind as usize];
            times[k] = ts;
            k += 1;
        }
        for i in 0..k {
            map.entry(keys[i]).or_default().add(clock, wts[i], times[i]);
        }
        *used += k;
    }
    acc
}

fn main() {
    let t0 = Instant::now();
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/relbench/small".into());
    let dir = Path::new(&dir);
    let cfg = ScoringConfig {
        coverage_threshold: STRONG_TIE,
        ..ScoringConfig::default()
    };

    // ------------------------------------------------------------ load small tables
    let (people, accounts, acc_people, teams, influences) = timed("load_people", || {
        let orgs = read_table(dir, "organizations.csv");
        let mut our_orgs = Vec::new();
        for r in rows(&orgs) {
            if r[4] == "1" {
                our_orgs.push(r[0].parse::<u32>().expect("org id"));
            }
        }
        let ptxt = read_table(dir, "people.csv");
        let mut people: Vec<Person> = Vec::new();
        let mut depts: HashMap<String, u16> = HashMap::new();
        for r in rows(&ptxt) {
            let id: usize = r[0].parse().expect("person id");
            let org: u32 = r[1].parse().expect("org id");
            if people.len() <= id {
                people.resize(id + 1, Person::default());
            }
            let nd = depts.len() as u16;
            let dept = match depts.get(r[5]) {
                Some(&d) => d,
                None => {
                    depts.insert(r[5].to_string(), nd);
                    nd
                }
            };
            people[id] = Person {
                org,
                level: r[4].parse().expect("level"),
                dept,
                role: ROLES.iter().position(|x| *x == r[6]).expect("role") as u8,
                reports_to: if r[7].is_empty() {
                    0
                } else {
                    r[7].parse().expect("reports_to")
                },
                ours: our_orgs.contains(&org),
            };
        }
        // Accounts: customer orgs with people, sorted; people per account.
        let mut by_org: HashMap<u32, Vec<u32>> = HashMap::new();
        for (id, p) in people.iter().enumerate() {
            if id > 0 && !p.ours && (p.level > 0) {
                by_org.entry(p.org).or_default().push(id as u32);
            }
        }
        let mut accounts: Vec<u32> = by_org.keys().copied().collect();
        accounts.sort_unstable();
        let acc_people: Vec<Vec<u32>> = accounts
            .iter()
            .map(|o| by_org.remove(o).expect("org"))
            .collect();
        let ttxt = read_table(dir, "account_team.csv");
        let acc_index: HashMap<u32, usize> =
            accounts.iter().enumerate().map(|(i, &o)| (o, i)).collect();
        let mut teams: Vec<Vec<u32>> = vec![Vec::new(); accounts.len()];
        for r in rows(&ttxt) {
            let org: u32 = r[0].parse().expect("org");
            let s: u32 = r[1].parse().expect("seller");
            if let Some(&i) = acc_index.get(&org)
                && !teams[i].contains(&s)
            {
                teams[i].push(s);
            }
        }
        let itxt = read_table(dir, "influences.csv");
        let mut influences: Vec<Vec<(u32, u32, f64)>> = vec![Vec::new(); accounts.len()];
        for r in rows(&itxt) {
            let a: u32 = r[0].parse().expect("influencer");
            let b: u32 = r[1].parse().expect("influenced");
            let s: f64 = r[3].parse().expect("strength");
            if let Some(&i) = acc_index.get(&people[a as usize].org) {
                influences[i].push((a, b, s));
            }
        }
        (people, accounts, acc_people, teams, influences)
    });
    let ours: Vec<bool> = people.iter().map(|p| p.ours).collect();
    let acc_of_org: HashMap<u32, usize> =
        accounts.iter().enumerate().map(|(i, &o)| (o, i)).collect();
    // Local index of each customer person within its account.
    let mut local = vec![u32::MAX; people.len()];
    for ps in &acc_people {
        for (i, &p) in ps.iter().enumerate() {
            local[p as usize] = i as u32;
        }
    }

    // ------------------------------------------------------------ (a) tie strength
    let (pairs, used, skipped) = timed("a_tie_strength", || {
        // One short-lived map per chunk: no copy out of the page cache, and
        // the process never holds the 540 MB file at once (a whole-file map
        // counts all of it in the resident set: 590 MB instead of ~70 MB).
        let file = File::open(dir.join("interactions.csv")).expect("interactions.csv");
        let len = file.metadata().expect("metadata").len() as usize;
        let mut head = vec![0u8; len.min(4096)];
        file.read_exact_at(&mut head, 0).expect("read header");
        let body_start = memchr::memchr(b'\n', &head).map_or(len, |i| i + 1);
        // Many chunks, folded into one map per rayon job and reduced: work
        // stealing evens out a core that is busy elsewhere.
        let parts = 64;
        let bounds: Vec<usize> = (0..=parts)
            .map(|k| body_start + (len - body_start) * k / parts)
            .collect();
        let clock = DecayClock::new(
            Timestamp::from_epoch_seconds(AS_OF_EPOCH),
            cfg.half_life_days,
        );
        let kinds = kind_table();
        let mut weights = [0.0; 8];
        for &k in InteractionKind::ALL {
            weights[k as usize] = cfg.weights.of(k);
        }
        let ChunkResult { map, used, skipped } = bounds
            .windows(2)
            .collect::<Vec<_>>()
            .into_par_iter()
            .fold(ChunkResult::new, |acc, w| {
                // Read from one byte early to see whether a row starts at
                // w[0], and up to a line past w[1] to finish the last row.
                let from = if w[0] == body_start { w[0] } else { w[0] - 1 };
                let to = (w[1] + MAX_LINE).min(len);
                // SAFETY: the file is only read, and not modified while mapped
                // (bench data). The map lives for this chunk only.
                let map = unsafe {
                    memmap2::MmapOptions::new()
                        .offset(from as u64)
                        .len(to - from)
                        .populate()
                        .map(&file)
                }
                .expect("mmap chunk");
                let buf: &[u8] = &map;
                let start = if from == w[0] {
                    0
                } else {
                    memchr::memchr(b'\n', buf).map_or(buf.len(), |i| i + 1)
                };
                scan_chunk(
                    acc,
                    buf,
                    start,
                    w[1] - from,
                    &ours,
                    &weights,
                    &kinds,
                    &clock,
                )
            })
            .reduce(ChunkResult::new, ChunkResult::merge);
        let mut pairs: Vec<(u32, u32, f64)> = map
            .into_iter()
            .map(|(k, v)| ((k >> 32) as u32, k as u32, v.raw))
            .collect();
        pairs.sort_unstable_by_key(|&(a, b, _)| (a, b));
        (pairs, used, skipped)
    });
    let scale = cfg.evidence_scale;
    check_i("a.rows_used", used);
    check_i("a.rows_skipped", skipped);
    check_i("a.pairs", pairs.len());
    check_f("a.raw_sum", fsum(pairs.iter().map(|p| p.2)));
    check_f(
        "a.closeness_sum",
        fsum(pairs.iter().map(|p| evidence(p.2, scale))),
    );
    check_i(
        "a.strong_pairs",
        pairs
            .iter()
            .filter(|p| evidence(p.2, scale) >= STRONG_TIE)
            .count(),
    );
    check_f("a.raw_max", pairs.iter().map(|p| p.2).fold(0.0, f64::max));

    // Ties bucketed by the account of their customer person.
    let mut acc_ties: Vec<Vec<(u32, u32, f64)>> = vec![Vec::new(); accounts.len()];
    for &(s, c, raw) in &pairs {
        if let Some(&i) = acc_of_org.get(&people[c as usize].org) {
            acc_ties[i].push((s, local[c as usize], evidence(raw, scale)));
        }
    }
    let target: Vec<u32> = acc_people
        .iter()
        .map(|ps| {
            let t = ps
                .iter()
                .copied()
                .min_by_key(|&p| (people[p as usize].level, p))
                .expect("non-empty account");
            local[t as usize]
        })
        .collect();
    let idx: Vec<usize> = (0..accounts.len()).collect();

    // ------------------------------------------------------------ (b) influence
    let org_graphs: Vec<(Vec<WeightedEdge>, SimpleGraph)> = timed("b_build_org_graphs", || {
        idx.par_iter()
            .map(|&i| {
                let ps = &acc_people[i];
                let mut pr = Vec::with_capacity(ps.len() + influences[i].len());
                let mut und = Vec::with_capacity(ps.len() + influences[i].len());
                for (li, &p) in ps.iter().enumerate() {
                    let m = people[p as usize].reports_to;
                    if m != 0 {
                        pr.push((li as u32, local[m as usize], 1.0));
                        und.push((li as u32, local[m as usize]));
                    }
                }
                for &(a, b, s) in &influences[i] {
                    let (a, b) = (local[a as usize], local[b as usize]);
                    pr.push((b, a, s));
                    und.push((a, b));
                }
                let g = SimpleGraph::from_edges(ps.len(), und);
                (pr, g)
            })
            .collect()
    });
    let pr: Vec<Vec<f64>> = timed("b_pagerank", || {
        idx.par_iter()
            .map(|&i| {
                pagerank(
                    acc_people[i].len(),
                    &org_graphs[i].0,
                    cfg.damping,
                    PAGERANK_TOL,
                )
            })
            .collect()
    });
    check_f("b.pr_sum", fsum(pr.iter().flatten().copied()));
    check_f("b.pr_sum_sq", fsum(pr.iter().flatten().map(|x| x * x)));
    check_f(
        "b.pr_level_sum",
        fsum(pr.iter().zip(&acc_people).flat_map(|(v, ps)| {
            v.iter()
                .zip(ps)
                .map(|(x, &p)| x * f64::from(people[p as usize].level))
        })),
    );
    check_f(
        "b.pr_max_sum",
        fsum(pr.iter().map(|v| v.iter().copied().fold(0.0, f64::max))),
    );
    check_f(
        "b.pr_target_sum",
        fsum(idx.iter().map(|&i| pr[i][target[i] as usize])),
    );
    let bc: Vec<Vec<f64>> = timed("b_betweenness", || {
        // Largest accounts first so the two threads finish together.
        let mut order = idx.clone();
        order.sort_by_key(|&i| std::cmp::Reverse(acc_people[i].len()));
        let mut out: Vec<(usize, Vec<f64>)> = order
            .par_iter()
            .with_max_len(1)
            .map(|&i| (i, betweenness(&org_graphs[i].1)))
            .collect();
        out.sort_unstable_by_key(|x| x.0);
        out.into_iter().map(|x| x.1).collect()
    });
    check_f("b.bc_sum", fsum(bc.iter().flatten().copied()));
    check_f(
        "b.bc_max_sum",
        fsum(bc.iter().map(|v| v.iter().copied().fold(0.0, f64::max))),
    );
    check_f(
        "b.bc_target_sum",
        fsum(idx.iter().map(|&i| bc[i][target[i] as usize])),
    );

    // ------------------------------------------------------------ (c) influence paths
    // Nodes: 0 = source, 1..=S = team sellers, S+1.. = the account's people.
    let path_graphs: Vec<(CostGraph, u32)> = timed("c_build_path_graphs", || {
        idx.par_iter()
            .map(|&i| {
                let team = &teams[i];
                let s = team.len() as u32;
                let n = 1 + team.len() + acc_people[i].len();
                let mut edges: Vec<(u32, u32, f64)> = Vec::new();
                for k in 0..s {
                    edges.push((0, k + 1, 0.0));
                }
                for &(seller, c, cl) in &acc_ties[i] {
                    if let Some(k) = team.iter().position(|&t| t == seller)
                        && cl > 0.0
                    {
                        edges.push((k as u32 + 1, 1 + s + c, strength_cost(cl)));
                    }
                }
                let mut cc: Vec<(u32, u32, f64)> = Vec::new();
                for (li, &p) in acc_people[i].iter().enumerate() {
                    let m = people[p as usize].reports_to;
                    if m != 0 {
                        let (a, b) = (li as u32, local[m as usize]);
                        cc.push((a.min(b), a.max(b), cfg.reports_to_strength));
                    }
                }
                for &(a, b, st) in &influences[i] {
                    let (a, b) = (local[a as usize], local[b as usize]);
                    cc.push((a.min(b), a.max(b), st));
                }
                cc.sort_unstable_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)).then(y.2.total_cmp(&x.2)));
                cc.dedup_by_key(|x| (x.0, x.1));
                for (a, b, st) in cc {
                    let w = strength_cost(st);
                    edges.push((1 + s + a, 1 + s + b, w));
                    edges.push((1 + s + b, 1 + s + a, w));
                }
                (CostGraph::from_edges(n, &edges), 1 + s + target[i])
            })
            .collect()
    });
    let best: Vec<Option<f64>> = timed("c_best_path_dijkstra", || {
        path_graphs
            .par_iter()
            .map(|(g, t)| shortest_path(g, 0, *t).map(|x| x.0))
            .collect()
    });
    let reach: Vec<f64> = best.iter().flatten().copied().collect();
    check_i("c.reachable", reach.len());
    check_f("c.best_cost_sum", fsum(reach.iter().copied()));
    check_f(
        "c.best_strength_sum",
        fsum(reach.iter().map(|c| (-c).exp())),
    );
    let kcosts: Vec<Vec<f64>> = timed("c_k3_paths_yen", || {
        path_graphs
            .par_iter()
            .with_max_len(1)
            .map(|(g, t)| {
                k_shortest_paths(g, 0, *t, K_PATHS)
                    .into_iter()
                    .map(|(_, p)| {
                        fsum(p.windows(2).map(|w| g.edge_cost(w[0], w[1]).expect("edge")))
                    })
                    .collect()
            })
            .collect()
    });
    check_i("c.k_paths", kcosts.iter().map(Vec::len).sum());
    check_f("c.k_cost_sum", fsum(kcosts.iter().flatten().copied()));
    check_f(
        "c.kth_cost_sum",
        fsum(kcosts.iter().filter_map(|c| c.last().copied())),
    );

    // ------------------------------------------------------------ (d) coverage
    let cov: Vec<(usize, [usize; 3], usize, usize)> = timed("d_coverage", || {
        idx.par_iter()
            .map(|&i| {
                let ps = &acc_people[i];
                let mut best = vec![0.0f64; ps.len()];
                for &(_, c, cl) in &acc_ties[i] {
                    best[c as usize] = best[c as usize].max(cl);
                }
                let entries = ps.iter().zip(&best).flat_map(|(&p, &b)| {
                    let pp = people[p as usize];
                    let strong = b >= cfg.coverage_threshold;
                    let role = (pp.role != 0).then_some(((0u8, u32::from(pp.role)), strong));
                    role.into_iter().chain([
                        ((1u8, u32::from(pp.dept)), strong),
                        ((2u8, u32::from(pp.level)), strong),
                    ])
                });
                let table = group_coverage(entries);
                let mut gaps = [0usize; 3];
                for ((dim, _), (_, strong)) in &table {
                    if *strong == 0 {
                        gaps[*dim as usize] += 1;
                    }
                }
                let strong_people = best
                    .iter()
                    .filter(|&&b| b >= cfg.coverage_threshold)
                    .count();
                (table.len(), gaps, strong_people, ps.len())
            })
            .collect()
    });
    let groups: usize = cov.iter().map(|c| c.0).sum();
    let gaps = |d: usize| cov.iter().map(|c| c.1[d]).sum::<usize>();
    check_i("d.groups", groups);
    check_i("d.gaps", gaps(0) + gaps(1) + gaps(2));
    check_i("d.gaps_role", gaps(0));
    check_i("d.gaps_department", gaps(1));
    check_i("d.gaps_level", gaps(2));
    check_i("d.strong_people", cov.iter().map(|c| c.2).sum());
    check_f(
        "d.coverage_sum",
        fsum(cov.iter().map(|c| {
            let g = c.0 as f64;
            (g - c.1.iter().sum::<usize>() as f64) / g
        })),
    );
    println!("TIME total {:.3}", t0.elapsed().as_secs_f64());
}
