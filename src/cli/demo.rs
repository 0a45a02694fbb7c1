//! `kanri demo`: the demo workspace, and how to sign in to it.

use serde_json::json;

use super::admin::{explain, generate_password};
use crate::services::Ctx;
use crate::services::demo;
use crate::services::passwords::Passwords;

pub async fn run(cx: &Ctx, force: bool, json: bool, app_url: &str) -> anyhow::Result<()> {
    let password = format!("demo-{}", generate_password());
    let made = demo::create(cx, &Passwords::default(), &password, force)
        .await
        .map_err(explain)?;
    if json {
        println!(
            "{}",
            json!({"demo": made, "sign_in": format!("{app_url}/app/")})
        );
        return Ok(());
    }
    println!(
        "demo workspace \"{}\" ({}): {} projects, {} tasks, {} comments",
        made.workspace_name, made.workspace_id, made.projects, made.tasks, made.comments
    );
    println!("people (all with the password below):");
    for user in &made.users {
        println!(
            "  {:<24} {:<14} {}",
            user.email,
            user.role.as_str(),
            user.name
        );
    }
    println!("password {}", made.password);
    println!(
        "Start kanri serve and sign in at {app_url}/app/ as {} (the owner).",
        made.users[0].email
    );
    Ok(())
}
