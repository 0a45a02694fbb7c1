//! The jobs section: workers in `kanri serve`, queue timings (`KANRI_JOB_*`), reminder lead.

use std::time::Duration;

use super::load::RawConfig;
use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Job workers inside `kanri serve`; 0 runs none (use `kanri worker` processes).
    pub workers: usize,
    pub queue: QueueSettings,
    /// How long before a task's due date its reminder goes out (0: at the due time).
    pub reminder_lead: Duration,
}

/// Timing of the queue's workers.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    pub lease: Duration,
    /// Fallback polling when no wake-up arrives.
    pub poll: Duration,
    /// How long running jobs get to finish at shutdown before they are released.
    pub shutdown_grace: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl JobsConfig {
    pub(super) fn from_raw(raw: &RawConfig) -> Result<Self, ConfigError> {
        if raw.workers > 256 {
            return Err(invalid("KANRI_WORKERS", "must be at most 256"));
        }
        if raw.job_lease_secs < 2 {
            return Err(invalid("KANRI_JOB_LEASE_SECS", "must be at least 2"));
        }
        if raw.job_poll_ms < 10 {
            return Err(invalid("KANRI_JOB_POLL_MS", "must be at least 10"));
        }
        Ok(Self {
            workers: raw.workers,
            queue: QueueSettings {
                lease: Duration::from_secs(raw.job_lease_secs),
                poll: Duration::from_millis(raw.job_poll_ms),
                shutdown_grace: Duration::from_secs(raw.job_shutdown_grace_secs),
            },
            reminder_lead: Duration::from_secs(raw.reminder_lead_secs),
        })
    }
}
