//! Project behaviour patterns (PBM, 项目行为规律): what an account's past
//! deals say about how it buys, and where an open deal departs from that.
//!
//! From the account's closed deals (won and lost): how long deals stay at
//! each stage (median days, with n), the months it decides in, the buying
//! roles and levels present in won against lost deals and by which stage
//! they joined, how many stakeholders the chain had at each stage, and who
//! evaluates again and again. No pattern comes from fewer than
//! [`MIN_DEALS`] deals: below that the counts are shown and nothing is
//! inferred. Each warning on an open deal names the deals it rests on.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::closeness::OurCloseness;
use crate::deals::{DealConfig, StageOutcome, chain_at_stage, decision_chain, stage_history};
use crate::model::{
    BuyingRole, ClosenessLevel, Level, Opportunity, OpportunityId, OpportunityStatus, PersonId,
};

/// Fewest deals a pattern may rest on.
pub const MIN_DEALS: usize = 3;

/// Share of won deals from which something is "typical" (and its absence a warning).
pub const TYPICAL_SHARE: f64 = 0.75;

/// Median days a stage lasted, over the closed deals that went through it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageDuration {
    pub stage: String,
    /// Deals with known entry and exit at this stage.
    pub n: usize,
    /// `None` below [`MIN_DEALS`].
    pub median_days: Option<f64>,
}

/// What is present in won and in lost deals: a buying role or a level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Presence {
    /// `role:economic_buyer` or `level:1`.
    pub key: String,
    /// Readable, e.g. "Economic buyer" or "C-level".
    pub label: String,
    pub won_with: usize,
    pub won: usize,
    pub lost_with: usize,
    pub lost: usize,
    /// The latest stage (index into the configured list) at which a won
    /// deal first had it in its chain: "by stage …".
    pub by_stage: Option<usize>,
    /// Present in at least [`TYPICAL_SHARE`] of at least [`MIN_DEALS`] won deals.
    pub typical_of_wins: bool,
}

/// Stakeholders in the decision chain at the end of a stage, won vs lost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageCoverage {
    pub stage: String,
    pub won_n: usize,
    pub won_median_contacts: Option<f64>,
    pub lost_n: usize,
    pub lost_median_contacts: Option<f64>,
}

/// Someone who took part in many of the account's deals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluator {
    pub person: PersonId,
    pub role: Option<BuyingRole>,
    pub deals: usize,
    pub of: usize,
}

/// An open deal departing from the account's usual pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternWarning {
    pub opportunity: OpportunityId,
    pub text: String,
    /// The closed deals the pattern rests on.
    pub evidence: Vec<OpportunityId>,
    /// The role or level the deal's chain lacks (`role:economic_buyer`,
    /// `level:1`), so that who holds it can be looked up.
    #[serde(default)]
    pub missing: Option<String>,
    /// The account's people who hold the missing role or level, closest to
    /// us first (filled by [`account_patterns_with_ties`]).
    #[serde(default)]
    pub holders: Vec<Holder>,
}

/// Someone at the account holding the role or level an open deal lacks,
/// with our best tie to them: who to bring in, and through whom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Holder {
    pub person: PersonId,
    pub name: String,
    pub title: Option<String>,
    /// Their buying role on record (or the one they played in a past deal).
    pub role: Option<BuyingRole>,
    pub level: Level,
    /// Our closeness to them (0..1) and its level.
    pub closeness: f64,
    pub closeness_level: ClosenessLevel,
    /// Which of our people holds the best tie (`None`: nobody has one).
    pub best_connector: Option<PersonId>,
    pub best_connector_name: Option<String>,
    /// Someone of ours holds a tie at or above the coverage threshold.
    pub strong: bool,
}

/// An account's buying patterns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountPatterns {
    pub won: usize,
    pub lost: usize,
    pub open: usize,
    /// False below [`MIN_DEALS`] closed deals: only counts are shown.
    pub sufficient: bool,
    pub note: String,
    pub stage_durations: Vec<StageDuration>,
    /// Median days from the first stage to the close, over closed deals.
    pub cycle_median_days: Option<f64>,
    pub cycle_n: usize,
    /// Won deals closed in each month (1 = January): 12 counts.
    pub won_by_month: Vec<usize>,
    /// Months with the most wins (only with enough won deals).
    pub decision_months: Vec<u32>,
    pub presence: Vec<Presence>,
    pub stage_coverage: Vec<StageCoverage>,
    pub evaluators: Vec<Evaluator>,
    pub warnings: Vec<PatternWarning>,
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Everything known of one closed or open deal.
struct DealView<'a> {
    deal: &'a Opportunity,
    history: Vec<crate::deals::StagePeriod>,
}

