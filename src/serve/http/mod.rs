//! The preview's HTTP server (hyper, on a tokio runtime of its own thread): answers from
//! the in-memory `Snapshot` of the last good build, so a request never sees a half-built
//! site and nothing outside the build can be reached. Owns the connections: accepting,
//! their limits and timeouts, and swapping in each new snapshot. Which answer a request
//! gets is `route`'s pure decision (safe by default: only GET and HEAD, only this
//! server's own host, only clean paths, the live-reload stream only for its own pages);
//! `reply` turns that answer into what hyper sends.
//!
//! No client can hold the server: each connection is a task, not a thread, and at most
//! `Limits::connections` are open at once (more wait in the listen backlog). A request's
//! headers must arrive within `Limits::headers` of the connection opening or of the
//! previous answer, which closes idle keep-alive connections, connections that never
//! send a byte and slow senders alike; a write that waits `Limits::write` for the client
//! to read closes the connection. A live-reload stream is an answer still being sent,
//! so no read timeout cuts it; a page that stops reading it is dropped.

mod path;
mod reply;
mod route;
mod snapshot;

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, oneshot};
use tokio::time::Sleep;

use super::live::Live;
use reply::Reply;
use route::{Answer, RequestHead};
pub(crate) use snapshot::Snapshot;

/// A request line and headers past this size are refused (431, or 414 for a long URL)
/// instead of buffered: what a connection can make the server hold is bounded.
const MAX_HEAD: usize = 128 * 1024;
/// How long to wait before accepting again after `accept` failed (out of file
/// descriptors, most likely): retrying at once would spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

/// How long and how many connections may keep the server waiting.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// From a connection's start, or the end of its previous answer, to the end of the
    /// next request's headers.
    headers: Duration,
    /// How long a write may wait for the client to read.
    write: Duration,
    /// Connections open at once, live-reload streams included.
    connections: usize,
}

impl Limits {
    const DEFAULT: Limits =
        Limits { headers: Duration::from_secs(10), write: Duration::from_secs(10), connections: 512 };
}

/// The running preview server: serves the published `Snapshot` until `stop`.
pub(crate) struct Server {
    shared: Arc<Shared>,
    /// Sent (or dropped) to stop: the server's thread then closes every connection.
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
    url: String,
}

struct Shared {
    snapshot: RwLock<Arc<Snapshot>>,
    live: Arc<Live>,
    /// The address the server listens on: the only one requests may name as Host.
    local: SocketAddr,
}

impl Server {
    pub(crate) fn start(
        listener: TcpListener,
        local: SocketAddr,
        snapshot: Arc<Snapshot>,
        live: Arc<Live>,
    ) -> Result<Self, String> {
        Self::start_with(listener, local, snapshot, live, Limits::DEFAULT)
    }

    fn start_with(
        listener: TcpListener,
        local: SocketAddr,
        snapshot: Arc<Snapshot>,
        live: Arc<Live>,
        limits: Limits,
    ) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start its runtime: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let listener = {
            let _inside = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?
        };
        let shared = Arc::new(Shared { snapshot: RwLock::new(snapshot), live, local });
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("imrf-site-http".into())
            .spawn(move || {
                runtime.block_on(async move {
                    tokio::spawn(accept(listener, serving, limits));
                    // Sent by `stop`, or failed because the `Server` is gone: stop either way.
                    let _ = stopped.await;
                });
                // Dropping the runtime drops every connection, live-reload streams included.
                drop(runtime);
            })
            .map_err(|e| format!("cannot start its thread: {e}"))?;
        let url = format!("http://{}/", url_host(local));
        Ok(Self { shared, stop, thread, url })
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.current()
    }

    /// Serves `snapshot` from now on; requests already answering keep the old one.
    pub(crate) fn publish(&self, snapshot: impl Into<Arc<Snapshot>>) {
        *self.shared.snapshot.write().unwrap_or_else(PoisonError::into_inner) = snapshot.into();
    }

    /// Stops listening and closes every connection; returns when they are closed.
    pub(crate) fn stop(self) {
        // The thread may have ended already (it panicked): nothing left to stop then.
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// Accepts connections while fewer than `limits.connections` are open, each served by
/// a task of its own.
async fn accept(listener: tokio::net::TcpListener, shared: Arc<Shared>, limits: Limits) {
    let slots = Arc::new(Semaphore::new(limits.connections));
    loop {
        // Fails only once the semaphore is closed, which nothing does.
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                tokio::time::sleep(ACCEPT_RETRY).await;
                continue;
            }
        };
        // Each answer is written at once, so Nagle's algorithm could only delay it; were
        // turning it off to fail, answers would still go out.
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let io = TokioIo::new(WriteDeadline { stream, limit: limits.write, stalled: None });
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                std::future::ready(Ok::<_, Infallible>(shared.respond(&request)))
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.headers)
                .max_buf_size(MAX_HEAD)
                .serve_connection(io, service);
            // It ends in an error when the client times out, sends garbage or goes away
            // (hyper has answered 400 to garbage already): nothing to report.
            let _ = connection.await;
            drop(slot);
        });
    }
}

