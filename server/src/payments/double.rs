//! A local payment provider that speaks the same HTTP subset as the real one (create + confirm
//! with manual capture, capture, cancel, refund, retrieve; idempotency keys), for tests and for
//! `dev`: `chauffeur-server payments-double --listen 127.0.0.1:0`. It is a real server over
//! loopback, not an object mock. Test cards, by payment method id:
//!
//! - `pm_card_visa` (and any other `pm_…`): authorised;
//! - `pm_card_chargeDeclined`: declined (`generic_decline`);
//! - `pm_card_chargeDeclinedInsufficientFunds`: declined (`insufficient_funds`);
//! - `pm_card_threeDSecure2Required`: `requires_action` (a 3-D Secure step in the app);
//! - `pm_card_slow`: authorised after 5 seconds (to test timeouts).
//!
//! `GET /_double/stats` counts what was done (authorisations, captures, …) so tests can check
//! that a retry charged nothing twice. `POST /_double/payment_intents/{id}/authenticate`
//! (`outcome=succeed|fail`) is the rider finishing the 3-D Secure step in the provider's SDK;
//! the outcome is sent as a signed webhook (`Stripe-Signature`) to the webhook URL.
//! `POST /_double/config` sets, at run time, the webhook URL and a delay before capture answers
//! (the capture is done, then the answer waits: a crash window for the tests).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Serialize;
use serde_json::{json, Value};

use super::{IntentStatus, PaymentIntent, Refund};

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    pub authorizations: u64,
    pub captures: u64,
    pub cancellations: u64,
    pub refunds: u64,
    pub replays: u64,
}

#[derive(Default)]
struct Ledger {
    intents: HashMap<String, PaymentIntent>,
    refunded: HashMap<String, i64>,
    /// Idempotency key → (what was asked, the answer given).
    answers: HashMap<String, (String, u16, Value)>,
    stats: Stats,
    next_id: u64,
}

/// Where the double sends its webhooks, and its fault settings.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DoubleConfig {
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub webhook_secret: String,
    /// Milliseconds a capture's answer waits after the capture was done.
    #[serde(default)]
    pub capture_delay_ms: u64,
}

#[derive(Clone, Default)]
pub struct Double(Arc<Mutex<Ledger>>, Arc<Mutex<DoubleConfig>>);

/// The double's routes.
pub fn router_with(config: DoubleConfig) -> Router {
    let double = Double(Arc::default(), Arc::new(Mutex::new(config)));
    Router::new()
        .route(
            "/_double/payment_intents/{id}/authenticate",
            post(authenticate_intent),
        )
        .route("/_double/config", post(set_config))
        .route("/v1/payment_intents", post(create_intent))
        .route("/v1/payment_intents/{id}", get(retrieve_intent))
        .route("/v1/payment_intents/{id}/capture", post(capture_intent))
        .route("/v1/payment_intents/{id}/cancel", post(cancel_intent))
        .route("/v1/refunds", post(create_refund))
        .route("/_double/stats", get(stats))
        .with_state(double)
}

impl Double {
    fn config(&self) -> DoubleConfig {
        self.1.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Sends `event` about `intent` to the webhook URL, signed, in the background.
    fn send_webhook(&self, event: &str, intent: &PaymentIntent) {
        let config = self.config();
        let Some(url) = config.webhook_url else {
            return;
        };
        let body = json!({
            "id": format!("evt_{}_{}", intent.id, event.replace('.', "_")),
            "type": event,
            "data": { "object": intent },
        })
        .to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let signature =
            super::flow::sign_webhook(&config.webhook_secret, timestamp, body.as_bytes());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let sent = client
                .post(&url)
                .header("content-type", "application/json")
                .header("stripe-signature", signature)
                .body(body)
                .timeout(Duration::from_secs(10))
                .send()
                .await;
            if let Err(e) = sent {
                tracing::warn!(error = %e, "the double's webhook was not delivered");
            }
        });
    }
}

