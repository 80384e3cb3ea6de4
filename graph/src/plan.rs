//! ESP+ account plans: the scores of an account turned into a plan people
//! follow — the relationship index and its parts, the three acceptances
//! rolled up (关系紧密度, 方案认可度, 价格接受度), gaps and risks, open deals
//! with their decision chains, objectives tracked against the scores, and
//! actions generated from the gaps and the next-approach ranking. Snapshots
//! of plans are compared to say what changed since the last review.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::config::{ScoringConfig, role_weight};
use crate::coverage::GroupKey;
use crate::model::{
    Attitude, BuyingRole, ClosenessLevel, InteractionKind, OpportunityId, OpportunityStatus, OrgId,
    PersonId,
};
use crate::score::AccountScores;
use crate::time::Timestamp;

/// A user-written goal, e.g. "reach trusted with the CFO by Q2".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    pub id: String,
    pub text: String,
    /// The stakeholder whose tie the objective is about, if any.
    #[serde(default)]
    pub person: Option<PersonId>,
    /// The closeness level to reach with `person`.
    #[serde(default)]
    pub target_level: Option<ClosenessLevel>,
    pub due: NaiveDate,
}

/// Where an objective stands as of the plan's date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveStatus {
    pub objective: Objective,
    pub current_level: Option<ClosenessLevel>,
    pub current_closeness: Option<f64>,
    pub met: bool,
    pub overdue: bool,
    pub days_left: i64,
}

/// Why an action was suggested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// One seller holds every strong tie: bring a second one in.
    MultiThread,
    /// An influential stakeholder (often the economic buyer) has gone cold.
    ReEngage,
    /// A buying role, level or department has nobody we are close to.
    CloseGap,
    /// An influential opponent or skeptic needs a plan.
    AddressDetractor,
    /// High on the next-approach ranking.
    Approach,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::MultiThread => "multi_thread",
            ActionKind::ReEngage => "re_engage",
            ActionKind::CloseGap => "close_gap",
            ActionKind::AddressDetractor => "address_detractor",
            ActionKind::Approach => "approach",
        }
    }
}

/// Where an action is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Suggested,
    Accepted,
    Done,
    Dismissed,
}

/// One step of the plan: whom, through whom, how, who owns it, by when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// Stable for the same kind and stakeholder, so a user's edits stick.
    pub id: String,
    pub kind: ActionKind,
    pub whom: PersonId,
    /// Who makes the introduction (a stakeholder or one of ours), if anyone.
    pub through: Option<PersonId>,
    pub interaction: InteractionKind,
    pub owner: Option<PersonId>,
    pub due: NaiveDate,
    pub why: String,
    pub status: ActionStatus,
    /// Priority 0..1 (higher first).
    pub priority: f64,
}

/// An acceptance rolled up over the stakeholders who have been assessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolledUp {
    /// Weighted mean on 0..1, `None` when nobody was assessed.
    pub value: Option<f64>,
    pub assessed: u32,
    /// Each stakeholder's part: weight (influence × role weight) and value.
    pub parts: Vec<AcceptancePart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcceptancePart {
    pub person: PersonId,
    pub weight: f64,
    pub value: f64,
    pub at: Option<Timestamp>,
}

/// The three acceptances ECM manages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acceptances {
    /// 关系紧密度: our closeness, weighted by influence and role.
    pub relationship: RolledUp,
    /// 方案认可度: latest solution acceptance (0–4 → 0..1) per stakeholder.
    pub solution: RolledUp,
    /// 价格接受度: latest price acceptance (0–4 → 0..1) per stakeholder.
    pub price: RolledUp,
}

/// A stakeholder of a deal as the plan shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainMember {
    pub person: PersonId,
    pub role: Option<BuyingRole>,
    pub attitude: Option<Attitude>,
    pub solution_acceptance: Option<u8>,
    pub price_acceptance: Option<u8>,
    pub closeness: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealPlan {
    pub id: OpportunityId,
    pub name: String,
    pub amount: Option<f64>,
    pub stage: Option<String>,
    pub close_date: Option<NaiveDate>,
    pub decision_chain: Vec<ChainMember>,
    /// Buying roles nobody in the chain holds.
    pub roles_missing: Vec<BuyingRole>,
}

