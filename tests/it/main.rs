//! Integration tests: one binary, one module per area. Each test gets a
//! fresh store in its own temporary folder.

mod api;
#[cfg(feature = "neo4j")]
mod conformance;
mod crash;
mod crash_serve;
mod engine;
mod fuzz_corpus;
mod helpers;
mod identity;
mod import;
mod ingest;
mod pages;
mod plan;
mod store;
mod web;
