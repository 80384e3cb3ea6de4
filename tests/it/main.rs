//! Integration tests: one binary, one module per area. Each test gets a
//! fresh store in its own temporary folder.

#[cfg(feature = "neo4j")]
mod conformance;
mod crash;
mod helpers;
mod import;
mod store;
mod web;
