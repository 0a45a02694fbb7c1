//! Handlers, one module per resource (a folder when it holds several ideas), and the seeds'
//! adapters, one folder per seed (`seed000`, `seed001`, `seed002`; `seed_lists` reads the
//! lists they return whole). Each registers its routes (with their OpenAPI descriptions)
//! through `routes()`; `http::router` puts them together.

pub mod admin_activity;
pub mod admin_health;
pub mod admin_jobs;
pub mod admin_keys;
pub mod admin_users;
pub mod admin_webhooks;
pub mod admin_workspaces;
pub mod attachments;
pub mod auth;
pub mod billing;
pub mod docs;
pub mod health;
pub mod invitations;
pub mod labels;
pub mod metrics;
pub mod oidc;
pub mod plans;
pub mod projects;
pub mod realtime;
pub mod roles;
pub mod search;
pub mod seed000;
pub mod seed001;
pub mod seed002;
pub mod seed_lists;
pub mod stripe;
pub mod tasks;
pub mod transfer;
pub mod two_factor;
pub mod webhook_endpoints;
pub mod webhooks;
pub mod workspaces;

use serde::Serialize;
use utoipa::ToSchema;

/// OpenAPI shape of a successful envelope around `T`.
#[derive(Serialize, ToSchema)]
pub struct Success<T: ToSchema> {
    pub success: bool,
    pub data: T,
}

/// A page of a list: the items and the cursor for the next page (`null` on the last).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// A page whose next position (a row id) is handed to the client as an opaque cursor.
    pub fn after(items: Vec<T>, next: Option<String>) -> Self {
        Self {
            items,
            next_cursor: next.as_deref().map(crate::http::pagination::encode_cursor),
        }
    }
}

/// The answer to a successful DELETE.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub id: String,
    pub deleted: bool,
}

impl Deleted {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            deleted: true,
        }
    }
}
