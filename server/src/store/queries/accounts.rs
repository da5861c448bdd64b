//! Users, sessions and login failures.

use chrono::{DateTime, Utc};
use sqlx::Pool;
use uuid::Uuid;

use super::{Db, BEGIN_WRITE};
use crate::store::rows::{CredentialsRow, UserRow};
use crate::store::{is_unique_violation, Credentials, NewUser, StoreError, User};

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

pub async fn record_login_failure(
    pool: &Pool<Db>,
    scopes: &[&str],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    for scope in scopes {
        sqlx::query::<Db>("INSERT INTO login_failures (scope, at) VALUES ($1, $2)")
            .bind(*scope)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn login_failures_since(
    pool: &Pool<Db>,
    scope: &str,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let count = sqlx::query_scalar::<Db, i64>(
        "SELECT COUNT(*) AS n FROM login_failures WHERE scope = $1 AND at > $2",
    )
    .bind(scope)
    .bind(since)
    .fetch_one(pool)
    .await?;
    Ok(count)
}

pub async fn clear_login_failures(pool: &Pool<Db>, scope: &str) -> Result<(), StoreError> {
    sqlx::query::<Db>("DELETE FROM login_failures WHERE scope = $1")
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
