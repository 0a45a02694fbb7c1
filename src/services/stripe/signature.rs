//! `Stripe-Signature`: `t=<unix secs>,v1=<hex>[,v1=<hex>…]`, checked over the raw body before
//! anything reads it.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// How far the signed timestamp may be from our clock, either way (Stripe's default).
pub const TOLERANCE_SECS: u64 = 300;

/// Why a delivery was refused; clients get one answer (400), the reason is for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFailure {
    #[error("Stripe-Signature is missing")]
    MissingHeader,
    #[error("Stripe-Signature has no usable t=")]
    BadTimestamp,
    #[error("the signed timestamp is more than five minutes off")]
    OutsideTolerance,
    #[error("no v1 signature matches")]
    NoMatch,
}

/// Checks `Stripe-Signature: t=<unix secs>,v1=<hex>[,v1=<hex>…]` the way Stripe signs:
/// HMAC-SHA256 keyed with the whole endpoint secret over `"{t}.{raw body}"`, any `v1` matching
/// (compared in constant time by `verify_slice`), `t` within 300 s of `now_ms`. Other schemes
/// (`v0`) are ignored.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now_ms: i64,
) -> Result<(), SignatureFailure> {
    let mut timestamp: Option<&str> = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = Some(t),
            Some(("v1", sig)) => signatures.extend(hex::decode(sig).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureFailure::BadTimestamp)?;
    let t: i64 = timestamp
        .parse()
        .map_err(|_| SignatureFailure::BadTimestamp)?;
    if now_ms.div_euclid(1000).abs_diff(t) > TOLERANCE_SECS {
        return Err(SignatureFailure::OutsideTolerance);
    }
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    if signatures
        .iter()
        .any(|sig| mac.clone().verify_slice(sig).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureFailure::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn verifies_stripe_signatures() {
        let (secret, now) = ("whsec_test_secret", 1_700_000_000_000);
        let good = sign(secret, 1_700_000_000, b"{}");
        let header = format!("t=1700000000,v1={good}");
        assert_eq!(verify(secret, &header, b"{}", now), Ok(()));
        // Several v1 (secret rotation): any may match; v0 and junk are ignored.
        let many = format!("t=1700000000,v1=00ff,v0=abc,v1={good}");
        assert_eq!(verify(secret, &many, b"{}", now), Ok(()));
        assert_eq!(
            verify(secret, &header, b"{ }", now),
            Err(SignatureFailure::NoMatch)
        );
        assert_eq!(
            verify("whsec_other", &header, b"{}", now),
            Err(SignatureFailure::NoMatch)
        );
        assert_eq!(
            verify(secret, &format!("v1={good}"), b"{}", now),
            Err(SignatureFailure::BadTimestamp)
        );
        assert_eq!(
            verify(secret, &header, b"{}", now + 301_000),
            Err(SignatureFailure::OutsideTolerance)
        );
        assert_eq!(verify(secret, &header, b"{}", now + 299_000), Ok(()));
    }
}
