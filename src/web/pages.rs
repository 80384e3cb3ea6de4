//! Server-rendered pages (askama templates in `templates/`).

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use super::{AppError, AppState};
use crate::humanize;
use crate::store::AccountSummary;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(index))
}

fn render(t: &impl Template) -> Result<Html<String>, AppError> {
    t.render()
        .map(Html)
        .map_err(|e| AppError::Internal(format!("template: {e}")))
}

pub struct AccountRow {
    pub a: AccountSummary,
    pub last: String,
}

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage {
    accounts: Vec<AccountRow>,
}

async fn index(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let now = chrono::Utc::now();
    let accounts = state
        .store()
        .accounts()
        .await?
        .into_iter()
        .map(|a| AccountRow {
            last: a
                .last_interaction
                .map(|t| humanize::ago(t, now.into()))
                .unwrap_or_else(|| "never".into()),
            a,
        })
        .collect();
    render(&IndexPage { accounts })
}
