//! Deals (TAS+): the configurable stage list and amount categories, the
//! stage history of a deal and its versioned decision chain.
//!
//! A deal's stage is stored as free text (CRMs name stages their own way);
//! [`DealConfig::stage_index`] maps it onto the configured list by id or
//! name, ignoring case, spaces and hyphens. The status decides over the
//! stage text: a won deal stands at the won stage whatever its text says.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    Attitude, BuyingRole, Opportunity, OpportunityContact, OpportunityStatus, PersonId, StageChange,
};
use crate::time::Timestamp;

/// How a stage ends a deal, if it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageOutcome {
    Open,
    Won,
    Lost,
}

/// One stage of the sales cycle; its order is its place in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageDef {
    /// Short id, e.g. `proposal`.
    pub id: String,
    /// What pages show, e.g. `Proposal`.
    pub name: String,
    /// Chance of winning a deal at this stage, 0..=1 (weighted pipeline).
    pub probability: f64,
    #[serde(default = "open_outcome")]
    pub outcome: StageOutcome,
}

fn open_outcome() -> StageOutcome {
    StageOutcome::Open
}

/// An amount category: deals with `min <= amount` (below the next band's min).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountBand {
    pub name: String,
    pub min: f64,
}

/// `[deals]` of the config file: stage list, amount bands and risk thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DealConfig {
    pub stages: Vec<StageDef>,
    /// Ascending by `min`; the first starts at 0.
    pub categories: Vec<AmountBand>,
    /// From this stage id on, a deal with a single familiar-or-better
    /// customer contact is single-threaded (a risk).
    pub late_stage: String,
    /// An acceptance (0–4) at or below this is low (a risk).
    pub low_acceptance: u8,
}

impl Default for DealConfig {
    fn default() -> Self {
        let stage = |id: &str, name: &str, probability: f64, outcome| StageDef {
            id: id.into(),
            name: name.into(),
            probability,
            outcome,
        };
        use StageOutcome::*;
        let band = |name: &str, min: f64| AmountBand {
            name: name.into(),
            min,
        };
        DealConfig {
            stages: vec![
                stage("qualification", "Qualification", 0.10, Open),
                stage("discovery", "Discovery", 0.20, Open),
                stage("solution", "Solution design", 0.35, Open),
                stage("proposal", "Proposal", 0.50, Open),
                stage("negotiation", "Negotiation", 0.70, Open),
                stage("commit", "Commit", 0.90, Open),
                stage("closed_won", "Closed won", 1.0, Won),
                stage("closed_lost", "Closed lost", 0.0, Lost),
            ],
            categories: vec![
                band("small", 0.0),
                band("medium", 50_000.0),
                band("large", 250_000.0),
                band("major", 1_000_000.0),
                band("strategic", 5_000_000.0),
            ],
            late_stage: "proposal".into(),
            low_acceptance: 1,
        }
    }
}

/// Why a deal configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[deals] {field}: {problem}")]
pub struct DealConfigError {
    pub field: String,
    pub problem: String,
}

