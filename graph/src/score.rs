//! One call that scores an account: ties, our closeness, influence, warm
//! paths, coverage, next approaches and the relationship index. The app
//! caches the result per account; finer questions (k paths to one target,
//! "what if X leaves") have their own functions.

use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::closeness::{OurCloseness, Tie, account_ties, our_closeness, stakeholder_links};
use crate::config::ScoringConfig;
use crate::coverage::{
    CoverageReport, GroupKey, OpportunityCoverage, coverage, opportunity_coverage,
};
use crate::influence::{StakeholderInfluence, account_influence};
use crate::model::OpportunityStatus;
use crate::model::{OrgId, PersonId};
use crate::next::{NextApproach, next_approaches};
use crate::paths::{PathGraph, WarmPath};
use crate::time::Timestamp;

/// Everything about one stakeholder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StakeholderScore {
    pub person: PersonId,
    pub closeness: OurCloseness,
    pub influence: StakeholderInfluence,
    pub best_path: Option<WarmPath>,
}

/// The scores of one account as of a time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountScores {
    pub account: OrgId,
    pub as_of: Timestamp,
    /// `Σ influence · closeness / Σ influence` over the stakeholders (0..1).
    pub relationship_index: f64,
    pub stakeholders: Vec<StakeholderScore>,
    pub ties: Vec<Tie>,
    pub coverage: CoverageReport,
    /// Coverage of each open opportunity of the account.
    pub opportunities: Vec<OpportunityCoverage>,
    pub next_approaches: Vec<NextApproach>,
}

/// `Σ influence · closeness / Σ influence`: closeness weighted by who matters.
pub fn relationship_index(ours: &[OurCloseness], influence: &[StakeholderInfluence]) -> f64 {
    let (num, den) = ours
        .iter()
        .zip(influence)
        .fold((0.0, 0.0), |(n, d), (o, i)| {
            (n + i.influence * o.closeness, d + i.influence)
        });
    if den > 0.0 { num / den } else { 0.0 }
}

/// Scores an account with the product's coverage threshold.
pub fn score_account(data: &AccountData, cfg: &ScoringConfig, as_of: Timestamp) -> AccountScores {
    let mut ties = account_ties(data, cfg, as_of);
    let pairs: Vec<_> = ties
        .iter()
        .map(|t| (t.ours.clone(), t.theirs.clone()))
        .collect();
    let reciprocity = crate::reciprocity::for_pairs(&data.interactions, &pairs, as_of);
    for (t, r) in ties.iter_mut().zip(reciprocity) {
        t.reciprocity = r;
    }
    let ours = our_closeness(data, &ties, cfg);
    let influence = account_influence(data, cfg);
    let links = stakeholder_links(data, cfg, as_of);
    let graph = PathGraph::build(data, &ties, &links, cfg);
    let best = graph.best_paths(data);
    let cov = coverage(
        data,
        &ties,
        &ours,
        &influence,
        &graph,
        cfg,
        cfg.coverage_threshold,
        as_of,
    );
    let next = next_approaches(data, &ours, &influence, &best, cfg);
    let opportunities = data
        .opportunities
        .iter()
        .filter(|o| o.status == OpportunityStatus::Open)
        .map(|o| opportunity_coverage(data, &ours, &o.id, cfg.coverage_threshold))
        .collect();
    let relationship_index = relationship_index(&ours, &influence);
    let stakeholders = data
        .people
        .iter()
        .zip(ours)
        .zip(influence)
        .zip(best)
        .map(|(((p, c), i), b)| StakeholderScore {
            person: p.id.clone(),
            closeness: c,
            influence: i,
            best_path: b,
        })
        .collect();
    AccountScores {
        account: data.account.id.clone(),
        as_of,
        relationship_index,
        stakeholders,
        ties,
        coverage: cov,
        opportunities,
        next_approaches: next,
    }
}

/// Scores many accounts in parallel (rayon; accounts are independent shards).
/// The result is in input order.
pub fn score_accounts(
    accounts: &[AccountData],
    cfg: &ScoringConfig,
    as_of: Timestamp,
) -> Vec<AccountScores> {
    use rayon::prelude::*;
    accounts
        .par_iter()
        .map(|a| score_account(a, cfg, as_of))
        .collect()
}

/// The `k` best warm paths from the account team to `target`.
pub fn warm_paths(
    data: &AccountData,
    cfg: &ScoringConfig,
    as_of: Timestamp,
    target: &PersonId,
    k: usize,
) -> Vec<WarmPath> {
    let ties = account_ties(data, cfg, as_of);
    let links = stakeholder_links(data, cfg, as_of);
    PathGraph::build(data, &ties, &links, cfg).k_paths(target, k)
}

/// A stakeholder whose best warm path got weaker: strengths before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weakened {
    pub person: PersonId,
    pub before: f64,
    pub after: f64,
}

/// What the account loses if one person (ours or theirs) leaves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhatIfLeaves {
    pub person: PersonId,
    pub index_before: f64,
    pub index_after: f64,
    /// Groups covered before and gaps after.
    pub gaps_opened: Vec<GroupKey>,
    /// Stakeholders with a warm path before and none after.
    pub unreachable: Vec<PersonId>,
    /// Stakeholders whose best path got weaker.
    pub weakened: Vec<Weakened>,
    pub ties_lost: usize,
}

/// Removes `person` from the account (their ties, influence lines and
/// assessments; their reports move up to their manager, the usual interim
/// arrangement) and compares the scores.
pub fn what_if_leaves(
    data: &AccountData,
    cfg: &ScoringConfig,
    as_of: Timestamp,
    person: &PersonId,
) -> WhatIfLeaves {
    let before = score_account(data, cfg, as_of);
    let mut d = data.clone();
    let manager = d
        .people
        .iter()
        .find(|p| &p.id == person)
        .and_then(|p| p.reports_to.clone());
    d.people.retain(|p| &p.id != person);
    for p in &mut d.people {
        if p.reports_to.as_ref() == Some(person) {
            p.reports_to = manager.clone();
        }
    }
    d.our_people.retain(|p| &p.id != person);
    d.team.retain(|m| &m.person != person);
    // Interactions stay: they happened, and the others' ties from them keep
    // their weight (the `w / (n − 1)` split counts everyone who was there).
    d.influences
        .retain(|i| &i.from != person && &i.to != person);
    d.assessments
        .retain(|a| &a.from != person && &a.to != person);
    let after = score_account(&d, cfg, as_of);
    let gaps_opened = after
        .coverage
        .gaps
        .iter()
        .filter(|g| !before.coverage.gaps.contains(g))
        .cloned()
        .collect();
    let mut unreachable = Vec::new();
    let mut weakened = Vec::new();
    for s in &before.stakeholders {
        if &s.person == person {
            continue;
        }
        let b = s.best_path.as_ref().map_or(0.0, |p| p.strength);
        let a = after
            .stakeholders
            .iter()
            .find(|x| x.person == s.person)
            .and_then(|x| x.best_path.as_ref())
            .map_or(0.0, |p| p.strength);
        if b > 0.0 && a == 0.0 {
            unreachable.push(s.person.clone());
        } else if a < b * (1.0 - 1e-9) {
            weakened.push(Weakened {
                person: s.person.clone(),
                before: b,
                after: a,
            });
        }
    }
    WhatIfLeaves {
        person: person.clone(),
        index_before: before.relationship_index,
        index_after: after.relationship_index,
        gaps_opened,
        unreachable,
        weakened,
        ties_lost: before.ties.len() - after.ties.len().min(before.ties.len()),
    }
}
