//! The preview's HTTP side (tiny_http): answers from the in-memory `Snapshot` of the
//! last good build, so a request never sees a half-built site and nothing outside the
//! build can be reached. Safe by default: only GET and HEAD, only requests addressed to
//! this server's own host (a DNS-rebinding page cannot read the preview), only decoded
//! paths without `..`, backslashes or double encoding, and the live-reload stream only
//! for pages of its own origin.

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;

use tiny_http::{Header, Method, Request, Response, StatusCode};

use super::live::{CLIENT_SCRIPT, Live};
use crate::output::OutputFile;

/// The paths the preview answers itself; no generated file starts with them.
const RESERVED_PREFIX: &str = "/__imrf-site/";
const SCRIPT_PATH: &str = "/__imrf-site/live-reload.js";
const EVENTS_PATH: &str = "/__imrf-site/events";
/// Longer request targets are refused: no page has such a URL.
const MAX_URL: usize = 8 * 1024;
/// Request handlers; live-reload connections do not hold one.
const WORKERS: usize = 4;

/// One successful build as served: output path to bytes.
pub struct Snapshot {
    files: HashMap<String, Vec<u8>>,
    /// The base URL's path (`/` or `/imrf/`): the site is served under it.
    base_path: String,
    /// Counts successful builds, so a page can tell whether it is out of date.
    pub generation: u64,
}

impl Snapshot {
    pub fn of_site(files: Vec<OutputFile>, base_path: &str, generation: u64) -> Self {
        let files = files.into_iter().map(|f| (f.path, f.bytes)).collect();
        Self { files, base_path: base_path.to_string(), generation }
    }

    /// Before the first successful build: every page is the error overlay.
    pub fn empty() -> Self {
        Self { files: HashMap::new(), base_path: "/".into(), generation: 0 }
    }
}

