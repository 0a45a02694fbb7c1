//! TOTP two-factor rules, with no I/O: RFC 6238 codes (6 digits, 30-second steps, HMAC-SHA-1,
//! as every authenticator app computes them) through `totp-rs`, which step a code may be
//! accepted for, how typed codes are normalised, the otpauth URI, and recovery codes.
//!
//! **Replay.** A code is accepted for a step within one step of now (clock skew) and only if
//! that step is after the last step this account accepted; the caller stores the accepted
//! step with a conditional UPDATE, so one code cannot be used twice, even by two sign-ins at
//! once.
//!
//! **Recovery codes** are 16 characters of RFC 4648 base32 (80 random bits), shown grouped as
//! `abcd-efgh-ijkl-mnop`. They are stored as SHA-256 of the user id and the code: a fast hash
//! is enough because 80 random bits cannot be guessed from a hash (passwords need argon2 only
//! because they are low-entropy), and being unkeyed they keep working if the signing key
//! changes — when the TOTP secret can no longer be opened, they are the way back in.

use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Totp};

use crate::config::Secret;

pub const DIGITS: u8 = 6;
pub const STEP_SECS: u64 = 30;
/// Steps accepted either side of now.
pub const SKEW_STEPS: u64 = 1;
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODE_COUNT: usize = 10;
const RECOVERY_CODE_CHARS: usize = 16;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// The issuer the authenticator app shows beside the account.
pub const ISSUER: &str = "Kanri";

/// A TOTP shared secret. Never logged; stored only sealed (`crypto::SealingCipher`).
#[derive(Clone, Debug)]
pub struct TotpSecret(Secret<Vec<u8>>);

impl TotpSecret {
    pub fn generate() -> Self {
        Self(Secret::new(rand::random::<[u8; SECRET_BYTES]>().to_vec()))
    }

    /// A secret opened from storage; `None` if it is not one we could have made.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() == SECRET_BYTES).then(|| Self(Secret::new(bytes)))
    }

    pub fn bytes(&self) -> &[u8] {
        self.0.expose()
    }

    /// Unpadded upper-case base32, as authenticator apps take it typed in.
    pub fn base32(&self) -> String {
        totp_rs::Secret::from(self.bytes()).to_base32()
    }

    fn totp(&self) -> Totp {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_step_duration(STEP_SECS)
            // Each step is checked on its own (`matches`), so the library's window is one step.
            .with_skew(0)
            .with_secret(self.bytes())
            .build()
            .expect("a 160-bit secret, 6 digits and 30 s steps are RFC 6238 parameters")
    }

    /// Whether `code` (already normalised) is this secret's code for `step`, compared in
    /// constant time by `totp-rs`.
    pub fn matches(&self, code: &TotpCode, step: u64) -> bool {
        self.totp().check(&code.0, step * STEP_SECS).is_some()
    }

    /// The code for `step` (for tests and tools; the server only checks codes).
    pub fn code_at(&self, step: u64) -> String {
        self.totp().generate(step * STEP_SECS).to_string()
    }

    /// The step `code` is accepted for at `unix_secs`, given the last step this account
    /// accepted: the earliest step within the skew window that is after `last_step` and
    /// whose code it is. `None` means wrong, expired or replayed.
    pub fn accepted_step(
        &self,
        code: &TotpCode,
        unix_secs: u64,
        last_step: Option<u64>,
    ) -> Option<u64> {
        candidate_steps(step_at(unix_secs), last_step).find(|&step| self.matches(code, step))
    }
}

/// The time step `unix_secs` falls in.
pub fn step_at(unix_secs: u64) -> u64 {
    unix_secs / STEP_SECS
}

/// The steps a code may be accepted for now: within the skew of `now_step`, and after the
/// last accepted one (a step is used at most once).
pub fn candidate_steps(now_step: u64, last_step: Option<u64>) -> impl Iterator<Item = u64> {
    let first = now_step.saturating_sub(SKEW_STEPS);
    (first..=now_step + SKEW_STEPS).filter(move |&step| last_step.is_none_or(|last| step > last))
}

/// A six-digit code as typed: spaces and dashes (`123 456`, `123-456`) are dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpCode(String);

impl std::fmt::Debug for TotpCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpCode([redacted])")
    }
}

impl TotpCode {
    pub fn parse(input: &str) -> Option<Self> {
        let digits = strip_separators(input);
        (digits.len() == usize::from(DIGITS) && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(Self(digits))
    }
}

/// A recovery code as typed: case-insensitive, spaces and dashes dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

impl RecoveryCode {
    pub fn generate() -> Self {
        // 256 is a multiple of 32, so each byte's low five bits are uniform.
        let bytes: [u8; RECOVERY_CODE_CHARS] = rand::random();
        Self(
            bytes
                .iter()
                .map(|b| char::from(BASE32[usize::from(b & 31)]))
                .collect(),
        )
    }

    pub fn parse(input: &str) -> Option<Self> {
        let code = strip_separators(input).to_ascii_lowercase();
        (code.len() == RECOVERY_CODE_CHARS && code.bytes().all(|b| BASE32.contains(&b)))
            .then_some(Self(code))
    }

    /// As shown to the user once: four groups of four.
    pub fn display(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-")
    }

