//! The accept loop: HTTP/1.1 connections with explicit bounds, so that slow or idle clients
//! cannot use up the server's file descriptors.
//!
//! - **Header time-out** (`limits.header_read_timeout_secs`): a connection must deliver each
//!   request's header within this time, counted from when the connection opens or when the
//!   previous answer went out; otherwise it is closed. This is what stops a client that opens
//!   connections and never finishes a header (slowloris), and it also ends keep-alive
//!   connections that sit waiting for a next request.
//! - **Idle time-out** (`limits.idle_timeout_secs`): a connection that moves no bytes in either
//!   direction for this long is closed, after the answer to a request in progress (a slow body
//!   is bounded by the request time-out as well).
//! - **Connections in all** (`limits.max_connections`) and **per client address**
//!   (`limits.max_connections_per_address`, IPv6 by /64; 0 turns it off, as behind a proxy):
//!   over either, a new connection gets `503` with `Retry-After` and is closed at once, so the
//!   descriptors held never pass the limit and one address cannot take them all.
//!
//! On shutdown every connection finishes the request it is serving and is then closed.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::metrics::HttpMetrics;

/// The bounds of client connections (ARCHITECTURE.md, "Bounds").
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Connections open at once, all addresses together.
    pub max_connections: usize,
    /// Connections open at once from one client address (0: no limit).
    pub max_per_address: usize,
    /// Time for a request's header to arrive.
    pub header_read_timeout: Duration,
    /// Time a connection may move no bytes at all.
    pub idle_timeout: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 10_000,
            max_per_address: 256,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// The address a client is counted under: IPv4 whole, IPv6 by its /64 (one subscriber's
/// network), as the public rate limits do.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => {
            let mut segments = v6.segments();
            for s in &mut segments[4..] {
                *s = 0;
            }
            IpAddr::V6(segments.into())
        }
    }
}

/// Open connections, in all and per address.
#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Why a connection was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Total,
    PerAddress,
}

/// One connection's place in the counts; given back when dropped.
#[derive(Debug)]
struct Slot {
    open: Arc<Mutex<Open>>,
    address: IpAddr,
    metrics: Arc<HttpMetrics>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.address);
            }
        }
        self.metrics.connections_open.dec();
    }
}

fn take_slot(open: &Arc<Mutex<Open>>, limits: &ConnectionLimits, ip: IpAddr, metrics: &Arc<HttpMetrics>) -> Result<Slot, Refusal> {
    let address = address_key(ip);
    let mut counts = open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if counts.total >= limits.max_connections {
        return Err(Refusal::Total);
    }
    let here = counts.by_address.get(&address).copied().unwrap_or(0);
    if limits.max_per_address > 0 && here >= limits.max_per_address {
        return Err(Refusal::PerAddress);
    }
    counts.total += 1;
    *counts.by_address.entry(address).or_insert(0) += 1;
    metrics.connections_open.inc();
    Ok(Slot {
        open: Arc::clone(open),
        address,
        metrics: Arc::clone(metrics),
    })
}

/// A stream that notes when it last moved a byte.
#[derive(Debug)]
struct Tracked {
    inner: TcpStream,
    started: Instant,
    /// Milliseconds after `started` of the last read or write that moved bytes.
    last: Arc<AtomicU64>,
}

impl Tracked {
    fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(ms, Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.touch();
        }
        polled
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// What a refused connection is told before it is closed (best effort: never waits).
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 93\r\n\r\n{\"error\":{\"code\":\"unavailable\",\"message\":\"the server holds as many connections as it takes\"}}";

/// Serves `app` on `listener` until `shutdown` fires, then lets every connection finish its
/// request and returns.
pub async fn serve(listener: TcpListener, app: Router, limits: ConnectionLimits, metrics: Arc<HttpMetrics>, shutdown: CancellationToken) {
    let open = Arc::new(Mutex::new(Open::default()));
    let tracker = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of descriptors or a connection reset before it was taken: wait a little
                // rather than spin, as the limits should keep the first from happening.
                tracing::warn!(error = %e, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let slot = match take_slot(&open, &limits, remote.ip(), &metrics) {
            Ok(slot) => slot,
            Err(refusal) => {
                let counter = match refusal {
                    Refusal::Total => &metrics.connections_refused_total,
                    Refusal::PerAddress => &metrics.connections_refused_address,
                };
                counter.inc();
                let _ = stream.try_write(REFUSED);
                drop(stream);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        tracker.spawn(connection(stream, remote, app.clone(), limits.clone(), slot, shutdown.clone()));
    }
    tracker.close();
    tracker.wait().await;
}

async fn connection(stream: TcpStream, remote: SocketAddr, app: Router, limits: ConnectionLimits, slot: Slot, shutdown: CancellationToken) {
    let last = Arc::new(AtomicU64::new(0));
    let io = Tracked {
        inner: stream,
        started: Instant::now(),
        last: Arc::clone(&last),
    };
    let started = io.started;
    let service = app.map_request(move |mut request: axum::extract::Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(remote));
        request.map(axum::body::Body::new)
    });
    let service = hyper_util::service::TowerToHyperService::new(service);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let check = (limits.idle_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(5));
    let mut closing = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            () = shutdown.cancelled(), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            () = tokio::time::sleep(check), if !closing => {
                let idle_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX).saturating_sub(last.load(Ordering::Relaxed));
                if Duration::from_millis(idle_ms) >= limits.idle_timeout {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
    drop(slot);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_address_and_in_all() {
        let metrics = Arc::new(HttpMetrics::register(&mut prometheus_client::registry::Registry::default()));
        let open = Arc::new(Mutex::new(Open::default()));
        let limits = ConnectionLimits {
            max_connections: 3,
            max_per_address: 2,
            ..ConnectionLimits::default()
        };
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "2001:db8::1".parse().expect("ip");
        let b_same_net: IpAddr = "2001:db8::ffff:1".parse().expect("ip");
        let first = take_slot(&open, &limits, a, &metrics).expect("free");
        let _second = take_slot(&open, &limits, a, &metrics).expect("free");
        assert_eq!(take_slot(&open, &limits, a, &metrics).err(), Some(Refusal::PerAddress));
        let _third = take_slot(&open, &limits, b, &metrics).expect("another address");
        assert_eq!(take_slot(&open, &limits, b_same_net, &metrics).err(), Some(Refusal::Total));
        drop(first);
        let _fourth = take_slot(&open, &limits, b_same_net, &metrics).expect("a freed slot is taken again");
        assert_eq!(address_key(b), address_key(b_same_net), "IPv6 by /64");
        assert_eq!(metrics.connections_open.get(), 3);
    }
}
