//! Users, sessions and the log-in throttle's attempt counters.

use chrono::{DateTime, Utc};
use sqlx::Pool;
use uuid::Uuid;

use super::{Db, BEGIN_WRITE};
use crate::store::rows::{CredentialsRow, UserRow};
use crate::store::{is_unique_violation, AttemptCount, Credentials, NewUser, StoreError, User};

pub async fn create_user(
    pool: &Pool<Db>,
    user: &NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<User, StoreError> {
    let id = Uuid::now_v7();
    let result = sqlx::query::<Db>(
        "INSERT INTO users (id, email, password_hash, role, name, phone, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(user.email)
    .bind(user.password_hash)
    .bind(user.role.as_str())
    .bind(user.name)
    .bind(user.phone)
    .bind(now)
    .execute(pool)
    .await;
    match result {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("account")),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(User {
            id,
            email: user.email.to_owned(),
            role: user.role,
            name: user.name.map(str::to_owned),
            phone: user.phone.map(str::to_owned),
            created_at: now,
            erased_at: None,
        }),
    }
}

pub async fn credentials(pool: &Pool<Db>, email: &str) -> Result<Option<Credentials>, StoreError> {
    let row = sqlx::query_as::<Db, CredentialsRow>(
        "SELECT * FROM users WHERE email = $1 AND erased_at IS NULL",
    )
    .bind(email)
    .fetch_optional(pool)
    .await?;
    row.map(Credentials::try_from).transpose()
}

pub async fn create_session(
    pool: &Pool<Db>,
    token_hash: &str,
    user_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query::<Db>(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(now)
    .bind(expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn session_user(
    pool: &Pool<Db>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>, StoreError> {
    let row = sqlx::query_as::<Db, UserRow>(
        "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
         AND u.erased_at IS NULL",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.map(User::try_from).transpose()
}

pub async fn revoke_session(
    pool: &Pool<Db>,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query::<Db>(
        "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(token_hash)
    .execute(pool)
    .await?;
    Ok(())
}

/// Bumps each scope's attempt counter in one transaction and answers, per scope, this
/// attempt's number within the window and when the one before it was made. Counters whose last
/// attempt is before `window_start` start again at 1 (and stale rows are pruned), so the
/// numbers handed out under concurrency are distinct: the store, not the caller, serialises.
pub async fn count_attempt(
    pool: &Pool<Db>,
    scopes: &[&str],
    now: DateTime<Utc>,
    window_start: DateTime<Utc>,
) -> Result<Vec<AttemptCount>, StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    sqlx::query::<Db>("DELETE FROM login_attempts WHERE last_at < $1")
        .bind(window_start)
        .execute(&mut *tx)
        .await?;
    let mut counts = Vec::with_capacity(scopes.len());
    for scope in scopes {
        let (attempts, previous_at) = sqlx::query_as::<Db, (i64, Option<DateTime<Utc>>)>(
            "INSERT INTO login_attempts (scope, attempts, last_at, previous_at) \
             VALUES ($1, 1, $2, NULL) \
             ON CONFLICT (scope) DO UPDATE SET \
               attempts = CASE WHEN login_attempts.last_at < $3 THEN 1 \
                               ELSE login_attempts.attempts + 1 END, \
               previous_at = CASE WHEN login_attempts.last_at < $3 THEN NULL \
                                  ELSE login_attempts.last_at END, \
               last_at = $2 \
             RETURNING attempts, previous_at",
        )
        .bind(*scope)
        .bind(now)
        .bind(window_start)
        .fetch_one(&mut *tx)
        .await?;
        counts.push(AttemptCount {
            attempts,
            previous_at,
        });
    }
    tx.commit().await?;
    Ok(counts)
}

/// Takes one attempt back from each scope (a successful sign-in is not a failure).
pub async fn forgive_attempt(pool: &Pool<Db>, scopes: &[&str]) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    for scope in scopes {
        sqlx::query::<Db>(
            "UPDATE login_attempts SET attempts = attempts - 1 \
             WHERE scope = $1 AND attempts > 0",
        )
        .bind(*scope)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Forgets a scope's attempts altogether (the owner signed in from that address).
pub async fn forget_attempts(pool: &Pool<Db>, scope: &str) -> Result<(), StoreError> {
    sqlx::query::<Db>("DELETE FROM login_attempts WHERE scope = $1")
        .bind(scope)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn user(pool: &Pool<Db>, id: Uuid) -> Result<Option<User>, StoreError> {
    let row = sqlx::query_as::<Db, UserRow>("SELECT * FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(User::try_from).transpose()
}
