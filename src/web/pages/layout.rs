//! Org-chart positions for the stakeholder map of a large account, computed
//! here so the browser draws at once instead of running a layout.
//!
//! A plain tidy tree of a 2,000-person account is one row of hundreds of
//! teams: 70,000 units wide and 700 high, so fitted to a 3:2 map box every
//! person is a dot and the chart a thin line. This is a tidy tree that wraps:
//! a manager sits above their reports; reports who manage nobody form a
//! compact grid; and a manager whose reports' teams side by side would be
//! wider than a limit lays them out in rows (shelves) under them instead of
//! one long row. The limit is chosen per chart so the whole chart is as
//! close as it can get to the box's shape; teams narrower than the limit keep
//! the ordinary one-row tree, so wrapping happens only near the top.
//!
//! Units are the map's: 1 unit is one pixel at zoom 1 (node sizes are 18 to
//! 60). The function is pure and O(n) per width tried.

/// Horizontal distance between neighbouring people.
pub const SLOT: f64 = 70.0;
/// From a manager's row down to their reports' first row.
pub const LEVEL: f64 = 110.0;
/// Between rows of a grid of reports who manage nobody.
pub const LEAF_ROW: f64 = 55.0;
/// Extra space between two shelves of teams under one manager.
const SHELF_GAP: f64 = 55.0;
/// More reports who manage nobody than this form a grid, not a row.
const LEAF_WRAP: usize = 3;
/// The shape the chart should fit best (width : height); the map box on the
/// page is about 3:2.
const ASPECT: f64 = 1.5;

/// Top-left corner of every person's position, `(x, y)` in map units, with
/// the first row at `y = 0`. `manager[i]` is the index of person `i`'s
/// manager; out-of-range, self and cyclic references are treated as "no
/// manager" (a cycle is cut where its lowest index is met). Reports are
/// laid out in index order, so callers sort people (by name) first.
pub fn org_chart(manager: &[Option<usize>]) -> Vec<(f64, f64)> {
    let forest = Forest::new(manager);
    if forest.order.is_empty() {
        return Vec::new();
    }
    // Try wrap limits from "square" to "never wrap"; keep the one whose
    // chart fills a box of the target shape best.
    let score = |(w, h): (f64, f64)| (w / ASPECT).max(h);
    let unwrapped = forest.blocks(f64::INFINITY);
    let widest = unwrapped.top.0;
    let mut best = (score(unwrapped.top), f64::INFINITY);
    let mut limit = SLOT * (manager.len() as f64).sqrt().max(1.0);
    while limit < widest {
        let s = score(forest.blocks(limit).top);
        if s < best.0 {
            best = (s, limit);
        }
        limit *= 1.15;
    }
    let chosen = if best.1.is_finite() {
        forest.blocks(best.1)
    } else {
        unwrapped
    };
    forest.place(&chosen)
}

/// The reports-to forest with every person in exactly one tree.
struct Forest {
    /// Tree children, in index order.
    kids: Vec<Vec<usize>>,
    /// Tree roots, in index order.
    roots: Vec<usize>,
    /// Every person, children after their parent (pre-order).
    order: Vec<usize>,
}

/// One block per person for a given wrap limit: the size of their team's
/// drawing and where each report's block sits in it.
struct Blocks {
    /// Width and height of the block of person i's team (i included).
    size: Vec<(f64, f64)>,
    /// x of person i inside their own block.
    own_x: Vec<f64>,
    /// Top-left of person i's block inside their manager's block (or
    /// inside the whole chart, for roots).
    at: Vec<(f64, f64)>,
    /// Size of the whole chart.
    top: (f64, f64),
}

