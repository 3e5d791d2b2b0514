//! The default theme in a real browser (headless Debian Chromium, see `browser_support`):
//! axe-core on every page of every language in light and dark, screenshots kept under
//! target/, the language switcher, footnotes, the skip link, narrow screens and the phone
//! layout, right-to-left mirroring, print and reduced motion.

use serde_json::{Value, json};

use crate::browser_support::{Axe, Browser, ColorScheme, StaticServer, keys, site_pages};
use crate::support::SiteTest;

fn built_site() -> SiteTest {
    let site = SiteTest::bundled();
    site.build().ok();
    site
}

/// The root page sends readers away at once; reading it as such needs scripts off.
fn without_scripts(browser: &Browser, off: bool) {
    browser.cdp("Emulation.setScriptExecutionDisabled", json!({ "value": off }));
}

#[test]
fn axe_finds_no_violation_on_any_page_in_light_or_dark() {
    let test = "axe_finds_no_violation_on_any_page_in_light_or_dark";
    let Some(axe) = Axe::load(test) else { return };
    let Some(browser) = Browser::start(test) else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    let mut pages = site_pages(&site.public());
    assert!(pages.len() > 60, "expected every page of six languages, found {pages:?}");
    // The root page sends readers on at once (axe needs scripts, so they cannot be
    // turned off): check its markup and styles in a copy without the script.
    let root = std::fs::read_to_string(site.public().join("index.html")).unwrap();
    let still = root.lines().filter(|line| !line.starts_with("<script")).collect::<Vec<_>>().join("\n");
    assert_ne!(root.lines().count(), still.lines().count(), "the root page has no script to remove");
    std::fs::write(site.public().join("root-without-script.html"), still).unwrap();
    pages.retain(|page| page != "/");
    pages.push("/root-without-script.html".into());
    let mut failures = Vec::new();
    let mut backgrounds = Vec::new();
    for scheme in [ColorScheme::Light, ColorScheme::Dark] {
        browser.set_color_scheme(scheme);
        for page in &pages {
            browser.goto(&server.url(page));
            let dark = browser.execute("return matchMedia('(prefers-color-scheme: dark)').matches", &[]);
            assert_eq!(dark, json!(scheme == ColorScheme::Dark), "{page}: colour scheme emulation did not apply");
            for violation in axe.violations(&browser) {
                failures.push(format!("{page} ({scheme:?}): {violation}"));
            }
            if page == "/en/" {
                backgrounds.push(browser.execute("return getComputedStyle(document.body).backgroundColor", &[]));
            }
        }
    }
    assert_eq!(backgrounds.len(), 2);
    assert_ne!(backgrounds[0], backgrounds[1], "dark mode does not change the page's background");
    assert!(failures.is_empty(), "{} axe violations:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn screenshots_of_home_arabic_objective_and_a_phone() {
    let Some(browser) = Browser::start("screenshots_of_home_arabic_objective_and_a_phone") else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    let mut shots = Vec::new();

    browser.goto(&server.url("/en/"));
    shots.push(browser.full_page_screenshot("theme/home-en.png"));
    browser.set_color_scheme(ColorScheme::Dark);
    shots.push(browser.full_page_screenshot("theme/home-en-dark.png"));
    browser.set_color_scheme(ColorScheme::Light);

    browser.goto(&server.url("/ar/objective-15/"));
    assert_eq!(browser.execute("return document.documentElement.dir", &[]), json!("rtl"));
    shots.push(browser.full_page_screenshot("theme/objective-15-ar.png"));

    browser.set_viewport(360, 640);
    for code in ["en", "ar", "ru", "zh"] {
        browser.goto(&server.url(&format!("/{code}/objective-14/")));
        shots.push(browser.screenshot(&format!("theme/phone-objective-14-{code}.png")));
    }
    browser.goto(&server.url("/en/"));
    browser.find(".site-menu > summary").click();
    shots.push(browser.screenshot("theme/phone-menu-open-en.png"));
    browser.goto(&server.url("/en/objective-14/"));
    shots.push(browser.full_page_screenshot("theme/objective-14-en-360px-full.png"));

    for shot in shots {
        let bytes = std::fs::read(&shot).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", shot.display());
        assert!(bytes.len() > 10_000, "{} looks empty", shot.display());
        println!("screenshot: {}", shot.display());
    }
}

#[test]
fn language_switcher_leads_to_the_same_page_and_is_remembered() {
    let Some(browser) = Browser::start("language_switcher_leads_to_the_same_page_and_is_remembered") else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());

    browser.goto(&server.url("/en/objective-15/"));
    let steps =
        [("fr", "/fr/objective-15/", "ltr"), ("ar", "/ar/objective-15/", "rtl"), ("zh", "/zh/objective-15/", "ltr")];
    for (code, path, dir) in steps {
        browser.find(&format!(".language-switcher a[hreflang='{code}']")).click();
        browser.wait_for(&format!("location.pathname === '{path}'"), path);
        assert_eq!(browser.execute("return document.documentElement.lang", &[]), json!(code));
        assert_eq!(browser.execute("return document.documentElement.dir", &[]), json!(dir));
        let current = browser.find(".language-switcher a[aria-current]");
        assert_eq!(current.attr("hreflang").as_deref(), Some(code));
    }

    // Generated pages switch to the same generated page.
    browser.goto(&server.url("/ru/references/"));
    browser.find(".language-switcher a[hreflang='es']").click();
    browser.wait_for("location.pathname === '/es/references/'", "the Spanish references page");

    // The root page honours the last explicit choice (Spanish).
    browser.goto(&server.url("/"));
    browser.wait_for("location.pathname === '/es/'", "the root page to send the reader to Spanish");
}

