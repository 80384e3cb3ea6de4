//! Management reporting over deals: pipeline by stage and by category,
//! coverage by stage, deals at risk and monthly trends.
//!
//! Each report is built from [`DealRow`]s, one per deal, made by
//! [`deal_rows`] from an account's data and its scores as of a date, so
//! every figure can be traced to the deals under it (the pipeline sums to
//! them; a risk flag carries its evidence). [`Table`] is the flat form the
//! app writes as a table or CSV.

use std::collections::BTreeMap;

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::coverage::KEY_ROLES;
use crate::deals::{ChainEntry, DealConfig, created_at, decision_chain, stage_history};
use crate::model::{BuyingRole, ClosenessLevel, OpportunityId, OpportunityStatus, OrgId, PersonId};
use crate::score::AccountScores;
use crate::time::Timestamp;

/// A stakeholder of a deal's chain with our closeness to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainTie {
    #[serde(flatten)]
    pub entry: ChainEntry,
    pub name: String,
    /// Our best closeness to them as of the report's date.
    pub closeness: f64,
    pub level: ClosenessLevel,
    /// Who of ours holds that tie.
    pub best_connector: Option<PersonId>,
}

/// One deal as the reports see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealRow {
    pub id: OpportunityId,
    pub account: OrgId,
    pub account_name: String,
    pub name: String,
    pub amount: Option<f64>,
    pub status: OpportunityStatus,
    /// The stage text as stored.
    pub stage: Option<String>,
    /// Its place in the configured list (`None`: not configured).
    pub stage_index: Option<usize>,
    pub category_index: Option<usize>,
    pub probability: f64,
    /// `amount × probability` (0 without an amount).
    pub weighted: f64,
    pub created: Option<Timestamp>,
    pub close_date: Option<chrono::NaiveDate>,
    pub competitors: Vec<String>,
    /// The decision chain as of the report's date, with our ties.
    pub chain: Vec<ChainTie>,
}

/// The deals of one account as of `as_of` (`scores` computed as of it too).
pub fn deal_rows(
    cfg: &DealConfig,
    data: &AccountData,
    scores: &AccountScores,
    as_of: Timestamp,
) -> Vec<DealRow> {
    let closeness: BTreeMap<&PersonId, (f64, ClosenessLevel, Option<&PersonId>)> = scores
        .stakeholders
        .iter()
        .map(|s| {
            (
                &s.person,
                (
                    s.closeness.closeness,
                    s.closeness.level,
                    s.closeness.best_connector.as_ref(),
                ),
            )
        })
        .collect();
    let names: BTreeMap<&PersonId, &str> = data
        .people
        .iter()
        .map(|p| (&p.id, p.name.as_str()))
        .collect();
    data.opportunities
        .iter()
        .map(|o| {
            let history =
                stage_history(cfg, o, &data.opportunity_stages, &data.opportunity_contacts);
            let stage_index = cfg.effective_stage(o);
            let probability = cfg.probability(o);
            let chain = decision_chain(&o.id, &data.opportunity_contacts, Some(as_of))
                .into_iter()
                .map(|entry| {
                    let (closeness, level, best) = closeness
                        .get(&entry.person)
                        .copied()
                        .unwrap_or((0.0, ClosenessLevel::STRANGER, None));
                    ChainTie {
                        name: names
                            .get(&entry.person)
                            .map_or_else(|| entry.person.to_string(), |n| (*n).to_owned()),
                        entry,
                        closeness,
                        level,
                        best_connector: best.cloned(),
                    }
                })
                .collect();
            DealRow {
                id: o.id.clone(),
                account: o.account.clone(),
                account_name: data.account.name.clone(),
                name: o.name.clone(),
                amount: o.amount,
                status: o.status,
                stage: o.stage.clone(),
                stage_index,
                category_index: cfg.category(o.amount),
                probability,
                weighted: o.amount.unwrap_or(0.0) * probability,
                created: created_at(&history),
                close_date: o.close_date,
                competitors: o.competitors.clone(),
                chain,
            }
        })
        .collect()
}

