use voice_forwarder::Application;

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let settings = livehelp_settings::load()?;
    livehelp_telemetry::init_logs(
        settings.log.format == livehelp_settings::LogFormat::Json,
        &settings.log.filter,
        std::io::stdout,
    );
    Application::build(settings)
        .await?
        .run_until_stopped()
        .await?;
    Ok(())
}
