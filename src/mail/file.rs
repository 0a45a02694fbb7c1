//! `file://DIR`: each message becomes one RFC 5322 `.eml` file, for development and for
//! installs without a mail provider. Names sort by time: `20260131T170000.123Z-<uuidv7>.eml`.
//! A message with a stable cause (a job) is named `…-<cause>.eml`, and a re-send of it
//! overwrites the first file instead of adding a second.

use std::path::{Path, PathBuf};

use lettre::message::Mailbox;

use super::{Delivery, MailError, Mailer, Message, SendFuture};

pub struct FileMailer {
    dir: PathBuf,
    from: Mailbox,
}

impl FileMailer {
    pub fn new(dir: PathBuf, from: Mailbox) -> Self {
        Self { dir, from }
    }
}

impl Mailer for FileMailer {
    fn send<'a>(&'a self, msg: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let bytes = msg.to_lettre(&self.from)?.formatted();
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
            let cause = msg.cause().map(str::to_string);
            let id = cause.clone().unwrap_or_else(crate::ids::new_id);
            let name = format!("{stamp}-{id}.eml");
            let dir = self.dir.clone();
            let path = tokio::task::spawn_blocking(move || {
                let name = match &cause {
                    Some(cause) => earlier(&dir, cause)?.unwrap_or(name),
                    None => name,
                };
                write_new(&dir, &name, &bytes)
            })
            .await
            .map_err(|e| MailError::Transient(format!("the writer task failed: {e}")))?
            .map_err(|e| {
                MailError::Transient(format!("cannot write to {}: {e}", self.dir.display()))
            })?;
            tracing::info!(path = %path.display(), "mail written to file");
            Ok(Delivery::File(path))
        })
    }
}

/// The name already written for this cause, if any (a re-send after a crash).
fn earlier(dir: &Path, cause: &str) -> std::io::Result<Option<String>> {
    let suffix = format!("-{cause}.eml");
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let name = entry?.file_name();
        if let Some(name) = name
            .to_str()
            .filter(|n| n.ends_with(&suffix) && !n.starts_with('.'))
        {
            return Ok(Some(name.to_string()));
        }
    }
    Ok(None)
}

/// Writes under a temporary name first, so a reader of the directory never sees half a file.
fn write_new(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}
