//! Runs password hashing on the blocking pool, a bounded number at a time: argon2id takes
//! ~19 MiB and tens of milliseconds per call, so an unbounded burst of sign-ins would exhaust
//! memory and starve the runtime.

use tokio::sync::Semaphore;

use crate::domain::Password;
use crate::domain::password::{self, Verification};
use crate::error::{AppError, AppResult};

#[derive(Debug)]
pub struct Passwords {
    permits: Semaphore,
}

impl Default for Passwords {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            permits: Semaphore::new(cores * 2),
        }
    }
}

impl Passwords {
    pub async fn hash(&self, password: Password) -> AppResult<String> {
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::from)?;
        tokio::task::spawn_blocking(move || password::hash(&password))
            .await
            .map_err(anyhow::Error::from)?
            .map_err(AppError::Internal)
    }

    /// Verifies against `stored`, or spends equal time on a dummy hash when there is none.
    pub async fn verify(
        &self,
        password: Password,
        stored: Option<String>,
    ) -> AppResult<Verification> {
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::from)?;
        let outcome = tokio::task::spawn_blocking(move || match stored {
            Some(stored) => password::verify(&password, &stored),
            None => {
                password::verify_dummy(&password);
                Verification::Mismatch
            }
        })
        .await
        .map_err(anyhow::Error::from)?;
        Ok(outcome)
    }
}
