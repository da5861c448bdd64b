//! Signed quote tokens. A token carries the quote's inputs, not its output: the request, the
//! route, when it was quoted, the catalog version and the total of every class offered, as
//! `base64url(JSON) . base64url(HMAC-SHA256(key, first part)) . class`. One signature covers all
//! classes of a quote request (the class suffix only picks one of the signed totals). Booking
//! re-prices the claim with the same fare engine and catalog and checks the total, so the token
//! stays small and cheap to sign, and the rider pays exactly the quoted price.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chauffeur_core::{
    quote, Catalog, KnownRoute, Quote, QuoteRequest, RouteEstimate, VehicleClass,
};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the quote token is malformed")]
    Malformed,
    #[error("the quote token's signature does not match")]
    BadSignature,
    #[error("prices were updated since this quote")]
    CatalogChanged,
    #[error("the quote no longer prices the same")]
    Inconsistent,
}

/// The class a token books, after the signed part.
fn split_class(token: &str) -> Result<(&str, VehicleClass), TokenError> {
    let (signed, class) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
    let class = VehicleClass::parse(class).ok_or(TokenError::Malformed)?;
    Ok((signed, class))
}

/// What a quote token asserts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteClaim {
    pub request: QuoteRequest,
    pub route: RouteEstimate,
    pub quoted_at: DateTime<Utc>,
    pub catalog_version: String,
    /// The total of each class offered, in minor units.
    pub totals: Vec<(VehicleClass, i64)>,
}

impl QuoteClaim {
    /// The claim for the quotes of one request (all computed from the same inputs and clock).
    pub fn new(request: &QuoteRequest, quotes: &[Quote]) -> Option<QuoteClaim> {
        let first = quotes.first()?;
        Some(QuoteClaim {
            request: request.clone(),
            route: first.route,
            quoted_at: first.quoted_at,
            catalog_version: first.catalog_version.clone(),
            totals: quotes
                .iter()
                .map(|q| (q.class, q.total().amount_minor))
                .collect(),
        })
    }

    /// The full quote of `class` again, from the same inputs, catalog and clock reading.
    pub fn reprice(&self, catalog: &Catalog, class: VehicleClass) -> Result<Quote, TokenError> {
        if catalog.version() != self.catalog_version {
            return Err(TokenError::CatalogChanged);
        }
        let signed_total = self
            .totals
            .iter()
            .find(|(c, _)| *c == class)
            .map(|(_, total)| *total)
            .ok_or(TokenError::Inconsistent)?;
        let q = quote(
            catalog,
            &KnownRoute(self.route),
            &self.request,
            class,
            self.quoted_at,
        )
        .map_err(|_| TokenError::Inconsistent)?;
        if q.total().amount_minor != signed_total {
            return Err(TokenError::Inconsistent);
        }
        Ok(q)
    }
}

#[derive(Clone)]
pub struct QuoteSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for QuoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QuoteSigner(..)")
    }
}

impl QuoteSigner {
    /// At least 32 bytes of key.
    pub fn new(key: &[u8]) -> Option<QuoteSigner> {
        (key.len() >= 32).then(|| QuoteSigner { key: key.to_vec() })
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length, so this cannot fail.
        HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!())
    }

    /// The signed claim; append `.<class>` to make the token of one class.
    pub fn sign(&self, claim: &QuoteClaim) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claim).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    pub fn token(signed: &str, class: VehicleClass) -> String {
        format!("{signed}.{class}")
    }

    /// Checks a class token; returns the claim and the class it books.
    pub fn verify(&self, token: &str) -> Result<(QuoteClaim, VehicleClass), TokenError> {
        let (signed, class) = split_class(token)?;
        Ok((self.verify_signed(signed)?, class))
    }

    fn verify_signed(&self, token: &str) -> Result<QuoteClaim, TokenError> {
        let (payload, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)
    }
}
