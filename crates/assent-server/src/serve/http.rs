//! Serving connections: accepting under the connection limits
//! ([`super::connections`]), TLS, HTTP/1.1 and HTTP/2 with header-read and
//! idle timeouts, the `Host` check, and draining on shutdown.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, Response, StatusCode, Version, header};
use axum::response::IntoResponse;
use http_body::Frame;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::connections::{Busy, Class, Connections, Handle, Slot};
use crate::error::ApiError;

/// How often an HTTP/2 connection is pinged, and how long the answer may take.
const H2_PING: Duration = Duration::from_secs(20);

/// Accepts connections until `shutdown`, then waits for the open ones to
/// finish their requests.
pub async fn accept(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Router,
    connections: std::sync::Arc<Connections>,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(&e).await;
                continue;
            }
        };
        let Some(slot) = connections.admit() else {
            refuse(&stream, tls.is_some());
            continue;
        };
        let _ = stream.set_nodelay(true);
        tracker.spawn(connection(
            stream,
            peer,
            slot,
            tls.clone(),
            app.clone(),
            shutdown.clone(),
        ));
    }
    drop(listener);
    tracker.close();
    tracker.wait().await;
    Ok(())
}

/// Out of file descriptors (or another resource): back off briefly instead
/// of spinning; a connection that failed on its own is just skipped.
async fn accept_failed(e: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::warn!(error = %e, "accepting a connection failed; backing off");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// The gateway is full: says so (over plain HTTP; best effort, never
/// waiting) and closes the connection.
fn refuse(stream: &TcpStream, tls: bool) {
    tracing::debug!("connection refused: at max_connections with the reserve in use");
    if !tls {
        let body = r#"{"type":"urn:assent:problem:overloaded","title":"Service Unavailable","status":503,"detail":"the gateway is at its connection limit; retry later"}"#;
        let response = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
             retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.try_write(response.as_bytes());
    }
}

/// One connection, from the TLS handshake to its close.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    slot: Slot,
    tls: Option<TlsAcceptor>,
    app: Router,
    shutdown: CancellationToken,
) {
    let handle = slot.handle.clone();
    let Some(acceptor) = tls else {
        return serve(
            Tracked {
                io: stream,
                _slot: slot,
            },
            handle,
            peer,
            app,
            shutdown,
        )
        .await;
    };
    // The handshake counts against the header-read timeout.
    let limit = handle.idle_deadline().unwrap_or_else(Instant::now);
    let handshake = tokio::select! {
        done = tokio::time::timeout_at(limit.into(), acceptor.accept(stream)) => done,
        () = handle.evicted.cancelled() => return,
    };
    match handshake {
        Ok(Ok(stream)) => {
            serve(
                Tracked {
                    io: stream,
                    _slot: slot,
                },
                handle,
                peer,
                app,
                shutdown,
            )
            .await
        }
        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
    }
}

/// Serves HTTP on one connection until it closes, idles out, is closed to
/// make room, or the gateway shuts down (in-flight requests finish first).
async fn serve<IO>(
    io: Tracked<IO>,
    handle: Handle,
    peer: SocketAddr,
    app: Router,
    shutdown: CancellationToken,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = handle.limits();
    let service = {
        let handle = handle.clone();
        hyper::service::service_fn(move |request| {
            respond(request, handle.clone(), peer, app.clone())
        })
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        // A reserve connection serves one request.
        .keep_alive(handle.class == Class::General);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING)
        .keep_alive_timeout(H2_PING);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        // Busy connections are looked at again after a header-read timeout.
        let check_at = handle
            .idle_deadline()
            .unwrap_or_else(|| Instant::now() + limits.header_read_timeout);
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            () = handle.evicted.cancelled(), if !draining => {
                if handle.idle_deadline().is_some() {
                    tracing::debug!(%peer, "idle connection closed to make room");
                    return;
                }
                // A request started as it was picked: finish it, then close.
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
            () = shutdown.cancelled(), if !draining => {
                conn.as_mut().graceful_shutdown();
                draining = true;
            }
            () = tokio::time::sleep_until(check_at.into()) => {
                if handle.idle_deadline().is_some_and(|due| due <= Instant::now()) {
                    tracing::debug!(%peer, "idle connection timed out");
                    return;
                }
            }
        }
    }
}

/// One request: the checks made before routing, then the router; the
/// connection counts as busy until the response body is done.
async fn respond(
    mut request: Request<Incoming>,
    handle: Handle,
    peer: SocketAddr,
    app: Router,
) -> Result<Response<Body>, Infallible> {
    if request.version() == Version::HTTP_11 && !request.headers().contains_key(header::HOST) {
        return Ok(ApiError::BadRequest(
            "Host: an HTTP/1.1 request must carry a Host header".into(),
        )
        .into_response());
    }
    if handle.class == Class::Reserve && !for_the_reserve(request.method(), request.uri().path()) {
        return Ok(ApiError::Overloaded.into_response());
    }
    request.extensions_mut().insert(ConnectInfo(peer));
    let busy = handle.start();
    let response = match app.oneshot(request.map(Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        handle.upgraded();
    }
    Ok(response.map(|body| Body::new(BusyBody { body, _busy: busy })))
}

/// What a connection let in beyond `max_connections` may ask: health
/// checks and reviews, so people can still decide while the gateway is full.
fn for_the_reserve(method: &Method, path: &str) -> bool {
    match *method {
        Method::GET | Method::HEAD => matches!(path, "/healthz" | "/readyz"),
        Method::POST => path.starts_with("/v1/approvals/") && path.ends_with("/reviews"),
        _ => false,
    }
}

/// A response body that keeps its connection busy until it is done.
struct BusyBody {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for BusyBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// A connection's socket with its place among the open connections: the
/// place is freed when the socket closes, also after a WebSocket upgrade.
struct Tracked<IO> {
    io: IO,
    _slot: Slot,
}

impl<IO: AsyncRead + Unpin> AsyncRead for Tracked<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Tracked<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
