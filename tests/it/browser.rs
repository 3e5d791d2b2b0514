//! Tests of the browser harness itself: the static server answers like a static host, and
//! the browser session navigates, types, emulates media and takes screenshots. Then the
//! bundled site's block links: a language switch lands on the block being read.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::json;

use crate::browser_support::{Axe, Browser, ColorScheme, StaticServer, keys};
use crate::support::SiteTest;

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

/// Whitespace runs (French typography puts no-break spaces before `;`) as one space.
fn squeezed(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `number`th block (from 1) of a Markdown page's body, footnote definitions aside.
fn source_block(site: &SiteTest, page: &str, number: usize) -> String {
    let source = std::fs::read_to_string(site.root().join(page)).unwrap();
    let body = source.splitn(3, "+++").nth(2).unwrap_or_else(|| panic!("{page}: no front matter"));
    let mut blocks = body.split("\n\n").map(str::trim).filter(|b| !b.is_empty() && !b.starts_with("[^"));
    squeezed(blocks.nth(number - 1).unwrap_or_else(|| panic!("{page}: no block {number}")))
}

/// Scrolls `id` to the top of the viewport (or as far as the page goes), at once.
fn read_block(browser: &Browser, id: &str) {
    browser.execute(
        "document.getElementById(arguments[0]).scrollIntoView({ block: 'start', behavior: 'instant' });",
        &[json!(id)],
    );
}

/// Activates the switcher's link to `code` where the reader is: focus without scrolling,
/// then Enter (a trusted click). `Element::click`, like a reader scrolling up or tabbing
/// to the switcher at the top of the page, would first scroll the block away.
fn switch_language_in_place(browser: &Browser, code: &str) {
    let link = browser.find(&format!(".language-switcher a[hreflang='{code}']"));
    browser.execute("arguments[0].focus({ preventScroll: true });", &[link.as_arg()]);
    browser.press(keys::ENTER);
}

/// The href of the switcher's link to `code` once the pointer is over it (a synthetic
/// `mouseover`: the switcher is out of view, so the WebDriver pointer cannot get there).
fn hover_switcher(browser: &Browser, code: &str) -> String {
    let link = browser.find(&format!(".language-switcher a[hreflang='{code}']"));
    browser.execute("arguments[0].dispatchEvent(new MouseEvent('mouseover', { bubbles: true }));", &[link.as_arg()]);
    link.attr("href").unwrap_or_default()
}

/// Waits until `path` is loaded with the fragment `id` and that block is in the viewport.
fn wait_for_block(browser: &Browser, path: &str, id: &str) {
    browser.wait_for(
        &format!("location.pathname === '{path}' && document.readyState === 'complete'"),
        &format!("the page {path}"),
    );
    assert_eq!(browser.execute("return location.hash", &[]), json!(format!("#{id}")), "{path}");
    browser.wait_for(
        &format!(
            "(() => {{ const r = document.getElementById('{id}').getBoundingClientRect(); \
             return r.top >= 0 && r.top < innerHeight; }})()"
        ),
        &format!("#{id} in view on {path}"),
    );
}

#[test]
fn language_switch_lands_on_the_block_being_read() {
    let Some(browser) = Browser::start("language_switch_lands_on_the_block_being_read") else { return };
    let site = SiteTest::bundled();
    site.build().ok();
    let server = StaticServer::start(&site.public());
    // Scrolls happen at once: a smooth one still under way would move the page later.
    browser.emulate_media("", &[("prefers-reduced-motion", "reduce")]);
    browser.goto(&server.url("/en/objective-14/"));

    // Block permalinks are named, hidden until focused, and in the tab order.
    let permalink = "#p-14-2 > a.permalink";
    let opacity = "return getComputedStyle(document.activeElement).opacity";
    assert_eq!(
        browser.execute("return getComputedStyle(document.querySelector(arguments[0])).opacity", &[json!(permalink)]),
        json!("0"),
        "the permalink shows before it has focus"
    );
    browser.execute("document.querySelector(arguments[0]).focus();", &[json!(permalink)]);
    let name = browser.execute("return document.activeElement.getAttribute('aria-label')", &[]);
    assert!(name.as_str().is_some_and(|n| !n.trim().is_empty()), "the permalink has no name: {name}");
    assert_eq!(browser.execute(opacity, &[]), json!("1"), "the focused permalink is not shown");
    // The focusable element before it is the paragraph's last footnote reference.
    browser.execute("document.getElementById('fnref-2').focus();", &[]);
    browser.press(keys::TAB);
    assert!(browser.active_element().same_as(&browser.find(permalink)), "Tab does not reach the permalink");
    assert_eq!(browser.execute(opacity, &[]), json!("1"), "the permalink reached by Tab is not shown");

    // At the top of the page the switcher leads to the top of the other page.
    browser.execute("document.activeElement.blur(); window.scrollTo({ top: 0, behavior: 'instant' });", &[]);
    assert_eq!(hover_switcher(&browser, "fr"), "/fr/objective-14/");

    // Reading the third paragraph: hovering the link (as before a middle-click) already
    // points it there, and the switch lands there.
    read_block(&browser, "p-14-3");
    assert_eq!(hover_switcher(&browser, "fr"), "/fr/objective-14/#p-14-3", "hover did not point at the block");
    switch_language_in_place(&browser, "fr");
    wait_for_block(&browser, "/fr/objective-14/", "p-14-3");
    let french = source_block(&site, "site/content/fr/objective-14.md", 3);
    assert!(french.starts_with("Bien que de nombreuses améliorations"), "not the third block: {french}");
    let shown = squeezed(&browser.find("#p-14-3").text());
    assert!(shown.starts_with(&french), "#p-14-3 in French reads {shown:?}, not {french:?}");

    // A guiding question. The page ends too soon to bring it to the top: the last
    // paragraph's bottom edge stays in view and must not win.
    browser.goto(&server.url("/en/objective-14/"));
    read_block(&browser, "q-14-1");
    switch_language_in_place(&browser, "ar");
    wait_for_block(&browser, "/ar/objective-14/", "q-14-1");
    assert_eq!(browser.execute("return document.querySelector(':target').id", &[]), json!("q-14-1"));
}
