//! Where a job is in its life. Stored lower-case; `scheduled` is no stored state but a view of
//! a queued job whose `run_at` is still ahead.

use super::FieldError;

/// A job's stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Dead,
    Cancelled,
}

impl JobState {
    pub const ALL: &'static [JobState] = &[
        Self::Queued,
        Self::Running,
        Self::Succeeded,
        Self::Dead,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Dead => "dead",
            Self::Cancelled => "cancelled",
        }
    }
}

/// A state as operators ask for and see it: a stored state, or `scheduled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Scheduled,
    Running,
    Succeeded,
    Dead,
    Cancelled,
}

impl JobStatus {
    const ALL: &'static [JobStatus] = &[
        Self::Queued,
        Self::Scheduled,
        Self::Running,
        Self::Succeeded,
        Self::Dead,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Queued => JobState::Queued.as_str(),
            Self::Running => JobState::Running.as_str(),
            Self::Succeeded => JobState::Succeeded.as_str(),
            Self::Dead => JobState::Dead.as_str(),
            Self::Cancelled => JobState::Cancelled.as_str(),
        }
    }

    pub fn parse(field: &str, input: &str) -> Result<Self, FieldError> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == input)
            .ok_or_else(|| {
                let all: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                FieldError::new(field, format!("must be one of {}", all.join(", ")))
            })
    }

    /// The stored state it selects (`scheduled` jobs are stored as queued).
    pub fn stored(self) -> JobState {
        match self {
            Self::Queued | Self::Scheduled => JobState::Queued,
            Self::Running => JobState::Running,
            Self::Succeeded => JobState::Succeeded,
            Self::Dead => JobState::Dead,
            Self::Cancelled => JobState::Cancelled,
        }
    }

    /// How a stored job shows at `now`.
    pub fn of(state: JobState, run_at: i64, now: i64) -> Self {
        match state {
            JobState::Queued if run_at > now => Self::Scheduled,
            JobState::Queued => Self::Queued,
            JobState::Running => Self::Running,
            JobState::Succeeded => Self::Succeeded,
            JobState::Dead => Self::Dead,
            JobState::Cancelled => Self::Cancelled,
        }
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl sqlx::Type<sqlx::Any> for JobState {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <str as sqlx::Type<sqlx::Any>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, sqlx::Any> for JobState {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<'r, sqlx::Any>>::decode(value)?;
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| format!("invalid job state in database: {text:?}").into())
    }
}

impl sqlx::Encode<'_, sqlx::Any> for JobState {
    fn encode_by_ref(
        &self,
        buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <&str as sqlx::Encode<'_, sqlx::Any>>::encode(self.as_str(), buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_job_due_later_shows_as_scheduled() {
        assert_eq!(JobStatus::of(JobState::Queued, 10, 5), JobStatus::Scheduled);
        assert_eq!(JobStatus::of(JobState::Queued, 5, 5), JobStatus::Queued);
        assert_eq!(
            JobStatus::parse("state", "scheduled").unwrap().stored(),
            JobState::Queued
        );
        assert!(JobStatus::parse("state", "paused").is_err());
    }
}
