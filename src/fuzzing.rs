//! The invariants the fuzz targets (`fuzz/`) check, one function per parser that takes outside
//! input. They live here, not in the fuzz crate, so that `tests/fuzz_corpus.rs` replays the
//! committed corpora through exactly the same checks on plain stable `cargo test`. Each takes
//! the fuzzer's raw bytes and panics when an invariant breaks; "no panic" alone is not the bar.
//! Not part of the API.

use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::{self, MailUrl, StorageUrl, WebhookKey};
use crate::http::api::attachments::download::content_disposition;
use crate::http::pagination::{MAX_LIMIT, PageParams, encode_cursor};
use crate::search::text_query as tq;
use crate::services::{identity, stripe};
use crate::storage::names::{self, MAX_NAME_BYTES};
use crate::storage::range::{self, Ranged};
use crate::webhooks::signing::{WebhookSecret, signature_header};

/// Splits the input at the first `0xFF` byte (never in UTF-8), so one input carries two fields.
fn split2(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Eight bytes as an integer (missing bytes are zero).
fn u64_of(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(buf)
}

/// Cursors: any text either decodes to a position whose cursor is the text itself (the
/// encoding is canonical, so a cursor has one spelling) or is refused; any position round-trips.
pub fn cursor(data: &[u8]) {
    let input = text(data);
    let page = PageParams {
        limit: data.first().map(|&b| u32::from(b)),
        cursor: Some(input.clone()),
    };
    if let Ok(Some(position)) = page.after() {
        assert_eq!(encode_cursor(&position), input, "a cursor has one spelling");
    }
    let limit = page.limit();
    assert_eq!(
        limit.is_ok(),
        page.limit.is_none_or(|n| (1..=MAX_LIMIT).contains(&n))
    );
    let encoded = encode_cursor(&input);
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "a cursor needs no escaping in a query string: {encoded:?}"
    );
    let back = PageParams {
        limit: None,
        cursor: Some(encoded),
    }
    .after()
    .expect("our own cursor decodes");
    assert_eq!(back.as_deref(), Some(input.as_str()));
}

/// Search text: only bounded words of letters and digits come out, so no query syntax can, and
/// both engines' query strings are built from those words alone.
pub fn text_query(data: &[u8]) {
    let (query, other) = split2(data);
    let query = text(query);
    let terms = tq::terms(&query);
    assert!(terms.len() <= tq::MAX_TERMS);
    for (i, t) in terms.iter().enumerate() {
        assert!(!t.is_empty(), "empty term from {query:?}");
        assert!(t.chars().count() <= tq::MAX_TERM_CHARS, "{t:?}");
        assert!(t.chars().all(char::is_alphanumeric), "{t:?} from {query:?}");
        assert!(!terms[..i].contains(t), "repeated term {t:?}");
    }
    for every in [true, false] {
        let fts = tq::fts5_match(&terms, every);
        assert_eq!(fts.is_some(), !terms.is_empty());
        if let Some(fts) = fts {
            // Every term quoted, only the last starred, joined by the one operator.
            let op = if every { " AND " } else { " OR " };
            let parts: Vec<&str> = fts.split(op).collect();
            assert_eq!(parts.len(), terms.len(), "{fts:?}");
            for (i, (part, term)) in parts.iter().zip(&terms).enumerate() {
                let star = if i + 1 == terms.len() { "*" } else { "" };
                assert_eq!(*part, format!("\"{term}\"{star}"), "{fts:?}");
            }
        }
        if let Some(ts) = tq::tsquery(&terms, every) {
            assert!(
                ts.chars()
                    .all(|c| c.is_alphanumeric() || " &|:*".contains(c)),
                "{ts:?}"
            );
            assert!(ts.ends_with(":*"));
        } else {
            assert!(terms.is_empty());
        }
    }
    for word in tq::terms_unbounded(&query) {
        assert!(!word.is_empty() && word.chars().all(char::is_alphanumeric));
    }
    // Typo distance: a metric's basic laws, within the bound asked for.
    let other = text(other);
    for max in 0..=2 {
        let d = tq::distance_within(&query, &other, max);
        assert_eq!(d, tq::distance_within(&other, &query, max), "symmetric");
        if let Some(d) = d {
            assert!(d <= max);
            assert_eq!(d == 0, query == other);
        }
    }
    if query.chars().count() <= 64 {
        assert_eq!(tq::distance_within(&query, &query, 0), Some(0));
    }
    // Corrections come from the vocabulary, or are the words as typed.
    let vocabulary: Vec<String> = tq::terms(&other);
    if let Some(corrected) = tq::correct(&terms, vocabulary.iter().map(|w| (w.as_str(), 1))) {
        assert_eq!(corrected.len(), terms.len());
        for (c, t) in corrected.iter().zip(&terms) {
            assert!(c == t || vocabulary.contains(c), "{c:?} for {t:?}");
        }
    }
}

