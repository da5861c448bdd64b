//! How many chauffeur positions per second the server's batched writes store (SQLite, the
//! server's settings): 2,000 chauffeurs, each flush writing every buffered position in one
//! transaction, as `live::flush_positions` does. Run by `scripts/bench-server.sh` next to the raw
//! commit rate. `cargo run --release -p chauffeur-server --example location_ingest -- DIR SECS`
#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmark tool

use std::time::{Duration, Instant};

use chauffeur_server::live::Position;
use chauffeur_server::store::{NewUser, Role, Store};

#[tokio::main]
async fn main() {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/chauffeur-ingest".into());
    let seconds: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::connect(&format!("sqlite://{dir}/ingest.db"))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let mut chauffeurs = Vec::new();
    for i in 0..2_000 {
        let email = format!("c{i}@example.com");
        let user = store
            .create_user(
                &NewUser {
                    email: &email,
                    password_hash: "x",
                    role: Role::Chauffeur,
                    name: None,
                    phone: None,
                },
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        chauffeurs.push(user.id);
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut written = 0u64;
    let mut step = 0.0;
    while Instant::now() < deadline {
        step += 0.0001;
        let batch: Vec<_> = chauffeurs
            .iter()
            .map(|id| {
                (
                    *id,
                    Position {
                        lat: 52.5 + step,
                        lon: 13.4 + step,
                        at: chrono::Utc::now(),
                    },
                )
            })
            .collect();
        store.save_positions(&batch).await.unwrap();
        written += batch.len() as u64;
    }
    println!(
        "positions_per_second {:.1}",
        written as f64 / started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
