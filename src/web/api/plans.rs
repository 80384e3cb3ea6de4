//! Account plans (ESP+) in the API: read a plan as of a date with its
//! history and what changed, save a snapshot, set objectives, decide actions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use renmai_graph::plan::{AccountPlan, ActionStatus, Objective};
use renmai_graph::{ClosenessLevel, OrgId, PersonId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, ApiQuery, ReadAccess, WriteAccess};
use super::handlers::{
    AsOfQuery, BodyErrors, CommonErrors, NotFound, NotModified, org_id, parse_as_of,
};
use crate::plan::{HistoryPoint, changes, history};
use crate::store::PlanItem;
use crate::web::{AppError, AppState};

/// A plan with its history.
#[derive(Serialize, ToSchema)]
pub struct PlanOut {
    /// The plan: index and parts, the three acceptances, gaps and risks,
    /// actions, objectives, open deals with their decision chains.
    #[schema(value_type = Object)]
    pub plan: AccountPlan,
    pub history: Vec<HistoryPointOut>,
    /// What changed since the last snapshot before the plan's date.
    #[schema(value_type = Option<Object>)]
    pub changes_since_last_snapshot: Option<renmai_graph::plan::PlanDiff>,
}

/// One saved snapshot on the trend line.
#[derive(Serialize, ToSchema)]
pub struct HistoryPointOut {
    pub saved_at: String,
    pub relationship_index: f64,
    pub coverage: f64,
    pub solution_acceptance: Option<f64>,
    pub price_acceptance: Option<f64>,
}

impl From<HistoryPoint> for HistoryPointOut {
    fn from(h: HistoryPoint) -> Self {
        HistoryPointOut {
            saved_at: h.saved_at,
            relationship_index: h.relationship_index,
            coverage: h.coverage,
            solution_acceptance: h.solution_acceptance,
            price_acceptance: h.price_acceptance,
        }
    }
}

/// A saved snapshot.
#[derive(Serialize, ToSchema)]
pub struct SnapshotOut {
    pub account: String,
    pub saved_at: String,
    pub relationship_index: f64,
    pub coverage: f64,
}

/// An objective, e.g. "reach trusted with the CFO by Q2".
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveIn {
    #[schema(example = "reach trusted with the CFO by Q2")]
    pub text: String,
    /// The stakeholder it is about.
    pub person: Option<String>,
    /// The closeness level to reach: 0-4 or stranger, acquainted, familiar, trusted, ally.
    #[schema(example = "trusted")]
    pub target_level: Option<String>,
    /// YYYY-MM-DD.
    #[schema(example = "2026-06-30")]
    pub due: String,
}

/// A decision about a suggested action; fields left out stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionUpdateIn {
    /// accepted, done or dismissed.
    #[schema(example = "accepted")]
    pub status: Option<String>,
    /// One of our people.
    pub owner: Option<String>,
    /// YYYY-MM-DD.
    pub due: Option<String>,
}

fn unprocessable(field: &str, detail: String) -> AppError {
    AppError::Unprocessable {
        detail,
        field: Some(field.into()),
    }
}

fn date(field: &str, s: &str) -> Result<chrono::NaiveDate, AppError> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        unprocessable(
            field,
            format!("field `{field}`: expected a date like 2026-06-30, got {s:?}"),
        )
    })
}

async fn plan_of(
    state: &AppState,
    id: &OrgId,
    as_of: Option<Timestamp>,
) -> Result<(std::sync::Arc<renmai_graph::AccountData>, AccountPlan), AppError> {
    state
        .engine
        .plan(id, as_of)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no customer account {id:?}")))
}

/// The account plan as of a date, with its history and what changed.
#[utoipa::path(get, path = "/accounts/{id}/plan", tag = "plans",
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann"), AsOfQuery),
    responses((status = 200, description = "The plan", body = PlanOut, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn get_plan(
    State(state): State<AppState>,
    ReadAccess(token): ReadAccess,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Json<PlanOut>, AppError> {
    let id = org_id(&id)?;
    let (_, plan) = plan_of(&state, &id, parse_as_of(q.as_of.as_deref())?).await?;
    super::privacy::audit_export_view(
        state.store().as_ref(),
        &format!("api:{}", token.name),
        &format!("account {id} plan (API)"),
    )
    .await?;
    let snapshots = state.store().snapshots(&id).await?;
    Ok(Json(PlanOut {
        history: history(&snapshots)
            .into_iter()
            .map(HistoryPointOut::from)
            .collect(),
        changes_since_last_snapshot: changes(&plan, &snapshots),
        plan,
    }))
}

/// Saves a dated snapshot of the plan (as of now, or `as_of`).
#[utoipa::path(post, path = "/accounts/{id}/plan/snapshots", tag = "plans",
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann"), AsOfQuery),
    responses((status = 201, description = "Saved", body = SnapshotOut), CommonErrors, NotFound))]
pub async fn save_snapshot(
    State(state): State<AppState>,
    _auth: WriteAccess,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Response, AppError> {
    let id = org_id(&id)?;
    let (_, plan) = plan_of(&state, &id, parse_as_of(q.as_of.as_deref())?).await?;
    state.store().save_snapshot(&plan).await?;
    let out = SnapshotOut {
        account: id.to_string(),
        saved_at: plan.as_of.to_rfc3339(),
        relationship_index: plan.relationship_index,
        coverage: plan.coverage,
    };
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// Adds or replaces an objective of the plan.
#[utoipa::path(put, path = "/accounts/{id}/plan/objectives/{objective}", tag = "plans", request_body = ObjectiveIn,
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann"),
           ("objective" = String, Path, description = "The objective's own id", example = "cfo-trusted")),
    responses((status = 200, description = "Saved", body = Object), CommonErrors, BodyErrors, NotFound))]
