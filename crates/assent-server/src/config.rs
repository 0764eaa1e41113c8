//! Server configuration: defaults, then `assent.toml`, then `ASSENT_*`
//! environment variables, then `assent serve` flags; later wins.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assent_domain::request::TimeoutLimits;
use assent_store::{SqliteSync, StoreOptions};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::magic::RelativePathBuf;
use serde::{Deserialize, Serialize};

use crate::webhooks::{self, DeliverySettings, Webhook, WebhookConfig};

/// Environment variables read as configuration keys (`ASSENT_<KEY>`).
/// Others with the prefix (`ASSENT_URL`, `ASSENT_TOKEN`) belong to the CLI.
const ENV_KEYS: [&str; 31] = [
    "listen",
    "data_dir",
    "database_url",
    "database_max_connections",
    "database_connect_timeout",
    "sqlite_synchronous",
    "default_timeout",
    "max_timeout",
    "max_body_bytes",
    "log_format",
    "shutdown_grace",
    "policy",
    "receipt_ttl",
    "receipt_issuer",
    "metrics_public",
    "webhook_retry_base",
    "webhook_retry_for",
    "webhook_timeout",
    "webhook_concurrency",
    "public_url",
    "session_ttl",
    "max_connections",
    "connection_reserve",
    "header_read_timeout",
    "idle_timeout",
    "body_read_timeout",
    "failed_auth_per_minute",
    "token_requests_per_second",
    "tls_cert",
    "tls_key",
    "insecure_permissions",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Where the SQLite database and the bootstrap admin token live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; defaults to `<data_dir>/assent.db`.
    pub database_url: Option<String>,
    /// Most read connections per instance (PostgreSQL).
    pub database_max_connections: u32,
    /// How long a request waits for a database connection before 503.
    #[serde(with = "humantime_serde")]
    pub database_connect_timeout: Duration,
    /// When SQLite's commits reach the disk: `full` (the default: every
    /// acknowledged change survives a power loss), `normal` or `off`.
    pub sqlite_synchronous: SqliteSync,
    /// Timeout of an approval whose request and rule give none.
    #[serde(with = "humantime_serde")]
    pub default_timeout: Duration,
    /// The longest timeout a request may ask for.
    #[serde(with = "humantime_serde")]
    pub max_timeout: Duration,
    /// Largest request body accepted (bytes); larger bodies get 413.
    pub max_body_bytes: usize,
    /// `human` or `json`.
    pub log_format: LogFormat,
    /// How long shutdown waits for in-flight requests.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// The policy file; without one every action asks. A relative path in the
    /// config file is relative to that file; from a flag or env, to the
    /// working directory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<RelativePathBuf>,
    /// How long a receipt stays valid after the decision (its `exp - iat`).
    #[serde(with = "humantime_serde")]
    pub receipt_ttl: Duration,
    /// The `iss` claim of receipts.
    pub receipt_issuer: String,
    /// Whether `GET /metrics` answers anyone (the default, for scrapers on a
    /// private network) or only admin tokens.
    pub metrics_public: bool,
    /// `[[webhook]]` tables: where events are POSTed. Never serialized, so
    /// their secrets cannot leak through a dump of the config.
    #[serde(default, rename = "webhook", skip_serializing)]
    pub webhooks: Vec<WebhookConfig>,
    /// Upper bound of the first retry delay of a failed delivery; it
    /// doubles with every failure (full jitter), up to an hour.
    #[serde(with = "humantime_serde")]
    pub webhook_retry_base: Duration,
    /// How long after its event a delivery is retried before it is failed.
    #[serde(with = "humantime_serde")]
    pub webhook_retry_for: Duration,
    /// Timeout of one delivery request.
    #[serde(with = "humantime_serde")]
    pub webhook_timeout: Duration,
    /// Delivery requests in flight at most (per instance).
    pub webhook_concurrency: usize,
    /// Where people reach this gateway (`https://assent.example.com`): the
    /// base of console links in webhooks and start-up output, and `https`
    /// here marks the console's session cookie `Secure`. Without it the
    /// listen address is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// How long a console sign-in lasts.
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    /// Most connections served at once; when full, the oldest idle one is
    /// closed to make room.
    pub max_connections: usize,
    /// Connections let in beyond `max_connections` when every connection is
    /// busy, for health checks and reviews only.
    pub connection_reserve: usize,
    /// How long a client may take to send a request's headers, counted from
    /// when the connection opens or its previous response was sent (so it
    /// also closes idle HTTP/1.1 keep-alive connections); also the TLS
    /// handshake's limit.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// How long an HTTP/2 connection with no request in progress stays open.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// How long a client may take to send a request body (408 after).
    #[serde(with = "humantime_serde")]
    pub body_read_timeout: Duration,
    /// Failed authentications (a wrong token or an ended session) allowed per
    /// client address and minute; more get 429. 0 turns the limit off.
    pub failed_auth_per_minute: u32,
    /// Requests allowed per token (principal) and second, in bursts of as
    /// many; more get 429. 0 (the default) turns the limit off.
    pub token_requests_per_second: u32,
    /// PEM certificate chain to serve HTTPS with (with `tls_key`). A relative
    /// path in the config file is relative to that file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<RelativePathBuf>,
    /// PEM private key of `tls_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<RelativePathBuf>,
    /// Start even when the data directory or the SQLite database can be
    /// read by other users (otherwise the gateway refuses).
    pub insecure_permissions: bool,
}

