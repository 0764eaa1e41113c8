//! Starting and stopping the gateway.

use std::path::PathBuf;

/// What `assent serve` passes in from its flags; each overrides the config file and env.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub policy: Option<PathBuf>,
    pub log_format: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Config(String),
}

/// Runs the gateway until SIGTERM or Ctrl-C.
pub async fn run(options: ServeOptions) -> Result<(), ServeError> {
    Err(ServeError::Config(format!("not yet wired: {options:?}")))
}
