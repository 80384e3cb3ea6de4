//! The time limit of every request (`[access] request_timeout_seconds`):
//! a request still running then, typically a client that sent its headers
//! and then stalled on the body, is answered 408 problem+json and its
//! connection freed, so a slow or stuck client cannot hold the server.
//!
//! tower-http's timeout layer does the timing; its answer (a bare 408) is
//! rewritten here by a plain response mapping rather than a middleware of
//! our own, which would add ~20 KB of stack to every request in debug
//! builds (deep Neo4j reads already come close to a test thread's 2 MiB).

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppError;

/// Rewrites the timeout layer's bare 408 as problem+json naming the limit.
pub fn timeout_problem(limit: Duration) -> impl Fn(Response) -> Response + Clone {
    move |resp: Response| {
        if resp.status() != StatusCode::REQUEST_TIMEOUT
            || resp.headers().contains_key(header::CONTENT_TYPE)
        {
            return resp;
        }
        tracing::warn!(seconds = limit.as_secs(), "request timed out");
        AppError::RequestTimeout(format!(
            "the request did not complete within {} s (the server's `[access] request_timeout_seconds`): send the whole body without pausing, or fewer records per call",
            limit.as_secs()
        ))
        .into_response()
    }
}
