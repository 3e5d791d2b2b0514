//! The preview's request rules, as a pure function from a request's head and the
//! current `Snapshot` to an `Answer`: only GET and HEAD, only requests addressed to this
//! server's own host (a DNS-rebinding page cannot read the preview), only clean paths
//! (`path`), the live-reload stream only for pages of its own origin, and otherwise a
//! file of the build, a redirect to a folder's slash, or the site's 404 page. HTML
//! answers get the live-reload script. Owns the reserved `/__imrf-site/` paths and the
//! content types.
//!
//! Does no IO and holds no state: sockets, timeouts and hyper's bodies are the server's
//! (`mod.rs`, `reply.rs`), so every rule here is testable without a connection.

use std::net::{IpAddr, SocketAddr};

use hyper::body::Bytes;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, StatusCode, Version};

use super::path::{clean_path, location};
use super::snapshot::Snapshot;
use crate::serve::live::CLIENT_SCRIPT;

/// The paths the preview answers itself; no generated file starts with them.
const RESERVED_PREFIX: &str = "/__imrf-site/";
const SCRIPT_PATH: &str = "/__imrf-site/live-reload.js";
const EVENTS_PATH: &str = "/__imrf-site/events";
const FOREIGN_HOST: &str = "this preview only answers requests addressed to its own address";
/// Longer request targets are refused: no page has such a URL.
const MAX_URL: usize = 8 * 1024;

const PLACEHOLDER: &str = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>imrf-site: no build yet</title></head>\n<body><p>The site has not built yet: see the error in the terminal. This page reloads when it builds.</p></body></html>\n";

/// What routing reads of a request: its method, version, target and the headers the
/// rules look at. A header counts only when its first value is text.
pub(super) struct RequestHead<'a> {
    pub(super) method: &'a Method,
    pub(super) version: Version,
    /// The path and query as sent (`/en/?x=1`); for an absolute URL, its path and query.
    pub(super) target: &'a str,
    /// The target is an absolute URL (`GET http://host/path`), which names a second host.
    pub(super) absolute: bool,
    pub(super) host: Option<&'a str>,
    pub(super) origin: Option<&'a str>,
    /// `Sec-Fetch-Site`, which browsers send on an `EventSource`'s request.
    pub(super) fetch_site: Option<&'a str>,
}

impl<'a> RequestHead<'a> {
    pub(super) fn of<B>(request: &'a Request<B>) -> Self {
        let uri = request.uri();
        Self {
            method: request.method(),
            version: request.version(),
            target: uri.path_and_query().map_or("", |target| target.as_str()),
            absolute: uri.scheme().is_some() || uri.authority().is_some(),
            host: header_value(request, header::HOST),
            origin: header_value(request, header::ORIGIN),
            fetch_site: header_value(request, HeaderName::from_static("sec-fetch-site")),
        }
    }
}

/// The first header of that name, when it is text.
fn header_value<B>(request: &Request<B>, name: HeaderName) -> Option<&str> {
    request.headers().get(name).and_then(|value| value.to_str().ok())
}

