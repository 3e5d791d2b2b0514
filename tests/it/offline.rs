//! Read offline (`offline = true`): in Chromium, a reader who saves a language reads its
//! pages and searches it with the network really cut (the server gone); a new build
//! replaces the offline copy, so no stale page is shown; "Remove" and turning the
//! option off leave no worker and no cache behind. Without the option nothing is
//! published: no `sw.js`, no button.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::browser_support::{Axe, Browser, StaticServer, WAIT};
use crate::support::{SiteTest, snapshot_tree};

/// The URLs the language's worker keeps, read from its published `sw.js`.
fn kept_urls(site: &SiteTest, lang: &str) -> Vec<String> {
    let script = site.read(&format!("{lang}/sw.js"));
    let list = script.split("var FILES = ").nth(1).and_then(|rest| rest.split(";\n").next()).unwrap();
    serde_json::from_str(list).unwrap()
}

/// The text of a built page's `<title>`.
fn built_title(site: &SiteTest, page: &str) -> String {
    let html = site.read(&format!("{}index.html", page.trim_start_matches('/')));
    let start = html.find("<title>").unwrap() + "<title>".len();
    html[start..start + html[start..].find("</title>").unwrap()].replace("&amp;", "&")
}

/// The offline caches in the browser, each with how many files it holds.
fn offline_caches(browser: &Browser) -> Vec<(String, u64)> {
    let value = browser.execute(
        "return caches.keys().then(names => Promise.all(names.filter(n => n.startsWith('imrf-offline ')) \
         .map(n => caches.open(n).then(c => c.keys()).then(keys => [n, keys.length]))))",
        &[],
    );
    let pairs = value.as_array().cloned().unwrap_or_default();
    pairs.iter().map(|pair| (pair[0].as_str().unwrap().to_string(), pair[1].as_u64().unwrap())).collect()
}

/// Presses "Read offline" on the open page and waits until the language is kept and the
/// worker serves the page.
fn save_for_offline(browser: &Browser) {
    let button = browser.find(".offline button");
    assert!(button.is_displayed(), "the Read offline button is not shown");
    button.click();
    browser.wait_for("document.querySelector('.offline').getAttribute('data-state') === 'saved'", "the offline copy");
    browser.wait_for("navigator.serviceWorker.controller", "the worker to take over the page");
}

/// Waits until `done` holds, polling; panics after `WAIT`, naming `what`.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_saved_language_is_read_and_searched_with_the_network_cut() {
    let Some(browser) = Browser::start("a_saved_language_is_read_and_searched_with_the_network_cut") else { return };
    let site = SiteTest::bundled();
    site.build().ok();
    let server = StaticServer::start(&site.public());
    browser.goto(&server.url("/fr/"));
    assert_eq!(browser.find(".offline button").text(), "Lire hors ligne");
    save_for_offline(&browser);
    let status = browser.find(".offline [role=status]").text();
    assert!(status.starts_with("Les pages de cette langue sont enregistrées"), "{status}");
    assert_eq!(browser.find(".offline button").text(), "Supprimer la copie hors ligne");
    // The page load's axe run sees the button before it is pressed; here, after.
    if let Some(axe) = Axe::load("a_saved_language_is_read_and_searched_with_the_network_cut") {
        assert_eq!(axe.violations(&browser), Vec::<String>::new());
    }
    let kept = kept_urls(&site, "fr");
    assert!(kept.contains(&"/fr/search/index.json".to_string()), "{kept:?}");
    assert!(kept.iter().any(|url| url.ends_with(".css")), "{kept:?}");
    let caches = offline_caches(&browser);
    assert_eq!(caches.len(), 1, "{caches:?}");
    assert!(caches[0].0.contains("/fr/"), "{caches:?}");
    assert_eq!(caches[0].1, kept.len() as u64, "every listed file is kept: {caches:?}");
    assert!(kept.iter().any(|url| url.ends_with(".pdf")), "the PDF is kept: {kept:?}");
    // A broken link leads to a 404 page, which has no button: the copy stays.
    browser.goto(&server.url("/fr/no-such-page/"));
    browser.wait_for("document.readyState === 'complete'", "the 404 page");
    browser.execute_async("setTimeout(arguments[0], 300)", &[]);
    assert_eq!(offline_caches(&browser).len(), 1, "a 404 page removed the offline copy");

    // The network cut for real: nothing answers on the server's port any more.
    let origin = server.origin();
    drop(server);
    let reached = "return fetch('/robots.txt', { cache: 'no-store' }).then(() => 'reached', () => 'cut')";
    assert_eq!(browser.execute(reached, &[]), json!("cut"), "the server still answers");

    // Another page of the language, styled, and its search.
    browser.goto(&format!("{origin}/fr/objective-20/"));
    assert_eq!(browser.title(), built_title(&site, "/fr/objective-20/"));
    let styled = "return getComputedStyle(document.querySelector('.site-footer')).borderTopWidth";
    assert_eq!(browser.execute(styled, &[]), json!("4px"), "the stylesheet is not applied");
    browser.goto(&format!("{origin}/fr/search/?q=envois%20de%20fonds"));
    browser.wait_for("document.querySelector('#search-results .search-result')", "search results offline");
    let first = browser.execute("return document.querySelector('#search-results .search-result').href", &[]);
    assert!(first.as_str().unwrap().contains("/fr/objective-20/"), "first result: {first}");

    // Removed: no worker, no cache.
    save_or_remove(&browser, "");
    assert_eq!(browser.find(".offline [role=status]").text(), "La copie hors ligne a été supprimée de cet appareil.");
    assert_eq!(browser.execute("return navigator.serviceWorker.getRegistration().then(r => !!r)", &[]), json!(false));
    assert_eq!(offline_caches(&browser), Vec::new());
}

