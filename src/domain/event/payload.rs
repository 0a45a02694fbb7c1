//! The `payload` an event carries on the wire (activity log, realtime frames). These shapes are
//! what clients read today; `services::unit_of_work` adds the subject's current fields to them.

use serde_json::{Value, json};

use super::{AttachmentFacts, DomainEvent, RelationFacts, TaskChange, TaskFacts, TimeEntryFacts};
use crate::clock::to_rfc3339;

impl DomainEvent {
    pub fn payload(&self) -> Value {
        use DomainEvent as E;
        match self {
            E::TaskCreated { task, .. } => task_json(task),
            E::TaskUpdated(c) | E::TaskAssigned(c) | E::TaskMoved(c) => change_json(c),
            E::TaskUnassigned {
                task,
                previous_assignee_id,
                ..
            } => {
                let mut payload = task_json(task);
                payload["previous_assignee_id"] = json!(previous_assignee_id);
                payload
            }
            E::TaskDeleted { task_id, title, .. } => json!({"id": task_id, "title": title}),
            E::TaskRelationAdded { relation, .. } | E::TaskRelationRemoved { relation, .. } => {
                relation_json(relation)
            }
            E::TimeEntryCreated { entry, .. }
            | E::TimeEntryStopped { entry, .. }
            | E::TimeEntryDeleted { entry, .. } => time_entry_json(entry),
            E::LabelCreated { name, color, .. } | E::LabelUpdated { name, color, .. } => {
                json!({"name": name, "color": color})
            }
            E::LabelDeleted { name, .. } => json!({"name": name}),
            E::CommentCreated { task_id, .. }
            | E::CommentUpdated { task_id, .. }
            | E::CommentDeleted { task_id, .. } => json!({"task_id": task_id}),
            E::AttachmentCreated { attachment, .. } | E::AttachmentDeleted { attachment, .. } => {
                attachment_json(attachment)
            }
            E::ProjectCreated { name, members, .. } => json!({"name": name, "members": members}),
            E::ProjectUpdated { fields, .. }
            | E::ProjectArchived { fields, .. }
            | E::ProjectUnarchived { fields, .. } => json!({"fields": fields}),
            E::ProjectDeleted { .. }
            | E::ProjectMemberAdded { .. }
            | E::ProjectMemberRemoved { .. }
            | E::InvitationRejected { .. }
            | E::WorkspaceDeleted { .. }
            | E::RoleDeleted { .. }
            | E::KeyRevoked { .. }
            | E::UserCreated { .. }
            | E::UserUpdated { .. }
            | E::UserDeleted { .. }
            | E::UserPasswordChanged { .. }
            | E::UserTwoFactorEnabled { .. }
            | E::UserTwoFactorDisabled { .. }
            | E::UserRecoveryCodesRegenerated { .. }
            | E::WebhookDeleted { .. }
            | E::PlanDeleted { .. } => json!({}),
            E::PlanCreated { key, .. } | E::PlanUpdated { key, .. } => json!({"key": key}),
            E::SubscriptionUpdated {
                plan_id,
                plan_key,
                status,
                ..
            } => json!({"plan_id": plan_id, "plan_key": plan_key, "status": status}),
            E::MemberAdded { role, .. }
            | E::MemberRemoved { role, .. }
            | E::MemberLeft { role, .. }
            | E::InvitationAccepted { role, .. } => json!({"role": role}),
            E::MemberRoleChanged {
                from,
                to,
                custom_role_id,
                ..
            } => json!({"from": from, "to": to, "custom_role_id": custom_role_id}),
            E::InvitationCreated { email, role, .. } => json!({"email": email, "role": role}),
            E::InvitationRevoked { email, .. } => json!({"email": email}),
            E::WorkspaceCreated { name, slug, .. } => json!({"name": name, "slug": slug}),
            E::WorkspaceUpdated { name, slug, .. } => json!({"name": name, "slug": slug}),
            E::WorkspaceExported { export_id, .. } => json!({"export_id": export_id}),
            E::WorkspaceImported {
                project_id,
                source,
                tasks,
                ..
            } => json!({"source": source, "project_id": project_id, "tasks": tasks}),
            E::RoleCreated { name, .. } | E::RoleUpdated { name, .. } => json!({"name": name}),
            E::KeyCreated { kind, name, .. } => json!({"kind": kind, "name": name}),
            E::WebhookCreated { host, .. } => json!({"host": host}),
            E::WebhookUpdated { fields, .. } => json!({"fields": fields}),
            E::WebhookDisabled { reason, .. } => json!({"reason": reason}),
        }
    }
}

fn task_json(t: &TaskFacts) -> Value {
    json!({
        "id": t.id, "projectId": t.project_id, "title": t.title, "status": t.status,
        "assignee_id": t.assignee_id, "due_date": t.due_date.map(to_rfc3339),
    })
}

fn change_json(c: &TaskChange) -> Value {
    let mut payload = task_json(&c.task);
    payload["changes"] = json!(c.changes);
    payload
}

fn relation_json(r: &RelationFacts) -> Value {
    json!({"id": r.id, "task_id": r.task_id, "related_task_id": r.related_id, "kind": r.kind})
}

fn time_entry_json(e: &TimeEntryFacts) -> Value {
    json!({
        "id": e.id,
        "task_id": e.task_id,
        "user_id": e.user_id,
        "started_at": to_rfc3339(e.started_at),
        "ended_at": e.ended_at.map(to_rfc3339),
        "duration_seconds": e.ended_at.map(|end| (end - e.started_at) / 1000),
    })
}

fn attachment_json(a: &AttachmentFacts) -> Value {
    json!({
        "id": a.id,
        "task_id": a.task_id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size_bytes": a.size_bytes,
    })
}
