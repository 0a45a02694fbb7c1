//! The one rule for control characters in client text. Postgres TEXT refuses NUL (a 500 if
//! it got that far) and SQLite would store it, so every text a client sends — body strings,
//! query and path parameters, form fields — is checked against this before it is used.

use super::FieldError;

/// The message a refused text gets.
pub const REFUSED: &str =
    "must not contain control characters other than tab, newline and carriage return";

/// Free text keeps tab, newline and carriage return; every other control character (C0, DEL,
/// C1) is refused.
pub fn is_refused(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The same rule as a JSON Schema (ECMA-262) `pattern`, for the OpenAPI document: a text with
/// no refused character.
pub const JSON_SCHEMA_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// The rule for text that must not be blank (names, titles), with the control-character rule:
/// some character that is neither whitespace nor refused. A request field says it with
/// `#[schema(pattern = r"\S")]`; the document states this pattern in its place
/// (`http::openapi_doc`).
pub const JSON_SCHEMA_NON_BLANK_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

/// True when `text` holds a refused character.
pub fn has_refused(text: &str) -> bool {
    text.chars().any(is_refused)
}

/// Checks `text` under the rule, naming `field` when it breaks it.
pub fn check(field: &str, text: &str) -> Result<(), FieldError> {
    if has_refused(text) {
        Err(FieldError::new(field, REFUSED))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_whitespace_refuses_other_controls() {
        assert!(check("d", "line one\n\tline two\r\n").is_ok());
        assert!(check("d", "山田 é 🙂").is_ok());
        for bad in [
            "a\u{0}b",
            "\u{1b}[31m",
            "x\u{7f}",
            "\u{85}",
            "\u{9f}",
            "\u{8}",
        ] {
            assert_eq!(check("d", bad).unwrap_err().field, "d", "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn refused_exactly_when_a_non_whitespace_control_is_present(s in "\\PC{0,20}", c in any::<char>(), at in 0usize..21) {
            let mut chars: Vec<char> = s.chars().collect();
            chars.insert(at.min(chars.len()), c);
            let text: String = chars.into_iter().collect();
            let expected = c.is_control() && !"\t\n\r".contains(c);
            prop_assert_eq!(check("f", &text).is_err(), expected);
        }

        /// The document's pattern says what `check` does, for any text.
        #[test]
        fn the_json_schema_pattern_is_the_rule(s in "\\PC{0,20}", c in any::<char>(), at in 0usize..21) {
            static PATTERN: std::sync::LazyLock<regex::Regex> =
                std::sync::LazyLock::new(|| regex::Regex::new(JSON_SCHEMA_PATTERN).unwrap());
            let mut chars: Vec<char> = s.chars().collect();
            chars.insert(at.min(chars.len()), c);
            let text: String = chars.into_iter().collect();
            prop_assert_eq!(PATTERN.is_match(&text), check("f", &text).is_ok(), "{:?}", text);
        }

        #[test]
        fn the_non_blank_pattern_is_the_rule(s in "[ \t\n\u{a0}\u{3000}a\u{1}\u{85}]{0,6}") {
            static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                regex::Regex::new(JSON_SCHEMA_NON_BLANK_PATTERN).unwrap()
            });
            let expected = check("f", &s).is_ok() && !s.trim().is_empty();
            prop_assert_eq!(PATTERN.is_match(&s), expected, "{:?}", s);
        }
    }
}
