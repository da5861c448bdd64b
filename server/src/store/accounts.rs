//! Accounts: users, sessions and the log-in throttle's attempt counters.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{parse_stored, Store, StoreError};

/// What an account is for: the wire's role, stored by its name.
pub use chauffeur_core::wire::Role;

/// The role a stored name stands for.
pub(super) fn parse_role(text: &str) -> Result<Role, StoreError> {
    parse_stored("role", text, |text| {
        [Role::Rider, Role::Partner, Role::Chauffeur, Role::Operator]
            .into_iter()
            .find(|r| r.as_str() == text)
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub name: Option<String>,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
    pub erased_at: Option<DateTime<Utc>>,
}

/// One scope's attempt counter after an attempt was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// This attempt's number within the window (1 for the first).
    pub attempts: i64,
    /// When the attempt before this one was made, if it was within the window.
    pub previous_at: Option<DateTime<Utc>>,
}

/// An account with its password hash, for signing in.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// Leaves the hash out of logs.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
}

impl Store {
    /// A new account; `Conflict` if the e-mail is taken.
    pub async fn create_user(
        &self,
        user: &NewUser<'_>,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        write_turn!(self, accounts::create_user(user, now))
    }

    /// The account with this e-mail and its password hash.
    pub async fn credentials(&self, email: &str) -> Result<Option<Credentials>, StoreError> {
        read!(self, accounts::credentials(email))
    }

    /// An account by id, erased ones included.
    pub async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        read!(self, accounts::user(id))
    }

    /// Stores a session by the hash of its token.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: Uuid,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write_turn!(
            self,
            accounts::create_session(token_hash, user_id, now, expires_at)
        )
    }

    /// The account of an unrevoked, unexpired session, unless it was erased.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        read!(self, accounts::session_user(token_hash, now))
    }

    /// Ends a session; revoking twice is harmless.
    pub async fn revoke_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write_turn!(self, accounts::revoke_session(token_hash, now))
    }

    /// Counts an attempt against each scope before anything is checked; see
    /// [`crate::throttle`] for what the numbers decide.
    pub async fn count_attempt(
        &self,
        scopes: &[&str],
        now: DateTime<Utc>,
        window_start: DateTime<Utc>,
    ) -> Result<Vec<AttemptCount>, StoreError> {
        write_turn!(self, accounts::count_attempt(scopes, now, window_start))
    }

    /// Takes one attempt back from each scope.
    pub async fn forgive_attempt(&self, scopes: &[&str]) -> Result<(), StoreError> {
        write_turn!(self, accounts::forgive_attempt(scopes))
    }

    /// Forgets a scope's attempts.
    pub async fn forget_attempts(&self, scope: &str) -> Result<(), StoreError> {
        write_turn!(self, accounts::forget_attempts(scope))
    }
}
