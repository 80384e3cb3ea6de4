//! Deals and reports for the surfaces (CLI, pages, API): gathers deal rows
//! from the engine's account slices and scores, finds one deal with its
//! stage timeline and decision chain as of a date or stage, and renders
//! reports as tables or CSV.

use renmai_graph::OpportunityStatus;
use renmai_graph::deals::{StagePeriod, chain_at_stage, stage_at, stage_end, stage_history};
use renmai_graph::patterns::PatternWarning;
use renmai_graph::report::{
    DealRisk, DealRow, Pipeline, StageCoverage, Table, Trends, coverage_by_stage, coverage_table,
    deal_rows, pipeline, risk_table, risks, trends,
};
use renmai_graph::{DealConfig, OpportunityContact, OpportunityId, OrgId, Timestamp};
use serde::Serialize;

use crate::engine::Engine;
use crate::store::StoreError;

/// Why a deal question cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum DealsError {
    #[error("{0}")]
    NotFound(String),
    /// A parameter the user gave does not fit.
    #[error("{field}: {detail}")]
    BadInput { field: &'static str, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DealsError> for crate::web::AppError {
    fn from(e: DealsError) -> Self {
        use crate::web::AppError;
        match e {
            DealsError::NotFound(s) => AppError::NotFound(s),
            DealsError::BadInput { field, detail } => AppError::Unprocessable {
                detail: format!("parameter {field}: {detail}"),
                field: Some(field.into()),
            },
            DealsError::Store(s) => AppError::Store(s),
        }
    }
}

/// Parses an `as_of` parameter (RFC 3339 or a date).
pub fn parse_as_of(s: Option<&str>) -> Result<Option<Timestamp>, DealsError> {
    s.filter(|s| !s.trim().is_empty())
        .map(|s| {
            Timestamp::parse(s).map_err(|e| DealsError::BadInput {
                field: "as_of",
                detail: e.to_string(),
            })
        })
        .transpose()
}

/// The deals of one account, or of every account, as of a date (default:
/// the engine's now). `NotFound` for an unknown account.
pub async fn rows(
    engine: &Engine,
    cfg: &DealConfig,
    account: Option<&OrgId>,
    as_of: Option<Timestamp>,
) -> Result<Vec<DealRow>, DealsError> {
    let as_of = as_of.unwrap_or_else(|| engine.default_as_of());
    let accounts: Vec<OrgId> = match account {
        Some(a) => vec![a.clone()],
        None => engine
            .store()
            .accounts()
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect(),
    };
    let mut out = Vec::new();
    for a in &accounts {
        let Some(data) = engine.account_data(a).await? else {
            return Err(DealsError::NotFound(format!(
                "no customer account with id {a}"
            )));
        };
        if data.opportunities.is_empty() {
            continue;
        }
        let Some(scores) = engine.scores_at(a, as_of).await? else {
            continue;
        };
        out.extend(deal_rows(cfg, &data, &scores, as_of));
    }
    out.sort_by(|x, y| (&x.account, &x.id).cmp(&(&y.account, &y.id)));
    Ok(out)
}

/// A deal's chain at one configured stage (`None`: never reached).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StageChain {
    pub stage: String,
    /// When the chain is read: the last second of the deal's time at the
    /// stage; `null` while it is still there.
    #[schema(value_type = Option<String>)]
    pub as_of: Option<Timestamp>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub chain: Option<Vec<renmai_graph::deals::ChainEntry>>,
}

/// One deal in full: as of a date, its stage timeline, its chain by stage
/// and every recorded assessment (the versions of the chain).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DealDetail {
    /// The deal and its chain (with our closeness) as of `as_of`.
    #[schema(value_type = Object)]
    pub deal: DealRow,
    #[schema(value_type = String)]
    pub as_of: Timestamp,
    /// The stage the deal stood at on `as_of` (`null`: before its first).
    pub stage_as_of: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<StagePeriod>,
    pub by_stage: Vec<StageChain>,
    #[schema(value_type = Vec<Object>)]
    pub versions: Vec<OpportunityContact>,
    /// Where this open deal departs from the account's usual pattern (PBM),
    /// as of now: each with the closed deals it rests on and, for a missing
    /// role or level, who holds it and our best tie to them.
    #[schema(value_type = Vec<Object>)]
    pub pattern_warnings: Vec<PatternWarning>,
}

