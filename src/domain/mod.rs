//! Domain types: input becomes one of these at the edge, and their constructors are the only
//! place a rule lives.

pub mod api_key;
pub mod billing;
pub mod email;
pub mod enums;
pub mod event;
pub mod job;
pub mod job_state;
pub mod label;
pub mod password;
pub mod permission;
pub mod recurrence;
pub mod search_mode;
pub mod secret_token;
pub mod task;
pub mod text;
pub mod two_factor;
pub mod user_name;
pub mod webhook;
pub mod workspace;

pub use api_key::{ApiKey, KeyKind};
pub use email::Email;
pub use password::Password;
pub use secret_token::SecretToken;
pub use user_name::UserName;

/// A rule an input broke, named by the field it came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Runs every field parser and collects all failures, so a client learns every mistake at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn field<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}
