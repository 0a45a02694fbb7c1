//! W3C trace context: the trace id a request carries (from its `traceparent` header, or a
//! fresh one), kept in a task-local while the request is served so the jobs it enqueues store
//! it, and set again while a job runs so the jobs that job enqueues (webhook deliveries,
//! follow-ups) inherit it.

use std::fmt;
use std::future::Future;

/// A 16-byte trace id as 32 lower-case hex digits, never all zeros.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceId(String);

impl TraceId {
    /// A fresh random id, for a request that came without a trace.
    pub fn generate() -> Self {
        loop {
            let bytes = rand::random::<[u8; 16]>();
            // All zeros is the spec's "invalid"; drawing it is 1 in 2^128, but cheap to rule out.
            if bytes.iter().any(|&b| b != 0) {
                return Self(hex::encode(bytes));
            }
        }
    }

    /// Parses a `traceparent` header: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
    /// Only version 00 is accepted, and an all-zero trace or parent id is invalid (the spec says
    /// to ignore such a header and start a new trace).
    pub fn from_traceparent(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace, parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let valid = version == "00"
            && parts.next().is_none()
            && is_hex(trace, 32)
            && is_hex(parent, 16)
            && is_hex(flags, 2)
            && trace.bytes().any(|b| b != b'0')
            && parent.bytes().any(|b| b != b'0');
        valid.then(|| Self(trace.to_string()))
    }

    /// A stored id (from a job row); `None` unless it has the shape this type guarantees.
    pub fn from_stored(value: &str) -> Option<Self> {
        (is_hex(value, 32) && value.bytes().any(|b| b != b'0')).then(|| Self(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lower-case hex only: the spec forbids upper case, and one spelling keeps ids comparable.
fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

tokio::task_local! {
    static CURRENT: Option<TraceId>;
}

/// The trace of the request or job this task is serving, if any.
pub fn current() -> Option<TraceId> {
    CURRENT.try_with(Clone::clone).ok().flatten()
}

/// Runs `work` with `trace` as the current trace.
pub async fn scope<F: Future>(trace: Option<TraceId>, work: F) -> F::Output {
    CURRENT.scope(trace, work).await
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn accepts_a_version_00_traceparent() {
        let header = format!("00-{TRACE}-00f067aa0ba902b7-01");
        assert_eq!(TraceId::from_traceparent(&header).unwrap().as_str(), TRACE);
        let unsampled = format!("00-{TRACE}-00f067aa0ba902b7-00");
        assert!(TraceId::from_traceparent(&unsampled).is_some());
    }

    #[test]
    fn rejects_malformed_traceparents() {
        let bad = [
            String::new(),
            format!("01-{TRACE}-00f067aa0ba902b7-01"),
            format!("ff-{TRACE}-00f067aa0ba902b7-01"),
            format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
            format!("00-{TRACE}-{}-01", "0".repeat(16)),
            format!("00-{}-00f067aa0ba902b7-01", TRACE.to_uppercase()),
            format!("00-{}-00f067aa0ba902b7-01", &TRACE[1..]),
            format!("00-{TRACE}-00f067aa0ba902b-01"),
            format!("00-{TRACE}-00f067aa0ba902b7-1"),
            format!("00-{TRACE}-00f067aa0ba902b7-01-extra"),
            format!("00-{TRACE}-00f067aa0ba902b7"),
            format!("00-{}g-00f067aa0ba902b7-01", &TRACE[1..]),
        ];
        for header in bad {
            assert!(TraceId::from_traceparent(&header).is_none(), "{header:?}");
        }
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let (a, b) = (TraceId::generate(), TraceId::generate());
        assert_ne!(a, b);
        assert_eq!(TraceId::from_stored(a.as_str()), Some(a));
        assert!(TraceId::from_stored("nope").is_none());
    }

    #[tokio::test]
    async fn the_current_trace_is_scoped_to_its_task() {
        assert!(current().is_none());
        let id = TraceId::generate();
        let seen = scope(Some(id.clone()), async { current() }).await;
        assert_eq!(seen, Some(id));
        assert!(current().is_none());
    }
}