pub struct Server {
    inner: Arc<tiny_http::Server>,
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
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
        let inner = Arc::new(tiny_http::Server::from_listener(listener, None).map_err(|e| e.to_string())?);
        let shared = Arc::new(Shared { snapshot: RwLock::new(snapshot), live, local });
        let workers = (0..WORKERS)
            .map(|_| {
                let inner = Arc::clone(&inner);
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    // `recv` fails once `unblock` is called: the server is stopping.
                    while let Ok(request) = inner.recv() {
                        shared.handle(request);
                    }
                })
            })
            .collect();
        let url = format!("http://{}/", url_host(local));
        Ok(Self { inner, shared, workers, url })
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

    pub fn stop(self) {
        for _ in &self.workers {
            self.inner.unblock();
        }
        for worker in self.workers {
            // A worker that panicked has nothing left to clean up.
            let _ = worker.join();
        }
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

    fn handle(&self, request: Request) {
        // A client that went away mid-answer needs nothing more: results are dropped.
        match self.answer(&request) {
            Answer::Events(seen) => {
                let current = self.current().generation;
                let mut writer = request.into_writer();
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
                if writer.write_all(head.as_bytes()).and_then(|()| writer.flush()).is_ok() {
                    self.live.connect(writer, seen, current);
                }
            }
            Answer::Body { status, content_type, body, location } => {
                // The whole body is at hand: send its length rather than chunks.
                let mut response =
                    Response::from_data(body).with_status_code(StatusCode(status)).with_chunked_threshold(usize::MAX);
                let headers = [
                    ("Content-Type", Some(content_type)),
                    ("Cache-Control", Some("no-store")),
                    ("X-Content-Type-Options", Some("nosniff")),
                    ("Location", location.as_deref()),
                ];
                for (name, value) in headers {
                    if let Some(header) = value.and_then(|value| Header::from_bytes(name, value).ok()) {
                        response.add_header(header);
                    }
                }
                let _ = request.respond(response);
            }
        }
    }

    fn answer(&self, request: &Request) -> Answer {
        if !matches!(request.method(), Method::Get | Method::Head) {
            return Answer::text(405, "only GET and HEAD are served");
        }
        let Some(host) = header_value(request, "Host") else {
            // HTTP/1.1 requires a Host header: without one the request is malformed (RFC 9112).
            if (request.http_version().0, request.http_version().1) >= (1, 1) {
                return Answer::text(400, "an HTTP/1.1 request needs a Host header");
            }
            return Answer::text(403, "this preview only answers requests addressed to its own address");
        };
        if !host_allowed(host, self.local) {
            return Answer::text(403, "this preview only answers requests addressed to its own address");
        }
        if request.url().len() > MAX_URL {
            return Answer::text(400, "request path too long");
        }
        let (path, query) = match request.url().split_once('?') {
            Some((path, query)) => (path, query),
            None => (request.url(), ""),
        };
        let Some(path) = clean_path(path) else {
            return Answer::text(400, "bad path");
        };
        let snapshot = self.current();
        if path == EVENTS_PATH {
            if !self.same_origin(request) {
                return Answer::text(403, "live reload is only for pages of this preview");
            }
            let seen = query.split('&').find_map(|pair| pair.strip_prefix("build=")).and_then(|n| n.parse().ok());
            return Answer::Events(seen);
        }
        if path == SCRIPT_PATH {
            return Answer::ok("text/javascript; charset=utf-8", CLIENT_SCRIPT.as_bytes().to_vec());
        }
        if path.starts_with(RESERVED_PREFIX) {
            return Answer::text(404, "not found");
        }
        if snapshot.generation == 0 {
            // No build has succeeded yet: a page that shows the error and reloads when fixed.
            return Answer::html(503, inject(PLACEHOLDER.as_bytes(), 0));
        }
        let Some(inside) = path.strip_prefix(snapshot.base_path.as_str()) else {
            if path == "/" {
                return Answer::redirect(&snapshot.base_path);
            }
            return self.not_found(&snapshot);
        };
        let file =
            if inside.is_empty() || inside.ends_with('/') { format!("{inside}index.html") } else { inside.to_string() };
        if let Some(bytes) = snapshot.files.get(&file) {
            return Answer::file(200, &file, bytes, snapshot.generation);
        }
        if snapshot.files.contains_key(&format!("{inside}/index.html")) {
            return Answer::redirect(&format!("{path}/"));
        }
        self.not_found(&snapshot)
    }

    fn not_found(&self, snapshot: &Snapshot) -> Answer {
        match snapshot.files.get("404.html") {
            Some(bytes) => Answer::file(404, "404.html", bytes, snapshot.generation),
            None => Answer::text(404, "not found"),
        }
    }

    /// An EventSource of our own pages sends no Origin, or ours; a foreign page's does.
    fn same_origin(&self, request: &Request) -> bool {
        let origin_ok = match header_value(request, "Origin") {
            None => true,
            Some(origin) => origin.strip_prefix("http://").is_some_and(|host| host_allowed(host, self.local)),
        };
        let site_ok = header_value(request, "Sec-Fetch-Site").is_none_or(|site| site == "same-origin");
        origin_ok && site_ok
    }
}

const PLACEHOLDER: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>imrf-site: no build yet</title></head>\n<body><p>The site has not built yet: see the error in the terminal. This page reloads when it builds.</p></body></html>\n";

enum Answer {
    Events(Option<u64>),
    Body { status: u16, content_type: &'static str, body: Vec<u8>, location: Option<String> },
}

impl Answer {
    fn text(status: u16, text: &str) -> Self {
        Answer::Body {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{text}\n").into_bytes(),
            location: None,
        }
    }

    fn ok(content_type: &'static str, body: Vec<u8>) -> Self {
        Answer::Body { status: 200, content_type, body, location: None }
    }

    fn html(status: u16, body: Vec<u8>) -> Self {
        Answer::Body { status, content_type: "text/html; charset=utf-8", body, location: None }
    }

    fn redirect(to: &str) -> Self {
        Answer::Body {
            status: 301,
            content_type: "text/plain; charset=utf-8",
            body: Vec::new(),
            location: Some(to.to_string()),
        }
    }

    fn file(status: u16, path: &str, bytes: &[u8], generation: u64) -> Self {
        let content_type = content_type(path);
        let body = if content_type.starts_with("text/html") { inject(bytes, generation) } else { bytes.to_vec() };
        Answer::Body { status, content_type, body, location: None }
    }
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

fn header_value<'a>(request: &'a Request, name: &'static str) -> Option<&'a str> {
    request.headers().iter().find(|h| h.field.equiv(name)).map(|h| h.value.as_str())
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
    use super::*;

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