/// Lower-cased, with spaces and hyphens as underscores: `Closed Won` → `closed_won`.
fn stage_key(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

impl DealConfig {
    /// Checks the rules the reports rely on.
    pub fn validate(&self) -> Result<(), DealConfigError> {
        let err = |field: &str, problem: String| {
            Err(DealConfigError {
                field: field.into(),
                problem,
            })
        };
        if self.stages.is_empty() {
            return err("stages", "at least one stage is needed".into());
        }
        let mut seen = std::collections::HashSet::new();
        for (i, s) in self.stages.iter().enumerate() {
            if s.id.trim().is_empty() || s.name.trim().is_empty() {
                return err(
                    &format!("stages[{i}]"),
                    "id and name must not be empty".into(),
                );
            }
            // A stage's id and name may be the same; no two stages may share one.
            let keys = [stage_key(&s.id), stage_key(&s.name)];
            if keys.iter().any(|k| seen.contains(k)) {
                return err(
                    &format!("stages[{i}]"),
                    format!("stage {:?}: its id or name is another stage's", s.id),
                );
            }
            seen.extend(keys);
            if !(0.0..=1.0).contains(&s.probability) {
                return err(
                    &format!("stages[{i}].probability"),
                    format!("expected 0 to 1, got {}", s.probability),
                );
            }
        }
        for outcome in [StageOutcome::Won, StageOutcome::Lost] {
            if !self.stages.iter().any(|s| s.outcome == outcome) {
                return err("stages", format!("one stage needs outcome = {outcome:?}"));
            }
        }
        if self.stage_index(&self.late_stage).is_none() {
            return err(
                "late_stage",
                format!("{:?} is not the id of a configured stage", self.late_stage),
            );
        }
        if self.low_acceptance > 4 {
            return err(
                "low_acceptance",
                format!("expected 0 to 4, got {}", self.low_acceptance),
            );
        }
        match self.categories.first() {
            None => return err("categories", "at least one amount band is needed".into()),
            Some(b) if b.min != 0.0 => {
                return err(
                    "categories[0].min",
                    format!("the first band starts at 0, got {}", b.min),
                );
            }
            _ => {}
        }
        for (i, w) in self.categories.windows(2).enumerate() {
            if w[1].min <= w[0].min || !w[1].min.is_finite() {
                return err(
                    &format!("categories[{}].min", i + 1),
                    format!("bands ascend by min: {} follows {}", w[1].min, w[0].min),
                );
            }
        }
        Ok(())
    }

    /// The configured stage a stage text names (by id or name), if any.
    pub fn stage_index(&self, stage: &str) -> Option<usize> {
        let k = stage_key(stage);
        self.stages
            .iter()
            .position(|s| stage_key(&s.id) == k || stage_key(&s.name) == k)
    }

    /// The stage a deal stands at: its status decides for won and lost deals,
    /// its stage text for open ones (`None` when the text names no open stage).
    pub fn effective_stage(&self, o: &Opportunity) -> Option<usize> {
        let outcome = match o.status {
            OpportunityStatus::Open => StageOutcome::Open,
            OpportunityStatus::Won => StageOutcome::Won,
            OpportunityStatus::Lost => StageOutcome::Lost,
        };
        if outcome != StageOutcome::Open {
            return self.stages.iter().position(|s| s.outcome == outcome);
        }
        o.stage
            .as_deref()
            .and_then(|s| self.stage_index(s))
            .filter(|&i| self.stages[i].outcome == StageOutcome::Open)
    }

    /// Win probability of a deal: its stage's (0 for an open deal whose
    /// stage is not configured: unknown is not counted as likely).
    pub fn probability(&self, o: &Opportunity) -> f64 {
        self.effective_stage(o)
            .map_or(0.0, |i| self.stages[i].probability)
    }

    /// The amount band of an amount (`None` without an amount).
    pub fn category(&self, amount: Option<f64>) -> Option<usize> {
        let a = amount?;
        self.categories.iter().rposition(|b| a >= b.min)
    }

    /// True when the stage is at or after [`DealConfig::late_stage`] and open.
    pub fn is_late(&self, stage: Option<usize>) -> bool {
        match (stage, self.stage_index(&self.late_stage)) {
            (Some(s), Some(late)) => s >= late && self.stages[s].outcome == StageOutcome::Open,
            _ => false,
        }
    }
}

/// One period of a deal's stage history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StagePeriod {
    /// The stage text as recorded.
    pub stage: String,
    /// Its place in the configured list (`None`: not a configured stage).
    pub stage_index: Option<usize>,
    /// When the deal entered the stage (`None`: unknown).
    pub from: Option<Timestamp>,
    /// When it left (`None`: it is still there).
    pub until: Option<Timestamp>,
    /// True when no change was recorded and this period was derived from
    /// the deal itself (its stage, first assessment or close date).
    pub derived: bool,
}

