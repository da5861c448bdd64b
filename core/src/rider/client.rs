//! The rider API client (feature `client`): reqwest with rustls, timeouts, problem+json mapped to
//! a typed error with the server's stable code, and retries with backoff only where a retry
//! cannot do harm — reads, and creates that carry an idempotency key.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, StatusCode};
use serde::de::DeserializeOwned;

use crate::catalog::Catalog;
use crate::fare::QuoteRequest;
use crate::wire::{
    BookingList, BookingView, CancelRequest, CancellationView, CreateBookingRequest, ErrorCode,
    HistoryView, LogInRequest, PaymentsConfigView, PlacesResponse, Problem, QuotesResponse,
    ReceiptView, SessionView, SignUpRequest, UserView,
};

/// Items asked for per page when the client follows a paged list to its end (the server's
/// maximum).
pub const PAGE_SIZE: u32 = 200;

/// Attempts for a retry-safe request (the first included).
const ATTEMPTS: u32 = 3;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a problem: its status, stable code and explanation.
    #[error("{status} {code}: {detail}")]
    Api {
        status: u16,
        code: String,
        detail: String,
    },
    #[error("network: {0}")]
    Network(String),
    #[error("the server took too long to answer")]
    Timeout,
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl ClientError {
    /// The server's code for API errors, else the client's own.
    pub fn code(&self) -> &str {
        match self {
            ClientError::Api { code, .. } => code,
            ClientError::Network(_) => "network",
            ClientError::Timeout => "timeout",
            ClientError::Decode(_) => "unexpected_answer",
        }
    }

    /// The request never got an answer (no network, or too slow): worth keeping for later.
    pub fn is_offline(&self) -> bool {
        matches!(self, ClientError::Network(_) | ClientError::Timeout)
    }

    /// Worth trying again (with the same idempotency key for creates).
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            ClientError::Network(_) | ClientError::Timeout => true,
            ClientError::Api { status, code, .. } => {
                matches!(*status, 502..=504)
                    || code == ErrorCode::IDEMPOTENCY_KEY_IN_USE.as_str()
                    || code == ErrorCode::BUSY.as_str()
            }
            ClientError::Decode(_) => false,
        }
    }
}

impl From<reqwest::Error> for ClientError {
    fn from(e: reqwest::Error) -> ClientError {
        if e.is_timeout() {
            ClientError::Timeout
        } else if e.is_decode() {
            ClientError::Decode(e.to_string())
        } else {
            ClientError::Network(e.to_string())
        }
    }
}

/// The typed error of an error answer: the problem+json's stable code and explanation. An
/// answer that is not a problem (a proxy's 502 page) keeps its status, with `unknown_error`.
async fn problem(response: reqwest::Response) -> ClientError {
    let status = response.status().as_u16();
    match response.json::<Problem>().await {
        Ok(problem) => ClientError::Api {
            status,
            code: problem.code.into(),
            detail: problem.detail,
        },
        Err(_) => ClientError::Api {
            status,
            code: "unknown_error".into(),
            detail: String::new(),
        },
    }
}