#[test]
fn footnotes_round_trip_from_reference_to_note_and_back() {
    let Some(browser) = Browser::start("footnotes_round_trip_from_reference_to_note_and_back") else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    let in_view = "const r = document.getElementById(arguments[0]).getBoundingClientRect(); \
                   return r.top >= 0 && r.bottom <= innerHeight;";
    for lang in ["en", "ar"] {
        browser.goto(&server.url(&format!("/{lang}/objective-14/")));
        let reference = browser.find("a#fnref-1");
        let name = reference.attr("aria-label").unwrap_or_default();
        assert!(!name.is_empty() && name != reference.text(), "{lang}: footnote reference needs a spoken name");
        assert!(!browser.execute(in_view, &[json!("fn-1")]).as_bool().unwrap(), "{lang}: the note starts out of view");
        reference.click();
        browser.wait_for("location.hash === '#fn-1'", "the footnote");
        browser.wait_for("(() => { const r = document.getElementById('fn-1').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()", "the footnote in view");
        assert_eq!(browser.execute("return document.querySelector(':target').id", &[]), json!("fn-1"));

        let back = browser.find("#fn-1 a.footnote-back");
        assert!(back.attr("aria-label").is_some_and(|l| !l.is_empty()), "{lang}: back link needs a name");
        back.click();
        browser.wait_for("location.hash === '#fnref-1'", "the reference");
        browser.wait_for("(() => { const r = document.getElementById('fnref-1').getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()", "the reference in view");
        assert!(browser.execute(in_view, &[json!("fnref-1")]).as_bool().unwrap());
    }
}

#[test]
fn skip_link_is_first_visible_on_focus_and_moves_focus_to_main() {
    let Some(browser) = Browser::start("skip_link_is_first_visible_on_focus_and_moves_focus_to_main") else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    for path in ["/en/objective-15/", "/ar/"] {
        browser.goto(&server.url(path));
        let skip = browser.find("a.skip-link");
        let hidden_top = browser.execute("return arguments[0].getBoundingClientRect().bottom", &[skip.as_arg()]);
        assert!(hidden_top.as_f64().unwrap() <= 0.0, "{path}: the skip link shows before it has focus");
        browser.press(keys::TAB);
        assert!(browser.active_element().same_as(&skip), "{path}: the skip link is not the first tab stop");
        let rect = browser.execute(
            "const r = arguments[0].getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right];",
            &[skip.as_arg()],
        );
        let rect: Vec<f64> = rect.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert!(
            rect[0] >= 0.0 && rect[1] > rect[0] && rect[2] >= 0.0,
            "{path}: focused skip link is off screen: {rect:?}"
        );
        let outline = browser.execute("return getComputedStyle(arguments[0]).outlineStyle", &[skip.as_arg()]);
        assert_ne!(outline, json!("none"), "{path}: focus is not visible");
        browser.press(keys::ENTER);
        browser.wait_for("location.hash === '#main-content'", "the skip link target");
        assert!(browser.active_element().same_as(&browser.find("main")), "{path}: focus did not move to main");
        browser.press(keys::TAB);
        let inside = browser.execute("return document.querySelector('main').contains(document.activeElement)", &[]);
        assert_eq!(inside, json!(true), "{path}: the next tab stop after skipping is not in the main content");
    }
}

