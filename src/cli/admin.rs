//! Administration subcommands: migrations, tenants, keys and users.

use std::io::BufRead;

use anyhow::Context;
use serde_json::json;

use super::{ApikeyCommand, Command, JobStateArg, JobsCommand, TenantCommand, UserCommand};
use crate::config::Config;
use crate::db::Db;
use crate::domain::job_state::JobStatus;
use crate::domain::secret_token::random_base62;
use crate::domain::{KeyKind, Password};
use crate::error::AppError;
use crate::services::Ctx;
use crate::services::accounts::{self, NewUserInput};
use crate::services::passwords::Passwords;
use crate::services::tenants;

pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    // Mail needs no database, so it works before one is set up.
    if let Command::Mail(cmd) = command {
        return mail(&config, cmd).await;
    }
    let db = Db::connect(&config)
        .await
        .context("cannot open the database")?;
    db.migrate().await.context("cannot apply migrations")?;
    let cx = Ctx::new(db, &config)?;
    let result = match command {
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::Tenant(cmd) => tenant(&cx, cmd).await,
        Command::Apikey(cmd) => apikey(&cx, cmd).await,
        Command::User(cmd) => user(&cx, cmd).await,
        Command::Mail(_) => unreachable!("handled before the database opens"),
        Command::Jobs(cmd) => jobs(&cx, cmd).await,
        Command::Serve | Command::Worker | Command::Config => unreachable!("handled by the caller"),
        Command::Demo { force, json } => {
            super::demo::run(&cx, force, json, &config.server.app_url).await
        }
        Command::Search(_)
        | Command::Backup { .. }
        | Command::Restore { .. }
        | Command::Export(_)
        | Command::Import(_) => {
            unreachable!("handled by the caller")
        }
    };
    cx.db.close().await;
    result
}

