//! The leads-from-service page (`/leads`): accounts and stakeholders whose
//! service cases are rising, each with its counts and its recent cases.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use renmai_graph::service::LeadsConfig;
use serde::Deserialize;

use super::render;
use crate::engine::now_to_the_minute;
use crate::leads::{LeadRow, check_config, leads};
use crate::web::{AppError, AppState};

#[derive(Deserialize)]
pub(super) struct LeadsParams {
    as_of: Option<String>,
    window_days: Option<u32>,
    min_cases: Option<u32>,
}

/// One lead as the page shows it.
struct LeadView {
    account_href: String,
    account_name: String,
    person_href: Option<String>,
    person_name: String,
    title: String,
    recent: u32,
    prior: u32,
    urgent: u32,
    last_opened: String,
    reason: String,
    cases: Vec<CaseView>,
}

struct CaseView {
    case_id: String,
    opened: String,
    closed: String,
    severity: String,
    subject: String,
}

fn day(t: renmai_graph::Timestamp) -> String {
    t.to_rfc3339().chars().take(10).collect()
}

impl From<&LeadRow> for LeadView {
    fn from(l: &LeadRow) -> Self {
        LeadView {
            account_href: format!("/accounts/{}", l.account),
            account_name: l.account_name.clone(),
            person_href: l.person.as_ref().map(|p| format!("/people/{p}")),
            person_name: l
                .person_name
                .clone()
                .or_else(|| l.person.as_ref().map(ToString::to_string))
                .unwrap_or_default(),
            title: l.title.clone().unwrap_or_default(),
            recent: l.recent,
            prior: l.prior,
            urgent: l.recent_urgent,
            last_opened: day(l.last_opened),
            reason: l.reason.clone(),
            cases: l
                .cases
                .iter()
                .map(|c| CaseView {
                    case_id: c.case_id.clone(),
                    opened: day(c.opened),
                    closed: c.closed.map(day).unwrap_or_else(|| "open".into()),
                    severity: c
                        .severity
                        .map(|s| s.as_str().to_owned())
                        .unwrap_or_else(|| "—".into()),
                    subject: c.subject.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

#[derive(Template)]
#[template(path = "leads.html")]
struct LeadsPage {
    as_of: String,
    window_days: u32,
    min_cases: u32,
    cases_considered: u32,
    accounts: Vec<LeadView>,
    stakeholders: Vec<LeadView>,
}

pub(super) async fn leads_page(
    State(state): State<AppState>,
    Query(q): Query<LeadsParams>,
) -> Result<Html<String>, AppError> {
    let as_of = match q.as_of.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => renmai_graph::Timestamp::parse(s).map_err(|e| AppError::Unprocessable {
            detail: format!("parameter as_of: {e}"),
            field: Some("as_of".into()),
        })?,
        None => now_to_the_minute(),
    };
    let cfg = LeadsConfig {
        window_days: q.window_days.unwrap_or(90),
        min_recent: q.min_cases.unwrap_or(3),
    };
    check_config(&cfg).map_err(|detail| AppError::Unprocessable {
        detail: format!("parameter {detail}"),
        field: None,
    })?;
    let report = leads(state.store().as_ref(), as_of, cfg).await?;
    render(&LeadsPage {
        as_of: day(report.as_of),
        window_days: report.window_days,
        min_cases: report.min_recent,
        cases_considered: report.cases_considered,
        accounts: report.accounts.iter().map(LeadView::from).collect(),
        stakeholders: report.stakeholders.iter().map(LeadView::from).collect(),
    })
}

#[derive(Deserialize)]
pub(super) struct SupportParams {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "support.html")]
struct SupportPage {
    from: String,
    to: String,
    months: Vec<String>,
    people: Vec<SupportRow>,
}

struct SupportRow {
    href: String,
    name: String,
    roles: String,
    peak: u32,
    deals: u32,
    /// (count, the deal ids as a tooltip).
    months: Vec<(u32, String)>,
}

/// `/support`: sales support load, deals per presales/expert per month.
pub(super) async fn support_page(
    State(state): State<AppState>,
    Query(q): Query<SupportParams>,
) -> Result<Html<String>, AppError> {
    let (from, to) = crate::web::api::service::support_range(q.from.as_deref(), q.to.as_deref())?;
    let r = crate::support::load_report(state.store().as_ref(), from, to).await?;
    let months = r
        .people
        .first()
        .map(|p| p.months.iter().map(|m| m.month.clone()).collect())
        .unwrap_or_default();
    render(&SupportPage {
        from: r.from.clone(),
        to: r.to.clone(),
        months,
        people: r
            .people
            .iter()
            .map(|p| SupportRow {
                href: format!("/people/{}", p.person),
                name: p.name.clone(),
                roles: p.roles.join(", "),
                peak: p.peak,
                deals: p.distinct_deals,
                months: p
                    .months
                    .iter()
                    .map(|m| {
                        let ids: Vec<&str> = m.opportunities.iter().map(|o| o.as_str()).collect();
                        (m.deals, ids.join(", "))
                    })
                    .collect(),
            })
            .collect(),
    })
}
