//! An OpenAI-compatible embeddings endpoint (`POST {KANRI_EMBEDDINGS_URL}/embeddings` with
//! `{"model", "input": [..]}`), through hyper with an explicit ring rustls config, as
//! `mail::resend` does (reqwest is only a dev dependency here). The key travels only in the
//! `Authorization` header and is never logged.

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
use serde::Deserialize;
use serde_json::json;

use super::embedder::{EmbedError, EmbedFuture, Embedder, normalize};
use crate::config::Secret;

/// One request, from connecting to reading the reply.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A reply for 32 texts of 3,072 floats is about 2 MB of JSON.
const MAX_REPLY_BYTES: usize = 16 * 1024 * 1024;
/// More coordinates than any public model has; a longer vector is a broken reply.
const MAX_DIMS: usize = 8192;

pub struct HttpEmbedder {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    endpoint: Uri,
    model_name: String,
    model: String,
    key: Option<Secret<String>>,
}

#[derive(Deserialize)]
struct Reply {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
    index: Option<usize>,
}

impl HttpEmbedder {
    /// `base_url` is checked at configuration load (an http or https URL).
    pub fn new(
        base_url: &str,
        model_name: &str,
        key: Option<Secret<String>>,
    ) -> anyhow::Result<Self> {
        let base = base_url.trim_end_matches('/');
        let url = if base.ends_with("/embeddings") {
            base.to_string()
        } else {
            format!("{base}/embeddings")
        };
        let endpoint: Uri = url.parse()?;
        let host = endpoint.authority().map_or("", |a| a.host()).to_string();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            endpoint,
            model: format!("openai-compatible:{model_name}@{host}"),
            model_name: model_name.to_string(),
            key,
        })
    }

    async fn post(&self, body: Vec<u8>) -> Result<(StatusCode, Bytes), EmbedError> {
        let mut request =
            Request::post(self.endpoint.clone()).header(CONTENT_TYPE, "application/json");
        if let Some(key) = &self.key {
            request = request.header(AUTHORIZATION, format!("Bearer {}", key.expose()));
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|_| EmbedError::Failed("cannot build the request".into()))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| EmbedError::Unavailable(format!("embeddings endpoint: {e}")))?;
        let status = response.status();
        let body = http_body_util::Limited::new(response.into_body(), MAX_REPLY_BYTES)
            .collect()
            .await
            .map_err(|e| EmbedError::Unavailable(format!("reading the reply: {e}")))?
            .to_bytes();
        Ok((status, body))
    }
}

/// Checks a reply against the request: one finite, non-zero vector per text, all of one
/// length, returned in input order and scaled to unit length.
fn vectors(reply: &[u8], count: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
    let reply: Reply = serde_json::from_slice(reply)
        .map_err(|e| EmbedError::Failed(format!("unexpected reply: {e}")))?;
    if reply.data.len() != count {
        return Err(EmbedError::Failed(format!(
            "asked for {count} embeddings, got {}",
            reply.data.len()
        )));
    }
    let mut out: Vec<Option<Vec<f32>>> = vec![None; count];
    for (position, item) in reply.data.into_iter().enumerate() {
        let index = item.index.unwrap_or(position);
        let dims = item.embedding.len();
        if dims == 0 || dims > MAX_DIMS {
            return Err(EmbedError::Failed(format!(
                "a vector of {dims} coordinates"
            )));
        }
        let v = normalize(item.embedding)
            .ok_or_else(|| EmbedError::Failed("a zero or non-finite vector".into()))?;
        match out.get_mut(index) {
            Some(slot @ None) => *slot = Some(v),
            _ => return Err(EmbedError::Failed("bad or repeated index".into())),
        }
    }
    let out: Vec<Vec<f32>> = out.into_iter().flatten().collect();
    if out.len() != count || out.iter().any(|v| v.len() != out[0].len()) {
        return Err(EmbedError::Failed("vectors of different lengths".into()));
    }
    Ok(out)
}

impl Embedder for HttpEmbedder {
    fn model(&self) -> &str {
        &self.model
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            if texts.is_empty() {
                return Ok(Vec::new());
            }
            let body = serde_json::to_vec(&json!({"model": self.model_name, "input": texts}))
                .map_err(|e| EmbedError::Failed(e.to_string()))?;
            let (status, reply) = tokio::time::timeout(TIMEOUT, self.post(body))
                .await
                .map_err(|_| EmbedError::Unavailable("embeddings endpoint timed out".into()))??;
            if status.is_success() {
                return vectors(&reply, texts.len());
            }
            let text = format!("embeddings endpoint answered {status}");
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                Err(EmbedError::Unavailable(text))
            } else {
                Err(EmbedError::Failed(text))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_checked_and_reordered() {
        let ok = br#"{"data":[{"embedding":[0,2],"index":1},{"embedding":[3,4],"index":0}]}"#;
        let v = vectors(ok, 2).unwrap();
        assert_eq!(v[1], vec![0.0, 1.0]);
        assert!((v[0][0] - 0.6).abs() < 1e-6);
        for bad in [
            &br#"{"data":[{"embedding":[1,0]}]}"#[..],
            br#"{"data":[{"embedding":[1,0],"index":0},{"embedding":[1],"index":1}]}"#,
            br#"{"data":[{"embedding":[0,0]},{"embedding":[1,0]}]}"#,
            br#"{"data":[{"embedding":[1,0],"index":0},{"embedding":[1,0],"index":0}]}"#,
            br#"{"error":"x"}"#,
        ] {
            assert!(vectors(bad, 2).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
