//! The one public error of the SDK, and how the core's errors become it.

use chauffeur_core::rider_app as core_app;

/// Every failure of the SDK. Each carries a stable `code` (the server's and core's codes, or
/// the SDK's own: `offline`, `not_signed_in`, `no_such_quote`, `estimate_not_bookable`,
/// `quote_expired`, `unknown_booking`, `storage`, `unexpected_answer`).
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum ChauffeurError {
    /// Input the rider can fix, shown next to `field`.
    #[error("{detail}")]
    InvalidInput {
        code: String,
        field: String,
        detail: String,
    },
    /// The server said no, with its HTTP status.
    #[error("{detail}")]
    Refused {
        code: String,
        status: i32,
        detail: String,
    },
    #[error("{detail}")]
    Offline { code: String, detail: String },
    #[error("{detail}")]
    NotSignedIn { code: String, detail: String },
    /// The app asked for something the flow does not allow now (no such quote, an estimate).
    #[error("{detail}")]
    NotAllowed { code: String, detail: String },
    /// The device's storage (cache file, secure store) failed.
    #[error("{detail}")]
    Storage { code: String, detail: String },
    #[error("{detail}")]
    Unexpected { code: String, detail: String },
}

impl ChauffeurError {
    pub fn code(&self) -> &str {
        match self {
            ChauffeurError::InvalidInput { code, .. }
            | ChauffeurError::Refused { code, .. }
            | ChauffeurError::Offline { code, .. }
            | ChauffeurError::NotSignedIn { code, .. }
            | ChauffeurError::NotAllowed { code, .. }
            | ChauffeurError::Storage { code, .. }
            | ChauffeurError::Unexpected { code, .. } => code,
        }
    }
}

impl From<core_app::RiderError> for ChauffeurError {
    fn from(e: core_app::RiderError) -> ChauffeurError {
        use core_app::RiderError as R;
        let code = e.code().to_owned();
        let detail = e.to_string();
        match e {
            R::InvalidInput { field, .. } => ChauffeurError::InvalidInput {
                code,
                field,
                detail,
            },
            R::Refused { status, .. } => ChauffeurError::Refused {
                code,
                status: i32::from(status),
                detail,
            },
            R::Offline(_) => ChauffeurError::Offline { code, detail },
            R::NotSignedIn => ChauffeurError::NotSignedIn { code, detail },
            R::NoSuchQuote { .. }
            | R::UnsentChanges(_)
            | R::EstimateNotBookable
            | R::QuoteExpired
            | R::UnknownBooking(_) => ChauffeurError::NotAllowed { code, detail },
            R::Storage(_) => ChauffeurError::Storage { code, detail },
            R::Unexpected(_) => ChauffeurError::Unexpected { code, detail },
        }
    }
}

/// A foreign implementation (secure store, listener) threw something it did not declare.
impl From<uniffi::UnexpectedUniFFICallbackError> for ChauffeurError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> ChauffeurError {
        ChauffeurError::Unexpected {
            code: "foreign_callback".into(),
            detail: e.reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core_app::RiderError as R;

    #[test]
    fn every_sdk_error_keeps_its_code_and_message_across_the_boundary() {
        let errors = [
            R::InvalidInput {
                field: "dropoff".into(),
                code: "outside_service_area".into(),
                message: "dropoff is outside Berlin".into(),
            },
            R::Refused {
                status: 409,
                code: "cancellation_fee_changed".into(),
                detail: "the fee is now EUR 45.00".into(),
            },
            R::Offline("connection refused".into()),
            R::NotSignedIn,
            R::NoSuchQuote {
                class: chauffeur_core::VehicleClass::Van,
            },
            R::EstimateNotBookable,
            R::QuoteExpired,
            R::UnknownBooking("b-1".into()),
            R::Storage("disk full".into()),
            R::Unexpected("not json".into()),
            R::UnsentChanges(2),
        ];
        for e in errors {
            let (code, message) = (e.code().to_owned(), e.to_string());
            let exported = ChauffeurError::from(e);
            assert_eq!(exported.code(), code);
            assert_eq!(exported.to_string(), message);
        }
    }
}
