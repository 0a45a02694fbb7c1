//! Outgoing email: one [`Mailer`] interface, three backends chosen by `KANRI_MAIL_URL`.
//!
//! - `file://DIR` (the default, `<data_dir>/mail`) writes one `.eml` per message;
//! - `smtp://user:pass@host:port?tls=starttls|tls|none` sends through an SMTP relay (lettre);
//! - `resend://API_KEY` posts to Resend's HTTP API.
//!
//! Build the configured backend with [`from_config`]. A [`Message`] always carries an HTML and
//! a plain-text part; [`templates`] builds the ones the application sends, escaping user text.
//! A failure is a [`MailError`] that says whether a retry can help, so a job retries only
//! transient ones. Nothing here logs a recipient, a credential or an API key.

mod file;
mod resend;
mod smtp;
pub mod templates;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use lettre::message::{Mailbox, MultiPart};

use crate::config::MailConfig;

pub use crate::config::{MailUrl, SmtpTls, redact_mail_url};

/// Where a message went: the file written, or the service that accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    File(PathBuf),
    Smtp { host: String },
    Resend { id: Option<String> },
}

impl fmt::Display for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "written to {}", path.display()),
            Self::Smtp { host } => write!(f, "sent via smtp {host}"),
            Self::Resend { id: Some(id) } => write!(f, "sent via resend (id {id})"),
            Self::Resend { id: None } => f.write_str("sent via resend"),
        }
    }
}

/// Why a message was not sent. Retrying a `Transient` failure may succeed (connection lost,
/// server busy, 4xx SMTP reply, HTTP 5xx or 429); retrying a `Permanent` one cannot (bad
/// address, rejected credentials, 5xx SMTP reply, HTTP 4xx, bad configuration).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("mail failed permanently: {0}")]
    Permanent(String),
    #[error("mail failed, may succeed later: {0}")]
    Transient(String),
}

impl MailError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// What [`Mailer::send`] returns: a boxed future, so `dyn Mailer` works without `async_trait`.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Delivery, MailError>> + Send + 'a>>;

/// A way to deliver a [`Message`]. Implementations are cheap to share (`Arc<dyn Mailer>`) and
/// safe to call from many tasks at once.
pub trait Mailer: Send + Sync {
    fn send<'a>(&'a self, msg: &'a Message) -> SendFuture<'a>;
}

/// Builds the mailer `config.url()` names, sending as `config.from`.
pub fn from_config(config: &MailConfig) -> Result<Arc<dyn Mailer>, MailError> {
    let from: Mailbox = config
        .from
        .parse()
        .map_err(|e| MailError::Permanent(format!("KANRI_MAIL_FROM: {e}")))?;
    Ok(match config.url().clone() {
        MailUrl::File { dir } => Arc::new(file::FileMailer::new(dir, from)),
        MailUrl::Smtp {
            host,
            port,
            tls,
            credentials,
        } => Arc::new(smtp::SmtpMailer::new(host, port, tls, credentials, from)?),
        MailUrl::Resend { api_key, base_url } => {
            Arc::new(resend::ResendMailer::new(api_key, base_url, from)?)
        }
    })
}

/// One recipient: a checked address and an optional display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient(Mailbox);

impl Recipient {
    /// Fails (permanently) when the address is not a valid mailbox address.
    pub fn new(address: &str, name: Option<&str>) -> Result<Self, MailError> {
        let address = address
            .trim()
            .parse()
            .map_err(|_| MailError::Permanent("invalid recipient address".into()))?;
        let name = name.map(header_text).filter(|n| !n.is_empty());
        Ok(Self(Mailbox::new(name, address)))
    }

    pub fn address(&self) -> &str {
        self.0.email.as_ref()
    }

    pub fn name(&self) -> Option<&str> {
        self.0.name.as_deref()
    }
}

/// A message with both an HTML and a plain-text part. The subject is kept to one line, so no
/// header can be injected through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    to: Recipient,
    subject: String,
    html: String,
    text: String,
    /// The stable local part of its `Message-ID`, when the message has one cause (a job): a
    /// re-send after a crash then carries the same id, so a receiver can drop the repeat.
    cause: Option<String>,
}

impl Message {
    pub fn new(to: Recipient, subject: &str, html: String, text: String) -> Self {
        Self {
            to,
            subject: header_text(subject),
            html,
            text,
            cause: None,
        }
    }