/// One stakeholder's share of the relationship index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexPart {
    pub person: PersonId,
    pub influence: f64,
    pub closeness: f64,
    /// `influence · closeness / Σ influence`; the parts add up to the index.
    pub contribution: f64,
}

/// The plan of one account as of a date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPlan {
    pub account: OrgId,
    pub as_of: Timestamp,
    pub relationship_index: f64,
    /// The largest contributions first.
    pub index_parts: Vec<IndexPart>,
    pub acceptances: Acceptances,
    pub coverage: f64,
    pub gaps: Vec<GroupKey>,
    pub single_threaded_seller: Option<PersonId>,
    /// Stakeholders everyone's warm path to an economic buyer depends on.
    pub single_points_of_failure: Vec<PersonId>,
    pub cold: Vec<PersonId>,
    pub open_deals: Vec<DealPlan>,
    pub objectives: Vec<ObjectiveStatus>,
    pub actions: Vec<Action>,
    /// Stakeholders and their attitudes, kept so snapshots can be compared.
    pub stakeholders: Vec<StakeholderLine>,
}

/// What a snapshot remembers of each stakeholder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StakeholderLine {
    pub person: PersonId,
    pub level: ClosenessLevel,
    pub closeness: f64,
    pub attitude: Option<Attitude>,
}

/// How many generated actions a plan keeps (the rest are noise).
pub const MAX_ACTIONS: usize = 12;

fn acceptance_rollup(
    data: &AccountData,
    scores: &AccountScores,
    as_of: Timestamp,
    pick: impl Fn(&crate::model::OpportunityContact) -> Option<u8>,
) -> RolledUp {
    // Latest assessment per stakeholder, across their deals, not after as_of.
    let mut latest: HashMap<&PersonId, (Option<Timestamp>, u8)> = HashMap::new();
    for c in &data.opportunity_contacts {
        if c.at.is_some_and(|t| t > as_of) {
            continue;
        }
        if let Some(v) = pick(c) {
            let e = latest.entry(&c.person).or_insert((c.at, v));
            if c.at >= e.0 {
                *e = (c.at, v);
            }
        }
    }
    let mut parts = Vec::new();
    for (p, s) in data.people.iter().zip(&scores.stakeholders) {
        if let Some((at, v)) = latest.get(&p.id) {
            parts.push(AcceptancePart {
                person: p.id.clone(),
                weight: s.influence.influence * role_weight(p.role),
                value: f64::from(*v) / 4.0,
                at: *at,
            });
        }
    }
    rolled(parts)
}

fn rolled(parts: Vec<AcceptancePart>) -> RolledUp {
    let den: f64 = parts.iter().map(|p| p.weight).sum();
    let value = (den > 0.0).then(|| parts.iter().map(|p| p.weight * p.value).sum::<f64>() / den);
    RolledUp {
        value,
        assessed: parts.len() as u32,
        parts,
    }
}

/// The three acceptances of an account as of `as_of`.
pub fn acceptances(data: &AccountData, scores: &AccountScores, as_of: Timestamp) -> Acceptances {
    let relationship = rolled(
        data.people
            .iter()
            .zip(&scores.stakeholders)
            .map(|(p, s)| AcceptancePart {
                person: p.id.clone(),
                weight: s.influence.influence * role_weight(p.role),
                value: s.closeness.closeness,
                at: s.closeness.last_contact,
            })
            .collect(),
    );
    Acceptances {
        relationship,
        solution: acceptance_rollup(data, scores, as_of, |c| {
            c.solution_acceptance.map(|a| a.get())
        }),
        price: acceptance_rollup(data, scores, as_of, |c| c.price_acceptance.map(|a| a.get())),
    }
}

fn date_of(t: Timestamp) -> NaiveDate {
    t.to_datetime().date_naive()
}

/// The kind of contact that suits closing a gap of this size: a meeting to
/// start, a workshop to deepen, a dinner to turn trust into alliance.
fn interaction_for(closeness: f64) -> InteractionKind {
    if closeness < 0.3 {
        InteractionKind::Meeting
    } else if closeness < 0.55 {
        InteractionKind::Workshop
    } else {
        InteractionKind::Dinner
    }
}

