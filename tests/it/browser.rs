//! Tests of the browser harness itself: the static server answers like a static host, and
//! the browser session navigates, types, emulates media and takes screenshots.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::json;

use crate::browser_support::{Axe, Browser, ColorScheme, StaticServer, keys};

/// A raw HTTP/1.1 GET through the server: (status line, headers, body).
fn get(server: &StaticServer, path: &str) -> (String, String, String) {
    let address = server.origin().trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    let (head, body) = reply.split_once("\r\n\r\n").unwrap();
    let (status, headers) = head.split_once("\r\n").unwrap();
    (status.to_string(), headers.to_string(), body.to_string())
}

fn sample_site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    write("index.html", "<!doctype html><title>Root</title><p>root</p>");
    write("404.html", "<!doctype html><title>Missing</title><p>missing page</p>");
    write(
        "docs/index.html",
        "<!doctype html><title>Docs</title><style>body{color:rgb(1,2,3)}@media (prefers-color-scheme: dark){body{color:rgb(4,5,6)}}</style><a id=next href='page.html'>next</a><input id=field>",
    );
    write("docs/page.html", "<!doctype html><title>Page</title><p>a page</p>");
    write("docs/main.css", "p{}");
    write("docs/app.js", "1");
    write("docs/icon.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    write("docs/a b.txt", "spaced");
    dir
}

#[test]
fn static_server_answers_like_a_static_host() {
    let site = sample_site();
    let server = StaticServer::start(site.path());

    let (status, headers, body) = get(&server, "/");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(headers.contains("Content-Type: text/html; charset=utf-8"), "{headers}");
    assert!(body.contains("root"));

    let (status, headers, _) = get(&server, "/docs");
    assert_eq!(status, "HTTP/1.1 301 Moved Permanently");
    assert!(headers.contains("Location: /docs/"), "{headers}");

    let (status, _, body) = get(&server, "/docs/?q=1");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("Docs"));

    for (path, content_type) in [
        ("/docs/main.css", "text/css; charset=utf-8"),
        ("/docs/app.js", "text/javascript; charset=utf-8"),
        ("/docs/icon.svg", "image/svg+xml"),
        ("/docs/a%20b.txt", "text/plain; charset=utf-8"),
    ] {
        let (status, headers, _) = get(&server, path);
        assert_eq!(status, "HTTP/1.1 200 OK", "{path}");
        assert!(headers.contains(&format!("Content-Type: {content_type}")), "{path}: {headers}");
    }

    for missing in ["/nothing-here", "/docs/../../etc/passwd", "/docs/%2e%2e/%2e%2e/etc/hostname"] {
        let (status, _, body) = get(&server, missing);
        assert_eq!(status, "HTTP/1.1 404 Not Found", "{missing}");
        assert!(body.contains("missing page"), "{missing}: {body}");
    }
}

#[test]
fn browser_navigates_types_emulates_and_screenshots() {
    let Some(browser) = Browser::start("browser_navigates_types_emulates_and_screenshots") else { return };
    let site = sample_site();
    let server = StaticServer::start(site.path());

    browser.goto(&server.url("/docs/"));
    assert_eq!(browser.title(), "Docs");

    let field = browser.find("#field");
    field.send_keys("hello");
    assert_eq!(field.property("value"), json!("hello"));
    field.clear();
    assert_eq!(field.property("value"), json!(""));
    let link = browser.find("#next");
    assert_eq!(link.text(), "next");
    assert_eq!(link.attr("href").as_deref(), Some("page.html"));
    assert_eq!(link.attr("title"), None);
    assert!(link.is_displayed());
    assert!(browser.try_find("#absent").is_none());
    assert_eq!(browser.find_all("a, input").len(), 2);
    assert_eq!(browser.execute_async("arguments[arguments.length - 1](arguments[0] + 1)", &[json!(41)]), json!(42));
    assert_eq!(browser.execute("return Promise.resolve(7)", &[]), json!(7));
    browser.execute("arguments[0].focus()", &[browser.find("#next").as_arg()]);
    browser.press(keys::TAB);
    assert!(browser.active_element().same_as(&field));

    let color = "return getComputedStyle(document.body).color";
    assert_eq!(browser.execute(color, &[]), json!("rgb(1, 2, 3)"));
    browser.set_color_scheme(ColorScheme::Dark);
    assert_eq!(browser.execute(color, &[]), json!("rgb(4, 5, 6)"));
    browser.set_color_scheme(ColorScheme::Light);
    assert_eq!(browser.execute(color, &[]), json!("rgb(1, 2, 3)"));

    let print = "return matchMedia('print').matches";
    browser.emulate_media("print", &[]);
    assert_eq!(browser.execute(print, &[]), json!(true));
    browser.emulate_media("", &[("prefers-reduced-motion", "reduce")]);
    assert_eq!(browser.execute(print, &[]), json!(false));
    assert_eq!(browser.execute("return matchMedia('(prefers-reduced-motion: reduce)').matches", &[]), json!(true));

    browser.set_viewport(320, 480);
    assert_eq!(browser.execute("return window.innerWidth", &[]), json!(320));

    browser.find("#next").click();
    browser.wait_for("document.title === 'Page'", "the linked page");
    assert!(browser.current_url().ends_with("/docs/page.html"));
    browser.back();
    assert_eq!(browser.title(), "Docs");
    browser.execute("arguments[0].focus()", &[browser.find("#next").as_arg()]);
    browser.press(keys::ENTER);
    browser.wait_for("document.title === 'Page'", "the page opened with Enter");
    let full = std::fs::read(browser.full_page_screenshot("harness/full.png")).unwrap();
    assert_eq!(&full[..4], b"\x89PNG");

    let shot = browser.screenshot("harness/page.png");
    let bytes = std::fs::read(shot).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");

    browser.goto(&server.url("/missing"));
    assert_eq!(browser.title(), "Missing");
}

#[test]
fn axe_reports_violations() {
    let Some(axe) = Axe::load("axe_reports_violations") else { return };
    let Some(browser) = Browser::start("axe_reports_violations") else { return };
    let site = sample_site();
    let server = StaticServer::start(site.path());
    // The sample page has no lang attribute and an input without a label.
    browser.goto(&server.url("/docs/"));
    let violations = axe.violations(&browser);
    assert!(violations.iter().any(|v| v.starts_with("html-has-lang")), "{violations:#?}");
    assert!(violations.iter().any(|v| v.starts_with("label")), "{violations:#?}");
}
