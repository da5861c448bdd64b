//! The server's integration tests run the real binary through the end-to-end harness
//! (`tests/src/lib.rs`, crate `chauffeur-e2e`); each test file reaches it as `common`.
#![allow(unused_imports)]

pub use chauffeur_e2e::*;

pub mod double;
pub mod ride;
