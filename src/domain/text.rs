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
    }
}
