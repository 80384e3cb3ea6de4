//! The time limit of every request (`[access] request_timeout_seconds`):
//! a request still running then, typically a client that sent its headers
//! and then stalled on the body, is answered 408 problem+json and its
//! connection freed, so a slow or stuck client cannot hold the server.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppError;

/// Runs the rest of the request within `limit`, or answers 408.
pub async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(%method, %path, seconds = limit.as_secs(), "request timed out");
            AppError::RequestTimeout(format!(
                "{method} {path} did not complete within {} s (the server's `[access] request_timeout_seconds`): send the whole body without pausing, or fewer records per call",
                limit.as_secs()
            ))
            .into_response()
        }
    }
}
