//! The pure domain: inputs and a clock reading (`now`) in, decisions out. No clock of its own,
//! no disk, no network — `core/clippy.toml` turns any such call here into a lint error.

pub mod booking;
pub mod cancellation;
pub mod catalog;
pub mod dispatch;
pub mod distance;
pub mod error;
pub mod fare;
pub mod invoice;
pub mod money;
pub mod payment;
pub mod pickup;
pub mod places;
pub mod wire;