/// The stage history of one deal, oldest first.
///
/// Without recorded changes one period is derived: the deal's current stage
/// (the won/lost stage for closed deals) from its first dated assessment, or
/// from its close date when it is closed and has none.
pub fn stage_history(
    cfg: &DealConfig,
    o: &Opportunity,
    changes: &[StageChange],
    contacts: &[OpportunityContact],
) -> Vec<StagePeriod> {
    let mut mine: Vec<&StageChange> = changes.iter().filter(|c| c.opportunity == o.id).collect();
    mine.sort_by_key(|c| c.at);
    if mine.is_empty() {
        let stage_index = cfg.effective_stage(o);
        let stage = o
            .stage
            .clone()
            .filter(|_| o.status == OpportunityStatus::Open || stage_index.is_none())
            .or_else(|| stage_index.map(|i| cfg.stages[i].id.clone()))
            .unwrap_or_default();
        let first_assessed = contacts
            .iter()
            .filter(|c| c.opportunity == o.id)
            .filter_map(|c| c.at)
            .min();
        let closed = (o.status != OpportunityStatus::Open)
            .then_some(o.close_date)
            .flatten()
            .map(|d| Timestamp::from(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()));
        return vec![StagePeriod {
            stage_index: cfg.stage_index(&stage).or(stage_index),
            stage,
            from: first_assessed.or(closed),
            until: None,
            derived: true,
        }];
    }
    mine.iter()
        .enumerate()
        .map(|(i, c)| StagePeriod {
            stage: c.stage.clone(),
            stage_index: cfg.stage_index(&c.stage),
            from: Some(c.at),
            until: mine.get(i + 1).map(|n| n.at),
            derived: false,
        })
        .collect()
}

/// The period a deal was in at `t` (`None`: before its first known stage).
pub fn stage_at(history: &[StagePeriod], t: Timestamp) -> Option<&StagePeriod> {
    history.iter().rev().find(|p| p.from.is_none_or(|f| f <= t))
}

/// When a deal was created: the start of its first stage, if known.
pub fn created_at(history: &[StagePeriod]) -> Option<Timestamp> {
    history.first().and_then(|p| p.from)
}

/// One stakeholder of a deal's decision chain, as of a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainEntry {
    pub person: PersonId,
    pub role: Option<BuyingRole>,
    pub attitude: Option<Attitude>,
    /// 0 (rejects) to 4 (fully accepts).
    pub solution_acceptance: Option<u8>,
    pub price_acceptance: Option<u8>,
    /// When the assessment in force was made (`None`: undated).
    pub assessed_at: Option<Timestamp>,
    /// How many assessments of this person on this deal exist up to the date.
    pub versions: usize,
}

/// The decision chain of deal `o` as of `as_of` (`None`: everything known):
/// each stakeholder's latest assessment made at or before that instant.
/// Undated assessments count as always known. Sorted by person id.
pub fn decision_chain(
    opportunity: &crate::model::OpportunityId,
    contacts: &[OpportunityContact],
    as_of: Option<Timestamp>,
) -> Vec<ChainEntry> {
    let mut latest: BTreeMap<&PersonId, (&OpportunityContact, usize)> = BTreeMap::new();
    for c in contacts.iter().filter(|c| {
        &c.opportunity == opportunity && as_of.is_none_or(|t| c.at.is_none_or(|a| a <= t))
    }) {
        let e = latest.entry(&c.person).or_insert((c, 0));
        e.1 += 1;
        if c.at >= e.0.at {
            e.0 = c;
        }
    }
    latest
        .into_values()
        .map(|(c, versions)| ChainEntry {
            person: c.person.clone(),
            role: c.role,
            attitude: c.attitude,
            solution_acceptance: c.solution_acceptance.map(|a| a.get()),
            price_acceptance: c.price_acceptance.map(|a| a.get()),
            assessed_at: c.at,
            versions,
        })
        .collect()
}

/// The instant that stands for "at stage `stage_index`": the last second
/// before the deal left the stage (its latest period there), or `None`
/// (now) while it is still there. `Err(())` when the deal never reached it.
#[allow(clippy::result_unit_err)]
pub fn stage_end(history: &[StagePeriod], stage_index: usize) -> Result<Option<Timestamp>, ()> {
    let p = history
        .iter()
        .rev()
        .find(|p| p.stage_index == Some(stage_index))
        .ok_or(())?;
    Ok(p.until
        .map(|u| Timestamp::from_epoch_seconds(u.epoch_seconds() - 1)))
}

