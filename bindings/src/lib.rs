//! chauffeur-ffi: the rider SDK as Kotlin and Swift see it. UniFFI wrappers only — records
//! converted from the core's types, the `RiderApp` and subscription objects, one public error,
//! foreign traits for the platform's secure storage and for listeners, and an explicit logging
//! init. Every rule lives in chauffeur-core.
//!
//! Exports that may touch the disk, the network or a foreign store are `async` and run on the
//! SDK's own tokio runtime, so a UI thread can never block on them; the synchronous ones
//! (`state`, `edit_form`, `estimate_fares`) only compute.

mod error;
mod logging;
mod rider_app;
mod runtime;
mod storage;

pub use error::ChauffeurError;
pub use logging::{init_logging, LogLevel, LogSink};
pub use rider_app::*;
pub use storage::{file_secure_storage, memory_secure_storage, SecureStorage};

uniffi::setup_scaffolding!();