/// Count and money of a group of deals.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Stage or category name; `(not configured)` / `(no amount)` for the rest.
    pub key: String,
    pub count: u32,
    pub amount: f64,
    pub weighted: f64,
    /// The deals in it (the evidence).
    pub deals: Vec<OpportunityId>,
}

impl Bucket {
    fn add(&mut self, d: &DealRow) {
        self.count += 1;
        self.amount += d.amount.unwrap_or(0.0);
        self.weighted += d.weighted;
        self.deals.push(d.id.clone());
    }
}

pub const UNCONFIGURED_STAGE: &str = "(not configured)";
pub const NO_AMOUNT: &str = "(no amount)";

/// Pipeline by stage (every configured stage, in order, then deals whose
/// stage is not configured) and by amount category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    pub by_stage: Vec<Bucket>,
    pub by_category: Vec<Bucket>,
    /// All deals together: each list above sums to it.
    pub total: Bucket,
}

pub fn pipeline(cfg: &DealConfig, deals: &[DealRow]) -> Pipeline {
    let mut by_stage: Vec<Bucket> = cfg
        .stages
        .iter()
        .map(|s| Bucket {
            key: s.name.clone(),
            ..Bucket::default()
        })
        .chain(std::iter::once(Bucket {
            key: UNCONFIGURED_STAGE.into(),
            ..Bucket::default()
        }))
        .collect();
    let mut by_category: Vec<Bucket> = cfg
        .categories
        .iter()
        .map(|c| Bucket {
            key: c.name.clone(),
            ..Bucket::default()
        })
        .chain(std::iter::once(Bucket {
            key: NO_AMOUNT.into(),
            ..Bucket::default()
        }))
        .collect();
    let mut total = Bucket {
        key: "total".into(),
        ..Bucket::default()
    };
    let (stage_rest, category_rest) = (cfg.stages.len(), cfg.categories.len());
    for d in deals {
        by_stage[d.stage_index.unwrap_or(stage_rest)].add(d);
        by_category[d.category_index.unwrap_or(category_rest)].add(d);
        total.add(d);
    }
    // The catch-all buckets only when something is in them.
    by_stage.truncate(stage_rest + usize::from(by_stage[stage_rest].count > 0));
    by_category.truncate(category_rest + usize::from(by_category[category_rest].count > 0));
    Pipeline {
        by_stage,
        by_category,
        total,
    }
}

/// How one key role of one deal is covered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleCoverage {
    pub role: BuyingRole,
    /// The chain member playing it with our closest tie (`None`: nobody in
    /// the chain plays it).
    pub person: Option<PersonId>,
    pub name: Option<String>,
    pub level: Option<ClosenessLevel>,
    /// Trusted or better.
    pub covered: bool,
}

/// Key-role coverage of one deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealCoverage {
    pub deal: OpportunityId,
    pub roles: Vec<RoleCoverage>,
}

/// Coverage of the deals at one stage: of their key roles (economic,
/// technical and user buyer, coach; a role nobody in the chain plays counts
/// as uncovered), the share we hold a trusted-or-better tie to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageCoverage {
    pub stage: String,
    pub deals: u32,
    pub key_roles: u32,
    pub covered: u32,
    /// `covered / key_roles` (0 without deals).
    pub share: f64,
    pub evidence: Vec<DealCoverage>,
}

/// Key-role coverage of one deal.
pub fn deal_coverage(d: &DealRow) -> DealCoverage {
    let roles = KEY_ROLES
        .iter()
        .map(|&role| {
            let best = d
                .chain
                .iter()
                .filter(|c| c.entry.role == Some(role))
                .max_by(|a, b| a.closeness.total_cmp(&b.closeness));
            RoleCoverage {
                role,
                person: best.map(|c| c.entry.person.clone()),
                name: best.map(|c| c.name.clone()),
                level: best.map(|c| c.level),
                covered: best.is_some_and(|c| c.level >= ClosenessLevel::TRUSTED),
            }
        })
        .collect();
    DealCoverage {
        deal: d.id.clone(),
        roles,
    }
}

