//! The JSON API under `/api/v1`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use super::{AppError, AppState};
use crate::store::AccountSummary;

pub fn routes() -> Router<AppState> {
    Router::new().route("/accounts", get(list_accounts))
}

#[derive(Serialize)]
pub struct AccountList {
    pub accounts: Vec<AccountSummary>,
}

async fn list_accounts(State(state): State<AppState>) -> Result<Json<AccountList>, AppError> {
    let accounts = state.store().accounts().await?;
    Ok(Json(AccountList { accounts }))
}
