//! Every workspace in the tenant with its subscription and usage, for the operator with the
//! secret key: the admin's billing page in one read.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Page, Success};
use crate::app::AppState;
use crate::http::auth::SecretKey;
use crate::http::envelope::{Envelope, ErrorBody};
use crate::http::error::ApiResult;
use crate::http::extract::Query;
use crate::http::pagination::PageParams;
use crate::services::subscriptions::{self, Reader, Subscription};
use crate::services::usage::{self, Usage};
use crate::services::workspaces::{self, Workspace};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_workspaces_with_billing))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkspaceBilling {
    pub workspace: Workspace,
    pub subscription: Subscription,
    pub usage: Usage,
}

#[utoipa::path(get, path = "/v1/admin/workspaces", tag = "admin",
    security(("secret_key" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "Every workspace in the tenant, oldest first, with its plan, subscription and usage", body = Success<Page<WorkspaceBilling>>),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
    ))]
pub async fn list_workspaces_with_billing(
    State(state): State<AppState>,
    SecretKey(key): SecretKey,
    Query(params): Query<PageParams>,
) -> ApiResult<Envelope<Page<WorkspaceBilling>>> {
    let (page, next) = workspaces::list_all(
        &state.cx,
        &key.tenant_id,
        params.after()?.as_deref(),
        params.limit()?,
    )
    .await?;
    let reader = Reader::Server {
        tenant_id: key.tenant_id,
    };
    // A page holds at most 100 workspaces; each is two small indexed reads.
    let mut items = Vec::with_capacity(page.len());
    for workspace in page {
        let subscription = subscriptions::get(&state.cx, &reader, &workspace.id).await?;
        let usage = usage::usage(&state.cx, &reader, &workspace.id).await?;
        items.push(WorkspaceBilling {
            workspace,
            subscription,
            usage,
        });
    }
    Ok(Envelope::ok(Page::after(items, next)))
}
