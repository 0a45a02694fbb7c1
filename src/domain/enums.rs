//! Closed sets of values (roles, statuses, priorities). Each parses case-insensitively at the
//! edge (`todo`, `TODO` and `in-progress` all work), is stored and shown upper-case, and is
//! matched as an enum everywhere else.

use super::FieldError;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, utoipa::ToSchema)]
        pub enum $name { $(#[schema(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Case-insensitive; `-` and space count as `_`.
            pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
                let wanted = input.trim().to_ascii_uppercase().replace(['-', ' '], "_");
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == wanted)
                    .ok_or_else(|| {
                        let allowed: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        FieldError::new(field, format!("must be one of {}", allowed.join(", ")))
                    })
            }

            /// For values read back from the database, which only ever holds valid ones.
            pub fn from_db(s: &str) -> Self {
                Self::parse("", s).unwrap_or_else(|_| panic!("invalid {} in database: {s:?}", stringify!($name)))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        // Stored as its text, so rows carry the enum from the database up.
        impl sqlx::Type<sqlx::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <str as sqlx::Type<sqlx::Any>>::type_info()
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Any> for $name {
            fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
                Self::parse("", text).map_err(|_| {
                    format!("invalid {} in database: {text:?}", stringify!($name)).into()
                })
            }
        }

        impl sqlx::Encode<'_, sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'_, sqlx::Any>>::encode(self.as_str(), buf)
            }
        }
    };
}

string_enum!(
    /// A member's built-in role in a workspace, from most to least powerful.
    WorkspaceRole { Owner => "OWNER", Admin => "ADMIN", Member => "MEMBER", Viewer => "VIEWER" }
);

string_enum!(ProjectStatus {
    Planning => "PLANNING",
    Active => "ACTIVE",
    OnHold => "ON_HOLD",
    Completed => "COMPLETED",
    Cancelled => "CANCELLED",
});

impl ProjectStatus {
    /// Seed 002 sends `IN_PROGRESS` as a project status, which is not one of ours: its adapter
    /// reads it (in any case, with `-` or a space for `_`) as `ACTIVE`.
    pub fn seed002_alias(input: &str) -> Option<Self> {
        let wanted = input.trim().to_ascii_uppercase().replace(['-', ' '], "_");
        (wanted == "IN_PROGRESS").then_some(Self::Active)
    }
}

string_enum!(Priority { Low => "LOW", Medium => "MEDIUM", High => "HIGH" });

string_enum!(TaskStatus { Todo => "TODO", InProgress => "IN_PROGRESS", Done => "DONE" });

string_enum!(TaskType {
    Task => "TASK",
    Bug => "BUG",
    Feature => "FEATURE",
    Improvement => "IMPROVEMENT",
    Other => "OTHER",
});

string_enum!(
    /// How one task relates to another, read from the first. `BLOCKED_BY` and `DUPLICATED_BY`
    /// are `BLOCKS` and `DUPLICATES` seen from the other end, and are stored that way.
    RelationKind {
        Blocks => "BLOCKS",
        BlockedBy => "BLOCKED_BY",
        RelatesTo => "RELATES_TO",
        Duplicates => "DUPLICATES",
        DuplicatedBy => "DUPLICATED_BY",
    }
);

impl RelationKind {
    /// The stored form: `(kind, swapped)` — the other end's kind and whether the two tasks
    /// trade places.
    pub fn stored(self) -> (Self, bool) {
        match self {
            Self::BlockedBy => (Self::Blocks, true),
            Self::DuplicatedBy => (Self::Duplicates, true),
            k => (k, false),
        }
    }

    /// The kind as the related task sees it.
    pub fn inverse(self) -> Self {
        match self {
            Self::Blocks => Self::BlockedBy,
            Self::BlockedBy => Self::Blocks,
            Self::Duplicates => Self::DuplicatedBy,
            Self::DuplicatedBy => Self::Duplicates,
            Self::RelatesTo => Self::RelatesTo,
        }
    }
}

string_enum!(InvitationStatus {
    Pending => "PENDING",
    Accepted => "ACCEPTED",
    Rejected => "REJECTED",
    Revoked => "REVOKED",
    Expired => "EXPIRED",
});

impl WorkspaceRole {
    /// Higher is more powerful; an admin may grant up to its own rank, never above.
    pub fn rank(self) -> u8 {
        match self {
            Self::Owner => 3,
            Self::Admin => 2,
            Self::Member => 1,
            Self::Viewer => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_names_the_choices() {
        assert_eq!(
            TaskStatus::parse("status", "todo").unwrap(),
            TaskStatus::Todo
        );
        assert_eq!(
            TaskStatus::parse("status", "In-Progress").unwrap(),
            TaskStatus::InProgress
        );
        assert_eq!(
            ProjectStatus::parse("status", "on hold").unwrap(),
            ProjectStatus::OnHold
        );
        let err = TaskStatus::parse("status", "finished").unwrap_err();
        assert_eq!(err.field, "status");
        assert!(err.message.contains("TODO, IN_PROGRESS, DONE"));
        assert_eq!(
            serde_json::to_string(&WorkspaceRole::Admin).unwrap(),
            "\"ADMIN\""
        );
    }

    #[test]
    fn every_variant_round_trips() {
        for v in TaskType::ALL {
            assert_eq!(TaskType::parse("t", v.as_str()).unwrap(), *v);
            assert_eq!(TaskType::from_db(v.as_str()), *v);
        }
    }
}
