//! `KANRI_MAIL_URL`: which backend, where, and with which credentials.
//!
//! - `file://DIR`: DIR is taken as written (relative paths are relative to the working
//!   directory); no percent-decoding.
//! - `smtp://[user[:pass]@]host[:port][?tls=starttls|tls|none]`: user and password are
//!   percent-decoded. `tls` defaults to `starttls`; the port defaults to 587 for `starttls`,
//!   465 for `tls` (implicit TLS) and 25 for `none`.
//! - `resend://API_KEY[?base_url=URL]`: `base_url` (http or https, default
//!   `https://api.resend.com`) points the client at another server, such as a test's.
//!
//! Error messages never repeat the URL, which may hold a password or a key.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use super::Secret;

pub const RESEND_API: &str = "https://api.resend.com";

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which the server must offer.
    StartTls,
    /// TLS from the first byte ("SMTPS").
    Tls,
    /// No encryption: for a relay on the same host or a test server.
    None,
}

#[derive(Clone, PartialEq, Eq)]
pub enum MailUrl {
    File {
        dir: PathBuf,
    },
    Smtp {
        host: String,
        port: u16,
        tls: SmtpTls,
        /// User and password, percent-decoded.
        credentials: Option<(String, Secret<String>)>,
    },
    Resend {
        api_key: Secret<String>,
        base_url: String,
    },
}

impl fmt::Debug for MailUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { dir } => f.debug_struct("File").field("dir", dir).finish(),
            Self::Smtp {
                host, port, tls, ..
            } => f
                .debug_struct("Smtp")
                .field("host", host)
                .field("port", port)
                .field("tls", tls)
                .finish_non_exhaustive(),
            Self::Resend { base_url, .. } => f
                .debug_struct("Resend")
                .field("base_url", base_url)
                .finish_non_exhaustive(),
        }
    }
}

impl MailUrl {
    /// The transport's name, as the admin's health page shows it (no address or secret).
    pub fn transport(&self) -> &'static str {
        match self {
            Self::File { .. } => "file",
            Self::Smtp { .. } => "smtp",
            Self::Resend { .. } => "resend",
        }
    }

    pub fn parse(value: &str) -> Result<Self, String> {
        if let Some(dir) = value.strip_prefix("file://") {
            if dir.is_empty() {
                return Err("file:// needs a directory".into());
            }
            Ok(Self::File {
                dir: PathBuf::from(dir),
            })
        } else if value.starts_with("smtp://") {
            parse_smtp(value)
        } else if let Some(rest) = value.strip_prefix("resend://") {
            parse_resend(rest)
        } else {
            Err("must start with file://, smtp:// or resend://".into())
        }
    }
}

fn parse_smtp(value: &str) -> Result<MailUrl, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a valid smtp URL: {e}"))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("smtp:// needs a host")?;
    // The url crate keeps IPv6 brackets in `host_str`; a socket address wants them off.
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let mut tls = SmtpTls::StartTls;
    for (key, val) in url.query_pairs() {
        match key.as_ref() {
            "tls" => {
                tls = match val.as_ref() {
                    "starttls" => SmtpTls::StartTls,
                    "tls" => SmtpTls::Tls,
                    "none" => SmtpTls::None,
                    _ => return Err("tls must be starttls, tls or none".into()),
                }
            }
            other => return Err(format!("unknown parameter {other:?} (only tls is known)")),
        }
    }
    let port = url.port().unwrap_or(match tls {
        SmtpTls::StartTls => 587,
        SmtpTls::Tls => 465,
        SmtpTls::None => 25,
    });
    let credentials = if url.username().is_empty() {
        None
    } else {
        let decode = |s: &str, what: &str| {
            percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| format!("the smtp {what} is not valid UTF-8 once decoded"))
        };
        let user = decode(url.username(), "user")?;
        let pass = decode(url.password().unwrap_or(""), "password")?;
        Some((user, Secret::new(pass)))
    };
    Ok(MailUrl::Smtp {
        host,
        port,
        tls,
        credentials,
    })
}

fn parse_resend(rest: &str) -> Result<MailUrl, String> {
    let (key, query) = rest.split_once('?').unwrap_or((rest, ""));
    if key.is_empty() {
        return Err("resend:// needs an API key".into());
    }
    if key
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || "_-.".contains(c)))
    {
        return Err("the resend API key may hold only letters, digits, _, - and .".into());
    }
    let mut base_url = RESEND_API.to_string();
    for (name, val) in url::form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "base_url" => {
                let parsed = url::Url::parse(&val).map_err(|e| format!("base_url: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err("base_url must be an http or https URL".into());
                }
                base_url = val.trim_end_matches('/').to_string();
            }
            other => {
                return Err(format!(
                    "unknown parameter {other:?} (only base_url is known)"
                ));
            }
        }
    }
    Ok(MailUrl::Resend {
        api_key: Secret::new(key.to_string()),
        base_url,
    })
}

