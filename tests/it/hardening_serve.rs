//! The dev server under load and abuse, on loopback only: 200 concurrent keep-alive
//! connections making 10,000 requests without an error or growing memory; malformed
//! requests answered with 400 and never a crash; idle and slow connections closed;
//! arbitrary request paths never answered with anything but the built site.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::serve::Serving;
use crate::support::SiteTest;

/// A bound on every wait, never a speed requirement.
const PATIENCE: Duration = Duration::from_secs(60);

/// The fixture site built and served; the process handling is `serve`'s.
struct Server {
    serving: Serving,
}

impl Server {
    fn start() -> Self {
        let site = SiteTest::fixture("basic");
        site.build().ok();
        Self { serving: Serving::start(site) }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(&self.serving.host).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream
    }

    /// Sends raw bytes on a new connection and returns the status of the reply, or
    /// `None` when the server closed the connection without one.
    fn raw(&self, request: &[u8]) -> Option<u16> {
        let mut stream = self.connect();
        // The server may answer and close before reading everything sent.
        let _ = stream.write_all(request);
        let mut reader = BufReader::new(stream);
        read_reply(&mut reader).map(|(status, _)| status)
    }

    fn get(&self, path: &str) -> Option<(u16, Vec<u8>)> {
        let mut stream = self.connect();
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.serving.host).unwrap();
        read_reply(&mut BufReader::new(stream))
    }

    fn status_line(&self, name: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.serving.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name} in {status}"));
        line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap()
    }

    /// The server's resident memory in KiB.
    fn rss_kib(&self) -> u64 {
        self.status_line("VmRSS:")
    }

    fn alive(&mut self) -> bool {
        self.serving.child.try_wait().unwrap().is_none()
    }
}

/// Reads one reply (status line, headers, `Content-Length` body) from a connection.
fn read_reply(reader: &mut impl BufRead) -> Option<(u16, Vec<u8>)> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let status = line.split_whitespace().nth(1)?.parse().ok()?;
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((status, body))
}

/// Pages and files of the fixture site, with the status each must get.
const PATHS: &[(&str, u16)] = &[
    ("/", 200),
    ("/en/", 200),
    ("/en/objective-2/", 200),
    ("/fr/objective-2/", 200),
    ("/en/about/", 200),
    ("/en/references/", 200),
    ("/sitemap.xml", 200),
    ("/robots.txt", 200),
    ("/en/nowhere/", 404),
];

