//! Account plan pages: the plan, its history, and its exports
//! (`plan.md`, `plan.json`, printable `plan/print`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use renmai_graph::plan::{AccountPlan, ActionStatus};
use renmai_graph::{OrgId, Timestamp};
use serde::Deserialize;

use super::{AppError, AppState};
use crate::humanize::percent;
use crate::plan::{
    HistoryPoint, Names, PlanDocument, changes, diff_lines, history, markdown, printable,
    what_if_lines,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts/{id}/plan", get(plan_page))
        .route(
            "/accounts/{id}/plan/actions/{action}",
            axum::routing::post(decide_action),
        )
        .route(
            "/accounts/{id}/plan/snapshots",
            axum::routing::post(save_snapshot),
        )
        .route("/accounts/{id}/plan/history", get(history_page))
        .route("/accounts/{id}/plan/print", get(print))
        .route("/accounts/{id}/plan.md", get(plan_md))
        .route("/accounts/{id}/plan.json", get(plan_json))
}

#[derive(Deserialize)]
pub struct AsOf {
    as_of: Option<String>,
    /// "What if this person leaves?"
    without: Option<String>,
}

fn parse_account(id: &str) -> Result<OrgId, AppError> {
    OrgId::parse(id).map_err(|e| AppError::NotFound(format!("no account {id:?}: {e}")))
}

fn parse_as_of(q: &AsOf) -> Result<Option<Timestamp>, AppError> {
    q.as_of
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(Timestamp::parse)
        .transpose()
        .map_err(|e| AppError::BadRequest(format!("as_of: {e}")))
}

async fn load(
    state: &AppState,
    id: &str,
    q: &AsOf,
) -> Result<
    (
        std::sync::Arc<renmai_graph::AccountData>,
        AccountPlan,
        Vec<AccountPlan>,
    ),
    AppError,
> {
    let account = parse_account(id)?;
    let (data, plan) = state
        .engine
        .plan(&account, parse_as_of(q)?)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no customer account with id {account}")))?;
    let snapshots = state.store().snapshots(&account).await?;
    Ok((data, plan, snapshots))
}

pub struct ActionLine {
    pub id: String,
    pub open: bool,
    pub status: String,
    pub kind: String,
    pub whom: String,
    pub whom_id: String,
    pub through: String,
    pub how: String,
    pub owner: String,
    pub due: String,
    pub why: String,
}

pub struct ObjectiveLine {
    pub text: String,
    pub due: String,
    pub state: String,
    pub now: String,
}

pub struct DealLine {
    pub name: String,
    pub stage: String,
    pub chain: Vec<String>,
    pub missing: String,
}

#[derive(Template)]
#[template(path = "plan.html")]
struct PlanPage {
    account_id: String,
    account_name: String,
    as_of: String,
    index: String,
    relationship: String,
    solution: String,
    price: String,
    coverage: String,
    parts: Vec<(String, String, String, String)>,
    risks: Vec<String>,
    actions: Vec<ActionLine>,
    objectives: Vec<ObjectiveLine>,
    deals: Vec<DealLine>,
    changes: Vec<String>,
    snapshots: usize,
    people: Vec<(String, String)>,
    csrf: String,
    without: String,
    what_if_name: String,
    what_if: Vec<String>,
}

fn rolled(r: &renmai_graph::plan::RolledUp) -> String {
    match r.value {
        Some(v) => format!("{} · {} assessed", percent(v), r.assessed),
        None => "not assessed".into(),
    }
}