/// The URL with its SMTP user and password, or its Resend key, replaced by `***`.
pub fn redact_mail_url(value: &str) -> String {
    if value.starts_with("file://") {
        return value.to_string();
    }
    if let Some(rest) = value.strip_prefix("resend://") {
        return match rest.split_once('?') {
            Some((_, query)) => format!("resend://***?{query}"),
            None => "resend://***".into(),
        };
    }
    if value.starts_with("smtp://")
        && let Ok(mut url) = url::Url::parse(value)
    {
        if !url.username().is_empty() {
            let _ = url.set_username("***");
        }
        if url.password().is_some() {
            let _ = url.set_password(Some("***"));
        }
        return url.to_string();
    }
    "***".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(value: &str) -> (String, u16, SmtpTls, Option<(String, String)>) {
        match MailUrl::parse(value).unwrap() {
            MailUrl::Smtp {
                host,
                port,
                tls,
                credentials,
            } => (
                host,
                port,
                tls,
                credentials.map(|(u, p)| (u, p.expose().clone())),
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn file_urls_keep_the_directory_as_written() {
        assert_eq!(
            MailUrl::parse("file://./data/mail").unwrap(),
            MailUrl::File {
                dir: "./data/mail".into()
            }
        );
        assert_eq!(
            MailUrl::parse("file:///var/spool/kanri").unwrap(),
            MailUrl::File {
                dir: "/var/spool/kanri".into()
            }
        );
        assert!(MailUrl::parse("file://").is_err());
    }

    #[test]
    fn smtp_defaults_and_decoding() {
        assert_eq!(
            smtp("smtp://smtp.example.com"),
            ("smtp.example.com".into(), 587, SmtpTls::StartTls, None)
        );
        assert_eq!(smtp("smtp://h?tls=tls").1, 465);
        assert_eq!(smtp("smtp://h?tls=none").1, 25);
        assert_eq!(smtp("smtp://[::1]:2525?tls=none").0, "::1");
        let (_, port, tls, creds) = smtp("smtp://me%40example.com:p%40ss%3Aw0rd@h:2525?tls=none");
        assert_eq!((port, tls), (2525, SmtpTls::None));
        assert_eq!(creds, Some(("me@example.com".into(), "p@ss:w0rd".into())));
    }

    #[test]
    fn bad_urls_are_rejected_without_echoing_secrets() {
        for bad in [
            "smtp://",
            "smtp://u:hunter2@h?tls=maybe",
            "smtp://u:hunter2@h?tsl=none",
            "resend://",
            "resend://re_hunter2?base_url=ftp://x",
            "resend://re_hunter2?other=1",
            "resend://re hunter2",
            "mailto:someone",
            "https://api.resend.com",
        ] {
            let err = MailUrl::parse(bad).unwrap_err();
            assert!(!err.contains("hunter2"), "{bad}: {err}");
        }
    }

    #[test]
    fn resend_key_and_base_url() {
        let MailUrl::Resend { api_key, base_url } =
            MailUrl::parse("resend://re_123_abc?base_url=http://127.0.0.1:9000/").unwrap()
        else {
            panic!()
        };
        assert_eq!(api_key.expose(), "re_123_abc");
        assert_eq!(base_url, "http://127.0.0.1:9000");
        let parsed = MailUrl::parse("resend://re_1").unwrap();
        assert!(matches!(parsed, MailUrl::Resend { base_url, .. } if base_url == RESEND_API));
        assert!(!format!("{:?}", MailUrl::parse("resend://re_secret").unwrap()).contains("secret"));
    }

    #[test]
    fn redaction_hides_credentials_and_keys() {
        assert_eq!(
            redact_mail_url("smtp://me%40x.com:hunter2@smtp.example.com:587?tls=starttls"),
            "smtp://***:***@smtp.example.com:587?tls=starttls"
        );
        assert_eq!(redact_mail_url("smtp://h:25"), "smtp://h:25");
        assert_eq!(redact_mail_url("resend://re_hunter2"), "resend://***");
        assert_eq!(
            redact_mail_url("resend://re_hunter2?base_url=http://x"),
            "resend://***?base_url=http://x"
        );
        assert_eq!(redact_mail_url("file://./data/mail"), "file://./data/mail");
    }
}
