//! Tie strength (关系紧密度) between one of our people and a stakeholder.
//!
//! The model (DESIGN.md, "Scoring model v1"):
//!
//! * `raw = Σ w(kind) · 2^(−age_days / half_life)` over the interactions both
//!   took part in, up to `as_of`. In an interaction with `n > 2` participants
//!   each (ours, theirs) pair gets `w / (n − 1)`: in a meeting of five each
//!   pair gets a quarter of a one-to-one's weight, as attention is shared.
//!   Only pairs where exactly one side is ours count.
//! * `evidence = 1 − exp(−raw / scale)`, computed as `-expm1(-raw/scale)` so a
//!   faint tie keeps its precision.
//! * A `KNOWS` assessment of level `L` made `d` days ago says
//!   `assessed = L / 4` and is trusted `t = 2^(−d / 180)`.
//!   `closeness = t · assessed + (1 − t) · evidence`: a fresh assessment is
//!   believed as it is (t = 1), an old one fades into the evidence. Without an
//!   assessment, closeness is the evidence. The latest assessment of the pair
//!   (either direction) wins.
//!
//! The accumulation is one primitive, [`PairAccumulator`] fed by a
//! [`DecayClock`], used by both the account path ([`account_ties`]) and the
//! relbench example over 10 M rows: there is no separate fast path.

use rustc_hash::FxHashMap as HashMap;

use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::config::ScoringConfig;
use crate::model::{Assessment, ClosenessLevel, InteractionKind, PersonId};
use crate::reciprocity::Reciprocity;
use crate::time::{SECONDS_PER_DAY, Timestamp};

/// Lower bounds of closeness levels 1..=4 (acquainted, familiar, trusted, ally).
pub const LEVEL_THRESHOLDS: [f64; 4] = [0.1, 0.3, 0.55, 0.8];

/// Window of the trend: activity of the last `TREND_WINDOW_DAYS` against the
/// window before it.
pub const TREND_WINDOW_DAYS: f64 = 90.0;

/// `2^(−age_days / half_life_days)`: what one unit of evidence is worth after
/// `age_days`.
#[inline]
pub fn decay_factor(age_days: f64, half_life_days: f64) -> f64 {
    (-std::f64::consts::LN_2 * age_days / half_life_days).exp()
}

/// `1 − exp(−raw / scale)`, precise for tiny `raw`.
#[inline]
pub fn evidence(raw: f64, scale: f64) -> f64 {
    -(-raw / scale).exp_m1()
}

/// Inverse of [`evidence`]: the raw sum that gives evidence `e` (< 1).
#[inline]
pub fn raw_for_evidence(e: f64, scale: f64) -> f64 {
    -scale * (-e).ln_1p()
}

/// Closeness level of a score: 0 below 0.1, 1 below 0.3, 2 below 0.55, 3 below 0.8, else 4.
pub fn level_of(closeness: f64) -> ClosenessLevel {
    let n = LEVEL_THRESHOLDS.iter().filter(|&&t| closeness >= t).count();
    ClosenessLevel::new(n as u8).expect("0..=4")
}

/// Trust in an assessment made `age_days` ago: `2^(−age_days / half_life)`,
/// 1 for an assessment dated in the future of `as_of` (clamped).
#[inline]
pub fn assessment_trust(age_days: f64, half_life_days: f64) -> f64 {
    decay_factor(age_days.max(0.0), half_life_days)
}

/// `t · assessed + (1 − t) · evidence` (see the module doc).
#[inline]
pub fn blend(trust: f64, assessed: f64, evidence: f64) -> f64 {
    trust * assessed + (1.0 - trust) * evidence
}

/// "Now" for the decay: turns an interaction time into its decay factor.
///
/// Ages are computed exactly like the bench contract,
/// `age_days = (as_of − t) / 86400` in f64, then `exp(−ln2 · age / hl)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecayClock {
    as_of: i64,
    k_per_day: f64,
}

