//! Structured logs and Prometheus metrics, set up once per process.

mod catalogue;
mod logs;
mod metrics_recorder;

pub use logs::init_logs;
pub use metrics_recorder::{LATENCY_BUCKETS_SECONDS, MetricsHandle, install_metrics};
