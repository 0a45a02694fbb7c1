//! The black-box suite: every test drives a real server over HTTP. One binary for all of them
//! keeps link time down.

mod admin_users;
mod attachments;
mod auth;
mod cache;
mod cli;
mod emails;
mod event_coverage;
mod health;
mod helpers;
mod idempotency;
mod identity;
mod invitations;
mod jobs;
mod mail;
mod matrix;
mod metrics;
mod password_reset;
mod projects;
mod prometheus;
mod properties;
mod realtime;
mod roles;
mod search;
mod seed_organizations;
mod seed_projects;
mod tasks;
mod tenancy;
mod trace_context;
mod worker_process;
mod workspaces;
mod write_path;
