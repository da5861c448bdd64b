//! The payment provider port against the local provider double, run as a real process over
//! loopback: authorisation with manual capture, capture, release, refund, declines, a
//! 3-D Secure step, timeouts, and idempotency keys that make a retry charge nothing twice.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod common;

use std::time::Duration;

use chauffeur_server::payments::stripe::StripeApi;
use chauffeur_server::payments::{
    Authorization, IdempotencyKey, IntentStatus, PaymentError, PaymentProvider,
};
use common::double::Double;
use uuid::Uuid;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn authorization(booking_id: Uuid, payment_method: &str) -> Authorization<'_> {
    Authorization {
        amount_minor: 9_300,
        currency: "EUR",
        payment_method,
        booking_id,
        key: IdempotencyKey::for_step(booking_id, "authorize"),
    }
}

#[test]
fn an_authorised_fare_is_captured_once_however_often_the_capture_is_retried() {
    let double = Double::start();
    let api = StripeApi::new(&double.base, "sk_test_chauffeur", Duration::from_secs(10)).unwrap();
    runtime().block_on(async {
        let booking = Uuid::now_v7();
        let request = authorization(booking, "pm_card_visa");
        let intent = api.authorize(&request).await.unwrap();
        assert_eq!(intent.status, IntentStatus::RequiresCapture);
        assert_eq!((intent.amount, intent.currency.as_str()), (9_300, "eur"));
        // The same step again (a retry after a lost answer): the same intent, nothing new.
        assert_eq!(api.authorize(&request).await.unwrap().id, intent.id);

        let capture = IdempotencyKey::for_step(booking, "capture");
        let captured = api.capture(&intent.id, 8_000, &capture).await.unwrap();
        assert_eq!(captured.status, IntentStatus::Succeeded);
        assert_eq!(captured.amount_received, 8_000);
        let again = api.capture(&intent.id, 8_000, &capture).await.unwrap();
        assert_eq!(
            again, captured,
            "a retried capture replays, it does not charge again"
        );
        assert_eq!(
            api.retrieve(&intent.id).await.unwrap().amount_received,
            8_000
        );

        let refund_key = IdempotencyKey::for_step(booking, "refund-1");
        let refund = api.refund(&intent.id, 3_000, &refund_key).await.unwrap();
        assert_eq!(refund.amount, 3_000);
        let too_much = api
            .refund(
                &intent.id,
                6_000,
                &IdempotencyKey::for_step(booking, "refund-2"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(too_much, PaymentError::Refused { .. }),
            "{too_much:?}"
        );
    });
    let counted = double.stats();
    assert_eq!(counted["authorizations"], 1);
    assert_eq!(counted["captures"], 1);
    assert_eq!(counted["refunds"], 1);
    assert_eq!(counted["replays"], 2);
}

#[test]
fn declines_actions_releases_and_outages_are_told_apart() {
    let double = Double::start();
    let api = StripeApi::new(&double.base, "sk_test_chauffeur", Duration::from_secs(10)).unwrap();
    runtime().block_on(async {
        let declined = api
            .authorize(&authorization(
                Uuid::now_v7(),
                "pm_card_chargeDeclinedInsufficientFunds",
            ))
            .await
            .unwrap_err();
        assert_eq!(
            declined,
            PaymentError::Declined {
                code: "insufficient_funds".into(),
                message: "Your card has insufficient funds.".into()
            }
        );

        let booking = Uuid::now_v7();
        let action = api
            .authorize(&authorization(booking, "pm_card_threeDSecure2Required"))
            .await
            .unwrap();
        assert_eq!(action.status, IntentStatus::RequiresAction);
        assert!(
            action.client_secret.is_some(),
            "the app needs it to finish the step"
        );

        // A free cancellation releases the hold; capturing afterwards is refused.
        let held = api
            .authorize(&authorization(Uuid::now_v7(), "pm_card_visa"))
            .await
            .unwrap();
        let released = api
            .cancel(&held.id, &IdempotencyKey::for_step(booking, "release"))
            .await
            .unwrap();
        assert_eq!(released.status, IntentStatus::Canceled);
        let late = api
            .capture(&held.id, 100, &IdempotencyKey::for_step(booking, "capture"))
            .await
            .unwrap_err();
        assert!(matches!(late, PaymentError::Refused { .. }), "{late:?}");

        // A wrong secret is refused, not "unavailable".
        let wrong = StripeApi::new(&double.base, "sk_live_nope", Duration::from_secs(5)).unwrap();
        assert!(matches!(
            wrong.retrieve(&held.id).await.unwrap_err(),
            PaymentError::Refused { .. }
        ));

        // Slow and gone are both "unavailable": retry later with the same key.
        let impatient = StripeApi::new(
            &double.base,
            "sk_test_chauffeur",
            Duration::from_millis(500),
        )
        .unwrap();
        let slow = impatient
            .authorize(&authorization(Uuid::now_v7(), "pm_card_slow"))
            .await
            .unwrap_err();
        assert_eq!(slow, PaymentError::Unavailable("timed out".into()));
        let nobody = StripeApi::new(
            "http://127.0.0.1:9",
            "sk_test_chauffeur",
            Duration::from_secs(2),
        )
        .unwrap();
        assert!(matches!(
            nobody.retrieve("pi_x").await.unwrap_err(),
            PaymentError::Unavailable(_)
        ));
    });
}
