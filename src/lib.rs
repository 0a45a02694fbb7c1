//! Kanri: a self-hostable project-management backend.
//!
//! `main.rs` only parses the command line; everything else lives here so that the
//! tests can drive the same code the binary runs. See `ARCHITECTURE.md` for the map.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod mail;
pub mod search;
pub mod services;
pub mod telemetry;

pub use app::App;
pub use config::Config;
