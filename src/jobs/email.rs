//! The email jobs. Each re-reads what it needs when it runs and treats a vanished or changed
//! subject as done, so a late or repeated run sends nothing wrong. A run sends at most one
//! message; the worker records the job done as its next write after the send returns (the
//! server's 250), and the assignment and reminder messages carry a `Message-ID` made from the
//! job id, so the copy a run after a crash in between may send is recognisably the same.

use std::sync::Arc;

use super::{Job, JobError, NewJobSpec};
use crate::clock::now_ms;
use crate::db::{self, Db};
use crate::domain::SecretToken;
use crate::domain::enums::{InvitationStatus, TaskStatus};
use crate::domain::job::{
    AssignmentEmail, DueReminder, InvitationEmail, JobKind, PasswordResetEmail,
};
use crate::mail::templates::{self, InvitationFacts, TaskFacts};
use crate::mail::{MailError, Mailer, Message, Recipient};

/// Assignment email for `assignee_id`, caused by activity event `event_id`.
pub fn assignment_spec<'a>(
    tenant_id: &'a str,
    task_id: &str,
    assignee_id: &str,
    event_id: i64,
) -> NewJobSpec<'a> {
    let job = AssignmentEmail {
        task_id: task_id.to_string(),
        assignee_id: assignee_id.to_string(),
    };
    NewJobSpec::of(tenant_id, &job).dedupe(format!("{}:{event_id}", AssignmentEmail::NAME))
}

/// The dedupe key of a task's reminder for one due date: at most one per task per due date.
pub fn reminder_key(task_id: &str, due_date: i64) -> String {
    format!("{}:{task_id}:{due_date}", DueReminder::NAME)
}

/// Reminder for a task due at `due_date`, sent `lead_ms` before it.
pub fn reminder_spec<'a>(
    tenant_id: &'a str,
    task_id: &str,
    due_date: i64,
    lead_ms: i64,
) -> NewJobSpec<'a> {
    let job = DueReminder {
        task_id: task_id.to_string(),
        due_date,
    };
    NewJobSpec::of(tenant_id, &job)
        .dedupe(reminder_key(task_id, due_date))
        .at(due_date.saturating_sub(lead_ms))
}

pub fn invitation_spec<'a>(tenant_id: &'a str, invitation_id: &str) -> NewJobSpec<'a> {
    let job = InvitationEmail {
        invitation_id: invitation_id.to_string(),
    };
    NewJobSpec::of(tenant_id, &job).dedupe(format!("{}:{invitation_id}", InvitationEmail::NAME))
}

fn args<T: JobKind>(value: &serde_json::Value) -> Result<T, JobError> {
    serde_json::from_value(value.clone())
        .map_err(|e| JobError::Fatal(format!("bad job arguments: {e}")))
}

async fn send(mailer: &Arc<dyn Mailer>, message: Message) -> Result<(), JobError> {
    match mailer.send(&message).await {
        Ok(_) => Ok(()),
        Err(e @ MailError::Transient(_)) => Err(JobError::Retry(e.to_string())),
        Err(e @ MailError::Permanent(_)) => Err(JobError::Fatal(e.to_string())),
    }
}

/// The stable `Message-ID` local part of a job's one message: a run again after a crash (the
/// server's 250 came, the job's success was not yet written) sends the same id, which a
/// receiver can drop. Invitation and reset mails keep fresh ids: each run mints a new token
/// that supersedes the one in an earlier copy, so a receiver must not drop the later one.
fn cause(job: &Job) -> String {
    format!("job-{}", job.id)
}

fn recipient(email: &str, name: &str) -> Result<Recipient, JobError> {
    Recipient::new(email, Some(name)).map_err(|e| JobError::Fatal(e.to_string()))
}

/// Loads a task and its project's name, or `None` when either is gone.
async fn task_facts(
    db: &Db,
    tenant_id: &str,
    task_id: &str,
) -> Result<Option<(db::tasks::TaskRow, String)>, JobError> {
    let Some(task) = db::tasks::find(db.read(), tenant_id, task_id).await? else {
        return Ok(None);
    };
    let Some(project) = db::projects::find(db.read(), tenant_id, &task.project_id).await? else {
        return Ok(None);
    };
    Ok(Some((task, project.name)))
}

fn facts<'a>(task: &'a db::tasks::TaskRow, project_name: &'a str) -> TaskFacts<'a> {
    TaskFacts {
        task_id: &task.id,
        project_id: &task.project_id,
        title: &task.title,
        description: task.description.as_deref(),
        project_name,
        due_date: task.due_date,
    }
}

/// Sends the assignment email, unless the task is gone or has been reassigned since.
pub async fn task_assigned(
    db: &Db,
    mailer: &Arc<dyn Mailer>,
    app_url: &str,
    job: &Job,
) -> Result<(), JobError> {
    let (tenant_id, a) = (job.tenant_id.as_str(), &job.args);
    let a: AssignmentEmail = args(a)?;
    let Some((task, project_name)) = task_facts(db, tenant_id, &a.task_id).await? else {
        return Ok(());
    };
    if task.assignee_id.as_deref() != Some(a.assignee_id.as_str()) {
        return Ok(());
    }
    let Some(user) = db::users::find(db.read(), tenant_id, &a.assignee_id).await? else {
        return Ok(());
    };
    let to = recipient(&user.email, &user.name)?;
    send(
        mailer,
        templates::task_assigned(app_url, to, &facts(&task, &project_name)).caused_by(&cause(job)),
    )
    .await
}