pub async fn put_objective(
    State(state): State<AppState>,
    _auth: WriteAccess,
    Path((id, objective)): Path<(String, String)>,
    body: ApiJson<ObjectiveIn>,
) -> Result<Json<Objective>, AppError> {
    let id = org_id(&id)?;
    let b = body.value;
    if objective.trim().is_empty() || objective.len() > 100 {
        return Err(unprocessable(
            "objective",
            "path parameter objective: 1 to 100 characters".into(),
        ));
    }
    if b.text.trim().is_empty() {
        return Err(unprocessable(
            "text",
            "field `text`: describe the objective".into(),
        ));
    }
    let person = b
        .person
        .as_deref()
        .map(|p| {
            PersonId::parse(p).map_err(|e| unprocessable("person", format!("field `person`: {e}")))
        })
        .transpose()?;
    let target_level = b
        .target_level
        .as_deref()
        .map(|l| {
            ClosenessLevel::parse(l)
                .map_err(|e| unprocessable("target_level", format!("field `target_level`: {e}")))
        })
        .transpose()?;
    let data = state
        .engine
        .account_data(&id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no customer account {id:?}")))?;
    if let Some(p) = &person
        && !data.people.iter().any(|x| &x.id == p)
    {
        return Err(unprocessable(
            "person",
            format!("field `person`: {p} is not a stakeholder of {id}"),
        ));
    }
    let o = Objective {
        id: objective,
        text: b.text,
        person,
        target_level,
        due: date("due", &b.due)?,
    };
    state
        .store()
        .save_plan_item(&id, PlanItem::Objective(o.clone()))
        .await?;
    Ok(Json(o))
}

/// Accepts, closes or dismisses an action; reassigns it or moves its date.
#[utoipa::path(put, path = "/accounts/{id}/plan/actions/{action}", tag = "plans", request_body = ActionUpdateIn,
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann"),
           ("action" = String, Path, description = "The action's id as the plan shows it", example = "re_engage:lh-004")),
    responses((status = 200, description = "The action as saved", body = Object), CommonErrors, BodyErrors, NotFound))]
pub async fn put_action(
    State(state): State<AppState>,
    _auth: WriteAccess,
    Path((id, action)): Path<(String, String)>,
    body: ApiJson<ActionUpdateIn>,
) -> Result<Json<renmai_graph::plan::Action>, AppError> {
    let id = org_id(&id)?;
    let b = body.value;
    let (data, plan) = plan_of(&state, &id, None).await?;
    let mut a = plan
        .actions
        .into_iter()
        .find(|a| a.id == action)
        .ok_or_else(|| AppError::NotFound(format!("the plan of {id} has no action {action:?}")))?;
    if let Some(s) = &b.status {
        a.status = match s.as_str() {
            "accepted" => ActionStatus::Accepted,
            "done" => ActionStatus::Done,
            "dismissed" => ActionStatus::Dismissed,
            other => {
                return Err(unprocessable(
                    "status",
                    format!("field `status`: expected accepted, done or dismissed, got {other:?}"),
                ));
            }
        };
    }
    if let Some(o) = &b.owner {
        let owner = PersonId::parse(o)
            .map_err(|e| unprocessable("owner", format!("field `owner`: {e}")))?;
        if !data.our_people.iter().any(|p| p.id == owner) {
            return Err(unprocessable(
                "owner",
                format!("field `owner`: {owner} is not one of our people on {id}"),
            ));
        }
        a.owner = Some(owner);
    }
    if let Some(d) = &b.due {
        a.due = date("due", d)?;
    }
    state
        .store()
        .save_plan_item(&id, PlanItem::Action(a.clone()))
        .await?;
    Ok(Json(a))
}