    /// Gives the message a stable `Message-ID`, `<{cause}@{sender's domain}>`. `cause` must be
    /// unique per message meant (a job id), and kept to letters, digits, `-` and `.`.
    pub fn caused_by(mut self, cause: &str) -> Self {
        let clean: String = cause
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
            .collect();
        self.cause = (!clean.is_empty()).then_some(clean);
        self
    }

    /// The stable cause, if any (see [`Self::caused_by`]).
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    pub fn to(&self) -> &Recipient {
        &self.to
    }

    pub fn subject(&self) -> &str {
        &self.subject
    }

    pub fn html(&self) -> &str {
        &self.html
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The RFC 5322 form: `multipart/alternative` with the text part first, then the HTML.
    fn to_lettre(&self, from: &Mailbox) -> Result<lettre::Message, MailError> {
        let local = self.cause.clone().unwrap_or_else(crate::ids::new_id);
        let message_id = format!("<{local}@{}>", from.email.domain());
        lettre::Message::builder()
            .from(from.clone())
            .to(self.to.0.clone())
            .subject(self.subject.clone())
            .message_id(Some(message_id))
            .multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                self.html.clone(),
            ))
            .map_err(|e| MailError::Permanent(format!("cannot build the message: {e}")))
    }
}

/// Makes text safe for a header: control characters (CR, LF, tab, …) become spaces, runs of
/// whitespace collapse to one, and the result is trimmed and capped at 200 characters.
pub fn header_text(input: &str) -> String {
    const MAX_CHARS: usize = 200;
    let mut out = String::with_capacity(input.len().min(MAX_CHARS * 4));
    let mut count = 0;
    for word in input
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if count > 0 {
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count == MAX_CHARS {
                out.push('…');
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn header_text_removes_line_breaks_and_caps_length() {
        assert_eq!(
            header_text("Hi\r\nBcc: evil@example.com\n\tthere  "),
            "Hi Bcc: evil@example.com there"
        );
        assert_eq!(header_text("a\u{0}b"), "a b");
        let long = "x".repeat(500);
        let capped = header_text(&long);
        assert_eq!(capped.chars().count(), 201);
        assert!(capped.ends_with('…'));
    }

    #[test]
    fn message_subject_cannot_carry_a_header() {
        let to = Recipient::new("a@example.com", Some("Ann\r\nBcc: x@y.z")).unwrap();
        let msg = Message::new(to, "Hello\r\nBcc: x@y.z", "<p>h</p>".into(), "h".into());
        assert_eq!(msg.subject(), "Hello Bcc: x@y.z");
        assert_eq!(msg.to().name(), Some("Ann Bcc: x@y.z"));
        let from: Mailbox = "Kanri <kanri@localhost>".parse().unwrap();
        let raw = String::from_utf8(msg.to_lettre(&from).unwrap().formatted()).unwrap();
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
    }

    #[test]
    fn a_caused_message_keeps_its_message_id() {
        let from: Mailbox = "Kanri <kanri@kanri.test>".parse().unwrap();
        let to = Recipient::new("a@example.com", None).unwrap();
        let msg = Message::new(to, "Hi", "<p>h</p>".into(), "h".into());
        let id = |m: &Message| {
            let raw = String::from_utf8(m.to_lettre(&from).unwrap().formatted()).unwrap();
            let line = raw.lines().find(|l| l.starts_with("Message-ID:")).unwrap();
            line.to_string()
        };
        assert_ne!(
            id(&msg),
            id(&msg),
            "without a cause every send is a new message"
        );
        let caused = msg.caused_by("job-01J\r\n<x>");
        assert_eq!(id(&caused), "Message-ID: <job-01Jx@kanri.test>");
        assert_eq!(id(&caused), id(&caused));
    }

    #[test]
    fn every_backend_builds_from_config() {
        for url in [
            "file:///tmp/kanri-mail",
            "smtp://u%40x.com:p@smtp.example.com?tls=starttls",
            "smtp://smtp.example.com?tls=tls",
            "smtp://localhost:1025?tls=none",
            "resend://re_123",
        ] {
            let mut config = Config::for_data_dir("/tmp/kanri", None);
            config.mail.set_url(url).unwrap();
            assert!(from_config(&config.mail).is_ok(), "{url}");
        }
        let mut config = Config::for_data_dir("/tmp/kanri", None);
        config.mail.from = "nobody".into();
        assert!(from_config(&config.mail).is_err());
    }

    #[test]
    fn recipient_rejects_bad_addresses_permanently() {
        let err = Recipient::new("not an address", None).unwrap_err();
        assert!(!err.is_transient());
        assert_eq!(
            Recipient::new(" a@example.com ", Some("  "))
                .unwrap()
                .name(),
            None
        );
    }
}
