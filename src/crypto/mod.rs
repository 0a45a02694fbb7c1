//! Cryptography shared by features: [`SealingCipher`], the authenticated encryption of secrets
//! the server must read back (webhook signing secrets, TOTP secrets), so a database dump alone
//! does not reveal them; and the process's choice of crypto library, ring, for TLS and for JWT
//! signatures ([`install_providers`]).

pub mod jwt_ring;
mod sealing;

pub use sealing::SealingCipher;

/// Makes ring the process-wide backend of rustls (which reqwest, the S3 client, takes when
/// it is installed: no other is compiled in) and of jsonwebtoken. Idempotent; called by
/// everything that may speak TLS or check a token before the first connection.
pub fn install_providers() {
    // Fails only when one is installed already, which can only be ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    jwt_ring::install();
}
