//! Export: every row of a workspace (read in one snapshot) and its attachment files into one
//! archive. `POST /v1/workspaces/{id}/exports` records the request and enqueues the
//! `workspace:export` job, which builds the archive, stores it and marks the request done;
//! `kanri export` builds it directly.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use serde::Serialize;
use serde_json::Value;

use super::archive::{FORMAT, FORMAT_VERSION, Manifest, Writer};
use super::{Progress, limits};
use crate::clock::{now_ms, to_rfc3339};
use crate::config::Engine;
use crate::db::exports::ExportRow;
use crate::db::transfer::{self as rows, JsonRow};
use crate::db::{self};
use crate::domain::event::DomainEvent;
use crate::domain::job::ExportWorkspace;
use crate::domain::permission;
use crate::error::{AppError, AppResult};
use crate::ids::new_id;
use crate::jobs::NewJobSpec;
use crate::services::Ctx;
use crate::services::access::{self, Actor};
use crate::storage::Storage;

/// Every exported table's rows, by table name.
pub type Tables = BTreeMap<&'static str, Vec<JsonRow>>;

/// Reads every exported table of the workspace in one read snapshot.
pub async fn collect(cx: &Ctx, tenant_id: &str, workspace_id: &str) -> AppResult<Tables> {
    let mut tx = cx.db.read().begin().await?;
    if cx.db.engine() == Engine::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    let mut tables = Tables::new();
    for table in rows::EXPORTED {
        let found = rows::dump(&mut *tx, table, tenant_id, workspace_id).await?;
        if found.len() as u64 > limits::MAX_ROWS {
            return Err(AppError::Conflict {
                code: "export_too_large",
                message: format!("{} has more than {} rows", table.name, limits::MAX_ROWS),
            });
        }
        tables.insert(table.name, found);
    }
    tx.commit().await?;
    if tables[rows::WORKSPACES.name].is_empty() {
        return Err(AppError::NotFound("workspace"));
    }
    Ok(tables)
}

/// The archive of a workspace, and its manifest.
pub async fn build(
    cx: &Ctx,
    storage: &Storage,
    tenant_id: &str,
    workspace_id: &str,
    progress: Progress<'_>,
) -> AppResult<(Vec<u8>, Manifest)> {
    let tables = collect(cx, tenant_id, workspace_id).await?;
    let attachments = &tables[rows::ATTACHMENTS.name];
    let row_count: u64 = tables.values().map(|r| r.len() as u64).sum();
    let total = row_count + attachments.len() as u64;
    progress(0, total);
    let workspace = &tables[rows::WORKSPACES.name][0];
    let mut counts: BTreeMap<String, u64> = tables
        .iter()
        .map(|(name, r)| ((*name).to_string(), r.len() as u64))
        .collect();
    counts.insert("files".into(), attachments.len() as u64);
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        kanri_version: env!("CARGO_PKG_VERSION").into(),
        schema_level: rows::schema_level(cx.db.read()).await?,
        source_engine: match cx.db.engine() {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
        .into(),
        created_at: to_rfc3339(now_ms()),
        workspace_id: workspace_id.to_string(),
        workspace_name: text(workspace, "name").to_string(),
        counts,
    };
    let mut zip = Writer::new();
    zip.manifest(&manifest).map_err(AppError::Internal)?;
    let mut done = 0;
    for table in rows::EXPORTED {
        let found = &tables[table.name];
        zip.table(table, found).map_err(too_large)?;
        done += found.len() as u64;
        progress(done, total);
    }
    zip.text("tasks.csv", &tasks_csv(&tables)?)
        .map_err(too_large)?;
    for attachment in attachments {
        let id = text(attachment, "id");
        let key = Storage::key(tenant_id, workspace_id, id);
        let bytes = read_all(storage, &key).await?;
        zip.file(id, &bytes).map_err(too_large)?;
        done += 1;
        progress(done, total);
    }
    Ok((zip.finish().map_err(AppError::Internal)?, manifest))
}

fn too_large(e: anyhow::Error) -> AppError {
    AppError::Conflict {
        code: "export_too_large",
        message: e.to_string(),
    }
}

pub(super) fn text<'a>(row: &'a JsonRow, column: &str) -> &'a str {
    row.get(column).and_then(Value::as_str).unwrap_or_default()
}