/// The top of the first block of the note's text on the page (a paragraph, list item or
/// heading the translation shares), or of `main` where the page has none, in CSS pixels
/// from the top of the screen; and how tall its first line is.
const FIRST_TEXT: &str = "const block = document.querySelector('main [id^=\"p-\"], main h1 + p') \
                            || document.querySelector('main'); \
                          const r = block.getBoundingClientRect(); \
                          return [r.top, parseFloat(getComputedStyle(block).lineHeight) || 24];";

#[test]
fn on_a_phone_the_note_starts_on_the_first_screen_and_the_menu_opens_and_closes() {
    let test = "on_a_phone_the_note_starts_on_the_first_screen_and_the_menu_opens_and_closes";
    let Some(browser) = Browser::start(test) else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    browser.set_viewport(360, 640);
    let mut pages = site_pages(&site.public());
    pages.retain(|page| page != "/" && !page.ends_with("/search/"));
    assert!(pages.len() >= 6 * 9, "every content page of six languages: {pages:?}");
    let mut below_the_fold = Vec::new();
    for page in &pages {
        browser.goto(&server.url(page));
        assert!(!browser.find(".site-nav").is_displayed(), "{page}: the objectives are not folded away on a phone");
        let first = browser.execute(FIRST_TEXT, &[]);
        let (top, line) = (first[0].as_f64().unwrap(), first[1].as_f64().unwrap());
        if top + line > 640.0 {
            below_the_fold.push(format!("{page}: the first line of the text ends at {:.0} px", top + line));
        }
    }
    assert!(below_the_fold.is_empty(), "below the first screen at 360 x 640:\n{}", below_the_fold.join("\n"));

    // The menu button opens the objectives over the page, and Escape closes them,
    // giving focus back to the button; so does a click elsewhere.
    for path in ["/en/objective-14/", "/ar/objective-20/"] {
        browser.goto(&server.url(path));
        let summary = browser.find(".site-menu > summary");
        assert_eq!(summary.property("offsetHeight").as_f64().map(|h| h >= 44.0), Some(true), "{path}: a 44 px target");
        summary.click();
        assert!(browser.find(".site-nav").is_displayed(), "{path}: the menu did not open");
        assert_eq!(
            browser.find_all(".site-nav a").len(),
            8,
            "{path}: six objectives, the questions and the references"
        );
        let text_moved = browser.execute(FIRST_TEXT, &[]);
        browser.press(keys::ESCAPE);
        assert!(!browser.find(".site-nav").is_displayed(), "{path}: Escape did not close the menu");
        assert!(browser.active_element().same_as(&summary), "{path}: focus is not back on the menu button");
        assert_eq!(browser.execute(FIRST_TEXT, &[]), text_moved, "{path}: the open menu pushed the text down");
        summary.click();
        browser.find(".site-footer").click();
        assert!(!browser.find(".site-nav").is_displayed(), "{path}: a click elsewhere did not close the menu");
        // Tabbing out of the open menu closes it: the focus never goes under it.
        summary.click();
        for _ in 0..8 {
            browser.press(keys::TAB);
        }
        assert!(browser.find(".site-nav").is_displayed(), "{path}: the menu closed while its links had the focus");
        browser.press(keys::TAB);
        assert!(!browser.find(".site-nav").is_displayed(), "{path}: the focus left the open menu");
    }

    // Without JavaScript the menu is still a disclosure that opens.
    without_scripts(&browser, true);
    browser.goto(&server.url("/fr/objective-16/"));
    browser.find(".site-menu > summary").click();
    assert!(browser.find(".site-nav").is_displayed(), "the menu does not open without JavaScript");
    without_scripts(&browser, false);

    // On a wide screen the objectives and the table of contents are always shown.
    browser.set_viewport(1280, 800);
    browser.goto(&server.url("/en/objective-14/"));
    assert!(browser.find(".site-nav").is_displayed() && browser.find(".toc").is_displayed());
    assert!(
        !browser.find(".site-menu > summary").is_displayed() && !browser.find(".toc-menu > summary").is_displayed()
    );
}

