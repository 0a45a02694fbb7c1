//! OpenID Connect sign-in (authorization code flow with PKCE) for the default tenant's
//! provider (`KANRI_OIDC_*`): Keycloak, Authentik, Google, Microsoft, GitLab — any issuer with
//! discovery.
//!
//! `start` keeps a random state (by its hash), a nonce and the PKCE verifier for ten minutes
//! and sends the browser to the provider; `finish` takes that row out (so a state works once),
//! trades the code for tokens at the token endpoint with the verifier, checks the ID token
//! (`jwks::KeySet`: the provider's key and its algorithm, `iss`, `aud` = our client id,
//! `exp`, and the nonce), and signs in the user linked to the provider's subject — linking by
//! a verified email, or creating the account, the first time.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use super::jwks::{KeySet, ProviderClient};
use crate::clock::now_ms;
use crate::config::OidcConfig;
use crate::db;
use crate::db::oidc::PendingLogin;
use crate::domain::SecretToken;
use crate::error::{AppError, AppResult, AuthFailure};
use crate::services::Ctx;
use crate::services::accounts::{self, SignedIn};

/// How long a started sign-in may take at the provider.
const LOGIN_TTL_MS: i64 = 10 * 60 * 1000;
const KEYS_MIN_REFETCH: std::time::Duration = std::time::Duration::from_secs(60);

/// The parts of the discovery document the flow uses.
#[derive(Debug, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    #[serde(default)]
    token_endpoint_auth_methods_supported: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    id_token: String,
}

/// The ID token's claims Kanri reads.
#[derive(Debug, Deserialize)]
struct IdClaims {
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    /// A boolean, or the string `"true"` from some providers.
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    name: Option<String>,
    preferred_username: Option<String>,
}

struct Endpoints {
    discovery: Discovery,
    keys: KeySet,
}

pub struct Oidc {
    config: OidcConfig,
    client: ProviderClient,
    endpoints: OnceCell<Endpoints>,
}

/// Where the browser goes next, and what `finish` signed in.
pub struct Finished {
    pub signed_in: SignedIn,
    pub return_to: Option<String>,
}