/// `connections` keep-alive connections, all open at once, each making `requests`
/// requests in turn; returns how many were answered as expected.
fn load(server: &Server, connections: usize, requests: usize) -> usize {
    let barrier = Arc::new(Barrier::new(connections));
    let threads: Vec<_> = (0..connections)
        .map(|c| {
            let (host, barrier) = (server.serving.host.clone(), Arc::clone(&barrier));
            std::thread::spawn(move || {
                let stream = TcpStream::connect(&host).unwrap();
                stream.set_read_timeout(Some(PATIENCE)).unwrap();
                barrier.wait();
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut good = 0;
                for r in 0..requests {
                    let (path, expected) = PATHS[(c + r) % PATHS.len()];
                    write!(writer, "GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
                    match read_reply(&mut reader) {
                        Some((status, body)) if status == expected && !body.is_empty() => good += 1,
                        other => panic!("{path}: {:?}", other.map(|(s, b)| (s, b.len()))),
                    }
                }
                good
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).sum()
}

#[test]
fn two_hundred_connections_and_ten_thousand_requests_without_errors_or_growing_memory() {
    let mut server = Server::start();
    assert_eq!(load(&server, 200, 10), 2_000, "warm-up");
    let warm = server.rss_kib();
    assert_eq!(load(&server, 200, 50), 10_000);
    let after = server.rss_kib();
    assert!(server.alive(), "{}", server.serving.log());
    // Memory may settle, not grow with the number of requests served.
    assert!(after < warm + 32 * 1024, "resident memory grew from {warm} KiB to {after} KiB over 10,000 requests");
    eprintln!("requests served: 12000 (200 concurrent connections); memory {warm} KiB -> {after} KiB");
}

#[test]
fn malformed_requests_get_400_and_never_stop_the_server() {
    let mut server = Server::start();
    let host = server.serving.host.clone();
    let long_path = format!("/{}", "a".repeat(100_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"\x00\x01\x02 hello\r\n\r\n".to_vec()),
        ("no version", b"GET /\r\n\r\n".to_vec()),
        ("bad version", format!("GET / HTTP/9.x\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("parent segments", format!("GET /../../etc/passwd HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("encoded parent", format!("GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("encoded slash", format!("GET /en%2fabout/ HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("backslash", format!("GET /en\\..\\..\\x HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("bad escape", format!("GET /%zz HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("escape to invalid UTF-8", format!("GET /%ff%fe HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("encoded NUL", format!("GET /en/%00 HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("double encoding", format!("GET /%252e%252e/ HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("relative path", format!("GET en/ HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()),
        ("header without colon", format!("GET / HTTP/1.1\r\nHost: {host}\r\nnonsense\r\n\r\n").into_bytes()),
        ("HTTP/1.1 without Host", b"GET /en/ HTTP/1.1\r\n\r\n".to_vec()),
    ];
    let mut failures = Vec::new();
    for (name, request) in &cases {
        let status = server.raw(request);
        if status != Some(400) {
            failures.push(format!("{name}: {status:?}"));
        }
        assert!(server.alive(), "{name} stopped the server:\n{}", server.serving.log());
    }
    assert!(failures.is_empty(), "expected 400 for each malformed request: {failures:?}");
    // Well formed but absurd: answered (not found), not a crash.
    let long = format!("GET {long_path} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    assert!(matches!(server.raw(long.as_bytes()), Some(400 | 404 | 414)));
    assert_eq!(server.get("/en/").map(|(s, _)| s), Some(200), "still serving");
}

/// Waits (boundedly) for the server to close a connection that sends `trickle`, a byte
/// at a time, and never finishes its request.
fn closed_by_server(server: &Server, trickle: &[u8]) -> bool {
    let mut stream = server.connect();
    stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed() < PATIENCE {
        if sent < trickle.len() {
            if stream.write_all(&trickle[sent..sent + 1]).is_err() {
                return true;
            }
            sent += 1;
        }
        let mut buffer = [0; 512];
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            // A 408 reply before closing is fine.
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

/// The server's limit on waiting for a request's headers, idle keep-alive included.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the server has closed `stream`, waiting for it at most `within`.
fn closes_within(mut stream: &TcpStream, within: Duration) -> bool {
    let started = Instant::now();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut buffer = [0; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
        if started.elapsed() >= within {
            return false;
        }
    }
}

#[test]
fn idle_and_slow_connections_are_closed() {
    let server = Server::start();
    let host = server.serving.host.clone();
    // Far more idle connections than a pool of worker threads would have: none of them
    // may delay a request.
    // (A server that stopped accepting would leave `connect` waiting: bounded here.)
    let address = host.parse().unwrap();
    let idle: Vec<TcpStream> = (0..300)
        .map(|n| {
            TcpStream::connect_timeout(&address, HEADER_TIMEOUT / 2)
                .unwrap_or_else(|e| panic!("idle connection {n} not accepted: {e}"))
        })
        .collect();
    let started = Instant::now();
    assert_eq!(server.get("/en/").map(|(s, _)| s), Some(200), "a request next to 300 idle connections");
    assert!(started.elapsed() < HEADER_TIMEOUT / 2, "answered only after {:?}", started.elapsed());

    // A keep-alive connection stays usable for a while, and is closed once idle too long.
    let mut keep_alive = server.connect();
    let mut reader = BufReader::new(keep_alive.try_clone().unwrap());
    let request = format!("GET /en/ HTTP/1.1\r\nHost: {host}\r\n\r\n");
    keep_alive.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_reply(&mut reader).map(|(s, _)| s), Some(200));
    std::thread::sleep(Duration::from_secs(2));
    keep_alive.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_reply(&mut reader).map(|(s, _)| s), Some(200), "the connection was closed after 2 s idle");
    let last_reply = Instant::now();

    // A live-reload stream is an answer in progress: no timeout may cut it.
    let mut events = server.connect();
    write!(events, "GET /__imrf-site/events?build=1 HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    let mut events = BufReader::new(events);

    // A connection that never sends a byte, one that trickles its headers a byte every
    // half second, and the keep-alive one, now idle: all closed after the timeout.
    let slow = format!("GET /en/ HTTP/1.1\r\nHost: {host}\r\nX-Slow: {}", "x".repeat(1_000));
    std::thread::scope(|scope| {
        let never = scope.spawn(|| closed_by_server(&server, b""));
        let trickling = scope.spawn(|| closed_by_server(&server, slow.as_bytes()));
        assert!(closes_within(&keep_alive, PATIENCE), "an idle keep-alive connection was kept open");
        let idle_for = last_reply.elapsed();
        assert!(idle_for > HEADER_TIMEOUT - Duration::from_millis(500), "closed after {idle_for:?} idle already");
        assert!(never.join().unwrap(), "a connection that never sent a byte was kept open");
        assert!(trickling.join().unwrap(), "a connection sending a byte every half second was kept open");
    });
    // Opened before everything else, they have been idle the longest: closed already.
    let still_open = idle.iter().filter(|stream| !closes_within(stream, Duration::ZERO)).count();
    assert_eq!(still_open, 0, "idle connections kept open {:?} after they were opened", started.elapsed());

    // The stream outlived every timeout and still carries the next rebuild.
    let about = std::fs::read_to_string(server.serving.site.root().join("site/content/en/about.md")).unwrap();
    server.serving.site.write("site/content/en/about.md", format!("{about}\nEdited.\n"));
    let mut line = String::new();
    while !line.starts_with("event: reload") {
        line.clear();
        assert!(events.read_line(&mut line).unwrap() > 0, "the live-reload stream was closed");
    }
    assert_eq!(server.get("/en/").map(|(s, _)| s), Some(200), "still serving");
}

/// Every file the built site has, by URL path, to compare with what the server sends.
fn published(server: &Server) -> std::collections::BTreeMap<String, Vec<u8>> {
    crate::support::snapshot_tree(&server.serving.site.public())
        .into_iter()
        .map(|(path, bytes)| (format!("/{path}"), bytes))
        .collect()
}

#[test]
fn arbitrary_paths_are_answered_only_from_the_built_site() {
    let server = Server::start();
    let files = published(&server);
    let segment = prop_oneof![
        Just("..".to_string()),
        Just(".".to_string()),
        Just("%2e%2e".to_string()),
        Just("%2f".to_string()),
        Just("%00".to_string()),
        Just("en".to_string()),
        Just("objective-2".to_string()),
        Just("index.html".to_string()),
        Just("site".to_string()),
        Just("config.toml".to_string()),
        "[a-z0-9%._~-]{0,6}",
    ];
    let path = proptest::collection::vec(segment, 0..6).prop_map(|s| format!("/{}", s.join("/")));
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 300, ..ProptestConfig::default() });
    runner
        .run(&path, |path| {
            let (status, body) = server.get(&path).unwrap_or_else(|| panic!("{path}: no reply"));
            prop_assert!([200, 301, 400, 404].contains(&status), "{path}: {status}");
            if status == 200 {
                // HTML gets the live-reload script; everything else is byte for byte a file of the build.
                let found = files.iter().any(|(_, bytes)| bytes == &body)
                    || files.iter().any(|(name, bytes)| {
                        name.ends_with(".html") && body.starts_with(&bytes[..bytes.len().min(200)])
                    });
                prop_assert!(found, "{path}: 200 with a body that is no file of the built site");
            }
            Ok(())
        })
        .unwrap();
}