/// Coverage by stage, over the configured stages in order (and deals whose
/// stage is not configured, when there are any).
pub fn coverage_by_stage(cfg: &DealConfig, deals: &[DealRow]) -> Vec<StageCoverage> {
    let mut out: Vec<StageCoverage> = cfg
        .stages
        .iter()
        .map(|s| s.name.clone())
        .chain(std::iter::once(UNCONFIGURED_STAGE.to_owned()))
        .map(|stage| StageCoverage {
            stage,
            deals: 0,
            key_roles: 0,
            covered: 0,
            share: 0.0,
            evidence: Vec::new(),
        })
        .collect();
    let rest = cfg.stages.len();
    for d in deals {
        let s = &mut out[d.stage_index.unwrap_or(rest)];
        let c = deal_coverage(d);
        s.deals += 1;
        s.key_roles += c.roles.len() as u32;
        s.covered += c.roles.iter().filter(|r| r.covered).count() as u32;
        s.evidence.push(c);
    }
    for s in &mut out {
        if s.key_roles > 0 {
            s.share = f64::from(s.covered) / f64::from(s.key_roles);
        }
    }
    out.truncate(rest + usize::from(out[rest].deals > 0));
    out
}

/// Why a deal is at risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskKind {
    LowSolutionAcceptance,
    LowPriceAcceptance,
    SingleThreaded,
}

impl RiskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskKind::LowSolutionAcceptance => "low_solution_acceptance",
            RiskKind::LowPriceAcceptance => "low_price_acceptance",
            RiskKind::SingleThreaded => "single_threaded",
        }
    }
}

/// One risk of one deal with what shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFlag {
    pub kind: RiskKind,
    /// The stakeholders it is about.
    pub people: Vec<PersonId>,
    pub evidence: String,
}

/// An open deal with at least one risk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealRisk {
    pub deal: OpportunityId,
    pub name: String,
    pub account: OrgId,
    pub stage: Option<String>,
    pub amount: Option<f64>,
    pub flags: Vec<RiskFlag>,
}

fn fmt_date(t: Option<Timestamp>) -> String {
    t.map_or_else(
        || "undated".into(),
        |t| t.to_datetime().format("%Y-%m-%d").to_string(),
    )
}

