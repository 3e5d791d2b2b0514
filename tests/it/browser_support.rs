//! Shared browser harness: a loopback static file server and a headless Debian Chromium
//! driven through chromedriver (W3C WebDriver).
//!
//! How to use it in a test module:
//!
//! ```ignore
//! use crate::browser_support::{Browser, StaticServer, keys};
//! use crate::support::SiteTest;
//!
//! #[test]
//! fn something_in_a_browser() {
//!     let Some(browser) = Browser::start("something_in_a_browser") else { return };
//!     let site = SiteTest::bundled();
//!     site.build().ok();
//!     let server = StaticServer::start(&site.public());
//!     browser.goto(&server.url("/en/"));
//!     browser.find("a.skip-link").click();
//!     browser.find("#site-search").send_keys("health");
//!     browser.press(keys::ENTER);
//!     browser.wait_for("document.querySelectorAll('#search-results li').length > 0", "search results");
//!     let count = browser.execute("return document.querySelectorAll('li').length", &[]);
//!     browser.set_viewport(360, 740);
//!     browser.set_color_scheme(ColorScheme::Dark);
//!     browser.screenshot("my-test/home.png"); // kept under target/tmp/browser-artefacts/
//! }
//! ```
//!
//! - `Browser::start` returns `None` (after printing a loud SKIPPED message) when Debian's
//!   `/usr/bin/chromium` or `/usr/bin/chromedriver` is missing, unless the environment
//!   variable `CI` is set: then it panics, so CI never passes without running the browser.
//!   `Axe::load` does the same for `tests/tools/node_modules` (`npm ci` in tests/tools).
//! - Browsers take turns: `Browser::start` waits until no other test of this binary holds
//!   one (two Chromiums on a two-core machine make each other time out). Hold one browser
//!   for a whole test and navigate it rather than starting several.
//! - Failures panic with the WebDriver error message: this is test code.
//!
//! The WebDriver client is a few plain HTTP calls through `ureq` (blocking, no TLS, no
//! async runtime): the handful of endpoints we need is smaller than a tokio-based client
//! such as thirtyfour, and chromedriver's own CDP bridge (`goog/cdp/execute`) gives colour
//! scheme emulation, exact viewports and full-page screenshots.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long `wait_for` and friends wait before failing. A bound, not a speed assertion.
pub const WAIT: Duration = Duration::from_secs(20);

/// WebDriver key codes for `Browser::press` and `Element::send_keys`.
pub mod keys {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const ESCAPE: &str = "\u{E00C}";
}

/// True when running in CI (`CI` set to anything but empty, `0` or `false`): there a
/// missing browser or npm tool fails the test instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Skips (prints a loud message, returns false) or, in CI, panics.
fn require(test: &str, what: &str, present: bool, how: &str) -> bool {
    if present {
        return true;
    }
    if in_ci() {
        panic!("{test}: {what} is missing and CI is set; {how}");
    }
    eprintln!(
        "\n========================================================================\n\
         SKIPPED {test}: {what} is missing ({how}).\n\
         This browser test did NOT run. With CI=true it fails instead.\n\
         ========================================================================\n"
    );
    false
}

/// Where tests keep screenshots and reports: `target/tmp/browser-artefacts/<name>`
/// (not committed), with parent folders created.
pub fn artefact_path(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-artefacts").join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{}: {e}", parent.display()));
    }
    path
}

/// `tests/tools/node_modules/<relative>`, the pinned npm test tools.
pub fn tool_path(relative: &str) -> PathBuf {
    crate::support::repo_root().join("tests/tools/node_modules").join(relative)
}

/// The path of an npm tool file, or `None` (skip) when `npm ci` has not been run; panics in CI.
pub fn require_tool(test: &str, relative: &str) -> Option<PathBuf> {
    let path = tool_path(relative);
    require(test, &path.display().to_string(), path.is_file(), "run `npm ci --ignore-scripts` in tests/tools")
        .then_some(path)
}

/// The URL path of every HTML page below `public`, sorted: `index.html` as `/`,
/// `en/index.html` as `/en/`, `en/404.html` as itself.
pub fn site_pages(public: &Path) -> Vec<String> {
    let mut pages: Vec<String> = crate::support::snapshot_tree(public)
        .into_iter()
        .map(|(path, _)| path)
        .filter(|path| path.ends_with(".html"))
        .map(|path| match path.strip_suffix("index.html") {
            Some(folder) => format!("/{folder}"),
            None => format!("/{path}"),
        })
        .collect();
    pages.sort();
    pages
}