async fn plan_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AsOf>,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let (csrf, cookie) = crate::web::pages::form_token(&headers);
    let (data, plan, snapshots) = load(&state, &id, &q).await?;
    let names = Names::of(&data);
    let without = q.without.as_deref().filter(|s| !s.is_empty());
    let what_if = match without {
        Some(p) => {
            let person = renmai_graph::PersonId::parse(p)
                .map_err(|e| AppError::BadRequest(format!("without: {e}")))?;
            if !data
                .people
                .iter()
                .chain(&data.our_people)
                .any(|x| x.id == person)
            {
                return Err(AppError::BadRequest(format!(
                    "without: {p} is neither a stakeholder of this account nor one of our people on it"
                )));
            }
            state
                .engine
                .what_if_leaves(&data.account.id, &person, Some(plan.as_of))
                .await?
        }
        None => None,
    };
    let mut people: Vec<(String, String)> = data
        .our_people
        .iter()
        .chain(&data.people)
        .map(|p| (p.id.to_string(), p.name.clone()))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    let risks = crate::plan::risk_lines(&plan, &names);
    let page = PlanPage {
        account_id: data.account.id.to_string(),
        account_name: data.account.name.clone(),
        as_of: plan.as_of.to_rfc3339(),
        index: percent(plan.relationship_index),
        relationship: rolled(&plan.acceptances.relationship),
        solution: rolled(&plan.acceptances.solution),
        price: rolled(&plan.acceptances.price),
        coverage: percent(plan.coverage),
        parts: plan
            .index_parts
            .iter()
            .take(8)
            .map(|p| {
                (
                    names.get(&p.person),
                    format!("{:.2}", p.influence),
                    format!("{:.2}", p.closeness),
                    format!("{:.3}", p.contribution),
                )
            })
            .collect(),
        risks,
        actions: plan
            .actions
            .iter()
            .map(|a| ActionLine {
                id: a.id.clone(),
                open: matches!(a.status, ActionStatus::Suggested | ActionStatus::Accepted),
                status: format!("{:?}", a.status).to_lowercase(),
                kind: a.kind.as_str().replace('_', " "),
                whom: names.get(&a.whom),
                whom_id: a.whom.to_string(),
                through: names.opt(&a.through),
                how: a.interaction.to_string(),
                owner: names.opt(&a.owner),
                due: a.due.to_string(),
                why: a.why.clone(),
            })
            .collect(),
        objectives: plan
            .objectives
            .iter()
            .map(|o| ObjectiveLine {
                text: o.objective.text.clone(),
                due: o.objective.due.to_string(),
                state: if o.met {
                    "met".into()
                } else if o.overdue {
                    "overdue".into()
                } else {
                    format!("{} days left", o.days_left)
                },
                now: o
                    .current_level
                    .map(|l| l.name().to_owned())
                    .unwrap_or_else(|| "—".into()),
            })
            .collect(),
        deals: plan
            .open_deals
            .iter()
            .map(|d| DealLine {
                name: d.name.clone(),
                stage: d.stage.clone().unwrap_or_else(|| "no stage".into()),
                chain: d
                    .decision_chain
                    .iter()
                    .map(|c| {
                        format!(
                            "{} — {}, {}, solution {}/4, price {}/4, closeness {}",
                            names.get(&c.person),
                            c.role.map(|r| r.label()).unwrap_or("no role"),
                            c.attitude.map(|a| a.as_str()).unwrap_or("attitude unknown"),
                            c.solution_acceptance
                                .map(|x| x.to_string())
                                .unwrap_or_else(|| "?".into()),
                            c.price_acceptance
                                .map(|x| x.to_string())
                                .unwrap_or_else(|| "?".into()),
                            percent(c.closeness)
                        )
                    })
                    .collect(),
                missing: d
                    .roles_missing
                    .iter()
                    .map(|r| r.label())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        changes: changes(&plan, &snapshots)
            .map(|d| diff_lines(&d, &names))
            .unwrap_or_default(),
        snapshots: snapshots.len(),
        people,
        csrf,
        without: without.unwrap_or_default().to_owned(),
        what_if_name: what_if
            .as_ref()
            .map(|w| names.get(&w.person))
            .unwrap_or_default(),
        what_if: what_if
            .as_ref()
            .map(|w| what_if_lines(w, &names))
            .unwrap_or_default(),
    };
    let html = page
        .render()
        .map_err(|e| AppError::Internal(format!("template: {e}")))?;
    let mut resp = Html(html).into_response();
    if let Some(c) = cookie {
        resp.headers_mut().insert(
            header::SET_COOKIE,
            c.parse().map_err(|_| AppError::Internal("cookie".into()))?,
        );
    }
    Ok(resp)
}

/// A form's fields, URL-encoded.
fn form_fields(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::BadRequest(format!("the form body is not URL-encoded: {e}")))
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn back_to(path: String) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, path)]).into_response()
}

