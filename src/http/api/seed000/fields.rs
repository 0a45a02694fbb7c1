//! How seed 000 writes a task's fields: `dueDate` as epoch milliseconds or a time/date string,
//! and the attachment as inline base64.

use serde_json::Value;

use crate::clock::{parse_time, to_rfc3339};
use crate::domain::FieldError;
use crate::error::{AppError, AppResult};
use crate::http::api::attachments::UploadFailure;

/// `dueDate` is a number or a string.
pub fn due_date_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([
            Type::Integer,
            Type::String,
            Type::Null,
        ]))
        .description(Some(
            "Epoch milliseconds, an RFC 3339 time or a `YYYY-MM-DD` date.",
        ))
        .build()
}

/// The seed's `dueDate`: epoch milliseconds or a time/date string, as the RFC 3339 text the
/// task service reads.
pub fn due_date(value: Option<&Value>) -> AppResult<Option<String>> {
    let invalid = || {
        AppError::from(FieldError::new(
            "dueDate",
            "must be epoch milliseconds, an RFC 3339 time or a YYYY-MM-DD date",
        ))
    };
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let ms = n.as_i64().ok_or_else(invalid)?;
            chrono::DateTime::from_timestamp_millis(ms).ok_or_else(invalid)?;
            Ok(Some(to_rfc3339(ms)))
        }
        Some(Value::String(s)) => {
            let ms = parse_time("dueDate", s)?;
            Ok(Some(to_rfc3339(ms)))
        }
        Some(_) => Err(invalid()),
    }
}

/// The bytes of the seed's `file_base64` (a `data:` URL prefix is allowed), or 413 past
/// `limit`, checked on the encoded length before decoding.
pub fn seed_file(data: &str, limit: u64) -> Result<bytes::Bytes, UploadFailure> {
    use base64::Engine;
    let data = match data.split_once(";base64,") {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => data,
    };
    let data: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if data.len() as u64 / 4 * 3 > limit + 3 {
        return Err(UploadFailure::TooLarge(limit));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|_| {
            AppError::from(FieldError::new(
                "attachment.file_base64",
                "is not valid base64",
            ))
        })?;
    if bytes.len() as u64 > limit {
        return Err(UploadFailure::TooLarge(limit));
    }
    Ok(bytes.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_dates_take_numbers_and_strings() {
        let ms = 1_769_878_800_000_i64;
        assert_eq!(
            due_date(Some(&Value::from(ms))).unwrap().as_deref(),
            Some("2026-01-31T17:00:00.000Z")
        );
        assert_eq!(
            due_date(Some(&Value::from("2026-01-31")))
                .unwrap()
                .as_deref(),
            Some("2026-01-31T00:00:00.000Z")
        );
        assert_eq!(due_date(Some(&Value::Null)).unwrap(), None);
        assert_eq!(due_date(None).unwrap(), None);
        for bad in [Value::from(1.5), Value::from(true), Value::from("soon")] {
            assert!(due_date(Some(&bad)).is_err(), "{bad}");
        }
    }
}
