//! Deal pages: the deals list (all accounts or one), a deal with its stage
//! timeline and its decision chain as of a chosen date or stage, and the
//! management reports with CSV downloads.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::get;
use renmai_graph::report::{DealRow, Table};
use renmai_graph::{DealConfig, OpportunityId, OrgId, Timestamp};
use serde::Deserialize;

use super::api::deals::csv_response;
use super::pages::enc;
use super::{AppError, AppState};
use crate::deals::{Report, ReportKind, detail, parse_as_of, rows, to_csv};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/deals", get(deals_page))
        .route("/deals/{id}", get(deal_page))
        .route("/reports", get(reports_page))
        .route("/reports/{kind}/csv", get(report_csv))
}

#[derive(Deserialize)]
pub struct DealsQuery {
    account: Option<String>,
    as_of: Option<String>,
}

#[derive(Deserialize)]
pub struct DealQuery {
    as_of: Option<String>,
    stage: Option<String>,
}

fn render(t: &impl Template) -> Result<Html<String>, AppError> {
    t.render()
        .map(Html)
        .map_err(|e| AppError::Internal(format!("template: {e}")))
}

fn account_of(s: Option<&str>) -> Result<Option<OrgId>, AppError> {
    s.filter(|s| !s.is_empty())
        .map(|s| OrgId::parse(s).map_err(|e| AppError::NotFound(format!("no account {s:?}: {e}"))))
        .transpose()
}

fn money(a: Option<f64>) -> String {
    a.map_or("—".into(), |a| {
        // Thousands separators for reading at a glance.
        let whole = format!("{:.0}", a);
        let mut out = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 && c != '-' {
                out.push(',');
            }
            out.push(c);
        }
        out
    })
}

fn day(t: Option<Timestamp>) -> String {
    t.map_or("—".into(), |t| {
        t.to_datetime().format("%Y-%m-%d").to_string()
    })
}

/// One line of the deals list.
pub struct DealLine {
    pub href: String,
    pub name: String,
    pub account_href: String,
    pub account_name: String,
    pub status: String,
    pub stage: String,
    pub category: String,
    pub amount: String,
    pub probability: String,
    pub weighted: String,
    pub close_date: String,
    pub competitors: String,
    pub stakeholders: usize,
}

impl DealLine {
    fn of(cfg: &DealConfig, d: &DealRow) -> DealLine {
        DealLine {
            href: format!("/deals/{}", enc(d.id.as_str())),
            name: d.name.clone(),
            account_href: format!("/deals?account={}", enc(d.account.as_str())),
            account_name: d.account_name.clone(),
            status: d.status.as_str().to_owned(),
            stage: d
                .stage_index
                .map(|i| cfg.stages[i].name.clone())
                .or_else(|| d.stage.clone().map(|s| format!("{s} (not configured)")))
                .unwrap_or("—".into()),
            category: d
                .category_index
                .map_or("—".into(), |i| cfg.categories[i].name.clone()),
            amount: money(d.amount),
            probability: format!("{:.0}%", d.probability * 100.0),
            weighted: money(Some(d.weighted)),
            close_date: d.close_date.map_or("—".into(), |c| c.to_string()),
            competitors: if d.competitors.is_empty() {
                "—".into()
            } else {
                d.competitors.join(", ")
            },
            stakeholders: d.chain.len(),
        }
    }
}

#[derive(Template)]
#[template(path = "deals.html")]
pub struct DealsPage {
    pub title: String,
    pub account: String,
    pub as_of: String,
    pub lines: Vec<DealLine>,
    pub reports_href: String,
}

async fn deals_page(
    State(state): State<AppState>,
    Query(q): Query<DealsQuery>,
) -> Result<Html<String>, AppError> {
    let account = account_of(q.account.as_deref())?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let deals = rows(&state.engine, &state.deals, account.as_ref(), as_of).await?;
    let title = match (&account, deals.first()) {
        (Some(_), Some(d)) => format!("Deals · {}", d.account_name),
        (Some(a), None) => format!("Deals · {a}"),
        (None, _) => "Deals".into(),
    };
    let account_q = account
        .as_ref()
        .map(|a| format!("?account={}", enc(a.as_str())))
        .unwrap_or_default();
    render(&DealsPage {
        title,
        account: account.map(|a| a.to_string()).unwrap_or_default(),
        as_of: q.as_of.unwrap_or_default(),
        lines: deals
            .iter()
            .map(|d| DealLine::of(&state.deals, d))
            .collect(),
        reports_href: format!("/reports{account_q}"),
    })
}

pub struct PeriodLine {
    pub stage: String,
    pub from: String,
    pub until: String,
    pub note: String,
    pub current: bool,
}

pub struct ChainLine {
    pub href: String,
    pub name: String,
    pub role: String,
    pub attitude: String,
    pub solution: String,
    pub price: String,
    pub assessed: String,
    pub versions: usize,
    pub closeness: String,
}

