//! Integration tests: one binary, one module per area. Each test gets a
//! fresh store in its own temporary folder.

mod api;
#[cfg(feature = "neo4j")]
mod conformance;
mod crash;
mod deals;
mod engine;
mod fuzz_corpus;
mod helpers;
mod identity;
mod import;
mod ingest;
mod pages;
mod patterns;
mod plan;
mod service;
mod store;
mod support;
mod web;
