//! Stream events and change announcements: writers append events in their transactions and
//! announce commits in-process; on PostgreSQL a listener relays other replicas' commits.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use sqlx::postgres::Postgres;
use sqlx::Pool;
use uuid::Uuid;

use super::{Store, StoreError};

/// One event of a rider's or partner's stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamEvent {
    pub id: i64,
    pub kind: String,
    pub payload: Value,
}

impl Store {
    /// Events after `after_id` of a booking's stream or a partner's, oldest first (at most
    /// 500).
    pub async fn events_after(
        &self,
        booking_id: Option<Uuid>,
        partner_id: Option<Uuid>,
        after_id: i64,
    ) -> Result<Vec<StreamEvent>, StoreError> {
        read!(self, events::events_after(booking_id, partner_id, after_id))
    }
}

/// Process-wide "something the event streams may care about changed" pings. Writers announce
/// after committing; on PostgreSQL a listener also announces other replicas' commits.
static CHANGES: std::sync::OnceLock<tokio::sync::broadcast::Sender<()>> =
    std::sync::OnceLock::new();

fn changes() -> &'static tokio::sync::broadcast::Sender<()> {
    CHANGES.get_or_init(|| tokio::sync::broadcast::channel(256).0)
}

pub fn subscribe_changes() -> tokio::sync::broadcast::Receiver<()> {
    changes().subscribe()
}

pub fn announce_change() {
    // No subscriber is fine: nobody is streaming.
    let _ = changes().send(());
}

/// Relays PostgreSQL NOTIFYs from every replica's commits to this process's streams.
pub(super) async fn relay_notifications(pool: Pool<Postgres>) {
    loop {
        match sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen("chauffeur_events").await {
                    tracing::warn!(error = %e, "cannot LISTEN for events");
                } else {
                    while listener.recv().await.is_ok() {
                        announce_change();
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "event listener cannot connect; retrying"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