impl DecayClock {
    pub fn new(as_of: Timestamp, half_life_days: f64) -> Self {
        DecayClock {
            as_of: as_of.epoch_seconds(),
            k_per_day: std::f64::consts::LN_2 / half_life_days,
        }
    }
    pub fn as_of(&self) -> Timestamp {
        Timestamp::from_epoch_seconds(self.as_of)
    }
    pub fn half_life_days(&self) -> f64 {
        std::f64::consts::LN_2 / self.k_per_day
    }
    /// Decay factor of an event at `epoch_seconds`.
    #[inline]
    pub fn factor_epoch(&self, epoch_seconds: i64) -> f64 {
        let age_days = (self.as_of - epoch_seconds) as f64 / SECONDS_PER_DAY;
        (-self.k_per_day * age_days).exp()
    }
    #[inline]
    pub fn factor(&self, at: Timestamp) -> f64 {
        self.factor_epoch(at.epoch_seconds())
    }
}

/// A per-pair decayed sum, valid at the time of the [`DecayClock`] it is fed
/// with. Plain `f64` inside: no allocation, `Copy`, 8 bytes, so a hash map of
/// them is the whole state of step (a).
///
/// Incremental freshness: a sum kept at `t` is moved to `t'` with
/// [`PairAccumulator::rebase`] (`raw(t') = raw(t) · 2^(−(t'−t)/hl)`), then the
/// new interactions are added with the `t'` clock; that equals recomputing
/// from all events (tested).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PairAccumulator {
    pub raw: f64,
}

impl PairAccumulator {
    /// Adds one interaction of `weight` (already divided by `n − 1` for group
    /// interactions) that happened at `epoch_seconds`; returns the decayed
    /// contribution it added (for explanations).
    #[inline]
    pub fn add(&mut self, clock: &DecayClock, weight: f64, epoch_seconds: i64) -> f64 {
        let c = weight * clock.factor_epoch(epoch_seconds);
        self.raw += c;
        c
    }
    /// Adds another partial sum of the same clock (per-thread maps merged).
    #[inline]
    pub fn merge(&mut self, other: PairAccumulator) {
        self.raw += other.raw;
    }
    /// Moves the sum from `from`'s time to `to`'s time.
    #[inline]
    pub fn rebase(&mut self, from: &DecayClock, to: &DecayClock) {
        let days = (to.as_of - from.as_of) as f64 / SECONDS_PER_DAY;
        self.raw *= (-to.k_per_day * days).exp();
    }
    #[inline]
    pub fn evidence(&self, scale: f64) -> f64 {
        evidence(self.raw, scale)
    }
}

/// The evidence of one kind of interaction in a tie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindEvidence {
    pub kind: InteractionKind,
    pub count: u32,
    /// Undecayed weight (Σ w, after the `n − 1` split).
    pub weight: f64,
    /// Decayed contribution to `raw`; the parts sum to `raw`.
    pub raw: f64,
}

/// Direction of a tie over the last two trend windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    Warming,
    Steady,
    Cooling,
    Silent,
}

/// Activity of the last 90 days against the 90 days before, in undecayed
/// weight so the two windows compare like for like.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    pub recent_weight: f64,
    pub prior_weight: f64,
    pub direction: TrendDirection,
}

impl Trend {
    fn new(recent: f64, prior: f64) -> Self {
        let direction = if recent == 0.0 && prior == 0.0 {
            TrendDirection::Silent
        } else if recent > 1.25 * prior {
            TrendDirection::Warming
        } else if recent < 0.8 * prior {
            TrendDirection::Cooling
        } else {
            TrendDirection::Steady
        };
        Trend {
            recent_weight: recent,
            prior_weight: prior,
            direction,
        }
    }
}

/// The assessment that entered the blend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentUsed {
    pub level: ClosenessLevel,
    pub at: Timestamp,
    pub by: Option<PersonId>,
    pub age_days: f64,
    /// `2^(−age_days / 180)`.
    pub trust: f64,
    /// `level / 4`.
    pub assessed: f64,
}

/// What would lift the tie one level, from the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lift {
    pub next_level: ClosenessLevel,
    pub threshold: f64,
    /// Meetings (weight of `InteractionKind::Meeting`) needed within
    /// [`LIFT_HORIZON_DAYS`]; `None` when interactions alone cannot get
    /// there (a stale low assessment caps the blend): re-assess instead.
    pub meetings: Option<u32>,
    pub text: String,
}

