//! The time deliveries use: rate limits, breaker cool-offs and retry waits.
//! Injected, so tests drive it by hand (no test waits or depends on speed).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Monotonic time since some start.
    fn now(&self) -> Duration;
    fn sleep(&self, d: Duration) -> Sleep;
}

/// Tokio's clock.
#[derive(Debug)]
pub struct TokioClock {
    start: tokio::time::Instant,
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock that moves only when told to, or by the sleeps asked of it
/// (which return at once and are recorded).
#[derive(Debug, Default, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<Duration>>,
    slept: Arc<Mutex<Vec<Duration>>>,
}

impl ManualClock {
    pub fn advance(&self, d: Duration) {
        if let Ok(mut n) = self.now.lock() {
            *n += d;
        }
    }

    pub fn set(&self, t: Duration) {
        if let Ok(mut n) = self.now.lock() {
            *n = t;
        }
    }

    /// The sleeps asked for so far.
    pub fn slept(&self) -> Vec<Duration> {
        self.slept.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.now.lock().map(|n| *n).unwrap_or_default()
    }

    fn sleep(&self, d: Duration) -> Sleep {
        if let Ok(mut s) = self.slept.lock() {
            s.push(d);
        }
        self.advance(d);
        Box::pin(std::future::ready(()))
    }
}
