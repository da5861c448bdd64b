//! Invoices: what a rider files for their expenses. Built from the booking's receipt, the
//! issuer's legal details (configuration: the platform operator as seller of record) and the
//! billed name; numbered by the store from a gap-free sequence per issuer. Pure: the server
//! stores and renders it (JSON, PDF).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::catalog::VehicleClass;
use crate::fare::{ProductKind, Quote, Receipt};
use crate::wire::{LineView, MoneyView, RouteView};

/// The seller of record printed on every invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Issuer {
    /// Legal name, e.g. "Chauffeur Platform GmbH".
    pub name: String,
    /// Postal address, one line each.
    pub address: Vec<String>,
    /// VAT identification number (USt-IdNr.), e.g. "DE123456789".
    pub vat_id: String,
    /// Commercial register entry, if any (e.g. "Amtsgericht Charlottenburg HRB 12345").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Invoice numbers read `<prefix>-000001`, one gap-free sequence per prefix.
    pub number_prefix: String,
}

impl Issuer {
    /// Checks what a configuration file gave.
    pub fn validate(&self) -> Result<(), String> {
        let prefix_ok = !self.number_prefix.is_empty()
            && self.number_prefix.len() <= 16
            && self
                .number_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-');
        if self.name.trim().is_empty() {
            Err("the invoice issuer needs a name".into())
        } else if self.address.iter().all(|l| l.trim().is_empty()) {
            Err("the invoice issuer needs an address".into())
        } else if self.vat_id.trim().is_empty() {
            Err("the invoice issuer needs a VAT id".into())
        } else if !prefix_ok {
            Err("number_prefix must be 1 to 16 letters, digits or dashes".into())
        } else {
            Ok(())
        }
    }

    /// The printed number of the `sequence`-th invoice.
    pub fn number(&self, sequence: i64) -> String {
        format!("{}-{sequence:06}", self.number_prefix)
    }
}

/// What the invoice charges for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvoiceKind {
    /// A completed ride: the quoted fare and the extras after it.
    Ride,
    /// A cancellation inside the fee window.
    CancellationFee,
}

/// The service rendered: when, where, what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceService {
    /// Pickup in the city's local time.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub pickup_local: NaiveDateTime,
    pub city_id: String,
    pub city_name: String,
    pub product: ProductKind,
    pub class: VehicleClass,
    pub route: RouteView,
}

/// The VAT of one rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VatRow {
    /// Basis points: 1900 is 19 %.
    pub rate_bp: u32,
    pub net: MoneyView,
    pub vat: MoneyView,
}

/// An invoice as issued: `GET /v1/bookings/{id}/invoice` (JSON, or PDF with
/// `Accept: application/pdf`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceView {
    /// Printed number, gap-free per issuer, e.g. "CH-000042".
    pub number: String,
    /// Its place in the issuer's sequence.
    pub sequence: i64,
    pub issued_at: DateTime<Utc>,
    pub issuer: Issuer,
    /// The account holder's name (or e-mail when they gave no name).
    pub billed_to: String,
    pub booking_id: Uuid,
    pub kind: InvoiceKind,
    pub service: InvoiceService,
    /// Every charged line (VAT-inclusive amounts); they add up to `total`.
    pub lines: Vec<LineView>,
    pub net: MoneyView,
    /// One row per VAT rate.
    pub vat: Vec<VatRow>,
    pub total: MoneyView,
    /// ISO 4217.
    pub currency: String,
    /// How it was paid; none while no payment provider took it.
    pub payment_method: Option<String>,
}

/// What an invoice is built from (its number comes later, from the store).
pub struct InvoiceInputs<'a> {
    pub issuer: &'a Issuer,
    pub billed_to: &'a str,
    pub booking_id: Uuid,
    pub city_name: &'a str,
    pub quote: &'a Quote,
    pub receipt: &'a Receipt,
    pub kind: InvoiceKind,
    pub issued_at: DateTime<Utc>,
    pub payment_method: Option<String>,
}

impl InvoiceView {
    /// The invoice of a receipt, not yet numbered (`sequence` 0, empty `number`).
    pub fn draft(inputs: InvoiceInputs<'_>) -> InvoiceView {
        let fare = &inputs.receipt.fare;
        InvoiceView {
            number: String::new(),
            sequence: 0,
            issued_at: inputs.issued_at,
            issuer: inputs.issuer.clone(),
            billed_to: inputs.billed_to.to_owned(),
            booking_id: inputs.booking_id,
            kind: inputs.kind,
            service: InvoiceService {
                pickup_local: inputs.quote.pickup.local,
                city_id: inputs.quote.city_id.clone(),
                city_name: inputs.city_name.to_owned(),
                product: inputs.quote.product,
                class: inputs.quote.class,
                route: RouteView::of(inputs.quote),
            },
            lines: fare.lines.iter().map(LineView::from).collect(),
            net: fare.net.into(),
            vat: vec![VatRow {
                rate_bp: fare.vat_rate_bp,
                net: fare.net.into(),
                vat: fare.vat.into(),
            }],
            total: fare.total.into(),
            currency: fare.total.currency.code().to_owned(),
            payment_method: inputs.payment_method,
        }
    }

    /// The same invoice with its number from the issuer's sequence.
    pub fn numbered(mut self, sequence: i64) -> InvoiceView {
        self.number = self.issuer.number(sequence);
        self.sequence = sequence;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> Issuer {
        Issuer {
            name: "Chauffeur Platform GmbH".into(),
            address: vec!["Unter den Linden 1".into(), "10117 Berlin".into()],
            vat_id: "DE123456789".into(),
            registration: None,
            email: None,
            number_prefix: "CH".into(),
        }
    }

    #[test]
    fn numbers_are_the_prefix_and_six_digits() {
        assert_eq!(issuer().number(42), "CH-000042");
        assert_eq!(issuer().number(1_234_567), "CH-1234567");
    }

    #[test]
    fn an_issuer_without_its_legal_details_is_refused() {
        assert!(issuer().validate().is_ok());
        let no_vat = Issuer {
            vat_id: " ".into(),
            ..issuer()
        };
        assert!(no_vat.validate().is_err());
        let bad_prefix = Issuer {
            number_prefix: "C H".into(),
            ..issuer()
        };
        assert!(bad_prefix.validate().is_err());
    }
}