/// True when `program` runs (`program -version`); otherwise skips loudly, or panics in CI.
pub fn require_program(test: &str, program: &str, how: &str) -> bool {
    let runs = Command::new(program).arg("-version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    require(test, program, runs, how)
}

// ---------------------------------------------------------------- static server

/// A static file server on 127.0.0.1 (a free port) for one folder, like a static host:
/// `index.html` for folders (a folder without its trailing slash is redirected), content
/// types by extension, the folder's `404.html` with status 404 for misses. Stops when dropped.
pub struct StaticServer {
    address: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    pub fn start(root: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let address = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let root = root.to_path_buf();
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let root = root.clone();
                std::thread::spawn(move || serve_connection(stream, &root));
            }
        });
        Self { address, stop, thread: Some(thread) }
    }

    /// `http://127.0.0.1:<port>` + `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve_connection(mut stream: TcpStream, root: &Path) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => return,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let (status, content_type, location, body) = respond(root, &target);
    let body = if method == "HEAD" { Vec::new() } else { body };
    let mut head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(location) = location {
        head.push_str(&format!("Location: {location}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

/// (status line, content type, redirect location, body) for a request target.
fn respond(root: &Path, target: &str) -> (&'static str, &'static str, Option<String>, Vec<u8>) {
    let path_part = target.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path_part);
    let mut file = root.to_path_buf();
    let mut safe = true;
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            _ => safe = false,
        }
    }
    if safe && file.is_dir() {
        if !path_part.ends_with('/') {
            return ("301 Moved Permanently", "text/plain; charset=utf-8", Some(format!("{path_part}/")), Vec::new());
        }
        file.push("index.html");
    }
    if safe && let Ok(bytes) = std::fs::read(&file) {
        return ("200 OK", content_type(&file), None, bytes);
    }
    match std::fs::read(root.join("404.html")) {
        Ok(bytes) => ("404 Not Found", "text/html; charset=utf-8", None, bytes),
        Err(_) => ("404 Not Found", "text/plain; charset=utf-8", None, b"not found".to_vec()),
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(text.get(i + 1..i + 3).unwrap_or("zz"), 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "xml" => "application/xml; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

// ---------------------------------------------------------------- browser

/// Only one Chromium at a time in this test binary.
static TURN: Mutex<()> = Mutex::new(());

/// `prefers-color-scheme` to emulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorScheme {
    Light,
    Dark,
}

/// A headless Chromium session through its own chromedriver; both end when dropped.
pub struct Browser {
    agent: ureq::Agent,
    driver: Child,
    /// `http://127.0.0.1:<port>/session/<id>`
    session: String,
    _profile: tempfile::TempDir,
    _turn: MutexGuard<'static, ()>,
}

/// An element found in the current page.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

/// W3C WebDriver's key for element references in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    /// Starts chromedriver on a free loopback port and a fresh headless Chromium session,
    /// or returns `None` after a loud message when Chromium is not installed (panics in CI).
    pub fn start(test: &str) -> Option<Self> {
        let present = Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file();
        if !require(test, "Debian chromium / chromium-driver", present, "apt-get install chromium chromium-driver") {
            return None;
        }
        let turn = TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        let mut driver = Command::new(CHROMEDRIVER)
            .arg("--port=0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let port = driver_port(&mut driver);
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().expect("profile folder");
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
                }
            }
        });
        let mut started = None;
        // A cold Chromium start occasionally misses chromedriver's deadline: one retry.
        for _attempt in 0..2 {
            let reply = call(&agent, "POST", &format!("{base}/session"), Some(&capabilities));
            match reply {
                Ok(value) => {
                    started = Some(value);
                    break;
                }
                Err(error) => eprintln!("chromedriver could not start a session, retrying: {error}"),
            }
        }
        let Some(value) = started else {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!("{test}: chromedriver could not start a Chromium session");
        };
        let id = value["sessionId"].as_str().expect("session id").to_string();
        let browser =
            Browser { agent, driver, session: format!("{base}/session/{id}"), _profile: profile, _turn: turn };
        browser.set_viewport(1280, 900);
        // A headless window need not hold the system's focus, and without it no element
        // matches `:focus` (Chromium 148 starts so): the page is told it has focus, as a
        // reader's open window does.
        browser.cdp("Emulation.setFocusEmulationEnabled", json!({ "enabled": true }));
        Some(browser)
    }

    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        call(&self.agent, method, &format!("{}{path}", self.session), body)
            .unwrap_or_else(|error| panic!("WebDriver {method} {path}: {error}"))
    }

    /// Opens `url` and waits for its load event.
    pub fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(&json!({ "url": url })));
    }

    pub fn current_url(&self) -> String {
        self.command("GET", "/url", None).as_str().unwrap_or_default().to_string()
    }

    pub fn title(&self) -> String {
        self.command("GET", "/title", None).as_str().unwrap_or_default().to_string()
    }

    pub fn back(&self) {
        self.command("POST", "/back", Some(&json!({})));
    }

    /// The first element matching a CSS selector; panics when there is none.
    pub fn find(&self, css: &str) -> Element<'_> {
        self.try_find(css).unwrap_or_else(|| panic!("no element matches `{css}` on {}", self.current_url()))
    }

    /// The first element matching a CSS selector, if any.
    pub fn try_find(&self, css: &str) -> Option<Element<'_>> {
        self.find_all(css).into_iter().next()
    }

    /// Every element matching a CSS selector.
    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self.command("POST", "/elements", Some(&json!({ "using": "css selector", "value": css })));
        found.as_array().map(|list| list.iter().map(|v| self.element(v)).collect()).unwrap_or_default()
    }

    /// The focused element.
    pub fn active_element(&self) -> Element<'_> {
        let value = self.command("GET", "/element/active", None);
        self.element(&value)
    }

    fn element(&self, value: &Value) -> Element<'_> {
        let id = value[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("not an element: {value}")).to_string();
        Element { browser: self, id }
    }

    /// Runs a function body (`return ...;`) in the page; `arguments[i]` are `args`.
    /// A returned promise is awaited. Elements can be passed with `Element::as_arg`.
    pub fn execute(&self, script: &str, args: &[Value]) -> Value {
        self.command("POST", "/execute/sync", Some(&json!({ "script": script, "args": args })))
    }

    /// Runs a function body whose last argument is a callback to call with the result.
    pub fn execute_async(&self, script: &str, args: &[Value]) -> Value {
        self.command("POST", "/execute/async", Some(&json!({ "script": script, "args": args })))
    }

    /// Polls a JavaScript expression until it is truthy and returns its value; panics
    /// after `WAIT`, naming `what` it was waiting for.
    pub fn wait_for(&self, expression: &str, what: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let value = self.execute(&format!("return ({expression});"), &[]);
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                panic!("gave up waiting for {what} (`{expression}`) on {}", self.current_url());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Presses and releases keys (`keys::TAB`, or plain text) on the focused element.
    pub fn press(&self, text: &str) {
        let mut actions = Vec::new();
        for key in text.chars() {
            actions.push(json!({ "type": "keyDown", "value": key.to_string() }));
            actions.push(json!({ "type": "keyUp", "value": key.to_string() }));
        }
        let body = json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] });
        self.command("POST", "/actions", Some(&body));
        self.command("DELETE", "/actions", None);
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver.
    pub fn cdp(&self, command: &str, params: Value) -> Value {
        self.command("POST", "/goog/cdp/execute", Some(&json!({ "cmd": command, "params": params })))
    }

    /// Emulates an exact CSS viewport (in CSS pixels, device scale 1).
    pub fn set_viewport(&self, width: u32, height: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
    }

    /// Emulates `prefers-color-scheme` for this and later pages.
    pub fn set_color_scheme(&self, scheme: ColorScheme) {
        let value = match scheme {
            ColorScheme::Light => "light",
            ColorScheme::Dark => "dark",
        };
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] }),
        );
    }

    /// Emulates a CSS media type (`"print"`, or `""` for none) and media features.
    pub fn emulate_media(&self, media: &str, features: &[(&str, &str)]) {
        let features: Vec<Value> =
            features.iter().map(|(name, value)| json!({ "name": name, "value": value })).collect();
        self.cdp("Emulation.setEmulatedMedia", json!({ "media": media, "features": features }));
    }

    /// Saves a PNG of the viewport to `artefact_path(name)` and returns that path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.command("GET", "/screenshot", None);
        save_png(name, data.as_str().unwrap_or_default())
    }

    /// Saves a PNG of the whole page (beyond the viewport) to `artefact_path(name)`.
    pub fn full_page_screenshot(&self, name: &str) -> PathBuf {
        let data = self.cdp("Page.captureScreenshot", json!({ "format": "png", "captureBeyondViewport": true }));
        save_png(name, data["data"].as_str().unwrap_or_default())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = call(&self.agent, "DELETE", &self.session, None);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Element<'_> {
    /// This element as an argument for `Browser::execute`.
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }

    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        self.browser.command(method, &format!("/element/{}{path}", self.id), body)
    }

    /// Scrolls the element to the middle of the viewport at once (smooth scrolling would
    /// make WebDriver click where the element was still moving), then clicks it.
    pub fn click(&self) {
        self.browser.execute(
            "arguments[0].scrollIntoView({ block: 'center', inline: 'nearest', behavior: 'instant' });",
            &[self.as_arg()],
        );
        self.command("POST", "/click", Some(&json!({})));
    }

    /// Types text (or `keys::*`) into the element.
    pub fn send_keys(&self, text: &str) {
        self.command("POST", "/value", Some(&json!({ "text": text })));
    }

    pub fn clear(&self) {
        self.command("POST", "/clear", Some(&json!({})));
    }

    /// The rendered text.
    pub fn text(&self) -> String {
        self.command("GET", "/text", None).as_str().unwrap_or_default().to_string()
    }

    /// An HTML attribute, if present.
    pub fn attr(&self, name: &str) -> Option<String> {
        self.command("GET", &format!("/attribute/{name}"), None).as_str().map(str::to_string)
    }

    /// A DOM property (`value`, `id`, `href` resolved, ...).
    pub fn property(&self, name: &str) -> Value {
        self.command("GET", &format!("/property/{name}"), None)
    }

    pub fn is_displayed(&self) -> bool {
        self.command("GET", "/displayed", None).as_bool().unwrap_or(false)
    }

    /// True when this and `other` are the same DOM node.
    pub fn same_as(&self, other: &Element<'_>) -> bool {
        self.browser.execute("return arguments[0] === arguments[1];", &[self.as_arg(), other.as_arg()]) == json!(true)
    }
}

