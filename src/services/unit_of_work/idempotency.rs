//! The idempotency claim a request holds while it runs (`http::idempotency` sets it, task-local
//! to the request). The first unit of work that commits in that request marks the claim
//! committed in its own transaction, with the response when the use case gave one
//! ([`UnitOfWork::created`]), so a crash at any instant leaves either neither the change nor the
//! mark, or both: a retry then runs afresh, or never runs again (and replays when it can).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use serde_json::Value;
use sqlx::AnyConnection;

use crate::db;

/// How the HTTP layer renders a created resource: `(status, body)`. Kept here as a plain
/// function so the services never see HTTP types.
pub type Render = fn(&Value) -> (u16, String);

pub struct Claim {
    scope: String,
    key: String,
    render: Render,
    state: AtomicU8,
}

const OPEN: u8 = 0;
const COMMITTED: u8 = 1;
const ANSWERED: u8 = 2;

/// What the request's units of work did with the claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimState {
    /// Nothing committed: the claim can be released for a retry.
    Open,
    /// A change committed with the mark, but no response: a retry must not run it again.
    Committed,
    /// A change committed with its response: a retry replays it.
    Answered,
}

impl Claim {
    pub fn new(scope: &str, key: &str, render: Render) -> Arc<Self> {
        Arc::new(Self {
            scope: scope.to_string(),
            key: key.to_string(),
            render,
            state: AtomicU8::new(OPEN),
        })
    }

    pub fn state(&self) -> ClaimState {
        match self.state.load(Ordering::Acquire) {
            OPEN => ClaimState::Open,
            COMMITTED => ClaimState::Committed,
            _ => ClaimState::Answered,
        }
    }
}

tokio::task_local! {
    static CLAIM: Arc<Claim>;
}

/// Runs `f` (the rest of the request) holding `claim`.
pub async fn within<F: Future>(claim: Arc<Claim>, f: F) -> F::Output {
    CLAIM.scope(claim, f).await
}

/// The claim of the running request, if it has one no unit of work has used yet.
pub(super) fn unused() -> Option<Arc<Claim>> {
    CLAIM
        .try_with(Arc::clone)
        .ok()
        .filter(|claim| claim.state() == ClaimState::Open)
}

/// Writes the mark (and the rendered answer) on the unit's transaction.
pub(super) async fn mark(
    conn: &mut AnyConnection,
    claim: &Claim,
    answer: Option<&Value>,
    now: i64,
) -> sqlx::Result<()> {
    let rendered = answer.map(|value| (claim.render)(value));
    let answer = rendered
        .as_ref()
        .map(|(status, body)| (i64::from(*status), body.as_str()));
    db::idempotency::commit_in(conn, &claim.scope, &claim.key, answer, now).await
}

/// After COMMIT: the claim is spent.
pub(super) fn spent(claim: &Claim, answered: bool) {
    let state = if answered { ANSWERED } else { COMMITTED };
    claim.state.store(state, Ordering::Release);
}
