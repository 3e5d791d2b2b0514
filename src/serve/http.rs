//! The preview's HTTP side (hyper, on a tokio runtime of its own thread): answers from
//! the in-memory `Snapshot` of the last good build, so a request never sees a half-built
//! site and nothing outside the build can be reached. Safe by default: only GET and
//! HEAD, only requests addressed to this server's own host (a DNS-rebinding page cannot
//! read the preview), only decoded paths without `..`, backslashes or double encoding,
//! and the live-reload stream only for pages of its own origin.
//!
//! No client can hold the server: each connection is a task, not a thread, and at most
//! `Limits::connections` are open at once (more wait in the listen backlog). A request's
//! headers must arrive within `Limits::headers` of the connection opening or of the
//! previous answer, which closes idle keep-alive connections, connections that never
//! send a byte and slow senders alike; a write that waits `Limits::write` for the client
//! to read closes the connection. A live-reload stream is an answer still being sent,
//! so no read timeout cuts it; a page that stops reading it is dropped.

use std::convert::Infallible;
use std::future::Future;
use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use rustc_hash::FxHashMap;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::Sleep;

use super::live::{CLIENT_SCRIPT, Live};
use crate::build::SharedFile;

/// The paths the preview answers itself; no generated file starts with them.
const RESERVED_PREFIX: &str = "/__imrf-site/";
const SCRIPT_PATH: &str = "/__imrf-site/live-reload.js";
const EVENTS_PATH: &str = "/__imrf-site/events";
const FOREIGN_HOST: &str = "this preview only answers requests addressed to its own address";
/// Longer request targets are refused: no page has such a URL.
const MAX_URL: usize = 8 * 1024;
/// A request line and headers past this size are refused (431, or 414 for a long URL)
/// instead of buffered: what a connection can make the server hold is bounded.
const MAX_HEAD: usize = 128 * 1024;
/// Live-reload messages waiting for a page that does not read them; past this the page
/// is dropped (its `EventSource` reconnects once it reads again).
const EVENT_BACKLOG: usize = 32;
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

/// One successful build as served: output path to bytes.
pub struct Snapshot {
    /// By path; the paths are the site's own, so a fast hash is safe.
    files: FxHashMap<Arc<str>, Bytes>,
    /// The base URL's path (`/` or `/imrf/`): the site is served under it.
    base_path: String,
    /// Counts successful builds, so a page can tell whether it is out of date.
    pub generation: u64,
}

impl Snapshot {
    /// Serves `files`, whose paths and bytes it shares (nothing is copied); `expected`
    /// is about how many there are.
    pub fn of_files<'a>(
        files: impl Iterator<Item = &'a SharedFile>,
        expected: usize,
        base_path: &str,
        generation: u64,
    ) -> Self {
        let mut map = FxHashMap::with_capacity_and_hasher(expected, Default::default());
        map.extend(files.map(|f| (Arc::clone(&f.path), f.bytes.clone())));
        Self { files: map, base_path: base_path.to_string(), generation }
    }

    /// How many files it serves.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Before the first successful build: every page is the error overlay.
    pub fn empty() -> Self {
        Self { files: FxHashMap::default(), base_path: "/".into(), generation: 0 }
    }
}

pub struct Server {
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
    pub fn start(
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

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.shared.current()
    }

    /// Serves `snapshot` from now on; requests already answering keep the old one.
    pub fn publish(&self, snapshot: Snapshot) {
        *self.shared.snapshot.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
    }

