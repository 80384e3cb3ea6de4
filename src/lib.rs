//! renmai: relationship intelligence for key-account sales and service.
//!
//! The app around the pure scoring crate `renmai-graph`: configuration,
//! stores, import and export, the HTTP server (JSON API and pages) and the CLI.

pub mod access;
pub mod auth;
pub mod bundle;
pub mod cli;
pub mod config;
pub mod deals;
pub mod demo;
pub mod engine;
pub mod humanize;
pub mod import;
pub mod ingest;
pub mod leads;
pub mod patterns;
pub mod plan;
pub mod privacy;
pub mod store;
pub mod support;
pub mod validate;
pub mod web;