/// The horizon of [`Lift`]: the meetings are assumed held at the end of it,
/// and the existing evidence and trust are decayed to it (conservative).
pub const LIFT_HORIZON_DAYS: f64 = 30.0;

/// Why a tie is as strong as it is; `evidence_part + assessed_part == closeness`
/// and `Σ by_kind.raw == raw`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TieExplanation {
    pub interactions: u32,
    pub by_kind: Vec<KindEvidence>,
    pub raw: f64,
    pub evidence: f64,
    pub first_contact: Option<Timestamp>,
    pub last_contact: Option<Timestamp>,
    pub trend: Trend,
    pub assessment: Option<AssessmentUsed>,
    /// `(1 − t) · evidence`.
    pub evidence_part: f64,
    /// `t · assessed`.
    pub assessed_part: f64,
    pub lift: Option<Lift>,
}

/// A tie between one of our people and a stakeholder, as of a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tie {
    pub ours: PersonId,
    pub theirs: PersonId,
    pub closeness: f64,
    pub level: ClosenessLevel,
    pub explanation: TieExplanation,
    /// Who answers whom, shown beside the closeness (it does not change
    /// it); filled by [`crate::score_account`], empty elsewhere.
    #[serde(default)]
    pub reciprocity: Reciprocity,
}

/// Running evidence of one pair while scanning interactions.
#[derive(Debug, Clone, Default)]
pub struct TieEvidence {
    pub acc: PairAccumulator,
    /// Indexed by `InteractionKind::ALL` position: (count, weight, raw).
    by_kind: [(u32, f64, f64); 8],
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    recent: f64,
    prior: f64,
}

fn kind_index(kind: InteractionKind) -> usize {
    InteractionKind::ALL
        .iter()
        .position(|&k| k == kind)
        .expect("kind in ALL")
}

impl TieEvidence {
    /// Adds one interaction (weight already split by `n − 1`).
    pub fn add(&mut self, clock: &DecayClock, kind: InteractionKind, weight: f64, at: Timestamp) {
        let c = self.acc.add(clock, weight, at.epoch_seconds());
        let slot = &mut self.by_kind[kind_index(kind)];
        slot.0 += 1;
        slot.1 += weight;
        slot.2 += c;
        self.first = Some(self.first.map_or(at, |t| t.min(at)));
        self.last = Some(self.last.map_or(at, |t| t.max(at)));
        let age = clock.as_of().days_since(at);
        if age < TREND_WINDOW_DAYS {
            self.recent += weight;
        } else if age < 2.0 * TREND_WINDOW_DAYS {
            self.prior += weight;
        }
    }
    pub fn raw(&self) -> f64 {
        self.acc.raw
    }
    pub fn last_contact(&self) -> Option<Timestamp> {
        self.last
    }
}

/// Scores one pair from its evidence and its latest assessment.
pub fn score_tie(
    ours: PersonId,
    theirs: PersonId,
    ev: &TieEvidence,
    assessment: Option<&Assessment>,
    cfg: &ScoringConfig,
    as_of: Timestamp,
) -> Tie {
    let raw = ev.acc.raw;
    let e = evidence(raw, cfg.evidence_scale);
    let used = assessment.map(|a| {
        let age_days = as_of.days_since(a.at);
        AssessmentUsed {
            level: a.level,
            at: a.at,
            by: a.by.clone(),
            age_days,
            trust: assessment_trust(age_days, cfg.assessment_half_life_days),
            assessed: a.level.as_score(),
        }
    });
    let (t, assessed) = used.as_ref().map_or((0.0, 0.0), |u| (u.trust, u.assessed));
    let evidence_part = (1.0 - t) * e;
    let assessed_part = t * assessed;
    let closeness = evidence_part + assessed_part;
    let level = level_of(closeness);
    let by_kind = InteractionKind::ALL
        .iter()
        .zip(ev.by_kind.iter())
        .filter(|(_, s)| s.0 > 0)
        .map(|(&kind, &(count, weight, raw))| KindEvidence {
            kind,
            count,
            weight,
            raw,
        })
        .collect::<Vec<_>>();
    let lift = lift(raw, used.as_ref(), level, cfg);
    Tie {
        ours,
        theirs,
        closeness,
        level,
        explanation: TieExplanation {
            interactions: by_kind.iter().map(|k| k.count).sum(),
            by_kind,
            raw,
            evidence: e,
            first_contact: ev.first,
            last_contact: ev.last,
            trend: Trend::new(ev.recent, ev.prior),
            assessment: used,
            evidence_part,
            assessed_part,
            lift,
        },
        reciprocity: Reciprocity::default(),
    }
}

