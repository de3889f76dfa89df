//! Open-loop load: messages are scheduled at a fixed offered rate with jitter, on a thread of
//! their own that never waits for the system, and each delivery's latency is measured from
//! its *scheduled* time. A system that falls behind delays the measurement, never the
//! schedule, so there is no coordinated omission.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::Rng;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

use crate::client::{Out, Sink};

/// Collects the deliveries whose scheduled time falls in the measured window.
#[derive(Debug)]
pub struct Recorder {
    base: Instant,
    state: Mutex<Window>,
    /// Every delivery, warm-up included (the CPU figures divide by this).
    all: AtomicU64,
    reordered: AtomicU64,
}

#[derive(Debug)]
struct Window {
    from_ns: u64,
    to_ns: u64,
    hist: Histogram<u64>,
}

impl Recorder {
    pub fn new(base: Instant) -> Arc<Self> {
        Arc::new(Self {
            base,
            state: Mutex::new(Window {
                from_ns: u64::MAX,
                to_ns: 0,
                hist: new_hist(),
            }),
            all: AtomicU64::new(0),
            reordered: AtomicU64::new(0),
        })
    }

    fn reset(&self, from_ns: u64, to_ns: u64) {
        if let Ok(mut w) = self.state.lock() {
            *w = Window {
                from_ns,
                to_ns,
                hist: new_hist(),
            };
        }
        self.all.store(0, Ordering::Relaxed);
        self.reordered.store(0, Ordering::Relaxed);
    }

    fn snapshot(&self) -> Histogram<u64> {
        self.state
            .lock()
            .map(|w| w.hist.clone())
            .unwrap_or_else(|_| new_hist())
    }

    /// The clock base: recorders sharing one compare scheduled times directly.
    pub fn base(&self) -> Instant {
        self.base
    }

    pub fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

fn new_hist() -> Histogram<u64> {
    // Microseconds, 1 µs to 100 s, 3 significant digits: these bounds are valid.
    #[allow(clippy::unwrap_used)]
    Histogram::new_with_bounds(1, 100_000_000, 3).unwrap()
}

impl Sink for Recorder {
    fn delivered(&self, scheduled_ns: u64) {
        let now = self.now_ns();
        self.all.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut w) = self.state.lock()
            && scheduled_ns >= w.from_ns
            && scheduled_ns < w.to_ns
        {
            let micros = now.saturating_sub(scheduled_ns) / 1000;
            w.hist.saturating_record(micros.max(1));
        }
    }

    fn reordered(&self) {
        self.reordered.fetch_add(1, Ordering::Relaxed);
    }
}

/// What one run at one offered rate saw.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// Offered messages per second.
    pub rate: u64,
    pub seconds: f64,
    /// Messages scheduled in the measured window.
    pub sent: u64,
    /// Deliveries expected from them (messages × receivers each).
    pub expected: u64,
    pub delivered: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// CPU seconds of the two servers, of Redis, and of this generator over the whole run.
    pub server_cpu_s: f64,
    pub redis_cpu_s: f64,
    pub client_cpu_s: f64,
    /// CPU seconds the rest of the machine used meanwhile (other people's builds): the
    /// noise in these figures.
    pub others_cpu_s: f64,
    /// Deliveries over the whole run (warm-up included), for CPU per message.
    pub all_delivered: u64,
    /// Deliveries that came after a later-scheduled one on the same connection.
    pub reordered: u64,
    /// Connections the servers closed during the run (slow consumers, say).
    pub dropped: u64,
}

impl RunResult {
    pub fn lost(&self) -> u64 {
        self.expected.saturating_sub(self.delivered)
    }
    /// Lost more than 0.1% or p99 at or over 100 ms.
    pub fn saturated(&self) -> bool {
        self.p99_ms >= 100.0 || self.lost() * 1000 > self.expected
    }
    pub fn server_cpu_per_million(&self) -> f64 {
        per_million(self.server_cpu_s, self.all_delivered)
    }
    pub fn redis_cpu_per_million(&self) -> f64 {
        per_million(self.redis_cpu_s, self.all_delivered)
    }
}

fn per_million(cpu: f64, n: u64) -> f64 {
    if n == 0 {
        f64::NAN
    } else {
        cpu / n as f64 * 1e6
    }
}