async fn set_config(State(double): State<Double>, Json(update): Json<Value>) -> Response {
    let Ok(mut config) = double.1.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(url) = update.get("webhook_url") {
        config.webhook_url = url.as_str().map(str::to_owned);
    }
    if let Some(secret) = update.get("webhook_secret").and_then(Value::as_str) {
        config.webhook_secret = secret.to_owned();
    }
    if let Some(delay) = update.get("capture_delay_ms").and_then(Value::as_u64) {
        config.capture_delay_ms = delay;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// The rider finishing (or failing) the 3-D Secure step in the provider's SDK.
async fn authenticate_intent(
    State(double): State<Double>,
    Path(id): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let succeed = form.get("outcome").map(String::as_str) != Some("fail");
    let intent = {
        let Ok(mut ledger) = double.0.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let Some(intent) = ledger.intents.get_mut(&id) else {
            return answer(no_such_intent());
        };
        if intent.status != IntentStatus::RequiresAction {
            return answer(wrong_state(intent, "authenticated"));
        }
        intent.status = if succeed {
            IntentStatus::RequiresCapture
        } else {
            IntentStatus::RequiresPaymentMethod
        };
        intent.clone()
    };
    let event = if succeed {
        "payment_intent.amount_capturable_updated"
    } else {
        "payment_intent.payment_failed"
    };
    double.send_webhook(event, &intent);
    answer(intent_json(&intent))
}

fn error(status: StatusCode, kind: &str, code: &str, message: &str) -> (u16, Value) {
    let mut detail = json!({"type": kind, "code": code, "message": message});
    if kind == "card_error" {
        detail["decline_code"] = json!(code);
        detail["code"] = json!("card_declined");
    }
    (status.as_u16(), json!({ "error": detail }))
}

fn answer((status, body): (u16, Value)) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|key| key.starts_with("sk_test_"))
}

fn unauthorized() -> Response {
    answer(error(
        StatusCode::UNAUTHORIZED,
        "invalid_request_error",
        "api_key_invalid",
        "Invalid API Key provided",
    ))
}

impl Double {
    /// Runs `work` once per idempotency key: a later request with the key gets the first
    /// answer again (and a different request with it is refused, as the provider does).
    fn once(
        &self,
        headers: &HeaderMap,
        request: String,
        work: impl FnOnce(&mut Ledger) -> (u16, Value),
    ) -> Response {
        let key = headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let Ok(mut ledger) = self.0.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        if let Some(key) = &key {
            if let Some((asked, status, body)) = ledger.answers.get(key).cloned() {
                if asked != request {
                    return answer(error(
                        StatusCode::BAD_REQUEST,
                        "idempotency_error",
                        "idempotency_key_reused",
                        "Keys for idempotent requests can only be used with the same parameters",
                    ));
                }
                ledger.stats.replays += 1;
                return answer((status, body));
            }
        }
        let (status, body) = work(&mut ledger);
        if let Some(key) = key {
            ledger.answers.insert(key, (request, status, body.clone()));
        }
        answer((status, body))
    }
}

fn intent_json(intent: &PaymentIntent) -> (u16, Value) {
    (200, serde_json::to_value(intent).unwrap_or(Value::Null))
}

async fn create_intent(
    State(double): State<Double>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let method = form.get("payment_method").cloned().unwrap_or_default();
    if method == "pm_card_slow" {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let mut asked: Vec<_> = form.iter().collect();
    asked.sort();
    let request = format!("create {asked:?}");
    double.once(&headers, request, |ledger| {
        let amount = form.get("amount").and_then(|a| a.parse::<i64>().ok());
        let (Some(amount), Some(currency)) = (amount.filter(|a| *a > 0), form.get("currency"))
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "parameter_invalid_integer",
                "amount must be a positive integer and currency given",
            );
        };
        match method.as_str() {
            "pm_card_chargeDeclined" => {
                return error(
                    StatusCode::PAYMENT_REQUIRED,
                    "card_error",
                    "generic_decline",
                    "Your card was declined.",
                )
            }
            "pm_card_chargeDeclinedInsufficientFunds" => {
                return error(
                    StatusCode::PAYMENT_REQUIRED,
                    "card_error",
                    "insufficient_funds",
                    "Your card has insufficient funds.",
                )
            }
            m if !m.starts_with("pm_") => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "resource_missing",
                    "No such PaymentMethod",
                )
            }
            _ => {}
        }
        ledger.next_id += 1;
        let id = format!("pi_double_{:06}", ledger.next_id);
        let status = if method == "pm_card_threeDSecure2Required" {
            IntentStatus::RequiresAction
        } else {
            IntentStatus::RequiresCapture
        };
        let intent = PaymentIntent {
            client_secret: Some(format!("{id}_secret_double")),
            id: id.clone(),
            status,
            amount,
            amount_received: 0,
            currency: currency.to_ascii_lowercase(),
        };
        ledger.stats.authorizations += 1;
        ledger.intents.insert(id, intent.clone());
        intent_json(&intent)
    })
}

