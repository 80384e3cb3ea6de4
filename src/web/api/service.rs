//! Service (CSM) in the API: leads from service, the accounts and
//! stakeholders whose service cases are rising.

use axum::Json;
use axum::extract::State;
use renmai_graph::service::LeadsConfig;
use serde::Deserialize;
use utoipa::IntoParams;

use super::extract::{ApiQuery, ReadAccess};
use super::handlers::{CommonErrors, NotModified, parse_as_of};
use crate::leads::{LeadsReport, check_config, leads};
use crate::web::{AppError, AppState};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadsQuery {
    /// As of this time (RFC 3339, or a date); default now (to the minute).
    pub as_of: Option<String>,
    /// Days of the recent window, compared with as many days before it (1–3650, default 90).
    pub window_days: Option<u32>,
    /// Fewest recent cases for a lead (1–10000, default 3).
    pub min_cases: Option<u32>,
}

/// Leads from service (孵化商机): accounts and stakeholders with at least
/// `min_cases` service cases in the last `window_days` and more than in the
/// window before, strongest rise first, each with both counts and its recent cases.
#[utoipa::path(get, path = "/leads", tag = "service",
    params(LeadsQuery),
    responses((status = 200, description = "The leads", body = LeadsReport, headers(("ETag" = String))), NotModified, CommonErrors))]
pub async fn get_leads(
    State(state): State<AppState>,
    _auth: ReadAccess,
    ApiQuery(q): ApiQuery<LeadsQuery>,
) -> Result<Json<LeadsReport>, AppError> {
    let as_of = parse_as_of(q.as_of.as_deref())?.unwrap_or_else(crate::engine::now_to_the_minute);
    let cfg = LeadsConfig {
        window_days: q.window_days.unwrap_or(90),
        min_recent: q.min_cases.unwrap_or(3),
    };
    check_config(&cfg).map_err(|detail| AppError::Unprocessable {
        field: Some(
            if detail.starts_with("window_days") {
                "window_days"
            } else {
                "min_cases"
            }
            .into(),
        ),
        detail: format!("parameter {detail}"),
    })?;
    Ok(Json(leads(state.store().as_ref(), as_of, cfg).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupportLoadQuery {
    /// First month, YYYY-MM (default: five months before `to`).
    pub from: Option<String>,
    /// Last month, YYYY-MM (default: this month).
    pub to: Option<String>,
}

/// Sales support (MCI) load: per presales or expert and per month, the deals
/// they were assigned to (the deal ids are the evidence).
#[utoipa::path(get, path = "/support/load", tag = "service",
    params(SupportLoadQuery),
    responses((status = 200, description = "Load per supporter and month", body = crate::support::SupportLoadReport, headers(("ETag" = String))), NotModified, CommonErrors))]
pub async fn get_support_load(
    State(state): State<AppState>,
    _auth: ReadAccess,
    ApiQuery(q): ApiQuery<SupportLoadQuery>,
) -> Result<Json<crate::support::SupportLoadReport>, AppError> {
    let (from, to) = support_range(q.from.as_deref(), q.to.as_deref())?;
    Ok(Json(
        crate::support::load_report(state.store().as_ref(), from, to).await?,
    ))
}

/// The month range of a support-load request, checked.
pub(crate) fn support_range(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), AppError> {
    use chrono::Datelike;
    let bad = |field: &str, detail: String| AppError::Unprocessable {
        detail: format!("parameter {field}: {detail}"),
        field: Some(field.into()),
    };
    let to = match to.filter(|s| !s.trim().is_empty()) {
        Some(s) => crate::support::parse_month(s).map_err(|e| bad("to", e))?,
        None => chrono::Utc::now().date_naive().with_day(1).expect("day 1"),
    };
    let from = match from.filter(|s| !s.trim().is_empty()) {
        Some(s) => crate::support::parse_month(s).map_err(|e| bad("from", e))?,
        None => to.checked_sub_months(chrono::Months::new(5)).unwrap_or(to),
    };
    if from > to {
        return Err(bad("from", "expected a month on or before `to`".into()));
    }
    if (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 >= 120 {
        return Err(bad("from", "expected a range of at most 120 months".into()));
    }
    Ok((from, to))
}
