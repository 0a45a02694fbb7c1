//! The identity-provider section: the webhook signing key, decoded once at load.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The signing key of `KANRI_IDENTITY_WEBHOOK_SECRET`: `whsec_` and the key in base64, held
/// decoded. Like [`Secret`](super::Secret), it never shows its bytes in `Debug`.
#[derive(Clone)]
pub struct WebhookKey(pub(crate) Vec<u8>);

impl WebhookKey {
    pub fn parse(value: &str) -> Result<Self, String> {
        let encoded = value
            .trim()
            .strip_prefix("whsec_")
            .ok_or("must look like whsec_<base64>, as the provider shows it")?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| "the part after whsec_ is not valid base64")?;
        if key.is_empty() {
            return Err("the key after whsec_ is empty".into());
        }
        Ok(Self(key))
    }
}

impl fmt::Debug for WebhookKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookKey([redacted])")
    }
}
