//! Cryptography shared by features: [`SealingCipher`], the authenticated encryption of secrets
//! the server must read back (webhook signing secrets, TOTP secrets), so a database dump alone
//! does not reveal them.

mod sealing;

pub use sealing::SealingCipher;
