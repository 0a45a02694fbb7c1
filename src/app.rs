//! The running application: its shared state, and `serve`, which takes a bound listener and a
//! shutdown future so tests can run it on port 0 and stop it cleanly.

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::db::Db;
use crate::jobs::backup::schedule_backups;
use crate::jobs::runner::{KindRunner, schedule_housekeeping};
use crate::jobs::{Queue, worker};
use crate::mail::Mailer;
use crate::rate_limit::Limiter;
use crate::realtime::Realtime;
use crate::services::Ctx;
use crate::services::key_usage::KeyUsage;
use crate::services::passwords::Passwords;
use crate::services::search::Search;
use crate::storage::Storage;
use crate::storage::signing::SigningKey;

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    /// The database, the cache and the commit signals: what every use case runs with.
    pub cx: Ctx,
    pub passwords: Arc<Passwords>,
    pub key_usage: Arc<KeyUsage>,
    pub queue: Queue,
    pub mailer: Arc<dyn Mailer>,
    /// Attachment bytes (a local directory or S3).
    pub storage: Storage,
    /// Signs expiring download links; `None` when none is configured (Postgres without
    /// `KANRI_SIGNING_KEY`).
    pub signing_key: Option<SigningKey>,
    /// WebSocket/SSE subscribers and the fan-out to them.
    pub realtime: Realtime,
    pub search: Arc<Search>,
    /// Outgoing webhooks: the guarded delivery client and the secrets' cipher.
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// The TOTP secrets' cipher (none without a signing key).
    pub two_factor: crate::services::two_factor::TwoFactorKeys,
    /// Per-tenant and auth-surface rate limits (Redis when configured, else in process).
    pub limiter: Limiter,
    /// Verifies an outside identity provider's session JWTs, when one is configured.
    pub external_jwt: Option<Arc<crate::services::external_jwt::ExternalJwt>>,
    /// The default tenant's OpenID Connect provider, when one is configured.
    pub oidc: Option<Arc<crate::services::oidc::Oidc>>,
    /// The serialised OpenAPI document, built once from the route table.
    pub openapi: Bytes,
}

pub struct App {
    state: AppState,
}

