//! The pages' forms (login, logout, plan decisions and snapshots, logging
//! interactions and assessments) take what a browser's `<form>` sends:
//! URL-encoded fields. Anything else, or a form missing a field, is
//! answered with problem+json naming what was expected, never with a
//! framework's plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::AppError;

/// The content type of every page form.
pub const FORM_TYPE: &str = "application/x-www-form-urlencoded";

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case(FORM_TYPE))
}

/// A 415 for a write to a page (anything outside `/api/v1`) that is not
/// URL-encoded, before any handler reads it, so every page form, present
/// and future, gets the same clear answer. Called by
/// `access::authenticate` (a check, not a middleware of its own: each
/// middleware layer costs stack on every request).
pub fn refuse_unless_form(req: &Request) -> Option<Response> {
    let path = req.uri().path();
    let is_api = path == "/api/v1" || path.starts_with("/api/v1/");
    let reads = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if is_api || reads || is_form(req.headers()) {
        return None;
    }
    let got = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| format!("`{}`", v.to_str().unwrap_or("(unreadable)")))
        .unwrap_or_else(|| "no Content-Type".into());
    Some(
        AppError::UnsupportedMediaType(format!(
            "{} {path} is a page form: send its fields URL-encoded with `Content-Type: {FORM_TYPE}` (what a browser's form sends), not {got}; the JSON API is under /api/v1",
            req.method()
        ))
        .into_response(),
    )
}

/// What a form's fields are, for the message when one is missing or wrong.
pub trait FormFields {
    /// E.g. "name, password, csrf (the token of the login page) and next (optional)".
    const EXPECTED: &'static str;
}

/// A URL-encoded form decoded into `T`: 415 when it is not URL-encoded,
/// 413 over the body limit, 422 naming the missing or wrong field and
/// every field the form takes.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned + FormFields, S: Send + Sync> FromRequest<S> for PageForm<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !is_form(req.headers()) {
            return Err(AppError::UnsupportedMediaType(format!(
                "send the form's fields ({}) URL-encoded with `Content-Type: {FORM_TYPE}`",
                T::EXPECTED
            )));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(format!(
                    "the form is larger than {} bytes",
                    super::BODY_LIMIT
                ))
            } else {
                AppError::BadRequest(format!("the form could not be read: {e}"))
            }
        })?;
        serde_urlencoded::from_bytes(&bytes)
            .map(PageForm)
            .map_err(|e| AppError::Unprocessable {
                detail: format!(
                    "the form is not what was expected: {e}; it takes {}",
                    T::EXPECTED
                ),
                field: missing_field(&e.to_string()),
            })
    }
}

/// The field serde names in "missing field `x`".
fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_missing_field_is_named() {
        assert_eq!(
            missing_field("missing field `password`").as_deref(),
            Some("password")
        );
        assert_eq!(missing_field("invalid type: string"), None);
    }
}
