//! Building and running a service's HTTP server: the shared routes, limits and shutdown,
//! with the service's own routes added by a `configure` function.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{App, HttpRequest, HttpServer, ResponseError, web};
use anyhow::Context as _;
use livehelp_bus::Bus;
use livehelp_protocol::ErrorCode;
use livehelp_settings::Settings;

use crate::{ApiError, Context, health};

/// Starts a background task.
type Start = Box<dyn FnOnce() + Send>;

/// A bound, not yet running, service.
pub struct Server {
    port: u16,
    server: actix_web::dev::Server,
    ctx: Arc<Context>,
    background: Arc<Mutex<Vec<Start>>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("service", &self.ctx.service)
            .field("port", &self.port)
            .finish()
    }
}

impl Server {
    /// Binds `server.host:server.port` (port 0 picks a free one) and connects to Redis
    /// lazily: the service starts, unready, while Redis is down. The process's pub/sub task
    /// runs on the first worker to start, next to the sockets it feeds (with the default
    /// single worker, all of them), and so do the tasks given to [`Server::spawn`].
    pub async fn build<F>(
        service: &'static str,
        settings: Settings,
        configure: F,
    ) -> anyhow::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let bus = Bus::from_settings(&settings.redis).context("redis settings")?;
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .with_context(|| {
                format!(
                    "binding server.host:server.port = {}:{}",
                    settings.server.host, settings.server.port
                )
            })?;
        let port = listener.local_addr()?.port();
        let workers = settings.server.workers;
        let grace = settings.server.shutdown_grace_seconds;
        let max_body = settings.limits.max_frame_bytes;
        let ctx = Context::new(service, settings, bus);
        let data = web::Data::from(ctx.clone());
        let background: Arc<Mutex<Vec<Start>>> = Arc::default();
        let starts = background.clone();
        let server = HttpServer::new(move || {
            data.bus.hub().run_here();
            let pending = std::mem::take(&mut *starts.lock().unwrap_or_else(|p| p.into_inner()));
            for start in pending {
                start();
            }
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(max_body))
                .wrap(ErrorHandlers::new().handler(StatusCode::PAYLOAD_TOO_LARGE, too_large))
                .configure(health::routes)
                .configure(configure.clone())
                .default_service(web::to(not_found))
        })
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(grace)
        .listen(listener)?
        .run();
        tracing::info!(service, port, "listening");
        Ok(Self {
            port,
            server,
            ctx,
            background,
        })
    }

    /// Runs `task` for as long as the server runs, on the first worker to start: beside the
    /// sockets and the pub/sub task, so that the Redis connections it opens are served on
    /// their thread too.
    pub fn spawn<F, T>(&self, task: F)
    where
        F: FnOnce(Arc<Context>) -> T + Send + 'static,
        T: Future<Output = ()> + Send + 'static,
    {
        let ctx = self.ctx.clone();
        self.background
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(move || drop(tokio::spawn(task(ctx)))));
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn context(&self) -> Arc<Context> {
        self.ctx.clone()
    }

    /// A handle that drains and stops the server as SIGTERM does (tests use it).
    pub fn stopper(&self) -> Stopper {
        Stopper {
            handle: self.server.handle(),
            ctx: self.ctx.clone(),
        }
    }

    /// Serves until SIGTERM or Ctrl-C, then drains: readiness off, WebSockets closed with
    /// 1001, in-flight requests finished within `server.shutdown_grace_seconds`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let stopper = self.stopper();
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("signal received; draining");
            stopper.stop().await;
        });
        self.server.await
    }
}

/// Drains and stops a running server.
#[derive(Clone)]
pub struct Stopper {
    handle: actix_web::dev::ServerHandle,
    ctx: Arc<Context>,
}

impl std::fmt::Debug for Stopper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stopper").finish_non_exhaustive()
    }
}

impl Stopper {
    pub async fn stop(&self) {
        self.ctx.shutdown.begin();
        self.handle.stop(true).await;
    }
}

async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGTERM; Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Bodies over `limits.max_frame_bytes` are refused by actix's extractors with a plain
/// text 413; clients get the one JSON error shape instead, counted like every error.
fn too_large<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (req, _) = res.into_parts();
    let answer = ApiError::new(
        ErrorCode::TooLarge,
        "the body is larger than the service accepts (limits.max_frame_bytes)",
    )
    .error_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, answer).map_into_right_body(),
    ))
}

async fn not_found(req: HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::new(
        ErrorCode::NotFound,
        format!("no route for {} {}", req.method(), req.path()),
    ))
}
