//! Task text fields and board positions.

use fractional_index::FractionalIndex;

use super::FieldError;

const MAX_TITLE_CHARS: usize = 500;
pub const MAX_TEXT_CHARS: usize = 10_000;

/// 1–500 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if trimmed.chars().count() > MAX_TITLE_CHARS {
            return Err(FieldError::new(field, "must be at most 500 characters"));
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

/// Free text (descriptions, comments): at most 10 000 characters; empty means none.
pub fn parse_text(field: &str, input: &str, required: bool) -> Result<Option<String>, FieldError> {
    let trimmed = input.trim();
    if trimmed.chars().count() > MAX_TEXT_CHARS {
        return Err(FieldError::new(field, "must be at most 10000 characters"));
    }
    super::text::check(field, trimmed)?;
    if trimmed.is_empty() {
        return if required {
            Err(FieldError::new(field, "is required"))
        } else {
            Ok(None)
        };
    }
    Ok(Some(trimmed.to_string()))
}

/// A key that sorts between its neighbours' keys (`None` = the list's start or end), so a
/// move writes one row. Keys are lower-case hex and compare byte-wise.
pub fn position_between(before: Option<&str>, after: Option<&str>) -> Option<String> {
    let parse = |s: Option<&str>| s.map(FractionalIndex::from_string).transpose().ok();
    let (lower, upper) = (parse(before)?, parse(after)?);
    FractionalIndex::new(lower.as_ref(), upper.as_ref()).map(|k| k.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn titles() {
        assert_eq!(
            Title::parse("title", "  Fix login  ").unwrap().as_str(),
            "Fix login"
        );
        assert!(Title::parse("title", "").is_err());
        assert!(Title::parse("title", &"x".repeat(501)).is_err());
        assert!(Title::parse("title", &"é".repeat(500)).is_ok());
        assert_eq!(parse_text("d", "  ", false).unwrap(), None);
        assert!(parse_text("content", " ", true).is_err());
        assert!(parse_text("content", "a\u{0}b", true).is_err());
        assert!(parse_text("content", "a\nb", true).is_ok());
    }

    #[test]
    fn positions_order_and_reject_bad_neighbours() {
        let first = position_between(None, None).unwrap();
        let second = position_between(Some(&first), None).unwrap();
        let middle = position_between(Some(&first), Some(&second)).unwrap();
        assert!(
            first < middle && middle < second,
            "{first} {middle} {second}"
        );
        assert!(position_between(Some(&second), Some(&first)).is_none());
        assert!(position_between(Some("zz"), None).is_none());
    }

    proptest! {
        #[test]
        fn repeated_inserts_between_keep_string_order(steps in proptest::collection::vec(any::<bool>(), 1..60)) {
            let mut low = position_between(None, None).unwrap();
            let mut high = position_between(Some(&low), None).unwrap();
            for go_low in steps {
                let mid = position_between(Some(&low), Some(&high)).unwrap();
                prop_assert!(low < mid && mid < high);
                if go_low { high = mid } else { low = mid }
            }
        }
    }
}
