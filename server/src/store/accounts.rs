//! Accounts: users, sessions and login failures.

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

    /// Counts a failed sign-in against each scope (account, address), at once.
    pub async fn record_login_failure(
        &self,
        scopes: &[&str],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        write_turn!(self, accounts::record_login_failure(scopes, now))
    }

    /// Failed sign-ins of a scope after `since`.
    pub async fn login_failures_since(
        &self,
        scope: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        read!(self, accounts::login_failures_since(scope, since))
    }

    /// Forgets a scope's failures (after a successful sign-in).
    pub async fn clear_login_failures(&self, scope: &str) -> Result<(), StoreError> {
        write_turn!(self, accounts::clear_login_failures(scope))
    }
}
