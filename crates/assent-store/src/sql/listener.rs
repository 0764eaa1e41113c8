//! PostgreSQL only: one LISTEN connection per instance. Every NOTIFY and
//! every reconnect asks for a catch-up from the store, so commits made
//! by other instances reach this instance's waiters and streams.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;

use super::backend::{NOTIFY_CHANNEL, redact};
use super::notices::Notices;

/// Pause before reconnecting after the listener connection failed.
const RETRY: Duration = Duration::from_millis(500);

pub(crate) async fn listen(url: String, notices: Arc<Notices>) {
    loop {
        match PgListener::connect(&url).await {
            Ok(mut listener) => {
                if let Err(error) = listener.listen(NOTIFY_CHANNEL).await {
                    tracing::warn!(%error, "LISTEN failed; retrying");
                } else {
                    tracing::debug!(url = %redact(&url), "listening for other instances' commits");
                    // Anything committed while not listening is read now.
                    notices.wake();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(_)) => notices.wake(),
                            // The connection dropped: reconnect from scratch,
                            // then catch up (see above).
                            Ok(None) => break,
                            Err(error) => {
                                tracing::warn!(%error, "LISTEN connection failed; reconnecting");
                                break;
                            }
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot open the LISTEN connection; retrying"),
        }
        tokio::time::sleep(RETRY).await;
    }
}