/// A client of one server, optionally signed in.
#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    /// For event streams: no overall timeout (a stream lasts as long as the ride).
    streams: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl ApiClient {
    pub fn new(base_url: &str) -> Result<ApiClient, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()?;
        let streams = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(ApiClient {
            http,
            streams,
            base: base_url.trim_end_matches('/').to_owned(),
            token: None,
        })
    }

    /// The same client, signed in with a bearer token (kept by the app's secure store).
    pub fn with_token(&self, token: &str) -> ApiClient {
        ApiClient {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Sends a request and decodes its answer as `T` (a field missing or of the wrong type is a
    /// `Decode` error, never a default).
    async fn send<T: DeserializeOwned>(request: RequestBuilder) -> Result<T, ClientError> {
        let response = Self::send_raw(request).await?;
        let status = response.status();
        let body = response.bytes().await?;
        serde_json::from_slice(&body).map_err(|e| {
            ClientError::Decode(format!("{status} answer is not what API v1 promises: {e}"))
        })
    }

    /// Sends a request whose success answer has no body (204).
    async fn send_no_content(request: RequestBuilder) -> Result<(), ClientError> {
        Self::send_raw(request).await.map(drop)
    }

    async fn send_raw(request: RequestBuilder) -> Result<reqwest::Response, ClientError> {
        let response = request.send().await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(problem(response).await)
        }
    }

    /// Sends a request that is safe to repeat, retrying transient failures with backoff.
    async fn send_retrying<T: DeserializeOwned>(
        &self,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<T, ClientError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            match Self::send(build()).await {
                Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Opens a server-sent event stream, resuming after `last_event_id`.
    pub async fn event_stream(
        &self,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        let mut request = self
            .streams
            .get(format!("{}{path}", self.base))
            .header("accept", "text/event-stream");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(problem(response).await)
        }
    }

    /// Binding quotes, one per class that fits (no account needed). Not retried: a quote is
    /// cheap to ask again by the user.
    pub async fn quotes(&self, request: &QuoteRequest) -> Result<QuotesResponse, ClientError> {
        Self::send(self.request(Method::POST, "/v1/quotes").json(request)).await
    }

    /// Places in a city matching `query` (airports, stations, centres, and addresses when the
    /// server has a geocoder), best first. Retried: a search is safe to repeat.
    pub async fn places(&self, city: &str, query: &str) -> Result<PlacesResponse, ClientError> {
        self.send_retrying(|| {
            self.request(Method::GET, "/v1/places")
                .query(&[("city", city), ("q", query)])
        })
        .await
    }

    /// The places nearest to a point, nearest first, and in `city_id` the city serving it
    /// (`None` when no city does).
    pub async fn places_near(&self, lat: f64, lon: f64) -> Result<PlacesResponse, ClientError> {
        self.send_retrying(|| {
            self.request(Method::GET, "/v1/places")
                .query(&[("lat", lat.to_string()), ("lon", lon.to_string())])
        })
        .await
    }

    /// The catalog the server prices with (cities, classes, tariffs), validated whole.
    pub async fn cities(&self) -> Result<Catalog, ClientError> {
        let Some((_, json)) = self.catalog_if_changed(None).await? else {
            return Err(ClientError::Decode(
                "not modified, though no catalog was named".into(),
            ));
        };
        Catalog::from_served_json(json.as_bytes()).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// The catalog, unless it is still the one tagged `etag` (then `None`): the served JSON
    /// with its new ETag.
    pub async fn catalog_if_changed(
        &self,
        etag: Option<&str>,
    ) -> Result<Option<(String, String)>, ClientError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let mut request = self.request(Method::GET, "/v1/cities");
            if let Some(etag) = etag {
                request = request.header("if-none-match", etag);
            }
            let outcome = async {
                let response = request.send().await?;
                match response.status() {
                    StatusCode::NOT_MODIFIED => Ok(None),
                    s if s.is_success() => {
                        let tag = response
                            .headers()
                            .get("etag")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned();
                        Ok(Some((tag, response.text().await?)))
                    }
                    _ => Err(problem(response).await),
                }
            }
            .await;
            match outcome {
                Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        name: Option<&str>,
    ) -> Result<UserView, ClientError> {
        let body = SignUpRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            name: name.map(str::to_owned),
            phone: None,
        };
        Self::send(self.request(Method::POST, "/v1/accounts").json(&body)).await
    }

    /// Logs in; the session holds the bearer token.
    pub async fn log_in(&self, email: &str, password: &str) -> Result<SessionView, ClientError> {
        let body = LogInRequest {
            email: email.to_owned(),
            password: password.to_owned(),
        };
        Self::send(self.request(Method::POST, "/v1/sessions").json(&body)).await
    }

    /// Creates a booking under `idempotency_key`, retrying transient failures with the same key:
    /// the server applies it once and replays its first answer.
    pub async fn create_booking(
        &self,
        idempotency_key: &str,
        body: &CreateBookingRequest,
    ) -> Result<BookingView, ClientError> {
        self.send_retrying(|| {
            self.request(Method::POST, "/v1/bookings")
                .header("idempotency-key", idempotency_key)
                .json(body)
        })
        .await
    }

    /// Ends the session on the server.
    pub async fn log_out(&self) -> Result<(), ClientError> {
        Self::send_no_content(self.request(Method::DELETE, "/v1/sessions/current")).await
    }

    /// The signed-in account.
    pub async fn me(&self) -> Result<UserView, ClientError> {
        self.send_retrying(|| self.request(Method::GET, "/v1/me"))
            .await
    }

    /// Everything the service holds about the account (GDPR export): the JSON document as
    /// served, for the rider to save — a download, not a shape the app reads.
    pub async fn export_me(&self) -> Result<String, ClientError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            let outcome: Result<String, ClientError> = async {
                let response = Self::send_raw(self.request(Method::GET, "/v1/me/export")).await?;
                Ok(response.text().await?)
            }
            .await;
            match outcome {
                Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// Erases the account: personal data goes, bookings stay for accounting. Not retried.
    pub async fn erase_account(&self) -> Result<(), ClientError> {
        Self::send_no_content(self.request(Method::DELETE, "/v1/me")).await
    }

    /// All of the rider's bookings, latest pickup first: every page, followed in turn.
    pub async fn bookings(&self) -> Result<BookingList, ClientError> {
        let mut all = BookingList {
            bookings: Vec::new(),
            next_cursor: None,
        };
        let mut cursor: Option<String> = None;
        loop {
            let page = self.bookings_page(cursor.as_deref(), PAGE_SIZE).await?;
            all.bookings.extend(page.bookings);
            match page.next_cursor {
                // A server that repeats a cursor would loop forever: stop instead.
                Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// One page of the rider's bookings: `limit` of them (1–200) after `cursor` (the
    /// `next_cursor` of the page before; none for the first page).
    pub async fn bookings_page(
        &self,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<BookingList, ClientError> {
        self.send_retrying(|| {
            let request = self
                .request(Method::GET, "/v1/bookings")
                .query(&[("limit", limit.to_string())]);
            match cursor {
                Some(cursor) => request.query(&[("cursor", cursor)]),
                None => request,
            }
        })
        .await
    }

    /// The receipt of a completed ride or a cancellation that cost a fee.
    pub async fn receipt(&self, id: &str) -> Result<ReceiptView, ClientError> {
        self.send_retrying(|| self.request(Method::GET, &format!("/v1/bookings/{id}/receipt")))
            .await
    }

    /// Which card payment provider the server uses, and its publishable key.
    pub async fn payments_config(&self) -> Result<PaymentsConfigView, ClientError> {
        self.send_retrying(|| self.request(Method::GET, "/v1/payments/config"))
            .await
    }

    /// The booking's invoice as a PDF in `language` (`de` or `en`).
    pub async fn invoice_pdf(&self, id: &str, language: &str) -> Result<Vec<u8>, ClientError> {
        let request = self
            .request(Method::GET, &format!("/v1/bookings/{id}/invoice"))
            .query(&[("lang", language)])
            .header(reqwest::header::ACCEPT, "application/pdf");
        let response = Self::send_raw(request).await?;
        Ok(response.bytes().await?.to_vec())
    }

    /// After the card step in the app: the booking as it stands now.
    pub async fn confirm_payment(&self, id: &str) -> Result<BookingView, ClientError> {
        Self::send(self.request(Method::POST, &format!("/v1/bookings/{id}/payment/confirm"))).await
    }

    pub async fn booking(&self, id: &str) -> Result<BookingView, ClientError> {
        self.send_retrying(|| self.request(Method::GET, &format!("/v1/bookings/{id}")))
            .await
    }

    /// Every version of a booking, oldest first (every page).
    pub async fn history(&self, id: &str) -> Result<HistoryView, ClientError> {
        let path = format!("/v1/bookings/{id}/history");
        let mut all = HistoryView {
            entries: Vec::new(),
            next_cursor: None,
        };
        let mut cursor: Option<String> = None;
        loop {
            let page: HistoryView = self
                .send_retrying(|| {
                    let request = self
                        .request(Method::GET, &path)
                        .query(&[("limit", PAGE_SIZE.to_string())]);
                    match &cursor {
                        Some(cursor) => request.query(&[("cursor", cursor)]),
                        None => request,
                    }
                })
                .await?;
            all.entries.extend(page.entries);
            match page.next_cursor {
                Some(next) if cursor.as_deref() != Some(next.as_str()) => cursor = Some(next),
                _ => return Ok(all),
            }
        }
    }

    pub async fn cancellation(&self, id: &str) -> Result<CancellationView, ClientError> {
        self.send_retrying(|| self.request(Method::GET, &format!("/v1/bookings/{id}/cancellation")))
            .await
    }

    /// Cancels, confirming the fee shown. Not retried: a changed fee must reach the rider.
    pub async fn cancel(
        &self,
        id: &str,
        acknowledged_fee_minor: i64,
    ) -> Result<BookingView, ClientError> {
        let body = CancelRequest {
            acknowledged_fee_minor,
        };
        Self::send(
            self.request(Method::POST, &format!("/v1/bookings/{id}/cancel"))
                .json(&body),
        )
        .await
    }
}