fn save_png(name: &str, base64: &str) -> PathBuf {
    let bytes = base64::engine::general_purpose::STANDARD.decode(base64).expect("screenshot is base64");
    let path = artefact_path(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// Reads chromedriver's stdout until it names its port, then drains the rest in a thread.
fn driver_port(driver: &mut Child) -> u16 {
    let stdout = driver.stdout.take().expect("chromedriver stdout");
    let mut lines = BufReader::new(stdout);
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            panic!("chromedriver exited before it started listening");
        }
        if let Some(rest) = line.split("started successfully on port ").nth(1) {
            let port = rest.trim().trim_end_matches('.').parse().expect("chromedriver port");
            std::thread::spawn(move || {
                let mut sink = Vec::new();
                let _ = lines.read_to_end(&mut sink);
            });
            return port;
        }
    }
}

/// One WebDriver call: the reply's `value`, or its error and message.
fn call(agent: &ureq::Agent, method: &str, url: &str, body: Option<&Value>) -> Result<Value, String> {
    let response = match (method, body) {
        ("POST", Some(body)) => agent.post(url).send_json(body),
        ("POST", None) => agent.post(url).send_json(json!({})),
        ("DELETE", _) => agent.delete(url).call(),
        _ => agent.get(url).call(),
    };
    let mut response = response.map_err(|e| e.to_string())?;
    let status = response.status();
    let reply: Value = response.body_mut().read_json().map_err(|e| format!("{status}: unreadable reply: {e}"))?;
    let value = reply.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!(
            "{status} {}: {}",
            value["error"].as_str().unwrap_or("error"),
            value["message"].as_str().unwrap_or_default().lines().next().unwrap_or_default()
        ))
    }
}

