//! jsonwebtoken's signatures on ring, the crypto library the rest of Kanri already uses
//! (rustls, hyper-rustls, sqlx, lettre). jsonwebtoken ships backends for aws-lc-rs and
//! RustCrypto only; aws-lc-rs is a C library whose build was about 90 s of a cold release
//! build here, and RustCrypto would add a dozen crates. jsonwebtoken's `CryptoProvider` is
//! the documented way to bring another backend; this mirrors its aws-lc-rs one, whose API ring
//! shares.
//!
//! Kanri verifies outside providers' tokens (RS*, PS*, ES256/384, EdDSA; HS* for
//! completeness). Signing is here for the tests' token issuers. Of the JWK helpers, the one
//! that would parse an RSA public key's DER into (n, e) is not offered by ring and refuses;
//! Kanri never builds a JWK from a key.

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, JwtVerifier, KeyUtils};
use jsonwebtoken::errors::{Error, ErrorKind, Result};
use jsonwebtoken::jwk::{EllipticCurve, ThumbprintHash};
use jsonwebtoken::signature;
use jsonwebtoken::{Algorithm, DecodingKey, DecodingKeyKind, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair};
use ring::{digest, hmac};

/// The provider; installed once per process by [`install`].
pub static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    key_utils: KeyUtils {
        rsa_pub_components_from_private_key,
        rsa_pub_components_from_public_key,
        ec_pub_components_from_private_key,
        ed_pub_components_from_private_key,
        compute_digest,
    },
};

/// Makes [`PROVIDER`] jsonwebtoken's process-wide backend. Idempotent; call before the first
/// token is verified or signed.
pub fn install() {
    // Fails only when a provider is already installed, which is then this one: no other is
    // compiled in.
    let _ = PROVIDER.install_default();
}

fn family_error() -> Error {
    ErrorKind::InvalidKeyFormat.into()
}

