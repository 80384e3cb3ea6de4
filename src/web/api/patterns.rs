//! Project behaviour patterns (PBM) in the API.

use axum::Json;
use axum::extract::{Path, State};
use renmai_graph::patterns::AccountPatterns;

use super::extract::ReadAccess;
use super::handlers::{CommonErrors, NotFound, NotModified, org_id};
use crate::web::{AppError, AppState};

/// The account's buying patterns from its closed deals (time per stage,
/// decision months, roles and levels in won vs lost deals, chain size per
/// stage, typical evaluators) with counts, and warnings on open deals that
/// depart from them; a warning about a missing role or level lists who
/// holds it (`holders`) with our closeness and best connector. Nothing is
/// inferred from fewer than 3 closed deals.
#[utoipa::path(get, path = "/accounts/{id}/patterns", tag = "accounts",
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann")),
    responses((status = 200, description = "The patterns", body = Object, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn get_patterns(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path(id): Path<String>,
) -> Result<Json<AccountPatterns>, AppError> {
    let id = org_id(&id)?;
    let data = state
        .engine
        .account_data(&id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no customer account {id:?}")))?;
    Ok(Json(
        crate::patterns::patterns(&state.engine, &state.deals, &data).await?,
    ))
}