/// The keys (roles and levels) of a chain's people.
fn chain_keys(
    data: &AccountData,
    people: &[PersonId],
    roles: &[Option<BuyingRole>],
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (p, r) in people.iter().zip(roles) {
        if let Some(r) = r {
            out.insert(format!("role:{}", r.as_str()));
        }
        if let Some(person) = data.people.iter().find(|x| &x.id == p)
            && person.level != Level::UNKNOWN
        {
            out.insert(format!("level:{}", person.level.get()));
        }
    }
    out
}

fn label(key: &str) -> String {
    if let Some(r) = key.strip_prefix("role:") {
        return BuyingRole::parse(r).map_or_else(|_| r.to_owned(), |r| r.label().to_owned());
    }
    if let Some(l) = key.strip_prefix("level:") {
        return Level::parse(l).map_or_else(|_| l.to_owned(), |l| l.label().to_owned());
    }
    key.to_owned()
}

/// The account's patterns from its closed deals, and warnings on its open ones.
pub fn account_patterns(data: &AccountData, cfg: &DealConfig) -> AccountPatterns {
    let deals: Vec<DealView<'_>> = data
        .opportunities
        .iter()
        .map(|o| DealView {
            deal: o,
            history: stage_history(cfg, o, &data.opportunity_stages, &data.opportunity_contacts),
        })
        .collect();
    let won: Vec<&DealView<'_>> = deals
        .iter()
        .filter(|d| d.deal.status == OpportunityStatus::Won)
        .collect();
    let lost: Vec<&DealView<'_>> = deals
        .iter()
        .filter(|d| d.deal.status == OpportunityStatus::Lost)
        .collect();
    let open: Vec<&DealView<'_>> = deals
        .iter()
        .filter(|d| d.deal.status == OpportunityStatus::Open)
        .collect();
    let closed = won.len() + lost.len();
    let sufficient = closed >= MIN_DEALS;
    let mut out = AccountPatterns {
        won: won.len(),
        lost: lost.len(),
        open: open.len(),
        sufficient,
        note: if sufficient {
            format!(
                "from {closed} closed deals ({} won, {} lost); a pattern needs at least {MIN_DEALS} deals",
                won.len(),
                lost.len()
            )
        } else {
            format!(
                "only {closed} closed deal(s) ({} won, {} lost): at least {MIN_DEALS} are needed before any pattern is shown",
                won.len(),
                lost.len()
            )
        },
        stage_durations: Vec::new(),
        cycle_median_days: None,
        cycle_n: 0,
        won_by_month: vec![0; 12],
        decision_months: Vec::new(),
        presence: Vec::new(),
        stage_coverage: Vec::new(),
        evaluators: Vec::new(),
        warnings: Vec::new(),
    };
    for d in &won {
        if let Some(c) = d.deal.close_date {
            out.won_by_month[c.month0() as usize] += 1;
        }
    }
    if !sufficient {
        return out;
    }
    let closed_deals: Vec<&DealView<'_>> = won.iter().chain(&lost).copied().collect();
    let open_stages: Vec<usize> = (0..cfg.stages.len())
        .filter(|&i| cfg.stages[i].outcome == StageOutcome::Open)
        .collect();

    // Time per stage and the whole cycle.
    for &s in &open_stages {
        let mut days: Vec<f64> = closed_deals
            .iter()
            .flat_map(|d| &d.history)
            .filter(|p| p.stage_index == Some(s) && !p.derived)
            .filter_map(|p| Some(p.until?.days_since(p.from?)))
            .collect();
        let n = days.len();
        out.stage_durations.push(StageDuration {
            stage: cfg.stages[s].name.clone(),
            n,
            median_days: if n >= MIN_DEALS {
                median(&mut days)
            } else {
                None
            },
        });
    }
    let mut cycles: Vec<f64> = closed_deals
        .iter()
        .filter_map(|d| {
            let start = d
                .history
                .iter()
                .filter(|p| !p.derived)
                .find_map(|p| p.from)?;
            let end = d.deal.close_date?;
            let end = crate::time::Timestamp::from(end.and_hms_opt(0, 0, 0)?.and_utc());
            Some(end.days_since(start))
        })
        .filter(|x| *x >= 0.0)
        .collect();
    out.cycle_n = cycles.len();
    if cycles.len() >= MIN_DEALS {
        out.cycle_median_days = median(&mut cycles);
    }
    if won.len() >= MIN_DEALS {
        let top = *out.won_by_month.iter().max().unwrap_or(&0);
        if top >= 2 {
            out.decision_months = (1..=12u32)
                .filter(|m| out.won_by_month[*m as usize - 1] == top)
                .collect();
        }
    }

    // Roles and levels in won vs lost deals, and by which stage wins had them.
    let full_keys = |d: &DealView<'_>| {
        let chain = decision_chain(&d.deal.id, &data.opportunity_contacts, None);
        let people: Vec<PersonId> = chain.iter().map(|c| c.person.clone()).collect();
        let roles: Vec<Option<BuyingRole>> = chain.iter().map(|c| c.role).collect();
        chain_keys(data, &people, &roles)
    };
    let keys_at = |d: &DealView<'_>, s: usize| -> Option<BTreeSet<String>> {
        let chain = chain_at_stage(d.deal, &d.history, &data.opportunity_contacts, s)?;
        let people: Vec<PersonId> = chain.iter().map(|c| c.person.clone()).collect();
        let roles: Vec<Option<BuyingRole>> = chain.iter().map(|c| c.role).collect();
        Some(chain_keys(data, &people, &roles))
    };
    let won_keys: Vec<BTreeSet<String>> = won.iter().map(|d| full_keys(d)).collect();
    let lost_keys: Vec<BTreeSet<String>> = lost.iter().map(|d| full_keys(d)).collect();
    let all: BTreeSet<&String> = won_keys.iter().chain(&lost_keys).flatten().collect();
    for key in all {
        let won_with = won_keys.iter().filter(|k| k.contains(key)).count();
        let lost_with = lost_keys.iter().filter(|k| k.contains(key)).count();
        // The first stage each won deal had it by; the latest of those.
        let by_stage = won
            .iter()
            .filter_map(|d| {
                open_stages
                    .iter()
                    .copied()
                    .find(|&s| keys_at(d, s).is_some_and(|k| k.contains(key)))
            })
            .max();
        out.presence.push(Presence {
            key: key.clone(),
            label: label(key),
            won_with,
            won: won.len(),
            lost_with,
            lost: lost.len(),
            by_stage,
            typical_of_wins: won.len() >= MIN_DEALS
                && won_with as f64 >= TYPICAL_SHARE * won.len() as f64,
        });
    }
    out.presence.sort_by(|a, b| {
        b.typical_of_wins
            .cmp(&a.typical_of_wins)
            .then(b.won_with.cmp(&a.won_with))
            .then(a.key.cmp(&b.key))
    });

    // Chain size at the end of each stage, won vs lost.
    for &s in &open_stages {
        let sizes = |ds: &[&DealView<'_>]| -> Vec<f64> {
            ds.iter()
                .filter_map(|d| chain_at_stage(d.deal, &d.history, &data.opportunity_contacts, s))
                .map(|c| c.len() as f64)
                .collect()
        };
        let (mut w, mut l) = (sizes(&won), sizes(&lost));
        if w.is_empty() && l.is_empty() {
            continue;
        }
        out.stage_coverage.push(StageCoverage {
            stage: cfg.stages[s].name.clone(),
            won_n: w.len(),
            won_median_contacts: if w.len() >= MIN_DEALS {
                median(&mut w)
            } else {
                None
            },
            lost_n: l.len(),
            lost_median_contacts: if l.len() >= MIN_DEALS {
                median(&mut l)
            } else {
                None
            },
        });
    }

    // People in at least half of the closed deals (and at least MIN_DEALS).
    let mut by_person: BTreeMap<&PersonId, (usize, Option<BuyingRole>)> = BTreeMap::new();
    for d in &closed_deals {
        for c in decision_chain(&d.deal.id, &data.opportunity_contacts, None) {
            let p = data
                .opportunity_contacts
                .iter()
                .find(|x| x.person == c.person)
                .map(|x| &x.person);
            if let Some(p) = p {
                let e = by_person.entry(p).or_insert((0, None));
                e.0 += 1;
                e.1 = e.1.or(c.role);
            }
        }
    }
    for (p, (n, role)) in by_person {
        if n >= MIN_DEALS && 2 * n >= closed {
            out.evaluators.push(Evaluator {
                person: p.clone(),
                role,
                deals: n,
                of: closed,
            });
        }
    }
    out.evaluators
        .sort_by(|a, b| b.deals.cmp(&a.deals).then(a.person.cmp(&b.person)));

    // Open deals against the pattern of wins (of the same size when there are enough).
    for d in &open {
        let Some(now) = cfg.effective_stage(d.deal) else {
            continue;
        };
        let band = cfg.category(d.deal.amount);
        let same_size: Vec<usize> = (0..won.len())
            .filter(|&i| band.is_some() && cfg.category(won[i].deal.amount) == band)
            .collect();
        let (basis, size_text): (Vec<usize>, String) = if same_size.len() >= MIN_DEALS {
            let name = band
                .map(|b| cfg.categories[b].name.clone())
                .unwrap_or_default();
            (same_size, format!("their {name} deals"))
        } else {
            ((0..won.len()).collect(), "their won deals".to_owned())
        };
        if basis.len() < MIN_DEALS {
            continue;
        }
        let current = full_keys(d);
        for p in out
            .presence
            .iter()
            .filter(|p| p.key.starts_with("role:") || p.key.starts_with("level:"))
        {
            let with: Vec<usize> = basis
                .iter()
                .copied()
                .filter(|&i| won_keys[i].contains(&p.key))
                .collect();
            if (with.len() as f64) < TYPICAL_SHARE * basis.len() as f64 || current.contains(&p.key)
            {
                continue;
            }
            let by = p.by_stage.unwrap_or(0);
            if now < by {
                continue;
            }
            let what = if p.key.starts_with("role:") {
                p.label.to_lowercase()
            } else {
                p.label.clone()
            };
            let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            out.warnings.push(PatternWarning {
                opportunity: d.deal.id.clone(),
                text: format!(
                    "{} of {} of {size_text} involved {article} {what} by stage {}; {} is at {} with none in its decision chain",
                    with.len(),
                    basis.len(),
                    cfg.stages[by].name,
                    d.deal.name,
                    cfg.stages[now].name
                ),
                evidence: with.iter().map(|&i| won[i].deal.id.clone()).collect(),
                missing: Some(p.key.clone()),
                holders: Vec::new(),
            });
        }
    }
    out
}

