//! The command line. Each subcommand is a thin call into the library.

mod admin;
mod backup;
mod demo;
pub mod search;
mod transfer;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, TelemetryConfig};
use crate::domain::KeyKind;

#[derive(Debug, Parser)]
#[command(
    name = "kanri",
    version,
    about = "Self-hostable project-management backend"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default when no command is given).
    Serve,
    /// Run background job workers only (KANRI_WORKERS of them, at least one).
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Check the mail settings.
    #[command(subcommand)]
    Mail(MailCommand),
    /// Inspect and steer background jobs.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Rebuild search indexes, try a query, or measure search quality.
    #[command(subcommand)]
    Search(search::SearchCommand),
    /// Take a consistent backup of the SQLite database and the attachment files.
    Backup {
        /// A directory, or `s3` (default: KANRI_BACKUP_TO, else <data dir>/backups).
        #[arg(long)]
        to: Option<String>,
        /// Complete backups to keep there (default: KANRI_BACKUP_KEEP, 7).
        #[arg(long)]
        keep: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Replace the SQLite database and files with a backup, after checking it.
    Restore {
        /// The backup's folder (kanri-backup-…, with its manifest.json), or s3:kanri-backup-…
        /// for one in the S3 store's backups/.
        backup: String,
        #[arg(long)]
        json: bool,
    },
    /// Fill a fresh install with a demo workspace, people, projects, tasks and comments.
    Demo {
        /// Add the demo workspace even though workspaces exist.
        #[arg(long)]
        force: bool,
        #[arg(long)]
        json: bool,
    },
    /// Export a workspace (every row and file) to one archive.
    Export(transfer::ExportArgs),
    /// Import an export archive, a CSV of tasks or a Trello board; all or nothing.
    Import(transfer::ImportArgs),
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and print its first secret and publishable keys (shown once).
    Create {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List tenants.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum KindArg {
    Secret,
    Publishable,
}

impl From<KindArg> for KeyKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Secret => KeyKind::Secret,
            KindArg::Publishable => KeyKind::Publishable,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Issue a new key for a tenant (shown once).
    Create {
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long, value_enum, default_value = "secret")]
        kind: KindArg,
        #[arg(long, default_value = "cli")]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's keys (hints only).
    List {
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id.
    Revoke { id: String },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum JobStateArg {
    Queued,
    Scheduled,
    Running,
    Succeeded,
    Dead,
    Cancelled,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// List jobs, newest last.
    List {
        #[arg(long, value_enum)]
        state: Option<JobStateArg>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Queue a dead or cancelled job again (or every dead job).
    Retry {
        #[arg(required_unless_present = "all_dead", conflicts_with = "all_dead")]
        id: Option<String>,
        #[arg(long)]
        all_dead: bool,
    },
    /// Cancel a job that has not run yet.
    Cancel { id: String },
    /// Show queue depth by state.
    Stats {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Send a test message to ADDRESS through KANRI_MAIL_URL and say where it went.
    Test { address: String },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is read from stdin with --password-stdin, otherwise one is
    /// generated and printed once.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "default")]
        tenant: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
}

/// Parses the command line and runs it; errors become one line on stderr and a non-zero exit.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) if !err.use_stderr() => {
            // --help and --version
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let text = err.to_string();
            eprintln!(
                "{}",
                text.lines().next().unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(2);
        }
    };
    let config = match Config::load() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: configuration: {err}");
            return ExitCode::from(78);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", format!("{err:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            crate::telemetry::init(&config.telemetry);
            serve(config).await
        }
        Command::Worker => {
            crate::telemetry::init(&config.telemetry);
            crate::app::run_workers(config, crate::app::shutdown_signal()).await
        }
        Command::Config => {
            println!("{}", serde_json::to_string_pretty(&config.redacted())?);
            Ok(())
        }
        Command::Export(args) => {
            crate::telemetry::init(&quiet(&config));
            transfer::export(args, config).await
        }
        Command::Import(args) => {
            crate::telemetry::init(&quiet(&config));
            transfer::import(args, config).await
        }
        Command::Search(cmd) => {
            crate::telemetry::init(&TelemetryConfig {
                log: "warn".into(),
                ..config.telemetry.clone()
            });
            search::run(cmd, config).await
        }
        Command::Backup { to, keep, json } => {
            crate::telemetry::init(&quiet(&config));
            backup::backup(&config, to.as_deref(), keep, json).await
        }
        Command::Restore { backup: path, json } => {
            crate::telemetry::init(&quiet(&config));
            backup::restore(&config, &path, json).await
        }
        other => {
            let quiet = TelemetryConfig {
                log: "warn".into(),
                ..config.telemetry.clone()
            };
            crate::telemetry::init(&quiet);
            admin::run(other, config).await
        }
    }
}

fn quiet(config: &Config) -> TelemetryConfig {
    TelemetryConfig {
        log: "warn".into(),
        ..config.telemetry.clone()
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.server.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.bind))?;
    let app = crate::App::build(config).await?;
    app.serve(listener, crate::app::shutdown_signal()).await
}
