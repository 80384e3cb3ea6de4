//! The JSON API under `/api/v1`: enrichment for other CRMs, accounts,
//! people, and writes (interactions, assessments). Every route is declared
//! with `utoipa` so `/api/v1/openapi.json` is generated from this code.
//!
//! Cross-cutting behaviour: bearer tokens ([`extract::ReadAccess`],
//! [`extract::WriteAccess`]), problem+json errors, `ETag`/`If-None-Match` on
//! reads ([`etag`]), `Idempotency-Key` on writes ([`handlers`]).

pub mod deals;
pub mod dto;
pub mod extract;
pub mod handlers;
pub mod patterns;
pub mod plans;
pub mod privacy;
pub mod service;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppError, AppState};

/// Largest enrichment batch and write batch.
pub const MAX_BATCH: usize = 1000;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "renmai API",
        description = "Relationship intelligence for key-account sales: enrich contacts of another CRM \
                       with our closeness, influence, buying role and the account's coverage; read \
                       accounts, stakeholders, warm paths and next approaches; log interactions and \
                       assessments. Every score carries its `as_of` and its evidence. Errors are RFC 9457 \
                       problem details (`application/problem+json`). Any call may answer 503 when the \
                       database server (Neo4j) does not answer within the configured timeout; its `detail` \
                       names the server and what timed out, and `Retry-After` says when to try again.",
        license(name = "Apache-2.0")
    ),
    servers((url = "/api/v1")),
    components(schemas(crate::web::error::Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "enrich", description = "Enrichment of other CRMs' contacts"),
        (name = "accounts", description = "Accounts and their scores"),
        (name = "people", description = "People and their ties"),
        (name = "writes", description = "Logging interactions and assessments"),
        (name = "deals", description = "Deals (TAS+) and management reports"),
        (name = "service", description = "Service cases (CSM), leads from service, sales support (MCI)"),
        (name = "meta", description = "This document")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `renmai token create --name NAME --scope read|write \
                         [--user USER]`; write tokens can also read. A token carries its user's \
                         rights: accounts the user may not see answer 404, as if missing.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The router and the OpenAPI document it was built with.
pub fn router_and_doc() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let reads = OpenApiRouter::new()
        .routes(routes!(handlers::list_accounts))
        .routes(routes!(handlers::get_account))
        .routes(routes!(handlers::account_stakeholders))
        .routes(routes!(handlers::account_coverage))
        .routes(routes!(handlers::account_next_approaches))
        .routes(routes!(handlers::account_paths))
        .routes(routes!(handlers::get_person))
        .routes(routes!(plans::get_plan))
        .routes(routes!(deals::list_deals))
        .routes(routes!(deals::get_deal))
        .routes(routes!(deals::get_report))
        .routes(routes!(deals::get_report_csv))
        .routes(routes!(service::get_leads))
        .routes(routes!(patterns::get_patterns))
        .routes(routes!(service::get_support_load))
        .layer(axum::middleware::from_fn(etag));
    let (router, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(reads)
        .routes(routes!(handlers::enrich))
        .routes(routes!(handlers::log_interaction))
        .routes(routes!(handlers::log_interactions_batch))
        .routes(routes!(handlers::record_assessment))
        .routes(routes!(privacy::forget_person))
        .routes(routes!(plans::save_snapshot))
        .routes(routes!(plans::put_objective))
        .routes(routes!(plans::put_action))
        .routes(routes!(handlers::openapi_json))
        .split_for_parts();
    (router, doc)
}

/// The generated document (what `/api/v1/openapi.json` serves).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = router_and_doc();
    // The document of the handler that serves it is generated too.
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    doc
}

pub fn routes() -> Router<AppState> {
    let (router, _) = router_and_doc();
    let doc = Arc::new(
        serde_json::to_string_pretty(&openapi()).expect("the OpenAPI document serializes"),
    );
    router
        .layer(axum::Extension(OpenApiText(doc)))
        .fallback(not_found)
}

/// The serialized document, shared by requests.
#[derive(Clone)]
pub struct OpenApiText(pub Arc<String>);

async fn not_found(method: Method, uri: axum::http::Uri) -> AppError {
    AppError::NotFound(format!(
        "no API route {method} {}; see /api/v1/openapi.json for the routes",
        uri.path()
    ))
}

/// `ETag` (a hash of the body) on successful reads, and 304 when the
/// client's `If-None-Match` already has it: a CRM syncing often pays for
/// unchanged scores with a header only.
pub async fn etag(req: Request, next: Next) -> Response {
    let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(req).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return AppError::Internal("the response body could not be read".into()).into_response();
    };
    let tag = format!("\"{}\"", &crate::auth::sha256_hex(&bytes)[..32]);
    let tag_value = HeaderValue::from_str(&tag).expect("hex is a valid header");
    let matches = if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == tag || t == "*")
        });
    if matches {
        let mut r = StatusCode::NOT_MODIFIED.into_response();
        r.headers_mut().insert(header::ETAG, tag_value);
        return r;
    }
    parts.headers.insert(header::ETAG, tag_value);
    Response::from_parts(parts, Body::from(bytes))
}