/// How a verifier checks a signature.
enum Check {
    Hmac(hmac::Key),
    Rsa(&'static sig::RsaParameters),
    /// ECDSA and EdDSA: the key is the encoded public point.
    Point(&'static dyn sig::VerificationAlgorithm),
}

struct RingVerifier {
    algorithm: Algorithm,
    key: DecodingKey,
    check: Check,
}

fn new_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    use Algorithm::*;
    if key.family() != algorithm.family() {
        return Err(family_error());
    }
    let check = match algorithm {
        HS256 => Check::Hmac(hmac::Key::new(hmac::HMAC_SHA256, key.try_get_as_bytes()?)),
        HS384 => Check::Hmac(hmac::Key::new(hmac::HMAC_SHA384, key.try_get_as_bytes()?)),
        HS512 => Check::Hmac(hmac::Key::new(hmac::HMAC_SHA512, key.try_get_as_bytes()?)),
        RS256 => Check::Rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
        RS384 => Check::Rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
        RS512 => Check::Rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
        PS256 => Check::Rsa(&sig::RSA_PSS_2048_8192_SHA256),
        PS384 => Check::Rsa(&sig::RSA_PSS_2048_8192_SHA384),
        PS512 => Check::Rsa(&sig::RSA_PSS_2048_8192_SHA512),
        ES256 => Check::Point(&sig::ECDSA_P256_SHA256_FIXED),
        ES384 => Check::Point(&sig::ECDSA_P384_SHA384_FIXED),
        EdDSA => Check::Point(&sig::ED25519),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(Box::new(RingVerifier {
        algorithm: *algorithm,
        key: key.clone(),
        check,
    }))
}

impl signature::Verifier<Vec<u8>> for RingVerifier {
    fn verify(&self, msg: &[u8], signature: &Vec<u8>) -> std::result::Result<(), signature::Error> {
        let checked = match &self.check {
            Check::Hmac(key) => hmac::verify(key, msg, signature),
            Check::Rsa(parameters) => match self.key.kind() {
                DecodingKeyKind::SecretOrDer(der) => {
                    sig::UnparsedPublicKey::new(*parameters, der).verify(msg, signature)
                }
                DecodingKeyKind::RsaModulusExponent { n, e } => {
                    sig::RsaPublicKeyComponents { n, e }.verify(parameters, msg, signature)
                }
            },
            Check::Point(algorithm) => {
                let point = self
                    .key
                    .try_get_as_bytes()
                    .map_err(signature::Error::from_source)?;
                sig::UnparsedPublicKey::new(*algorithm, point).verify(msg, signature)
            }
        };
        checked.map_err(signature::Error::from_source)
    }
}

impl JwtVerifier for RingVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

enum SigningKey {
    Hmac(hmac::Key),
    Rsa(sig::RsaKeyPair, &'static dyn sig::RsaEncoding),
    Ecdsa(sig::EcdsaKeyPair),
    Ed(sig::Ed25519KeyPair),
}

struct RingSigner {
    algorithm: Algorithm,
    key: SigningKey,
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    use Algorithm::*;
    if key.family() != algorithm.family() {
        return Err(family_error());
    }
    let bytes = key.as_bytes();
    let rsa = |encoding: &'static dyn sig::RsaEncoding| -> Result<SigningKey> {
        let pair = sig::RsaKeyPair::from_der(bytes)
            .map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?;
        Ok(SigningKey::Rsa(pair, encoding))
    };
    let ecdsa = |algorithm: &'static sig::EcdsaSigningAlgorithm| -> Result<SigningKey> {
        let pair = sig::EcdsaKeyPair::from_pkcs8(algorithm, bytes, &SystemRandom::new())
            .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
        Ok(SigningKey::Ecdsa(pair))
    };
    let key = match algorithm {
        HS256 => SigningKey::Hmac(hmac::Key::new(hmac::HMAC_SHA256, bytes)),
        HS384 => SigningKey::Hmac(hmac::Key::new(hmac::HMAC_SHA384, bytes)),
        HS512 => SigningKey::Hmac(hmac::Key::new(hmac::HMAC_SHA512, bytes)),
        RS256 => rsa(&sig::RSA_PKCS1_SHA256)?,
        RS384 => rsa(&sig::RSA_PKCS1_SHA384)?,
        RS512 => rsa(&sig::RSA_PKCS1_SHA512)?,
        PS256 => rsa(&sig::RSA_PSS_SHA256)?,
        PS384 => rsa(&sig::RSA_PSS_SHA384)?,
        PS512 => rsa(&sig::RSA_PSS_SHA512)?,
        ES256 => ecdsa(&sig::ECDSA_P256_SHA256_FIXED_SIGNING)?,
        ES384 => ecdsa(&sig::ECDSA_P384_SHA384_FIXED_SIGNING)?,
        EdDSA => SigningKey::Ed(
            sig::Ed25519KeyPair::from_pkcs8(bytes).map_err(|_| ErrorKind::InvalidEddsaKey)?,
        ),
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(Box::new(RingSigner {
        algorithm: *algorithm,
        key,
    }))
}

impl signature::Signer<Vec<u8>> for RingSigner {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let rng = SystemRandom::new();
        match &self.key {
            SigningKey::Hmac(key) => Ok(hmac::sign(key, msg).as_ref().to_vec()),
            SigningKey::Rsa(pair, encoding) => {
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(*encoding, &rng, msg, &mut out)
                    .map_err(signature::Error::from_source)?;
                Ok(out)
            }
            SigningKey::Ecdsa(pair) => pair
                .sign(&rng, msg)
                .map(|s| s.as_ref().to_vec())
                .map_err(signature::Error::from_source),
            SigningKey::Ed(pair) => Ok(pair.sign(msg).as_ref().to_vec()),
        }
    }
}

impl JwtSigner for RingSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn rsa_pub_components_from_private_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let pair =
        sig::RsaKeyPair::from_der(der).map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?;
    let components = sig::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
    Ok((components.n, components.e))
}

fn rsa_pub_components_from_public_key(_der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    Err(ErrorKind::InvalidRsaKey("ring cannot read an RSA public key's components".into()).into())
}

fn ec_pub_components_from_private_key(
    der: &[u8],
    algorithm: Algorithm,
) -> Result<(EllipticCurve, Vec<u8>, Vec<u8>)> {
    let (signing, curve, width) = match algorithm {
        Algorithm::ES256 => (
            &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
            EllipticCurve::P256,
            32,
        ),
        Algorithm::ES384 => (
            &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
            EllipticCurve::P384,
            48,
        ),
        _ => return Err(ErrorKind::InvalidEcdsaKey.into()),
    };
    let pair = sig::EcdsaKeyPair::from_pkcs8(signing, der, &SystemRandom::new())
        .map_err(|_| ErrorKind::InvalidEcdsaKey)?;
    // An uncompressed point: 0x04, x, y.
    match pair.public_key().as_ref().split_first() {
        Some((4, point)) if point.len() == 2 * width => {
            let (x, y) = point.split_at(width);
            Ok((curve, x.to_vec(), y.to_vec()))
        }
        _ => Err(ErrorKind::InvalidEcdsaKey.into()),
    }
}

