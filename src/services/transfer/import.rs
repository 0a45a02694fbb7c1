//! Import of an export archive into this instance (any engine), all or nothing.
//!
//! 1. Read and check everything: the manifest, every table line by line (types, NUL bytes,
//!    limits), every reference.
//! 2. Decide every id: users are matched by email (a missing one is created without a
//!    password: they set one through "forgot password"), roles by name; every other id is
//!    kept — refused with `409 import_conflict` if any already exists here — or, with
//!    `remap_ids`, replaced by a fresh one, references rewritten.
//! 3. Store the attachment files under their new keys (checked against size and SHA-256).
//! 4. Write every row in one unit of work with one `workspace.imported` event (plus
//!    `user.created` for each person created), and the embedding jobs of the tasks. If it does
//!    not commit, the stored files are deleted again.

use std::collections::BTreeMap;
use std::io::{Read, Seek};

use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::archive::Reader;
use super::export::text;
use super::remap::IdMap;
use super::{ImportSource, ImportSummary, Progress, limits};
use crate::clock::{now_ms, parse_time};
use crate::db::transfer::{self as rows, JsonRow, Space, Table};
use crate::db::{self, is_unique_violation};
use crate::domain::event::DomainEvent;
use crate::domain::{Email, FieldError};
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::services::Ctx;
use crate::storage::Storage;

/// What the import does with the archive's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ids {
    /// Kept; refused if any exists here.
    Keep,
    /// Every row gets a fresh id: a second copy.
    Remap,
}

fn conflict(message: String) -> AppError {
    AppError::Conflict {
        code: "import_conflict",
        message,
    }
}

fn invalid(e: FieldError) -> AppError {
    AppError::Validation(vec![e])
}

/// A new user the import creates.
struct NewPerson {
    id: String,
    email: Email,
    name: String,
}