/// Open deals at risk: a stakeholder's solution or price acceptance at or
/// below [`DealConfig::low_acceptance`], or — at or after
/// [`DealConfig::late_stage`] — at most one customer contact we hold a
/// familiar-or-better tie to (single-threaded).
pub fn risks(cfg: &DealConfig, deals: &[DealRow]) -> Vec<DealRisk> {
    let mut out = Vec::new();
    for d in deals.iter().filter(|d| d.status == OpportunityStatus::Open) {
        let mut flags = Vec::new();
        for (kind, pick, what) in [
            (
                RiskKind::LowSolutionAcceptance,
                (|c: &ChainTie| c.entry.solution_acceptance) as fn(&ChainTie) -> Option<u8>,
                "solution",
            ),
            (
                RiskKind::LowPriceAcceptance,
                |c: &ChainTie| c.entry.price_acceptance,
                "price",
            ),
        ] {
            let low: Vec<&ChainTie> = d
                .chain
                .iter()
                .filter(|c| pick(c).is_some_and(|a| a <= cfg.low_acceptance))
                .collect();
            if !low.is_empty() {
                flags.push(RiskFlag {
                    kind,
                    people: low.iter().map(|c| c.entry.person.clone()).collect(),
                    evidence: low
                        .iter()
                        .map(|c| {
                            format!(
                                "{} ({}): {what} acceptance {}/4, assessed {}",
                                c.name,
                                c.entry.role.map_or("no role", |r| r.as_str()),
                                pick(c).unwrap_or(0),
                                fmt_date(c.entry.assessed_at)
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                });
            }
        }
        if cfg.is_late(d.stage_index) {
            let threads: Vec<&ChainTie> = d
                .chain
                .iter()
                .filter(|c| c.level >= ClosenessLevel::FAMILIAR)
                .collect();
            if threads.len() <= 1 {
                let stage = d.stage.as_deref().unwrap_or("?");
                let evidence = match threads.first() {
                    Some(c) => format!(
                        "at stage {stage} only {} of {} contacts is familiar or closer ({}, {})",
                        1,
                        d.chain.len(),
                        c.name,
                        c.level.name()
                    ),
                    None => format!(
                        "at stage {stage} none of {} contacts is familiar or closer",
                        d.chain.len()
                    ),
                };
                flags.push(RiskFlag {
                    kind: RiskKind::SingleThreaded,
                    people: threads.iter().map(|c| c.entry.person.clone()).collect(),
                    evidence,
                });
            }
        }
        if !flags.is_empty() {
            out.push(DealRisk {
                deal: d.id.clone(),
                name: d.name.clone(),
                account: d.account.clone(),
                stage: d.stage.clone(),
                amount: d.amount,
                flags,
            });
        }
    }
    out
}

/// One month of deal flow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MonthTrend {
    /// `YYYY-MM`.
    pub month: String,
    pub created: u32,
    pub created_amount: f64,
    pub won: u32,
    pub won_amount: f64,
    pub lost: u32,
    pub lost_amount: f64,
}

/// Monthly flow: deals created (start of their first stage), won and lost
/// (by close date), oldest month first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trends {
    pub months: Vec<MonthTrend>,
    /// Deals whose creation date is unknown (counted in no month).
    pub created_undated: u32,
    /// Won or lost deals without a close date (counted in no month).
    pub closed_undated: u32,
}

fn month_entry(months: &mut BTreeMap<String, MonthTrend>, y: i32, m: u32) -> &mut MonthTrend {
    let key = format!("{y:04}-{m:02}");
    months.entry(key.clone()).or_insert_with(|| MonthTrend {
        month: key,
        ..MonthTrend::default()
    })
}

pub fn trends(deals: &[DealRow]) -> Trends {
    let created_undated = deals.iter().filter(|d| d.created.is_none()).count() as u32;
    let closed_undated = deals
        .iter()
        .filter(|d| d.status != OpportunityStatus::Open && d.close_date.is_none())
        .count() as u32;
    let mut months: BTreeMap<String, MonthTrend> = BTreeMap::new();
    for d in deals {
        let amount = d.amount.unwrap_or(0.0);
        if let Some(t) = d.created {
            let dt = t.to_datetime();
            let m = month_entry(&mut months, dt.year(), dt.month());
            m.created += 1;
            m.created_amount += amount;
        }
        if let Some(c) = d.close_date {
            match d.status {
                OpportunityStatus::Open => {}
                OpportunityStatus::Won => {
                    let m = month_entry(&mut months, c.year(), c.month());
                    m.won += 1;
                    m.won_amount += amount;
                }
                OpportunityStatus::Lost => {
                    let m = month_entry(&mut months, c.year(), c.month());
                    m.lost += 1;
                    m.lost_amount += amount;
                }
            }
        }
    }
    Trends {
        months: months.into_values().collect(),
        created_undated,
        closed_undated,
    }
}

/// A report flattened to rows: what the CLI prints and the CSV export holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn money(v: f64) -> String {
    format!("{v:.2}")
}

fn table(headers: &[&str], rows: Vec<Vec<String>>) -> Table {
    Table {
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    }
}

fn ids(v: &[OpportunityId]) -> String {
    v.iter().map(|d| d.as_str()).collect::<Vec<_>>().join(";")
}

impl Pipeline {
    /// One row per bucket: `by` (stage or category), then the total row.
    pub fn to_table(&self) -> Table {
        let row = |by: &str, b: &Bucket| {
            vec![
                by.to_owned(),
                b.key.clone(),
                b.count.to_string(),
                money(b.amount),
                money(b.weighted),
                ids(&b.deals),
            ]
        };
        let rows = self
            .by_stage
            .iter()
            .map(|b| row("stage", b))
            .chain(self.by_category.iter().map(|b| row("category", b)))
            .chain(std::iter::once(row("total", &self.total)))
            .collect();
        table(&["by", "key", "count", "amount", "weighted", "deals"], rows)
    }
}

