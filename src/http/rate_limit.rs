//! Rate limits at the HTTP edge (the rules are in `crate::rate_limit`).
//!
//! [`rate_limit`] is a middleware on every route. It puts an empty [`TenantCharge`] slot in
//! the request; whichever extractor resolves the tenant (`http::auth`) calls [`charge_tenant`],
//! which counts the request once — a second extractor on the same request reuses the answer —
//! and rejects it when over. On the auth surface the middleware first counts the client IP.
//! Afterwards it copies the `RateLimit-*` headers of the tightest check onto the response.
//! A route that resolves no tenant and is not on the auth surface (`/healthz`, `/readyz`,
//! `/metrics`) is never counted and gets no headers.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header::HeaderName;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::OnceCell;

use super::error::ApiError;
use crate::app::AppState;
use crate::error::AppError;
use crate::rate_limit::{Decision, Scope, client_ip, limit_key, tenant_limit_per_minute};

pub static RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub static RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub static RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// The routes counted per client IP: sign-up, sign-in (both steps), password reset and invitation accept,
/// under `/v1` and the seeds' paths alike.
pub const AUTH_SURFACE: &[&str] = &[
    "/v1/auth/register",
    "/v1/auth/login",
    "/v1/auth/login/two-factor",
    "/v1/auth/password-reset/request",
    "/v1/auth/password-reset/complete",
    "/v1/invitations/{id}/accept",
    "/auth/register",
    "/auth/login",
    "/auth/password-reset/request",
    "/auth/password-reset/complete",
    "/invitations/{id}/accept",
];

/// The once-per-request tenant check, shared by the extractors through the request's
/// extensions.
#[derive(Clone, Default)]
pub struct TenantCharge(Arc<OnceCell<Decision>>);

fn rejection(decision: &Decision) -> ApiError {
    ApiError::App(AppError::RateLimited {
        retry_after: decision.retry_after,
    })
}

/// Counts this request against `tenant_id`'s limit, once however many extractors call it.
pub async fn charge_tenant(
    parts: &Parts,
    state: &AppState,
    tenant_id: &str,
) -> Result<(), ApiError> {
    let Some(charge) = parts.extensions.get::<TenantCharge>() else {
        return Ok(());
    };
    let decision = charge
        .0
        .get_or_init(|| async {
            let limit = tenant_limit_per_minute(state, tenant_id).await;
            state.limiter.check(Scope::Tenant, tenant_id, limit).await
        })
        .await;
    if decision.allowed {
        Ok(())
    } else {
        Err(rejection(decision))
    }
}

fn on_auth_surface(req: &Request) -> bool {
    req.method() == Method::POST
        && req
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|p| AUTH_SURFACE.contains(&p.as_str()))
}

pub async fn rate_limit(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let charge = TenantCharge::default();
    req.extensions_mut().insert(charge.clone());
    let mut by_ip = None;
    if on_auth_surface(&req) {
        // Served without peer addresses (a bare router in a test) there is no IP to count.
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
            let forwarded = req
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok());
            let ip = client_ip(
                peer.ip(),
                forwarded,
                &state.config.rate_limit.trusted_proxies,
            );
            let limit = state.config.rate_limit.auth_per_minute;
            let decision = state
                .limiter
                .check(Scope::AuthIp, &limit_key(ip), limit)
                .await;
            if !decision.allowed {
                let mut response = rejection(&decision).into_response();
                set_headers(&mut response, &decision);
                return response;
            }
            by_ip = Some(decision);
        }
    }
    let mut response = next.run(req).await;
    let tenant = charge.0.get().copied();
    // The tightest of the checks this request passed is the one the client needs to see.
    let shown = [by_ip, tenant]
        .into_iter()
        .flatten()
        .min_by_key(|d| (d.allowed, d.remaining));
    if let Some(decision) = shown {
        set_headers(&mut response, &decision);
    }
    response
}

fn set_headers(response: &mut Response, decision: &Decision) {
    let headers = response.headers_mut();
    headers.insert(RATELIMIT_LIMIT.clone(), HeaderValue::from(decision.limit));
    headers.insert(
        RATELIMIT_REMAINING.clone(),
        HeaderValue::from(decision.remaining),
    );
    headers.insert(
        RATELIMIT_RESET.clone(),
        HeaderValue::from(decision.reset_secs()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_auth_surface_route_exists_as_a_post() {
        let doc = crate::http::openapi();
        for path in AUTH_SURFACE {
            let item = doc
                .paths
                .paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} is not a route"));
            assert!(item.post.is_some(), "{path} has no POST");
        }
    }
}