fn failed() -> AppError {
    AppError::Unauthenticated(AuthFailure::SingleSignOnFailed)
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// PKCE's S256 challenge of a verifier (RFC 7636).
fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Only a path on this server (`/app/…`): never another origin, never `//host`.
pub fn safe_return_to(value: &str) -> Option<String> {
    let ok = value.starts_with('/')
        && !value.starts_with("//")
        && !value.contains('\\')
        && value.len() <= 512
        && !value.chars().any(char::is_control);
    ok.then(|| value.to_string())
}

fn verified(claim: &Option<serde_json::Value>) -> bool {
    matches!(claim, Some(serde_json::Value::Bool(true)))
        || matches!(claim, Some(serde_json::Value::String(s)) if s == "true")
}

impl Oidc {
    pub fn new(config: OidcConfig) -> anyhow::Result<Self> {
        Ok(Self {
            config,
            client: ProviderClient::new()?,
            endpoints: OnceCell::new(),
        })
    }

    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The provider's endpoints, from its discovery document (read once, retried while it
    /// fails). The document must name the configured issuer.
    async fn endpoints(&self) -> AppResult<&Endpoints> {
        self.endpoints
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.config.issuer);
                let discovery: Discovery = self.client.get_json(&url).await.map_err(|e| {
                    tracing::warn!(error = %e, %url, "cannot read the OIDC discovery document");
                    AppError::NotConfigured("the identity provider cannot be reached")
                })?;
                if discovery.issuer.trim_end_matches('/') != self.config.issuer {
                    tracing::warn!(found = %discovery.issuer, "the discovery document names another issuer");
                    return Err(AppError::NotConfigured(
                        "the identity provider's discovery document names another issuer",
                    ));
                }
                let keys = KeySet::new(
                    discovery.jwks_uri.clone(),
                    self.client.clone(),
                    KEYS_MIN_REFETCH,
                );
                Ok(Endpoints { discovery, keys })
            })
            .await
    }

    /// Begins a sign-in: the provider's authorization URL to send the browser to.
    pub async fn start(
        &self,
        cx: &Ctx,
        tenant_id: &str,
        redirect_uri: &str,
        return_to: Option<String>,
    ) -> AppResult<String> {
        let endpoints = self.endpoints().await?;
        let (state, nonce, verifier) = (
            SecretToken::generate(),
            SecretToken::generate(),
            SecretToken::generate(),
        );
        let now = now_ms();
        db::oidc::delete_expired_logins(cx.db.write(), now).await?;
        let pending = PendingLogin {
            tenant_id: tenant_id.to_string(),
            provider: self.config.name.clone(),
            nonce: nonce.expose().to_string(),
            verifier: verifier.expose().to_string(),
            return_to,
            expires_at: now + LOGIN_TTL_MS,
        };
        db::oidc::insert_login(cx.db.write(), &sha256_hex(state.expose()), &pending).await?;
        let mut url = url::Url::parse(&endpoints.discovery.authorization_endpoint)
            .map_err(|_| AppError::NotConfigured("the provider's authorization URL is invalid"))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", state.expose())
            .append_pair("nonce", nonce.expose())
            .append_pair("code_challenge", &challenge(verifier.expose()))
            .append_pair("code_challenge_method", "S256");
        Ok(url.into())
    }

    /// Completes a sign-in from the provider's redirect back.
    pub async fn finish(
        &self,
        cx: &Ctx,
        redirect_uri: &str,
        code: &str,
        state: &str,
        session_ttl: std::time::Duration,
    ) -> AppResult<Finished> {
        if code.is_empty() || code.len() > 2048 || state.len() > 256 {
            return Err(failed());
        }
        let now = now_ms();
        let pending = db::oidc::take_login(cx.db.write(), &sha256_hex(state), now)
            .await?
            .filter(|p| p.provider == self.config.name)
            .ok_or_else(failed)?;
        let endpoints = self.endpoints().await?;
        let id_token = self
            .exchange(endpoints, redirect_uri, code, &pending.verifier)
            .await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = super::external_jwt::LEEWAY_SECS;
        validation.set_issuer(&[&self.config.issuer, &endpoints.discovery.issuer]);
        validation.set_audience(&[&self.config.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims: IdClaims = endpoints
            .keys
            .verify(&id_token, validation)
            .await
            .ok_or_else(failed)?;
        if claims.nonce.as_deref() != Some(pending.nonce.as_str()) {
            return Err(failed());
        }
        let email = claims
            .email
            .as_deref()
            .filter(|_| verified(&claims.email_verified));
        let name = claims
            .name
            .as_deref()
            .or(claims.preferred_username.as_deref())
            .or(email.and_then(|e| e.split('@').next()))
            .unwrap_or("Member");
        let signed_in = accounts::sign_in_from_provider(
            cx,
            &pending.tenant_id,
            &self.config.name,
            &claims.sub,
            email,
            name,
            session_ttl,
        )
        .await?;
        Ok(Finished {
            signed_in,
            return_to: pending.return_to,
        })
    }

    /// The code for tokens at the token endpoint; the ID token.
    async fn exchange(
        &self,
        endpoints: &Endpoints,
        redirect_uri: &str,
        code: &str,
        verifier: &str,
    ) -> AppResult<String> {
        let methods = &endpoints.discovery.token_endpoint_auth_methods_supported;
        // client_secret_basic is the default when the provider lists nothing (RFC 8414).
        let basic = methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic");
        let mut authorization = None;
        // Built in a block: the serializer is not `Send` and must not live across an await.
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("grant_type", "authorization_code")
                .append_pair("code", code)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("code_verifier", verifier)
                .append_pair("client_id", &self.config.client_id);
            if let Some(secret) = &self.config.client_secret {
                if basic {
                    let encode = |v: &str| {
                        url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                    };
                    let pair = format!(
                        "{}:{}",
                        encode(&self.config.client_id),
                        encode(secret.expose())
                    );
                    authorization = Some(format!("Basic {}", STANDARD.encode(pair)));
                } else {
                    form.append_pair("client_secret", secret.expose());
                }
            }
            form.finish()
        };
        let answer: TokenAnswer = self
            .client
            .post_form(&endpoints.discovery.token_endpoint, form, authorization)
            .await
            .map_err(|e| {
                tracing::info!(error = %e, "the OIDC token endpoint refused the code");
                failed()
            })?;
        Ok(answer.id_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn only_local_paths_are_returned_to() {
        assert_eq!(safe_return_to("/app/").as_deref(), Some("/app/"));
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil",
            "app",
            "/a\nb",
        ] {
            assert!(safe_return_to(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn email_verified_takes_a_boolean_or_the_string_true() {
        assert!(verified(&Some(serde_json::json!(true))));
        assert!(verified(&Some(serde_json::json!("true"))));
        assert!(!verified(&Some(serde_json::json!(false))));
        assert!(!verified(&None));
    }
}
