//! Logs as JSON lines (production) or human-readable text, to any sink: stdout for the
//! binaries, a buffer for tests that check what gets logged.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Installs the process-wide subscriber. `filter` uses `EnvFilter` syntax (`info`,
/// `chat_gateway=debug`); `RUST_LOG` overrides it when set. A second call (several services
/// in one test process) keeps the first subscriber.
pub fn init_logs<W>(json: bool, filter: &str, sink: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink);
    // An error only means a subscriber is already installed, which is fine.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
}