/// Presses the offline button and waits for the state it leads to (`saved` or empty).
fn save_or_remove(browser: &Browser, state: &str) {
    browser.find(".offline button").click();
    let expression = format!("document.querySelector('.offline').getAttribute('data-state') === '{state}'");
    browser.wait_for(&format!("({expression}) && !document.querySelector('.offline button[aria-disabled]')"), state);
}

#[test]
fn a_new_build_replaces_the_offline_copy_and_no_stale_page_is_shown() {
    let Some(browser) = Browser::start("a_new_build_replaces_the_offline_copy_and_no_stale_page_is_shown") else {
        return;
    };
    let site = SiteTest::bundled();
    site.build().ok();
    let server = StaticServer::start(&site.public());
    browser.goto(&server.url("/en/objective-14/"));
    save_for_offline(&browser);
    let before = offline_caches(&browser);
    assert_eq!(before.len(), 1, "{before:?}");

    // A new build with a changed page, served in place of the old one.
    let page = "site/content/en/objective-14.md";
    site.write(page, format!("{}\nA sentence added after the reader went offline: quokka.\n", site.source(page)));
    site.build().ok();
    let changed = "document.querySelector('main').textContent.includes('quokka')";
    browser.goto(&server.url("/en/objective-14/"));
    assert_eq!(browser.execute(&format!("return {changed}"), &[]), json!(true), "online, the page is stale");
    // The new worker keeps the new build under a new name, and the old cache goes.
    wait_until("the new worker's cache to replace the old one", || {
        let caches = offline_caches(&browser);
        caches.len() == 1 && caches[0].0 != before[0].0
    });
    let kept = "return caches.open(arguments[0]).then(c => c.match('/en/objective-14/')).then(r => r.text())";
    let copy = browser.execute(kept, &[Value::from(offline_caches(&browser)[0].0.clone())]);
    assert!(copy.as_str().unwrap().contains("quokka"), "the new cache holds the old page");

    let origin = server.origin();
    drop(server);
    browser.goto(&format!("{origin}/en/objective-14/"));
    assert_eq!(browser.execute(&format!("return {changed}"), &[]), json!(true), "offline, the page is stale");
}

#[test]
fn turning_offline_off_removes_the_readers_copy_on_their_next_visit() {
    let Some(browser) = Browser::start("turning_offline_off_removes_the_readers_copy_on_their_next_visit") else {
        return;
    };
    let site = SiteTest::bundled();
    site.build().ok();
    let server = StaticServer::start(&site.public());
    browser.goto(&server.url("/es/"));
    save_for_offline(&browser);
    site.edit("site/config.toml", "offline = true", "offline = false");
    site.build().ok();
    browser.goto(&server.url("/es/objective-15/"));
    assert!(browser.try_find(".offline").is_none(), "the button is still published");
    browser.wait_for("navigator.serviceWorker.getRegistration().then(r => !r)", "the worker to be removed");
    wait_until("the offline cache to be deleted", || offline_caches(&browser).is_empty());
}

#[test]
fn without_the_option_no_worker_and_no_button_are_published() {
    let site = SiteTest::bundled();
    site.edit("site/config.toml", "offline = true", "");
    site.build().ok();
    let files = snapshot_tree(&site.public());
    let workers: Vec<&String> = files.iter().map(|(path, _)| path).filter(|path| path.ends_with("sw.js")).collect();
    assert_eq!(workers, Vec::<&String>::new());
    for (path, bytes) in files.iter().filter(|(path, _)| path.ends_with(".html")) {
        let html = String::from_utf8_lossy(bytes);
        assert!(!html.contains("class=\"offline\""), "{path} offers to be read offline");
    }
    // With it, every language has its worker and every page of a language its button.
    let site = SiteTest::bundled();
    site.build().ok();
    for lang in ["en", "fr", "es", "ar", "ru", "zh"] {
        assert!(site.public().join(lang).join("sw.js").is_file(), "{lang}/sw.js");
        let html = site.read(&format!("{lang}/objective-14/index.html"));
        assert!(html.contains(&format!("data-worker=\"/{lang}/sw.js\"")), "{lang}/objective-14/");
    }
}
