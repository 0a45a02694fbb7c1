//! `resend://API_KEY`: Resend's HTTP API (`POST {base_url}/emails`). The key travels only in
//! the `Authorization` header and is never logged.
//!
//! The client is hyper with hyper-rustls, given an explicit rustls config (ring provider,
//! Mozilla roots). reqwest 0.13 was the first choice, but without aws-lc-rs it needs a
//! process-wide default crypto provider, and every other `reqwest::Client` in the process
//! (the test suite's included) would then panic unless something installed one first.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lettre::message::Mailbox;
use serde_json::{Value, json};

use super::{Delivery, MailError, Mailer, Message, SendFuture};
use crate::config::Secret;

/// The whole exchange, from connecting to reading the reply.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Replies larger than this are not read (Resend's are a few hundred bytes).
const MAX_REPLY_BYTES: usize = 64 * 1024;

pub struct ResendMailer {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    endpoint: Uri,
    api_key: Secret<String>,
    from: String,
}

impl ResendMailer {
    pub fn new(
        api_key: Secret<String>,
        base_url: String,
        from: Mailbox,
    ) -> Result<Self, MailError> {
        let endpoint: Uri = format!("{base_url}/emails")
            .parse()
            .map_err(|e| MailError::Permanent(format!("resend base_url: {e}")))?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            endpoint,
            api_key,
            from: from.to_string(),
        })
    }

    /// `cause` becomes Resend's `Idempotency-Key` (kept 24 h there): a re-send of the same job
    /// is answered with the first send's id instead of a second email.
    async fn post(
        &self,
        body: Vec<u8>,
        cause: Option<&str>,
    ) -> Result<(StatusCode, Value), MailError> {
        let mut request = Request::post(self.endpoint.clone())
            .header(AUTHORIZATION, format!("Bearer {}", self.api_key.expose()))
            .header(CONTENT_TYPE, "application/json");
        if let Some(cause) = cause {
            request = request.header("idempotency-key", cause);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| MailError::Permanent("resend: cannot build the request".into()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| MailError::Transient(format!("resend: {e}")))?;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), MAX_REPLY_BYTES)
            .collect()
            .await
            .map_err(|e| MailError::Transient(format!("resend: reading the reply: {e}")))?
            .to_bytes();
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }
}

/// rustls with the ring provider and Mozilla's roots.
fn tls_config() -> Result<rustls::ClientConfig, MailError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| MailError::Permanent(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Mailer for ResendMailer {
    fn send<'a>(&'a self, msg: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let body = json!({
                "from": self.from,
                "to": [msg.to().0.to_string()],
                "subject": msg.subject(),
                "html": msg.html(),
                "text": msg.text(),
            });
            let body = serde_json::to_vec(&body)
                .map_err(|e| MailError::Permanent(format!("resend: {e}")))?;
            let (status, reply) = tokio::time::timeout(TIMEOUT, self.post(body, msg.cause()))
                .await
                .map_err(|_| MailError::Transient("resend: timed out".into()))??;
            if status.is_success() {
                let id = reply["id"].as_str().map(str::to_string);
                tracing::info!(id = id.as_deref().unwrap_or(""), "mail sent via resend");
                return Ok(Delivery::Resend { id });
            }
            let detail = reply["message"].as_str().unwrap_or("no message");
            let text = format!("resend answered {status}: {}", super::header_text(detail));
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                Err(MailError::Transient(text))
            } else {
                Err(MailError::Permanent(text))
            }
        })
    }
}
