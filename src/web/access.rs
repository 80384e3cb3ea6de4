//! Who is asking, for every request: one middleware ([`authenticate`])
//! turns a session cookie (pages) or a bearer token (`/api/v1`) into a
//! [`Viewer`], puts it in the request's extensions and runs the rest of the
//! request as that viewer (`crate::access::run_as`), so the stores and the
//! engine filter what it reads. Unauthenticated pages redirect to `/login`;
//! the API answers 401 problem+json. Also the security headers of every
//! response, and the login and logout pages.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};
use renmai_graph::{OrgId, Timestamp};
use serde::Deserialize;

use super::forms::{FormFields, PageForm};
use super::pages::csrf;
use super::{AppError, AppState};
use crate::access::{self, Role, Scope, User, Viewer, password};
use crate::auth;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "renmai_session";

pub use crate::access::AccessConfig;

/// Paths anyone may request: sign-in, health, static files, the API's
/// document.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/login" | "/healthz" | "/api/v1/openapi.json" | "/favicon.ico"
    ) || path.starts_with("/static/")
}

/// The viewer of a signed-in user: an admin sees everything, others what
/// the store says is theirs.
pub async fn viewer_of(
    state: &AppState,
    user: User,
    token: Option<auth::ApiToken>,
) -> Result<Viewer, AppError> {
    let scope = match user.role {
        Role::Admin => Scope::All,
        Role::Manager | Role::Seller => Scope::Accounts(Arc::new(
            state
                .store()
                .visible_accounts(&user.name)
                .await?
                .into_iter()
                .collect(),
        )),
    };
    Ok(Viewer {
        role: user.role,
        user: Some(user),
        scope,
        token,
    })
}

async fn bearer_viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, AppError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| {
            AppError::Unauthorized(
                "this call needs an API token: send `Authorization: Bearer <token>` (create one with `renmai token create`)".into(),
            )
        })?
        .to_str()
        .map_err(|_| AppError::Unauthorized("the Authorization header is not readable text".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            AppError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })?;
    let found = state
        .store()
        .token_by_hash(&auth::hash_token(token))
        .await?
        .ok_or_else(|| {
            AppError::Unauthorized(
                "the API token is unknown or revoked; `renmai token list` shows the live ones"
                    .into(),
            )
        })?;
    let Some(owner) = found.owner.clone() else {
        // An operator token: made by someone with access to the store.
        return Ok(Viewer {
            user: None,
            role: Role::Admin,
            scope: Scope::All,
            token: Some(found),
        });
    };
    let user = state
        .store()
        .login_record(&owner)
        .await?
        .map(|r| r.user)
        .filter(|u| !u.disabled)
        .ok_or_else(|| {
            AppError::Unauthorized(format!(
                "the API token {:?} belongs to user {owner:?}, who is disabled or gone",
                found.name
            ))
        })?;
    viewer_of(state, user, Some(found)).await
}

/// The value of cookie `name`, if the request has one.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

async fn session_viewer(state: &AppState, headers: &HeaderMap) -> Result<Option<Viewer>, AppError> {
    let Some(id) = cookie(headers, SESSION_COOKIE).filter(|v| v.len() == 64) else {
        return Ok(None);
    };
    let now = Timestamp::from_epoch_seconds(chrono::Utc::now().timestamp());
    match state
        .store()
        .session_user(&auth::sha256_hex(id.as_bytes()), now)
        .await?
    {
        Some(user) => Ok(Some(viewer_of(state, user, None).await?)),
        None => Ok(None),
    }
}

/// Percent-decodes one path segment (ids are encoded by `pages::enc`).
fn decode_segment(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The account a path is about: `/accounts/{id}/…`, also under `/api/v1`.
/// Checked here so that any route under an account is covered.
fn account_in_path(path: &str) -> Option<OrgId> {
    let rest = path.strip_prefix("/api/v1").unwrap_or(path);
    let seg = rest.strip_prefix("/accounts/")?.split('/').next()?;
    OrgId::parse(&decode_segment(seg)?).ok()
}

/// Authenticates every request and runs it as its viewer.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if is_public(&path) {
        if let Some(refused) = super::forms::refuse_unless_form(&req) {
            return refused;
        }
        let v = Arc::new(Viewer::anonymous());
        req.extensions_mut().insert(v.clone());
        return access::run_as(v, next.run(req)).await;
    }
    let is_api = path == "/api/v1" || path.starts_with("/api/v1/");
    let viewer = if is_api {
        match bearer_viewer(&state, req.headers()).await {
            Ok(v) => v,
            Err(e) => return e.into_response(),
        }
    } else {
        match session_viewer(&state, req.headers()).await {
            Ok(Some(v)) => v,
            Ok(None) => return to_login(req.method(), req.uri()),
            Err(e) => return e.into_response(),
        }
    };
    if let Some(account) = account_in_path(&path)
        && !viewer.scope.allows(&account)
    {
        return AppError::NotFound(format!("no customer account with id {account}"))
            .into_response();
    }
    if let Some(refused) = super::forms::refuse_unless_form(&req) {
        return refused;
    }
    let viewer = Arc::new(viewer);
    req.extensions_mut().insert(viewer.clone());
    access::run_as(viewer, next.run(req)).await
}

fn to_login(method: &Method, uri: &axum::http::Uri) -> Response {
    let back = if method == Method::GET {
        uri.path_and_query().map_or("/", |p| p.as_str()).to_owned()
    } else {
        "/".to_owned()
    };
    Redirect::to(&format!("/login?next={}", super::pages::enc(&back))).into_response()
}