#[test]
fn no_page_scrolls_sideways_at_320_pixels() {
    let Some(browser) = Browser::start("no_page_scrolls_sideways_at_320_pixels") else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    browser.set_viewport(320, 640);
    without_scripts(&browser, true);
    let mut failures = Vec::new();
    for page in site_pages(&site.public()) {
        browser.goto(&server.url(&page));
        let overflow = browser.execute(
            "const width = document.documentElement.clientWidth; \
             if (document.documentElement.scrollWidth <= width) return null; \
             return [...document.querySelectorAll('body *')].filter(e => { \
               const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > width + 0.5 || r.left < -0.5); \
             }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '') + ' ' + \
               Math.round(e.getBoundingClientRect().left) + '..' + Math.round(e.getBoundingClientRect().right));",
            &[],
        );
        if overflow != Value::Null {
            failures.push(format!("{page}: {overflow}"));
        }
    }
    assert!(failures.is_empty(), "pages wider than 320 px:\n{}", failures.join("\n"));
}

/// Opens `url` and waits until the theme's stylesheet holds its rules. A page whose
/// stylesheet did not load then fails naming it, rather than with the unstyled page's
/// layout (a run once measured that).
fn goto_styled(browser: &Browser, url: &str) {
    browser.goto(url);
    let loaded = "document.querySelector('link[rel=stylesheet]')?.sheet?.cssRules.length > 0";
    browser.wait_for(loaded, "the stylesheet");
}

/// (left, right) of the first element matching `css`.
fn span(browser: &Browser, css: &str) -> (f64, f64) {
    let rect = browser.execute(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect(); return [r.left, r.right];",
        &[json!(css)],
    );
    (rect[0].as_f64().unwrap(), rect[1].as_f64().unwrap())
}

#[test]
fn right_to_left_pages_mirror_the_layout() {
    let Some(browser) = Browser::start("right_to_left_pages_mirror_the_layout") else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    browser.set_viewport(1280, 900);

    goto_styled(&browser, &server.url("/en/objective-15/"));
    let (toc, prose) = (span(&browser, ".toc"), span(&browser, ".prose"));
    assert!(toc.0 > prose.1, "English: the table of contents should sit after (right of) the text: {toc:?} {prose:?}");
    let (brand, search) = (span(&browser, ".brand"), span(&browser, ".header-search"));
    assert!(brand.1 < search.0);

    goto_styled(&browser, &server.url("/ar/objective-15/"));
    let (toc, prose) = (span(&browser, ".toc"), span(&browser, ".prose"));
    assert!(toc.1 < prose.0, "Arabic: the table of contents should sit left of the text: {toc:?} {prose:?}");
    let (brand, search) = (span(&browser, ".brand"), span(&browser, ".header-search"));
    assert!(search.1 < brand.0, "Arabic: the title should be on the right, the search on the left");
    let align = browser.execute("return getComputedStyle(document.querySelector('.prose p')).textAlign", &[]);
    assert!(align == json!("start") || align == json!("right"), "Arabic text aligns {align}");
}

#[test]
fn print_hides_navigation_and_prints_link_addresses() {
    let Some(browser) = Browser::start("print_hides_navigation_and_prints_link_addresses") else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    browser.goto(&server.url("/en/"));
    let external = "a.external:not(.footnotes a)";
    assert!(browser.try_find(external).is_some(), "the home page should have an external link in its text");
    let after = format!("return getComputedStyle(document.querySelector('{external}'), '::after').content");
    let screen_after = browser.execute(&after, &[]);
    browser.emulate_media("print", &[]);
    for chrome in [".site-header", ".skip-link", ".site-nav", ".language-switcher"] {
        let display =
            browser.execute("return getComputedStyle(document.querySelector(arguments[0])).display", &[json!(chrome)]);
        assert_eq!(display, json!("none"), "{chrome} is printed");
    }
    let href = browser.find(external).property("href");
    let printed = browser.execute(&after, &[]);
    assert_ne!(printed, screen_after);
    assert!(
        printed.as_str().unwrap().contains(href.as_str().unwrap()),
        "printed after the link: {printed}, not {href}"
    );

    browser.goto(&server.url("/en/objective-14/"));
    for chrome in [".breadcrumb", ".toc", ".pager"] {
        let display =
            browser.execute("return getComputedStyle(document.querySelector(arguments[0])).display", &[json!(chrome)]);
        assert_eq!(display, json!("none"), "{chrome} is printed");
    }
    let notes = browser.execute("return getComputedStyle(document.querySelector('.footnotes')).display", &[]);
    assert_ne!(notes, json!("none"), "footnotes must be printed");
    browser.emulate_media("", &[]);
}

