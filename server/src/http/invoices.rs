//! Invoices: issued for every completed ride and every cancellation that cost a fee, as JSON or
//! as a PDF in German or English.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chauffeur_core::fare::cancellation_receipt;
use chauffeur_core::invoice::{InvoiceInputs, InvoiceKind, InvoiceView};
use chauffeur_core::{BookingState, Money};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, Problem};
use crate::http::bookings::{currency_of, own_booking};
use crate::http::extract::{Authenticated, IdPath};
use crate::invoice_pdf::{self, Language};
use crate::state::AppState;
use crate::store::Booking;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(booking_invoice))
}

/// The booking's invoice, issuing it (with the issuer's next number) if this is the first time
/// it is asked for; none while nothing is charged.
pub async fn invoice_of(
    state: &AppState,
    booking: &Booking,
) -> Result<Option<InvoiceView>, ApiError> {
    let (receipt, kind) = match (&booking.receipt, booking.cancellation_fee_minor) {
        (Some(receipt), _) => (receipt.clone(), InvoiceKind::Ride),
        (None, Some(fee)) if fee > 0 && booking.state == BookingState::Cancelled => {
            let fee = Money::new(fee, currency_of(booking)?);
            let receipt = cancellation_receipt(&booking.quote, fee).map_err(|e| {
                tracing::error!(error = %e, booking = %booking.id, "cancellation receipt");
                ApiError::internal()
            })?;
            (receipt, InvoiceKind::CancellationFee)
        }
        _ => return Ok(None),
    };
    let issued = match state.store.invoice(booking.id).await? {
        Some(issued) => issued,
        None => {
            let rider = state.store.user(booking.rider_id).await?;
            let billed_to = rider
                .as_ref()
                .map(|u| u.name.clone().unwrap_or_else(|| u.email.clone()))
                .unwrap_or_default();
            let city_name = state
                .catalog
                .city(&booking.city_id)
                .map(|c| c.name.clone())
                .unwrap_or_else(|_| booking.city_id.clone());
            let draft = InvoiceView::draft(InvoiceInputs {
                issuer: &state.invoice_issuer,
                billed_to: &billed_to,
                booking_id: booking.id,
                city_name: &city_name,
                quote: &booking.quote,
                receipt: &receipt,
                kind,
                issued_at: booking.updated_at,
                payment_method: booking.payment.as_ref().map(|_| "Card".to_owned()),
            });
            let document = serde_json::to_value(&draft).map_err(|_| ApiError::internal())?;
            state
                .store
                .issue_invoice(
                    booking.id,
                    &state.invoice_issuer.number_prefix,
                    booking.updated_at,
                    &document,
                )
                .await?
        }
    };
    let invoice: InvoiceView = serde_json::from_value(issued.document).map_err(|e| {
        tracing::error!(error = %e, booking = %booking.id, "stored invoice is unreadable");
        ApiError::internal()
    })?;
    Ok(Some(invoice.numbered(issued.sequence)))
}

/// Issues the invoice of a booking that has just become chargeable; a failure is logged and
/// left to the first request for it (which issues it then).
pub async fn issue_after_charge(state: &AppState, booking: &Booking) {
    if let Err(e) = invoice_of(state, booking).await {
        tracing::warn!(booking = %booking.id, error = %e, "invoice not issued yet");
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// `de` or `en` for the PDF; default: the first language of `Accept-Language`, else `en`.
    pub lang: Option<String>,
}

/// The invoice of a completed ride or of a cancellation that cost a fee: JSON, or a PDF with
/// `Accept: application/pdf` (German or English). Numbered gap-free per issuer when first
/// issued (at completion or cancellation), and unchanged afterwards.
#[utoipa::path(get, path = "/v1/bookings/{id}/invoice", tag = "bookings", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Booking id"), InvoiceQuery),
    responses(
        (status = 200, body = InvoiceView, description = "The invoice (JSON; application/pdf when asked for)"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such booking, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing is charged: the ride is ahead, or was cancelled free (no_invoice_yet)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn booking_invoice(
    State(state): State<AppState>,
    auth: Authenticated,
    IdPath(id): IdPath,
    Query(query): Query<InvoiceQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (booking, _) = own_booking(&state, &auth.user, id).await?;
    let invoice = invoice_of(&state, &booking).await?.ok_or_else(|| {
        ApiError::conflict(
            "no_invoice_yet",
            "there is no invoice for this booking: one comes with the completed ride or a \
             cancellation that costs a fee",
        )
    })?;
    let wants_pdf = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/pdf"));
    if !wants_pdf {
        return Ok(Json(invoice).into_response());
    }
    let language = Language::choose(
        query.lang.as_deref(),
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let pdf = invoice_pdf::render(&invoice, language).map_err(|e| {
        tracing::error!(error = %e, booking = %booking.id, "invoice PDF");
        ApiError::internal()
    })?;
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("inline; filename=\"{}.pdf\"", invoice.number))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}