/// Builds the plan. `stored` are actions users already accepted, edited or
/// closed: they replace the generated action with the same id, and done or
/// dismissed ones are kept for the record but not suggested again.
pub fn account_plan(
    data: &AccountData,
    scores: &AccountScores,
    cfg: &ScoringConfig,
    objectives: &[Objective],
    stored: &[Action],
) -> AccountPlan {
    let as_of = scores.as_of;
    let today = date_of(as_of);
    let name_of = |id: &PersonId| {
        data.people
            .iter()
            .chain(&data.our_people)
            .find(|p| &p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let idx: HashMap<&PersonId, usize> = data
        .people
        .iter()
        .enumerate()
        .map(|(i, p)| (&p.id, i))
        .collect();
    let closeness_of = |id: &PersonId| {
        idx.get(id)
            .map(|&i| scores.stakeholders[i].closeness.closeness)
            .unwrap_or(0.0)
    };
    let influence_of = |id: &PersonId| {
        idx.get(id)
            .map(|&i| scores.stakeholders[i].influence.influence)
            .unwrap_or(0.0)
    };
    let best_path = |id: &PersonId| {
        idx.get(id)
            .and_then(|&i| scores.stakeholders[i].best_path.as_ref())
    };
    let account_exec = data
        .team
        .iter()
        .find(|t| t.role == crate::model::TeamRole::AccountExecutive)
        .map(|t| t.person.clone());

    // Relationship index and its parts.
    let total_influence: f64 = scores
        .stakeholders
        .iter()
        .map(|s| s.influence.influence)
        .sum();
    let mut index_parts: Vec<IndexPart> = scores
        .stakeholders
        .iter()
        .map(|s| IndexPart {
            person: s.person.clone(),
            influence: s.influence.influence,
            closeness: s.closeness.closeness,
            contribution: if total_influence > 0.0 {
                s.influence.influence * s.closeness.closeness / total_influence
            } else {
                0.0
            },
        })
        .collect();
    index_parts.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));

    // Actions generated from the risks, then from the ranking.
    let mut actions: Vec<Action> = Vec::new();
    let add = |actions: &mut Vec<Action>,
               kind: ActionKind,
               whom: &PersonId,
               priority: f64,
               why: String,
               days: i64| {
        if actions.iter().any(|a| &a.whom == whom) {
            return;
        }
        let path = best_path(whom);
        let through = path.map(|p| p.connector().clone()).filter(|c| c != whom);
        let owner = path
            .map(|p| p.seller.clone())
            .or_else(|| account_exec.clone());
        actions.push(Action {
            id: format!("{}:{}", kind.as_str(), whom),
            kind,
            whom: whom.clone(),
            through,
            interaction: interaction_for(closeness_of(whom)),
            owner,
            due: today + chrono::Days::new(days.max(1) as u64),
            why,
            status: ActionStatus::Suggested,
            priority: priority.clamp(0.0, 1.0),
        });
    };
    let cov = &scores.coverage;
    if let Some(seller) = &cov.single_threaded_seller {
        // Bring a second seller to the most influential stakeholder that only
        // `seller` is close to.
        let strong: BTreeSet<&PersonId> = scores
            .ties
            .iter()
            .filter(|t| t.closeness >= cfg.coverage_threshold)
            .map(|t| &t.theirs)
            .collect();
        if let Some(top) = data
            .people
            .iter()
            .filter(|p| strong.contains(&p.id))
            .max_by(|a, b| influence_of(&a.id).total_cmp(&influence_of(&b.id)))
        {
            let second = data.team.iter().map(|t| &t.person).find(|p| *p != seller);
            let mut why = format!(
                "{} holds every strong tie to this account; if they leave, the account goes dark. ",
                name_of(seller)
            );
            match second {
                Some(s) => why.push_str(&format!(
                    "Have {} introduce {} to {} (influence {:.2}).",
                    name_of(seller),
                    name_of(s),
                    name_of(&top.id),
                    influence_of(&top.id)
                )),
                None => why.push_str("Add a second seller to the account team."),
            }
            add(&mut actions, ActionKind::MultiThread, &top.id, 1.0, why, 14);
            if let (Some(a), Some(s)) = (actions.last_mut(), second) {
                a.owner = Some(s.clone());
                a.through = Some(seller.clone());
            }
        }
    }
    // Cold economic buyers first, then detractors, then other cold ties.
    let is_eb = |p: &PersonId| {
        idx.get(p).and_then(|&i| data.people[i].role) == Some(BuyingRole::EconomicBuyer)
    };
    let cold_action = |actions: &mut Vec<Action>, c: &crate::coverage::ColdTie| {
        let eb = is_eb(&c.person);
        let why = format!(
            "{} ({}influence {:.2}) has not been contacted for {:.0} days (last {}).",
            name_of(&c.person),
            if eb { "the economic buyer, " } else { "" },
            c.influence,
            c.days_silent,
            date_of(c.last_contact)
        );
        add(
            actions,
            ActionKind::ReEngage,
            &c.person,
            if eb { 0.95 } else { 0.6 + 0.3 * c.influence },
            why,
            7,
        );
    };
    for c in cov.cold.iter().filter(|c| is_eb(&c.person)) {
        cold_action(&mut actions, c);
    }
    for d in &cov.detractors {
        let why = format!(
            "{} is {} with influence {:.2} and our closeness {:.2}: plan how to address their concerns.",
            name_of(&d.person),
            match d.attitude {
                Attitude::Opponent => "an opponent",
                Attitude::Skeptic => "a skeptic",
                Attitude::Neutral => "neutral",
                Attitude::Supporter => "a supporter",
                Attitude::Champion => "a champion",
            },
            d.influence,
            d.closeness
        );
        add(
            &mut actions,
            ActionKind::AddressDetractor,
            &d.person,
            0.5 + 0.4 * d.influence,
            why,
            21,
        );
    }
    for c in cov.cold.iter().filter(|c| !is_eb(&c.person)) {
        cold_action(&mut actions, c);
    }
    for g in &cov.gaps {
        // The most influential member of the group.
        let member = data
            .people
            .iter()
            .filter(|p| GroupKey::of(p).any(|k| &k == g))
            .max_by(|a, b| influence_of(&a.id).total_cmp(&influence_of(&b.id)));
        if let Some(m) = member {
            let label = match g {
                GroupKey::Role(r) => format!("the {} role", r.label().to_lowercase()),
                GroupKey::Department(d) => d.clone(),
                GroupKey::Level(l) => format!("level {} ({})", l.get(), l.label()),
            };
            let why = format!(
                "Nobody in {label} is at least familiar with us; {} is its most influential member (closeness {:.2}).",
                name_of(&m.id),
                closeness_of(&m.id)
            );
            add(
                &mut actions,
                ActionKind::CloseGap,
                &m.id,
                0.4 + 0.4 * influence_of(&m.id),
                why,
                30,
            );
        }
    }
    for n in scores.next_approaches.iter().take(5) {
        add(
            &mut actions,
            ActionKind::Approach,
            &n.person,
            n.score.min(1.0) * 0.6,
            n.why.clone(),
            30,
        );
    }

    // Users' decisions win over generated suggestions.
    let mut by_id: BTreeMap<String, Action> =
        actions.into_iter().map(|a| (a.id.clone(), a)).collect();
    for s in stored {
        by_id.insert(s.id.clone(), s.clone());
    }
    let mut actions: Vec<Action> = by_id.into_values().collect();
    actions.sort_by(|a, b| {
        let open =
            |x: &Action| matches!(x.status, ActionStatus::Suggested | ActionStatus::Accepted);
        open(b)
            .cmp(&open(a))
            .then(b.priority.total_cmp(&a.priority))
            .then(a.id.cmp(&b.id))
    });
    let mut open_count = 0;
    actions.retain(|a| {
        let open = matches!(a.status, ActionStatus::Suggested | ActionStatus::Accepted);
        if open && a.status == ActionStatus::Suggested {
            open_count += 1;
            open_count <= MAX_ACTIONS
        } else {
            true
        }
    });

    // Open deals with their decision chains.
    let open_deals = data
        .opportunities
        .iter()
        .filter(|o| o.status == OpportunityStatus::Open)
        .map(|o| {
            // The chain as of the plan's date: each stakeholder's latest
            // assessment on this deal (the chain is versioned).
            let mut latest: BTreeMap<&PersonId, &crate::model::OpportunityContact> =
                BTreeMap::new();
            for c in data
                .opportunity_contacts
                .iter()
                .filter(|c| c.opportunity == o.id && c.at.is_none_or(|t| t <= as_of))
            {
                let e = latest.entry(&c.person).or_insert(c);
                if c.at >= e.at {
                    *e = c;
                }
            }
            let decision_chain: Vec<ChainMember> = latest
                .into_values()
                .map(|c| ChainMember {
                    person: c.person.clone(),
                    role: c.role,
                    attitude: c.attitude,
                    solution_acceptance: c.solution_acceptance.map(|a| a.get()),
                    price_acceptance: c.price_acceptance.map(|a| a.get()),
                    closeness: closeness_of(&c.person),
                })
                .collect();
            let present: BTreeSet<BuyingRole> =
                decision_chain.iter().filter_map(|m| m.role).collect();
            let roles_missing = [
                BuyingRole::EconomicBuyer,
                BuyingRole::TechnicalBuyer,
                BuyingRole::UserBuyer,
                BuyingRole::Coach,
            ]
            .into_iter()
            .filter(|r| !present.contains(r))
            .collect();
            DealPlan {
                id: o.id.clone(),
                name: o.name.clone(),
                amount: o.amount,
                stage: o.stage.clone(),
                close_date: o.close_date,
                decision_chain,
                roles_missing,
            }
        })
        .collect();

    let objectives = objectives
        .iter()
        .map(|o| {
            let current = o
                .person
                .as_ref()
                .and_then(|p| idx.get(p))
                .map(|&i| &scores.stakeholders[i].closeness);
            let met = match (current, o.target_level) {
                (Some(c), Some(t)) => c.level >= t,
                _ => false,
            };
            let days_left = (o.due - today).num_days();
            ObjectiveStatus {
                objective: o.clone(),
                current_level: current.map(|c| c.level),
                current_closeness: current.map(|c| c.closeness),
                met,
                overdue: !met && days_left < 0,
                days_left,
            }
        })
        .collect();

    let spof: BTreeSet<PersonId> = cov
        .dependencies
        .iter()
        .flat_map(|d| d.cut_people.iter().cloned())
        .collect();

    AccountPlan {
        account: data.account.id.clone(),
        as_of,
        relationship_index: scores.relationship_index,
        index_parts,
        acceptances: acceptances(data, scores, as_of),
        coverage: cov.coverage,
        gaps: cov.gaps.clone(),
        single_threaded_seller: cov.single_threaded_seller.clone(),
        single_points_of_failure: spof.into_iter().collect(),
        cold: cov.cold.iter().map(|c| c.person.clone()).collect(),
        open_deals,
        objectives,
        actions,
        stakeholders: data
            .people
            .iter()
            .zip(&scores.stakeholders)
            .map(|(p, s)| StakeholderLine {
                person: p.id.clone(),
                level: s.closeness.level,
                closeness: s.closeness.closeness,
                attitude: p.attitude,
            })
            .collect(),
    }
}

