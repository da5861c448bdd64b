//! The provider's HTTP API (Stripe's PaymentIntents subset): form-encoded requests, bearer
//! secret key, `Idempotency-Key` on every write. The secret is never logged.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{
    Authorization, IdempotencyKey, PaymentError, PaymentFuture, PaymentIntent, PaymentProvider,
    Refund,
};

/// A client of the provider's API at `base_url` (`https://api.stripe.com` in production, the
/// local double in tests and `dev`).
pub struct StripeApi {
    client: Client,
    base_url: String,
    secret_key: String,
}

impl std::fmt::Debug for StripeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeApi")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    decline_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

impl StripeApi {
    /// `timeout` bounds each call; a call that times out is `Unavailable` and is retried with
    /// the same idempotency key.
    pub fn new(base_url: &str, secret_key: &str, timeout: Duration) -> Result<StripeApi, String> {
        let client = Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("the payment provider's HTTP client: {e}"))?;
        Ok(StripeApi {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            secret_key: secret_key.to_owned(),
        })
    }

    fn post(&self, path: &str, key: &IdempotencyKey) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", &key.0)
    }

    async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, PaymentError> {
        let response = request
            .send()
            .await
            .map_err(|e| PaymentError::Unavailable(without_url(e)))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|e| PaymentError::Unavailable(without_url(e)))?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| {
                PaymentError::Unavailable(format!("unreadable answer ({status}): {e}"))
            });
        }
        let detail = serde_json::from_slice::<ErrorBody>(&body)
            .ok()
            .map(|b| b.error);
        let code = detail
            .as_ref()
            .and_then(|d| d.decline_code.clone().or_else(|| d.code.clone()))
            .unwrap_or_else(|| status.as_u16().to_string());
        let message = detail
            .as_ref()
            .and_then(|d| d.message.clone())
            .unwrap_or_else(|| status.to_string());
        let card_error = detail.as_ref().is_some_and(|d| d.kind == "card_error");
        Err(match status {
            StatusCode::PAYMENT_REQUIRED => PaymentError::Declined { code, message },
            _ if card_error => PaymentError::Declined { code, message },
            // 409: the same idempotency key is still being processed; 429: slow down.
            StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS => {
                PaymentError::Unavailable(format!("{status}: {message}"))
            }
            s if s.is_server_error() => PaymentError::Unavailable(format!("{status}: {message}")),
            _ => PaymentError::Refused { code, message },
        })
    }
}

/// A transport error without the URL (which could carry query text) for logs and errors.
fn without_url(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        e.without_url().to_string()
    }
}

impl PaymentProvider for StripeApi {
    fn authorize<'a>(&'a self, r: &'a Authorization<'a>) -> PaymentFuture<'a, PaymentIntent> {
        Box::pin(async move {
            let booking = r.booking_id.to_string();
            let form = [
                ("amount", r.amount_minor.to_string()),
                ("currency", r.currency.to_ascii_lowercase()),
                ("payment_method", r.payment_method.to_owned()),
                ("confirm", "true".into()),
                ("capture_method", "manual".into()),
                ("metadata[booking_id]", booking),
            ];
            Self::send(self.post("/v1/payment_intents", &r.key).form(&form)).await
        })
    }

    fn capture<'a>(
        &'a self,
        intent_id: &'a str,
        amount_minor: i64,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, PaymentIntent> {
        Box::pin(async move {
            let form = [("amount_to_capture", amount_minor.to_string())];
            let path = format!("/v1/payment_intents/{intent_id}/capture");
            Self::send(self.post(&path, key).form(&form)).await
        })
    }

    fn cancel<'a>(
        &'a self,
        intent_id: &'a str,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, PaymentIntent> {
        Box::pin(async move {
            let path = format!("/v1/payment_intents/{intent_id}/cancel");
            Self::send(self.post(&path, key)).await
        })
    }

    fn refund<'a>(
        &'a self,
        intent_id: &'a str,
        amount_minor: i64,
        key: &'a IdempotencyKey,
    ) -> PaymentFuture<'a, Refund> {
        Box::pin(async move {
            let form = [
                ("payment_intent", intent_id.to_owned()),
                ("amount", amount_minor.to_string()),
            ];
            Self::send(self.post("/v1/refunds", key).form(&form)).await
        })
    }

    fn retrieve<'a>(&'a self, intent_id: &'a str) -> PaymentFuture<'a, PaymentIntent> {
        Box::pin(async move {
            let request = self
                .client
                .get(format!("{}/v1/payment_intents/{intent_id}", self.base_url))
                .bearer_auth(&self.secret_key);
            Self::send(request).await
        })
    }
}
