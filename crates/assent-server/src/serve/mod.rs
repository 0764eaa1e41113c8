//! Starting and stopping the gateway.

mod connections;
mod http;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use assent_store::SqlStore;
use assent_store::Store;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::bootstrap_admin;
use crate::config::{Config, LogFormat, ServeOptions};
use crate::data_files::{self, DatabaseLock};
use crate::live_streams::LiveStreams;
use crate::rate_limit::RateLimits;
use crate::receipt_issuer::Receipts;
use crate::routes::router;
use crate::running_policy::{self, RunningPolicy};
use crate::signer::Signer;
use crate::state::AppState;
use crate::sweeper::Schedule;
use crate::token_cache::TokenCache;
use crate::waiters::Waiters;
use crate::webhooks::{Sender, Webhook};
use crate::{commits, live_streams, rate_limit, sweeper};
use connections::{Connections, Limits};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Config(String),
    #[error("opening the store: {0}")]
    Store(#[from] assent_store::StoreError),
    #[error("{0}")]
    Io(String),
}

/// Runs the gateway until SIGTERM or Ctrl-C, then shuts down gracefully.
pub async fn run(options: ServeOptions) -> Result<(), ServeError> {
    let config = Config::load(&options).map_err(ServeError::Config)?;
    init_logging(config.log_format);
    let server = Server::start(config).await?;
    eprintln!(
        "assent listening on {}://{}",
        server.scheme(),
        server.addr()
    );
    eprintln!("assent console at {}", server.console_url());
    stop_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await
}

fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

/// A running gateway.
pub struct Server {
    addr: SocketAddr,
    tls: bool,
    /// The console's address: `public_url`, else derived from `addr`.
    console_url: String,
    shutdown: CancellationToken,
    grace: std::time::Duration,
    serving: JoinHandle<std::io::Result<()>>,
    /// The webhook worker: awaited on shutdown so it releases its claims.
    delivering: JoinHandle<()>,
    background: Vec<JoinHandle<()>>,
    store: Arc<dyn Store>,
    /// The SQLite database's lock, released when the server is dropped.
    _lock: Option<DatabaseLock>,
}