/// What changed between two snapshots of a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanDiff {
    pub index_change: f64,
    pub coverage_change: f64,
    pub new_stakeholders: Vec<PersonId>,
    pub departed_stakeholders: Vec<PersonId>,
    /// (person, level before, level after) for ties whose level went up.
    pub warmed: Vec<(PersonId, ClosenessLevel, ClosenessLevel)>,
    /// (person, level before, level after) for ties whose level went down.
    pub cooled: Vec<(PersonId, ClosenessLevel, ClosenessLevel)>,
    pub attitude_changes: Vec<(PersonId, Option<Attitude>, Option<Attitude>)>,
    pub gaps_opened: Vec<GroupKey>,
    pub gaps_closed: Vec<GroupKey>,
    pub actions_done: Vec<String>,
    /// Open actions past their due date at the newer snapshot.
    pub actions_overdue: Vec<String>,
}

/// Compares an older and a newer plan of the same account.
pub fn diff_plans(old: &AccountPlan, new: &AccountPlan) -> PlanDiff {
    let before: HashMap<&PersonId, &StakeholderLine> =
        old.stakeholders.iter().map(|s| (&s.person, s)).collect();
    let after: HashMap<&PersonId, &StakeholderLine> =
        new.stakeholders.iter().map(|s| (&s.person, s)).collect();
    let mut d = PlanDiff {
        index_change: new.relationship_index - old.relationship_index,
        coverage_change: new.coverage - old.coverage,
        ..PlanDiff::default()
    };
    for s in &new.stakeholders {
        match before.get(&s.person) {
            None => d.new_stakeholders.push(s.person.clone()),
            Some(b) => {
                if s.level > b.level {
                    d.warmed.push((s.person.clone(), b.level, s.level));
                } else if s.level < b.level {
                    d.cooled.push((s.person.clone(), b.level, s.level));
                }
                if s.attitude != b.attitude {
                    d.attitude_changes
                        .push((s.person.clone(), b.attitude, s.attitude));
                }
            }
        }
    }
    d.departed_stakeholders = old
        .stakeholders
        .iter()
        .filter(|s| !after.contains_key(&s.person))
        .map(|s| s.person.clone())
        .collect();
    let old_gaps: BTreeSet<&GroupKey> = old.gaps.iter().collect();
    let new_gaps: BTreeSet<&GroupKey> = new.gaps.iter().collect();
    d.gaps_opened = new_gaps
        .difference(&old_gaps)
        .map(|g| (*g).clone())
        .collect();
    d.gaps_closed = old_gaps
        .difference(&new_gaps)
        .map(|g| (*g).clone())
        .collect();
    let old_status: HashMap<&str, ActionStatus> = old
        .actions
        .iter()
        .map(|a| (a.id.as_str(), a.status))
        .collect();
    let today = date_of(new.as_of);
    for a in &new.actions {
        if a.status == ActionStatus::Done
            && old_status.get(a.id.as_str()) != Some(&ActionStatus::Done)
        {
            d.actions_done.push(a.id.clone());
        }
        if matches!(a.status, ActionStatus::Suggested | ActionStatus::Accepted) && a.due < today {
            d.actions_overdue.push(a.id.clone());
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;
    use crate::score::score_account;

    fn pid(s: &str) -> PersonId {
        PersonId::parse(s).unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    /// Beta Corp: cfo (economic buyer) ← cio (technical buyer) ← ops (user).
    /// One seller, `ae`, with ties to cfo and cio; a deal with dated
    /// acceptances, one re-assessed later.
    fn beta() -> AccountData {
        let org = OrgId::parse("beta").unwrap();
        let p = |id: &str, level: u8, role: Option<BuyingRole>, boss: Option<&str>, ours: bool| {
            Person {
                id: pid(id),
                org: if ours {
                    OrgId::parse("us").unwrap()
                } else {
                    org.clone()
                },
                name: id.to_uppercase(),
                title: None,
                department: Some(if ours { "Sales" } else { "Finance" }.into()),
                level: Level::new(level).unwrap(),
                emails: vec![],
                external_ids: vec![],
                phones: vec![],
                reports_to: boss.map(pid),
                role,
                attitude: Some(Attitude::Neutral),
            }
        };
        let meet = |n: u32, at: &str, who: &str| Interaction {
            id: InteractionId::parse(&n.to_string()).unwrap(),
            kind: InteractionKind::Meeting,
            at: ts(at),
            initiator: pid("ae"),
            participants: vec![pid("ae"), pid(who)],
            in_reply_to: None,
        };
        let contact = |person: &str, sa: u8, pa: u8, at: &str| OpportunityContact {
            opportunity: OpportunityId::parse("deal").unwrap(),
            person: pid(person),
            role: None,
            attitude: None,
            solution_acceptance: Some(Acceptance::new(sa).unwrap()),
            price_acceptance: Some(Acceptance::new(pa).unwrap()),
            at: Some(ts(at)),
        };
        AccountData {
            account: Organization {
                id: org.clone(),
                name: "Beta".into(),
                industry: None,
                region: None,
                tier: None,
                is_ours: false,
                parent: None,
            },
            people: vec![
                p("cfo", 1, Some(BuyingRole::EconomicBuyer), None, false),
                p(
                    "cio",
                    2,
                    Some(BuyingRole::TechnicalBuyer),
                    Some("cfo"),
                    false,
                ),
                p("ops", 4, Some(BuyingRole::UserBuyer), Some("cio"), false),
            ],
            our_people: vec![p("ae", 4, None, None, true)],
            team: vec![TeamMember {
                org: org.clone(),
                person: pid("ae"),
                role: TeamRole::AccountExecutive,
            }],
            interactions: vec![
                meet(1, "2025-12-01T10:00:00Z", "cfo"),
                meet(2, "2025-12-10T10:00:00Z", "cfo"),
                meet(3, "2025-12-20T10:00:00Z", "cio"),
                meet(4, "2025-12-22T10:00:00Z", "cfo"),
                meet(5, "2025-12-29T10:00:00Z", "cfo"),
                meet(6, "2025-12-30T10:00:00Z", "cfo"),
            ],
            influences: vec![],
            assessments: vec![],
            opportunities: vec![Opportunity {
                id: OpportunityId::parse("deal").unwrap(),
                account: org,
                name: "Deal".into(),
                amount: Some(100_000.0),
                stage: Some("proposal".into()),
                status: OpportunityStatus::Open,
                close_date: None,
                owner: Some(pid("ae")),
                competitors: vec![],
            }],
            opportunity_contacts: vec![
                contact("cfo", 1, 1, "2025-11-01T00:00:00Z"),
                contact("cio", 4, 2, "2025-11-01T00:00:00Z"),
                // A later assessment of the same person replaces the earlier one.
                contact("cfo", 3, 2, "2025-12-15T00:00:00Z"),
            ],
            opportunity_stages: vec![],
        }
    }

    #[test]
    fn acceptances_equal_a_hand_computation() {
        let data = beta();
        let cfg = ScoringConfig::default();
        let scores = score_account(&data, &cfg, ts("2026-01-01T00:00:00Z"));
        let a = acceptances(&data, &scores, scores.as_of);
        let infl = |i: usize| scores.stakeholders[i].influence.influence;
        // weights: influence × role weight (economic buyer 1.0, technical buyer 0.8)
        let (w_cfo, w_cio) = (infl(0) * 1.0, infl(1) * 0.8);
        let solution = (w_cfo * 3.0 / 4.0 + w_cio * 4.0 / 4.0) / (w_cfo + w_cio);
        let price = (w_cfo * 2.0 / 4.0 + w_cio * 2.0 / 4.0) / (w_cfo + w_cio);
        assert!((a.solution.value.unwrap() - solution).abs() < 1e-12);
        assert!((a.price.value.unwrap() - price).abs() < 1e-12);
        assert_eq!(a.solution.assessed, 2, "ops was never assessed");
        let w_ops = infl(2) * 0.5;
        let c = |i: usize| scores.stakeholders[i].closeness.closeness;
        let rel = (w_cfo * c(0) + w_cio * c(1) + w_ops * c(2)) / (w_cfo + w_cio + w_ops);
        assert!((a.relationship.value.unwrap() - rel).abs() < 1e-12);

        // As of before the re-assessment, the earlier one counts.
        let early = score_account(&data, &cfg, ts("2025-12-01T00:00:00Z"));
        let a = acceptances(&data, &early, early.as_of);
        let (w_cfo, w_cio) = (
            early.stakeholders[0].influence.influence,
            early.stakeholders[1].influence.influence * 0.8,
        );
        let solution = (w_cfo * 1.0 / 4.0 + w_cio * 4.0 / 4.0) / (w_cfo + w_cio);
        assert!((a.solution.value.unwrap() - solution).abs() < 1e-12);
    }

    #[test]
    fn index_parts_add_up_to_the_index() {
        let data = beta();
        let cfg = ScoringConfig::default();
        let scores = score_account(&data, &cfg, ts("2026-01-01T00:00:00Z"));
        let plan = account_plan(&data, &scores, &cfg, &[], &[]);
        let sum: f64 = plan.index_parts.iter().map(|p| p.contribution).sum();
        assert!((sum - plan.relationship_index).abs() < 1e-12);
    }

    #[test]
    fn single_seller_gets_a_multi_threading_action_and_user_decisions_stick() {
        let mut data = beta();
        data.our_people.push(Person {
            id: pid("se"),
            ..data.our_people[0].clone()
        });
        data.team.push(TeamMember {
            org: data.account.id.clone(),
            person: pid("se"),
            role: TeamRole::SolutionsEngineer,
        });
        let cfg = ScoringConfig::default();
        let scores = score_account(&data, &cfg, ts("2026-01-01T00:00:00Z"));
        assert_eq!(scores.coverage.single_threaded_seller, Some(pid("ae")));
        let plan = account_plan(&data, &scores, &cfg, &[], &[]);
        let mt = plan
            .actions
            .iter()
            .find(|a| a.kind == ActionKind::MultiThread)
            .expect("multi-thread action");
        assert_eq!(mt.through, Some(pid("ae")));
        assert_eq!(mt.owner, Some(pid("se")));

        let mut done = mt.clone();
        done.status = ActionStatus::Done;
        let plan2 = account_plan(&data, &scores, &cfg, &[], &[done.clone()]);
        let again = plan2.actions.iter().find(|a| a.id == done.id).unwrap();
        assert_eq!(again.status, ActionStatus::Done);
    }

    #[test]
    fn objectives_are_tracked_against_the_scores() {
        let data = beta();
        let cfg = ScoringConfig::default();
        let scores = score_account(&data, &cfg, ts("2026-01-01T00:00:00Z"));
        let cfo_level = scores.stakeholders[0].closeness.level;
        let objectives = [
            Objective {
                id: "a".into(),
                text: "keep the CFO".into(),
                person: Some(pid("cfo")),
                target_level: Some(cfo_level),
                due: NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
            },
            Objective {
                id: "b".into(),
                text: "ops as ally".into(),
                person: Some(pid("ops")),
                target_level: Some(ClosenessLevel::ALLY),
                due: NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
            },
        ];
        let plan = account_plan(&data, &scores, &cfg, &objectives, &[]);
        assert!(plan.objectives[0].met && !plan.objectives[0].overdue);
        assert!(!plan.objectives[1].met && plan.objectives[1].overdue);
        assert_eq!(plan.objectives[1].days_left, -31);
    }

    #[test]
    fn diff_shows_departures_attitude_flips_and_gaps() {
        let data = beta();
        let cfg = ScoringConfig::default();
        let before = account_plan(
            &data,
            &score_account(&data, &cfg, ts("2026-01-01T00:00:00Z")),
            &cfg,
            &[],
            &[],
        );
        let mut changed = data.clone();
        changed.people.retain(|p| p.id.as_str() != "cio");
        changed.people[1].reports_to = Some(pid("cfo"));
        changed.people[0].attitude = Some(Attitude::Champion);
        let after = account_plan(
            &changed,
            &score_account(&changed, &cfg, ts("2026-02-01T00:00:00Z")),
            &cfg,
            &[],
            &[],
        );
        let d = diff_plans(&before, &after);
        assert_eq!(d.departed_stakeholders, vec![pid("cio")]);
        assert_eq!(
            d.attitude_changes,
            vec![(
                pid("cfo"),
                Some(Attitude::Neutral),
                Some(Attitude::Champion)
            )]
        );
        assert!(d.new_stakeholders.is_empty());
        assert!(d.index_change != 0.0);
    }

    #[test]
    fn decision_chain_as_of_a_date() {
        let data = beta();
        let cfg = ScoringConfig::default();
        let chain_at = |t: &str| {
            let scores = score_account(&data, &cfg, ts(t));
            let plan = account_plan(&data, &scores, &cfg, &[], &[]);
            let d = &plan.open_deals[0];
            let cfo = d.decision_chain.iter().find(|m| m.person.as_str() == "cfo");
            (
                d.decision_chain.len(),
                cfo.and_then(|c| c.solution_acceptance),
            )
        };
        // Before the first assessment the chain is empty.
        assert_eq!(chain_at("2025-10-01T00:00:00Z"), (0, None));
        assert_eq!(chain_at("2025-11-20T00:00:00Z"), (2, Some(1)));
        assert_eq!(chain_at("2026-01-01T00:00:00Z"), (2, Some(3)));
    }
}
