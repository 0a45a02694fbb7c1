use email_address::{EmailAddress, Options};

use super::FieldError;

const MAX_LEN: usize = 254;

/// A syntactically valid address (RFC 5322, internationalised addresses allowed), with a
/// normalised form used for case-insensitive uniqueness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    address: String,
    normalized: String,
}

impl Email {
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if trimmed.len() > MAX_LEN {
            return Err(FieldError::new(field, "is too long"));
        }
        let options = Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
        };
        EmailAddress::parse_with_options(trimmed, options)
            .map_err(|_| FieldError::new(field, "is not a valid email address"))?;
        Ok(Self {
            address: trimmed.to_string(),
            normalized: trimmed.to_lowercase(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// Lower-cased form; two addresses that differ only in case are the same account.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_and_unicode_addresses() {
        for ok in [
            "a@example.com",
            "Émile.Zola@exemple.fr",
            "用户@例子.广告",
            " x@y.io ",
        ] {
            assert!(Email::parse("email", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a b@example.com",
            "Name <a@example.com>",
            "a@[127.0.0.1]",
            "a@example.com'; DROP TABLE users;--",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse("email", &long).is_err());
    }

    #[test]
    fn normalises_case_only() {
        let e = Email::parse("email", "Ada.Lovelace@Example.COM").unwrap();
        assert_eq!(e.as_str(), "Ada.Lovelace@Example.COM");
        assert_eq!(e.normalized(), "ada.lovelace@example.com");
    }

    proptest! {
        #[test]
        fn generated_addresses_parse_and_normalise_case_insensitively(
            local in "[A-Za-z0-9]{1,8}([._+-][A-Za-z0-9]{1,8}){0,2}",
            domain in "[a-z]{1,10}\\.(com|org|io)",
        ) {
            let raw = format!("{local}@{domain}");
            let a = Email::parse("email", &raw).unwrap();
            let b = Email::parse("email", &raw.to_uppercase()).unwrap();
            prop_assert_eq!(a.normalized(), b.normalized());
        }
    }
}
