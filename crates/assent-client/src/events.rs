//! The live event feed (`GET /v1/events`) as a stream that resumes after the
//! last event it returned whenever the connection drops or the gateway
//! restarts, so a watcher sees every event once, in order.

use std::time::Duration;

use assent_domain::{Event, EventType};
use reqwest::Response;

use crate::Error;
use crate::backoff::Backoff;
use crate::client::Client;

/// The gateway sends a heartbeat every 15 s; this much silence means the
/// connection is dead.
const SILENCE: Duration = Duration::from_secs(45);

/// Events from the gateway, oldest first. Get one with [`EventStream::next`].
pub struct EventStream {
    client: Client,
    types: Vec<EventType>,
    /// The seq of the last event returned; the resume point.
    last: Option<i64>,
    response: Option<Response>,
    frames: SseFrames,
    backoff: Backoff,
}

impl Client {
    /// Every event after `after` (a `seq`; `None`: from the next one), then
    /// live events as they happen, optionally only of `types`. The stream
    /// reconnects on its own, resuming after the last event it returned.
    pub fn events(&self, after: Option<i64>, types: &[EventType]) -> EventStream {
        EventStream::new(self.clone(), after, types)
    }
}

impl EventStream {
    fn new(client: Client, after: Option<i64>, types: &[EventType]) -> EventStream {
        EventStream {
            client,
            types: types.to_vec(),
            last: after,
            response: None,
            frames: SseFrames::default(),
            backoff: Backoff::default(),
        }
    }

    /// The seq of the last event returned, to resume from later.
    pub fn last_seq(&self) -> Option<i64> {
        self.last
    }

    /// The next event. Waits as long as it takes; reconnects on its own.
    /// Errors only for answers a retry cannot fix (bad token, bad filter).
    pub async fn next(&mut self) -> Result<Event, Error> {
        loop {
            if let Some(data) = self.frames.next_data() {
                let event: Event = serde_json::from_str(&data).map_err(Error::Decode)?;
                if self.last.is_some_and(|last| event.seq <= last) {
                    continue;
                }
                self.last = Some(event.seq);
                return Ok(event);
            }
            let Some(response) = self.response.as_mut() else {
                match self.client.open_events(self.last, &self.types).await {
                    Ok(response) => {
                        self.backoff.reset();
                        self.frames = SseFrames::default();
                        self.response = Some(response);
                    }
                    Err(e) if e.is_transient() => {
                        tokio::time::sleep(self.backoff.next_pause()).await
                    }
                    Err(e) => return Err(e),
                }
                continue;
            };
            match tokio::time::timeout(SILENCE, response.chunk()).await {
                Ok(Ok(Some(bytes))) => self.frames.push(&bytes),
                _ => {
                    self.response = None;
                    tokio::time::sleep(self.backoff.next_pause()).await;
                }
            }
        }
    }
}

/// Splits a text/event-stream body into frames and yields their `data`.
#[derive(Default)]
struct SseFrames {
    buffer: Vec<u8>,
}

impl SseFrames {
    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The data of the next complete frame that has any (heartbeats have none).
    fn next_data(&mut self) -> Option<String> {
        loop {
            let end = self.buffer.windows(2).position(|w| w == b"\n\n")?;
            let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&frame);
            let data: Vec<&str> = text
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if !data.is_empty() {
                return Some(data.join("\n"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_chunks_are_reassembled_and_comments_skipped() {
        let mut frames = SseFrames::default();
        frames.push(b": heartbeat\n\nid: 1\nevent: x\nda");
        assert_eq!(frames.next_data(), None);
        frames.push(b"ta: {\"a\":\n");
        assert_eq!(frames.next_data(), None);
        frames.push("data: \"é\"}\n\nid: 2\ndata: 2\n\n".as_bytes());
        assert_eq!(frames.next_data().as_deref(), Some("{\"a\":\n\"é\"}"));
        assert_eq!(frames.next_data().as_deref(), Some("2"));
        assert_eq!(frames.next_data(), None);
    }
}
