//! The response envelope: `{"success":true,"data":…}` and
//! `{"success":false,"message":…,"code":…,"request_id":…,"details":[…]}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use super::request_id::current_request_id;
use crate::domain::FieldError;

/// A successful response: the data wrapped in the envelope, with a status.
#[derive(Debug)]
pub struct Envelope<T> {
    status: StatusCode,
    data: T,
}

impl<T: Serialize> Envelope<T> {
    pub fn ok(data: T) -> Self {
        Self {
            status: StatusCode::OK,
            data,
        }
    }

    pub fn created(data: T) -> Self {
        Self {
            status: StatusCode::CREATED,
            data,
        }
    }
}

impl<T: Serialize> IntoResponse for Envelope<T> {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"success": true, "data": self.data})),
        )
            .into_response()
    }
}

pub fn error_body(code: &str, message: &str, details: &[FieldError]) -> Json<Value> {
    let mut body = json!({
        "success": false,
        "message": message,
        "code": code,
        "request_id": current_request_id(),
    });
    if !details.is_empty() {
        body["details"] = json!(details);
    }
    Json(body)
}

/// The OpenAPI shape of an error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub success: bool,
    pub message: String,
    pub code: String,
    pub request_id: String,
    pub details: Option<Vec<FieldError>>,
}
