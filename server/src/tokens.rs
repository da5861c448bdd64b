//! Signed quote tokens: `base64url(quote JSON) . base64url(HMAC-SHA256(key, first part))`.
//! A booking presents the token; the server trusts the price inside only if the MAC verifies.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chauffeur_core::Quote;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the quote token is malformed")]
    Malformed,
    #[error("the quote token's signature does not match")]
    BadSignature,
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
        // HMAC takes keys of any length; new_from_slice cannot fail for it.
        HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!())
    }

    pub fn sign(&self, quote: &Quote) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(quote).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    pub fn verify(&self, token: &str) -> Result<Quote, TokenError> {
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
