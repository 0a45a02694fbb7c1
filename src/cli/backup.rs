//! `kanri backup` and `kanri restore`: parse the destination, call `crate::backup`, print.

use crate::backup;
use crate::config::{BackupTarget, Config};
use crate::storage::Storage;

pub async fn backup(
    config: &Config,
    to: Option<&str>,
    keep: Option<usize>,
    json: bool,
) -> anyhow::Result<()> {
    let target = match to {
        Some(text) => BackupTarget::parse(text).map_err(|e| anyhow::anyhow!("--to: {e}"))?,
        None => config.backup.target.clone(),
    };
    let keep = keep.unwrap_or(config.backup.keep);
    if keep == 0 {
        anyhow::bail!("--keep must be at least 1");
    }
    let storage = Storage::from_config(&config.storage)?;
    let taken = backup::take(config, &storage, &target, keep).await?;
    if json {
        println!("{}", serde_json::to_string(&taken)?);
    } else {
        let m = &taken.manifest;
        println!("backup {} written to {}", taken.name, taken.location);
        println!(
            "database {} bytes, sha256 {}, schema {}",
            m.database.bytes, m.database.sha256, m.schema_version
        );
        println!("files    {} ({} bytes)", m.files.count, m.files.bytes);
        if !m.files.missing.is_empty() {
            println!(
                "note     {} attachment(s) were deleted while the backup ran and are not in it",
                m.files.missing.len()
            );
        }
        for name in &taken.deleted {
            println!("deleted  {name} (keeping {keep})");
        }
    }
    Ok(())
}

pub async fn restore(config: &Config, path: &str, json: bool) -> anyhow::Result<()> {
    let restored = backup::restore::restore(config, path).await?;
    if json {
        println!("{}", serde_json::to_string(&restored)?);
    } else {
        println!(
            "restored {path} (taken {}, schema {}), {} file(s)",
            restored.manifest.created_at, restored.manifest.schema_version, restored.files
        );
        match &restored.moved_aside {
            Some(aside) => println!("the previous database is kept in {aside}"),
            None => println!("there was no previous database"),
        }
        println!("start kanri serve: it applies any newer migrations first");
    }
    Ok(())
}
