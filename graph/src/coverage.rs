//! Coverage of an account: which buying roles, departments and levels have a
//! stakeholder we are close to, and the structural risks around that
//! (single-threading, ties going cold, influential opponents, roles never
//! identified, people whose departure cuts our warm paths).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::closeness::{OurCloseness, Tie};
use crate::config::ScoringConfig;
use crate::influence::StakeholderInfluence;
use crate::model::{Attitude, BuyingRole, Level, OpportunityId, PersonId};
use crate::paths::PathGraph;
use crate::time::Timestamp;

/// Per group: (members, strong members). A group is covered when it has a
/// strong member. Generic over the key so the app (with [`GroupKey`]) and the
/// bench (interned keys) share it.
pub fn group_coverage<K: Ord>(
    entries: impl IntoIterator<Item = (K, bool)>,
) -> BTreeMap<K, (u32, u32)> {
    let mut m: BTreeMap<K, (u32, u32)> = BTreeMap::new();
    for (k, strong) in entries {
        let e = m.entry(k).or_insert((0, 0));
        e.0 += 1;
        e.1 += u32::from(strong);
    }
    m
}

/// A coverage group: a buying role (never "none"), a department or a level.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "dimension", content = "value", rename_all = "snake_case")]
pub enum GroupKey {
    Role(BuyingRole),
    Department(String),
    Level(Level),
}

impl GroupKey {
    /// The groups a stakeholder belongs to.
    pub fn of(p: &crate::model::Person) -> impl Iterator<Item = GroupKey> + '_ {
        p.role
            .map(GroupKey::Role)
            .into_iter()
            .chain(p.department.clone().map(GroupKey::Department))
            .chain(std::iter::once(GroupKey::Level(p.level)))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupCoverage {
    pub group: GroupKey,
    pub members: u32,
    pub strong_members: u32,
    pub gap: bool,
    /// The member we are closest to, and how close.
    pub closest: Option<(PersonId, f64)>,
}

/// A stakeholder whose tie is going cold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColdTie {
    pub person: PersonId,
    pub influence: f64,
    pub last_contact: Timestamp,
    pub days_silent: f64,
}

/// An influential skeptic or opponent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detractor {
    pub person: PersonId,
    pub attitude: Attitude,
    pub influence: f64,
    pub closeness: f64,
}

/// Warm paths to an economic buyer and who they all depend on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathDependency {
    pub economic_buyer: PersonId,
    pub reachable: bool,
    /// Sellers and stakeholders on every warm path to the economic buyer.
    pub cut_people: Vec<PersonId>,
}

/// Coverage of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageReport {
    pub threshold: f64,
    pub groups: Vec<GroupCoverage>,
    pub gaps: Vec<GroupKey>,
    /// Covered groups / groups (1 when there are no groups).
    pub coverage: f64,
    pub strong_stakeholders: u32,
    /// Our one person holding every strong tie (when there is at least one).
    pub single_threaded_seller: Option<PersonId>,
    /// The one stakeholder we are strong with, when there is exactly one.
    pub single_stakeholder: Option<PersonId>,
    pub cold: Vec<ColdTie>,
    pub detractors: Vec<Detractor>,
    /// Key roles nobody at the account has (people or deal contacts).
    pub roles_missing: Vec<BuyingRole>,
    pub dependencies: Vec<PathDependency>,
}

/// Influence at or above which a stakeholder counts as influential for the
/// cold-tie and detractor checks (influence is 0..1 within the account).
pub const INFLUENTIAL: f64 = 0.5;

/// Roles an account plan is expected to identify.
pub const KEY_ROLES: [BuyingRole; 4] = [
    BuyingRole::EconomicBuyer,
    BuyingRole::TechnicalBuyer,
    BuyingRole::UserBuyer,
    BuyingRole::Coach,
];