/// What `assent serve` passes in from its flags; each overrides the config file and env.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub policy: Option<PathBuf>,
    pub log_format: Option<String>,
    /// `--insecure-permissions`: accept a data dir or database others can read.
    pub insecure_permissions: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Human,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8470".into(),
            data_dir: PathBuf::from("./assent-data"),
            database_url: None,
            database_max_connections: 16,
            database_connect_timeout: Duration::from_secs(5),
            sqlite_synchronous: SqliteSync::Full,
            default_timeout: Duration::from_secs(3600),
            max_timeout: Duration::from_secs(7 * 24 * 3600),
            max_body_bytes: 256 * 1024,
            log_format: LogFormat::Human,
            shutdown_grace: Duration::from_secs(10),
            policy: None,
            receipt_ttl: Duration::from_secs(3600),
            receipt_issuer: "assent".into(),
            metrics_public: true,
            webhooks: Vec::new(),
            webhook_retry_base: Duration::from_secs(5),
            webhook_retry_for: Duration::from_secs(24 * 3600),
            webhook_timeout: Duration::from_secs(10),
            webhook_concurrency: 16,
            public_url: None,
            session_ttl: Duration::from_secs(12 * 3600),
            max_connections: 16_384,
            connection_reserve: 128,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(30),
            failed_auth_per_minute: 30,
            token_requests_per_second: 0,
            tls_cert: None,
            tls_key: None,
            insecure_permissions: false,
        }
    }
}

/// The serve flags that were given, as a figment layer.
#[derive(Serialize)]
struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    insecure_permissions: bool,
}

impl Config {
    /// Loads the configuration for `assent serve`. The file comes from
    /// `--config`, else `ASSENT_CONFIG`; it is optional.
    pub fn load(options: &ServeOptions) -> Result<Config, String> {
        let file = options
            .config
            .clone()
            .or_else(|| std::env::var_os("ASSENT_CONFIG").map(PathBuf::from));
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = &file {
            if !file.exists() {
                return Err(format!("config file {} does not exist", file.display()));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let overrides = Overrides {
            listen: options.listen.clone(),
            database_url: options.database_url.clone(),
            data_dir: options.data_dir.clone(),
            policy: options.policy.clone(),
            log_format: options.log_format.clone(),
            insecure_permissions: options.insecure_permissions,
        };
        let config: Config = figment
            .merge(Env::prefixed("ASSENT_").only(&ENV_KEYS))
            .merge(Serialized::defaults(overrides))
            .extract()
            .map_err(|e| format!("configuration: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        self.listen_addr()?;
        if self.default_timeout.is_zero() || self.max_timeout.is_zero() {
            return Err("configuration: default_timeout and max_timeout must be positive".into());
        }
        if self.default_timeout > self.max_timeout {
            return Err("configuration: default_timeout is longer than max_timeout".into());
        }
        if self.receipt_ttl < Duration::from_secs(1) {
            return Err("configuration: receipt_ttl must be at least 1s".into());
        }
        if self.receipt_issuer.is_empty() {
            return Err("configuration: receipt_issuer must not be empty".into());
        }
        if self.max_body_bytes < 1024 {
            return Err("configuration: max_body_bytes must be at least 1024".into());
        }
        if let Some(url) = &self.database_url
            && !["sqlite:", "postgres:", "postgresql:"]
                .iter()
                .any(|scheme| url.starts_with(scheme))
        {
            return Err("configuration: database_url must be sqlite://PATH or postgres://…".into());
        }
        if self.database_max_connections == 0 || self.database_connect_timeout.is_zero() {
            return Err(
                "configuration: database_max_connections and database_connect_timeout must be positive"
                    .into(),
            );
        }
        if self.webhook_retry_base.is_zero()
            || self.webhook_retry_for.is_zero()
            || self.webhook_timeout.is_zero()
        {
            return Err("configuration: webhook_retry_base, webhook_retry_for and webhook_timeout must be positive".into());
        }
        if self.webhook_concurrency == 0 {
            return Err("configuration: webhook_concurrency must be at least 1".into());
        }
        self.webhooks()?;
        if self.session_ttl < Duration::from_secs(1) || self.session_ttl > MAX_SESSION_TTL {
            return Err("configuration: session_ttl must be between 1s and 30d".into());
        }
        if let Some(url) = &self.public_url {
            check_public_url(url)?;
        }
        if self.max_connections == 0 {
            return Err("configuration: max_connections must be at least 1".into());
        }
        if self.header_read_timeout.is_zero()
            || self.idle_timeout.is_zero()
            || self.body_read_timeout.is_zero()
        {
            return Err("configuration: header_read_timeout, idle_timeout and body_read_timeout must be positive".into());
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(
                "configuration: tls_cert and tls_key go together; set both or neither".into(),
            );
        }
        Ok(())
    }

    /// The TLS certificate and key files, when HTTPS is configured.
    pub fn tls_files(&self) -> Option<(PathBuf, PathBuf)> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some((cert.relative(), key.relative())),
            _ => None,
        }
    }

    /// Fills in `public_url` from the address the gateway is bound to when
    /// none was configured (an unspecified address becomes loopback).
    pub fn resolve_public_url(&mut self, bound: SocketAddr) {
        if self.public_url.is_none() {
            let mut shown = bound;
            if shown.ip().is_unspecified() {
                shown.set_ip(match bound {
                    SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                    SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                });
            }
            let scheme = if self.tls_files().is_some() {
                "https"
            } else {
                "http"
            };
            self.public_url = Some(format!("{scheme}://{shown}"));
        }
    }

    /// The base URL people reach the gateway at, without a trailing `/`.
    pub fn public_base(&self) -> String {
        let base = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen));
        base.trim_end_matches('/').to_owned()
    }

