//! Pieces the benchmarks share (each bench is its own crate and includes this with
//! `mod support;`). Not every bench uses every piece.
#![allow(dead_code)]

use std::ops::{Deref, DerefMut};
use std::process::Child;

/// A number from the environment, or `default` when the variable is unset; a value that does
/// not parse stops the bench rather than measure something else.
pub fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, not {v:?}")),
        Err(_) => default,
    }
}

/// A server process that is killed and reaped when dropped, so a bench that fails half-way
/// leaves no server behind.
pub struct KilledOnDrop(pub Child);

impl Deref for KilledOnDrop {
    type Target = Child;

    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for KilledOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
