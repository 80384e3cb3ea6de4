//! Integration tests: one binary, one module per area. Each test gets a
//! fresh store in its own temporary folder.

mod access;
mod api;
#[cfg(feature = "neo4j")]
mod conformance;
mod conformance_forget;
#[cfg(feature = "neo4j")]
mod conformance_privacy;
mod crash;
mod crash_serve;
#[cfg(feature = "neo4j")]
mod crash_serve_bolt;
mod deal_lookup;
mod deals;
mod deals_api;
mod deals_pages;
mod engine;
mod forms;
mod fuzz_corpus;
mod helpers;
mod identity;
mod import;
mod ingest;
mod limits;
mod migrate_beside;
#[cfg(feature = "neo4j")]
mod neo4j;
mod pages;
mod patterns;
mod phones;
mod plan;
mod privacy;
mod provenance_counts;
mod replies;
mod service;
mod store;
mod support;
mod web;
