//! renmai-graph: the domain model of renmai and the algorithms that score it.
//!
//! Pure: no I/O, no async runtime, no HTTP. The app loads an account's data
//! from a store into an [`AccountData`] and asks this crate for scores; every
//! score comes with the evidence that produced it.
//!
//! One algorithm family per module: [`closeness`] (tie strength),
//! [`influence`] (PageRank, betweenness, the influence blend), [`paths`]
//! (warm paths, Dijkstra and Yen), [`coverage`] (gaps and risks), [`next`]
//! (next approaches); [`score`] puts them together per account.

pub mod account;
pub mod closeness;
pub mod config;
pub mod coverage;
pub mod deals;
pub mod influence;
pub mod model;
pub mod next;
pub mod paths;
pub mod patterns;
pub mod phone;
pub mod plan;
pub mod reciprocity;
pub mod report;
pub mod score;
pub mod service;
pub mod support;
pub mod time;

pub use account::AccountData;
pub use config::ScoringConfig;
pub use deals::DealConfig;
pub use model::*;
pub use phone::{PersonPhone, Phone, PhoneKind, PhoneRegion};
pub use score::{AccountScores, score_account, score_accounts, warm_paths, what_if_leaves};
pub use time::Timestamp;