fn no_such_intent() -> (u16, Value) {
    error(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        "resource_missing",
        "No such payment_intent",
    )
}

fn wrong_state(intent: &PaymentIntent, action: &str) -> (u16, Value) {
    error(
        StatusCode::BAD_REQUEST,
        "invalid_request_error",
        "payment_intent_unexpected_state",
        &format!(
            "This PaymentIntent could not be {action} because it has a status of {:?}",
            intent.status
        ),
    )
}

async fn capture_intent(
    State(double): State<Double>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let request = format!("capture {id} {:?}", form.get("amount_to_capture"));
    let response = double.once(&headers, request, |ledger| {
        let Some(intent) = ledger.intents.get_mut(&id) else {
            return no_such_intent();
        };
        if intent.status != IntentStatus::RequiresCapture {
            return wrong_state(intent, "captured");
        }
        let amount = match form.get("amount_to_capture").map(|a| a.parse::<i64>()) {
            None => intent.amount,
            Some(Ok(a)) if a > 0 && a <= intent.amount => a,
            Some(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "amount_too_large",
                    "amount_to_capture must be positive and at most the authorised amount",
                )
            }
        };
        intent.status = IntentStatus::Succeeded;
        intent.amount_received = amount;
        let intent = intent.clone();
        ledger.stats.captures += 1;
        intent_json(&intent)
    });
    let delay = double.config().capture_delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    response
}

async fn cancel_intent(
    State(double): State<Double>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    double.once(&headers, format!("cancel {id}"), |ledger| {
        let Some(intent) = ledger.intents.get_mut(&id) else {
            return no_such_intent();
        };
        if !matches!(
            intent.status,
            IntentStatus::RequiresCapture
                | IntentStatus::RequiresAction
                | IntentStatus::RequiresPaymentMethod
        ) {
            return wrong_state(intent, "canceled");
        }
        intent.status = IntentStatus::Canceled;
        let intent = intent.clone();
        ledger.stats.cancellations += 1;
        intent_json(&intent)
    })
}

async fn create_refund(
    State(double): State<Double>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let id = form.get("payment_intent").cloned().unwrap_or_default();
    let request = format!("refund {id} {:?}", form.get("amount"));
    double.once(&headers, request, |ledger| {
        let Some(intent) = ledger.intents.get(&id).cloned() else {
            return no_such_intent();
        };
        if intent.status != IntentStatus::Succeeded {
            return wrong_state(&intent, "refunded");
        }
        let already = ledger.refunded.get(&id).copied().unwrap_or(0);
        let left = intent.amount_received - already;
        let amount = match form.get("amount").map(|a| a.parse::<i64>()) {
            None => left,
            Some(Ok(a)) if a > 0 && a <= left => a,
            Some(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request_error",
                    "amount_too_large",
                    "the refund is larger than what is left of the charge",
                )
            }
        };
        ledger.refunded.insert(id.clone(), already + amount);
        ledger.stats.refunds += 1;
        let refund = Refund {
            id: format!("re_double_{:06}", ledger.stats.refunds),
            amount,
            status: "succeeded".into(),
        };
        (200, serde_json::to_value(refund).unwrap_or(Value::Null))
    })
}

async fn retrieve_intent(
    State(double): State<Double>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&headers) {
        return unauthorized();
    }
    let Ok(ledger) = double.0.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    answer(
        ledger
            .intents
            .get(&id)
            .map(intent_json)
            .unwrap_or_else(no_such_intent),
    )
}

async fn stats(State(double): State<Double>) -> Response {
    match double.0.lock() {
        Ok(ledger) => Json(ledger.stats.clone()).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
