//! `kanri export` and `kanri import`: the operator's workspace export and imports (an archive,
//! a CSV of tasks, a Trello board), with a progress bar on a terminal and the summary as JSON
//! on stdout.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::db::Db;
use crate::services::Ctx;
use crate::services::transfer::{self, export, import, limits};
use crate::storage::Storage;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The workspace's id.
    #[arg(long)]
    pub workspace: String,
    /// Where to write the archive (a .zip).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// By the file's extension: .zip an archive, .csv a CSV, .json a Trello board.
    Auto,
    Archive,
    Csv,
    Trello,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: Format,
    /// Archive: give every row a new id (a second copy) instead of keeping the archive's.
    #[arg(long)]
    pub remap_ids: bool,
    /// Archive: the tenant to import into.
    #[arg(long, default_value = "default")]
    pub tenant: String,
    /// CSV: the project the tasks go into.
    #[arg(long, required_if_eq("format", "csv"))]
    pub project: Option<String>,
    /// CSV: `field=Column` pairs (`title=Summary,status=State`).
    #[arg(long, default_value = "")]
    pub mapping: String,
    /// Trello: the workspace the new project goes into.
    #[arg(long, required_if_eq("format", "trello"))]
    pub workspace: Option<String>,
    /// Trello: `List name=STATUS` pairs.
    #[arg(long, default_value = "")]
    pub lists: String,
}

fn bar(what: &'static str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{bar:40}} {{pos}}/{{len}} rows and files, ETA {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

async fn open(config: &Config) -> anyhow::Result<(Ctx, Storage)> {
    let db = Db::connect(config)
        .await
        .context("cannot open the database")?;
    db.migrate().await.context("cannot apply migrations")?;
    let storage = Storage::from_config(&config.storage)?;
    Ok((Ctx::new(db, config)?, storage))
}

pub async fn export(args: ExportArgs, config: Config) -> anyhow::Result<()> {
    let (cx, storage) = open(&config).await?;
    let tenant = crate::db::transfer::workspace_tenant(cx.db.read(), &args.workspace)
        .await?
        .with_context(|| format!("no workspace {}", args.workspace))?;
    let progress = bar("exporting");
    let mut report = |done: u64, total: u64| {
        progress.set_length(total);
        progress.set_position(done);
    };
    let built = export::build(&cx, &storage, &tenant, &args.workspace, &mut report).await;
    progress.finish_and_clear();
    let (bytes, manifest) = built.map_err(|e| anyhow::anyhow!("{}", describe(&e)))?;
    std::fs::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "file": args.out.display().to_string(),
            "size_bytes": bytes.len(),
            "manifest": manifest,
        }))?
    );
    cx.db.close().await;
    Ok(())
}

/// An `AppError` as one line, with the fields a validation names.
fn describe(e: &crate::error::AppError) -> String {
    match e {
        crate::error::AppError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn format_of(path: &Path, format: Format) -> anyhow::Result<Format> {
    if format != Format::Auto {
        return Ok(format);
    }
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("zip") => Ok(Format::Archive),
        Some("csv") => Ok(Format::Csv),
        Some("json") => Ok(Format::Trello),
        _ => bail!(
            "cannot tell the format of {}: pass --format archive|csv|trello",
            path.display()
        ),
    }
}

pub async fn import(args: ImportArgs, config: Config) -> anyhow::Result<()> {
    let format = format_of(&args.file, args.format)?;
    let (cx, storage) = open(&config).await?;
    let read_small = |path: &Path| -> anyhow::Result<Vec<u8>> {
        let size = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        if size > limits::MAX_SOURCE_BYTES {
            bail!(
                "{} is larger than {} bytes",
                path.display(),
                limits::MAX_SOURCE_BYTES
            );
        }
        Ok(std::fs::read(path)?)
    };
    let result = match format {
        Format::Archive => {
            let file = std::fs::File::open(&args.file)
                .with_context(|| format!("reading {}", args.file.display()))?;
            if file.metadata()?.len() > limits::MAX_ARCHIVE_BYTES {
                bail!(
                    "{} is larger than {} bytes",
                    args.file.display(),
                    limits::MAX_ARCHIVE_BYTES
                );
            }
            let ids = if args.remap_ids {
                import::Ids::Remap
            } else {
                import::Ids::Keep
            };
            let progress = bar("importing");
            let mut report = |done: u64, total: u64| {
                progress.set_length(total);
                progress.set_position(done);
            };
            let result =
                import::archive(&cx, &storage, &args.tenant, None, file, ids, &mut report).await;
            progress.finish_and_clear();
            result
        }
        Format::Csv => {
            let bytes = read_small(&args.file)?;
            let project = args
                .project
                .as_deref()
                .context("--project is required for a CSV")?;
            transfer::import_csv_operator(&cx, &args.tenant, project, &bytes, &args.mapping).await
        }
        Format::Trello => {
            let bytes = read_small(&args.file)?;
            let workspace = args
                .workspace
                .as_deref()
                .context("--workspace is required for a Trello board")?;
            transfer::import_trello_operator(&cx, workspace, &bytes, &args.lists).await
        }
        Format::Auto => unreachable!("resolved above"),
    };
    cx.db.close().await;
    let summary = result
        .map_err(|e| anyhow::anyhow!("import refused, nothing imported: {}", describe(&e)))?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}
