//! The identity-provider section: the webhook signing key, decoded once at load.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::load::RawConfig;
use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct IdentityConfig {
    /// Signs identity-provider webhooks (`KANRI_IDENTITY_WEBHOOK_SECRET`, `whsec_<base64>`,
    /// Svix's format); webhooks answer 503 without it.
    pub webhook_key: Option<WebhookKey>,
    /// Session JWTs of an outside identity provider accepted as bearer tokens
    /// (`KANRI_EXTERNAL_JWT_*`); `None` accepts only Kanri's own sessions.
    pub external_jwt: Option<ExternalJwtConfig>,
    /// The default tenant's OpenID Connect provider (`KANRI_OIDC_*`).
    pub oidc: Option<OidcConfig>,
}

/// An OpenID Connect provider members sign in with (authorization code flow with PKCE).
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// Names the provider in its routes (`/v1/auth/oidc/{name}/…`; `KANRI_OIDC_NAME`, default
    /// `sso`): lower-case letters, digits and `-`.
    pub name: String,
    /// The issuer (`KANRI_OIDC_ISSUER`); its discovery document is
    /// `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// Unset for a public client (PKCE alone).
    pub client_secret: Option<super::Secret<String>>,
}

impl OidcConfig {
    fn from_raw(raw: &RawConfig) -> Result<Option<Self>, ConfigError> {
        let Some(issuer) = raw.oidc_issuer.as_deref().filter(|v| !v.trim().is_empty()) else {
            if raw.oidc_client_id.is_some() || raw.oidc_client_secret.is_some() {
                return Err(invalid(
                    "KANRI_OIDC_ISSUER",
                    "is required with KANRI_OIDC_CLIENT_ID or KANRI_OIDC_CLIENT_SECRET",
                ));
            }
            return Ok(None);
        };
        let issuer = check_url("KANRI_OIDC_ISSUER", issuer)?;
        let client_id = raw
            .oidc_client_id
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty() && c.len() <= 255)
            .ok_or_else(|| invalid("KANRI_OIDC_CLIENT_ID", "is required (1–255 characters)"))?
            .to_string();
        let name = raw.oidc_name.as_deref().unwrap_or("sso").trim().to_string();
        let slug_ok = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug_ok {
            return Err(invalid(
                "KANRI_OIDC_NAME",
                "must be 1–32 lower-case letters, digits or -",
            ));
        }
        Ok(Some(Self {
            name,
            issuer,
            client_id,
            client_secret: raw.oidc_client_secret.clone(),
        }))
    }
}

/// Who issues the outside session tokens, where its signing keys are, and who they are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalJwtConfig {
    /// The exact `iss` claim (`KANRI_EXTERNAL_JWT_ISSUER`), e.g. `https://clerk.example.com`.
    pub issuer: String,
    /// The JSON Web Key Set (`KANRI_EXTERNAL_JWT_JWKS_URL`, default
    /// `{issuer}/.well-known/jwks.json`).
    pub jwks_url: String,
    /// When set (`KANRI_EXTERNAL_JWT_AUDIENCE`), a token's `aud` must include it.
    pub audience: Option<String>,
    /// The least time between two fetches of the key set (60 s; not a setting — tests
    /// shorten it to see a rotation at once).
    pub min_refetch: std::time::Duration,
}

/// An https URL, or http on a loopback host (a provider running beside the server, in tests
/// and development).
fn check_url(key: &'static str, value: &str) -> Result<String, ConfigError> {
    let url = url::Url::parse(value.trim()).map_err(|e| invalid(key, format!("not a URL: {e}")))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(invalid(
                key,
                "must be an https URL (http only on localhost)",
            ));
        }
    }
    if url.host_str().is_none() {
        return Err(invalid(key, "has no host"));
    }
    Ok(value.trim().trim_end_matches('/').to_string())
}

impl ExternalJwtConfig {
    fn from_raw(raw: &RawConfig) -> Result<Option<Self>, ConfigError> {
        let Some(issuer) = raw
            .external_jwt_issuer
            .as_deref()
            .filter(|v| !v.trim().is_empty())
        else {
            if raw.external_jwt_jwks_url.is_some() || raw.external_jwt_audience.is_some() {
                return Err(invalid(
                    "KANRI_EXTERNAL_JWT_ISSUER",
                    "is required with KANRI_EXTERNAL_JWT_JWKS_URL or KANRI_EXTERNAL_JWT_AUDIENCE",
                ));
            }
            return Ok(None);
        };
        let issuer = check_url("KANRI_EXTERNAL_JWT_ISSUER", issuer)?;
        let jwks_url = match raw.external_jwt_jwks_url.as_deref() {
            Some(url) => check_url("KANRI_EXTERNAL_JWT_JWKS_URL", url)?,
            None => format!("{issuer}/.well-known/jwks.json"),
        };
        let audience = raw
            .external_jwt_audience
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string);
        Ok(Some(Self {
            issuer,
            jwks_url,
            audience,
            min_refetch: std::time::Duration::from_secs(60),
        }))
    }
}

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

