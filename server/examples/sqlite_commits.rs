//! The load benchmark's storage baseline: how many durable commits per second SQLite does here
//! with the server's settings (WAL, synchronous=FULL), one small insert per transaction, from
//! one connection, for the given number of seconds.
//! `cargo run --release -p chauffeur-server --example sqlite_commits -- /tmp/x.db 10`
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark tool

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

#[tokio::main]
async fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/chauffeur-commits.db".into());
    let seconds: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let _ = std::fs::remove_file(&path);
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
        .unwrap()
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE t (id BLOB PRIMARY KEY, body TEXT NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let body = "x".repeat(900); // about a booking row with its quote
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut commits = 0u64;
    while Instant::now() < deadline {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO t (id, body) VALUES ($1, $2)")
            .bind(uuid::Uuid::now_v7())
            .bind(&body)
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        commits += 1;
    }
    let rate = commits as f64 / started.elapsed().as_secs_f64();
    println!("commits_per_second {rate:.1}");
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(format!("{path}-wal"));
    let _ = std::fs::remove_file(format!("{path}-shm"));
}
