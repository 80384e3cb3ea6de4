//! Password hashes (argon2id, the crate's default parameters) and the
//! random secrets of sessions and first-run passwords.

use argon2::{Argon2, PasswordHasher, PasswordVerifier};

/// Shortest password `renmai user add` accepts.
pub const MIN_LENGTH: usize = 10;

/// The PHC string of `password` under a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing the password failed: {e}"))
}

/// Whether `password` matches the stored PHC string (false when the string
/// is unreadable).
pub fn verify(password: &str, stored: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

/// A hash no password matches, verified against when the user does not
/// exist so that an unknown name takes as long as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash(&random_secret(16)).expect("argon2 hashes"))
}

/// Why `password` is too weak to accept, if it is.
pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LENGTH {
        return Err(format!("a password has at least {MIN_LENGTH} characters"));
    }
    Ok(())
}

/// `n` random bytes from the OS as lower-case hex.
pub fn random_secret(n: usize) -> String {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("correct horse batterz", &h));
        assert!(!verify("anything", "not a hash"));
        assert_ne!(h, hash("correct horse battery").unwrap(), "salted");
        assert!(!verify("", dummy_hash()));
        assert!(check_strength("short").is_err());
        assert!(check_strength("long enough!").is_ok());
    }
}
