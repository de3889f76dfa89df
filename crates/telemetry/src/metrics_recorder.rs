//! The process's metrics recorder, rendered in Prometheus text format by each service's
//! `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Buckets for latencies, in seconds: from 100 µs (a local Redis hop) to 10 s.
pub const LATENCY_BUCKETS_SECONDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Renders the metrics of this process.
#[derive(Clone, Debug)]
pub struct MetricsHandle(PrometheusHandle);

impl MetricsHandle {
    pub fn render(&self) -> String {
        self.0.run_upkeep();
        self.0.render()
    }
}

/// Installs the global recorder on first use and returns a handle to it. Several services
/// started in one test process share it.
pub fn install_metrics() -> MetricsHandle {
    static HANDLE: OnceLock<MetricsHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .with_recommended_naming(true)
                .set_buckets(LATENCY_BUCKETS_SECONDS)
                .expect("the bucket list is a non-empty constant")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only when another recorder is installed, which nothing in livehelp does;
            // the handle still renders (empty) rather than taking the process down.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            crate::catalogue::describe_all();
            MetricsHandle(handle)
        })
        .clone()
}