/// How many meetings within [`LIFT_HORIZON_DAYS`] reach the next level:
/// decay raw and trust to the horizon, solve the blend for the evidence
/// needed, turn it into raw and divide by the meeting weight.
fn lift(
    raw: f64,
    used: Option<&AssessmentUsed>,
    level: ClosenessLevel,
    cfg: &ScoringConfig,
) -> Option<Lift> {
    let next = level.get() + 1;
    if next > 4 {
        return None;
    }
    let next_level = ClosenessLevel::new(next).ok()?;
    let threshold = LEVEL_THRESHOLDS[next as usize - 1];
    let h = LIFT_HORIZON_DAYS;
    let raw_h = raw * decay_factor(h, cfg.half_life_days);
    let (t, a) = used.map_or((0.0, 0.0), |u| {
        (
            assessment_trust(u.age_days + h, cfg.assessment_half_life_days),
            u.assessed,
        )
    });
    let needed_e = if t < 1.0 {
        (threshold - t * a) / (1.0 - t)
    } else {
        f64::INFINITY
    };
    let w = cfg.weights.meeting;
    let meetings = if needed_e <= 0.0 {
        Some(0)
    } else if needed_e < 1.0 && w > 0.0 {
        let needed_raw = raw_for_evidence(needed_e, cfg.evidence_scale);
        let n = ((needed_raw - raw_h) / w).max(0.0).ceil();
        // Guard the rounding at the boundary.
        let mut n = n as u32;
        while blend(t, a, evidence(raw_h + f64::from(n) * w, cfg.evidence_scale)) < threshold {
            n += 1;
        }
        Some(n)
    } else {
        None
    };
    let name = next_level.name();
    let text = match meetings {
        Some(0) => format!(
            "reaches {name} ({threshold:.2}) within 30 days without more meetings, as the assessment ages"
        ),
        Some(1) => format!("1 more meeting in the next 30 days reaches {name} ({threshold:.2})"),
        Some(n) => format!("{n} more meetings in the next 30 days reach {name} ({threshold:.2})"),
        None => format!(
            "meetings alone cannot reach {name} ({threshold:.2}) while the last assessment weighs on it: re-assess the tie"
        ),
    };
    Some(Lift {
        next_level,
        threshold,
        meetings,
        text,
    })
}

/// Closeness of our side to one stakeholder: the strongest tie and who holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OurCloseness {
    pub person: PersonId,
    pub closeness: f64,
    pub level: ClosenessLevel,
    /// The best connector: who holds the strongest tie (`None` without ties).
    pub best_connector: Option<PersonId>,
    /// How many of our people have a tie at or above the coverage threshold.
    pub strong_ties: u32,
    pub last_contact: Option<Timestamp>,
}

