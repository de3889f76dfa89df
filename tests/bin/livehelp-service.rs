//! Any of the four services as a process of its own, named by the first argument
//! (`livehelp-service chat-gateway`), so end-to-end tests can SIGKILL and restart real
//! processes: Cargo hands integration tests only the binaries of their own package.

use livehelp_settings::LogFormat;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let service = std::env::args().nth(1).unwrap_or_default();
    let settings = livehelp_settings::load()?;
    livehelp_telemetry::init_logs(
        settings.log.format == LogFormat::Json,
        &settings.log.filter,
        std::io::stdout,
    );
    macro_rules! run {
        ($krate:ident) => {
            $krate::Application::build(settings)
                .await?
                .run_until_stopped()
                .await?
        };
    }
    match service.as_str() {
        chat_gateway::SERVICE => run!(chat_gateway),
        session_monitor::SERVICE => run!(session_monitor),
        screen_mirror::SERVICE => run!(screen_mirror),
        voice_forwarder::SERVICE => run!(voice_forwarder),
        other => anyhow::bail!(
            "unknown service {other:?}: chat-gateway, session-monitor, screen-mirror or voice-forwarder"
        ),
    }
    Ok(())
}
