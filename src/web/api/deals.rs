//! Deals (TAS+) and management reports in the API: the deal list, one deal
//! with its stage timeline and decision chain as of a date or stage, and
//! the pipeline, coverage, risk and trend reports as JSON or CSV.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use renmai_graph::report::DealRow;
use renmai_graph::{DealConfig, OpportunityId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{ApiQuery, ReadAccess};
use super::handlers::{CommonErrors, NotFound, NotModified, org_id};
use crate::deals::{DealDetail, Report, ReportKind, detail, parse_as_of, rows, to_csv};
use crate::web::{AppError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DealsQuery {
    /// Only this account's deals (default: every account).
    pub account: Option<String>,
    /// As of this time (RFC 3339, or a date); default now (to the minute).
    pub as_of: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DealQuery {
    /// The deal and its chain as of this time (RFC 3339, or a date).
    pub as_of: Option<String>,
    /// Or as it stood at the end of this stage (a configured stage id or name).
    pub stage: Option<String>,
}

/// One deal in a list.
#[derive(Serialize, ToSchema)]
pub struct DealOut {
    pub id: String,
    pub account: String,
    pub account_name: String,
    pub name: String,
    pub amount: Option<f64>,
    /// open, won or lost.
    pub status: String,
    /// The stage as stored.
    pub stage: Option<String>,
    /// The configured stage it maps to (`null`: not configured).
    pub stage_name: Option<String>,
    /// The amount band (`null`: no amount).
    pub category: Option<String>,
    /// Win probability of its stage.
    pub probability: f64,
    /// amount × probability.
    pub weighted: f64,
    /// Start of its first stage.
    pub created: Option<String>,
    pub close_date: Option<String>,
    pub competitors: Vec<String>,
    /// Stakeholders in its decision chain as of the list's date.
    pub stakeholders: u32,
}

impl DealOut {
    pub fn of(cfg: &DealConfig, d: &DealRow) -> DealOut {
        DealOut {
            id: d.id.to_string(),
            account: d.account.to_string(),
            account_name: d.account_name.clone(),
            name: d.name.clone(),
            amount: d.amount,
            status: d.status.as_str().to_owned(),
            stage: d.stage.clone(),
            stage_name: d.stage_index.map(|i| cfg.stages[i].name.clone()),
            category: d.category_index.map(|i| cfg.categories[i].name.clone()),
            probability: d.probability,
            weighted: d.weighted,
            created: d.created.map(Timestamp::to_rfc3339),
            close_date: d.close_date.map(|c| c.to_string()),
            competitors: d.competitors.clone(),
            stakeholders: d.chain.len() as u32,
        }
    }
}

/// Deals as of a date.
#[derive(Serialize, ToSchema)]
pub struct DealList {
    pub as_of: String,
    pub deals: Vec<DealOut>,
}

/// Deals, of one account or all, as of a date.
#[utoipa::path(get, path = "/deals", tag = "deals", params(DealsQuery),
    responses((status = 200, description = "The deals", body = DealList, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn list_deals(
    State(state): State<AppState>,
    _auth: ReadAccess,
    ApiQuery(q): ApiQuery<DealsQuery>,
) -> Result<Json<DealList>, AppError> {
    let account = q.account.as_deref().map(org_id).transpose()?;
    let as_of = parse_as_of(q.as_of.as_deref())?.unwrap_or_else(|| state.engine.default_as_of());
    let deals = rows(&state.engine, &state.deals, account.as_ref(), Some(as_of)).await?;
    Ok(Json(DealList {
        as_of: as_of.to_rfc3339(),
        deals: deals.iter().map(|d| DealOut::of(&state.deals, d)).collect(),
    }))
}

/// One deal: as of a date (or at the end of a stage), its stage timeline,
/// its decision chain at every stage it reached, and every recorded
/// assessment (the versions of the chain).
#[utoipa::path(get, path = "/deals/{id}", tag = "deals",
    params(("id" = String, Path, description = "Deal id", example = "hm-erp"), DealQuery),
    responses((status = 200, description = "The deal", body = DealDetail, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn get_deal(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<DealQuery>,
) -> Result<Json<DealDetail>, AppError> {
    let id = OpportunityId::parse(&id).map_err(|e| AppError::Unprocessable {
        detail: format!("deal id: {e}"),
        field: Some("id".into()),
    })?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    Ok(Json(
        detail(&state.engine, &state.deals, &id, as_of, q.stage.as_deref()).await?,
    ))
}

/// A report with its flat table (what the CSV holds).
#[derive(Serialize, ToSchema)]
pub struct ReportOut {
    /// pipeline, coverage, risk or trends.
    pub kind: String,
    pub as_of: String,
    /// The report with its evidence: the deals under each bucket, the
    /// uncovered roles of each deal (`stages`), the reasons for each risk
    /// (`deals`).
    #[schema(value_type = Object)]
    pub report: serde_json::Value,
    pub table: TableOut,
}

/// Rows of a report.
#[derive(Serialize, ToSchema)]
pub struct TableOut {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

async fn report_of(
    state: &AppState,
    kind: &str,
    q: &DealsQuery,
) -> Result<(ReportKind, Timestamp, Report), AppError> {
    let kind = ReportKind::parse(kind)?;
    let account = q.account.as_deref().map(org_id).transpose()?;
    let as_of = parse_as_of(q.as_of.as_deref())?.unwrap_or_else(|| state.engine.default_as_of());
    let deals = rows(&state.engine, &state.deals, account.as_ref(), Some(as_of)).await?;
    Ok((kind, as_of, Report::of(kind, &state.deals, &deals)))
}

/// A management report: pipeline by stage and category, coverage by
/// stage, deals at risk or monthly trends.
#[utoipa::path(get, path = "/reports/{kind}", tag = "deals",
    params(("kind" = inline(ReportKind), Path, description = "Which report"), DealsQuery),
    responses((status = 200, description = "The report", body = ReportOut, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn get_report(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path(kind): Path<String>,
    ApiQuery(q): ApiQuery<DealsQuery>,
) -> Result<Json<ReportOut>, AppError> {
    let (kind, as_of, report) = report_of(&state, &kind, &q).await?;
    let t = report.table();
    Ok(Json(ReportOut {
        kind: kind.as_str().to_owned(),
        as_of: as_of.to_rfc3339(),
        report: serde_json::to_value(&report)
            .map_err(|e| AppError::Internal(format!("report encoding: {e}")))?,
        table: TableOut {
            headers: t.headers,
            rows: t.rows,
        },
    }))
}

/// A report's table as CSV (header row first).
#[utoipa::path(get, path = "/reports/{kind}/csv", tag = "deals",
    params(("kind" = inline(ReportKind), Path, description = "Which report"), DealsQuery),
    responses((status = 200, description = "The report as CSV", body = String, content_type = "text/csv", headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn get_report_csv(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path(kind): Path<String>,
    ApiQuery(q): ApiQuery<DealsQuery>,
) -> Result<Response, AppError> {
    let (kind, _, report) = report_of(&state, &kind, &q).await?;
    Ok(csv_response(kind, &to_csv(&report.table())))
}

/// A CSV download named after the report.
pub fn csv_response(kind: ReportKind, body: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"renmai-{}.csv\"", kind.as_str()),
            ),
        ],
        body.to_owned(),
    )
        .into_response()
}