    /// Whether the session cookie is marked `Secure`: the gateway is
    /// reached over https.
    pub fn cookie_secure(&self) -> bool {
        self.public_base().starts_with("https://")
    }

    /// The `[[webhook]]` tables, validated.
    pub fn webhooks(&self) -> Result<Vec<Webhook>, String> {
        webhooks::resolve_all(&self.webhooks).map_err(|e| format!("configuration: {e}"))
    }

    pub fn webhook_delivery(&self) -> DeliverySettings {
        DeliverySettings {
            retry_base: self.webhook_retry_base,
            retry_for: self.webhook_retry_for,
            timeout: self.webhook_timeout,
            concurrency: self.webhook_concurrency,
        }
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.listen
            .parse()
            .map_err(|e| format!("configuration: listen {:?}: {e}", self.listen))
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| sqlite_url(&self.data_dir.join("assent.db")))
    }

    pub fn store_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.database_max_connections,
            connect_timeout: self.database_connect_timeout,
            sqlite_sync: self.sqlite_synchronous,
        }
    }

    /// Where the policy file is, resolved.
    pub fn policy_path(&self) -> Option<PathBuf> {
        self.policy.as_ref().map(RelativePathBuf::relative)
    }

    pub fn timeouts(&self) -> TimeoutLimits {
        TimeoutLimits {
            default: self.default_timeout,
            max: self.max_timeout,
        }
    }
}

