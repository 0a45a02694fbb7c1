//! Use cases. Each function takes the database (and what else it needs), parses nothing that
//! the domain types already guarantee, and returns domain results or an `AppError`.

pub mod access;
pub mod accounts;
pub mod activity;
pub mod attachments;
pub mod comments;
pub mod identity;
pub mod invitations;
pub mod jobs;
pub mod key_usage;
pub mod list_cache;
pub mod members;
pub mod page;
pub mod password_reset;
pub mod passwords;
pub mod projects;
pub mod roles;
pub mod search;
pub mod task_list;
pub mod tasks;
pub mod tenants;
pub mod workspaces;
