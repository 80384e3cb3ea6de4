//! CSRF protection of the pages' forms: a signed double-submit token.
//!
//! Each browser gets a random nonce in an `HttpOnly; SameSite=Strict` cookie;
//! every form carries `HMAC-SHA256(process secret, nonce)` in a hidden field.
//! A POST is accepted only when the cookie's nonce and the field's MAC agree
//! (checked in constant time) and, when the browser sends `Origin`, it names
//! this host. Signing the nonce (rather than comparing cookie and field as
//! plain equals) means a cookie planted by a sibling subdomain cannot be
//! paired with a field the attacker chose. The secret lives in the process,
//! so a restart invalidates open forms: the user gets a clear 403 and reloads.

use std::sync::OnceLock;

use axum::http::{HeaderMap, header};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Name of the cookie holding the nonce.
pub const COOKIE: &str = "renmai_csrf";
/// Name of the hidden form field holding the MAC.
pub const FIELD: &str = "csrf";

fn secret() -> &'static [u8; 32] {
    static SECRET: OnceLock<[u8; 32]> = OnceLock::new();
    SECRET.get_or_init(|| {
        let mut s = [0u8; 32];
        getrandom::fill(&mut s).expect("the OS random source is available");
        s
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn mac(nonce: &str) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret()).expect("HMAC takes any key length");
    m.update(nonce.as_bytes());
    m
}

/// The token a form must carry for `nonce`.
pub fn token_for(nonce: &str) -> String {
    hex(&mac(nonce).finalize().into_bytes())
}

/// The nonce in the request's cookie, if it has a well-formed one.
pub fn nonce_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| v.len() == 32 && unhex(v).is_some())
}

/// The browser's nonce, or a fresh one with the `Set-Cookie` value to send.
pub fn ensure_nonce(headers: &HeaderMap) -> (String, Option<String>) {
    if let Some(n) = nonce_from(headers) {
        return (n, None);
    }
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source is available");
    let n = hex(&b);
    let cookie = format!("{COOKIE}={n}; Path=/; HttpOnly; SameSite=Strict");
    (n, Some(cookie))
}

/// Why a POST was refused; the text goes into the 403's `detail`.
pub fn check(headers: &HeaderMap, field: Option<&str>) -> Result<(), String> {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
        if host.is_empty() || origin_host != host {
            return Err(format!(
                "the form was sent from another site ({origin}); open the page on this server and submit it again"
            ));
        }
    }
    let nonce = nonce_from(headers).ok_or_else(|| {
        "the form's security cookie is missing; reload the page and submit it again".to_owned()
    })?;
    let given = field.and_then(unhex).ok_or_else(|| {
        "the form's security token is missing; reload the page and submit it again".to_owned()
    })?;
    mac(&nonce).verify_slice(&given).map_err(|_| {
        "the form's security token does not match (the page may be older than the server); reload the page and submit it again".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(cookie: Option<&str>, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("example.test:8080"));
        if let Some(c) = cookie {
            h.insert(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        if let Some(o) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_str(o).unwrap());
        }
        h
    }

    #[test]
    fn token_round_trip_and_rejections() {
        let (n, cookie) = ensure_nonce(&HeaderMap::new());
        assert!(cookie.unwrap().contains("HttpOnly"));
        let t = token_for(&n);
        let c = format!("a=b; {COOKIE}={n}");
        assert!(
            check(
                &headers(Some(&c), Some("http://example.test:8080")),
                Some(&t)
            )
            .is_ok()
        );
        assert!(check(&headers(Some(&c), None), Some(&t)).is_ok());
        assert!(check(&headers(Some(&c), Some("https://evil.test")), Some(&t)).is_err());
        assert!(check(&headers(None, None), Some(&t)).is_err());
        assert!(check(&headers(Some(&c), None), None).is_err());
        let other = token_for("00000000000000000000000000000000");
        assert!(check(&headers(Some(&c), None), Some(&other)).is_err());
    }
}