/// `Range`: a partial answer is a non-empty slice of the file; anything but `bytes=` is the
/// whole file.
pub fn range(data: &[u8]) {
    let (size, header) = data.split_at(data.len().min(8));
    // Mostly small sizes, so the edges around 0 and the range's own numbers are reached.
    let size = match size.first() {
        Some(b) if b & 1 == 0 => u64::from(b >> 1),
        _ => u64_of(size),
    };
    let header = text(header);
    let ranged = range::parse(Some(&header), size);
    match &ranged {
        Ranged::Partial(Range { start, end }) => {
            assert!(
                start < end && *end <= size,
                "{header:?} {size} -> {ranged:?}"
            );
        }
        Ranged::Unsatisfiable => {
            assert!(header.trim().starts_with("bytes="), "{header:?}");
        }
        Ranged::Full => {}
    }
    if !header.trim().starts_with("bytes=") {
        assert_eq!(ranged, Ranged::Full);
    }
    assert_eq!(range::parse(None, size), Ranged::Full);
}

/// File names: one safe component, within the length cap, stable when cleaned again, and
/// always a valid `Content-Disposition` (the download drops a header that is not).
pub fn file_name(data: &[u8]) {
    let input = text(data);
    let name = names::sanitize(&input);
    assert!(!name.is_empty() && name.len() <= MAX_NAME_BYTES, "{name:?}");
    assert!(!name.contains(['/', '\\']), "{name:?}");
    assert!(
        !name.chars().any(|c| c.is_control()
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')),
        "{name:?}"
    );
    assert!(name != "." && name != "..");
    assert_eq!(name.trim(), name, "no edge spaces");
    assert!(!name.ends_with('.'), "no trailing dot: {name:?}");
    assert_eq!(names::sanitize(&name), name, "sanitize is idempotent");
    for inline in [true, false] {
        let value = content_disposition(&name, inline);
        assert!(
            axum::http::HeaderValue::from_str(&value).is_ok(),
            "{value:?} is not a header value"
        );
    }
}

/// The five fields of a signed delivery carved out of one input.
struct Delivery {
    key: Vec<u8>,
    id: String,
    timestamp: i64,
    junk: String,
    body: Vec<u8>,
}

fn delivery(data: &[u8]) -> Delivery {
    let (head, rest) = data.split_at(data.len().min(8));
    let (key, rest) = split2(rest);
    let (id, rest) = split2(rest);
    let (junk, body) = split2(rest);
    // A plausible Unix time in seconds (no overflow once in milliseconds).
    let timestamp = (u64_of(head) % 10_000_000_000) as i64;
    Delivery {
        key: if key.is_empty() {
            vec![0]
        } else {
            key.to_vec()
        },
        id: text(id),
        timestamp,
        junk: text(junk),
        body: body.to_vec(),
    }
}

/// Svix (identity webhooks): garbage never verifies, and a real signature does among any
/// other entries, within the tolerance and not past it. Signed by the Standard Webhooks
/// signer, which uses the same scheme: each implementation checks the other.
pub fn svix(data: &[u8]) {
    let d = delivery(data);
    let key = WebhookKey::parse(&format!("whsec_{}", STANDARD.encode(&d.key))).expect("valid key");
    let now_ms = d.timestamp * 1000;
    let ts = d.timestamp.to_string();
    let garbage = identity::SvixHeaders {
        id: &d.id,
        timestamp: &d.junk,
        signature: &d.junk,
    };
    let _ = identity::verify(&key, &garbage, &d.body, now_ms);
    let junk_only = identity::SvixHeaders {
        id: &d.id,
        timestamp: &ts,
        signature: &d.junk,
    };
    assert!(identity::verify(&key, &junk_only, &d.body, now_ms).is_err());

    let good = WebhookSecret::from_bytes(d.key.clone()).sign(&d.id, d.timestamp, &d.body);
    let signature = format!("{} {good}", d.junk);
    let headers = identity::SvixHeaders {
        id: &d.id,
        timestamp: &ts,
        signature: &signature,
    };
    let id_ok = !d.id.is_empty() && d.id.len() <= 255 && d.id.bytes().all(|b| b.is_ascii_graphic());
    let skew = identity::TOLERANCE_SECS as i64 * 1000;
    for now in [now_ms, now_ms - skew, now_ms + skew + 999] {
        let verdict = identity::verify(&key, &headers, &d.body, now);
        if id_ok {
            assert_eq!(verdict, Ok(()), "within tolerance at {now}");
        } else {
            assert_eq!(verdict, Err(identity::SignatureFailure::BadId));
        }
    }
    if id_ok {
        for now in [now_ms - skew - 1000, now_ms + skew + 1000] {
            assert_eq!(
                identity::verify(&key, &headers, &d.body, now),
                Err(identity::SignatureFailure::OutsideTolerance)
            );
        }
        let mut tampered = d.body.clone();
        tampered.push(b'x');
        assert_eq!(
            identity::verify(&key, &headers, &tampered, now_ms),
            Err(identity::SignatureFailure::NoMatch)
        );
    }
}

/// `Stripe-Signature`: garbage never verifies; a real `t=…,v1=…` does after any other parts.
pub fn stripe(data: &[u8]) {
    let d = delivery(data);
    let secret = text(&d.key);
    let now_ms = d.timestamp * 1000;
    let _ = stripe::verify(&secret, &d.junk, &d.body, now_ms);
    if !d.junk.contains("v1=") {
        assert!(stripe::verify(&secret, &d.junk, &d.body, now_ms).is_err());
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{}.", d.timestamp).as_bytes());
    mac.update(&d.body);
    let sig = hex::encode(mac.finalize().into_bytes());
    let header = format!("{},t={},v1={sig}", d.junk, d.timestamp);
    let skew = stripe::TOLERANCE_SECS as i64 * 1000;
    for now in [now_ms, now_ms - skew, now_ms + skew + 999] {
        assert_eq!(
            stripe::verify(&secret, &header, &d.body, now),
            Ok(()),
            "{header:?}"
        );
    }
    assert_eq!(
        stripe::verify(&secret, &header, &d.body, now_ms + skew + 1000),
        Err(stripe::SignatureFailure::OutsideTolerance)
    );
    let mut tampered = d.body.clone();
    tampered.push(b'x');
    assert_eq!(
        stripe::verify(&secret, &header, &tampered, now_ms),
        Err(stripe::SignatureFailure::NoMatch)
    );
}

/// Standard Webhooks: a `whsec_` secret that parses shows as the same text and the same key;
/// the header carries one `v1,` signature per secret, each of which a receiver accepts.
pub fn standard_webhooks(data: &[u8]) {
    let (secret_text, rest) = split2(data);
    let secret_text = text(secret_text);
    if let Some(secret) = WebhookSecret::parse(&secret_text) {
        assert!(!secret.bytes().is_empty());
        assert_eq!(secret.reveal(), secret_text, "one spelling per key");
        let again = WebhookSecret::parse(&secret.reveal()).expect("reveal parses");
        assert_eq!(again.bytes(), secret.bytes());
    }
    let d = delivery(rest);
    let secrets = [
        WebhookSecret::from_bytes(d.key.clone()),
        WebhookSecret::from_bytes(d.body.iter().take(32).copied().chain([1]).collect()),
    ];
    let header = signature_header(&secrets, &d.id, d.timestamp, &d.body);
    let parts: Vec<&str> = header.split(' ').collect();
    assert_eq!(parts.len(), secrets.len(), "{header:?}");
    for (part, secret) in parts.iter().zip(&secrets) {
        let b64 = part.strip_prefix("v1,").expect("v1 scheme");
        let sig = STANDARD.decode(b64).expect("base64 signature");
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.bytes()).expect("any key length");
        mac.update(format!("{}.{}.", d.id, d.timestamp).as_bytes());
        mac.update(&d.body);
        assert!(mac.verify_slice(&sig).is_ok());
    }
    assert!(
        axum::http::HeaderValue::from_str(&header).is_ok(),
        "{header:?} is a header value"
    );
}

/// Whether `message` shows `secret` where the same message for the URL without it does not
/// (so a password that happens to spell a word of a fixed message is no leak).
fn leaks(message: &str, secret: &str, baseline: &str) -> bool {
    secret.len() >= 4 && message.contains(secret) && !baseline.contains(secret)
}

/// Config URLs (database, Redis, S3/local storage, SMTP/Resend mail): the parsers agree with
/// their documented forms, and no error or redacted form shows a password or key.
pub fn config_urls(data: &[u8]) {
    let value = text(data);
    let value = value.as_str();

    match config::engine_of(value) {
        Ok(config::Engine::Sqlite) => assert!(value.starts_with("sqlite:")),
        Ok(config::Engine::Postgres) => {
            assert!(value.starts_with("postgres://") || value.starts_with("postgresql://"))
        }
        Err(_) => assert!(
            !value.starts_with("sqlite:")
                && !value.starts_with("postgres://")
                && !value.starts_with("postgresql://")
        ),
    }

    let parsed = url::Url::parse(value).ok();
    let password = parsed
        .as_ref()
        .and_then(|u| u.password())
        .map(str::to_string)
        .unwrap_or_default();
    // The same URL without its password: what a message may show anyway.
    let bare = parsed
        .as_ref()
        .map(|u| {
            let mut u = u.clone();
            let _ = u.set_password(None);
            u.to_string()
        })
        .unwrap_or_default();
    let error_text = |r: Result<(), String>| r.err().unwrap_or_default();

    if let Err(e) = config::check_redis_url(value) {
        let baseline = error_text(config::check_redis_url(&bare).map_err(|e| e.to_string()));
        assert!(!leaks(&e.to_string(), &password, &baseline), "{e}");
    } else {
        assert_eq!(parsed.as_ref().map(url::Url::scheme), Some("redis"));
    }

    match StorageUrl::parse(value) {
        Ok(StorageUrl::Local(dir)) => {
            assert!(value.starts_with("file://") && !dir.as_os_str().is_empty())
        }
        Ok(StorageUrl::S3 { bucket, prefix }) => {
            assert!(value.starts_with("s3://") && !bucket.is_empty());
            assert!(
                !prefix.starts_with('/') && !prefix.ends_with('/'),
                "{prefix:?}"
            );
        }
        Err(_) => {}
    }

    let redacted = config::redact_mail_url(value);
    if let Some(rest) = value.strip_prefix("resend://") {
        let expected = match rest.split_once('?') {
            Some((_, query)) => format!("resend://***?{query}"),
            None => "resend://***".into(),
        };
        assert_eq!(redacted, expected, "the key is replaced whole");
    } else if value.starts_with("smtp://") {
        assert!(
            !leaks(&redacted, &password, &config::redact_mail_url(&bare)),
            "{redacted}"
        );
    }
    match MailUrl::parse(value) {
        Ok(MailUrl::File { dir }) => assert!(!dir.as_os_str().is_empty()),
        Ok(MailUrl::Smtp { host, .. }) => {
            assert!(!host.is_empty() && !host.contains(['[', ']']), "{host:?}");
        }
        Ok(MailUrl::Resend { base_url, .. }) => assert!(!base_url.ends_with('/')),
        Err(e) => {
            let baseline = error_text(MailUrl::parse(&bare).map(|_| ()));
            assert!(!leaks(&e, &password, &baseline), "{e}");
        }
    }
}
