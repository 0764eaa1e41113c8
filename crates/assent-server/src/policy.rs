//! The running policy: loaded at start, swapped whole on reload (SIGHUP or
//! `POST /v1/policy/reload`). A file that does not load is refused and the
//! running policy stays.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use assent_domain::policy::{Evaluation, Input, Policy};

pub struct RunningPolicy {
    path: Option<PathBuf>,
    current: RwLock<Arc<Policy>>,
}

impl RunningPolicy {
    /// Loads the file at `path`; without one, every action asks.
    pub fn load(path: Option<PathBuf>) -> Result<RunningPolicy, String> {
        let policy = match &path {
            Some(path) => read(path)?,
            None => Policy::default(),
        };
        Ok(RunningPolicy {
            path,
            current: RwLock::new(Arc::new(policy)),
        })
    }

    pub fn current(&self) -> Arc<Policy> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Evaluates a request against the current policy, timed for
    /// `assent_policy_evaluation_seconds`.
    pub fn evaluate(&self, input: &Input<'_>) -> Evaluation {
        let policy = self.current();
        let started = std::time::Instant::now();
        let evaluation = policy.evaluate(input);
        crate::metrics::policy_evaluated(started.elapsed());
        evaluation
    }

    /// Re-reads the file; on success the new policy answers the next request.
    pub fn reload(&self) -> Result<Arc<Policy>, String> {
        let path = self
            .path
            .as_ref()
            .ok_or("no policy file is configured (set `policy` in the config)")?;
        let policy = Arc::new(read(path)?);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = policy.clone();
        Ok(policy)
    }
}

fn read(path: &PathBuf) -> Result<Policy, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Policy::from_toml(&text, &path.display().to_string()).map_err(|e| e.to_string())
}
