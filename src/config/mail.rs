//! The mail section: where mail goes (parsed once, see `mail_url.rs`) and the sender.

use super::load::RawConfig;
use super::{ConfigError, MailUrl, Secret, invalid};

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `KANRI_MAIL_URL` parsed; default `file://<data_dir>/mail`.
    url: MailUrl,
    /// The text `url` was parsed from, kept for `kanri config` (which redacts it).
    url_text: Secret<String>,
    /// The sender mailbox, e.g. `Kanri <kanri@example.com>`; checked at load.
    pub from: String,
}

impl MailConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        let text = match &raw.mail_url {
            Some(url) => url.expose().clone(),
            None => format!("file://{}", raw.data_dir.join("mail").display()),
        };
        let url = MailUrl::parse(&text).map_err(|e| invalid("KANRI_MAIL_URL", e))?;
        let from = raw.mail_from.trim().to_string();
        from.parse::<lettre::message::Mailbox>().map_err(|e| {
            invalid(
                "KANRI_MAIL_FROM",
                format!("{from:?} is not a mailbox like \"Kanri <kanri@example.com>\": {e}"),
            )
        })?;
        Ok(Self {
            url,
            url_text: Secret::new(text),
            from,
        })
    }

    /// Where mail goes.
    pub fn url(&self) -> &MailUrl {
        &self.url
    }

    /// The mail URL as written.
    pub fn url_text(&self) -> &Secret<String> {
        &self.url_text
    }

    /// Sends mail where `value` says (as `KANRI_MAIL_URL` would), if it parses.
    pub fn set_url(&mut self, value: impl Into<String>) -> Result<(), String> {
        let text = value.into();
        self.url = MailUrl::parse(&text)?;
        self.url_text = Secret::new(text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn raw() -> RawConfig {
        RawConfig::default()
    }

    #[test]
    fn mail_settings_default_validate_and_redact() {
        let c = Config::from_raw(raw()).unwrap();
        assert_eq!(c.mail.url_text().expose(), "file://./data/mail");
        assert_eq!(c.mail.from, "Kanri <kanri@localhost>");

        let mut r = raw();
        r.mail_url = Some(Secret::new(
            "smtp://me%40example.com:hunter2@smtp.example.com:587?tls=starttls".into(),
        ));
        let c = Config::from_raw(r).unwrap();
        let shown = c.redacted().to_string();
        assert!(
            !shown.contains("hunter2") && !shown.contains("me%40example.com"),
            "{shown}"
        );
        assert!(
            shown.contains("smtp://***:***@smtp.example.com:587"),
            "{shown}"
        );

        let mut r = raw();
        r.mail_url = Some(Secret::new("resend://re_hunter2".into()));
        let shown = Config::from_raw(r).unwrap().redacted().to_string();
        assert!(
            shown.contains("resend://***") && !shown.contains("hunter2"),
            "{shown}"
        );

        for bad in ["mailto:x", "smtp://", "smtp://h?tls=sometimes", "resend://"] {
            let mut r = raw();
            r.mail_url = Some(Secret::new(bad.into()));
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(err.contains("KANRI_MAIL_URL"), "{bad}: {err}");
        }
        let mut r = raw();
        r.mail_from = " kanri@example.com ".into();
        assert_eq!(Config::from_raw(r).unwrap().mail.from, "kanri@example.com");
        for bad in ["", "kanri", "Kanri <nobody>", "a@b\r\nBcc: c@d.e"] {
            let mut r = raw();
            r.mail_from = bad.into();
            let err = Config::from_raw(r).unwrap_err().to_string();
            assert!(err.contains("KANRI_MAIL_FROM"), "{bad:?}: {err}");
        }
    }
}
