//! Client file names, made safe to store and to show. The name is only ever shown (in JSON and
//! in `Content-Disposition`); storage keys never contain it. Still, no path survives: only the
//! last component of whatever was sent is kept, without control or bidi-override characters,
//! and capped in length. Letters of every script are kept.

/// Longest kept name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 255;
const FALLBACK: &str = "file";

/// The safe form of a client's file name; `file` when nothing usable is left.
pub fn sanitize(input: &str) -> String {
    // Both separators: a Windows client sends `C:\Users\me\report.pdf`.
    let last = input.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let trimmed = trim_edges(&cleaned);
    if trimmed.is_empty() || trimmed.chars().all(|c| c == '.') {
        return FALLBACK.into();
    }
    // The cut can end on a dot or a space again (fuzz target `file_name`).
    match trim_edges(&truncate(trimmed)) {
        "" => FALLBACK.into(),
        cut => cut.to_string(),
    }
}

/// Without leading spaces, nor trailing dots and spaces in any order (`a. .` is `a`), which
/// Windows drops and which would make the name change when cleaned again.
fn trim_edges(name: &str) -> &str {
    name.trim_start()
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
}

/// Characters that reorder how text is shown (`invoice` + U+202E + `fdp.exe` shows as `invoiceexe.pdf`).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Cuts to `MAX_NAME_BYTES` on a character boundary, keeping a short extension.
fn truncate(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_string();
    }
    let ext = name
        .rfind('.')
        .map(|i| &name[i..])
        .filter(|e| e.len() <= 16)
        .unwrap_or("");
    let budget = MAX_NAME_BYTES - ext.len();
    let mut end = budget;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ext}", &name[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn paths_are_cut_to_their_last_component() {
        assert_eq!(sanitize("../../etc/passwd"), "passwd");
        assert_eq!(sanitize("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(sanitize("a/b/"), "file");
        assert_eq!(sanitize(".."), "file");
        assert_eq!(sanitize("..."), "file");
        assert_eq!(sanitize(""), "file");
        assert_eq!(sanitize("  "), "file");
    }

    #[test]
    fn control_and_bidi_characters_go_unicode_stays() {
        assert_eq!(sanitize("a\u{0}b\r\nc.txt"), "abc.txt");
        assert_eq!(sanitize("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(sanitize("Übersicht 資料.pdf"), "Übersicht 資料.pdf");
        assert_eq!(sanitize("notes.txt. "), "notes.txt");
    }

    #[test]
    fn trailing_dots_and_spaces_go_in_any_order_and_after_a_cut() {
        // Found by the `file_name` fuzz target: both came out ending in `.`, and changed
        // when cleaned again.
        assert_eq!(sanitize("a. ."), "a");
        let long = format!("{}. {}", "a".repeat(254), "b".repeat(20));
        assert_eq!(sanitize(&long), "a".repeat(254));
        assert_eq!(sanitize(&format!(" {}", ". ".repeat(200))), "file");
    }

    #[test]
    fn long_names_keep_their_extension() {
        let long = format!("{}.png", "é".repeat(300));
        let out = sanitize(&long);
        assert!(out.len() <= MAX_NAME_BYTES, "{}", out.len());
        assert!(out.ends_with(".png"));
    }

    proptest! {
        #[test]
        fn any_input_gives_a_safe_name(input in any::<String>()) {
            let out = sanitize(&input);
            prop_assert!(!out.is_empty() && out.len() <= MAX_NAME_BYTES);
            prop_assert!(!out.contains('/') && !out.contains('\\'));
            prop_assert!(!out.chars().any(|c| c.is_control() || is_bidi_control(c)));
            prop_assert!(out != "." && out != "..");
        }
    }
}