/// How to answer a request: open a live-reload stream (with the build the page shows,
/// when it said), or send a body.
pub(super) enum Answer {
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

/// The answer to `request` from `snapshot`, for a server listening on `local`.
pub(super) fn answer(request: &RequestHead<'_>, snapshot: &Snapshot, local: SocketAddr) -> Answer {
    if !matches!(*request.method, Method::GET | Method::HEAD) {
        return Answer::text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD are served");
    }
    let Some(host) = request.host else {
        // HTTP/1.1 requires a Host header: without one the request is malformed (RFC 9112).
        if request.version >= Version::HTTP_11 {
            return Answer::text(StatusCode::BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
        }
        return Answer::text(StatusCode::FORBIDDEN, FOREIGN_HOST);
    };
    if !host_allowed(host, local) {
        return Answer::text(StatusCode::FORBIDDEN, FOREIGN_HOST);
    }
    let target = request.target;
    if target.len() > MAX_URL {
        return Answer::text(StatusCode::BAD_REQUEST, "request path too long");
    }
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (target, ""),
    };
    let clean = if request.absolute { None } else { clean_path(path) };
    let Some(path) = clean else {
        return Answer::text(StatusCode::BAD_REQUEST, "bad path");
    };
    if path == EVENTS_PATH {
        if !same_origin(request, local) {
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
    let Some(inside) = path.strip_prefix(snapshot.base_path()) else {
        if path == "/" {
            return Answer::redirect(snapshot.base_path());
        }
        return not_found(snapshot);
    };
    let file =
        if inside.is_empty() || inside.ends_with('/') { format!("{inside}index.html") } else { inside.to_string() };
    if let Some(bytes) = snapshot.file(&file) {
        return Answer::file(StatusCode::OK, &file, bytes, snapshot.generation);
    }
    if snapshot.file(&format!("{inside}/index.html")).is_some() {
        return Answer::redirect(&format!("{path}/"));
    }
    not_found(snapshot)
}

fn not_found(snapshot: &Snapshot) -> Answer {
    match snapshot.file("404.html") {
        Some(bytes) => Answer::file(StatusCode::NOT_FOUND, "404.html", bytes, snapshot.generation),
        None => Answer::text(StatusCode::NOT_FOUND, "not found"),
    }
}

/// An EventSource of our own pages sends no Origin, or ours; a foreign page's does.
fn same_origin(request: &RequestHead<'_>, local: SocketAddr) -> bool {
    let origin_ok = match request.origin {
        None => true,
        Some(origin) => origin.strip_prefix("http://").is_some_and(|host| host_allowed(host, local)),
    };
    let site_ok = request.fetch_site.is_none_or(|site| site == "same-origin");
    origin_ok && site_ok
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::build::SharedFile;

    const HOST: &str = "127.0.0.1:4000";

    fn local() -> SocketAddr {
        HOST.parse().unwrap()
    }

    /// A built site under `base_path`: a home page, an English home page, a stylesheet
    /// and the 404 page.
    fn site(base_path: &str) -> Snapshot {
        let files = [
            SharedFile { path: "index.html".into(), bytes: Bytes::from_static(b"<html><body>home</body></html>") },
            SharedFile { path: "en/index.html".into(), bytes: Bytes::from_static(b"<html><body>en</body></html>") },
            SharedFile { path: "style.css".into(), bytes: Bytes::from_static(b"body{}") },
            SharedFile { path: "404.html".into(), bytes: Bytes::from_static(b"<html><body>lost</body></html>") },
        ];
        Snapshot::of_files(files.iter(), files.len(), base_path, 3)
    }

    /// A GET of `target` addressed to this server, as a browser's address bar sends it.
    fn get(target: &str) -> RequestHead<'_> {
        RequestHead {
            method: &Method::GET,
            version: Version::HTTP_11,
            target,
            absolute: false,
            host: Some(HOST),
            origin: None,
            fetch_site: None,
        }
    }

    /// The status, content type, body and `Location` of an answer that is not a stream.
    fn body(answer: Answer) -> (StatusCode, &'static str, String, Option<HeaderValue>) {
        match answer {
            Answer::Body { status, content_type, body, location } => {
                (status, content_type, String::from_utf8(body.to_vec()).unwrap(), location)
            }
            Answer::Events(_) => panic!("a live-reload stream, not a body"),
        }
    }

    #[test]
    fn paths_with_dot_segments_are_refused_before_the_site_is_looked_at() {
        for target in ["/en/../index.html", "/%2e%2e/index.html", "/en/..%2findex.html"] {
            let (status, _, text, _) = body(answer(&get(target), &site("/"), local()));
            assert_eq!((status, text.as_str()), (StatusCode::BAD_REQUEST, "bad path\n"), "{target}");
        }
    }

    #[test]
    fn a_folder_without_its_slash_redirects_and_with_it_serves_its_index() {
        let (status, _, text, location) = body(answer(&get("/en"), &site("/"), local()));
        assert_eq!((status, text.as_str()), (StatusCode::MOVED_PERMANENTLY, ""));
        assert_eq!(location.unwrap(), "/en/");

        let (status, content_type, page, _) = body(answer(&get("/en/"), &site("/"), local()));
        assert_eq!((status, content_type), (StatusCode::OK, "text/html; charset=utf-8"));
        assert!(page.starts_with("<html><body>en<script"), "{page}");
        assert!(page.contains("data-build=\"3\""), "{page}");
    }

    #[test]
    fn unknown_paths_get_the_sites_404_page() {
        for target in ["/en/no-such-page/", "/no-such-file.css", "/__imrf-site/other"] {
            let (status, _, text, _) = body(answer(&get(target), &site("/"), local()));
            assert_eq!(status, StatusCode::NOT_FOUND, "{target}");
            let expected_page = !target.starts_with(RESERVED_PREFIX);
            assert_eq!(text.starts_with("<html><body>lost"), expected_page, "{target}: {text}");
        }
    }

    #[test]
    fn files_are_sent_as_built_with_their_type() {
        let (status, content_type, text, _) = body(answer(&get("/style.css?v=1"), &site("/"), local()));
        assert_eq!((status, content_type, text.as_str()), (StatusCode::OK, "text/css; charset=utf-8", "body{}"));
    }

    #[test]
    fn a_site_under_a_base_path_is_served_only_there() {
        let (status, _, _, location) = body(answer(&get("/"), &site("/imrf/"), local()));
        assert_eq!(status, StatusCode::MOVED_PERMANENTLY);
        assert_eq!(location.unwrap(), "/imrf/");
        let (status, _, _, _) = body(answer(&get("/imrf/en/"), &site("/imrf/"), local()));
        assert_eq!(status, StatusCode::OK);
        let (status, _, _, _) = body(answer(&get("/en/"), &site("/imrf/"), local()));
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn before_the_first_build_every_page_is_the_placeholder() {
        let (status, _, page, _) = body(answer(&get("/en/"), &Snapshot::empty(), local()));
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.contains("has not built yet") && page.contains("data-build=\"0\""), "{page}");
    }

    #[test]
    fn requests_not_for_this_server_are_refused() {
        let post = RequestHead { method: &Method::POST, ..get("/en/") };
        assert_eq!(body(answer(&post, &site("/"), local())).0, StatusCode::METHOD_NOT_ALLOWED);
        let foreign = RequestHead { host: Some("evil.example:4000"), ..get("/en/") };
        assert_eq!(body(answer(&foreign, &site("/"), local())).0, StatusCode::FORBIDDEN);
        let no_host = RequestHead { host: None, ..get("/en/") };
        assert_eq!(body(answer(&no_host, &site("/"), local())).0, StatusCode::BAD_REQUEST);
        let old_no_host = RequestHead { version: Version::HTTP_10, ..no_host };
        assert_eq!(body(answer(&old_no_host, &site("/"), local())).0, StatusCode::FORBIDDEN);
        let absolute = RequestHead { absolute: true, ..get("/en/") };
        assert_eq!(body(answer(&absolute, &site("/"), local())).0, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn live_reload_is_only_for_pages_of_this_preview() {
        let events = get("/__imrf-site/events?build=2");
        assert!(matches!(answer(&events, &site("/"), local()), Answer::Events(Some(2))));
        let ours = RequestHead { origin: Some("http://localhost:4000"), fetch_site: Some("same-origin"), ..events };
        assert!(matches!(answer(&ours, &site("/"), local()), Answer::Events(Some(2))));
        let foreign = RequestHead { origin: Some("http://evil.example:4000"), ..get("/__imrf-site/events") };
        assert_eq!(body(answer(&foreign, &site("/"), local())).0, StatusCode::FORBIDDEN);
        let cross_site = RequestHead { fetch_site: Some("cross-site"), ..get("/__imrf-site/events") };
        assert_eq!(body(answer(&cross_site, &site("/"), local())).0, StatusCode::FORBIDDEN);
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