/// Coverage by stage as rows.
pub fn coverage_table(c: &[StageCoverage]) -> Table {
    let rows = c
        .iter()
        .map(|s| {
            let uncovered: Vec<String> = s
                .evidence
                .iter()
                .flat_map(|d| {
                    d.roles.iter().filter(|r| !r.covered).map(move |r| {
                        format!(
                            "{} {}: {}",
                            d.deal,
                            r.role.as_str(),
                            match (&r.name, r.level) {
                                (Some(p), Some(l)) => format!("{p} is {}", l.name()),
                                _ => "nobody in the chain".into(),
                            }
                        )
                    })
                })
                .collect();
            vec![
                s.stage.clone(),
                s.deals.to_string(),
                s.key_roles.to_string(),
                s.covered.to_string(),
                format!("{:.2}", s.share),
                uncovered.join("; "),
            ]
        })
        .collect();
    table(
        &[
            "stage",
            "deals",
            "key_roles",
            "covered",
            "share",
            "uncovered",
        ],
        rows,
    )
}

/// Deals at risk as rows, one per flag.
pub fn risk_table(r: &[DealRisk]) -> Table {
    let rows = r
        .iter()
        .flat_map(|d| {
            d.flags.iter().map(move |f| {
                vec![
                    d.deal.to_string(),
                    d.name.clone(),
                    d.account.to_string(),
                    d.stage.clone().unwrap_or_default(),
                    d.amount.map(money).unwrap_or_default(),
                    f.kind.as_str().to_owned(),
                    f.evidence.clone(),
                ]
            })
        })
        .collect();
    table(
        &[
            "deal", "name", "account", "stage", "amount", "risk", "evidence",
        ],
        rows,
    )
}