/// Imports the archive `reader` into `tenant_id` as `actor_id` (none for the operator).
pub async fn archive<R: Read + Seek + Send>(
    cx: &Ctx,
    storage: &Storage,
    tenant_id: &str,
    actor_id: Option<&str>,
    reader: R,
    ids: Ids,
    progress: Progress<'_>,
) -> AppResult<ImportSummary> {
    let mut zip = Reader::open(reader).map_err(invalid)?;
    let manifest = zip.manifest().map_err(invalid)?;
    let mut tables: BTreeMap<&'static str, Vec<JsonRow>> = BTreeMap::new();
    for table in rows::EXPORTED
        .iter()
        .filter(|t| t.name != rows::ACTIVITY.name)
    {
        tables.insert(table.name, zip.table(table).map_err(invalid)?);
    }
    let [workspace] = tables[rows::WORKSPACES.name].as_slice() else {
        return Err(invalid(FieldError::new(
            "tables/workspaces.jsonl",
            "must hold exactly one workspace",
        )));
    };
    let workspace = workspace.clone();
    let files_total = tables[rows::ATTACHMENTS.name].len() as u64;
    let total = tables.values().map(|r| r.len() as u64).sum::<u64>() + files_total;
    let mut done = 0;
    progress(done, total);

    // 2. Ids.
    let mut map = IdMap::default();
    let mut fresh = new_id;
    let people = match_users(cx, tenant_id, &tables[rows::USERS.name], ids, &mut map).await?;
    let roles = match_roles(cx, tenant_id, &tables[rows::ROLES.name], ids, &mut map).await?;
    for table in [
        &rows::WORKSPACES,
        &rows::PROJECTS,
        &rows::LABELS,
        &rows::TASKS,
        &rows::TASK_RELATIONS,
        &rows::COMMENTS,
        &rows::ATTACHMENTS,
        &rows::TIME_ENTRIES,
    ] {
        let space = table.id.expect("these tables have ids");
        let found = &tables[table.name];
        match ids {
            Ids::Remap => map.assign(space, found, Some(&mut fresh)),
            Ids::Keep => {
                map.assign(space, found, None);
                let wanted: Vec<String> = found.iter().map(|r| text(r, "id").to_string()).collect();
                let mut conn = cx.db.read().acquire().await?;
                if let Some(id) = rows::existing_ids(&mut conn, table, &wanted).await?.first() {
                    return Err(conflict(format!(
                        "{} {id} already exists on this instance; import with remap_ids \
                         (--remap-ids) to make a copy",
                        table.name
                    )));
                }
            }
        }
    }
    // Every reference resolves, or the import stops here, before anything is written.
    let mut rewritten: BTreeMap<&'static str, Vec<JsonRow>> = BTreeMap::new();
    for table in std::iter::once(&&rows::WORKSPACES).chain(rows::INSERTED) {
        let mut out = Vec::with_capacity(tables[table.name].len());
        for (line, row) in tables[table.name].iter().enumerate() {
            out.push(map.rewrite(table, row).map_err(|d| {
                invalid(FieldError::new(
                    &format!(
                        "tables/{}.jsonl line {}, column {}",
                        table.name,
                        line + 1,
                        d.column
                    ),
                    format!("names {:?}, which the archive does not hold", d.id),
                ))
            })?);
        }
        rewritten.insert(table.name, out);
    }
    let workspace_id = map
        .get(Space::Workspace, text(&workspace, "id"))
        .expect("assigned above")
        .to_string();

    // 3. Files, under keys only the new rows name.
    let mut stored = Vec::new();
    let result = async {
        for (old, new) in tables[rows::ATTACHMENTS.name]
            .iter()
            .zip(&rewritten[rows::ATTACHMENTS.name])
        {
            let name = format!("files/{}", text(old, "id"));
            let bytes = zip
                .bytes(&name, limits::MAX_ARCHIVE_BYTES)
                .map_err(invalid)?
                .ok_or_else(|| invalid(FieldError::new(&name, "is missing from the archive")))?;
            let size = new.get("size_bytes").and_then(Value::as_i64).unwrap_or(-1);
            let sum = hex::encode(Sha256::digest(&bytes));
            if i64::try_from(bytes.len()).ok() != Some(size) || sum != text(new, "sha256") {
                return Err(invalid(FieldError::new(
                    &name,
                    "does not match its attachment's size and SHA-256",
                )));
            }
            let key = Storage::key(tenant_id, &workspace_id, text(new, "id"));
            let body = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(bytes))]);
            storage
                .put_stream(&key, body, u64::try_from(size).unwrap_or(0))
                .await
                .map_err(|e| anyhow::anyhow!("storing {key}: {e}"))?;
            stored.push(key);
            done += 1;
            progress(done, total);
        }
        // 4. Rows.
        let plan = Plan {
            tenant_id,
            actor_id,
            workspace_id: &workspace_id,
            manifest_created_at: parse_time("created_at", &manifest.created_at)
                .unwrap_or_else(|_| now_ms()),
            ids,
            people: &people,
            roles: &roles,
        };
        write(cx, &plan, &rewritten, &mut done, total, progress).await
    }
    .await;
    match result {
        Ok(mut summary) => {
            summary.counts.insert("files".into(), stored.len() as u64);
            Ok(summary)
        }
        Err(error) => {
            for key in stored {
                if let Err(e) = storage.delete(&key).await {
                    tracing::warn!(error = %e, key, "could not delete a file of a failed import");
                }
            }
            Err(error)
        }
    }
}

struct Plan<'a> {
    tenant_id: &'a str,
    actor_id: Option<&'a str>,
    workspace_id: &'a str,
    manifest_created_at: i64,
    ids: Ids,
    people: &'a [NewPerson],
    roles: &'a [JsonRow],
}

