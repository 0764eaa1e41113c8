//! The open connections: how many there may be, which are idle, and who is
//! let in when the gateway is full.
//!
//! Up to `max_connections` are served normally. When that many are open, the
//! oldest connection with no request in progress (an idle keep-alive, or one
//! that has not finished sending its first request) is closed to make room,
//! so a flood of idle connections cannot lock anyone out. When every
//! connection is busy (long-polls, event streams, WebSockets), up to
//! `connection_reserve` more are let in for health checks and reviews only
//! (one request each); beyond that, new connections are closed at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

/// How many connections may be open, and how long one may idle.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub reserve: usize,
    /// A connection must send a complete request head this soon after it
    /// opens (HTTP/1.1: also after each response).
    pub header_read_timeout: Duration,
    /// A connection that has served a request and has none in progress is
    /// closed after this long.
    pub idle_timeout: Duration,
}

pub struct Connections {
    inner: Mutex<Inner>,
    limits: Limits,
}

#[derive(Default)]
struct Inner {
    next: u64,
    general: usize,
    reserve: usize,
    open: HashMap<u64, State>,
    /// Connections with no request in progress, oldest first: the ones
    /// closed to make room.
    idle: BTreeSet<u64>,
}

struct State {
    reserve: bool,
    in_flight: usize,
    /// A WebSocket now: busy until it closes.
    upgraded: bool,
    /// When it last became idle (opened, or finished its last request).
    idle_since: Instant,
    served: bool,
    evict: CancellationToken,
}

/// Whether a new connection is served normally or only for health checks
/// and reviews.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    General,
    Reserve,
}

/// A connection's place among the open ones; dropping it frees the place.
/// It travels with the connection's socket, so a WebSocket keeps it.
pub struct Slot {
    pub handle: Handle,
}

/// What the connection's requests use to say they started and finished.
#[derive(Clone)]
pub struct Handle {
    connections: Arc<Connections>,
    pub id: u64,
    pub class: Class,
    /// Cancelled when the connection is closed to make room for a new one.
    pub evicted: CancellationToken,
}

impl Connections {
    pub fn new(limits: Limits) -> Connections {
        Connections {
            inner: Mutex::default(),
            limits,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many connections are open (general, reserve).
    #[cfg(test)]
    pub fn open(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.general, inner.reserve)
    }

    /// A place for a new connection, or `None` when it must be closed at once.
    pub fn admit(self: &Arc<Self>) -> Option<Slot> {
        let limits = self.limits();
        let mut inner = self.lock();
        let class = if inner.general < limits.max_connections {
            Class::General
        } else if let Some(oldest) = inner.idle.pop_first() {
            // Full: the oldest idle connection makes room, and its place goes
            // to the newcomer.
            let evicted = inner
                .open
                .get(&oldest)
                .map(|s| (s.evict.clone(), s.reserve));
            match evicted {
                Some((token, reserve)) => {
                    token.cancel();
                    if reserve {
                        Class::Reserve
                    } else {
                        Class::General
                    }
                }
                None => Class::General,
            }
        } else if inner.reserve < limits.reserve {
            Class::Reserve
        } else {
            return None;
        };
        match class {
            Class::General => inner.general += 1,
            Class::Reserve => inner.reserve += 1,
        }
        inner.next += 1;
        let id = inner.next;
        let evict = CancellationToken::new();
        inner.open.insert(
            id,
            State {
                reserve: class == Class::Reserve,
                in_flight: 0,
                upgraded: false,
                idle_since: Instant::now(),
                served: false,
                evict: evict.clone(),
            },
        );
        inner.idle.insert(id);
        Some(Slot {
            handle: Handle {
                connections: self.clone(),
                id,
                class,
                evicted: evict,
            },
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut inner = self.handle.connections.lock();
        let id = self.handle.id;
        inner.idle.remove(&id);
        if let Some(state) = inner.open.remove(&id) {
            if state.reserve {
                inner.reserve -= 1;
            } else {
                inner.general -= 1;
            }
        }
    }
}

/// One request in progress on a connection; dropping it (when the response
/// body has been sent or abandoned) may make the connection idle.
pub struct Busy {
    handle: Handle,
}

impl Handle {
    pub fn limits(&self) -> Limits {
        self.connections.limits()
    }

    pub fn start(&self) -> Busy {
        let mut inner = self.connections.lock();
        if let Some(state) = inner.open.get_mut(&self.id) {
            state.in_flight += 1;
            state.served = true;
        }
        inner.idle.remove(&self.id);
        Busy {
            handle: self.clone(),
        }
    }

    /// The connection became a WebSocket: never idle again.
    pub fn upgraded(&self) {
        let mut inner = self.connections.lock();
        if let Some(state) = inner.open.get_mut(&self.id) {
            state.upgraded = true;
        }
        inner.idle.remove(&self.id);
    }

    /// When the connection is due to be closed for idling, if it is idle.
    pub fn idle_deadline(&self) -> Option<Instant> {
        let limits = self.connections.limits();
        let inner = self.connections.lock();
        let state = inner.open.get(&self.id)?;
        if state.in_flight > 0 || state.upgraded {
            return None;
        }
        let limit = if state.served {
            limits.idle_timeout
        } else {
            limits.header_read_timeout
        };
        Some(state.idle_since + limit)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let mut inner = self.handle.connections.lock();
        let id = self.handle.id;
        let Some(state) = inner.open.get_mut(&id) else {
            return;
        };
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0 && !state.upgraded {
            state.idle_since = Instant::now();
            inner.idle.insert(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connections(max: usize, reserve: usize) -> Arc<Connections> {
        Arc::new(Connections::new(Limits {
            max_connections: max,
            reserve,
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
        }))
    }

    #[test]
    fn a_full_gateway_closes_the_oldest_idle_connection_then_uses_the_reserve() {
        let conns = connections(2, 1);
        let first = conns.admit().unwrap();
        let second = conns.admit().unwrap();
        let _busy = second.handle.start();
        // Full: the first (idle) makes room.
        let third = conns.admit().unwrap();
        assert!(first.handle.evicted.is_cancelled());
        assert_eq!(third.handle.class, Class::General);
        drop(first);
        let _busy3 = third.handle.start();
        // Everyone busy: the reserve, then nothing.
        let reserve = conns.admit().unwrap();
        assert_eq!(reserve.handle.class, Class::Reserve);
        let _busy4 = reserve.handle.start();
        assert!(conns.admit().is_none());
        assert_eq!(conns.open(), (2, 1));
    }

    #[test]
    fn busy_and_upgraded_connections_have_no_idle_deadline() {
        let conns = connections(10, 0);
        let slot = conns.admit().unwrap();
        assert!(slot.handle.idle_deadline().is_some());
        let busy = slot.handle.start();
        assert!(slot.handle.idle_deadline().is_none());
        drop(busy);
        assert!(slot.handle.idle_deadline().is_some());
        slot.handle.upgraded();
        assert!(slot.handle.idle_deadline().is_none());
        drop(slot);
        assert_eq!(conns.open(), (0, 0));
    }
}
