//! The production runner: one handler per job kind.

use std::sync::Arc;

use super::attachments;
use super::billing;
use super::identity;
use super::{Job, JobError, JobFuture, NewJobSpec, Runner, email};
use crate::clock::now_ms;
use crate::db;
use crate::domain::job::{
    AssignmentEmail, DeliverWebhook, DueReminder, EmbedTask, ExportWorkspace, Housekeeping,
    IdentitySync, ImportArchive, InvitationEmail, JobKind, PasswordResetEmail, PurgeFiles,
    ScheduledBackup, StripeSync,
};
use crate::mail::Mailer;
use crate::services::Ctx;
use crate::storage::Storage;

/// Expired invitations stay listable (as EXPIRED) this long before they are purged.
const INVITATION_RETENTION_MS: i64 = 30 * 24 * 3_600_000;

/// Webhook receipts outlive the provider's retries (Svix retries for about a day and a half).
const RECEIPT_RETENTION_MS: i64 = 7 * 24 * 3_600_000;

/// The outgoing-webhook delivery log keeps finished deliveries this long.
const DELIVERY_RETENTION_MS: i64 = 30 * 24 * 3_600_000;

/// Stored idempotent responses are replayed for a day (`http::idempotency`).
const IDEMPOTENCY_RETENTION_MS: i64 = 24 * 3_600_000;

/// Runs every job kind the application enqueues.
pub struct KindRunner {
    pub cx: Ctx,
    pub mailer: Arc<dyn Mailer>,
    /// Where attachment bytes live, for their purge.
    pub storage: Storage,
    /// Base of the links in emails (`KANRI_APP_URL`).
    pub app_url: String,
    pub embedder: Arc<dyn crate::search::Embedder>,
    /// The delivery client and secret cipher for outgoing webhooks.
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    /// The configuration scheduled backups run with (the database, storage and backup
    /// sections).
    pub config: Arc<crate::config::Config>,
}

impl Runner for KindRunner {
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(async move {
            let (cx, mailer, url) = (&self.cx, &self.mailer, self.app_url.as_str());
            let db = &cx.db;
            let (tenant, args) = (job.tenant_id.as_str(), &job.args);
            match job.kind.as_str() {
                AssignmentEmail::NAME => email::task_assigned(db, mailer, url, job).await,
                DueReminder::NAME => email::due_reminder(db, mailer, url, job).await,
                InvitationEmail::NAME => email::invitation(db, mailer, url, tenant, args).await,
                PasswordResetEmail::NAME => {
                    email::password_reset(db, mailer, url, tenant, args).await
                }
                IdentitySync::NAME => identity::sync(cx, tenant, args).await,
                StripeSync::NAME => billing::stripe(cx, tenant, args).await,
                PurgeFiles::NAME => attachments::purge(db, &self.storage, tenant)
                    .await
                    .map(|_| ()),
                EmbedTask::NAME => {
                    super::search::run(cx, self.embedder.as_ref(), tenant, args).await
                }
                DeliverWebhook::NAME => {
                    super::webhooks::deliver(cx, &self.webhooks, tenant, args, job.as_of).await
                }
                ExportWorkspace::NAME => {
                    super::transfer::export(cx, &self.storage, tenant, args).await
                }
                ImportArchive::NAME => {
                    super::transfer::import(cx, &self.storage, tenant, args).await
                }
                Housekeeping::NAME => self.housekeeping().await,
                ScheduledBackup::NAME => {
                    super::backup::run(&self.config, &self.storage, args).await
                }
                other => Err(JobError::Fatal(format!(
                    "no handler for job kind {other:?}"
                ))),
            }
        })
    }
}

impl KindRunner {
    async fn housekeeping(&self) -> Result<(), JobError> {
        let (db, now) = (self.cx.db.write(), now_ms());
        let sessions = db::sessions::delete_expired(db, now).await?
            + db::admin_sessions::delete_expired(db, now).await?
            + db::two_factor::delete_expired_challenges(db, now).await?;
        let resets = db::password_resets::purge(db, now).await?;
        let invitations = db::invitations::purge_expired(db, now - INVITATION_RETENTION_MS).await?;
        let receipts = db::webhook_receipts::purge(db, now - RECEIPT_RETENTION_MS).await?;
        let idempotency = db::idempotency::purge(db, now - IDEMPOTENCY_RETENTION_MS).await?;
        let abandoned = db::jobs::bury_abandoned(db, now).await?;
        let deliveries =
            db::webhook_deliveries::purge_finished(db, now - DELIVERY_RETENTION_MS).await?;
        let (orphaned_files, purged_files) = attachments::sweep(&self.cx.db, &self.storage).await?;
        tracing::info!(
            sessions,
            resets,
            invitations,
            receipts,
            idempotency,
            abandoned,
            deliveries,
            orphaned_files,
            purged_files,
            "housekeeping done"
        );
        Ok(())
    }
}

/// The housekeeping job for the current hour. Every instance enqueues it; the dedupe key makes
/// it run once per hour across all of them.
pub fn housekeeping_spec(now: i64) -> NewJobSpec<'static> {
    let hour = now / 3_600_000;
    NewJobSpec::of(db::tenants::DEFAULT_TENANT_ID, &Housekeeping {})
        .dedupe(format!("{}:{hour}", Housekeeping::NAME))
}

/// Every ten minutes, makes sure this hour's housekeeping job exists.
pub async fn schedule_housekeeping(queue: super::Queue, stop: tokio_util::sync::CancellationToken) {
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            () = stop.cancelled() => return,
        }
        let result = async {
            let mut tx = queue.db.begin().await?;
            super::enqueue(&mut tx, housekeeping_spec(now_ms())).await?;
            tx.commit().await
        }
        .await;
        match result {
            Ok(()) => queue.wake(),
            Err(error) => tracing::warn!(%error, "could not schedule housekeeping"),
        }
    }
}