pub struct StageChainLine {
    pub stage: String,
    pub as_of: String,
    pub reached: bool,
    pub href: String,
    pub summary: String,
}

pub struct VersionLine {
    pub at: String,
    pub name: String,
    pub role: String,
    pub attitude: String,
    pub solution: String,
    pub price: String,
}

pub struct StageOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "deal.html")]
pub struct DealPage {
    pub deal: DealLine,
    pub id: String,
    pub as_of: String,
    pub as_of_input: String,
    pub stage_as_of: String,
    pub stages: Vec<StageOption>,
    pub timeline: Vec<PeriodLine>,
    pub chain: Vec<ChainLine>,
    pub by_stage: Vec<StageChainLine>,
    pub versions: Vec<VersionLine>,
    pub patterns_href: String,
    pub pattern_warnings: Vec<PatternLine>,
}

/// A departure from the account's usual pattern, with its evidence.
pub struct PatternLine {
    pub text: String,
    /// The closed deals it rests on.
    pub evidence: Vec<(String, String)>,
    pub holders: Vec<HolderLine>,
}

/// Someone who holds what the deal lacks, and our best tie to them.
pub struct HolderLine {
    pub href: String,
    pub name: String,
    /// Title, role and level.
    pub who: String,
    /// "trusted (61%) through Ana Seller" or "stranger (0%): no tie".
    pub tie: String,
}

impl PatternLine {
    fn of(w: &renmai_graph::patterns::PatternWarning) -> PatternLine {
        PatternLine {
            text: w.text.clone(),
            evidence: w
                .evidence
                .iter()
                .map(|o| (format!("/deals/{}", enc(o.as_str())), o.to_string()))
                .collect(),
            holders: w
                .holders
                .iter()
                .map(|h| HolderLine {
                    href: format!("/people/{}", enc(h.person.as_str())),
                    name: h.name.clone(),
                    who: [
                        h.title.clone(),
                        h.role.map(|r| r.label().to_owned()),
                        (h.level != renmai_graph::Level::UNKNOWN)
                            .then(|| h.level.label().to_owned()),
                    ]
                    .into_iter()
                    .flatten()
                    .filter(|s| !s.trim().is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
                    tie: format!(
                        "{} ({:.0}%){}",
                        h.closeness_level.name(),
                        h.closeness * 100.0,
                        h.best_connector_name
                            .as_ref()
                            .map_or(": no tie".to_owned(), |c| format!(" through {c}"))
                    ),
                })
                .collect(),
        }
    }
}

fn acceptance(v: Option<u8>) -> String {
    v.map_or("—".into(), |v| format!("{v}/4"))
}

async fn deal_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DealQuery>,
) -> Result<Html<String>, AppError> {
    let id = OpportunityId::parse(&id)
        .map_err(|e| AppError::NotFound(format!("no deal {id:?}: {e}")))?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let stage = q.stage.as_deref().filter(|s| !s.is_empty());
    let d = detail(&state.engine, &state.deals, &id, as_of, stage).await?;
    let cfg = &state.deals;
    let names: std::collections::HashMap<String, String> = d
        .deal
        .chain
        .iter()
        .map(|c| (c.entry.person.to_string(), c.name.clone()))
        .collect();
    let current = d
        .stage_as_of
        .clone()
        .and_then(|s| d.history.iter().rposition(|p| p.stage == s));
    let timeline = d
        .history
        .iter()
        .enumerate()
        .map(|(i, p)| PeriodLine {
            stage: p
                .stage_index
                .map_or_else(|| p.stage.clone(), |i| cfg.stages[i].name.clone()),
            from: day(p.from),
            until: p.until.map_or("now".into(), |t| day(Some(t))),
            note: if p.derived {
                "derived: no stage change recorded".into()
            } else {
                String::new()
            },
            current: Some(i) == current,
        })
        .collect();
    let chain = d
        .deal
        .chain
        .iter()
        .map(|c| ChainLine {
            href: format!("/people/{}", enc(c.entry.person.as_str())),
            name: c.name.clone(),
            role: c.entry.role.map_or("—", |r| r.label()).to_owned(),
            attitude: c
                .entry
                .attitude
                .map_or("unknown", |a| a.as_str())
                .to_owned(),
            solution: acceptance(c.entry.solution_acceptance),
            price: acceptance(c.entry.price_acceptance),
            assessed: day(c.entry.assessed_at),
            versions: c.entry.versions,
            closeness: format!("{} ({:.0}%)", c.level.name(), c.closeness * 100.0),
        })
        .collect();
    let by_stage = d
        .by_stage
        .iter()
        .zip(&cfg.stages)
        .map(|(s, def)| StageChainLine {
            stage: s.stage.clone(),
            as_of: s.as_of.map_or("now".into(), |t| day(Some(t))),
            reached: s.chain.is_some(),
            href: format!("/deals/{}?stage={}", enc(id.as_str()), enc(&def.id)),
            summary: s.chain.as_ref().map_or(String::new(), |c| {
                let named: Vec<String> = c
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}/{}",
                            names
                                .get(e.person.as_str())
                                .cloned()
                                .unwrap_or_else(|| e.person.to_string()),
                            e.solution_acceptance.map_or("—".into(), |v| v.to_string()),
                            e.price_acceptance.map_or("—".into(), |v| v.to_string()),
                        )
                    })
                    .collect();
                format!("{} stakeholders: {}", c.len(), named.join(", "))
            }),
        })
        .collect();
    let versions = d
        .versions
        .iter()
        .map(|c| VersionLine {
            at: day(c.at),
            name: names
                .get(c.person.as_str())
                .cloned()
                .unwrap_or_else(|| c.person.to_string()),
            role: c.role.map_or("—", |r| r.label()).to_owned(),
            attitude: c.attitude.map_or("unknown", |a| a.as_str()).to_owned(),
            solution: acceptance(c.solution_acceptance.map(|a| a.get())),
            price: acceptance(c.price_acceptance.map(|a| a.get())),
        })
        .collect();
    let stage_key = stage.and_then(|s| cfg.stage_index(s));
    render(&DealPage {
        patterns_href: format!("/accounts/{}/patterns", enc(d.deal.account.as_str())),
        pattern_warnings: d.pattern_warnings.iter().map(PatternLine::of).collect(),
        deal: DealLine::of(cfg, &d.deal),
        id: id.to_string(),
        as_of: d.as_of.to_rfc3339(),
        as_of_input: q.as_of.unwrap_or_default(),
        stage_as_of: d.stage_as_of.clone().unwrap_or("none yet".into()),
        stages: cfg
            .stages
            .iter()
            .enumerate()
            .map(|(i, s)| StageOption {
                value: s.id.clone(),
                label: s.name.clone(),
                selected: stage_key == Some(i),
            })
            .collect(),
        timeline,
        chain,
        by_stage,
        versions,
    })
}