async fn write(
    cx: &Ctx,
    plan: &Plan<'_>,
    rewritten: &BTreeMap<&'static str, Vec<JsonRow>>,
    done: &mut u64,
    total: u64,
    progress: Progress<'_>,
) -> AppResult<ImportSummary> {
    let (tenant_id, now) = (plan.tenant_id, now_ms());
    let tenant = [("tenant_id", tenant_id)];
    let mut tx = cx.begin(tenant_id, plan.actor_id).await?;
    let unique = |e: sqlx::Error, what: &str| {
        if is_unique_violation(&e) {
            conflict(format!("{what} conflicts with a row already here"))
        } else {
            e.into()
        }
    };
    let mut counts = BTreeMap::new();
    for person in plan.people {
        db::users::insert(
            &mut *tx,
            &db::users::NewUser {
                id: &person.id,
                tenant_id,
                email: person.email.as_str(),
                email_normalized: person.email.normalized(),
                name: &person.name,
                password_hash: None,
                now,
            },
        )
        .await
        .map_err(|e| unique(e, &format!("user {}", person.email.as_str())))?;
        tx.record(DomainEvent::UserCreated {
            user_id: person.id.clone(),
        });
    }
    counts.insert("users_created".to_string(), plan.people.len() as u64);
    for role in plan.roles {
        rows::insert(&mut tx, &rows::ROLES, role, &tenant)
            .await
            .map_err(|e| unique(e, "a role"))?;
    }
    counts.insert("roles_created".to_string(), plan.roles.len() as u64);
    let mut workspace = rewritten[rows::WORKSPACES.name][0].clone();
    let slug = free_slug(&mut tx, tenant_id, text(&workspace, "slug")).await?;
    workspace.insert("slug".into(), Value::from(slug));
    rows::insert(&mut tx, &rows::WORKSPACES, &workspace, &tenant)
        .await
        .map_err(|e| unique(e, "the workspace"))?;
    crate::services::subscriptions::create_for_workspace(
        &mut tx,
        tenant_id,
        plan.workspace_id,
        now,
    )
    .await?;
    counts.insert("workspaces".to_string(), 1);
    let mut parents = Vec::new();
    let mut storage_bytes = 0;
    for table in rows::INSERTED {
        for (line, row) in rewritten[table.name].iter().enumerate() {
            let mut row = row.clone();
            write_row(
                &mut tx,
                table,
                &mut row,
                plan,
                &mut parents,
                &mut storage_bytes,
            )
            .await
            .map_err(|e| {
                let at = format!("tables/{}.jsonl line {}", table.name, line + 1);
                if rows::is_refused_row(&e) {
                    invalid(FieldError::new(
                        &at,
                        "is refused by the schema: a value out of range or a missing field",
                    ))
                } else {
                    unique(e, &at)
                }
            })?;
            *done += 1;
            if done.is_multiple_of(500) {
                progress(*done, total);
            }
        }
        counts.insert(table.name.to_string(), rewritten[table.name].len() as u64);
    }
    for (task, parent) in &parents {
        rows::set_parent(&mut tx, task, parent).await?;
    }
    if storage_bytes > 0 {
        db::attachments::add_usage(&mut *tx, tenant_id, plan.workspace_id, storage_bytes, now)
            .await?;
    }
    for task in &rewritten[rows::TASKS.name] {
        crate::jobs::search::enqueue_embed(&mut tx, tenant_id, text(task, "id")).await?;
    }
    tx.record(DomainEvent::WorkspaceImported {
        workspace_id: plan.workspace_id.to_string(),
        project_id: None,
        project_created: false,
        source: ImportSource::Archive.as_str(),
        tasks: rewritten[rows::TASKS.name].len() as u64,
    });
    tx.commit().await?;
    progress(total, total);
    Ok(ImportSummary {
        workspace_id: plan.workspace_id.to_string(),
        project_id: None,
        counts,
    })
}

