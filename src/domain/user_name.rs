use super::FieldError;

const MAX_CHARS: usize = 200;

/// A display name: 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if trimmed.chars().count() > MAX_CHARS {
            return Err(FieldError::new(field, "must be at most 200 characters"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_bounds() {
        assert_eq!(UserName::parse("name", "  Ada  ").unwrap().as_str(), "Ada");
        assert_eq!(
            UserName::parse("name", "山田 太郎").unwrap().as_str(),
            "山田 太郎"
        );
        assert!(UserName::parse("name", "   ").is_err());
        assert!(UserName::parse("name", "a\u{0}b").is_err());
        assert!(UserName::parse("name", &"é".repeat(200)).is_ok());
        assert!(UserName::parse("name", &"é".repeat(201)).is_err());
    }
}