/// The longest `session_ttl` accepted.
const MAX_SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// `public_url` is an absolute http(s) URL with no query or fragment.
fn check_public_url(raw: &str) -> Result<(), String> {
    let url =
        reqwest::Url::parse(raw).map_err(|e| format!("configuration: public_url {raw:?}: {e}"))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(format!(
            "configuration: public_url {raw:?} must be an http:// or https:// URL without query or fragment"
        ));
    }
    Ok(())
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_no_file() {
        let config = Config::load(&ServeOptions::default()).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8470");
        assert_eq!(config.database_url(), "sqlite://./assent-data/assent.db");
        assert_eq!(config.timeouts().max, Duration::from_secs(7 * 86400));
    }

    #[test]
    fn file_then_flags_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("assent.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\ndefault_timeout = \"10m\"\n",
        )
        .unwrap();
        let options = ServeOptions {
            config: Some(file.clone()),
            ..Default::default()
        };
        let config = Config::load(&options).unwrap();
        assert_eq!(
            (config.listen.as_str(), config.default_timeout),
            ("127.0.0.1:9000", Duration::from_secs(600))
        );
        let options = ServeOptions {
            config: Some(file),
            listen: Some("127.0.0.1:0".into()),
            ..Default::default()
        };
        assert_eq!(Config::load(&options).unwrap().listen, "127.0.0.1:0");
    }

    /// Loads a configuration file holding `text`, with no flags.
    fn load(text: &str) -> Result<Config, String> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("assent.toml");
        std::fs::write(&file, text).unwrap();
        Config::load(&ServeOptions {
            config: Some(file),
            ..Default::default()
        })
    }

    #[test]
    fn sqlite_synchronous_is_full_unless_set_and_a_bad_value_names_the_key() {
        assert_eq!(
            load("").unwrap().store_options().sqlite_sync,
            SqliteSync::Full
        );
        let off = load("sqlite_synchronous = \"off\"\n").unwrap();
        assert_eq!(off.store_options().sqlite_sync, SqliteSync::Off);
        let err = load("sqlite_synchronous = \"sometimes\"\n").unwrap_err();
        assert!(err.contains("sqlite_synchronous"), "{err}");
    }

    #[test]
    fn a_relative_policy_path_in_the_file_is_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("assent.toml");
        std::fs::write(&file, "policy = \"policy.toml\"\n").unwrap();
        let config = Config::load(&ServeOptions {
            config: Some(file),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.policy_path(), Some(dir.path().join("policy.toml")));
        let flag = ServeOptions {
            policy: Some("p.toml".into()),
            ..Default::default()
        };
        assert_eq!(
            Config::load(&flag).unwrap().policy_path(),
            Some(PathBuf::from("p.toml"))
        );
    }

    #[test]
    fn bad_files_are_refused_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("assent.toml");
        std::fs::write(&file, "listn = \"x\"\n").unwrap();
        let err = Config::load(&ServeOptions {
            config: Some(file.clone()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("listn"), "{err}");
        std::fs::write(&file, "default_timeout = \"2d\"\nmax_timeout = \"1d\"\n").unwrap();
        let err = Config::load(&ServeOptions {
            config: Some(file),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.contains("default_timeout"), "{err}");
        let missing = ServeOptions {
            config: Some(dir.path().join("nope.toml")),
            ..Default::default()
        };
        assert!(
            Config::load(&missing)
                .unwrap_err()
                .contains("does not exist")
        );
    }

    #[test]
    fn public_url_and_session_ttl_are_checked_and_drive_links_and_cookies() {
        let config =
            load("public_url = \"https://assent.example.com/\"\nsession_ttl = \"2h\"\n").unwrap();
        assert_eq!(config.session_ttl, Duration::from_secs(7200));
        assert!(config.cookie_secure());
        assert_eq!(config.public_base(), "https://assent.example.com");
        for bad in ["ftp://x", "https://x/?q=1", "not a url"] {
            let err = load(&format!("public_url = \"{bad}\"\n")).unwrap_err();
            assert!(err.contains("public_url"), "{err}");
        }
        let err = load("session_ttl = \"0s\"\n").unwrap_err();
        assert!(err.contains("session_ttl"), "{err}");

        let mut config = load("").unwrap();
        assert_eq!(config.session_ttl, Duration::from_secs(12 * 3600));
        config.resolve_public_url("0.0.0.0:8470".parse().unwrap());
        assert_eq!(config.public_base(), "http://127.0.0.1:8470");
        assert!(!config.cookie_secure());
    }

    #[test]
    fn webhook_tables_are_read_and_checked_at_load() {
        let config = load(
            "webhook_retry_base = \"100ms\"\n\
             [[webhook]]\nurl = \"https://example.com/a\"\n\
             secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
             [[webhook]]\nurl = \"http://127.0.0.1:9/b\"\n\
             secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
             events = [\"approval.approved\"]\n",
        )
        .unwrap();
        let hooks = config.webhooks().unwrap();
        assert_eq!(hooks.len(), 2);
        assert_eq!(
            config.webhook_delivery().retry_base,
            Duration::from_millis(100)
        );
        assert_eq!(
            config.webhook_delivery().retry_for,
            Duration::from_secs(86400)
        );
        assert!(!format!("{config:?}").contains("MfKQ9r8GKYqrTwjU"));

        let err = load(
            "[[webhook]]\nurl = \"https://example.com/a\"\n\
             secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
             events = [\"approval.nope\"]\n",
        )
        .unwrap_err();
        assert!(
            err.contains("webhook[0]") && err.contains("events"),
            "{err}"
        );
        let err = load("[[webhook]]\nurl = \"https://example.com/a\"\nsecret = \"s3cr3t-value\"\n")
            .unwrap_err();
        assert!(
            err.contains("webhook[0]") && err.contains("secret"),
            "{err}"
        );
        assert!(!err.contains("s3cr3t-value"), "{err}");
        let err =
            load("[[webhook]]\nurl = \"https://example.com/a\"\nsecrt = \"x\"\n").unwrap_err();
        assert!(err.contains("secrt"), "{err}");
    }
}
