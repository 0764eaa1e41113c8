//! Requests that outlive their authentication — SSE event streams,
//! WebSockets and long-polls — registered under the credential that opened
//! them, so that revoking a token or ending a console session stops them at
//! once instead of when the client goes away.
//!
//! A token's revocation arrives as a `token.revoked` commit notice (from
//! this instance or, on PostgreSQL, another one): every stream of that
//! principal whose token no longer authenticates ends. Console sessions end
//! by sign-out on this instance at once; sign-out on another instance and
//! expiry are noticed by a check every [`SESSION_CHECK_EVERY`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use assent_store::Store;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

use crate::clock::now;

/// How often streams opened with a console session re-read their session.
pub const SESSION_CHECK_EVERY: Duration = Duration::from_secs(5);

/// Who opened a stream: the token (by SHA-256) and, for the console, the
/// session (by the SHA-256 of its secret).
#[derive(Clone)]
pub struct Credential {
    pub principal: String,
    pub token_sha256: [u8; 32],
    pub session_sha256: Option<String>,
}

/// Every open stream, by registration id.
#[derive(Default)]
pub struct LiveStreams {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    next: u64,
    open: HashMap<u64, Entry>,
}

struct Entry {
    credential: Credential,
    ended: CancellationToken,
}

/// One open stream's registration; dropping it unregisters.
pub struct StreamGuard {
    streams: Arc<LiveStreams>,
    id: u64,
    ended: CancellationToken,
}

impl StreamGuard {
    /// Completes when the stream's credential stops authenticating.
    pub fn ended(&self) -> WaitForCancellationFutureOwned {
        self.ended.clone().cancelled_owned()
    }

    #[cfg(test)]
    pub fn is_ended(&self) -> bool {
        self.ended.is_cancelled()
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.streams.lock().open.remove(&self.id);
    }
}

impl LiveStreams {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a stream opened with `credential`.
    pub fn register(self: &Arc<Self>, credential: Credential) -> StreamGuard {
        let ended = CancellationToken::new();
        let mut inner = self.lock();
        inner.next += 1;
        let id = inner.next;
        inner.open.insert(
            id,
            Entry {
                credential,
                ended: ended.clone(),
            },
        );
        StreamGuard {
            streams: self.clone(),
            id,
            ended,
        }
    }

    /// How many streams are open.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().open.len()
    }

    /// Ends the streams opened with this console session (signed out).
    pub fn end_session(&self, session_sha256: &str) {
        self.lock()
            .open
            .values()
            .filter(|e| e.credential.session_sha256.as_deref() == Some(session_sha256))
            .for_each(|e| e.ended.cancel());
    }

    /// A token of `principal` (every principal when `None`: notices were
    /// missed) was revoked: ends each stream whose token no longer
    /// authenticates. A store that cannot answer ends them too; their
    /// clients reconnect and authenticate again.
    pub async fn token_revoked(&self, store: &dyn Store, principal: Option<&str>) {
        let digests: HashSet<[u8; 32]> = self
            .lock()
            .open
            .values()
            .filter(|e| principal.is_none_or(|p| e.credential.principal == p))
            .map(|e| e.credential.token_sha256)
            .collect();
        for digest in digests {
            let gone = !matches!(store.token_by_hash(&hex::encode(digest)).await, Ok(Some(_)));
            if gone {
                self.lock()
                    .open
                    .values()
                    .filter(|e| e.credential.token_sha256 == digest)
                    .for_each(|e| e.ended.cancel());
            }
        }
    }

    /// Ends the streams of console sessions that are gone (signed out on
    /// another instance, or expired).
    async fn check_sessions(&self, store: &dyn Store) {
        let sessions: HashSet<String> = self
            .lock()
            .open
            .values()
            .filter_map(|e| e.credential.session_sha256.clone())
            .collect();
        for session in sessions {
            let live = matches!(store.session_by_hash(&session, now()).await, Ok(Some(_)));
            if !live {
                self.end_session(&session);
            }
        }
    }
}

/// Re-reads the sessions of open console streams every [`SESSION_CHECK_EVERY`].
pub async fn check_sessions(streams: Arc<LiveStreams>, store: Arc<dyn Store>) {
    let mut every = tokio::time::interval(SESSION_CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        streams.check_sessions(store.as_ref()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credential(principal: &str, token: u8, session: Option<&str>) -> Credential {
        Credential {
            principal: principal.into(),
            token_sha256: [token; 32],
            session_sha256: session.map(str::to_owned),
        }
    }

    #[test]
    fn ending_a_session_ends_only_its_streams_and_guards_unregister() {
        let streams = Arc::new(LiveStreams::default());
        let console = streams.register(credential("alice", 1, Some("s1")));
        let bearer = streams.register(credential("alice", 1, None));
        assert_eq!(streams.len(), 2);
        streams.end_session("s1");
        assert!(console.is_ended());
        assert!(!bearer.is_ended());
        drop((console, bearer));
        assert_eq!(streams.len(), 0);
    }
}