impl Forest {
    fn new(manager: &[Option<usize>]) -> Self {
        let n = manager.len();
        let mut kids: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, m) in manager.iter().enumerate() {
            if let Some(m) = *m
                && m < n
                && m != i
            {
                kids[m].push(i);
            }
        }
        // Claim people tree by tree from the real roots; anyone left over
        // sits on (or under) a reports-to cycle and becomes a root where the
        // cycle is first met, so nobody is placed twice or not at all.
        let mut claimed = vec![false; n];
        let mut tree: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut roots = Vec::new();
        let mut order = Vec::with_capacity(n);
        let real_roots = (0..n).filter(|&i| !matches!(manager[i], Some(m) if m < n && m != i));
        for r in real_roots.chain(0..n) {
            if claimed[r] {
                continue;
            }
            claimed[r] = true;
            roots.push(r);
            let mut stack = vec![r];
            while let Some(v) = stack.pop() {
                order.push(v);
                for &c in &kids[v] {
                    if !claimed[c] {
                        claimed[c] = true;
                        tree[v].push(c);
                    }
                }
                stack.extend(tree[v].iter().rev());
            }
        }
        roots.sort_unstable();
        Forest {
            kids: tree,
            roots,
            order,
        }
    }

    /// Block sizes bottom-up for one wrap limit.
    fn blocks(&self, limit: f64) -> Blocks {
        let n = self.kids.len();
        let mut b = Blocks {
            size: vec![(SLOT, LEAF_ROW); n],
            own_x: vec![SLOT / 2.0; n],
            at: vec![(0.0, 0.0); n],
            top: (0.0, 0.0),
        };
        for &v in self.order.iter().rev() {
            if self.kids[v].is_empty() {
                continue;
            }
            let (w, h) = self.pack(&self.kids[v], limit, &mut b, LEVEL, false);
            b.size[v] = (w.max(SLOT), h);
            b.own_x[v] = b.size[v].0 / 2.0;
        }
        b.top = self.pack(&self.roots, limit, &mut b, 0.0, true);
        b
    }

    /// Lays out the blocks of `members` (people under one manager, or the
    /// roots) below a first row `below` units down: reports who manage
    /// nobody first, as a grid when there are many, then teams on shelves no
    /// wider than `limit` (a team wider than that gets a shelf of its own).
    /// At the top (`roots`), people with neither manager nor reports come
    /// last instead, under the org chart. Records where each block sits and
    /// returns the total size.
    fn pack(
        &self,
        members: &[usize],
        limit: f64,
        b: &mut Blocks,
        below: f64,
        roots: bool,
    ) -> (f64, f64) {
        let leaves: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&c| self.kids[c].is_empty())
            .collect();
        // Items: (width, height, who); a grid is one item.
        let mut items: Vec<(f64, f64, Item)> = Vec::new();
        if leaves.len() > LEAF_WRAP {
            let cols = ((leaves.len() as f64).sqrt().ceil() as usize)
                .min(((limit / SLOT).floor() as usize).max(1));
            let rows = leaves.len().div_ceil(cols);
            let grid = (
                cols as f64 * SLOT,
                rows as f64 * LEAF_ROW,
                Item::Grid(leaves, cols),
            );
            for &c in members.iter().filter(|&&c| !self.kids[c].is_empty()) {
                items.push((b.size[c].0, b.size[c].1, Item::One(c)));
            }
            if roots {
                items.push(grid);
            } else {
                items.insert(0, grid);
            }
        } else {
            for &c in members {
                items.push((b.size[c].0, b.size[c].1, Item::One(c)));
            }
        }
        // Shelves, each centred under the widest.
        let mut shelves: Vec<(f64, f64, Vec<usize>)> = Vec::new(); // width, height, item indexes
        for (k, item) in items.iter().enumerate() {
            match shelves.last_mut() {
                Some(s) if s.0 + item.0 <= limit => {
                    s.0 += item.0;
                    s.1 = s.1.max(item.1);
                    s.2.push(k);
                }
                _ => shelves.push((item.0, item.1, vec![k])),
            }
        }
        let width = shelves.iter().map(|s| s.0).fold(0.0, f64::max);
        let mut y = below;
        for (s, shelf) in shelves.iter().enumerate() {
            if s > 0 {
                y += SHELF_GAP;
            }
            let mut x = (width - shelf.0) / 2.0;
            for &k in &shelf.2 {
                let (w, _, ref item) = items[k];
                match item {
                    Item::One(c) => b.at[*c] = (x, y),
                    Item::Grid(leaves, cols) => {
                        for (i, &c) in leaves.iter().enumerate() {
                            b.at[c] = (
                                x + (i % cols) as f64 * SLOT,
                                y + (i / cols) as f64 * LEAF_ROW,
                            );
                        }
                    }
                }
                x += w;
            }
            y += shelf.1;
        }
        (width, y)
    }

    /// Absolute positions top-down from the blocks.
    fn place(&self, b: &Blocks) -> Vec<(f64, f64)> {
        let n = self.kids.len();
        let mut corner = vec![(0.0, 0.0); n];
        let mut pos = vec![(0.0, 0.0); n];
        for &v in &self.order {
            if self.roots.binary_search(&v).is_ok() {
                corner[v] = b.at[v];
            }
            pos[v] = (corner[v].0 + b.own_x[v], corner[v].1);
            for &c in &self.kids[v] {
                corner[c] = (corner[v].0 + b.at[c].0, corner[v].1 + b.at[c].1);
            }
        }
        pos
    }
}

