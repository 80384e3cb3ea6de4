//! `/accounts/{id}/patterns`: the account's buying patterns (PBM) and the
//! open deals that depart from them.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use renmai_graph::OrgId;
use renmai_graph::patterns::AccountPatterns;

use super::render;
use crate::web::{AppError, AppState};

#[derive(Template)]
#[template(path = "patterns.html")]
struct PatternsPage {
    name: String,
    href: String,
    p: AccountPatterns,
    months: Vec<(&'static str, usize)>,
    decision_months: String,
    /// label, won "n/N", lost "n/N", by stage, typical
    presence: Vec<(String, String, String, String, &'static str)>,
    coverage: Vec<(String, String, String)>,
    /// href, name, role, "n of N deals"
    evaluators: Vec<(String, String, String, String)>,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub(super) async fn patterns_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Html<String>, AppError> {
    let not_found = || AppError::NotFound(format!("there is no customer account {id:?}"));
    let account = OrgId::parse(&id).map_err(|_| not_found())?;
    let data = state
        .engine
        .account_data(&account)
        .await?
        .ok_or_else(not_found)?;
    let p = crate::patterns::patterns(&state.engine, &state.deals, &data).await?;
    let median = |m: Option<f64>, n: usize| match m {
        Some(m) => format!("{m} (n={n})"),
        None => format!("too few (n={n})"),
    };
    let name_of = |pid: &renmai_graph::PersonId| {
        data.people
            .iter()
            .find(|x| &x.id == pid)
            .map_or_else(|| pid.to_string(), |x| x.name.clone())
    };
    let page = PatternsPage {
        name: data.account.name.clone(),
        href: format!("/accounts/{account}"),
        months: p
            .won_by_month
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(i, n)| (MONTHS[i], *n))
            .collect(),
        decision_months: p
            .decision_months
            .iter()
            .map(|m| MONTHS[*m as usize - 1])
            .collect::<Vec<_>>()
            .join(", "),
        presence: p
            .presence
            .iter()
            .map(|x| {
                (
                    x.label.clone(),
                    format!("{} of {}", x.won_with, x.won),
                    format!("{} of {}", x.lost_with, x.lost),
                    x.by_stage
                        .and_then(|s| state.deals.stages.get(s))
                        .map(|s| s.name.clone())
                        .unwrap_or_default(),
                    if x.typical_of_wins { "yes" } else { "" },
                )
            })
            .collect(),
        coverage: p
            .stage_coverage
            .iter()
            .map(|c| {
                (
                    c.stage.clone(),
                    median(c.won_median_contacts, c.won_n),
                    median(c.lost_median_contacts, c.lost_n),
                )
            })
            .collect(),
        evaluators: p
            .evaluators
            .iter()
            .map(|e| {
                (
                    format!("/people/{}", e.person),
                    name_of(&e.person),
                    e.role.map(|r| r.label().to_owned()).unwrap_or_default(),
                    format!("{} of {} deals", e.deals, e.of),
                )
            })
            .collect(),
        p,
    };
    render(&page)
}
