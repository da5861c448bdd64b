//! Accounts and sessions: e-mail normalisation, password rules, Argon2id hashing bounded by a
//! semaphore, opaque 256-bit bearer tokens stored only as SHA-256, and login throttling.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::error::ApiError;

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer inputs are refused before hashing, so a huge password cannot cost us.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The most common passwords of at least ten characters in public breach corpora.
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "0123456789",
    "0987654321",
    "1111111111",
    "0000000000",
    "1234512345",
    "123456789a",
    "a123456789",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "qwertyuiop123",
    "asdfghjkl1",
    "password12",
    "password123",
    "password1234",
    "passwordpassword",
    "password!1",
    "iloveyou12",
    "iloveyou123",
    "letmein123",
    "welcome123",
    "welcome1234",
    "admin12345",
    "administrator",
    "abcdefghij",
    "abcd123456",
    "aaaaaaaaaa",
    "football123",
    "baseball123",
    "sunshine123",
    "princess123",
    "dragon1234",
    "monkey1234",
    "trustno1234",
    "superman123",
    "starwars123",
    "changeme123",
    "p@ssw0rd123",
    "passw0rd123",
    "chauffeur123",
    "limousine123",
    "123qweasdzxc",
    "zxcvbnm123",
    "1234qwerasdf",
    "q1w2e3r4t5",
];

/// Trims and lower-cases an e-mail address and checks its shape.
pub fn normalise_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(char::is_whitespace)
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(ApiError::unprocessable(
            "invalid_email",
            "that does not look like an e-mail address",
        ))
    }
}

pub fn check_new_password(password: &str) -> Result<(), ApiError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::unprocessable(
            "password_too_long",
            "at most 1024 bytes",
        ));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::unprocessable(
            "password_too_short",
            format!("use at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(ApiError::unprocessable(
            "password_control_characters",
            "a password cannot contain control characters (such as NUL, tab or line breaks)",
        ));
    }
    if password.trim().chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::unprocessable(
            "password_too_short",
            format!(
                "use at least {MIN_PASSWORD_CHARS} characters besides leading and trailing spaces"
            ),
        ));
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return Err(ApiError::unprocessable(
            "password_too_common",
            "that password is among the most common ones; choose another",
        ));
    }
    Ok(())
}

/// Argon2id with OWASP's parameters (19 MiB, t=2, p=1). Hashing runs on the blocking pool, at
/// most `permits` at a time, so a burst of logins queues instead of starving the server.
#[derive(Clone)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    /// A hash of a random password: verified against when the e-mail is unknown, so that an
    /// unknown e-mail and a wrong password take the same time.
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    // The parameters are constants within Argon2's limits; Params::new cannot fail for them.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            tracing::error!(error = %e, "password hashing failed");
            ApiError::internal()
        })
}

impl PasswordHashing {
    pub fn new(permits: usize) -> Result<PasswordHashing, ApiError> {
        let random = random_token()?;
        Ok(PasswordHashing {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            dummy_hash: hash_blocking(&random)?.into(),
        })
    }

    pub async fn hash(&self, password: &str) -> Result<String, ApiError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| ApiError::internal())?;
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .map_err(|_| ApiError::internal())?
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is no account.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let password = password.to_owned();
        let exists = stored.is_some();
        let stored = stored.map_or_else(|| self.dummy_hash.to_string(), str::to_owned);
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored)
                .map(|parsed| {
                    argon2()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        verified && exists
    }
}

/// 256 random bits, base64url: a session token. Fails only if the OS has no entropy source,
/// in which case no token may be issued at all.
pub fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        tracing::error!(error = %e, "the operating system's random source failed");
        ApiError::internal()
    })?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Sessions are stored only as this hash; a database leak does not leak usable tokens.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalise_email("  Ada@Example.COM ").unwrap(),
            "ada@example.com"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "a@b@c.de",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn passwords_need_ten_characters_and_must_not_be_common() {
        assert_eq!(
            check_new_password("short").unwrap_err().code,
            "password_too_short"
        );
        assert_eq!(
            check_new_password("Password123").unwrap_err().code,
            "password_too_common"
        );
        assert!(check_new_password("correct horse battery").is_ok());
        // Only spaces, or NUL characters, used to be accepted.
        assert_eq!(
            check_new_password(&" ".repeat(12)).unwrap_err().code,
            "password_too_short"
        );
        assert_eq!(
            check_new_password(&"\0".repeat(12)).unwrap_err().code,
            "password_control_characters"
        );
        assert_eq!(
            check_new_password("correct horse\tbattery")
                .unwrap_err()
                .code,
            "password_control_characters"
        );
        assert_eq!(
            check_new_password(&"x".repeat(2000)).unwrap_err().code,
            "password_too_long"
        );
    }

    #[test]
    fn tokens_are_256_bits_and_stored_hashed() {
        let a = random_token().unwrap();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, random_token().unwrap());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
