//! Use cases. Each function takes the service context (`Ctx`), parses input into domain types,
//! checks access, makes its change through a `UnitOfWork`, and returns domain results or an
//! `AppError`.

pub mod access;
pub mod accounts;
pub mod activity;
pub mod admin_sessions;
pub mod attachments;
pub mod comments;
pub mod context;
pub mod demo;
pub mod external_jwt;
pub mod identity;
pub mod identity_sync;
pub mod invitations;
pub mod jobs;
pub mod jwks;
pub mod key_usage;
pub mod labels;
pub mod list_cache;
pub mod members;
pub mod oidc;
pub mod page;
pub mod password_reset;
pub mod passwords;
pub mod periodic_flush;
pub mod plans;
pub mod projects;
pub mod quotas;
pub mod roles;
pub mod search;
pub mod stripe;
pub mod subscriptions;
pub mod task_list;
pub mod tasks;
pub mod tenants;
pub mod time_entries;
pub mod transfer;
pub mod two_factor;
pub mod unit_of_work;
pub mod usage;
pub mod webhooks;
pub mod workspaces;

pub use context::Ctx;
