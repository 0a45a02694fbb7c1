//! Kanri: a self-hostable project-management backend.
//!
//! `main.rs` only parses the command line; everything else lives here so that the
//! tests can drive the same code the binary runs. See `ARCHITECTURE.md` for the map.

// `Config::redacted` lists every setting in one `json!`, deeper than the default limit.
#![recursion_limit = "256"]

pub mod app;
pub mod backup;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod domain;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod rate_limit;
pub mod realtime;
pub mod search;
pub mod services;
pub mod storage;
pub mod telemetry;
pub mod trace;
pub mod webhooks;

pub use app::App;
pub use config::Config;
