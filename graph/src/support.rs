//! Sales support (MCI): presales and experts assigned to deals.
//!
//! Supporters are our people. While a deal of an account is open, its
//! supporters count as members of the account team (as solutions
//! engineers), so warm paths from our team start from them too; their ties
//! to stakeholders count in closeness like anyone's. [`support_load`] counts,
//! per person and month, the deals they were assigned to: who is stretched
//! across too many pursuits.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::model::{
    ModelError, OpportunityId, OpportunityStatus, Person, PersonId, TeamMember, TeamRole,
};

/// What a supporter does on a deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportRole {
    Presales,
    SolutionExpert,
    IndustryExpert,
    TechnicalExpert,
}

impl SupportRole {
    pub const ALL: [SupportRole; 4] = [
        SupportRole::Presales,
        SupportRole::SolutionExpert,
        SupportRole::IndustryExpert,
        SupportRole::TechnicalExpert,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SupportRole::Presales => "presales",
            SupportRole::SolutionExpert => "solution_expert",
            SupportRole::IndustryExpert => "industry_expert",
            SupportRole::TechnicalExpert => "technical_expert",
        }
    }
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let t = s.trim();
        SupportRole::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                ModelError::invalid(
                    "support role",
                    "one of presales, solution_expert, industry_expert, technical_expert",
                    s,
                )
            })
    }
}

impl std::fmt::Display for SupportRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of our people assigned to support a deal, from a date (and until one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealSupport {
    pub opportunity: OpportunityId,
    pub person: PersonId,
    pub role: SupportRole,
    pub from: NaiveDate,
    /// Last day of the assignment; `None` while it lasts.
    #[serde(default)]
    pub to: Option<NaiveDate>,
}

/// Adds the supporters of the account's open deals to its team (as
/// solutions engineers) and to its people of ours. `people` holds the
/// supporters' records (others are ignored: a supporter must be known).
pub fn add_supporters(data: &mut AccountData, supports: &[DealSupport], people: &[Person]) {
    let open: BTreeSet<&OpportunityId> = data
        .opportunities
        .iter()
        .filter(|o| o.status == OpportunityStatus::Open && o.account == data.account.id)
        .map(|o| &o.id)
        .collect();
    let mut add: Vec<PersonId> = supports
        .iter()
        .filter(|s| open.contains(&s.opportunity))
        .map(|s| s.person.clone())
        .collect();
    add.sort();
    add.dedup();
    for id in add {
        let Some(p) = people.iter().find(|p| p.id == id) else {
            continue;
        };
        if !data.team.iter().any(|m| m.person == id) {
            data.team.push(TeamMember {
                org: data.account.id.clone(),
                person: id.clone(),
                role: TeamRole::SolutionsEngineer,
            });
        }
        if !data.our_people.iter().any(|o| o.id == id) {
            data.our_people.push(p.clone());
        }
    }
}

/// One person's load in one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthLoad {
    /// `YYYY-MM`.
    pub month: String,
    /// Deals the person was assigned to on any day of the month.
    pub deals: u32,
    /// Those deals, as the evidence.
    pub opportunities: Vec<OpportunityId>,
}

/// A supporter's load month by month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonLoad {
    pub person: PersonId,
    pub months: Vec<MonthLoad>,
    /// The most deals in one month of the range.
    pub peak: u32,
    /// Distinct deals supported within the range.
    pub distinct_deals: u32,
}

fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

fn next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).expect("first of a month")
}

/// Deals per supporter per month for the months from `from` to `to`
/// (both inclusive, any day of them); an assignment without an end lasts
/// through `to`. People with no assignment in the range are left out.
pub fn support_load(supports: &[DealSupport], from: NaiveDate, to: NaiveDate) -> Vec<PersonLoad> {
    let mut months = Vec::new();
    let mut m = month_start(from);
    while m <= to {
        months.push(m);
        m = next_month(m);
    }
    let mut by_person: BTreeMap<&PersonId, Vec<&DealSupport>> = BTreeMap::new();
    for s in supports {
        by_person.entry(&s.person).or_default().push(s);
    }
    let mut out = Vec::new();
    for (person, list) in by_person {
        let mut all: BTreeSet<&OpportunityId> = BTreeSet::new();
        let rows: Vec<MonthLoad> = months
            .iter()
            .map(|&start| {
                let end = next_month(start).pred_opt().expect("a day before the 1st");
                let deals: BTreeSet<&OpportunityId> = list
                    .iter()
                    .filter(|s| s.from <= end && s.to.is_none_or(|t| t >= start))
                    .map(|s| &s.opportunity)
                    .collect();
                all.extend(deals.iter().copied());
                MonthLoad {
                    month: start.format("%Y-%m").to_string(),
                    deals: deals.len() as u32,
                    opportunities: deals.into_iter().cloned().collect(),
                }
            })
            .collect();
        if all.is_empty() {
            continue;
        }
        out.push(PersonLoad {
            person: person.clone(),
            peak: rows.iter().map(|r| r.deals).max().unwrap_or(0),
            distinct_deals: all.len() as u32,
            months: rows,
        });
    }
    out.sort_by(|a, b| b.peak.cmp(&a.peak).then(a.person.cmp(&b.person)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn sup(opp: &str, person: &str, from: &str, to: Option<&str>) -> DealSupport {
        DealSupport {
            opportunity: OpportunityId::parse(opp).unwrap(),
            person: PersonId::parse(person).unwrap(),
            role: SupportRole::Presales,
            from: d(from),
            to: to.map(d),
        }
    }

    #[test]
    fn roles_parse_and_list_choices() {
        assert_eq!(
            SupportRole::parse("Solution_Expert").unwrap(),
            SupportRole::SolutionExpert
        );
        let e = SupportRole::parse("sales").unwrap_err().to_string();
        assert!(e.contains("presales, solution_expert"), "{e}");
    }

    /// Known answer: p1 on o1 (Jan–Feb) and o2 (Feb–, open), p2 on o3 in
    /// December only (outside the range), p3 on o1 from mid-March.
    #[test]
    fn load_counts_deals_per_person_and_month() {
        let s = vec![
            sup("o1", "p1", "2026-01-10", Some("2026-02-05")),
            sup("o2", "p1", "2026-02-20", None),
            sup("o3", "p2", "2025-12-01", Some("2025-12-31")),
            sup("o1", "p3", "2026-03-15", None),
        ];
        let load = support_load(&s, d("2026-01-01"), d("2026-03-31"));
        let got: Vec<(&str, Vec<u32>, u32, u32)> = load
            .iter()
            .map(|l| {
                (
                    l.person.as_str(),
                    l.months.iter().map(|m| m.deals).collect(),
                    l.peak,
                    l.distinct_deals,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![("p1", vec![1, 2, 1], 2, 2), ("p3", vec![0, 0, 1], 1, 1)]
        );
        assert_eq!(load[0].months[1].month, "2026-02");
        assert_eq!(
            load[0].months[1]
                .opportunities
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>(),
            vec!["o1", "o2"]
        );
    }
}
