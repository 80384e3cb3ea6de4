//! Extractors of the JSON API that answer bad input with problem details:
//! bearer-token access, JSON bodies (field paths via `serde_path_to_error`),
//! query strings and the `Idempotency-Key` header.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use std::sync::Arc;

use crate::access::Viewer;
use crate::auth::{self, ApiToken, TokenScope};
use crate::web::{AppError, AppState};

/// The caller's token, checked to allow reads.
pub struct ReadAccess(pub ApiToken);
/// The caller's token, checked to allow writes.
pub struct WriteAccess(pub ApiToken);

/// The caller's token, from the viewer `crate::web::access::authenticate`
/// resolved (401 happened there), checked to allow `needed`.
fn authorize(parts: &Parts, needed: TokenScope) -> Result<ApiToken, AppError> {
    let token = parts
        .extensions
        .get::<Arc<Viewer>>()
        .and_then(|v| v.token.clone())
        .ok_or_else(|| {
            AppError::Unauthorized(
                "this call needs an API token: send `Authorization: Bearer <token>` (create one with `renmai token create`)".into(),
            )
        })?;
    if !token.scope.allows(needed) {
        return Err(AppError::Forbidden(format!(
            "token {:?} has scope {}; this call needs a {} token (`renmai token create --scope {}`)",
            token.name, token.scope, needed, needed
        )));
    }
    Ok(token)
}

impl FromRequestParts<AppState> for ReadAccess {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, AppError> {
        authorize(parts, TokenScope::Read).map(ReadAccess)
    }
}

impl FromRequestParts<AppState> for WriteAccess {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, AppError> {
        authorize(parts, TokenScope::Write).map(WriteAccess)
    }
}

/// A JSON body: 415 without a JSON content type, 413 over the body limit,
/// 400 when it is not JSON, 422 naming the field when a field is wrong.
/// Keeps the SHA-256 of the raw body for idempotency keys.
pub struct ApiJson<T> {
    pub value: T,
    pub body_hash: String,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(req.headers()) {
            return Err(AppError::UnsupportedMediaType(
                "send the body as JSON with `Content-Type: application/json`".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(format!(
                    "the body is larger than {} bytes; send fewer records per call",
                    crate::web::BODY_LIMIT
                ))
            } else {
                AppError::BadRequest(format!("the body could not be read: {e}"))
            }
        })?;
        let body_hash = auth::sha256_hex(&bytes);
        let value = parse_json(&bytes)?;
        Ok(ApiJson { value, body_hash })
    }
}

/// Parses JSON with the path of the offending field in the error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => AppError::Unprocessable {
                detail: if path == "." {
                    format!("the body does not match the expected shape: {inner}")
                } else {
                    format!("field `{path}`: {inner}")
                },
                field: (path != ".").then_some(path),
            },
            _ => AppError::BadRequest(format!("the body is not valid JSON: {inner}")),
        }
    })?;
    de.end()
        .map_err(|e| AppError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// A query string: 422 naming what is wrong.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let q = parts.uri.query().unwrap_or("");
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|axum::extract::Query(v)| ApiQuery(v))
            .map_err(|e| AppError::Unprocessable {
                detail: format!("query string {q:?}: {}", e.body_text()),
                field: None,
            })
    }
}

/// The optional `Idempotency-Key` header: 1 to 255 visible ASCII characters.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let Some(v) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let bad = || {
            AppError::Unprocessable {
            detail: "header Idempotency-Key: use 1 to 255 visible ASCII characters (a UUID is a good key)".into(),
            field: Some("Idempotency-Key".into()),
        }
        };
        let s = v.to_str().map_err(|_| bad())?.trim();
        if s.is_empty() || s.len() > 255 || !s.chars().all(|c| c.is_ascii_graphic()) {
            return Err(bad());
        }
        Ok(IdempotencyKey(Some(s.to_owned())))
    }
}
