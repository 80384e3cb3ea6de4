//! renmai-graph: the domain model of renmai and the algorithms that score it.
//!
//! Pure: no I/O, no async runtime, no HTTP. The app loads an account's data
//! from a store into an [`AccountData`] and asks this crate for scores; every
//! score comes with the evidence that produced it.

pub mod account;
pub mod config;
pub mod model;
pub mod time;

pub use account::AccountData;
pub use config::ScoringConfig;
pub use model::*;
pub use time::Timestamp;
