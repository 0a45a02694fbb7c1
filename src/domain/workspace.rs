//! Workspace names and slugs.

use super::FieldError;

const MAX_NAME_CHARS: usize = 100;
const MAX_SLUG_LEN: usize = 64;

/// A workspace or project name: 1–100 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        Self::parse_bounded(field, input, 1)
    }

    /// Like `parse`, with a larger minimum length (the seed's projects need three characters).
    pub fn parse_bounded(field: &str, input: &str, min_chars: usize) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        let chars = trimmed.chars().count();
        if chars < min_chars.max(1) {
            return Err(if chars == 0 {
                FieldError::new(field, "is required")
            } else {
                FieldError::new(field, format!("must be at least {min_chars} characters"))
            });
        }
        if chars > MAX_NAME_CHARS {
            return Err(FieldError::new(field, "must be at most 100 characters"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Self(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A URL-safe workspace handle: `a-z`, `0-9` and single inner hyphens, 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        let valid = !s.is_empty()
            && s.len() <= MAX_SLUG_LEN
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if valid {
            Ok(Self(s.to_string()))
        } else {
            Err(FieldError::new(
                field,
                "must be 1–64 characters of a-z, 0-9 and single inner hyphens",
            ))
        }
    }

    /// Derives a slug from a name; names with no ASCII letters or digits become `workspace`.
    pub fn from_name(name: &str) -> Self {
        let mut out = String::new();
        for c in name.chars().flat_map(char::to_lowercase) {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
            if out.len() >= MAX_SLUG_LEN - 6 {
                break;
            }
        }
        let trimmed = out.trim_end_matches('-');
        Self(if trimmed.is_empty() {
            "workspace".into()
        } else {
            trimmed.to_string()
        })
    }

    /// The same slug with a suffix, for when the plain one is taken.
    pub fn with_suffix(&self, suffix: &str) -> Self {
        Self(format!("{}-{suffix}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn slugs_from_names() {
        assert_eq!(Slug::from_name("Acme Inc.").as_str(), "acme-inc");
        assert_eq!(
            Slug::from_name("  --Hello,  World!! ").as_str(),
            "hello-world"
        );
        assert_eq!(Slug::from_name("山田").as_str(), "workspace");
        assert!(Slug::parse("slug", "ok-slug-1").is_ok());
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "Upper",
            "with space",
            &"a".repeat(65),
        ] {
            assert!(Slug::parse("slug", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(Name::parse("name", " x ").is_ok());
        assert!(Name::parse("name", "").is_err());
        assert!(Name::parse_bounded("name", "ab", 3).is_err());
        assert!(Name::parse_bounded("name", "abc", 3).is_ok());
    }

    proptest! {
        #[test]
        fn derived_slugs_are_always_valid(name in "\\PC{0,120}") {
            let slug = Slug::from_name(&name);
            prop_assert!(Slug::parse("slug", slug.as_str()).is_ok(), "{:?}", slug);
            prop_assert!(Slug::parse("slug", slug.with_suffix("x7k2").as_str()).is_ok());
        }
    }
}