enum Item {
    One(usize),
    /// People who manage nobody, row by row, `cols` to a row.
    Grid(Vec<usize>, usize),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn bbox(p: &[(f64, f64)]) -> (f64, f64) {
        let w = p.iter().map(|q| q.0).fold(f64::MIN, f64::max)
            - p.iter().map(|q| q.0).fold(f64::MAX, f64::min);
        let h = p.iter().map(|q| q.1).fold(f64::MIN, f64::max)
            - p.iter().map(|q| q.1).fold(f64::MAX, f64::min);
        (w, h)
    }

    /// No two people closer than a grid's row spacing.
    fn assert_apart(p: &[(f64, f64)]) {
        for (i, a) in p.iter().enumerate() {
            for (j, b) in p.iter().enumerate().skip(i + 1) {
                let d = ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
                assert!(d >= LEAF_ROW - 1e-9, "{i} {a:?} and {j} {b:?}");
            }
        }
    }

    #[test]
    fn empty_and_single() {
        assert!(org_chart(&[]).is_empty());
        let p = org_chart(&[None]);
        assert_eq!(p.len(), 1);
        assert!(p[0].0.is_finite() && close(p[0].1, 0.0));
    }

    #[test]
    fn a_manager_sits_centred_above_their_reports() {
        // 0 manages 1 and 2.
        let p = org_chart(&[None, Some(0), Some(0)]);
        assert!(close(p[1].1, LEVEL) && close(p[2].1, LEVEL));
        assert!(close(p[0].1, 0.0));
        assert!(close(p[0].0, (p[1].0 + p[2].0) / 2.0));
        assert!(
            close(p[2].0 - p[1].0, SLOT),
            "reports in index order, one slot apart"
        );
    }

    #[test]
    fn a_chain_goes_straight_down() {
        let p = org_chart(&[None, Some(0), Some(1)]);
        assert!(close(p[0].0, p[1].0) && close(p[1].0, p[2].0));
        assert!(close(p[1].1, LEVEL) && close(p[2].1, 2.0 * LEVEL));
    }

    #[test]
    fn many_reports_without_reports_form_a_grid_below_their_manager() {
        let mut m = vec![None];
        m.extend(std::iter::repeat_n(Some(0), 20));
        let p = org_chart(&m);
        let rows: std::collections::BTreeSet<i64> = p[1..].iter().map(|q| q.1 as i64).collect();
        assert_eq!(rows.len(), 4, "20 in a 5-wide grid: {rows:?}");
        assert!(p[1..].iter().all(|q| q.1 >= LEVEL - 1e-9));
        let (w, _) = bbox(&p[1..]);
        assert!(close(w, 4.0 * SLOT), "five columns: {w}");
        assert_apart(&p);
    }

    #[test]
    fn cycles_self_reports_and_bad_indexes_still_place_everyone_once() {
        // 0 <-> 1 is a cycle, 2 reports to itself, 3 to a missing index,
        // 4 sits under the cycle.
        let p = org_chart(&[Some(1), Some(0), Some(2), Some(99), Some(1)]);
        assert_eq!(p.len(), 5);
        assert!(p.iter().all(|q| q.0.is_finite() && q.1.is_finite()));
        assert_apart(&p);
    }

    #[test]
    fn a_wide_org_wraps_into_a_chart_of_about_the_boxs_shape() {
        // A CEO, 8 VPs, 6 directors each, 20 staff per director: 1,009
        // people, 48 teams of 20 (a one-row tree would be ~48 grids wide).
        let mut m = vec![None];
        for _ in 0..8 {
            let v = m.len();
            m.push(Some(0));
            for _ in 0..6 {
                let d = m.len();
                m.push(Some(v));
                m.extend(std::iter::repeat_n(Some(d), 20));
            }
        }
        let p = org_chart(&m);
        let (w, h) = bbox(&p);
        assert!(w / h < 3.0 && w / h > 0.7, "aspect {w} x {h}");
        assert_apart(&p);
        // Everyone is below their manager.
        for (i, mi) in m.iter().enumerate() {
            if let Some(k) = mi {
                assert!(p[i].1 > p[*k].1, "{i} under {k}");
            }
        }
        assert_eq!(p, org_chart(&m), "deterministic");
    }

    #[test]
    fn a_deep_chain_does_not_overflow_the_stack() {
        let m: Vec<Option<usize>> = (0..50_000usize).map(|i| i.checked_sub(1)).collect();
        let p = org_chart(&m);
        assert!(close(p[49_999].1, 49_999.0 * LEVEL));
    }
}