/// [`account_patterns`], and for each warning about a missing role or
/// level: who at the account holds it and how close we are to them (from
/// `ties`, the account's closeness scores), said in the warning's text.
pub fn account_patterns_with_ties(
    data: &AccountData,
    cfg: &DealConfig,
    ties: &[OurCloseness],
) -> AccountPatterns {
    let mut p = account_patterns(data, cfg);
    for w in &mut p.warnings {
        let Some(key) = w.missing.clone() else {
            continue;
        };
        w.holders = holders(data, &key, ties);
        w.text.push_str(&tie_text(data, &key, &w.holders));
    }
    p
}

/// The account's people with the role (on record or played in any deal) or
/// the level of `key`, closest to us first.
fn holders(data: &AccountData, key: &str, ties: &[OurCloseness]) -> Vec<Holder> {
    let role = key
        .strip_prefix("role:")
        .and_then(|r| BuyingRole::parse(r).ok());
    let level = key
        .strip_prefix("level:")
        .and_then(|l| Level::parse(l).ok());
    let mut out: Vec<Holder> = data
        .people
        .iter()
        .filter_map(|person| {
            let played = data
                .opportunity_contacts
                .iter()
                .filter(|c| c.person == person.id)
                .find_map(|c| c.role.filter(|r| Some(*r) == role));
            let holds = match (role, level) {
                (Some(r), _) => person.role == Some(r) || played.is_some(),
                (None, Some(l)) => person.level == l,
                (None, None) => false,
            };
            if !holds {
                return None;
            }
            let tie = ties.iter().find(|t| t.person == person.id);
            let connector = tie.and_then(|t| t.best_connector.clone());
            Some(Holder {
                person: person.id.clone(),
                name: person.name.clone(),
                title: person.title.clone(),
                role: person.role.or(played),
                level: person.level,
                closeness: tie.map_or(0.0, |t| t.closeness),
                closeness_level: tie.map_or(ClosenessLevel::STRANGER, |t| t.level),
                best_connector_name: connector.as_ref().map(|c| {
                    data.our_people
                        .iter()
                        .find(|o| &o.id == c)
                        .map_or_else(|| c.to_string(), |o| o.name.clone())
                }),
                best_connector: connector,
                strong: tie.is_some_and(|t| t.strong_ties > 0),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.closeness
            .total_cmp(&a.closeness)
            .then(a.name.cmp(&b.name))
    });
    out
}

/// What the warning adds about the holders: our best way in, or that we
/// have none.
fn tie_text(data: &AccountData, key: &str, holders: &[Holder]) -> String {
    let what = if key.starts_with("role:") {
        label(key).to_lowercase()
    } else {
        label(key)
    };
    let Some(h) = holders.first() else {
        return format!(
            "; nobody at {} is on record as {what}: find out who is",
            data.account.name
        );
    };
    let more = match holders.len() {
        1 => String::new(),
        n => format!(" ({} more hold it)", n - 1),
    };
    match (&h.best_connector_name, h.strong) {
        (Some(c), true) => format!(
            "; our best tie to the {what} {} is {} ({c}): ask {c} to bring {} in{more}",
            h.name,
            h.closeness_level.name(),
            h.name
        ),
        (Some(c), false) => format!(
            "; we have no tie to {} ({}): best is {c} at {}{more}",
            h.name,
            describe(h, &what),
            h.closeness_level.name()
        ),
        (None, _) => format!(
            "; we have no tie to {} ({}): none of our people has met them{more}",
            h.name,
            describe(h, &what)
        ),
    }
}

/// "CFO, economic buyer", or just the role or level without a title.
fn describe(h: &Holder, what: &str) -> String {
    match &h.title {
        Some(t) if !t.trim().is_empty() => format!("{t}, {what}"),
        _ => what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Acceptance, OpportunityContact, OrgId, Organization, Person, StageChange};
    use crate::time::Timestamp;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn person(id: &str, level: u8, role: Option<BuyingRole>) -> Person {
        Person {
            id: PersonId::parse(id).unwrap(),
            org: OrgId::parse("acme").unwrap(),
            name: id.to_uppercase(),
            title: None,
            department: None,
            level: Level::new(level).unwrap(),
            emails: vec![],
            external_ids: vec![],
            phones: vec![],
            reports_to: None,
            role,
            attitude: None,
        }
    }

    /// A fixture whose patterns are known: four won deals (each 30 days in
    /// discovery and 60 in proposal, closing in March, September, March
    /// and March; the CFO (level 1, economic buyer) joins each at proposal),
    /// two lost deals without the CFO, and an open deal at negotiation
    /// without the CFO.
    fn fixture() -> AccountData {
        let mut d = AccountData {
            account: Organization {
                id: OrgId::parse("acme").unwrap(),
                name: "Acme".into(),
                industry: None,
                region: None,
                tier: None,
                is_ours: false,
                parent: None,
            },
            people: vec![
                person("cfo", 1, Some(BuyingRole::EconomicBuyer)),
                person("it", 3, Some(BuyingRole::TechnicalBuyer)),
            ],
            our_people: vec![],
            team: vec![],
            interactions: vec![],
            influences: vec![],
            assessments: vec![],
            opportunities: vec![],
            opportunity_contacts: vec![],
            opportunity_stages: vec![],
        };
        let deals = [
            (
                "w1",
                OpportunityStatus::Won,
                "2023-01-01",
                "2023-03-15",
                true,
            ),
            (
                "w2",
                OpportunityStatus::Won,
                "2023-06-01",
                "2023-09-20",
                true,
            ),
            (
                "w3",
                OpportunityStatus::Won,
                "2024-01-01",
                "2024-03-10",
                true,
            ),
            (
                "w4",
                OpportunityStatus::Won,
                "2024-12-10",
                "2025-03-20",
                true,
            ),
            (
                "l1",
                OpportunityStatus::Lost,
                "2024-07-01",
                "2024-10-01",
                false,
            ),
            (
                "l2",
                OpportunityStatus::Lost,
                "2025-01-01",
                "2025-04-01",
                false,
            ),
        ];
        for (id, status, start, close, with_cfo) in deals {
            let oid = OpportunityId::parse(id).unwrap();
            let t0 = ts(start);
            let close_d = chrono::NaiveDate::parse_from_str(close, "%Y-%m-%d").unwrap();
            d.opportunities.push(Opportunity {
                id: oid.clone(),
                account: d.account.id.clone(),
                name: id.into(),
                amount: Some(100_000.0),
                stage: None,
                status,
                close_date: Some(close_d),
                owner: None,
                competitors: vec![],
            });
            let disc = t0;
            let prop = t0.plus_days(30.0);
            let end = prop.plus_days(60.0);
            for (stage, at) in [
                ("discovery", disc),
                ("proposal", prop),
                (
                    if status == OpportunityStatus::Won {
                        "closed_won"
                    } else {
                        "closed_lost"
                    },
                    end,
                ),
            ] {
                d.opportunity_stages.push(StageChange {
                    opportunity: oid.clone(),
                    stage: stage.into(),
                    at,
                });
            }
            d.opportunity_contacts.push(OpportunityContact {
                opportunity: oid.clone(),
                person: PersonId::parse("it").unwrap(),
                role: Some(BuyingRole::TechnicalBuyer),
                attitude: None,
                solution_acceptance: Some(Acceptance::new(3).unwrap()),
                price_acceptance: None,
                at: Some(disc.plus_days(1.0)),
            });
            if with_cfo {
                d.opportunity_contacts.push(OpportunityContact {
                    opportunity: oid.clone(),
                    person: PersonId::parse("cfo").unwrap(),
                    role: Some(BuyingRole::EconomicBuyer),
                    attitude: None,
                    solution_acceptance: None,
                    price_acceptance: None,
                    at: Some(prop.plus_days(1.0)),
                });
            }
        }
        let open = OpportunityId::parse("o1").unwrap();
        d.opportunities.push(Opportunity {
            id: open.clone(),
            account: d.account.id.clone(),
            name: "Expansion".into(),
            amount: Some(120_000.0),
            stage: Some("negotiation".into()),
            status: OpportunityStatus::Open,
            close_date: None,
            owner: None,
            competitors: vec![],
        });
        d.opportunity_contacts.push(OpportunityContact {
            opportunity: open,
            person: PersonId::parse("it").unwrap(),
            role: Some(BuyingRole::TechnicalBuyer),
            attitude: None,
            solution_acceptance: None,
            price_acceptance: None,
            at: Some(ts("2025-06-01")),
        });
        d
    }

    #[test]
    fn known_patterns_are_found_with_their_counts() {
        let cfg = DealConfig::default();
        let p = account_patterns(&fixture(), &cfg);
        assert!(p.sufficient, "{}", p.note);
        assert_eq!((p.won, p.lost, p.open), (4, 2, 1));
        let dur: Vec<(&str, usize, Option<f64>)> = p
            .stage_durations
            .iter()
            .filter(|s| s.n > 0)
            .map(|s| (s.stage.as_str(), s.n, s.median_days))
            .collect();
        assert_eq!(
            dur,
            vec![("Discovery", 6, Some(30.0)), ("Proposal", 6, Some(60.0))]
        );
        assert_eq!(p.won_by_month[2], 3, "three wins in March");
        assert_eq!(p.decision_months, vec![3]);
        let cfo = p
            .presence
            .iter()
            .find(|x| x.key == "role:economic_buyer")
            .unwrap();
        assert_eq!(
            (cfo.won_with, cfo.won, cfo.lost_with, cfo.lost),
            (4, 4, 0, 2)
        );
        assert!(cfo.typical_of_wins);
        assert_eq!(cfo.by_stage, cfg.stage_index("proposal"));
        let c_level = p.presence.iter().find(|x| x.key == "level:1").unwrap();
        assert_eq!(c_level.label, "C-level");
        let prop = p
            .stage_coverage
            .iter()
            .find(|s| s.stage == "Proposal")
            .unwrap();
        assert_eq!(prop.won_median_contacts, Some(2.0));
        assert_eq!(prop.lost_n, 2);
        assert_eq!(
            prop.lost_median_contacts, None,
            "two lost deals are no pattern"
        );
        assert_eq!(p.evaluators.len(), 2, "{:?}", p.evaluators);
        assert_eq!(p.evaluators[0].person.as_str(), "it");
        assert_eq!((p.evaluators[0].deals, p.evaluators[0].of), (6, 6));
        let texts: Vec<&str> = p.warnings.iter().map(|w| w.text.as_str()).collect();
        assert!(
            texts.iter().any(|t| t.contains(
                "4 of 4 of their medium deals involved an economic buyer by stage Proposal"
            ) && t.contains("Expansion is at Negotiation")),
            "{texts:?}"
        );
        assert_eq!(p.warnings[0].evidence.len(), 4);
        assert!(
            !texts.iter().any(|t| t.contains("Technical buyer")),
            "it is on the deal"
        );
    }

    fn ana_to_cfo(closeness: f64, strong: bool) -> Vec<OurCloseness> {
        vec![OurCloseness {
            person: PersonId::parse("cfo").unwrap(),
            closeness,
            level: crate::closeness::level_of(closeness),
            best_connector: Some(PersonId::parse("ana").unwrap()),
            strong_ties: u32::from(strong),
            last_contact: None,
        }]
    }

    fn with_ana(mut d: AccountData) -> AccountData {
        let mut ana = person("ana", 4, None);
        ana.org = OrgId::parse("us").unwrap();
        ana.name = "Ana Seller".into();
        d.our_people.push(ana);
        d.people[0].title = Some("CFO".into());
        d
    }

    #[test]
    fn a_missing_role_names_its_holder_and_our_best_tie() {
        let d = with_ana(fixture());
        let cfg = DealConfig::default();
        let eb = |p: &AccountPatterns| {
            p.warnings
                .iter()
                .find(|w| w.missing.as_deref() == Some("role:economic_buyer"))
                .cloned()
                .expect("a warning on the economic buyer")
        };

        // A weak tie: we have no tie to the CFO, and who comes closest.
        let w = eb(&account_patterns_with_ties(
            &d,
            &cfg,
            &ana_to_cfo(0.2, false),
        ));
        assert!(
            w.text.ends_with(
                "; we have no tie to CFO (CFO, economic buyer): best is Ana Seller at acquainted"
            ),
            "{}",
            w.text
        );
        assert_eq!(w.holders.len(), 1);
        let h = &w.holders[0];
        assert_eq!(h.person.as_str(), "cfo");
        assert_eq!(h.closeness_level, ClosenessLevel::ACQUAINTED);
        assert_eq!(h.best_connector_name.as_deref(), Some("Ana Seller"));
        assert!(!h.strong);

        // A strong tie: bring the CFO in through it.
        let w = eb(&account_patterns_with_ties(
            &d,
            &cfg,
            &ana_to_cfo(0.6, true),
        ));
        assert!(
            w.text.ends_with(
                "; our best tie to the economic buyer CFO is trusted (Ana Seller): ask Ana Seller to bring CFO in"
            ),
            "{}",
            w.text
        );
        assert!(w.holders[0].strong);

        // No tie at all, and no one holding the role.
        let w = eb(&account_patterns_with_ties(&d, &cfg, &[]));
        assert!(
            w.text.ends_with(
                "; we have no tie to CFO (CFO, economic buyer): none of our people has met them"
            ),
            "{}",
            w.text
        );
        assert_eq!(w.holders[0].closeness, 0.0);

        // Nobody on record holds the role: the deals keep the CFO's
        // contacts (so the pattern stands) but the person record is gone.
        let mut unknown = d.clone();
        unknown.people.retain(|p| p.id.as_str() != "cfo");
        let w = eb(&account_patterns_with_ties(&unknown, &cfg, &[]));
        assert!(
            w.text
                .ends_with("; nobody at Acme is on record as economic buyer: find out who is"),
            "{}",
            w.text
        );
        assert!(w.holders.is_empty());
    }

    #[test]
    fn two_closed_deals_show_counts_and_no_pattern() {
        let mut d = fixture();
        d.opportunities
            .retain(|o| ["w1", "l1", "o1"].contains(&o.id.as_str()));
        let p = account_patterns(&d, &DealConfig::default());
        assert!(!p.sufficient);
        assert_eq!((p.won, p.lost), (1, 1));
        assert!(p.note.contains("at least 3"), "{}", p.note);
        assert!(p.presence.is_empty() && p.warnings.is_empty() && p.stage_durations.is_empty());
    }
}
