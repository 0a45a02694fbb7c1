//! `smtp://…`: any SMTP relay (Brevo, Postmark, a local Postfix…) through lettre. TLS is
//! rustls with the ring provider and Mozilla's roots (`webpki-roots`), as for the database.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{Delivery, MailError, Mailer, Message, SendFuture, SmtpTls};
use crate::config::Secret;

/// Per-command network timeout; lettre's default is a minute.
const TIMEOUT: Duration = Duration::from_secs(30);

pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    host: String,
    from: Mailbox,
}

impl SmtpMailer {
    pub fn new(
        host: String,
        port: u16,
        tls: SmtpTls,
        credentials: Option<(String, Secret<String>)>,
        from: Mailbox,
    ) -> Result<Self, MailError> {
        let tls = match tls {
            SmtpTls::None => Tls::None,
            SmtpTls::StartTls => Tls::Required(tls_parameters(&host)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(&host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
            .port(port)
            .tls(tls)
            .timeout(Some(TIMEOUT));
        if let Some((user, pass)) = credentials {
            builder = builder.credentials(Credentials::new(user, pass.expose().clone()));
        }
        Ok(Self {
            transport: builder.build(),
            host,
            from,
        })
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, MailError> {
    TlsParameters::new(host.to_string())
        .map_err(|e| MailError::Permanent(format!("cannot set up TLS for smtp: {e}")))
}

impl Mailer for SmtpMailer {
    fn send<'a>(&'a self, msg: &'a Message) -> SendFuture<'a> {
        Box::pin(async move {
            let message = msg.to_lettre(&self.from)?;
            self.transport.send(message).await.map_err(classify)?;
            tracing::info!(host = %self.host, "mail sent via smtp");
            Ok(Delivery::Smtp {
                host: self.host.clone(),
            })
        })
    }
}

/// A 5xx reply (rejected recipient or credentials) or a client-side error cannot be fixed by
/// retrying; a 4xx reply, a network, TLS or timeout failure might be.
fn classify(err: lettre::transport::smtp::Error) -> MailError {
    let text = format!("smtp: {err}");
    if err.is_permanent() || err.is_client() {
        MailError::Permanent(text)
    } else {
        MailError::Transient(text)
    }
}