#[test]
fn reduced_motion_turns_off_smooth_scrolling() {
    let Some(browser) = Browser::start("reduced_motion_turns_off_smooth_scrolling") else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    let behaviour = "return getComputedStyle(document.documentElement).scrollBehavior";
    browser.goto(&server.url("/en/objective-14/"));
    browser.emulate_media("", &[("prefers-reduced-motion", "no-preference")]);
    assert_eq!(browser.execute(behaviour, &[]), json!("smooth"));
    browser.emulate_media("", &[("prefers-reduced-motion", "reduce")]);
    assert_eq!(browser.execute(behaviour, &[]), json!("auto"));
}

#[test]
fn pages_read_without_javascript() {
    let Some(browser) = Browser::start("pages_read_without_javascript") else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    without_scripts(&browser, true);
    browser.goto(&server.url("/fr/objective-16/"));
    let main = browser.find("main").text();
    assert!(main.len() > 1500, "the objective page's text is missing without JavaScript");
    // The objectives are shown on a wide screen (CSS unfolds their <details>, which
    // WebDriver's displayedness does not know of, so the browser's own visibility is asked).
    let shown = "return document.querySelector(arguments[0]).checkVisibility()";
    assert_eq!(browser.execute(shown, &[json!(".site-nav")]), json!(true));
    assert!(browser.find(".language-switcher").is_displayed());
    // The root page lists every language as plain links.
    browser.goto(&server.url("/"));
    assert_eq!(browser.find_all(".language-list a").len(), 6);
}

#[test]
fn a_citation_names_the_paragraph_the_page_was_opened_at_and_can_be_copied_or_downloaded() {
    let test = "a_citation_names_the_paragraph_the_page_was_opened_at_and_can_be_copied_or_downloaded";
    let Some(browser) = Browser::start(test) else { return };
    let site = built_site();
    let server = StaticServer::start(&site.public());
    let page = "https://example.org/en/objective-14/";

    browser.goto(&server.url("/en/objective-14/#p-14-2"));
    browser.find(".cite-this > summary").click();
    let text = browser.find(".cite-text").text();
    assert!(text.ends_with(&format!("{page}#p-14-2")), "{text}");
    let bibtex = browser.find("[data-cite-format='bibtex']").text();
    assert!(bibtex.contains(&format!("url = {{{page}#p-14-2}}")), "{bibtex}");
    let csl = browser.find("[data-cite-format='csl-json']").text();
    let csl: Value = serde_json::from_str(&csl).unwrap();
    assert_eq!(csl[0]["URL"], json!(format!("{page}#p-14-2")));
    // Copy for every format, download for the three reference managers read.
    let buttons: Vec<String> = browser.find_all(".cite-actions button").iter().map(|b| b.text()).collect();
    assert_eq!(buttons, ["Copy", "Copy", "Download", "Copy", "Download", "Copy", "Download"]);
    let names: Vec<Option<String>> =
        browser.find_all(".cite-actions button").iter().take(3).map(|b| b.attr("aria-label")).collect();
    assert_eq!(names, [Some("Copy (Text)".into()), Some("Copy (BibTeX)".into()), Some("Download (BibTeX)".into())]);

    // Another paragraph, then a fragment that names no paragraph.
    browser.execute("location.hash = 'p-14-3'", &[]);
    browser.wait_for("document.querySelector('.cite-text').textContent.endsWith('#p-14-3')", "the citation to follow");
    browser.execute("location.hash = 'overview'", &[]);
    browser.wait_for(
        &format!("document.querySelector('.cite-text').textContent.endsWith('{page}')"),
        "the citation to name the page",
    );
}