/// Computes the report. `ours` and `influence` are in `data.people` order.
#[allow(clippy::too_many_arguments)]
pub fn coverage(
    data: &AccountData,
    ties: &[Tie],
    ours: &[OurCloseness],
    influence: &[StakeholderInfluence],
    paths: &PathGraph,
    cfg: &ScoringConfig,
    threshold: f64,
    as_of: Timestamp,
) -> CoverageReport {
    let mut closest: BTreeMap<GroupKey, (PersonId, f64)> = BTreeMap::new();
    let mut entries = Vec::new();
    for (p, o) in data.people.iter().zip(ours) {
        for k in GroupKey::of(p) {
            let c = closest
                .entry(k.clone())
                .or_insert((p.id.clone(), o.closeness));
            if o.closeness > c.1 {
                *c = (p.id.clone(), o.closeness);
            }
            entries.push((k, o.closeness >= threshold));
        }
    }
    let table = group_coverage(entries);
    let groups: Vec<GroupCoverage> = table
        .into_iter()
        .map(|(k, (members, strong))| GroupCoverage {
            closest: closest.get(&k).cloned(),
            group: k,
            members,
            strong_members: strong,
            gap: strong == 0,
        })
        .collect();
    let gaps: Vec<GroupKey> = groups
        .iter()
        .filter(|g| g.gap)
        .map(|g| g.group.clone())
        .collect();
    let coverage = if groups.is_empty() {
        1.0
    } else {
        (groups.len() - gaps.len()) as f64 / groups.len() as f64
    };
    let strong: Vec<&OurCloseness> = ours.iter().filter(|o| o.closeness >= threshold).collect();
    let holders: BTreeSet<&PersonId> = ties
        .iter()
        .filter(|t| t.closeness >= threshold)
        .map(|t| &t.ours)
        .collect();
    let single_threaded_seller =
        (holders.len() == 1).then(|| (*holders.first().expect("one")).clone());
    let single_stakeholder = (strong.len() == 1).then(|| strong[0].person.clone());
    let mut cold = Vec::new();
    let mut detractors = Vec::new();
    for ((p, o), inf) in data.people.iter().zip(ours).zip(influence) {
        if inf.influence < INFLUENTIAL {
            continue;
        }
        if let Some(last) = o.last_contact {
            let days = as_of.days_since(last);
            if days >= cfg.cold_after_days {
                cold.push(ColdTie {
                    person: p.id.clone(),
                    influence: inf.influence,
                    last_contact: last,
                    days_silent: days,
                });
            }
        }
        if let Some(a @ (Attitude::Skeptic | Attitude::Opponent)) = p.attitude {
            detractors.push(Detractor {
                person: p.id.clone(),
                attitude: a,
                influence: inf.influence,
                closeness: o.closeness,
            });
        }
    }
    cold.sort_by(|a, b| b.influence.total_cmp(&a.influence));
    detractors.sort_by(|a, b| b.influence.total_cmp(&a.influence));
    let present: BTreeSet<BuyingRole> = data
        .people
        .iter()
        .filter_map(|p| p.role)
        .chain(data.opportunity_contacts.iter().filter_map(|c| c.role))
        .collect();
    let roles_missing = KEY_ROLES
        .iter()
        .copied()
        .filter(|r| !present.contains(r))
        .collect();
    let (dist, _) = crate::paths::dijkstra(&paths.graph, crate::paths::SOURCE);
    let dependencies = data
        .people
        .iter()
        .filter(|p| p.role == Some(BuyingRole::EconomicBuyer))
        .map(|p| {
            let reachable = paths
                .node_of(&p.id)
                .is_some_and(|t| dist[t as usize].is_finite());
            PathDependency {
                economic_buyer: p.id.clone(),
                reachable,
                cut_people: if reachable {
                    paths.cut_people(&p.id)
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    CoverageReport {
        threshold,
        groups,
        gaps,
        coverage,
        strong_stakeholders: strong.len() as u32,
        single_threaded_seller,
        single_stakeholder,
        cold,
        detractors,
        roles_missing,
        dependencies,
    }
}

/// Coverage of one deal: the same groups, over the stakeholders involved in
/// it, with the buying role they play in this deal (falling back to their
/// account-level role).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpportunityCoverage {
    pub opportunity: OpportunityId,
    pub contacts: u32,
    pub groups: Vec<GroupCoverage>,
    pub gaps: Vec<GroupKey>,
    /// Covered groups / groups (1 when there are no groups).
    pub coverage: f64,
    /// Key roles no contact of the deal plays.
    pub roles_missing: Vec<BuyingRole>,
}

/// Coverage of one opportunity; `ours` is in `data.people` order.
pub fn opportunity_coverage(
    data: &AccountData,
    ours: &[OurCloseness],
    opportunity: &OpportunityId,
    threshold: f64,
) -> OpportunityCoverage {
    let mut closest: BTreeMap<GroupKey, (PersonId, f64)> = BTreeMap::new();
    let mut entries = Vec::new();
    let mut roles = BTreeSet::new();
    let mut contacts = 0;
    for (p, o) in data.people.iter().zip(ours) {
        let Some(c) = data
            .opportunity_contacts
            .iter()
            .find(|c| &c.opportunity == opportunity && c.person == p.id)
        else {
            continue;
        };
        contacts += 1;
        let role = c.role.or(p.role);
        roles.extend(role);
        let keys = role
            .map(GroupKey::Role)
            .into_iter()
            .chain(p.department.clone().map(GroupKey::Department))
            .chain(std::iter::once(GroupKey::Level(p.level)));
        for k in keys {
            let e = closest
                .entry(k.clone())
                .or_insert((p.id.clone(), o.closeness));
            if o.closeness > e.1 {
                *e = (p.id.clone(), o.closeness);
            }
            entries.push((k, o.closeness >= threshold));
        }
    }
    let groups: Vec<GroupCoverage> = group_coverage(entries)
        .into_iter()
        .map(|(k, (members, strong))| GroupCoverage {
            closest: closest.get(&k).cloned(),
            group: k,
            members,
            strong_members: strong,
            gap: strong == 0,
        })
        .collect();
    let gaps: Vec<GroupKey> = groups
        .iter()
        .filter(|g| g.gap)
        .map(|g| g.group.clone())
        .collect();
    let coverage = if groups.is_empty() {
        1.0
    } else {
        (groups.len() - gaps.len()) as f64 / groups.len() as f64
    };
    OpportunityCoverage {
        opportunity: opportunity.clone(),
        contacts,
        groups,
        gaps,
        coverage,
        roles_missing: KEY_ROLES
            .iter()
            .copied()
            .filter(|r| !roles.contains(r))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_count_members_and_strong() {
        let t = group_coverage([("a", true), ("a", false), ("b", false)]);
        assert_eq!(t["a"], (2, 1));
        assert_eq!(t["b"], (1, 0));
    }
}