pub(super) async fn read_all(storage: &Storage, key: &str) -> AppResult<Vec<u8>> {
    let mut stream = storage
        .open(key, None)
        .await
        .map_err(|e| anyhow::anyhow!("reading {key}: {e}"))?;
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.map_err(|e| anyhow::anyhow!("reading {key}: {e}"))?);
    }
    Ok(out)
}

/// `tasks.csv`: one line a task, for spreadsheets (the JSON tables are the full record).
fn tasks_csv(tables: &Tables) -> AppResult<Vec<u8>> {
    let index = |table: &str, column: &str| -> HashMap<String, String> {
        tables[table]
            .iter()
            .map(|r| (text(r, "id").to_string(), text(r, column).to_string()))
            .collect()
    };
    let emails = index(rows::USERS.name, "email");
    let projects = index(rows::PROJECTS.name, "name");
    let label_names = index(rows::LABELS.name, "name");
    let mut labels: HashMap<&str, Vec<&str>> = HashMap::new();
    for link in &tables[rows::TASK_LABELS.name] {
        if let Some(name) = label_names.get(text(link, "label_id")) {
            labels.entry(text(link, "task_id")).or_default().push(name);
        }
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| AppError::Internal(anyhow::anyhow!("writing tasks.csv: {e}"));
    out.write_record([
        "id",
        "title",
        "status",
        "priority",
        "type",
        "assignee_email",
        "due_date",
        "labels",
        "project",
        "created_at",
    ])
    .map_err(fail)?;
    for task in &tables[rows::TASKS.name] {
        let time = |column: &str| task.get(column).and_then(Value::as_i64).map(to_rfc3339);
        let mut names = labels.get(text(task, "id")).cloned().unwrap_or_default();
        names.sort_unstable();
        out.write_record([
            text(task, "id"),
            text(task, "title"),
            text(task, "status"),
            text(task, "priority"),
            text(task, "type"),
            emails
                .get(text(task, "assignee_id"))
                .map_or("", String::as_str),
            time("due_date").as_deref().unwrap_or(""),
            &names.join(";"),
            projects
                .get(text(task, "project_id"))
                .map_or("", String::as_str),
            time("created_at").as_deref().unwrap_or(""),
        ])
        .map_err(fail)?;
    }
    out.into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("writing tasks.csv: {e}")))
}

/// An export request as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Export {
    pub id: String,
    pub workspace_id: String,
    /// `QUEUED`, `RUNNING`, `DONE` or `FAILED`.
    pub state: String,
    /// Rows and files written so far, of `total` (0 until the rows are read).
    pub progress: i64,
    pub total: i64,
    pub size_bytes: Option<i64>,
    /// When done: where to download the archive (with the same credentials).
    pub download_url: Option<String>,
    pub error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Export {
    fn from_row(row: ExportRow, app_url: &str) -> Self {
        let download_url = (row.state == "DONE").then(|| {
            format!(
                "{}/v1/workspaces/{}/exports/{}/download",
                app_url.trim_end_matches('/'),
                row.workspace_id,
                row.id
            )
        });
        Self {
            id: row.id,
            workspace_id: row.workspace_id,
            state: row.state,
            progress: row.progress,
            total: row.total,
            size_bytes: row.size_bytes,
            download_url,
            error: row.error,
            created_at: to_rfc3339(row.created_at),
            updated_at: to_rfc3339(row.updated_at),
        }
    }
}

/// Records an export request and enqueues its job (owners and admins: `workspace:export`).
pub async fn request(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    app_url: &str,
) -> AppResult<Export> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::WORKSPACE_EXPORT)?;
    let now = now_ms();
    let row = ExportRow {
        id: new_id(),
        tenant_id: actor.tenant_id.clone(),
        workspace_id: workspace_id.to_string(),
        requested_by: Some(actor.user_id.clone()),
        state: "QUEUED".into(),
        progress: 0,
        total: 0,
        storage_key: None,
        size_bytes: None,
        error: None,
        created_at: now,
        updated_at: now,
    };
    let mut tx = cx.begin_as(actor).await?;
    db::exports::insert(&mut *tx, &row).await?;
    tx.enqueue(NewJobSpec::of(
        &actor.tenant_id,
        &ExportWorkspace {
            export_id: row.id.clone(),
        },
    ));
    tx.record(DomainEvent::WorkspaceExported {
        workspace_id: workspace_id.to_string(),
        export_id: row.id.clone(),
    });
    let export = Export::from_row(row, app_url);
    tx.created(&export)?;
    tx.commit().await?;
    Ok(export)
}

