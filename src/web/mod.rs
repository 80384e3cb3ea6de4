//! The HTTP server: JSON API under `/api/v1` and server-rendered pages.
//! `app(state)` builds the router so tests can call it with `oneshot`.

pub mod access;
pub mod api;
pub mod assets;
pub mod deal_pages;
pub mod error;
pub mod forms;
pub mod limits;
pub mod pages;
pub mod plan_pages;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use renmai_graph::{DealConfig, ScoringConfig};

use crate::engine::Engine;
use crate::store::Store;

pub use error::AppError;

/// What every handler can reach: the engine (store, scores, caches) and
/// the sign-in settings.
#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    /// Deal stages and amount bands (`[deals]`), for deal pages and reports.
    pub deals: Arc<DealConfig>,
    pub access: Arc<access::AccessConfig>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, scoring: ScoringConfig) -> AppState {
        AppState {
            engine: Arc::new(Engine::new(store, scoring)),
            deals: Arc::new(DealConfig::default()),
            access: Arc::new(access::AccessConfig::default()),
        }
    }

    /// Uses a configured stage list and amount bands in place of the defaults.
    pub fn with_deals(mut self, deals: DealConfig) -> AppState {
        self.deals = Arc::new(deals);
        self
    }

    /// The same state with other sign-in settings.
    pub fn with_access(mut self, config: access::AccessConfig) -> AppState {
        self.access = Arc::new(config);
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        self.engine.store()
    }
}

/// Largest request body accepted (a 1,000-record enrichment batch fits easily).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Every request is authenticated by one middleware ([`access::authenticate`])
/// and runs as its viewer; every response gets the security headers.
pub fn app(state: AppState) -> Router {
    let timeout = state.access.request_timeout();
    Router::new()
        .route("/healthz", get(healthz))
        .merge(access::routes())
        .merge(pages::routes())
        .merge(plan_pages::routes())
        .merge(deal_pages::routes())
        .nest("/api/v1", api::routes())
        .merge(assets::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access::authenticate,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(tower::util::MapResponseLayer::new(limits::timeout_problem(
            timeout,
        )))
        .layer(axum::middleware::from_fn(access::security_headers))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<&'static str, AppError> {
    state.store().stats().await?;
    Ok("ok")
}