impl Server {
    /// Opens the store, creates the first admin token if there is none, and
    /// starts serving on the configured address (port 0 picks a free port).
    pub async fn start(mut config: Config) -> Result<Server, ServeError> {
        crate::metrics::install();
        create_data_dir(&config)?;
        let sqlite = assent_store::sqlite_file(&config.database_url());
        if config.insecure_permissions {
            tracing::warn!("insecure_permissions: not checking who can read the data files");
        } else {
            data_files::check_private(&config.data_dir, sqlite.as_deref())
                .map_err(ServeError::Config)?;
        }
        // Before the database is opened: a second gateway changes nothing.
        let mut lock = sqlite
            .as_deref()
            .map(|db| DatabaseLock::acquire(db, &config.listen))
            .transpose()
            .map_err(ServeError::Config)?;
        let policy =
            Arc::new(RunningPolicy::load(config.policy_path()).map_err(ServeError::Config)?);
        let store: Arc<dyn Store> =
            Arc::new(SqlStore::open(&config.database_url(), config.store_options()).await?);
        // Before anything is written, so every event gets its deliveries.
        let hooks = config.webhooks().map_err(ServeError::Config)?;
        store
            .set_webhook_targets(hooks.iter().map(Webhook::target).collect())
            .await?;
        let signer = Arc::new(Signer::load(store.as_ref()).await?);
        let receipts = Arc::new(Receipts::new(
            signer.clone(),
            &config.receipt_issuer,
            config.receipt_ttl,
        ));
        if let Some(path) = bootstrap_admin(store.as_ref(), &config.data_dir)
            .await
            .map_err(ServeError::Io)?
        {
            eprintln!(
                "assent: created the first admin token; it is in {}",
                path.display()
            );
        }
        let tls = config
            .tls_files()
            .map(|(cert, key)| tls::acceptor(&cert, &key))
            .transpose()
            .map_err(ServeError::Config)?;
        let limits = connection_limits(&config);
        let listener = TcpListener::bind(config.listen_addr().map_err(ServeError::Config)?)
            .await
            .map_err(|e| ServeError::Io(format!("listening on {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| ServeError::Io(e.to_string()))?;
        if let Some(warning) = exposure_warning(addr, tls.is_some()) {
            tracing::warn!("{warning}");
        }
        config.resolve_public_url(addr);
        if let Some(lock) = &mut lock
            && let Err(e) = lock.record(&addr.to_string())
        {
            tracing::warn!(error = %e, "could not record the listen address in the lock file");
        }
        let console_url = format!("{}/", config.public_base());
        let sender = Arc::new(
            Sender::new(
                store.clone(),
                hooks,
                config.webhook_delivery(),
                config.public_base(),
            )
            .map_err(ServeError::Config)?,
        );

        let shutdown = CancellationToken::new();
        let rate_limits = Arc::new(RateLimits::new(
            config.failed_auth_per_minute,
            config.token_requests_per_second,
        ));
        let state = AppState {
            store: store.clone(),
            config: Arc::new(config),
            waiters: Arc::new(Waiters::default()),
            tokens: Arc::new(TokenCache::default()),
            limits: rate_limits,
            streams: Arc::new(LiveStreams::default()),
            policy,
            signer,
            receipts,
            sweep: Arc::new(Schedule::default()),
            shutdown: shutdown.clone(),
        };
        let background = vec![
            tokio::spawn(commits::follow(
                store.clone(),
                state.waiters.clone(),
                state.tokens.clone(),
                state.streams.clone(),
            )),
            tokio::spawn(live_streams::check_sessions(
                state.streams.clone(),
                store.clone(),
            )),
            tokio::spawn(sweeper::run(
                store.clone(),
                state.sweep.clone(),
                shutdown.clone(),
            )),
            tokio::spawn(reload_on_sighup(state.clone())),
            tokio::spawn(rate_limit::purge(state.limits.clone())),
        ];
        let delivering = tokio::spawn(sender.run(shutdown.clone()));
        let grace = state.config.shutdown_grace;
        let app = router(state);
        let connections = Arc::new(Connections::new(limits));
        let serving = tokio::spawn(http::accept(
            listener,
            tls.clone(),
            app,
            connections,
            shutdown.clone(),
        ));
        Ok(Server {
            addr,
            tls: tls.is_some(),
            console_url,
            shutdown,
            grace,
            serving,
            delivering,
            background,
            store,
            _lock: lock,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https` when serving TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }

    /// Where people open the web console.
    pub fn console_url(&self) -> &str {
        &self.console_url
    }

    /// The store this gateway runs on, for embedding and tests.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Stops accepting, tells long-polls to return, lets in-flight requests
    /// (and so their writes) finish within the grace period, and stops the
    /// webhook worker (its unfinished attempts are retried on the next start).
    pub async fn shutdown(self) -> Result<(), ServeError> {
        self.shutdown.cancel();
        let outcome = tokio::time::timeout(self.grace, self.serving).await;
        let mut delivering = self.delivering;
        if tokio::time::timeout(self.grace, &mut delivering)
            .await
            .is_err()
        {
            tracing::warn!("webhook deliveries did not stop within the shutdown grace period");
            delivering.abort();
        }
        self.background.iter().for_each(JoinHandle::abort);
        match outcome {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(ServeError::Io(e.to_string())),
            Ok(Err(e)) => Err(ServeError::Io(e.to_string())),
            Err(_) => {
                tracing::warn!(
                    "in-flight requests did not finish within the shutdown grace period"
                );
                Ok(())
            }
        }
    }
}

/// SIGHUP reloads the policy file, as `POST /v1/policy/reload` does.
async fn reload_on_sighup(state: AppState) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hangups) = signal(SignalKind::hangup()) else {
            return;
        };
        while hangups.recv().await.is_some() {
            match running_policy::reload(&state.policy, state.store.as_ref(), "system:sighup").await
            {
                Ok(policy) => tracing::info!(
                    source = policy.source(),
                    rules = policy.rules().len(),
                    "policy reloaded"
                ),
                Err(e) => {
                    tracing::error!(error = %e, "policy reload refused; the running policy stays")
                }
            }
        }
    }
    #[cfg(not(unix))]
    drop(state);
}

/// The data directory holds the database and the admin token: owner-only.
fn create_data_dir(config: &Config) -> Result<(), ServeError> {
    let dir = &config.data_dir;
    if dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| ServeError::Io(format!("creating {}: {e}", dir.display())))
}

/// Plain HTTP on an address other than loopback carries bearer tokens and
/// session cookies in clear: said at start.
fn exposure_warning(addr: SocketAddr, tls: bool) -> Option<String> {
    (!tls && !addr.ip().is_loopback()).then(|| {
        format!(
            "listening on {addr} without TLS: bearer tokens and session cookies cross the \
             network in clear; set tls_cert and tls_key, or serve behind a TLS-terminating \
             reverse proxy (docs/deployment.md)"
        )
    })
}

/// File descriptors kept for the database, the listener, webhooks and logs.
const SPARE_FDS: u64 = 256;

/// The connection limits, fitted to the file descriptors the process may
/// open (the soft limit is raised to the hard one first).
fn connection_limits(config: &Config) -> Limits {
    let mut limits = Limits {
        max_connections: config.max_connections,
        reserve: config.connection_reserve,
        header_read_timeout: config.header_read_timeout,
        idle_timeout: config.idle_timeout,
    };
    if let Ok(fds) = rlimit::increase_nofile_limit(u64::MAX) {
        let wanted = (limits.max_connections + limits.reserve) as u64;
        let room = fds.saturating_sub(SPARE_FDS + u64::from(config.database_max_connections));
        if wanted > room {
            let fitted = usize::try_from(room).unwrap_or(usize::MAX).max(2);
            limits.reserve = limits.reserve.min(fitted / 8);
            limits.max_connections = fitted - limits.reserve;
            tracing::warn!(
                configured = config.max_connections,
                max_connections = limits.max_connections,
                connection_reserve = limits.reserve,
                open_files_limit = fds,
                "max_connections lowered to fit the open-files limit (ulimit -n)"
            );
        }
    }
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_beyond_loopback_is_warned_about() {
        let public: SocketAddr = "0.0.0.0:8470".parse().unwrap();
        let local: SocketAddr = "127.0.0.1:8470".parse().unwrap();
        let warning = exposure_warning(public, false).unwrap();
        assert!(
            warning.contains("without TLS") && warning.contains("tls_cert"),
            "{warning}"
        );
        assert!(exposure_warning(public, true).is_none());
        assert!(exposure_warning(local, false).is_none());
        assert!(exposure_warning("[::1]:8470".parse().unwrap(), false).is_none());
    }
}