/// Sends the reminder, unless the task is gone, done, unassigned, or now due at another time.
pub async fn due_reminder(
    db: &Db,
    mailer: &Arc<dyn Mailer>,
    app_url: &str,
    job: &Job,
) -> Result<(), JobError> {
    let (tenant_id, a) = (job.tenant_id.as_str(), &job.args);
    let r: DueReminder = args(a)?;
    let Some((task, project_name)) = task_facts(db, tenant_id, &r.task_id).await? else {
        return Ok(());
    };
    if task.status == TaskStatus::Done || task.due_date != Some(r.due_date) {
        return Ok(());
    }
    let Some(assignee) = task.assignee_id.as_deref() else {
        return Ok(());
    };
    let Some(user) = db::users::find(db.read(), tenant_id, assignee).await? else {
        return Ok(());
    };
    let to = recipient(&user.email, &user.name)?;
    send(
        mailer,
        templates::due_reminder(app_url, to, &facts(&task, &project_name)).caused_by(&cause(job)),
    )
    .await
}

/// Sends the invitation with a fresh token (its hash replaces the stored one), unless the
/// invitation is no longer pending or has expired.
pub async fn invitation(
    db: &Db,
    mailer: &Arc<dyn Mailer>,
    app_url: &str,
    tenant_id: &str,
    a: &serde_json::Value,
) -> Result<(), JobError> {
    let i: InvitationEmail = args(a)?;
    let Some(inv) = db::invitations::find(db.read(), tenant_id, &i.invitation_id).await? else {
        return Ok(());
    };
    if inv.status != InvitationStatus::Pending || inv.expires_at <= now_ms() {
        return Ok(());
    }
    let inviter = match inv.invited_by.as_deref() {
        Some(id) => db::users::find(db.read(), tenant_id, id)
            .await?
            .map(|u| u.name),
        None => None,
    };
    let token = SecretToken::generate();
    if !db::invitations::set_token_hash(db.write(), tenant_id, &inv.id, &token.hash()).await? {
        return Ok(());
    }
    let to = Recipient::new(&inv.email, None).map_err(|e| JobError::Fatal(e.to_string()))?;
    let facts = InvitationFacts {
        invitation_id: &inv.id,
        token: token.expose(),
        workspace_name: &inv.workspace_name,
        inviter_name: inviter.as_deref().unwrap_or("A teammate"),
        role: inv.role.as_str(),
        message: inv.message.as_deref(),
    };
    send(mailer, templates::invitation(app_url, to, &facts)).await
}

/// Schedules the reminder for a new due date and cancels the one for the old date, on `conn`
/// (the transaction that changes the task).
pub async fn reschedule_reminder(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    task_id: &str,
    old_due: Option<i64>,
    new_due: Option<i64>,
    lead_ms: i64,
) -> sqlx::Result<()> {
    if old_due == new_due {
        return Ok(());
    }
    let now = now_ms();
    if let Some(old) = old_due {
        db::jobs::cancel_by_dedupe_key(&mut *conn, &reminder_key(task_id, old), now).await?;
    }
    if let Some(new) = new_due {
        let spec = reminder_spec(tenant_id, task_id, new, lead_ms);
        let run_at = spec.run_at.unwrap_or(now);
        if !super::enqueue(&mut *conn, spec).await? {
            // The due date came back to an earlier value: revive that reminder.
            db::jobs::requeue_cancelled(&mut *conn, &reminder_key(task_id, new), run_at, now)
                .await?;
        }
    }
    Ok(())
}

/// Mints a reset token (superseding unused ones), stores its hash, and emails the link.
pub async fn password_reset(
    db: &Db,
    mailer: &Arc<dyn Mailer>,
    app_url: &str,
    tenant_id: &str,
    a: &serde_json::Value,
) -> Result<(), JobError> {
    use crate::db::password_resets::{self, NewReset};
    let r: PasswordResetEmail = args(a)?;
    let Some(user) = db::users::find(db.read(), tenant_id, &r.user_id).await? else {
        return Ok(());
    };
    let token = SecretToken::generate();
    let now = now_ms();
    let mut tx = db.begin().await?;
    password_resets::delete_unused_for_user(&mut *tx, tenant_id, &user.id).await?;
    password_resets::insert(
        &mut *tx,
        &NewReset {
            id: &crate::ids::new_id(),
            tenant_id,
            user_id: &user.id,
            token_hash: &token.hash(),
            now,
            expires_at: now + crate::services::password_reset::TOKEN_TTL_MS,
        },
    )
    .await?;
    tx.commit().await?;
    let to = recipient(&user.email, &user.name)?;
    send(
        mailer,
        templates::password_reset(app_url, to, token.expose()),
    )
    .await
}