impl Trends {
    pub fn to_table(&self) -> Table {
        let rows = self
            .months
            .iter()
            .map(|m| {
                vec![
                    m.month.clone(),
                    m.created.to_string(),
                    money(m.created_amount),
                    m.won.to_string(),
                    money(m.won_amount),
                    m.lost.to_string(),
                    money(m.lost_amount),
                ]
            })
            .collect();
        table(
            &[
                "month",
                "created",
                "created_amount",
                "won",
                "won_amount",
                "lost",
                "lost_amount",
            ],
            rows,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Acceptance, Opportunity, OpportunityContact, Organization, Person};
    use crate::{ScoringConfig, score_account};

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn row(id: &str, amount: Option<f64>, stage: &str, status: OpportunityStatus) -> DealRow {
        let cfg = DealConfig::default();
        let o = Opportunity {
            id: OpportunityId::parse(id).unwrap(),
            account: OrgId::parse("a").unwrap(),
            name: id.into(),
            amount,
            stage: Some(stage.into()),
            status,
            close_date: chrono::NaiveDate::from_ymd_opt(2025, 6, 10),
            owner: None,
            competitors: vec![],
        };
        DealRow {
            id: o.id.clone(),
            account: o.account.clone(),
            account_name: "A".into(),
            name: o.name.clone(),
            amount,
            status,
            stage: o.stage.clone(),
            stage_index: cfg.effective_stage(&o),
            category_index: cfg.category(amount),
            probability: cfg.probability(&o),
            weighted: amount.unwrap_or(0.0) * cfg.probability(&o),
            created: Some(ts("2025-03-05")),
            close_date: o.close_date,
            competitors: vec![],
            chain: vec![],
        }
    }

    fn tie(person: &str, role: BuyingRole, level: u8, sa: Option<u8>, pa: Option<u8>) -> ChainTie {
        ChainTie {
            entry: ChainEntry {
                person: PersonId::parse(person).unwrap(),
                role: Some(role),
                attitude: None,
                solution_acceptance: sa,
                price_acceptance: pa,
                assessed_at: Some(ts("2025-05-01")),
                versions: 1,
            },
            name: person.to_uppercase(),
            closeness: f64::from(level) / 4.0,
            level: ClosenessLevel::new(level).unwrap(),
            best_connector: None,
        }
    }

    fn sample() -> Vec<DealRow> {
        vec![
            row("d1", Some(100_000.0), "proposal", OpportunityStatus::Open),
            row(
                "d2",
                Some(20_000.0),
                "qualification",
                OpportunityStatus::Open,
            ),
            row(
                "d3",
                Some(2_000_000.0),
                "negotiation",
                OpportunityStatus::Won,
            ),
            row("d4", None, "Prospecting", OpportunityStatus::Open),
            row("d5", Some(300_000.0), "commit", OpportunityStatus::Lost),
        ]
    }

    #[test]
    fn pipeline_sums_to_the_deals() {
        let cfg = DealConfig::default();
        let deals = sample();
        let p = pipeline(&cfg, &deals);
        let amount: f64 = deals.iter().filter_map(|d| d.amount).sum();
        let weighted: f64 = deals.iter().map(|d| d.weighted).sum();
        assert_eq!(p.total.count, 5);
        assert_eq!(p.total.amount, amount);
        for buckets in [&p.by_stage, &p.by_category] {
            assert_eq!(buckets.iter().map(|b| b.count).sum::<u32>(), 5);
            assert_eq!(buckets.iter().map(|b| b.amount).sum::<f64>(), amount);
            assert!((buckets.iter().map(|b| b.weighted).sum::<f64>() - weighted).abs() < 1e-6);
        }
        // d1 proposal: 100k at 0.5; the won deal counts fully, the lost not at all.
        assert_eq!(p.by_stage[3].weighted, 50_000.0);
        assert_eq!(p.by_stage[6].deals, [OpportunityId::parse("d3").unwrap()]);
        assert_eq!(p.by_stage[7].weighted, 0.0);
        assert_eq!(p.by_stage.last().unwrap().key, UNCONFIGURED_STAGE);
        assert_eq!(p.by_category.last().unwrap().key, NO_AMOUNT);
        assert_eq!(p.by_category[1].count, 1, "100k is medium");
        let t = p.to_table();
        assert_eq!(t.rows.len(), 9 + 6 + 1);
        assert_eq!(t.rows.last().unwrap()[2], "5");
    }

    #[test]
    fn risks_flag_low_acceptance_and_single_threading_with_evidence() {
        let cfg = DealConfig::default();
        let mut deals = sample();
        deals[0].chain = vec![
            tie("cfo", BuyingRole::EconomicBuyer, 3, Some(3), Some(1)),
            tie("user", BuyingRole::UserBuyer, 1, Some(2), None),
        ];
        // Early stage: single-threading is not yet a risk; low acceptance is.
        deals[1].chain = vec![tie("cio", BuyingRole::TechnicalBuyer, 0, Some(0), None)];
        // Closed deals are not at risk.
        deals[4].chain = vec![tie("x", BuyingRole::Coach, 0, Some(0), Some(0))];
        let r = risks(&cfg, &deals);
        assert_eq!(r.len(), 2);
        let d1 = &r[0];
        assert_eq!(d1.deal.as_str(), "d1");
        let kinds: Vec<RiskKind> = d1.flags.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            [RiskKind::LowPriceAcceptance, RiskKind::SingleThreaded]
        );
        assert!(
            d1.flags[0]
                .evidence
                .contains("CFO (economic_buyer): price acceptance 1/4, assessed 2025-05-01")
        );
        assert!(
            d1.flags[1].evidence.contains("only 1 of 2 contacts"),
            "{}",
            d1.flags[1].evidence
        );
        assert_eq!(r[1].flags.len(), 1);
        assert_eq!(r[1].flags[0].kind, RiskKind::LowSolutionAcceptance);
        assert_eq!(risk_table(&r).rows.len(), 3);
    }

