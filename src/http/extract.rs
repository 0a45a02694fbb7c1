//! Axum's extractors with our rejection, so a bad body, query or path gets the envelope, and
//! with the input rules every v1 request meets here, once:
//! - a body field the type does not know is a 422 naming it (all of them, by path), where
//!   serde would silently drop it;
//! - a control character other than tab, newline and carriage return in any body string (key
//!   or value), query parameter or path parameter is a 422 (`domain::text`'s rule).
//!
//! Seed routes take `LenientJson`: their seeds ignored unknown fields, so they still do; the
//! control-character rule holds for them too (refused, never stored, never a 500).

use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use bytes::Bytes;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess};
use serde::{Deserialize, de::Visitor};

use super::error::ApiError;
use crate::domain::{FieldError, text};
use crate::error::AppError;

const UNKNOWN_FIELD: &str = "is not a known field";

/// A v1 JSON body: unknown fields and control characters refused (see the module doc).
#[derive(Debug)]
pub struct Json<T>(pub T);

/// A seed's JSON body: unknown fields ignored, as the seed did; control characters refused.
#[derive(Debug)]
pub struct LenientJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        read_json(req, state, true).await.map(Self)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for LenientJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        read_json(req, state, false).await.map(Self)
    }
}

async fn read_json<T: DeserializeOwned, S: Send + Sync>(
    req: Request,
    state: &S,
    strict: bool,
) -> Result<T, ApiError> {
    use axum::extract::rejection::JsonRejection;
    if !is_json(req.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|e| ApiError::from(JsonRejection::from(e)))?;
    // axum's own parsing, so syntax and shape errors read as before.
    let axum::Json(Collected { value, unknown }) = axum::Json::<Collected<T>>::from_bytes(&bytes)?;
    let mut errors = Vec::new();
    if strict {
        errors.extend(unknown.iter().map(|p| FieldError::new(p, UNKNOWN_FIELD)));
    }
    if may_hold_refused(&bytes) {
        errors.extend(
            refused_strings(&bytes)
                .iter()
                .map(|p| FieldError::new(p, text::REFUSED)),
        );
    }
    if errors.is_empty() {
        Ok(value)
    } else {
        Err(AppError::Validation(errors).into())
    }
}

/// `application/json` or any `application/*+json`, parameters allowed (axum's test).
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.split_once('/') {
        Some(("application", sub)) => sub == "json" || sub.ends_with("+json"),
        _ => false,
    }
}

/// `T` and the dotted paths of the fields it ignored (`serde_ignored`).
struct Collected<T> {
    value: T,
    unknown: Vec<String>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Collected<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut unknown = Vec::new();
        let value = serde_ignored::deserialize(deserializer, |path| unknown.push(dotted(&path)))?;
        Ok(Self { value, unknown })
    }
}

/// `limits.projectz`, `items.0.name`: map keys and indices, with `Option` layers left out.
fn dotted(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path as P;
    match path {
        P::Root => String::new(),
        P::Seq { parent, index } => join(&dotted(parent), &index.to_string()),
        P::Map { parent, key } => join(&dotted(parent), key),
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
            dotted(parent)
        }
    }
}

fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_string()
    } else {
        format!("{parent}.{child}")
    }
}

/// Whether a valid JSON document can hold a refused character at all, so the path scan runs
/// only for the few bodies that might: JSON forbids raw C0 controls in strings, so they come
/// only as `\u` escapes; DEL is the byte 0x7F and C1 controls are 0xC2 0x80–0x9F in UTF-8.
fn may_hold_refused(bytes: &[u8]) -> bool {
    bytes.contains(&0x7f)
        || bytes
            .windows(2)
            .any(|w| w == b"\\u" || (w[0] == 0xc2 && (0x80..=0x9f).contains(&w[1])))
}

/// The paths of every string (object keys too) in a valid JSON document that breaks the
/// text rule; a second, allocation-light pass over the bytes.
fn refused_strings(bytes: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    // The document already parsed once, so this cannot fail.
    let _ = Scan {
        path: String::new(),
        found: &mut found,
    }
    .deserialize(&mut de);
    found
}

struct Scan<'a> {
    path: String,
    found: &'a mut Vec<String>,
}

impl Scan<'_> {
    fn named(&self) -> String {
        if self.path.is_empty() {
            "body".into()
        } else {
            self.path.clone()
        }
    }
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        if text::has_refused(s) {
            self.found.push(self.named());
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let path = join(&self.path, &index.to_string());
            let scan = Scan {
                path,
                found: &mut *self.found,
            };
            if seq.next_element_seed(scan)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let path = join(&self.path, &printable(&key));
            if text::has_refused(&key) {
                self.found.push(path.clone());
            }
            map.next_value_seed(Scan {
                path,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }
}

/// A query string: every parameter (name and value, after percent-decoding) meets the text
/// rule, then axum's `Query` reads it.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Some(query) = parts.uri.query() {
            check_params(url::form_urlencoded::parse(query.as_bytes()))?;
        }
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// Path parameters: each (percent-decoded) meets the text rule, then axum's `Path` reads them.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::InvalidPath(e.body_text()))?;
        check_params(raw.iter())?;
        let axum::extract::Path(value) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// A name fit to echo in `details`: refused characters shown as U+FFFD.
fn printable(name: &str) -> String {
    name.replace(text::is_refused, "\u{fffd}")
}

fn check_params<K: AsRef<str>, V: AsRef<str>>(
    params: impl Iterator<Item = (K, V)>,
) -> Result<(), ApiError> {
    let errors: Vec<FieldError> = params
        .filter(|(k, v)| text::has_refused(k.as_ref()) || text::has_refused(v.as_ref()))
        .map(|(k, _)| FieldError::new(&printable(k.as_ref()), text::REFUSED))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors).into())
    }
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
/// Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}