fn ed_pub_components_from_private_key(der: &[u8], curve: &EllipticCurve) -> Result<Vec<u8>> {
    match curve {
        EllipticCurve::Ed25519 => Ok(sig::Ed25519KeyPair::from_pkcs8(der)
            .map_err(|_| ErrorKind::InvalidEddsaKey)?
            .public_key()
            .as_ref()
            .to_vec()),
        _ => Err(ErrorKind::InvalidAlgorithm.into()),
    }
}

fn compute_digest(data: &[u8], hash: ThumbprintHash) -> Result<Vec<u8>> {
    let algorithm = match hash {
        ThumbprintHash::SHA256 => &digest::SHA256,
        ThumbprintHash::SHA384 => &digest::SHA384,
        ThumbprintHash::SHA512 => &digest::SHA512,
        _ => return Err(ErrorKind::InvalidAlgorithm.into()),
    };
    Ok(digest::digest(algorithm, data).as_ref().to_vec())
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{Header, Validation, decode, encode};
    use ring::rand::SystemRandom;
    use ring::signature::{self as sig, KeyPair};
    use serde_json::{Value, json};

    use super::*;

    fn claims() -> Value {
        json!({"sub": "user_1", "exp": jsonwebtoken::get_current_timestamp() + 60})
    }

    fn round_trip(algorithm: Algorithm, signing: &EncodingKey, verifying: &DecodingKey) {
        install();
        let token = encode(&Header::new(algorithm), &claims(), signing).unwrap();
        let data = decode::<Value>(&token, verifying, &Validation::new(algorithm)).unwrap();
        assert_eq!(data.claims["sub"], "user_1");
        // One changed byte in the signature (not its last character, whose low bits may be
        // padding) is refused.
        let mut forged = token.into_bytes();
        let at = forged.len() - 8;
        forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(forged).unwrap();
        assert!(decode::<Value>(&forged, verifying, &Validation::new(algorithm)).is_err());
    }

    #[test]
    fn ecdsa_tokens_round_trip_and_a_forged_one_is_refused() {
        let rng = SystemRandom::new();
        for (algorithm, signing) in [
            (Algorithm::ES256, &sig::ECDSA_P256_SHA256_FIXED_SIGNING),
            (Algorithm::ES384, &sig::ECDSA_P384_SHA384_FIXED_SIGNING),
        ] {
            let pkcs8 = sig::EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
            let pair = sig::EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).unwrap();
            let point = pair.public_key().as_ref();
            let width = (point.len() - 1) / 2;
            let verifying = DecodingKey::from_ec_components(
                &base64_url(&point[1..=width]),
                &base64_url(&point[1 + width..]),
            )
            .unwrap();
            round_trip(
                algorithm,
                &EncodingKey::from_ec_der(pkcs8.as_ref()),
                &verifying,
            );
            let (curve, x, _) =
                ec_pub_components_from_private_key(pkcs8.as_ref(), algorithm).unwrap();
            assert_eq!(x, point[1..=width]);
            assert!(matches!(curve, EllipticCurve::P256 | EllipticCurve::P384));
        }
    }

    #[test]
    fn eddsa_and_hmac_tokens_round_trip() {
        let pkcs8 = sig::Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = sig::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        round_trip(
            Algorithm::EdDSA,
            &EncodingKey::from_ed_der(pkcs8.as_ref()),
            &DecodingKey::from_ed_der(pair.public_key().as_ref()),
        );
        let secret = b"a shared secret of enough length";
        round_trip(
            Algorithm::HS256,
            &EncodingKey::from_secret(secret).unwrap(),
            &DecodingKey::from_secret(secret).unwrap(),
        );
    }

    #[test]
    fn a_key_of_another_family_is_refused() {
        install();
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(b"secret").unwrap(),
        )
        .unwrap();
        // An HMAC token checked against an EC key (the "alg confusion" attack) fails.
        let ec =
            DecodingKey::from_ec_components(&base64_url(&[1; 32]), &base64_url(&[2; 32])).unwrap();
        assert!(decode::<Value>(&token, &ec, &Validation::new(Algorithm::HS256)).is_err());
        assert!(decode::<Value>(&token, &ec, &Validation::new(Algorithm::ES256)).is_err());
        // And the provider itself, whatever jsonwebtoken checks before it: no verifier or
        // signer for a key of another family.
        assert!(new_verifier(&Algorithm::HS256, &ec).is_err());
        let hmac = EncodingKey::from_secret(b"secret").unwrap();
        assert!(new_signer(&Algorithm::ES256, &hmac).is_err());
    }

    fn base64_url(bytes: &[u8]) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }
}
