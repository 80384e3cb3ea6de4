//! API tokens: bearer secrets for other CRMs calling the JSON API.
//!
//! A token is `rm_` followed by 64 hex digits (32 random bytes from the OS
//! generator). Only its SHA-256 is stored: a stolen database does not leak
//! usable tokens, and because the secret has 256 bits of entropy a plain
//! (unsalted, fast) hash is enough — there is nothing to brute-force.

use std::fmt;
use std::str::FromStr;

use renmai_graph::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// What a token may do. `write` includes `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    Read,
    Write,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
        }
    }

    /// Whether a token of this scope may make a call that needs `needed`.
    pub fn allows(self, needed: TokenScope) -> bool {
        self >= needed
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(TokenScope::Read),
            "write" => Ok(TokenScope::Write),
            _ => Err(format!("scope must be read or write, not {s:?}")),
        }
    }
}

/// A stored token (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub name: String,
    pub scope: TokenScope,
    pub created_at: Timestamp,
    /// The user whose rights the token carries; `None` for an operator
    /// token (made with `renmai token create` without `--user`), which
    /// acts as an admin.
    pub owner: Option<String>,
}

/// Prefix of every token, so a leaked one is recognizable in logs and scanners.
pub const TOKEN_PREFIX: &str = "rm_";

/// A fresh random token.
pub fn generate_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("{TOKEN_PREFIX}{}", hex(&bytes))
}

/// SHA-256 of the token, lower-case hex: what the store keeps.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// SHA-256 of arbitrary bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Token names: 1..=64 characters of letters, digits, `-`, `_`, `.`.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 64 {
        return Err("a token name has 1 to 64 characters".into());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "token name {name:?}: use letters, digits, '-', '_' or '.'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 3 + 64);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn write_allows_read_but_not_the_reverse() {
        assert!(TokenScope::Write.allows(TokenScope::Read));
        assert!(!TokenScope::Read.allows(TokenScope::Write));
        assert_eq!("WRITE".parse::<TokenScope>(), Ok(TokenScope::Write));
        assert!("admin".parse::<TokenScope>().is_err());
    }
}
