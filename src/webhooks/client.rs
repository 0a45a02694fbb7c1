//! The delivery client: hyper over hyper-rustls (ring, Mozilla roots), as the Resend mailer
//! uses, with the SSRF guard in its resolver. Every address a name resolves to is checked and
//! only the allowed ones are handed to the connector, so the check covers exactly what is
//! connected to (a name re-pointed at 10.0.0.1 after create-time checks is still refused). An
//! IP-literal host never reaches a resolver, so `send` checks it itself. Redirects are not
//! followed (hyper's client never does): a 3xx is a failed attempt. Timeouts: 5 s to connect,
//! 15 s for the whole exchange; the response body is read up to 64 KiB, of which 1 KiB is kept.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, USER_AGENT};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;

use super::guard::AddressGuard;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const TOTAL_TIMEOUT: Duration = Duration::from_secs(15);
/// Response bytes kept for the delivery log.
pub const KEPT_BODY_BYTES: usize = 1024;
/// Response bytes read at most; the rest is not waited for.
pub const MAX_READ_BYTES: usize = 64 * 1024;

/// What one attempt produced.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub status: Option<u16>,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// The first 1 KiB of the response body.
    pub body: Option<String>,
}

impl AttemptResult {
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Resolves with the system resolver, then drops every address the guard refuses; if none is
/// left the lookup fails with the guard's reason.
#[derive(Clone)]
struct GuardedResolver {
    guard: Arc<AddressGuard>,
}

type Resolving =
    Pin<Box<dyn Future<Output = std::io::Result<std::vec::IntoIter<SocketAddr>>> + Send>>;

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Resolving;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let guard = self.guard.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let mut refused = None;
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| match guard.check(a.ip()) {
                    Ok(()) => true,
                    Err(blocked) => {
                        refused.get_or_insert(blocked);
                        false
                    }
                })
                .collect();
            match (allowed.is_empty(), refused) {
                (true, Some(blocked)) => Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    blocked,
                )),
                _ => Ok(allowed.into_iter()),
            }
        })
    }
}

#[derive(Clone)]
pub struct DeliveryClient {
    client: Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>,
    guard: Arc<AddressGuard>,
}

impl DeliveryClient {
    pub fn new(guard: AddressGuard) -> anyhow::Result<Self> {
        let guard = Arc::new(guard);
        let mut http = HttpConnector::new_with_resolver(GuardedResolver {
            guard: guard.clone(),
        });
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls_config()?)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        Ok(Self { client, guard })
    }

    pub fn guard(&self) -> &AddressGuard {
        &self.guard
    }

    /// POSTs `body` to `url` with `headers`; never fails, the outcome is in the result.
    pub async fn send(
        &self,
        url: &url::Url,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> AttemptResult {
        let started = Instant::now();
        let outcome = tokio::time::timeout(TOTAL_TIMEOUT, self.exchange(url, headers, body)).await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match outcome {
            Ok(Ok((status, body))) => AttemptResult {
                status: Some(status),
                duration_ms,
                error: (!(200..300).contains(&status))
                    .then(|| format!("the endpoint answered {status}")),
                body: Some(body),
            },
            Ok(Err(error)) => AttemptResult {
                status: None,
                duration_ms,
                error: Some(error),
                body: None,
            },
            Err(_) => AttemptResult {
                status: None,
                duration_ms,
                error: Some(format!("timed out after {} s", TOTAL_TIMEOUT.as_secs())),
                body: None,
            },
        }
    }

    async fn exchange(
        &self,
        url: &url::Url,
        headers: &[(&str, String)],
        body: Bytes,
    ) -> Result<(u16, String), String> {
        // A literal address is connected to as written, without a lookup: check it here.
        if let Some(ip) = literal_ip(url) {
            self.guard.check(ip).map_err(|b| b.to_string())?;
        }
        let mut request = Request::post(url.as_str())
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("kanri-webhooks/", env!("CARGO_PKG_VERSION")),
            );
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| format!("cannot build the request: {e}"))?;
        let response = self.client.request(request).await.map_err(|e| chain(&e))?;
        let status = response.status().as_u16();
        let mut body = response.into_body();
        let (mut kept, mut read) = (Vec::new(), 0usize);
        while read < MAX_READ_BYTES {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        read += data.len();
                        let room = KEPT_BODY_BYTES.saturating_sub(kept.len());
                        kept.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                // The status is the answer; a body cut short does not change it.
                Some(Err(_)) | None => break,
            }
        }
        Ok((status, storable(&String::from_utf8_lossy(&kept))))
    }
}

/// Text a receiver controls, made fit for a TEXT column: Postgres rejects the NUL byte, and an
/// attempt that cannot be recorded would be sent again. NUL becomes U+FFFD, as invalid UTF-8
/// already does.
pub fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

/// The host of `url` when it is an IP address.
pub fn literal_ip(url: &url::Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// An error with its causes, for the delivery log (hyper's own text is only "client error").
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn tls_config() -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
