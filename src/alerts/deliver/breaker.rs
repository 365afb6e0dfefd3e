//! A circuit breaker per destination: after `failures` failed attempts in a
//! row it opens, and deliveries are suppressed (not tried) until `cool_off`
//! has passed; then one probe goes through (half-open). The probe's success
//! closes it; its failure opens it for another cool-off.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    /// Since when.
    Open(Duration),
    /// A probe is out.
    HalfOpen,
}

#[derive(Clone, Debug)]
pub struct Breaker {
    pub failures: u32,
    pub cool_off: Duration,
    state: BreakerState,
    in_a_row: u32,
}

impl Breaker {
    pub fn new(failures: u32, cool_off: Duration) -> Breaker {
        Breaker {
            failures: failures.max(1),
            cool_off,
            state: BreakerState::Closed,
            in_a_row: 0,
        }
    }

    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// May an attempt go now? `Err` says why not. Taking the half-open
    /// probe is part of asking.
    pub fn allow(&mut self, now: Duration) -> Result<(), String> {
        match self.state {
            BreakerState::Closed => Ok(()),
            BreakerState::HalfOpen => Err("circuit half-open: waiting for the probe".into()),
            BreakerState::Open(since) => {
                let wait = (since + self.cool_off).saturating_sub(now);
                if wait.is_zero() {
                    self.state = BreakerState::HalfOpen;
                    Ok(())
                } else {
                    Err(format!(
                        "circuit open after {} failures in a row (probe in {} s)",
                        self.in_a_row,
                        wait.as_secs_f64().ceil()
                    ))
                }
            }
        }
    }

    pub fn success(&mut self) {
        self.state = BreakerState::Closed;
        self.in_a_row = 0;
    }

    /// A failed attempt; true when this opened the breaker.
    pub fn failure(&mut self, now: Duration) -> bool {
        self.in_a_row = self.in_a_row.saturating_add(1);
        let open = matches!(self.state, BreakerState::HalfOpen)
            || (matches!(self.state, BreakerState::Closed) && self.in_a_row >= self.failures);
        if open {
            self.state = BreakerState::Open(now);
        }
        open
    }

    pub fn label(&self) -> &'static str {
        match self.state {
            BreakerState::Closed => "closed",
            BreakerState::Open(_) => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn opens_after_n_failures_and_probes_after_the_cool_off() {
        let mut b = Breaker::new(3, 30 * S);
        assert!(!b.failure(S));
        b.success();
        assert!(!b.failure(S));
        assert!(!b.failure(S));
        assert!(b.allow(S).is_ok());
        assert!(b.failure(2 * S), "third in a row");
        let why = b.allow(10 * S).unwrap_err();
        assert!(why.contains("open after 3 failures"), "{why}");
        assert!(why.contains("probe in 22 s"), "{why}");
        // Half-open: one probe, the others wait for it.
        assert!(b.allow(32 * S).is_ok());
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.allow(32 * S).is_err());
        assert!(b.failure(33 * S), "a failed probe reopens");
        assert!(b.allow(40 * S).is_err());
        assert!(b.allow(63 * S).is_ok());
        b.success();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.allow(63 * S).is_ok());
    }
}