    #[test]
    fn coverage_by_stage_counts_key_roles_trusted_or_better() {
        let cfg = DealConfig::default();
        let mut deals = sample();
        deals[0].chain = vec![
            tie("cfo", BuyingRole::EconomicBuyer, 3, None, None),
            tie("cio", BuyingRole::TechnicalBuyer, 2, None, None),
            tie("cio2", BuyingRole::TechnicalBuyer, 4, None, None),
        ];
        let c = coverage_by_stage(&cfg, &deals);
        let proposal = &c[3];
        assert_eq!(
            (proposal.deals, proposal.key_roles, proposal.covered),
            (1, 4, 2)
        );
        assert_eq!(proposal.share, 0.5);
        let tech = &proposal.evidence[0].roles[1];
        assert_eq!(
            tech.person.as_ref().unwrap().as_str(),
            "cio2",
            "the closest tie counts"
        );
        assert_eq!(c.iter().map(|s| s.deals).sum::<u32>(), 5);
        let t = coverage_table(&c);
        assert!(t.rows[3][5].contains("d1 user_buyer: nobody in the chain"));
    }

    #[test]
    fn trends_count_each_deal_once_per_event() {
        let mut deals = sample();
        deals[1].created = None;
        let t = trends(&deals);
        let created: u32 = t.months.iter().map(|m| m.created).sum();
        assert_eq!(created + t.created_undated, 5);
        let won: u32 = t.months.iter().map(|m| m.won).sum();
        let lost: u32 = t.months.iter().map(|m| m.lost).sum();
        assert_eq!((won, lost), (1, 1));
        assert_eq!(t.months[0].month, "2025-03");
        assert_eq!(t.months[1].won_amount, 2_000_000.0);
        assert_eq!(t.to_table().rows.len(), 2);
    }

    #[test]
    fn deal_rows_join_the_chain_with_our_closeness() {
        let org = Organization {
            id: OrgId::parse("a").unwrap(),
            name: "Acme".into(),
            industry: None,
            region: None,
            tier: None,
            is_ours: false,
            parent: None,
        };
        let person = |id: &str, org: &str| Person {
            id: PersonId::parse(id).unwrap(),
            org: OrgId::parse(org).unwrap(),
            name: id.to_uppercase(),
            title: None,
            department: None,
            level: crate::model::Level::UNKNOWN,
            emails: vec![],
            external_ids: vec![],
            phones: vec![],
            reports_to: None,
            role: None,
            attitude: None,
        };
        let d = row("d1", Some(10.0), "proposal", OpportunityStatus::Open);
        let data = AccountData {
            account: org,
            people: vec![person("cfo", "a")],
            our_people: vec![person("ae", "us")],
            team: vec![],
            interactions: vec![],
            influences: vec![],
            assessments: vec![crate::model::Assessment {
                from: PersonId::parse("ae").unwrap(),
                to: PersonId::parse("cfo").unwrap(),
                level: ClosenessLevel::TRUSTED,
                at: ts("2025-05-01"),
                by: None,
            }],
            opportunities: vec![Opportunity {
                id: d.id.clone(),
                account: d.account.clone(),
                name: "d1".into(),
                amount: Some(10.0),
                stage: Some("proposal".into()),
                status: OpportunityStatus::Open,
                close_date: None,
                owner: None,
                competitors: vec!["Globex".into()],
            }],
            opportunity_contacts: vec![OpportunityContact {
                opportunity: d.id.clone(),
                person: PersonId::parse("cfo").unwrap(),
                role: Some(BuyingRole::EconomicBuyer),
                attitude: None,
                solution_acceptance: Some(Acceptance::new(1).unwrap()),
                price_acceptance: None,
                at: Some(ts("2025-05-02")),
            }],
            opportunity_stages: vec![],
        };
        let as_of = ts("2025-05-10");
        let scores = score_account(&data, &ScoringConfig::default(), as_of);
        let rows = deal_rows(&DealConfig::default(), &data, &scores, as_of);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.weighted, 5.0);
        assert_eq!(
            r.created,
            Some(ts("2025-05-02")),
            "derived from the first assessment"
        );
        assert_eq!(r.chain[0].name, "CFO");
        assert!(
            r.chain[0].level >= ClosenessLevel::FAMILIAR,
            "{:?}",
            r.chain[0]
        );
        // Before the assessment the chain is empty.
        let early = deal_rows(&DealConfig::default(), &data, &scores, ts("2025-05-01"));
        assert!(early[0].chain.is_empty());
    }
}