/// One deal as of a date, or as it stood at a stage (`stage`: a configured
/// stage id or name; the chain is read at the end of the deal's time there).
pub async fn detail(
    engine: &Engine,
    cfg: &DealConfig,
    id: &OpportunityId,
    as_of: Option<Timestamp>,
    stage: Option<&str>,
) -> Result<DealDetail, DealsError> {
    let not_found = || DealsError::NotFound(format!("no deal with id {id}"));
    // Its account by the deal's id: only that account is read.
    let deal = engine
        .store()
        .opportunity(id)
        .await?
        .ok_or_else(not_found)?;
    let data = engine
        .account_data(&deal.account)
        .await?
        .filter(|d| d.opportunities.iter().any(|o| &o.id == id))
        .ok_or_else(not_found)?;
    let o = data
        .opportunities
        .iter()
        .find(|o| &o.id == id)
        .expect("found above");
    let history = stage_history(cfg, o, &data.opportunity_stages, &data.opportunity_contacts);
    let now = engine.default_as_of();
    let as_of = match stage.filter(|s| !s.trim().is_empty()) {
        None => as_of.unwrap_or(now),
        Some(s) => {
            let i = cfg.stage_index(s).ok_or_else(|| DealsError::BadInput {
                field: "stage",
                detail: format!(
                    "expected one of {}, got {s:?}",
                    cfg.stages
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
            match stage_end(&history, i) {
                Ok(end) => end.unwrap_or(now),
                Err(()) => {
                    return Err(DealsError::BadInput {
                        field: "stage",
                        detail: format!("deal {id} never reached stage {s:?}"),
                    });
                }
            }
        }
    };
    let scores = engine
        .scores_at(&data.account.id, as_of)
        .await?
        .ok_or_else(|| DealsError::NotFound(format!("no deal with id {id}")))?;
    let row = deal_rows(cfg, &data, &scores, as_of)
        .into_iter()
        .find(|r| &r.id == id)
        .expect("the deal is in its account");
    let by_stage = cfg
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| StageChain {
            stage: s.name.clone(),
            as_of: stage_end(&history, i).ok().flatten(),
            chain: chain_at_stage(o, &history, &data.opportunity_contacts, i),
        })
        .collect();
    let mut versions: Vec<OpportunityContact> = data
        .opportunity_contacts
        .iter()
        .filter(|c| &c.opportunity == id)
        .cloned()
        .collect();
    versions.sort_by(|x, y| (x.at, &x.person).cmp(&(y.at, &y.person)));
    let pattern_warnings = if o.status == OpportunityStatus::Open {
        crate::patterns::patterns(engine, cfg, &data)
            .await?
            .warnings
            .into_iter()
            .filter(|w| &w.opportunity == id)
            .collect()
    } else {
        Vec::new()
    };
    Ok(DealDetail {
        stage_as_of: stage_at(&history, as_of).map(|p| p.stage.clone()),
        deal: row,
        as_of,
        history,
        by_stage,
        versions,
        pattern_warnings,
    })
}

/// The reports.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    Pipeline,
    Coverage,
    Risk,
    Trends,
}

impl ReportKind {
    pub const ALL: [ReportKind; 4] = [
        ReportKind::Pipeline,
        ReportKind::Coverage,
        ReportKind::Risk,
        ReportKind::Trends,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Pipeline => "pipeline",
            ReportKind::Coverage => "coverage",
            ReportKind::Risk => "risk",
            ReportKind::Trends => "trends",
        }
    }

    pub fn parse(s: &str) -> Result<ReportKind, DealsError> {
        ReportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                DealsError::NotFound(format!(
                    "no report {s:?}; the reports are pipeline, coverage, risk and trends"
                ))
            })
    }
}

/// A computed report, in its structured form (always a JSON object).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Report {
    Pipeline(Pipeline),
    Coverage { stages: Vec<StageCoverage> },
    Risk { deals: Vec<DealRisk> },
    Trends(Trends),
}

impl Report {
    pub fn of(kind: ReportKind, cfg: &DealConfig, deals: &[DealRow]) -> Report {
        match kind {
            ReportKind::Pipeline => Report::Pipeline(pipeline(cfg, deals)),
            ReportKind::Coverage => Report::Coverage {
                stages: coverage_by_stage(cfg, deals),
            },
            ReportKind::Risk => Report::Risk {
                deals: risks(cfg, deals),
            },
            ReportKind::Trends => Report::Trends(trends(deals)),
        }
    }

    pub fn table(&self) -> Table {
        match self {
            Report::Pipeline(p) => p.to_table(),
            Report::Coverage { stages } => coverage_table(stages),
            Report::Risk { deals } => risk_table(deals),
            Report::Trends(t) => t.to_table(),
        }
    }
}

/// A table as CSV (header row first).
pub fn to_csv(t: &Table) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = w.write_record(&t.headers);
    for r in &t.rows {
        let _ = w.write_record(r);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A table as aligned text for the terminal.
pub fn to_text(t: &Table) -> String {
    let mut widths: Vec<usize> = t.headers.iter().map(|h| h.chars().count()).collect();
    for r in &t.rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: &[String]| {
        let mut s = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ");
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(&t.headers);
    for r in &t.rows {
        out.push_str(&line(r));
    }
    out
}