async fn find(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    export_id: &str,
) -> AppResult<ExportRow> {
    let access = access::workspace_access(cx, actor, workspace_id).await?;
    access.require(permission::WORKSPACE_EXPORT)?;
    db::exports::find(cx.db.read(), &actor.tenant_id, export_id)
        .await?
        .filter(|row| row.workspace_id == workspace_id)
        .ok_or(AppError::NotFound("export"))
}

pub async fn status(
    cx: &Ctx,
    actor: &Actor,
    workspace_id: &str,
    export_id: &str,
    app_url: &str,
) -> AppResult<Export> {
    let row = find(cx, actor, workspace_id, export_id).await?;
    Ok(Export::from_row(row, app_url))
}

/// A finished archive's bytes as a stream, with its size and a file name.
pub struct Download {
    pub file_name: String,
    pub size: u64,
    pub body: BoxStream<'static, object_store::Result<Bytes>>,
}

pub async fn download(
    cx: &Ctx,
    storage: &Storage,
    actor: &Actor,
    workspace_id: &str,
    export_id: &str,
) -> AppResult<Download> {
    let row = find(cx, actor, workspace_id, export_id).await?;
    let (Some(key), Some(size)) = (row.storage_key.as_deref(), row.size_bytes) else {
        return Err(AppError::Conflict {
            code: "export_not_ready",
            message: format!("the export is {}", row.state.to_ascii_lowercase()),
        });
    };
    let body = storage
        .open(key, None)
        .await
        .map_err(|e| anyhow::anyhow!("opening {key}: {e}"))?;
    Ok(Download {
        file_name: format!("kanri-export-{}-{}.zip", row.workspace_id, row.id),
        size: u64::try_from(size).unwrap_or(0),
        body,
    })
}

/// The `workspace:export` job: builds, stores and marks the request; a request already
/// finished (a retry after a crash past the last write) is left alone.
pub async fn run_job(
    cx: &Ctx,
    storage: &Storage,
    tenant_id: &str,
    export_id: &str,
) -> AppResult<()> {
    let Some(row) = db::exports::find(cx.db.read(), tenant_id, export_id).await? else {
        return Ok(());
    };
    if row.state == "DONE" || row.state == "FAILED" {
        return Ok(());
    }
    let db = cx.db.write().clone();
    db::exports::set_progress(&db, export_id, "RUNNING", 0, 0, now_ms()).await?;
    let (send, mut seen) = tokio::sync::watch::channel((0u64, 0u64));
    let writer = {
        let (db, id) = (db.clone(), export_id.to_string());
        tokio::spawn(async move {
            while seen.changed().await.is_ok() {
                let (done, total) = *seen.borrow_and_update();
                let (done, total) = (
                    i64::try_from(done).unwrap_or(0),
                    i64::try_from(total).unwrap_or(0),
                );
                if let Err(error) =
                    db::exports::set_progress(&db, &id, "RUNNING", done, total, now_ms()).await
                {
                    tracing::warn!(%error, "could not record export progress");
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        })
    };
    let mut report = |done: u64, total: u64| {
        send.send_replace((done, total));
    };
    let built = build(cx, storage, tenant_id, &row.workspace_id, &mut report).await;
    drop(send);
    let _ = writer.await;
    match built {
        Ok((bytes, _)) => {
            let key = format!("{tenant_id}/{}/exports/{export_id}.zip", row.workspace_id);
            let size = bytes.len() as u64;
            let body = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(bytes))]);
            storage
                .put_stream(&key, body, size)
                .await
                .map_err(|e| anyhow::anyhow!("storing the export: {e}"))?;
            db::exports::finish(
                &db,
                export_id,
                &key,
                i64::try_from(size).unwrap_or(i64::MAX),
                now_ms(),
            )
            .await?;
            Ok(())
        }
        Err(error) => {
            let shown = match &error {
                AppError::Conflict { message, .. } => message.clone(),
                AppError::NotFound(_) => "the workspace is gone".into(),
                _ => "the export failed; the server log has the cause".into(),
            };
            db::exports::fail(&db, export_id, &shown, now_ms()).await?;
            Err(error)
        }
    }
}
