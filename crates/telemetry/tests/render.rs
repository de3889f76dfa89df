//! The rendered scrape carries help text, recommended suffixes and histogram buckets.

#[test]
fn histograms_render_as_buckets_in_seconds() {
    let handle = livehelp_telemetry::install_metrics();
    metrics::histogram!("livehelp_chat_store_duration").record(0.003);
    metrics::counter!("livehelp_redis_errors").increment(2);
    let text = handle.render();
    assert!(
        text.contains("# HELP livehelp_redis_errors_total"),
        "{text}"
    );
    assert!(text.contains("livehelp_redis_errors_total 2"), "{text}");
    assert!(
        text.contains("livehelp_chat_store_duration_seconds_bucket{le=\"0.005\"} 1"),
        "{text}"
    );
}
