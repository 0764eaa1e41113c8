//! The running policy: loaded at start, swapped whole on reload (SIGHUP or
//! `POST /v1/policy/reload`). A file that does not load is refused and the
//! running policy stays.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use assent_domain::policy::{Evaluation, Input, Policy};
use assent_domain::{EventType, NewEvent};
use assent_store::Store;
use serde_json::json;

use crate::clock::now;
use crate::error::ApiError;

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

/// Re-reads the policy file and records `policy.reloaded` by `actor`; a
/// file that does not load leaves the running policy in place (400 naming
/// the file, rule and field). Shared by `POST /v1/policy/reload` and SIGHUP.
pub async fn reload(
    policy: &RunningPolicy,
    store: &dyn Store,
    actor: &str,
) -> Result<Arc<Policy>, ApiError> {
    let policy = policy.reload().map_err(ApiError::BadRequest)?;
    let event = NewEvent {
        kind: EventType::PolicyReloaded,
        actor: actor.to_owned(),
        approval_id: None,
        data: json!({ "source": policy.source(), "rules": policy.rules().len() }),
    };
    store.record_event(event, now()).await?;
    Ok(policy)
}

fn read(path: &PathBuf) -> Result<Policy, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Policy::from_toml(&text, &path.display().to_string()).map_err(|e| e.to_string())
}
