//! The console's credentials: HttpOnly cookies that no page script can read, and the CSRF rule
//! that goes with them.
//!
//! A cookie is sent by the browser on its own, so a state-changing request carrying one must also
//! prove it comes from a page of ours: it sends `X-CSRF-Token`, a value derived from the session
//! token that only a page which asked the server for it (a same-origin read, which another site
//! cannot make) knows. `SameSite=Strict` already keeps the cookie off cross-site requests; the
//! token covers browsers and proxies that get that wrong. Header credentials (`Authorization`,
//! `X-Api-Key`) need no CSRF token: a browser never adds them by itself.

use std::time::Duration;

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use subtle::ConstantTimeEq;

use crate::domain::secret_token::sha256_hex;

/// A team member's session token.
pub const SESSION_COOKIE: &str = "kanri_session";
/// An operator's admin session token (`services::admin_sessions`).
pub const ADMIN_COOKIE: &str = "kanri_admin";
pub const CSRF_HEADER: HeaderName = HeaderName::from_static("x-csrf-token");

/// The value of cookie `name` in the request's `Cookie` headers, if there is exactly one.
/// Two cookies of one name (a sibling path or domain planted one) are treated as none.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut found = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().trim_matches('"').to_string());
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// The CSRF token of a session: a one-way function of its token, so nothing more is stored and
/// it ends when the session does.
pub fn csrf_token(session_token: &str) -> String {
    sha256_hex(&format!("kanri-csrf\0{session_token}"))
}

/// Whether a request that authenticates with `session_token` from a cookie may go ahead: reads
/// always; anything else only with the matching `X-CSRF-Token`.
pub fn csrf_allows(method: &Method, headers: &HeaderMap, session_token: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let Some(sent) = headers.get(&CSRF_HEADER) else {
        return false;
    };
    let expected = csrf_token(session_token);
    sent.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// `Set-Cookie` for a credential: the whole site, script-proof, never sent cross-site, `Secure`
/// when the console is served over https.
pub fn set(name: &str, token: &str, max_age: Duration, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = format!(
        "{name}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        max_age.as_secs()
    );
    HeaderValue::from_str(&value).expect("cookie names and tokens are header-safe")
}

/// `Set-Cookie` that removes the credential.
pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", Duration::ZERO, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn reads_one_cookie_among_many_headers() {
        let map = headers(&[("cookie", "a=1; kanri_session=tok"), ("cookie", "b=2")]);
        assert_eq!(read(&map, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(read(&map, ADMIN_COOKIE), None);
        assert_eq!(read(&map, "kanri"), None, "a prefix is not a name");
    }

    #[test]
    fn a_duplicated_cookie_counts_as_none() {
        let map = headers(&[("cookie", "kanri_session=a; kanri_session=b")]);
        assert_eq!(read(&map, SESSION_COOKIE), None);
    }

    #[test]
    fn writes_need_the_session_s_own_csrf_token() {
        let token = "t".repeat(43);
        let good = headers(&[("x-csrf-token", &csrf_token(&token))]);
        let other = headers(&[("x-csrf-token", &csrf_token("someone else"))]);
        assert!(csrf_allows(&Method::GET, &HeaderMap::new(), &token));
        assert!(csrf_allows(&Method::POST, &good, &token));
        assert!(csrf_allows(&Method::DELETE, &good, &token));
        assert!(!csrf_allows(&Method::POST, &HeaderMap::new(), &token));
        assert!(!csrf_allows(&Method::PATCH, &other, &token));
        assert_ne!(
            csrf_token(&token),
            token,
            "the token is not the session itself"
        );
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_on_https() {
        let plain = set(SESSION_COOKIE, "abc", Duration::from_secs(60), false);
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(plain.contains("Max-Age=60") && !plain.contains("Secure"));
        let secure = set(SESSION_COOKIE, "abc", Duration::from_secs(60), true);
        assert!(secure.to_str().unwrap().ends_with("; Secure"));
        assert!(
            clear(ADMIN_COOKIE, false)
                .to_str()
                .unwrap()
                .starts_with("kanri_admin=; ")
        );
    }
}
