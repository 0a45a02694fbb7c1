//! What a file is, decided from its bytes (never the client's word), and how it may be served.
//!
//! Anything a browser could run — HTML, SVG, XML, JavaScript and the like — is active. It is
//! never served inline nor with its own type: it goes out as `application/octet-stream` with
//! `Content-Disposition: attachment`. Only an allow-list of passive types is shown inline.

/// The type of a file from its first bytes; `name` only refines plain text (`.csv`, `.md`).
pub fn content_type(head: &[u8], name: &str) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_string();
    }
    if looks_like_markup(head) {
        return "text/html".into();
    }
    if is_text(head) {
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        return match ext.as_deref() {
            Some("csv") => "text/csv",
            Some("tsv") => "text/tab-separated-values",
            Some("md" | "markdown") => "text/markdown",
            Some("json") => "application/json",
            _ => "text/plain",
        }
        .into();
    }
    "application/octet-stream".into()
}

/// Markup a browser would render, wherever in the head it starts (infer only looks at the
/// first tag, and misses SVG).
fn looks_like_markup(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&head[..head.len().min(1024)]).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    [
        "<!doctype",
        "<html",
        "<svg",
        "<?xml",
        "<script",
        "<head",
        "<body",
        "<iframe",
    ]
    .iter()
    .any(|tag| text.starts_with(tag))
        || ["<script", "<svg", "<html", "<iframe"]
            .iter()
            .any(|tag| text.contains(tag))
}

/// UTF-8 without NULs: what we may call plain text.
fn is_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // The head may end inside a multi-byte character.
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

/// How a stored type is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    pub content_type: String,
    pub inline: bool,
}

/// Passive types a browser may show in place.
const INLINE: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "text/markdown",
    "text/tab-separated-values",
    "audio/mpeg",
    "audio/ogg",
    "audio/x-wav",
    "video/mp4",
    "video/webm",
];

/// Types that must never reach a browser under their own name.
const ACTIVE: &[&str] = &[
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "application/x-shockwave-flash",
    "text/x-shellscript",
];

pub fn serving(stored_type: &str) -> Serving {
    let base = stored_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if ACTIVE.contains(&base.as_str()) || base.ends_with("+xml") {
        return Serving {
            content_type: "application/octet-stream".into(),
            inline: false,
        };
    }
    let content_type = if base.starts_with("text/") {
        format!("{base}; charset=utf-8")
    } else {
        base.clone()
    };
    Serving {
        inline: INLINE.contains(&base.as_str()),
        content_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn types_come_from_the_bytes_not_the_name() {
        assert_eq!(content_type(PNG, "x.txt"), "image/png");
        assert_eq!(
            content_type(b"<html><script>alert(1)</script>", "x.png"),
            "text/html"
        );
        assert_eq!(
            content_type(b"  <svg xmlns='http://www.w3.org/2000/svg'/>", "a.png"),
            "text/html"
        );
        assert_eq!(content_type(b"hello, world\n", "a.png"), "text/plain");
        assert_eq!(content_type(b"a,b\n1,2\n", "data.CSV"), "text/csv");
        assert_eq!(
            content_type(b"\0\x01\x02\xff", "a.txt"),
            "application/octet-stream"
        );
        assert_eq!(content_type(b"%PDF-1.7\n", "a"), "application/pdf");
        assert_eq!(content_type("añ".as_bytes(), "a"), "text/plain");
        assert_eq!(content_type(&"ñ".as_bytes()[..1], "a"), "text/plain");
    }

    #[test]
    fn active_content_is_never_inline_nor_typed() {
        for t in [
            "text/html",
            "image/svg+xml",
            "text/xml",
            "application/javascript",
            "application/rss+xml",
        ] {
            let s = serving(t);
            assert!(!s.inline, "{t}");
            assert_eq!(s.content_type, "application/octet-stream", "{t}");
        }
        assert_eq!(
            serving("image/png"),
            Serving {
                content_type: "image/png".into(),
                inline: true
            }
        );
        assert_eq!(
            serving("text/plain").content_type,
            "text/plain; charset=utf-8"
        );
        assert!(!serving("application/zip").inline);
    }
}