/// Accept, close or dismiss an action from the plan page (CSRF-protected).
async fn decide_action(
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let fields = form_fields(&body)?;
    if let Err(why) =
        crate::web::pages::csrf::check(&headers, field(&fields, crate::web::pages::csrf::FIELD))
    {
        return Ok(crate::web::pages::forbidden(why));
    }
    let account = parse_account(&id)?;
    let status = match field(&fields, "status") {
        Some("accepted") => ActionStatus::Accepted,
        Some("done") => ActionStatus::Done,
        Some("dismissed") => ActionStatus::Dismissed,
        other => {
            return Err(AppError::Unprocessable {
                detail: format!("status: expected accepted, done or dismissed, got {other:?}"),
                field: Some("status".into()),
            });
        }
    };
    let (_, plan) = state
        .engine
        .plan(&account, None)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no customer account with id {account}")))?;
    let mut a = plan
        .actions
        .into_iter()
        .find(|a| a.id == action)
        .ok_or_else(|| {
            AppError::NotFound(format!("the plan of {account} has no action {action:?}"))
        })?;
    a.status = status;
    state
        .store()
        .save_plan_item(&account, crate::store::PlanItem::Action(a))
        .await?;
    Ok(back_to(format!("/accounts/{}/plan#actions", account)))
}

/// Save a dated snapshot from the plan page (CSRF-protected).
async fn save_snapshot(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, AppError> {
    let fields = form_fields(&body)?;
    if let Err(why) =
        crate::web::pages::csrf::check(&headers, field(&fields, crate::web::pages::csrf::FIELD))
    {
        return Ok(crate::web::pages::forbidden(why));
    }
    let account = parse_account(&id)?;
    let (_, plan) = state
        .engine
        .plan(&account, None)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no customer account with id {account}")))?;
    state.store().save_snapshot(&plan).await?;
    Ok(back_to(format!("/accounts/{}/plan/history", account)))
}

#[derive(Template)]
#[template(path = "plan_history.html")]
struct HistoryPage {
    account_id: String,
    account_name: String,
    points: Vec<HistoryPoint>,
    changes: Vec<String>,
    spark: String,
}

/// An inline SVG polyline of the index over the snapshots.
fn sparkline(points: &[HistoryPoint]) -> String {
    if points.len() < 2 {
        return String::new();
    }
    let (w, h) = (240.0, 40.0);
    let step = w / (points.len() - 1) as f64;
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                h - p.relationship_index.clamp(0.0, 1.0) * h
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn history_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AsOf>,
) -> Result<Html<String>, AppError> {
    let (data, plan, snapshots) = load(&state, &id, &q).await?;
    let names = Names::of(&data);
    let points = history(&snapshots);
    let page = HistoryPage {
        account_id: data.account.id.to_string(),
        account_name: data.account.name.clone(),
        spark: sparkline(&points),
        points,
        changes: changes(&plan, &snapshots)
            .map(|d| diff_lines(&d, &names))
            .unwrap_or_default(),
    };
    page.render()
        .map(Html)
        .map_err(|e| AppError::Internal(format!("template: {e}")))
}

async fn print(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AsOf>,
) -> Result<Html<String>, AppError> {
    let (data, plan, snapshots) = load(&state, &id, &q).await?;
    audit_view(&state, &id, "print").await?;
    printable(&plan, &data, &Names::of(&data), &snapshots)
        .map(Html)
        .map_err(|e| AppError::Internal(format!("template: {e}")))
}

/// Plan exports are logged as views by the signed-in user (`page:NAME`).
async fn audit_view(state: &AppState, account: &str, what: &str) -> Result<(), AppError> {
    crate::web::api::privacy::audit_export_view(
        state.store().as_ref(),
        &crate::access::page_actor(),
        &format!("account {account} {what}"),
    )
    .await
}

async fn plan_md(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AsOf>,
) -> Result<Response, AppError> {
    let (data, plan, snapshots) = load(&state, &id, &q).await?;
    audit_view(&state, &id, "plan.md").await?;
    let md = markdown(&plan, &data.account.name, &Names::of(&data), &snapshots);
    Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], md).into_response())
}

async fn plan_json(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AsOf>,
) -> Result<Response, AppError> {
    let (_, plan, snapshots) = load(&state, &id, &q).await?;
    audit_view(&state, &id, "plan.json").await?;
    let doc = PlanDocument {
        plan: &plan,
        history: history(&snapshots),
        changes_since_last_snapshot: changes(&plan, &snapshots),
    };
    Ok(
        axum::Json(serde_json::to_value(&doc).map_err(|e| AppError::Internal(e.to_string()))?)
            .into_response(),
    )
}
