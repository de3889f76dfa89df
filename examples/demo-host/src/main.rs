//! The demo host binary: reads its settings from the environment and serves until SIGINT
//! or SIGTERM, which stop it gracefully.

use std::io::IsTerminal;
use std::process::ExitCode;

use demo_host::{Application, DemoSettings};
use tracing_subscriber::EnvFilter;

#[actix_web::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One readable line (with its causes), not a backtrace.
            eprintln!("demo-host: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let settings = DemoSettings::from_env()?;
    let app = Application::build(settings)?;
    tracing::info!(port = app.port(), "demo host listening");
    app.run_until_stopped().await?;
    tracing::info!("demo host stopped");
    Ok(())
}
