//! Token buckets per destination. A destination may have several (Telegram:
//! one message a second per chat, 30 a second overall, 20 a minute in a
//! group); a message goes only when every bucket has a token. What does not
//! fit is suppressed (and counted), never queued up for later: a stale alert
//! delivered a minute late is worse than the count of those left out.
//!
//! Integer arithmetic in microseconds, so the result of a burst is exact.

use std::time::Duration;

/// `capacity` tokens, one more every `per_token`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketSpec {
    pub capacity: u32,
    pub per_token: Duration,
    /// For messages: "1/s per chat".
    pub label: &'static str,
}

impl BucketSpec {
    /// `n` messages per `period`, all usable at once.
    pub fn per(n: u32, period: Duration, label: &'static str) -> BucketSpec {
        let n = n.max(1);
        BucketSpec {
            capacity: n,
            per_token: period / n,
            label,
        }
    }
}

#[derive(Clone, Debug)]
struct Bucket {
    spec: BucketSpec,
    /// Credit in microseconds: `tokens × per_token`, capped.
    credit: u128,
    at: Duration,
}

impl Bucket {
    fn cap(&self) -> u128 {
        u128::from(self.spec.capacity) * self.spec.per_token.as_micros().max(1)
    }

    fn refill(&mut self, now: Duration) {
        if now > self.at {
            self.credit = (self.credit + (now - self.at).as_micros()).min(self.cap());
            self.at = now;
        }
    }

    fn has_token(&self) -> bool {
        self.credit >= self.spec.per_token.as_micros().max(1)
    }

    fn take(&mut self) {
        self.credit -= self.spec.per_token.as_micros().max(1);
    }
}

#[derive(Clone, Debug, Default)]
pub struct Limiter {
    buckets: Vec<Bucket>,
}

impl Limiter {
    pub fn new(specs: &[BucketSpec], now: Duration) -> Limiter {
        let buckets = specs
            .iter()
            .map(|spec| {
                let mut b = Bucket {
                    spec: *spec,
                    credit: 0,
                    at: now,
                };
                b.credit = b.cap();
                b
            })
            .collect();
        Limiter { buckets }
    }

    /// Takes a token from every bucket, or none: `Err` names the limit hit.
    pub fn try_take(&mut self, now: Duration) -> Result<(), &'static str> {
        for b in &mut self.buckets {
            b.refill(now);
        }
        if let Some(full) = self.buckets.iter().find(|b| !b.has_token()) {
            return Err(full.spec.label);
        }
        for b in &mut self.buckets {
            b.take();
        }
        Ok(())
    }

    pub fn specs(&self) -> Vec<BucketSpec> {
        self.buckets.iter().map(|b| b.spec).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_burst_gets_the_capacity_then_the_refill_rate() {
        let mut l = Limiter::new(
            &[BucketSpec::per(1, Duration::from_secs(1), "1/s per chat")],
            Duration::ZERO,
        );
        let mut sent = 0;
        let mut limited = 0;
        // 1,000 messages, one every 10 ms: 10 s.
        for k in 0..1000u32 {
            match l.try_take(MS * (10 * k)) {
                Ok(()) => sent += 1,
                Err(why) => {
                    assert_eq!(why, "1/s per chat");
                    limited += 1;
                }
            }
        }
        assert_eq!((sent, limited), (10, 990));
    }

    #[test]
    fn every_bucket_must_have_a_token() {
        let specs = [
            BucketSpec::per(1, Duration::from_secs(1), "1/s"),
            BucketSpec::per(20, Duration::from_secs(60), "20/min"),
        ];
        let mut l = Limiter::new(&specs, Duration::ZERO);
        let mut sent = 0;
        for s in 0..60u64 {
            if l.try_take(Duration::from_secs(s)).is_ok() {
                sent += 1;
            }
        }
        // 20 at once from the minute bucket, then 1 per 3 s refill of it.
        assert_eq!(sent, 20 + 59 / 3);
        assert!(l.try_take(Duration::from_secs(60)).is_ok());
    }
}
