//! The job queue's section: worker timings (`KANRI_JOB_*`).

use std::time::Duration;

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
