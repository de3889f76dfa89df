//! A token bucket per connection: chat frames beyond the rate are refused, not queued.

use std::time::Instant;

#[derive(Debug)]
pub struct RateLimit {
    per_second: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    pub fn new(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_second),
            burst: f64::from(burst),
            tokens: f64::from(burst),
            at: Instant::now(),
        }
    }

    /// Takes a token if one is there.
    pub fn allow(&mut self) -> bool {
        self.allow_at(Instant::now())
    }

    fn allow_at(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_holds() {
        let mut limit = RateLimit::new(10, 3);
        let t0 = limit.at;
        assert!((0..3).all(|_| limit.allow_at(t0)));
        assert!(!limit.allow_at(t0));
        assert!(
            limit.allow_at(t0 + Duration::from_millis(100)),
            "one token per 100 ms"
        );
        assert!(!limit.allow_at(t0 + Duration::from_millis(150)));
    }
}
