//! The HTTP server: JSON API under `/api/v1` and server-rendered pages.
//! `app(state)` builds the router so tests can call it with `oneshot`.

pub mod api;
pub mod assets;
pub mod error;
pub mod pages;
pub mod plan_pages;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use renmai_graph::{DealConfig, ScoringConfig};

use crate::engine::Engine;
use crate::store::Store;

pub use error::AppError;

/// What every handler can reach: the engine (store, scores, caches).
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    /// Deal stages and amount bands (`[deals]`), for deal pages and reports.
    pub deals: Arc<DealConfig>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, scoring: ScoringConfig) -> AppState {
        AppState {
            engine: Arc::new(Engine::new(store, scoring)),
            deals: Arc::new(DealConfig::default()),
        }
    }

    /// Uses a configured stage list and amount bands in place of the defaults.
    pub fn with_deals(mut self, deals: DealConfig) -> AppState {
        self.deals = Arc::new(deals);
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        self.engine.store()
    }
}

/// Largest request body accepted (a 1,000-record enrichment batch fits easily).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(pages::routes())
        .merge(plan_pages::routes())
        .nest("/api/v1", api::routes())
        .merge(assets::routes())
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<&'static str, AppError> {
    state.store().stats().await?;
    Ok("ok")
}
