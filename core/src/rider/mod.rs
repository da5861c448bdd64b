//! The rider side (feature `client`): the API client, the offline cache and its outbox, sync,
//! live rides, the secure store and the headless rider app. This half does I/O and reads clocks;
//! the domain half does not.

pub mod cache;
pub mod client;
pub mod machine;
pub mod ride_events;
pub mod rider_app;
pub mod secure_store;
pub mod sync;