/// Security headers on every response: a CSP that allows no inline script
/// or style and no framing, no MIME sniffing, no referrer to other sites.
/// The one hash in `style-src` is the fixed stylesheet Cytoscape (the map,
/// `static/vendor/`) injects for its container; nothing else inline runs.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='; \
             img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", get(logout_page).post(logout))
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    name: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    csrf: String,
    name: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Where to go after signing in: a local path only (never another site).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn page(
    status: StatusCode,
    t: &impl Template,
    cookies: impl IntoIterator<Item = String>,
) -> Response {
    let html = match t.render() {
        Ok(h) => h,
        Err(e) => return AppError::Internal(format!("template: {e}")).into_response(),
    };
    let mut resp = (status, Html(html)).into_response();
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

async fn login_page(headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    let (nonce, set) = csrf::ensure_nonce(&headers);
    let t = LoginPage {
        csrf: csrf::token_for(&nonce),
        next: safe_next(q.next.as_deref()),
        name: String::new(),
        error: None,
    };
    page(StatusCode::OK, &t, set)
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    csrf: Option<String>,
    next: Option<String>,
}

impl FormFields for LoginForm {
    const EXPECTED: &'static str =
        "name, password, csrf (the token of the login page) and next (optional, where to go after)";
}

fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.access.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<LoginForm>,
) -> Response {
    if let Err(detail) = csrf::check(&headers, f.csrf.as_deref()) {
        return super::pages::forbidden(detail);
    }
    let (nonce, set) = csrf::ensure_nonce(&headers);
    let next = safe_next(f.next.as_deref());
    let refuse = |status: StatusCode, error: String| {
        let t = LoginPage {
            csrf: csrf::token_for(&nonce),
            next: next.clone(),
            name: f.name.clone(),
            error: Some(error),
        };
        page(status, &t, set.clone())
    };
    let wrong = || {
        refuse(
            StatusCode::UNAUTHORIZED,
            "Wrong user name or password.".into(),
        )
    };
    let now = chrono::Utc::now().timestamp();
    let record = match state.store().login_record(f.name.trim()).await {
        Ok(r) => r,
        Err(e) => return AppError::from(e).into_response(),
    };
    let Some(record) = record else {
        // As slow as a wrong password, so names cannot be probed by time.
        password::verify(&f.password, password::dummy_hash());
        return wrong();
    };
    let name = record.user.name.clone();
    if let Some(until) = record.locked_until
        && until.epoch_seconds() > now
    {
        let minutes = (until.epoch_seconds() - now + 59) / 60;
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins: this user is locked for {minutes} more minute(s). An admin can reset the password with `renmai user password {name}`."
            ),
        );
    }
    let hash = record.password_hash.clone();
    let given = f.password.clone();
    let ok = tokio::task::spawn_blocking(move || password::verify(&given, &hash))
        .await
        .unwrap_or(false);
    if !ok || record.user.disabled {
        if !ok {
            let until =
                Timestamp::from_epoch_seconds(now + 60 * i64::from(state.access.lock_minutes));
            if let Err(e) = state
                .store()
                .login_failed(&name, state.access.lock_after, until)
                .await
            {
                return AppError::from(e).into_response();
            }
            tracing::warn!(user = %name, "failed sign-in");
        }
        return wrong();
    }
    let id = password::random_secret(32);
    let expires = now + 60 * i64::from(state.access.session_minutes);
    let stored = async {
        state.store().login_succeeded(&name).await?;
        state
            .store()
            .create_session(
                &auth::sha256_hex(id.as_bytes()),
                &name,
                Timestamp::from_epoch_seconds(expires),
            )
            .await
    };
    if let Err(e) = stored.await {
        return AppError::from(e).into_response();
    }
    tracing::info!(user = %name, "signed in");
    let cookie = format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        60 * u64::from(state.access.session_minutes),
        if secure(&state, &headers) {
            "; Secure"
        } else {
            ""
        }
    );
    let mut resp = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

async fn logout_page(headers: HeaderMap, Extension(viewer): Extension<Arc<Viewer>>) -> Response {
    let (nonce, set) = csrf::ensure_nonce(&headers);
    let t = LogoutPage {
        csrf: csrf::token_for(&nonce),
        name: viewer.name().to_owned(),
    };
    page(StatusCode::OK, &t, set)
}

#[derive(Deserialize)]
struct LogoutForm {
    csrf: Option<String>,
}

impl FormFields for LogoutForm {
    const EXPECTED: &'static str = "csrf (the token of the logout page)";
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageForm(f): PageForm<LogoutForm>,
) -> Response {
    if let Err(detail) = csrf::check(&headers, f.csrf.as_deref()) {
        return super::pages::forbidden(detail);
    }
    if let Some(id) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state
            .store()
            .delete_session(&auth::sha256_hex(id.as_bytes()))
            .await
    {
        return AppError::from(e).into_response();
    }
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("renmai_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_account_and_next_stays_local() {
        assert_eq!(
            account_in_path("/accounts/acme%2Fx/plan").map(|o| o.to_string()),
            Some("acme/x".into())
        );
        assert_eq!(
            account_in_path("/api/v1/accounts/a1").map(|o| o.to_string()),
            Some("a1".into())
        );
        assert_eq!(account_in_path("/people/p1"), None);
        assert_eq!(safe_next(Some("//evil.test/")), "/");
        assert_eq!(safe_next(Some("https://evil.test/")), "/");
        assert_eq!(safe_next(Some("/accounts/a?x=1")), "/accounts/a?x=1");
    }
}
