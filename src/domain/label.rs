//! A workspace label: its name and colour.

use super::FieldError;

const MAX_NAME_CHARS: usize = 50;
/// The colour of a label created without one (a neutral grey).
pub const DEFAULT_COLOR: &str = "#6b7280";

/// 1–50 characters after trimming, no control characters; unique per workspace ignoring case.
pub fn parse_name(field: &str, input: &str) -> Result<String, FieldError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(field, "must be at most 50 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

/// `#rrggbb`, stored lower-case.
pub fn parse_color(field: &str, input: &str) -> Result<String, FieldError> {
    let hex = input.trim().strip_prefix('#').unwrap_or("");
    if hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(format!("#{}", hex.to_ascii_lowercase()))
    } else {
        Err(FieldError::new(field, "must be a colour like #1f883d"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_colours() {
        assert_eq!(parse_name("name", "  bug ").unwrap(), "bug");
        assert!(parse_name("name", " ").is_err());
        assert!(parse_name("name", &"x".repeat(51)).is_err());
        assert!(parse_name("name", "a\u{0}b").is_err());
        assert_eq!(parse_color("color", "#1F883D").unwrap(), "#1f883d");
        for bad in ["1f883d", "#1f883", "#1f883dd", "#gggggg", "red", ""] {
            assert!(parse_color("color", bad).is_err(), "{bad}");
        }
    }
}
