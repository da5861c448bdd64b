//! Migrations and the health check.

use chrono::{DateTime, Utc};
use sqlx::Pool;

use super::{Conn, Db};
use crate::store::StoreError;

/// Applies one migration inside the caller's transaction unless it was applied.
pub async fn apply_migration(
    tx: &mut Conn,
    version: i64,
    sql: &'static str,
) -> Result<bool, StoreError> {
    let done = sqlx::query::<Db>("SELECT 1 FROM schema_migrations WHERE version = $1")
        .bind(version)
        .fetch_optional(&mut *tx)
        .await?;
    if done.is_some() {
        return Ok(false);
    }
    sqlx::raw_sql(sql).execute(&mut *tx).await?;
    sqlx::query::<Db>("INSERT INTO schema_migrations VALUES ($1, $2)")
        .bind(version)
        .bind(Utc::now().to_rfc3339())
        .execute(&mut *tx)
        .await?;
    Ok(true)
}

pub async fn ping(pool: &Pool<Db>) -> Result<(), StoreError> {
    sqlx::query::<Db>("SELECT 1").execute(pool).await?;
    Ok(())
}

/// Rewrites the one readiness row and commits: fails when no write can land.
pub async fn check_writable(pool: &Pool<Db>, now: DateTime<Utc>) -> Result<(), StoreError> {
    sqlx::query::<Db>(
        "INSERT INTO readiness (id, checked_at) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
    )
    .bind(now.to_rfc3339())
    .execute(pool)
    .await?;
    Ok(())
}
