//! Idempotent booking creation: the key, the response to replay and the booking are written in
//! one transaction. On SQLite the creation joins the group commit.

use uuid::Uuid;

use super::{events, postgres, sqlite, Booking, Completion, GroupJob, Personal, Store, StoreError};

/// A create under an idempotency key, with the response to store for replays.
#[derive(Debug, Clone)]
pub struct IdempotentCreate<'a> {
    pub user_id: Uuid,
    pub key: &'a str,
    pub request_hash: &'a str,
    pub response_status: u16,
    pub response_body: &'a str,
    /// The payment attempt (its provider key) that this booking's authorisation came from.
    pub payment_attempt: Option<&'a str>,
}

/// What an idempotent create did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// Created now, with the stored response.
    Created,
    /// The same key and body completed before: answer exactly this again.
    Replay { status: u16, body: String },
    /// The same key came with a different body; nothing was created.
    Mismatch,
    /// A request with this key is being processed right now; nothing was created.
    InProgress,
}

impl Store {
    /// How many first answers are kept for a user's requests (erasure leaves none: they hold
    /// the passenger's details).
    pub async fn stored_answers_of(&self, user_id: Uuid) -> Result<i64, StoreError> {
        read!(self, idempotency::stored_answers_of(user_id))
    }

    /// The first answer stored for the user's key: (request hash, status, body).
    pub async fn stored_answer(
        &self,
        user_id: Uuid,
        key: &str,
    ) -> Result<Option<(String, u16, String)>, StoreError> {
        read!(self, idempotency::stored_answer(user_id, key))
    }

    pub async fn create_booking_idempotent(
        &self,
        request: &IdempotentCreate<'_>,
        booking: &Booking,
        personal: &Personal,
    ) -> Result<Created, StoreError> {
        let db = match self {
            Store::Postgres(pool) => {
                let result = postgres::idempotency::create_booking_idempotent(
                    pool, request, booking, personal,
                )
                .await;
                events::announce_change();
                return result;
            }
            Store::Sqlite(db) => db,
        };
        let (user_id, key, hash) = (
            request.user_id,
            request.key.to_owned(),
            request.request_hash.to_owned(),
        );
        let (status, body) = (request.response_status, request.response_body.to_owned());
        let attempt = request.payment_attempt.map(str::to_owned);
        let (booking, personal) = (booking.clone(), personal.clone());
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<Created, StoreError>>();
        let job: GroupJob = Box::new(move |conn| {
            Box::pin(async move {
                let request = IdempotentCreate {
                    user_id,
                    key: &key,
                    request_hash: &hash,
                    response_status: status,
                    response_body: &body,
                    payment_attempt: attempt.as_deref(),
                };
                let outcome = sqlite::idempotency::create_booking_idempotent_in(
                    conn, &request, &booking, &personal,
                )
                .await;
                let keep = matches!(outcome, Ok(Created::Created));
                let completion: Completion = Box::new(move |committed| {
                    let result = match (outcome, committed) {
                        (Ok(Created::Created), Err(reason)) => Err(StoreError::Unavailable(reason)),
                        (outcome, _) => outcome,
                    };
                    let _ = answer.send(result);
                });
                (keep, completion)
            })
        });
        db.group
            .send(job)
            .await
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        let result = answered
            .await
            .map_err(|_| StoreError::Unavailable("the write was abandoned".into()))?;
        events::announce_change();
        result
    }
}
