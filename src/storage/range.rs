//! `Range: bytes=…` for downloads (RFC 9110 §14). One range is served; a header we cannot
//! use (another unit, several ranges, bad syntax) is ignored and the whole file is sent, as
//! the RFC allows.

use std::ops::Range;

#[derive(Debug, PartialEq, Eq)]
pub enum Ranged {
    /// Send everything (no header, or one we ignore).
    Full,
    /// Send these bytes with 206.
    Partial(Range<u64>),
    /// 416: the range starts past the end.
    Unsatisfiable,
}

pub fn parse(header: Option<&str>, size: u64) -> Ranged {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ranged::Full;
    };
    let spec = spec.trim();
    if spec.contains(',') {
        return Ranged::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ranged::Full;
    };
    let number = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // `-n`: the last n bytes.
        (true, false) => match number(last) {
            None => Ranged::Full,
            Some(0) => Ranged::Unsatisfiable,
            Some(_) if size == 0 => Ranged::Unsatisfiable,
            Some(n) => Ranged::Partial(size.saturating_sub(n)..size),
        },
        // `a-`: from a to the end.
        (false, true) => match number(first) {
            None => Ranged::Full,
            Some(a) if a >= size => Ranged::Unsatisfiable,
            Some(a) => Ranged::Partial(a..size),
        },
        // `a-b`, inclusive; b past the end means the end.
        (false, false) => match (number(first), number(last)) {
            (Some(a), Some(b)) if a <= b => {
                if a >= size {
                    Ranged::Unsatisfiable
                } else {
                    Ranged::Partial(a..b.saturating_add(1).min(size))
                }
            }
            _ => Ranged::Full,
        },
        (true, true) => Ranged::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_forms() {
        assert_eq!(parse(Some("bytes=0-9"), 100), Ranged::Partial(0..10));
        assert_eq!(parse(Some("bytes=90-"), 100), Ranged::Partial(90..100));
        assert_eq!(parse(Some("bytes=-10"), 100), Ranged::Partial(90..100));
        assert_eq!(parse(Some("bytes=-1000"), 100), Ranged::Partial(0..100));
        assert_eq!(parse(Some("bytes=50-1000"), 100), Ranged::Partial(50..100));
        assert_eq!(parse(Some("bytes=99-99"), 100), Ranged::Partial(99..100));
    }

    #[test]
    fn past_the_end_is_unsatisfiable() {
        assert_eq!(parse(Some("bytes=100-"), 100), Ranged::Unsatisfiable);
        assert_eq!(parse(Some("bytes=100-200"), 100), Ranged::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-0"), 100), Ranged::Unsatisfiable);
        assert_eq!(parse(Some("bytes=0-"), 0), Ranged::Unsatisfiable);
        assert_eq!(parse(Some("bytes=-5"), 0), Ranged::Unsatisfiable);
    }

    #[test]
    fn what_we_ignore() {
        for h in [
            None,
            Some("items=0-1"),
            Some("bytes=0-1,5-6"),
            Some("bytes=5-1"),
            Some("bytes=-"),
            Some("bytes=a-b"),
            Some("bytes=+1-2"),
            Some("bytes=99999999999999999999999-"),
        ] {
            assert_eq!(parse(h, 100), Ranged::Full, "{h:?}");
        }
    }
}