async fn write_row(
    conn: &mut sqlx::AnyConnection,
    table: &Table,
    row: &mut JsonRow,
    plan: &Plan<'_>,
    parents: &mut Vec<(String, String)>,
    storage_bytes: &mut i64,
) -> sqlx::Result<()> {
    let tenant_id = plan.tenant_id;
    if table.name == rows::TASKS.name {
        // Parents may come after their subtasks: set once every task exists.
        if let Some(Value::String(parent)) = row.insert("parent_id".into(), Value::Null) {
            parents.push((text(row, "id").to_string(), parent));
        }
    }
    if table.name == rows::TIME_ENTRIES.name && plan.ids == Ids::Remap && row["ended_at"].is_null()
    {
        // A copy does not start a second clock for the same person: its running timer is
        // stopped when the export was taken.
        let started = row["started_at"].as_i64().unwrap_or(0);
        row.insert(
            "ended_at".into(),
            Value::from(plan.manifest_created_at.max(started)),
        );
    }
    if table.name == rows::ATTACHMENTS.name {
        *storage_bytes += row["size_bytes"].as_i64().unwrap_or(0);
        let key = Storage::key(tenant_id, plan.workspace_id, text(row, "id"));
        return rows::insert(
            conn,
            table,
            row,
            &[("tenant_id", tenant_id), ("storage_key", &key)],
        )
        .await;
    }
    rows::insert(conn, table, row, &[("tenant_id", tenant_id)]).await
}

/// `slug`, or `slug-2`, `slug-3`, … when the tenant already has it.
async fn free_slug(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    slug: &str,
) -> AppResult<String> {
    let mut candidate = slug.to_string();
    for n in 2..1000 {
        if !rows::slug_taken(conn, tenant_id, &candidate).await? {
            return Ok(candidate);
        }
        candidate = format!("{slug}-{n}");
    }
    Err(conflict(format!("no free slug near {slug:?}")))
}

/// Maps each exported user to the user with that email here, or plans a new one.
async fn match_users(
    cx: &Ctx,
    tenant_id: &str,
    users: &[JsonRow],
    ids: Ids,
    map: &mut IdMap,
) -> AppResult<Vec<NewPerson>> {
    let mut people = Vec::new();
    let mut conn = cx.db.read().acquire().await?;
    for (line, user) in users.iter().enumerate() {
        let at = format!("tables/users.jsonl line {}, column email", line + 1);
        let email = Email::parse(&at, text(user, "email")).map_err(invalid)?;
        let old = text(user, "id");
        if let Some(id) =
            db::users::find_id_by_email(&mut *conn, tenant_id, email.normalized()).await?
        {
            map.insert(Space::User, old, id);
            continue;
        }
        let keep = ids == Ids::Keep
            && rows::existing_ids(&mut conn, &rows::USERS, &[old.to_string()])
                .await?
                .is_empty();
        let id = if keep { old.to_string() } else { new_id() };
        let name = match text(user, "name") {
            "" => email
                .as_str()
                .split('@')
                .next()
                .unwrap_or("user")
                .to_string(),
            name => name.to_string(),
        };
        map.insert(Space::User, old, id.clone());
        people.push(NewPerson { id, email, name });
    }
    Ok(people)
}

/// Maps each exported custom role to the tenant's role of that name, or plans it.
async fn match_roles(
    cx: &Ctx,
    tenant_id: &str,
    roles: &[JsonRow],
    ids: Ids,
    map: &mut IdMap,
) -> AppResult<Vec<JsonRow>> {
    let mut created = Vec::new();
    let mut conn = cx.db.read().acquire().await?;
    for role in roles {
        let old = text(role, "id");
        if let Some(id) = rows::role_by_name(&mut conn, tenant_id, text(role, "name")).await? {
            map.insert(Space::Role, old, id);
            continue;
        }
        let keep = ids == Ids::Keep
            && rows::existing_ids(&mut conn, &rows::ROLES, &[old.to_string()])
                .await?
                .is_empty();
        let id = if keep { old.to_string() } else { new_id() };
        let mut row = role.clone();
        row.insert("id".into(), Value::from(id.clone()));
        map.insert(Space::Role, old, id);
        created.push(row);
    }
    Ok(created)
}