impl IdentityConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let webhook_key = match &raw.identity_webhook_secret {
            Some(secret) => Some(
                WebhookKey::parse(secret.expose())
                    .map_err(|e| invalid("KANRI_IDENTITY_WEBHOOK_SECRET", e))?,
            ),
            None => None,
        };
        Ok(Self {
            webhook_key,
            external_jwt: ExternalJwtConfig::from_raw(raw)?,
            oidc: OidcConfig::from_raw(raw)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, Secret};
    use super::*;

    fn raw() -> RawConfig {
        RawConfig::default()
    }

    #[test]
    fn oidc_settings_are_checked() {
        let load = |issuer: Option<&str>, client: Option<&str>, name: Option<&str>| {
            let mut r = raw();
            r.oidc_issuer = issuer.map(str::to_string);
            r.oidc_client_id = client.map(str::to_string);
            r.oidc_name = name.map(str::to_string);
            Config::from_raw(r).map(|c| c.identity.oidc)
        };
        assert!(load(None, None, None).unwrap().is_none());
        let found = load(
            Some("https://id.example.com/realms/acme/"),
            Some("kanri"),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(found.issuer, "https://id.example.com/realms/acme");
        assert_eq!(found.name, "sso");
        for (issuer, client, name, key) in [
            (
                Some("https://id.example.com"),
                None,
                None,
                "KANRI_OIDC_CLIENT_ID",
            ),
            (None, Some("kanri"), None, "KANRI_OIDC_ISSUER"),
            (
                Some("http://id.example.com"),
                Some("kanri"),
                None,
                "KANRI_OIDC_ISSUER",
            ),
            (
                Some("https://id.example.com"),
                Some("kanri"),
                Some("Not A Slug"),
                "KANRI_OIDC_NAME",
            ),
        ] {
            let err = load(issuer, client, name).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn external_jwt_settings_are_checked() {
        let load = |issuer: Option<&str>, jwks: Option<&str>| {
            let mut r = raw();
            r.external_jwt_issuer = issuer.map(str::to_string);
            r.external_jwt_jwks_url = jwks.map(str::to_string);
            Config::from_raw(r).map(|c| c.identity.external_jwt)
        };
        assert_eq!(load(None, None).unwrap(), None);
        let found = load(Some("https://clerk.example.com/"), None)
            .unwrap()
            .unwrap();
        assert_eq!(found.issuer, "https://clerk.example.com");
        assert_eq!(
            found.jwks_url,
            "https://clerk.example.com/.well-known/jwks.json"
        );
        assert!(load(Some("http://127.0.0.1:9000"), None).is_ok());
        for (issuer, jwks) in [
            (Some("http://clerk.example.com"), None),
            (Some("not a url"), None),
            (None, Some("https://x.example.com/jwks")),
            (
                Some("https://clerk.example.com"),
                Some("ftp://x.example.com"),
            ),
        ] {
            let err = load(issuer, jwks).unwrap_err().to_string();
            assert!(err.contains("KANRI_EXTERNAL_JWT_"), "{err}");
        }
    }

    #[test]
    fn identity_webhook_secret_is_checked_and_redacted() {
        assert!(
            Config::from_raw(raw())
                .unwrap()
                .identity
                .webhook_key
                .is_none()
        );
        let mut r = raw();
        r.identity_webhook_secret =
            Some(Secret::new("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()));
        let c = Config::from_raw(r).unwrap();
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("MfKQ9r8") && shown.contains("\"identity_webhook_secret\":\"***\""),
            "{shown}"
        );
        assert!(!format!("{c:?}").contains("MfKQ9r8"));
        for bad in [
            "",
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_",
            "whsec_not base64!",
        ] {
            let mut r = raw();
            r.identity_webhook_secret = Some(Secret::new(bad.into()));
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(
                err.contains("KANRI_IDENTITY_WEBHOOK_SECRET") && !err.contains("MfKQ"),
                "{bad:?}: {err}"
            );
        }
    }
}
