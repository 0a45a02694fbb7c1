//! Cursor pagination parameters shared by list routes. Cursors are opaque to clients.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::AppError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<u32, AppError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(AppError::validation("limit", "must be between 1 and 100")),
        }
    }

    /// The position to continue after, decoded from the cursor.
    pub fn after(&self) -> Result<Option<String>, AppError> {
        self.cursor
            .as_deref()
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| AppError::validation("cursor", "is not a valid cursor"))
            })
            .transpose()
    }
}

pub fn encode_cursor(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(position)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let p = PageParams {
            limit: Some(10),
            cursor: Some(encode_cursor("0190-abc")),
        };
        assert_eq!(p.after().unwrap().as_deref(), Some("0190-abc"));
        assert_eq!(p.limit().unwrap(), 10);
        let bad = PageParams {
            limit: Some(0),
            cursor: Some("***".into()),
        };
        assert!(bad.after().is_err());
        assert!(bad.limit().is_err());
    }
}