/// All ties between our people and this account's stakeholders as of `as_of`,
/// sorted by (theirs, ours). Interactions after `as_of` are ignored, and so
/// are assessments made after it.
pub fn account_ties(data: &AccountData, cfg: &ScoringConfig, as_of: Timestamp) -> Vec<Tie> {
    let ours: HashMap<&PersonId, usize> = data
        .our_people
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.id, i))
        .collect();
    let theirs: HashMap<&PersonId, usize> = data
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.id, i))
        .collect();
    let clock = DecayClock::new(as_of, cfg.half_life_days);
    let mut pairs: HashMap<(usize, usize), TieEvidence> = HashMap::default();
    for it in &data.interactions {
        if it.at > as_of {
            continue;
        }
        let n = it.participants.len();
        if n < 2 {
            continue;
        }
        let w = cfg.weights.of(it.kind) / (n - 1) as f64;
        for a in &it.participants {
            let Some(&u) = ours.get(a) else { continue };
            for b in &it.participants {
                if let Some(&v) = theirs.get(b) {
                    pairs
                        .entry((u, v))
                        .or_default()
                        .add(&clock, it.kind, w, it.at);
                }
            }
        }
    }
    // Latest assessment per (ours, theirs), either direction.
    let mut latest: HashMap<(usize, usize), &Assessment> = HashMap::default();
    for a in &data.assessments {
        if a.at > as_of {
            continue;
        }
        let key = match (ours.get(&a.from), theirs.get(&a.to)) {
            (Some(&u), Some(&v)) => Some((u, v)),
            _ => match (ours.get(&a.to), theirs.get(&a.from)) {
                (Some(&u), Some(&v)) => Some((u, v)),
                _ => None,
            },
        };
        if let Some(k) = key {
            let e = latest.entry(k).or_insert(a);
            if a.at >= e.at {
                *e = a;
            }
            pairs.entry(k).or_default();
        }
    }
    let mut keys: Vec<(usize, usize)> = pairs.keys().copied().collect();
    keys.sort_by_key(|&(u, v)| (v, u));
    keys.into_iter()
        .map(|k| {
            score_tie(
                data.our_people[k.0].id.clone(),
                data.people[k.1].id.clone(),
                &pairs[&k],
                latest.get(&k).copied(),
                cfg,
                as_of,
            )
        })
        .collect()
}

/// Our closeness to each stakeholder (in `data.people` order) from the ties.
pub fn our_closeness(data: &AccountData, ties: &[Tie], cfg: &ScoringConfig) -> Vec<OurCloseness> {
    let mut idx: HashMap<&PersonId, usize> = HashMap::default();
    let mut out: Vec<OurCloseness> = data
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            idx.insert(&p.id, i);
            OurCloseness {
                person: p.id.clone(),
                closeness: 0.0,
                level: ClosenessLevel::STRANGER,
                best_connector: None,
                strong_ties: 0,
                last_contact: None,
            }
        })
        .collect();
    for t in ties {
        let Some(&i) = idx.get(&t.theirs) else {
            continue;
        };
        let o = &mut out[i];
        if t.closeness > o.closeness
            || (t.closeness == o.closeness && o.best_connector.is_none() && t.closeness > 0.0)
        {
            o.closeness = t.closeness;
            o.level = t.level;
            o.best_connector = Some(t.ours.clone());
        }
        if t.closeness >= cfg.coverage_threshold {
            o.strong_ties += 1;
        }
        if let Some(l) = t.explanation.last_contact {
            o.last_contact = Some(o.last_contact.map_or(l, |x| x.max(l)));
        }
    }
    out
}

/// Evidence that two stakeholders know each other: the interactions they
/// shared (same decayed sum and `w / (n − 1)` split as ties), for warm paths.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StakeholderLink {
    pub a: PersonId,
    pub b: PersonId,
    pub raw: f64,
    /// `1 − exp(−raw / scale)`.
    pub closeness: f64,
    pub interactions: u32,
    pub last_contact: Option<Timestamp>,
}