/// Timing of one run.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub warmup: Duration,
    pub measure: Duration,
    /// Longest wait for late deliveries after the last send.
    pub drain: Duration,
}

/// Runs `rate` messages per second, spread round-robin over `senders`, each delivered to
/// `receivers_each` receivers that report to `recorder`. `cpu` reads (servers, Redis) CPU
/// seconds.
pub async fn run(
    recorder: &Arc<Recorder>,
    senders: &[UnboundedSender<Out>],
    receivers_each: u64,
    rate: u64,
    timing: Timing,
    cpu: &dyn Fn() -> (f64, f64),
) -> RunResult {
    let start_ns = recorder.now_ns() + 50_000_000;
    let from_ns = start_ns + timing.warmup.as_nanos() as u64;
    let to_ns = from_ns + timing.measure.as_nanos() as u64;
    recorder.reset(from_ns, to_ns);
    let (server0, redis0) = cpu();
    let client0 = crate::systems::cpu_seconds(std::process::id());
    let machine0 = crate::systems::machine_busy_seconds();
    let dropped0 = crate::client::dropped();

    let base = recorder.base;
    let senders = senders.to_vec();
    let schedule =
        std::thread::spawn(move || schedule(base, &senders, rate, start_ns, to_ns, from_ns));
    let sent = tokio::task::spawn_blocking(move || schedule.join().unwrap_or(0))
        .await
        .unwrap_or(0);
    let expected = sent * receivers_each;

    // Wait for the stragglers: until all arrived, nothing arrived for a second, or the
    // drain limit.
    let deadline = Instant::now() + timing.drain;
    let mut last = (recorder.all.load(Ordering::Relaxed), Instant::now());
    loop {
        let hist = recorder.snapshot();
        if hist.len() >= expected || Instant::now() > deadline {
            break;
        }
        let all = recorder.all.load(Ordering::Relaxed);
        if all != last.0 {
            last = (all, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (server1, redis1) = cpu();
    let client1 = crate::systems::cpu_seconds(std::process::id());
    let machine1 = crate::systems::machine_busy_seconds();
    let ours = (server1 - server0) + (redis1 - redis0) + (client1 - client0);
    let hist = recorder.snapshot();
    // No delivery at all: no percentile either (NaN, `null` in the JSON).
    let ms = |q: f64| {
        if hist.is_empty() {
            f64::NAN
        } else {
            hist.value_at_quantile(q) as f64 / 1000.0
        }
    };
    RunResult {
        rate,
        seconds: timing.measure.as_secs_f64(),
        sent,
        expected,
        delivered: hist.len(),
        p50_ms: ms(0.5),
        p99_ms: ms(0.99),
        p999_ms: ms(0.999),
        max_ms: ms(1.0),
        server_cpu_s: server1 - server0,
        redis_cpu_s: redis1 - redis0,
        client_cpu_s: client1 - client0,
        others_cpu_s: (machine1 - machine0 - ours).max(0.0),
        all_delivered: recorder.all.load(Ordering::Relaxed),
        reordered: recorder.reordered.load(Ordering::Relaxed),
        dropped: crate::client::dropped() - dropped0,
    }
}

/// Sends message k at `start + k/rate ± half an interval` (uniform jitter) until `to_ns`;
/// returns how many were scheduled in `[from_ns, to_ns)`.
fn schedule(
    base: Instant,
    senders: &[UnboundedSender<Out>],
    rate: u64,
    start_ns: u64,
    to_ns: u64,
    from_ns: u64,
) -> u64 {
    if senders.is_empty() || rate == 0 {
        return 0;
    }
    let interval = 1e9 / rate as f64;
    let mut rng = rand::rng();
    let mut in_window = 0;
    for k in 0u64.. {
        let jitter = rng.random_range(-0.5..0.5) * interval;
        let at = start_ns as f64 + k as f64 * interval + jitter;
        let at = at.max(0.0) as u64;
        if at >= to_ns {
            break;
        }
        let due = base + Duration::from_nanos(at);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        if at >= from_ns {
            in_window += 1;
        }
        let _ = senders[(k % senders.len() as u64) as usize].send(Out::Chat(at));
    }
    in_window
}