    /// Stops listening and closes every connection; returns when they are closed.
    pub fn stop(self) {
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

/// An answer's body: known in full, or a live-reload stream that `Live` feeds.
enum Reply {
    Full(Option<Bytes>),
    Events(mpsc::Receiver<Bytes>),
}

impl Body for Reply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Reply::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            // Ends when `Live` drops the page (it stopped reading) or the server stops.
            Reply::Events(receiver) => receiver.poll_recv(cx).map(|message| message.map(|m| Ok(Frame::data(m)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Reply::Full(None))
    }

    /// Exact for a full body, so it is sent with its length rather than in chunks.
    fn size_hint(&self) -> SizeHint {
        match self {
            Reply::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Reply::Events(_) => SizeHint::default(),
        }
    }
}

/// The write end of a live-reload stream, as `Live` keeps it: each message becomes one
/// chunk of the answer. Writing fails when the page went away or has `EVENT_BACKLOG`
/// messages unread, and `Live` then forgets it.
struct EventSink(mpsc::Sender<Bytes>);

impl Write for EventSink {
    fn write(&mut self, message: &[u8]) -> io::Result<usize> {
        match self.0.try_send(Bytes::copy_from_slice(message)) {
            Ok(()) => Ok(message.len()),
            Err(_) => Err(io::Error::new(io::ErrorKind::BrokenPipe, "the page stopped listening")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `127.0.0.1:1111`, or `[::1]:1111` for IPv6.
fn url_host(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    }
}

/// Whether a Host header (or an Origin's host) names this server: its port, and its
/// address, `localhost` on loopback, or any address when it listens on all of them.
/// Any other name could be an attacker's domain made to resolve here (DNS rebinding).
fn host_allowed(host: &str, local: SocketAddr) -> bool {
    let Some((name, port)) = host.rsplit_once(':') else { return false };
    if port.parse() != Ok(local.port()) {
        return false;
    }
    let bound = local.ip();
    if name.eq_ignore_ascii_case("localhost") {
        return bound.is_loopback() || bound.is_unspecified();
    }
    let name = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')).unwrap_or(name);
    match name.parse::<IpAddr>() {
        Ok(ip) => ip == bound || bound.is_unspecified() || (bound.is_loopback() && ip.is_loopback()),
        Err(_) => false,
    }
}

impl Shared {
    fn current(&self) -> Arc<Snapshot> {
        Arc::clone(&self.snapshot.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn respond(&self, request: &Request<Incoming>) -> Response<Reply> {
        match self.answer(request) {
            Answer::Events(seen) => {
                let current = self.current().generation;
                let (sender, receiver) = mpsc::channel(EVENT_BACKLOG);
                // The greeting waits in the channel until hyper sends the headers.
                self.live.connect(Box::new(EventSink(sender)), seen, current);
                let mut response = Response::new(Reply::Events(receiver));
                set_headers(
                    &mut response,
                    [
                        (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
                        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                        // One stream per connection, as the page's EventSource expects.
                        (header::CONNECTION, HeaderValue::from_static("close")),
                    ],
                );
                response
            }
            Answer::Body { status, content_type, body, location } => {
                let mut response = Response::new(Reply::Full(Some(body)));
                *response.status_mut() = status;
                set_headers(
                    &mut response,
                    [
                        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                    ],
                );
                if let Some(location) = location {
                    set_headers(&mut response, [(header::LOCATION, location)]);
                }
                response
            }
        }
    }

    fn answer(&self, request: &Request<Incoming>) -> Answer {
        if !matches!(*request.method(), Method::GET | Method::HEAD) {
            return Answer::text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD are served");
        }
        let Some(host) = header_value(request, header::HOST) else {
            // HTTP/1.1 requires a Host header: without one the request is malformed (RFC 9112).
            if request.version() >= Version::HTTP_11 {
                return Answer::text(StatusCode::BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
            }
            return Answer::text(StatusCode::FORBIDDEN, FOREIGN_HOST);
        };
        if !host_allowed(host, self.local) {
            return Answer::text(StatusCode::FORBIDDEN, FOREIGN_HOST);
        }
        let uri = request.uri();
        let target = uri.path_and_query().map_or("", |target| target.as_str());
        if target.len() > MAX_URL {
            return Answer::text(StatusCode::BAD_REQUEST, "request path too long");
        }
        let (path, query) = match target.split_once('?') {
            Some((path, query)) => (path, query),
            None => (target, ""),
        };
        // An absolute URL as the target (`GET http://host/path`) names a second host.
        let clean = if uri.scheme().is_some() || uri.authority().is_some() { None } else { clean_path(path) };
        let Some(path) = clean else {
            return Answer::text(StatusCode::BAD_REQUEST, "bad path");
        };
        let snapshot = self.current();
        if path == EVENTS_PATH {
            if !self.same_origin(request) {
                return Answer::text(StatusCode::FORBIDDEN, "live reload is only for pages of this preview");
            }
            let seen = query.split('&').find_map(|pair| pair.strip_prefix("build=")).and_then(|n| n.parse().ok());
            return Answer::Events(seen);
        }
        if path == SCRIPT_PATH {
            return Answer::ok("text/javascript; charset=utf-8", Bytes::from_static(CLIENT_SCRIPT.as_bytes()));
        }
        if path.starts_with(RESERVED_PREFIX) {
            return Answer::text(StatusCode::NOT_FOUND, "not found");
        }
        if snapshot.generation == 0 {
            // No build has succeeded yet: a page that shows the error and reloads when fixed.
            return Answer::html(StatusCode::SERVICE_UNAVAILABLE, inject(PLACEHOLDER.as_bytes(), 0));
        }
        let Some(inside) = path.strip_prefix(snapshot.base_path.as_str()) else {
            if path == "/" {
                return Answer::redirect(&snapshot.base_path);
            }
            return self.not_found(&snapshot);
        };
        let file =
            if inside.is_empty() || inside.ends_with('/') { format!("{inside}index.html") } else { inside.to_string() };
        if let Some(bytes) = snapshot.files.get(file.as_str()) {
            return Answer::file(StatusCode::OK, &file, bytes, snapshot.generation);
        }
        if snapshot.files.contains_key(format!("{inside}/index.html").as_str()) {
            return Answer::redirect(&format!("{path}/"));
        }
        self.not_found(&snapshot)
    }

    fn not_found(&self, snapshot: &Snapshot) -> Answer {
        match snapshot.files.get("404.html") {
            Some(bytes) => Answer::file(StatusCode::NOT_FOUND, "404.html", bytes, snapshot.generation),
            None => Answer::text(StatusCode::NOT_FOUND, "not found"),
        }
    }

    /// An EventSource of our own pages sends no Origin, or ours; a foreign page's does.
    fn same_origin(&self, request: &Request<Incoming>) -> bool {
        let origin_ok = match header_value(request, header::ORIGIN) {
            None => true,
            Some(origin) => origin.strip_prefix("http://").is_some_and(|host| host_allowed(host, self.local)),
        };
        let site_ok =
            header_value(request, HeaderName::from_static("sec-fetch-site")).is_none_or(|site| site == "same-origin");
        origin_ok && site_ok
    }
}

fn set_headers<const N: usize>(response: &mut Response<Reply>, headers: [(HeaderName, HeaderValue); N]) {
    for (name, value) in headers {
        response.headers_mut().insert(name, value);
    }
}

const PLACEHOLDER: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>imrf-site: no build yet</title></head>\n<body><p>The site has not built yet: see the error in the terminal. This page reloads when it builds.</p></body></html>\n";

enum Answer {
    Events(Option<u64>),
    Body { status: StatusCode, content_type: &'static str, body: Bytes, location: Option<HeaderValue> },
}

impl Answer {
    fn text(status: StatusCode, text: &str) -> Self {
        Answer::Body {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::from(format!("{text}\n")),
            location: None,
        }
    }

    fn ok(content_type: &'static str, body: Bytes) -> Self {
        Answer::Body { status: StatusCode::OK, content_type, body, location: None }
    }

    fn html(status: StatusCode, body: Vec<u8>) -> Self {
        Answer::Body { status, content_type: "text/html; charset=utf-8", body: Bytes::from(body), location: None }
    }

    fn redirect(to: &str) -> Self {
        Answer::Body {
            status: StatusCode::MOVED_PERMANENTLY,
            content_type: "text/plain; charset=utf-8",
            body: Bytes::new(),
            location: Some(location(to)),
        }
    }

    fn file(status: StatusCode, path: &str, bytes: &Bytes, generation: u64) -> Self {
        let content_type = content_type(path);
        let body =
            if content_type.starts_with("text/html") { Bytes::from(inject(bytes, generation)) } else { bytes.clone() };
        Answer::Body { status, content_type, body, location: None }
    }
}

/// A decoded path as a `Location` header: percent-encoded again where a header or a URL
/// path cannot hold it as it is (`/zh/搜/` → `/zh/%E6%90%9C/`, `?` → `%3F`).
fn location(path: &str) -> HeaderValue {
    let mut encoded = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_graphic() && !b"?#\"<>\\^`{|}".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    // Only visible ASCII is left, which a header value always accepts; `/` otherwise.
    HeaderValue::from_str(&encoded).unwrap_or_else(|_| HeaderValue::from_static("/"))
}

/// The page with the live-reload script added before `</body>` (or at the end).
fn inject(html: &[u8], generation: u64) -> Vec<u8> {
    let tag = format!("<script src=\"{SCRIPT_PATH}\" data-build=\"{generation}\"></script>\n");
    let at = html.windows(7).rposition(|w| w.eq_ignore_ascii_case(b"</body>")).unwrap_or(html.len());
    let mut page = Vec::with_capacity(html.len() + tag.len());
    page.extend_from_slice(&html[..at]);
    page.extend_from_slice(tag.as_bytes());
    page.extend_from_slice(&html[at..]);
    page
}

fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "pdf" => "application/pdf",
        "webmanifest" => "application/manifest+json",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// The first header of that name, when it is text.
fn header_value(request: &Request<Incoming>, name: HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|value| value.to_str().ok())
}

/// The request path decoded once, or `None` when it could reach outside the site or
/// is ambiguous: `.`/`..` segments, empty segments, backslashes, control characters,
/// an encoded `/`, or anything still percent-encoded after decoding (double encoding).
fn clean_path(raw: &str) -> Option<String> {
    if !raw.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(raw)?;
    if decoded.contains(['\\', '%']) || decoded.chars().any(char::is_control) {
        return None;
    }
    if raw.to_ascii_lowercase().contains("%2f") {
        return None;
    }
    let segments: Vec<&str> = decoded[1..].split('/').collect();
    let last = segments.len() - 1;
    for (index, segment) in segments.iter().enumerate() {
        if *segment == "." || *segment == ".." || (segment.is_empty() && index != last) {
            return None;
        }
    }
    Some(decoded)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = bytes.get(index + 1..index + 3)?;
            let value = u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
            decoded.push(value);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpStream;
    use std::time::Instant;

    use super::super::live::LiveEvent;
    use super::*;

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

    #[test]
    fn a_page_that_does_not_read_its_events_is_dropped() {
        let (sender, mut receiver) = mpsc::channel(EVENT_BACKLOG);
        let mut sink = EventSink(sender);
        for _ in 0..EVENT_BACKLOG {
            sink.write_all(b": ping\n\n").unwrap();
        }
        assert!(sink.write_all(b": ping\n\n").is_err(), "a backlog past EVENT_BACKLOG was kept");
        assert_eq!(receiver.try_recv().ok(), Some(Bytes::from_static(b": ping\n\n")));
        drop(receiver);
        assert!(sink.write_all(b": ping\n\n").is_err(), "a closed stream accepted a message");
    }

    #[test]
    fn redirects_keep_their_target_valid_in_a_header() {
        assert_eq!(location("/en/"), "/en/");
        assert_eq!(location("/zh/搜/"), "/zh/%E6%90%9C/");
        assert_eq!(location("/a?b#c d/"), "/a%3Fb%23c%20d/");
    }

    #[test]
    fn paths_that_could_leave_the_site_are_refused() {
        assert_eq!(clean_path("/en/objective-14/").as_deref(), Some("/en/objective-14/"));
        assert_eq!(clean_path("/zh/%E6%90%9C/").as_deref(), Some("/zh/搜/"));
        for bad in [
            "/../etc/passwd",
            "/en/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/%252e%252e/etc/passwd",
            "/..%5c..%5cetc/passwd",
            "/..\\etc\\passwd",
            "/en//index.html",
            "/./index.html",
            "/a%00b",
            "/%zz",
            "en/index.html",
            "http://evil.example/en/",
        ] {
            assert_eq!(clean_path(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_script_goes_before_the_closing_body_tag() {
        let page = inject(b"<html><body><p>x</p></BODY></html>", 7);
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("data-build=\"7\"></script>\n</BODY></html>"), "{page}");
    }

    #[test]
    fn only_its_own_address_is_a_valid_host() {
        let loopback: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        for good in ["127.0.0.1:4000", "localhost:4000", "LOCALHOST:4000", "[::1]:4000"] {
            assert!(host_allowed(good, loopback), "{good}");
        }
        for bad in
            ["evil.example:4000", "127.0.0.1:4001", "127.0.0.1", "192.168.1.5:4000", "localhost.evil.example:4000", ""]
        {
            assert!(!host_allowed(bad, loopback), "{bad}");
        }
        let everywhere: SocketAddr = "0.0.0.0:4000".parse().unwrap();
        assert!(host_allowed("192.168.1.5:4000", everywhere));
        assert!(!host_allowed("evil.example:4000", everywhere));
    }
}
