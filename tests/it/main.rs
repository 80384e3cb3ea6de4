//! Integration tests: one binary, one module per area. Each test gets a
//! fresh store in its own temporary folder.

mod access;
mod api;
#[cfg(feature = "neo4j")]
mod conformance;
mod conformance_forget;
mod crash;
mod crash_serve;
mod deals;
mod deals_api;
mod deals_pages;
mod engine;
mod fuzz_corpus;
mod helpers;
mod identity;
mod import;
mod ingest;
#[cfg(feature = "neo4j")]
mod neo4j;
mod pages;
mod patterns;
mod phones;
mod plan;
mod privacy;
mod replies;
mod service;
mod store;
mod support;
mod web;