    /// What is stored: SHA-256 over the user id and the code, so equal codes of two users
    /// (or one hash copied to another user) do not match.
    pub fn hash(&self, user_id: &str) -> String {
        let mut hash = Sha256::new();
        hash.update(b"kanri-recovery-code-v1\0");
        hash.update(user_id.as_bytes());
        hash.update([0]);
        hash.update(self.0.as_bytes());
        hex::encode(hash.finalize())
    }
}

fn strip_separators(input: &str) -> String {
    input
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
        .collect()
}

/// The Key URI an authenticator app scans: `otpauth://totp/Kanri:{account}?secret=…`, with the
/// parameters spelled out (some apps ignore defaults they were not told).
pub fn otpauth_uri(account: &str, secret: &TotpSecret) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // An address keeps its `@` and dots readable; `:` (the label's separator), `+` (read as a
    // space by some apps) and the rest are encoded.
    const LABEL: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'@')
        .remove(b'.')
        .remove(b'-')
        .remove(b'_');
    let label = utf8_percent_encode(account, LABEL);
    format!(
        "otpauth://totp/{ISSUER}:{label}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        secret.base32()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 seed, "12345678901234567890".
    fn rfc_secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec()).unwrap()
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // T = 59 s → 94287082 (8 digits), so its last six digits at 6.
        let secret = rfc_secret();
        assert_eq!(secret.code_at(step_at(59)), "287082");
        assert_eq!(secret.code_at(step_at(1_111_111_109)), "081804");
        assert_eq!(secret.code_at(step_at(20_000_000_000)), "353130");
        let code = TotpCode::parse("287082").unwrap();
        assert!(secret.matches(&code, 1));
        assert!(!secret.matches(&code, 2));
    }

    #[test]
    fn steps_are_thirty_seconds_and_the_window_is_one_either_side() {
        assert_eq!(step_at(0), 0);
        assert_eq!(step_at(29), 0);
        assert_eq!(step_at(30), 1);
        assert_eq!(candidate_steps(10, None).collect::<Vec<_>>(), [9, 10, 11]);
        assert_eq!(candidate_steps(0, None).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn a_step_at_or_before_the_last_accepted_one_is_refused() {
        assert_eq!(
            candidate_steps(10, Some(8)).collect::<Vec<_>>(),
            [9, 10, 11]
        );
        assert_eq!(candidate_steps(10, Some(9)).collect::<Vec<_>>(), [10, 11]);
        assert_eq!(candidate_steps(10, Some(10)).collect::<Vec<_>>(), [11]);
        assert_eq!(candidate_steps(10, Some(11)).count(), 0);
        let secret = rfc_secret();
        let now = 1_111_111_109;
        let step = step_at(now);
        let code = TotpCode::parse(&secret.code_at(step)).unwrap();
        assert_eq!(secret.accepted_step(&code, now, None), Some(step));
        assert_eq!(secret.accepted_step(&code, now, Some(step)), None, "replay");
        // Skew: the previous and next step's codes are accepted, two away are not.
        let prev = TotpCode::parse(&secret.code_at(step - 1)).unwrap();
        let next = TotpCode::parse(&secret.code_at(step + 1)).unwrap();
        let far = TotpCode::parse(&secret.code_at(step + 2)).unwrap();
        assert_eq!(secret.accepted_step(&prev, now, None), Some(step - 1));
        assert_eq!(secret.accepted_step(&next, now, None), Some(step + 1));
        assert_eq!(secret.accepted_step(&far, now, None), None);
        // After the next step's code, the current one is refused too: steps only go forward.
        assert_eq!(secret.accepted_step(&code, now, Some(step + 1)), None);
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(TotpCode::parse(" 123 456 "), TotpCode::parse("123456"));
        assert_eq!(TotpCode::parse("123-456"), TotpCode::parse("123456"));
        assert!(TotpCode::parse("123456").is_some());
        for bad in ["12345", "1234567", "12345a", "", "１２３４５６", "+12345"] {
            assert!(TotpCode::parse(bad).is_none(), "{bad}");
        }
        let code = RecoveryCode::generate();
        let shown = code.display();
        assert_eq!(shown.len(), 19);
        assert_eq!(RecoveryCode::parse(&shown), Some(code.clone()));
        assert_eq!(
            RecoveryCode::parse(&shown.to_uppercase()),
            Some(code.clone())
        );
        assert_eq!(
            RecoveryCode::parse(&shown.replace('-', " ")),
            Some(code.clone())
        );
        assert!(RecoveryCode::parse("abcd-efgh-ijkl-mno").is_none());
        assert!(
            RecoveryCode::parse("abcd-efgh-ijkl-mno1").is_none(),
            "1 is not base32"
        );
    }

    #[test]
    fn recovery_codes_are_random_and_hashed_per_user() {
        let a = RecoveryCode::generate();
        assert_ne!(a, RecoveryCode::generate());
        assert_ne!(a.hash("u1"), a.hash("u2"));
        assert_eq!(a.hash("u1"), a.hash("u1"));
        assert!(!a.hash("u1").contains(&a.0));
    }

    #[test]
    fn the_uri_names_issuer_account_and_secret() {
        let secret = rfc_secret();
        let uri = otpauth_uri("ann+x@example.com", &secret);
        assert_eq!(
            uri,
            "otpauth://totp/Kanri:ann%2Bx@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Kanri&algorithm=SHA1&digits=6&period=30"
        );
        assert!(TotpSecret::from_bytes(vec![0; 10]).is_none());
        assert!(!format!("{secret:?}").contains("GEZ"));
    }
}