impl App {
    /// Connects to the database and applies pending migrations.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        // Ring for TLS and JWTs; the S3 client (reqwest without a provider of its own) needs
        // it installed before it is built. A second app in the same process finds it so.
        crate::crypto::install_providers();
        // Before anything records: a metric recorded with no recorder installed is lost.
        crate::metrics::install();
        let db = Db::connect(&config).await?;
        db.migrate().await?;
        let realtime = Realtime::new(config.realtime.clone());
        let cx = Ctx {
            events_written: realtime.written_signal(),
            ..Ctx::new(db, &config)?
        };
        let queue = Queue::new(
            cx.db.clone(),
            config.jobs.queue.clone(),
            cx.jobs_waiting.clone(),
        );
        let mailer = crate::mail::from_config(&config.mail)?;
        let storage = Storage::from_config(&config.storage)?;
        let signing_key = SigningKey::from_config(&config)?;
        let embedder = crate::search::from_config(&config.search)?;
        let webhooks = Arc::new(crate::webhooks::Webhooks::new(
            &config.webhooks,
            signing_key.as_ref(),
        )?);
        // A model change (or tasks written before search existed) re-embeds in the background.
        crate::services::search::embed::enqueue_stale(&cx, embedder.model()).await?;
        let search = Arc::new(Search::new(
            cx.clone(),
            embedder,
            config.search.settings.clone(),
        ));
        let limiter = Limiter::from_config(&config.cache)?;
        let external_jwt = match &config.identity.external_jwt {
            Some(c) => Some(Arc::new(crate::services::external_jwt::ExternalJwt::new(
                c.clone(),
            )?)),
            None => None,
        };
        let two_factor = crate::services::two_factor::TwoFactorKeys::new(signing_key.as_ref());
        let oidc = match &config.identity.oidc {
            Some(c) => Some(Arc::new(crate::services::oidc::Oidc::new(c.clone())?)),
            None => None,
        };
        Ok(Self {
            state: AppState {
                two_factor,
                oidc,
                limiter,
                external_jwt,
                realtime,
                config: Arc::new(config),
                queue,
                mailer,
                storage,
                signing_key,
                search,
                webhooks,
                cx,
                passwords: Arc::new(Passwords::default()),
                key_usage: Arc::new(KeyUsage::default()),
                openapi: Bytes::new(),
            },
        })
    }

    pub fn db(&self) -> &Db {
        &self.state.cx.db
    }

    pub fn cx(&self) -> &Ctx {
        &self.state.cx
    }

    pub fn queue(&self) -> &Queue {
        &self.state.queue
    }

    pub fn realtime(&self) -> &Realtime {
        &self.state.realtime
    }

    pub fn search(&self) -> &Arc<Search> {
        &self.state.search
    }

    /// The runner for this application's job kinds.
    pub fn runner(&self) -> Arc<KindRunner> {
        Arc::new(KindRunner {
            cx: self.state.cx.clone(),
            mailer: self.state.mailer.clone(),
            storage: self.state.storage.clone(),
            app_url: self.state.config.server.app_url.clone(),
            embedder: self.state.search.embedder().clone(),
            webhooks: self.state.webhooks.clone(),
            config: self.state.config.clone(),
        })
    }

    /// Serves until `shutdown` completes, then drains in-flight requests, records pending key
    /// usage and closes the database.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let runner = self.runner();
        let state = self.state;
        let stop = CancellationToken::new();
        let events = state
            .realtime
            .start(
                &state.cx.db,
                state.config.database.url.expose(),
                stop.clone(),
            )
            .await;
        let mut workers = worker::spawn(&state.queue, runner, state.config.jobs.workers, &stop);
        let upkeep = crate::metrics::spawn_upkeep(stop.clone());
        if state.config.jobs.workers > 0 {
            workers.spawn(schedule_housekeeping(state.queue.clone(), stop.clone()));
        }
        if let Some(schedule) = state.config.backup.schedule.clone() {
            workers.spawn(schedule_backups(
                state.queue.clone(),
                schedule,
                stop.clone(),
            ));
        }
        let flusher = state.key_usage.clone().spawn_flusher(
            state.cx.db.clone(),
            state.config.auth.key_usage_flush,
            stop.clone(),
        );
        let usage_flusher = state.cx.api_calls.clone().spawn_flusher(
            state.cx.db.clone(),
            state.config.billing.usage_flush,
            stop.clone(),
        );
        let db = state.cx.db.clone();
        let closing = state.realtime.closing.clone();
        let shutdown = async move {
            shutdown.await;
            closing.cancel();
        };
        let router = crate::http::router(state);
        tracing::info!(addr = %listener.local_addr()?, "listening");
        // The peer address is the client IP the auth-surface limits count by.
        let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await?;
        stop.cancel();
        workers.join_all().await;
        upkeep.await?;
        flusher.await?;
        usage_flusher.await?;
        events.await?;
        db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Runs job workers only (no HTTP) until `shutdown` completes: `kanri worker`.
pub async fn run_workers(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let count = config.jobs.workers.max(1);
    let app = App::build(config).await?;
    let stop = CancellationToken::new();
    let mut workers = worker::spawn(app.queue(), app.runner(), count, &stop);
    workers.spawn(schedule_housekeeping(app.queue().clone(), stop.clone()));
    if let Some(schedule) = app.state.config.backup.schedule.clone() {
        workers.spawn(schedule_backups(
            app.queue().clone(),
            schedule,
            stop.clone(),
        ));
    }
    tracing::info!(workers = count, "job workers running");
    shutdown.await;
    stop.cancel();
    workers.join_all().await;
    app.db().close().await;
    tracing::info!("workers stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received");
}