/// A client connection whose writes fail once one has waited `limit` without the
/// client reading anything: hyper puts no timeout on writes.
struct WriteDeadline {
    stream: tokio::net::TcpStream,
    limit: Duration,
    /// Started when a write has to wait; any progress clears it.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl WriteDeadline {
    fn deadline<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit;
        let timer = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client stopped reading"))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.deadline(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.deadline(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_flush(cx);
        this.deadline(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.deadline(cx, poll)
    }
}

/// `127.0.0.1:1111`, or `[::1]:1111` for IPv6.
fn url_host(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    }
}

impl Shared {
    fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn respond(&self, request: &Request<Incoming>) -> Response<Reply> {
        match route::answer(&RequestHead::of(request), &self.current(), self.local) {
            // Read just before the page joins `Live`: the nearer `connect`, the narrower the
            // window in which a new build could go unannounced to it.
            Answer::Events(seen) => reply::events(&self.live, seen, self.current().generation),
            Answer::Body { status, content_type, body, location } => reply::full(status, content_type, body, location),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    use hyper::body::Bytes;

    use super::*;
    use crate::build::SharedFile;
    use crate::serve::live::LiveEvent;

    const BIG: usize = 4 << 20;

    /// A server with `limits` on a free loopback port, serving a page and a big file;
    /// its `Live` and its `host:port`.
    fn start(limits: Limits) -> (Server, Arc<Live>, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let local = listener.local_addr().unwrap();
        let files = [
            SharedFile { path: "index.html".into(), bytes: Bytes::from_static(b"<html><body>home</body></html>") },
            SharedFile { path: "big.bin".into(), bytes: Bytes::from(vec![7; BIG]) },
        ];
        let snapshot = Arc::new(Snapshot::of_files(files.iter(), files.len(), "/", 1));
        let live = Arc::new(Live::default());
        let server = Server::start_with(listener, local, snapshot, Arc::clone(&live), limits).unwrap();
        (server, live, url_host(local))
    }

    fn connect(host: &str) -> TcpStream {
        let stream = TcpStream::connect(host).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    }

    /// Reads until the server closes the connection; `None` if it is still open after the
    /// read timeout. Counts the bytes received.
    fn read_until_closed(mut stream: &TcpStream) -> Option<usize> {
        let mut received = 0;
        let mut buffer = vec![0; 64 * 1024];
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => return Some(received),
                Ok(n) => received += n,
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Some(received),
                Err(_) => return None,
            }
        }
    }

    /// Reads the live-reload stream up to a line starting with `prefix`.
    fn read_to(events: &mut impl BufRead, prefix: &str) {
        let mut line = String::new();
        while !line.starts_with(prefix) {
            line.clear();
            assert!(events.read_line(&mut line).unwrap() > 0, "the stream closed before `{prefix}`");
        }
    }

    #[test]
    fn idle_connections_are_closed_but_not_live_reload_streams() {
        let limits = Limits { headers: Duration::from_millis(300), ..Limits::DEFAULT };
        let (server, live, host) = start(limits);
        let idle = connect(&host);
        let mut events = connect(&host);
        write!(events, "GET /__imrf-site/events?build=1 HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
        let mut events = BufReader::new(events);
        read_to(&mut events, "retry: 500");
        let started = Instant::now();
        assert_eq!(read_until_closed(&idle), Some(0), "the idle connection was kept open");
        assert!(started.elapsed() < Duration::from_secs(5), "closed only after {:?}", started.elapsed());

        std::thread::sleep(Duration::from_secs(1));
        live.broadcast(LiveEvent::Reload { generation: 2 });
        read_to(&mut events, "event: reload");
        // Stopping closes the streams too.
        server.stop();
        assert!(read_until_closed(events.get_ref()).is_some(), "a live-reload stream outlived the server");
    }

    #[test]
    fn a_client_that_stops_reading_is_dropped() {
        let limits = Limits { write: Duration::from_millis(300), ..Limits::DEFAULT };
        let (_server, _, host) = start(limits);
        let mut stream = connect(&host);
        // Far more than the socket buffers hold, asked for at once and never read.
        for _ in 0..8 {
            write!(stream, "GET /big.bin HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
        }
        std::thread::sleep(Duration::from_secs(2));
        let received = read_until_closed(&stream).expect("the connection was kept open");
        assert!(received < 8 * BIG, "all {received} bytes were sent");
    }

    #[test]
    fn a_request_body_is_not_waited_for() {
        let (_server, _, host) = start(Limits::DEFAULT);
        let mut stream = connect(&host);
        write!(stream, "GET / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 100000\r\n\r\nxx").unwrap();
        let started = Instant::now();
        let received = read_until_closed(&stream).expect("the connection was kept open for the rest of the body");
        assert!(received > 0 && started.elapsed() < Duration::from_secs(5), "{received} bytes");
    }

    #[test]
    fn connections_beyond_the_limit_wait_for_a_free_slot() {
        let limits = Limits { headers: Duration::from_millis(500), connections: 2, ..Limits::DEFAULT };
        let (_server, _, host) = start(limits);
        let _idle = [connect(&host), connect(&host)];
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        let mut stream = connect(&host);
        write!(stream, "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200 OK"), "{reply}");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(300), "answered after {waited:?}, while both slots were taken");
    }
}