// ---------------------------------------------------------------- axe

/// axe-core (from tests/tools/node_modules), injected into pages to check accessibility.
pub struct Axe {
    source: String,
}

impl Axe {
    /// Loads axe.min.js, or `None` (skip, loudly) when npm tools are not installed; panics in CI.
    pub fn load(test: &str) -> Option<Self> {
        let path = require_tool(test, "axe-core/axe.min.js")?;
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        Some(Self { source })
    }

    /// Runs axe (WCAG 2.0/2.1/2.2 A and AA rules) on the current page and returns one line
    /// per violating node: `rule (impact) at selector: summary`. Empty means no violation.
    pub fn violations(&self, browser: &Browser) -> Vec<String> {
        if browser.execute("return typeof window.axe", &[]) != json!("object") {
            browser.execute(&self.source, &[]);
        }
        let result = browser.execute(
            "return axe.run(document, { runOnly: { type: 'tag', values: \
             ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }, resultTypes: ['violations'] })",
            &[],
        );
        let mut lines = Vec::new();
        for violation in result["violations"].as_array().map(Vec::as_slice).unwrap_or_default() {
            for node in violation["nodes"].as_array().map(Vec::as_slice).unwrap_or_default() {
                lines.push(format!(
                    "{} ({}) at {}: {}",
                    violation["id"].as_str().unwrap_or_default(),
                    violation["impact"].as_str().unwrap_or_default(),
                    node["target"],
                    node["failureSummary"].as_str().unwrap_or_default().replace('\n', " ")
                ));
            }
        }
        if result.get("violations").is_none() {
            lines.push(format!("axe did not run: {result}"));
        }
        lines
    }
}