/// Links between stakeholders of the account from shared interactions up to
/// `as_of`, `a < b` by position in `data.people`.
pub fn stakeholder_links(
    data: &AccountData,
    cfg: &ScoringConfig,
    as_of: Timestamp,
) -> Vec<StakeholderLink> {
    let theirs: HashMap<&PersonId, usize> = data
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.id, i))
        .collect();
    let clock = DecayClock::new(as_of, cfg.half_life_days);
    let mut pairs: HashMap<(usize, usize), (PairAccumulator, u32, Timestamp)> = HashMap::default();
    let mut members: Vec<usize> = Vec::new();
    for it in &data.interactions {
        let n = it.participants.len();
        if it.at > as_of || n < 2 {
            continue;
        }
        members.clear();
        members.extend(
            it.participants
                .iter()
                .filter_map(|p| theirs.get(p).copied()),
        );
        if members.len() < 2 {
            continue;
        }
        let w = cfg.weights.of(it.kind) / (n - 1) as f64;
        for (i, &x) in members.iter().enumerate() {
            for &y in &members[i + 1..] {
                let key = (x.min(y), x.max(y));
                let e = pairs
                    .entry(key)
                    .or_insert((PairAccumulator::default(), 0, it.at));
                e.0.add(&clock, w, it.at.epoch_seconds());
                e.1 += 1;
                e.2 = e.2.max(it.at);
            }
        }
    }
    let mut out: Vec<StakeholderLink> = pairs
        .into_iter()
        .map(|((x, y), (acc, count, last))| StakeholderLink {
            a: data.people[x].id.clone(),
            b: data.people[y].id.clone(),
            raw: acc.raw,
            closeness: acc.evidence(cfg.evidence_scale),
            interactions: count,
            last_contact: Some(last),
        })
        .collect();
    out.sort_by(|p, q| (&p.a, &p.b).cmp(&(&q.a, &q.b)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn decay_halves_every_half_life() {
        assert!((decay_factor(90.0, 90.0) - 0.5).abs() < 1e-15);
        let c = DecayClock::new(ts("2026-01-01T00:00:00Z"), 90.0);
        let t = ts("2025-10-03T00:00:00Z"); // 90 days before
        assert!((c.factor(t) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn levels_and_inverse() {
        assert_eq!(level_of(0.0), ClosenessLevel::STRANGER);
        assert_eq!(level_of(0.1), ClosenessLevel::ACQUAINTED);
        assert_eq!(level_of(0.549), ClosenessLevel::FAMILIAR);
        assert_eq!(level_of(0.55), ClosenessLevel::TRUSTED);
        assert_eq!(level_of(0.8), ClosenessLevel::ALLY);
        let r = raw_for_evidence(0.55, 10.0);
        assert!((evidence(r, 10.0) - 0.55).abs() < 1e-14);
        assert!(evidence(1e-300, 10.0) > 0.0);
    }

    #[test]
    fn incremental_equals_full() {
        let t1 = ts("2025-06-01T00:00:00Z");
        let t2 = ts("2026-01-01T00:00:00Z");
        let events: Vec<(f64, Timestamp)> = (0..200)
            .map(|i| {
                (
                    [1.0, 2.0, 3.0, 5.0][i % 4],
                    Timestamp::from_epoch_seconds(1_700_000_000 + (i as i64) * 331_777),
                )
            })
            .collect();
        let c1 = DecayClock::new(t1, 90.0);
        let c2 = DecayClock::new(t2, 90.0);
        let mut inc = PairAccumulator::default();
        for &(w, at) in events.iter().filter(|e| e.1 <= t1) {
            inc.add(&c1, w, at.epoch_seconds());
        }
        inc.rebase(&c1, &c2);
        for &(w, at) in events.iter().filter(|e| e.1 > t1 && e.1 <= t2) {
            inc.add(&c2, w, at.epoch_seconds());
        }
        let mut full = PairAccumulator::default();
        for &(w, at) in events.iter().filter(|e| e.1 <= t2) {
            full.add(&c2, w, at.epoch_seconds());
        }
        assert!((inc.raw - full.raw).abs() <= 1e-12 * full.raw.max(1.0));
    }

    #[test]
    fn lift_is_enough_and_minimal() {
        let cfg = ScoringConfig::default();
        let as_of = ts("2026-01-01T00:00:00Z");
        let clock = DecayClock::new(as_of, cfg.half_life_days);
        let mut ev = TieEvidence::default();
        ev.add(
            &clock,
            InteractionKind::Email,
            1.0,
            ts("2025-12-01T00:00:00Z"),
        );
        let p = |s: &str| PersonId::parse(s).unwrap();
        let tie = score_tie(p("u"), p("v"), &ev, None, &cfg, as_of);
        let lift = tie.explanation.lift.clone().unwrap();
        assert_eq!(lift.next_level, ClosenessLevel::ACQUAINTED);
        let n = lift.meetings.unwrap();
        assert!(n >= 1);
        let raw_h = tie.explanation.raw * decay_factor(30.0, 90.0);
        assert!(evidence(raw_h + 3.0 * f64::from(n), 10.0) >= 0.1);
        assert!(evidence(raw_h + 3.0 * f64::from(n - 1), 10.0) < 0.1);
        assert!(lift.text.contains("acquainted (0.10)"), "{}", lift.text);
    }
}