/// Turns a service error into one readable line.
pub(super) fn explain(err: AppError) -> anyhow::Error {
    match err {
        AppError::Validation(fields) => anyhow::anyhow!(
            "{}",
            fields
                .iter()
                .map(|f| format!("{} {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}

async fn tenant(cx: &Ctx, cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create { name, json } => {
            let created = tenants::create_tenant(cx, &name).await.map_err(explain)?;
            if json {
                let out = json!({
                    "tenant": {"id": created.tenant.id, "name": created.tenant.name},
                    "secret_key": created.secret_key.expose(),
                    "publishable_key": created.publishable_key.expose(),
                });
                println!("{out}");
            } else {
                println!(
                    "tenant          {} ({})",
                    created.tenant.name, created.tenant.id
                );
                println!("secret key      {}", created.secret_key.expose());
                println!("publishable key {}", created.publishable_key.expose());
                println!("Store these keys now: they are not shown again.");
            }
        }
        TenantCommand::List { json } => {
            let all = tenants::list_tenants(cx).await.map_err(explain)?;
            if json {
                println!("{}", serde_json::to_string(&all)?);
            } else {
                for t in all {
                    println!("{}\t{}", t.id, t.name);
                }
            }
        }
    }
    Ok(())
}

async fn apikey(cx: &Ctx, cmd: ApikeyCommand) -> anyhow::Result<()> {
    match cmd {
        ApikeyCommand::Create {
            tenant,
            kind,
            name,
            json,
        } => {
            let kind: KeyKind = kind.into();
            let (info, key) = tenants::create_key(cx, &tenant, kind, &name)
                .await
                .map_err(explain)?;
            if json {
                println!("{}", json!({"key": info, "api_key": key.expose()}));
            } else {
                println!(
                    "{} key {} for tenant {}",
                    kind.as_str(),
                    info.id,
                    info.tenant_id
                );
                println!("{}", key.expose());
                println!("Store this key now: it is not shown again.");
            }
        }
        ApikeyCommand::List { tenant, json } => {
            let keys = tenants::list_keys(cx, &tenant).await.map_err(explain)?;
            if json {
                println!("{}", serde_json::to_string(&keys)?);
            } else {
                for k in keys {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    let used = k.last_used_at.as_deref().unwrap_or("never");
                    println!(
                        "{}\t{}\t{}\t{}\t{}\tlast used {}",
                        k.id,
                        k.kind.as_str(),
                        k.hint,
                        k.name,
                        state,
                        used
                    );
                }
            }
        }
        ApikeyCommand::Revoke { id } => {
            tenants::revoke_key(cx, &id).await.map_err(explain)?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

async fn user(cx: &Ctx, cmd: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create {
        email,
        name,
        tenant,
        password_stdin,
        json,
    } = cmd;
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (generate_password(), true)
    };
    let input = NewUserInput {
        email: &email,
        name: &name,
        password: Some(&password),
    };
    let user = accounts::create_user(cx, &Passwords::default(), &tenant, input)
        .await
        .map_err(explain)?;
    if json {
        let mut out = json!({"user": user});
        if generated {
            out["password"] = json!(password);
        }
        println!("{out}");
    } else {
        println!("user {} <{}> ({})", user.name, user.email, user.id);
        if generated {
            println!("password {password}");
        }
    }
    Ok(())
}

pub(super) fn generate_password() -> String {
    loop {
        let candidate = random_base62(20);
        if Password::parse("password", &candidate).is_ok() {
            return candidate;
        }
    }
}

async fn jobs(cx: &Ctx, cmd: JobsCommand) -> anyhow::Result<()> {
    use crate::services::jobs as admin_jobs;
    match cmd {
        JobsCommand::List { state, limit, json } => {
            let filter = state.map(|s| {
                match s {
                    JobStateArg::Queued => JobStatus::Queued,
                    JobStateArg::Scheduled => JobStatus::Scheduled,
                    JobStateArg::Running => JobStatus::Running,
                    JobStateArg::Succeeded => JobStatus::Succeeded,
                    JobStateArg::Dead => JobStatus::Dead,
                    JobStateArg::Cancelled => JobStatus::Cancelled,
                }
                .as_str()
            });
            let (jobs, _) = admin_jobs::list(
                cx,
                None,
                filter,
                None,
                None,
                admin_jobs::JobOrder::NewestFirst,
                limit.clamp(1, 1000),
            )
            .await
            .map_err(explain)?;
            if json {
                println!("{}", serde_json::to_string(&jobs)?);
            } else {
                for j in jobs {
                    let error = j.last_error.as_deref().unwrap_or("");
                    println!(
                        "{}\t{}\t{}\tattempt {}/{}\trun_at {}\t{}",
                        j.id, j.kind, j.state, j.attempts, j.max_attempts, j.run_at, error
                    );
                }
            }
        }
        JobsCommand::Retry { id, all_dead } => {
            if all_dead {
                let n = admin_jobs::retry_all_dead(cx, None)
                    .await
                    .map_err(explain)?;
                println!("queued {n} dead job(s) again");
            } else {
                let id = id.expect("clap requires an id without --all-dead");
                admin_jobs::retry(cx, None, &id).await.map_err(explain)?;
                println!("queued {id} again");
            }
        }
        JobsCommand::Cancel { id } => {
            admin_jobs::cancel(cx, None, &id).await.map_err(explain)?;
            println!("cancelled {id}");
        }
        JobsCommand::Stats { json } => {
            let stats = admin_jobs::stats(cx, None).await.map_err(explain)?;
            if json {
                println!("{}", serde_json::to_string(&stats)?);
            } else {
                for (state, n) in stats {
                    println!("{state}\t{n}");
                }
            }
        }
    }
    Ok(())
}

async fn mail(config: &Config, cmd: super::MailCommand) -> anyhow::Result<()> {
    let super::MailCommand::Test { address } = cmd;
    let mailer = crate::mail::from_config(&config.mail)?;
    let to = crate::mail::Recipient::new(&address, None)?;
    let message = crate::mail::templates::test_message(&config.server.app_url, to);
    let delivery = mailer.send(&message).await?;
    println!("test message {delivery}");
    Ok(())
}