/// The decision chain as it stood when the deal was at a stage (at the end
/// of its time there); `None` when the deal never reached the stage.
pub fn chain_at_stage(
    o: &Opportunity,
    history: &[StagePeriod],
    contacts: &[OpportunityContact],
    stage_index: usize,
) -> Option<Vec<ChainEntry>> {
    let end = stage_end(history, stage_index).ok()?;
    Some(decision_chain(&o.id, contacts, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Acceptance, OpportunityId, OrgId};

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }
    fn deal(stage: &str, status: OpportunityStatus) -> Opportunity {
        Opportunity {
            id: OpportunityId::parse("d1").unwrap(),
            account: OrgId::parse("acme").unwrap(),
            name: "Deal".into(),
            amount: Some(120_000.0),
            stage: Some(stage.into()),
            status,
            close_date: chrono::NaiveDate::from_ymd_opt(2025, 6, 30),
            owner: None,
            competitors: vec!["Globex".into()],
        }
    }
    fn change(stage: &str, at: &str) -> StageChange {
        StageChange {
            opportunity: OpportunityId::parse("d1").unwrap(),
            stage: stage.into(),
            at: ts(at),
        }
    }
    fn contact(person: &str, sa: u8, at: Option<&str>) -> OpportunityContact {
        OpportunityContact {
            opportunity: OpportunityId::parse("d1").unwrap(),
            person: PersonId::parse(person).unwrap(),
            role: Some(BuyingRole::EconomicBuyer),
            attitude: None,
            solution_acceptance: Some(Acceptance::new(sa).unwrap()),
            price_acceptance: None,
            at: at.map(ts),
        }
    }

    #[test]
    fn default_config_has_eight_stages_five_bands_and_validates() {
        let cfg = DealConfig::default();
        assert_eq!(cfg.stages.len(), 8);
        assert_eq!(cfg.categories.len(), 5);
        cfg.validate().unwrap();
        assert_eq!(cfg.stage_index("Closed Won"), Some(6));
        assert_eq!(cfg.stage_index("solution-design"), Some(2));
        assert_eq!(cfg.stage_index("Prospecting"), None);
        assert_eq!(cfg.category(Some(49_999.0)), Some(0));
        assert_eq!(cfg.category(Some(50_000.0)), Some(1));
        assert_eq!(cfg.category(Some(9e9)), Some(4));
        assert_eq!(cfg.category(None), None);
    }

    #[test]
    fn bad_configs_are_refused_naming_the_field() {
        let mut cfg = DealConfig::default();
        cfg.categories[2].min = 10.0;
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("categories[2].min")
        );
        let mut cfg = DealConfig::default();
        cfg.stages[3].probability = 1.5;
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("stages[3].probability")
        );
        let cfg = DealConfig {
            late_stage: "nope".into(),
            ..DealConfig::default()
        };
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("late_stage")
        );
        let mut cfg = DealConfig::default();
        cfg.stages[1].id = "qualification".into();
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("stages[1]")
        );
        let mut cfg = DealConfig::default();
        cfg.stages.retain(|s| s.outcome != StageOutcome::Lost);
        assert!(cfg.validate().is_err());
    }

    #[test]
    fn status_decides_over_stage_text() {
        let cfg = DealConfig::default();
        assert_eq!(
            cfg.effective_stage(&deal("negotiation", OpportunityStatus::Won)),
            Some(6)
        );
        assert_eq!(
            cfg.effective_stage(&deal("Negotiation", OpportunityStatus::Open)),
            Some(4)
        );
        assert_eq!(
            cfg.effective_stage(&deal("closed_won", OpportunityStatus::Open)),
            None
        );
        assert_eq!(
            cfg.probability(&deal("proposal", OpportunityStatus::Open)),
            0.5
        );
        assert_eq!(
            cfg.probability(&deal("whatever", OpportunityStatus::Open)),
            0.0
        );
        assert!(cfg.is_late(Some(3)) && !cfg.is_late(Some(2)) && !cfg.is_late(Some(6)));
    }

    #[test]
    fn stage_history_and_stage_as_of_a_date() {
        let cfg = DealConfig::default();
        let o = deal("proposal", OpportunityStatus::Open);
        // Given out of order: the history sorts them.
        let changes = vec![
            change("proposal", "2025-03-01"),
            change("qualification", "2025-01-10"),
            change("discovery", "2025-02-01"),
        ];
        let h = stage_history(&cfg, &o, &changes, &[]);
        let stages: Vec<&str> = h.iter().map(|p| p.stage.as_str()).collect();
        assert_eq!(stages, ["qualification", "discovery", "proposal"]);
        assert_eq!(h[0].until, Some(ts("2025-02-01")));
        assert_eq!(h[2].until, None);
        assert!(h.iter().all(|p| !p.derived));
        assert_eq!(stage_at(&h, ts("2025-01-09")), None);
        assert_eq!(
            stage_at(&h, ts("2025-01-10")).unwrap().stage,
            "qualification"
        );
        assert_eq!(stage_at(&h, ts("2025-02-15")).unwrap().stage, "discovery");
        assert_eq!(stage_at(&h, ts("2026-01-01")).unwrap().stage, "proposal");
        assert_eq!(created_at(&h), Some(ts("2025-01-10")));
    }

    #[test]
    fn history_is_derived_for_deals_without_changes() {
        let cfg = DealConfig::default();
        let open = deal("Negotiation", OpportunityStatus::Open);
        let contacts = vec![
            contact("cfo", 2, Some("2025-04-02")),
            contact("cio", 2, Some("2025-03-05")),
        ];
        let h = stage_history(&cfg, &open, &[], &contacts);
        assert_eq!(h.len(), 1);
        assert!(h[0].derived);
        assert_eq!(h[0].stage, "Negotiation");
        assert_eq!(h[0].stage_index, Some(4));
        assert_eq!(h[0].from, Some(ts("2025-03-05")));

        let lost = deal("negotiation", OpportunityStatus::Lost);
        let h = stage_history(&cfg, &lost, &[], &[]);
        assert_eq!(h[0].stage, "closed_lost");
        assert_eq!(h[0].from, Some(ts("2025-06-30")));
    }

    #[test]
    fn decision_chain_as_of_a_date_keeps_every_version() {
        let id = OpportunityId::parse("d1").unwrap();
        let contacts = vec![
            contact("cfo", 1, Some("2025-01-15")),
            contact("cfo", 3, Some("2025-03-10")),
            contact("cio", 2, Some("2025-02-20")),
            contact("coach", 4, None),
        ];
        let before = decision_chain(&id, &contacts, Some(ts("2025-01-01")));
        assert_eq!(before.len(), 1, "only the undated assessment is known");
        assert_eq!(before[0].person.as_str(), "coach");

        let feb = decision_chain(&id, &contacts, Some(ts("2025-02-28")));
        let sa: Vec<(&str, Option<u8>)> = feb
            .iter()
            .map(|c| (c.person.as_str(), c.solution_acceptance))
            .collect();
        assert_eq!(sa, [("cfo", Some(1)), ("cio", Some(2)), ("coach", Some(4))]);

        let now = decision_chain(&id, &contacts, None);
        assert_eq!(now[0].solution_acceptance, Some(3));
        assert_eq!(now[0].versions, 2);
        assert_eq!(now[0].assessed_at, Some(ts("2025-03-10")));
    }

    #[test]
    fn chain_at_each_stage() {
        let cfg = DealConfig::default();
        let o = deal("proposal", OpportunityStatus::Open);
        let changes = vec![
            change("qualification", "2025-01-10"),
            change("discovery", "2025-02-01"),
            change("proposal", "2025-03-01"),
        ];
        let contacts = vec![
            contact("cfo", 1, Some("2025-01-15")),
            contact("cio", 2, Some("2025-02-01")),
            contact("cfo", 3, Some("2025-03-10")),
        ];
        let h = stage_history(&cfg, &o, &changes, &contacts);
        let q = chain_at_stage(&o, &h, &contacts, 0).unwrap();
        assert_eq!(q.len(), 1, "cio was assessed the instant discovery began");
        let d = chain_at_stage(&o, &h, &contacts, 1).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].solution_acceptance, Some(1));
        let p = chain_at_stage(&o, &h, &contacts, 3).unwrap();
        assert_eq!(
            p[0].solution_acceptance,
            Some(3),
            "current stage: everything"
        );
        assert!(
            chain_at_stage(&o, &h, &contacts, 4).is_none(),
            "never reached"
        );
    }
}
