//! Invoices: issued once per charged booking, numbered gap-free per issuer.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{Store, StoreError};

/// A stored invoice: its number in the issuer's sequence and the document as issued.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedInvoice {
    pub sequence: i64,
    pub issued_at: DateTime<Utc>,
    pub document: Value,
}

impl Store {
    /// The booking's invoice, issuing it now (with the issuer's next number) if it has none.
    /// Racing calls for one booking get the same invoice; a failed call uses no number.
    pub async fn issue_invoice(
        &self,
        booking_id: Uuid,
        issuer: &str,
        issued_at: DateTime<Utc>,
        document: &Value,
    ) -> Result<IssuedInvoice, StoreError> {
        write_turn!(
            self,
            invoices::issue_invoice(booking_id, issuer, issued_at, document)
        )
    }

    /// The booking's invoice, if one was issued.
    pub async fn invoice(&self, booking_id: Uuid) -> Result<Option<IssuedInvoice>, StoreError> {
        read!(self, invoices::invoice(booking_id))
    }
}