pub struct ReportSection {
    pub kind: &'static str,
    pub title: &'static str,
    pub about: &'static str,
    pub csv_href: String,
    pub table: Table,
}

#[derive(Template)]
#[template(path = "reports.html")]
pub struct ReportsPage {
    pub account: String,
    pub as_of: String,
    pub deals: usize,
    pub sections: Vec<ReportSection>,
}

async fn reports_page(
    State(state): State<AppState>,
    Query(q): Query<DealsQuery>,
) -> Result<Html<String>, AppError> {
    let account = account_of(q.account.as_deref())?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let deals = rows(&state.engine, &state.deals, account.as_ref(), as_of).await?;
    let mut query = Vec::new();
    if let Some(a) = &account {
        query.push(format!("account={}", enc(a.as_str())));
    }
    if let Some(t) = q.as_of.as_deref().filter(|s| !s.is_empty()) {
        query.push(format!("as_of={}", enc(t)));
    }
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{}", query.join("&"))
    };
    let sections = ReportKind::ALL
        .into_iter()
        .map(|kind| {
            let (title, about) = match kind {
                ReportKind::Pipeline => (
                    "Pipeline by stage and category",
                    "Count, amount and amount weighted by the stage's win probability; every deal is in one stage row and one category row.",
                ),
                ReportKind::Coverage => (
                    "Coverage by stage",
                    "Of the key roles of the deals at each stage (economic, technical and user buyer, coach), the share we hold a trusted-or-better tie to; a role nobody in the chain plays counts as uncovered.",
                ),
                ReportKind::Risk => (
                    "Deals at risk",
                    "Open deals with a stakeholder's solution or price acceptance at or below the threshold, or single-threaded (at most one familiar-or-closer contact) late in the cycle.",
                ),
                ReportKind::Trends => (
                    "Trends by month",
                    "Deals created (start of their first stage), won and lost (close date).",
                ),
            };
            ReportSection {
                kind: kind.as_str(),
                title,
                about,
                csv_href: format!("/reports/{}/csv{query}", kind.as_str()),
                table: Report::of(kind, &state.deals, &deals).table(),
            }
        })
        .collect();
    render(&ReportsPage {
        account: account.map(|a| a.to_string()).unwrap_or_default(),
        as_of: q.as_of.unwrap_or_default(),
        deals: deals.len(),
        sections,
    })
}

async fn report_csv(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    Query(q): Query<DealsQuery>,
) -> Result<Response, AppError> {
    let kind = ReportKind::parse(&kind)?;
    let account = account_of(q.account.as_deref())?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let deals = rows(&state.engine, &state.deals, account.as_ref(), as_of).await?;
    Ok(csv_response(
        kind,
        &to_csv(&Report::of(kind, &state.deals, &deals).table()),
    ))
}
