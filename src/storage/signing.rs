//! Expiring download links: HMAC-SHA256 over the attachment id and the expiry, checked in
//! constant time. Every instance must sign with the same key: `KANRI_SIGNING_KEY`, or, on the
//! embedded SQLite default (one machine), a key generated once and kept in the data directory.

use std::io::Write;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::{Config, Engine, MIN_SIGNING_KEY_CHARS, Secret};

const KEY_FILE: &str = "signing.key";

#[derive(Clone, Debug)]
pub struct SigningKey(Secret<Vec<u8>>);

impl SigningKey {
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        Self(Secret::new(key.into()))
    }

    /// The configured key; else, on SQLite, the data directory's (made on first start); else
    /// none, and signed links are not offered.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        if let Some(key) = &config.storage.signing_key {
            return Ok(Some(Self::new(key.expose().as_bytes())));
        }
        match config.database.engine {
            Engine::Sqlite => Ok(Some(load_or_create(&config.data_dir.join(KEY_FILE))?)),
            Engine::Postgres => Ok(None),
        }
    }

    /// A 32-byte key for another purpose (HMAC-SHA256 of `purpose` under this key), so one
    /// configured secret serves several uses without any two sharing a key.
    pub fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose())
            .expect("HMAC takes a key of any length");
        mac.update(purpose);
        mac.finalize().into_bytes().into()
    }

    fn mac(&self, attachment_id: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose())
            .expect("HMAC takes a key of any length");
        // Length-prefixed so no id/expiry pair can be shifted into another.
        mac.update(b"kanri-file-v1");
        mac.update(&(attachment_id.len() as u64).to_be_bytes());
        mac.update(attachment_id.as_bytes());
        mac.update(&expires.to_be_bytes());
        mac
    }

    /// Hex signature of a link to `attachment_id` valid until `expires` (epoch seconds).
    pub fn sign(&self, attachment_id: &str, expires: i64) -> String {
        hex::encode(self.mac(attachment_id, expires).finalize().into_bytes())
    }

    /// Whether `signature` is ours for this id and expiry (constant-time).
    pub fn verify(&self, attachment_id: &str, expires: i64, signature: &str) -> bool {
        let Ok(bytes) = hex::decode(signature) else {
            return false;
        };
        self.mac(attachment_id, expires)
            .verify_slice(&bytes)
            .is_ok()
    }
}

fn load_or_create(path: &Path) -> anyhow::Result<SigningKey> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= MIN_SIGNING_KEY_CHARS => {
            return Ok(SigningKey::new(text.trim().as_bytes()));
        }
        Ok(_) => anyhow::bail!("{} is too short to be a signing key", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let key = hex::encode(rand::random::<[u8; 32]>());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(key.as_bytes())?;
            file.sync_all()?;
            Ok(SigningKey::new(key.as_bytes()))
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create(path),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_id_and_expiry() {
        let key = SigningKey::new("k".repeat(32));
        let sig = key.sign("a1", 100);
        assert!(key.verify("a1", 100, &sig));
        assert!(!key.verify("a1", 101, &sig));
        assert!(!key.verify("a2", 100, &sig));
        assert!(!key.verify("a1", 100, "zz"));
        assert!(!key.verify("a1", 100, &sig[..10]));
        assert!(!SigningKey::new("x".repeat(32)).verify("a1", 100, &sig));
    }

    #[test]
    fn a_generated_key_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(KEY_FILE);
        let first = load_or_create(&path).unwrap();
        let again = load_or_create(&path).unwrap();
        assert!(again.verify("id", 1, &first.sign("id", 1)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
