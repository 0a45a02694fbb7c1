//! Administration subcommands: migrations, tenants, keys and users.

use std::io::BufRead;

use anyhow::Context;
use serde_json::json;

use super::{ApikeyCommand, Command, TenantCommand, UserCommand};
use crate::config::Config;
use crate::db::Db;
use crate::domain::secret_token::random_base62;
use crate::domain::{KeyKind, Password};
use crate::error::AppError;
use crate::services::accounts::{self, NewUserInput};
use crate::services::passwords::Passwords;
use crate::services::tenants;

pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let db = Db::connect(&config)
        .await
        .context("cannot open the database")?;
    db.migrate().await.context("cannot apply migrations")?;
    let result = match command {
        Command::Migrate => {
            println!("migrations applied");
            Ok(())
        }
        Command::Tenant(cmd) => tenant(&db, cmd).await,
        Command::Apikey(cmd) => apikey(&db, cmd).await,
        Command::User(cmd) => user(&db, cmd).await,
        Command::Serve | Command::Config => unreachable!("handled by the caller"),
    };
    db.close().await;
    result
}

/// Turns a service error into one readable line.
fn explain(err: AppError) -> anyhow::Error {
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

async fn tenant(db: &Db, cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::Create { name, json } => {
            let created = tenants::create_tenant(db, &name).await.map_err(explain)?;
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
            let all = tenants::list_tenants(db).await.map_err(explain)?;
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

async fn apikey(db: &Db, cmd: ApikeyCommand) -> anyhow::Result<()> {
    match cmd {
        ApikeyCommand::Create {
            tenant,
            kind,
            name,
            json,
        } => {
            let kind: KeyKind = kind.into();
            let (info, key) = tenants::create_key(db, &tenant, kind, &name)
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
            let keys = tenants::list_keys(db, &tenant).await.map_err(explain)?;
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
                        k.id, k.kind, k.hint, k.name, state, used
                    );
                }
            }
        }
        ApikeyCommand::Revoke { id } => {
            tenants::revoke_key(db, &id).await.map_err(explain)?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

async fn user(db: &Db, cmd: UserCommand) -> anyhow::Result<()> {
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
    let user = accounts::create_user(db, &Passwords::default(), &tenant, input)
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

fn generate_password() -> String {
    loop {
        let candidate = random_base62(20);
        if Password::parse("password", &candidate).is_ok() {
            return candidate;
        }
    }
}
