//! Client-side search: the Rust indexer and the browser's query code agree on every
//! token (run in node over word lists); the bundled site's index answers the issue's
//! queries, in node and in a real browser; what a first query fetches stays small on a
//! 12,000-page corpus; drafts stay out and untranslated pages stay in.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use imrf_site::search::text::TextProcessor;
use serde_json::{Value, json};

use crate::browser_support::{Browser, StaticServer, in_ci};
use crate::support::{SiteTest, repo_root};

const LANGUAGES: [&str; 6] = ["en", "fr", "es", "ar", "zh", "ru"];

/// Runs the node helper (tests/fixtures/search-node/run.mjs) on a request; `None` (after a
/// loud message) when node is missing outside CI.
fn node(test: &str, request: &Value) -> Option<Value> {
    let script = repo_root().join("tests/fixtures/search-node/run.mjs");
    let child =
        Command::new("node").arg(&script).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) if !in_ci() => {
            eprintln!("\nSKIPPED {test}: cannot run node ({error}); with CI=true this fails.\n");
            return None;
        }
        Err(error) => panic!("{test}: cannot run node: {error}"),
    };
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "node failed: {}", String::from_utf8_lossy(&output.stderr));
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

/// The options the manifest gives the client for a language.
fn text_options(processor: &TextProcessor) -> Value {
    json!({
        "foldLatin": processor.folds_latin(),
        "foldYo": processor.folds_yo(),
        "stemmer": processor.stemmer_name().map(|name| json!({ "name": name })),
    })
}

/// Every line of the language's bundled content, plus the tricky cases of its word list.
fn word_lines(lang: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let content = repo_root().join("site/content").join(lang);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&content).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for file in files {
        lines.extend(std::fs::read_to_string(file).unwrap().lines().map(str::to_string));
    }
    let list = repo_root().join("tests/fixtures/search-words").join(format!("{lang}.txt"));
    lines.extend(std::fs::read_to_string(list).unwrap().lines().map(str::to_string));
    lines
}

#[test]
fn rust_and_javascript_make_the_same_tokens() {
    for lang in LANGUAGES {
        let processor = TextProcessor::for_language(lang);
        let lines = word_lines(lang);
        let rust: Vec<Vec<(String, String)>> =
            lines.iter().map(|line| processor.tokens(line).into_iter().map(|t| (t.term, t.word)).collect()).collect();
        let request = json!({ "command": "tokens", "text": text_options(&processor), "lines": lines });
        let Some(js) = node("rust_and_javascript_make_the_same_tokens", &request) else { return };
        let js: Vec<Vec<(String, String)>> = serde_json::from_value(js).unwrap();
        assert_eq!(js.len(), rust.len());
        let mut checked = 0;
        for ((line, rust), js) in lines.iter().zip(&rust).zip(&js) {
            assert_eq!(rust, js, "{lang}: Rust and JavaScript disagree on the line {line:?}");
            checked += rust.len();
        }
        // The comparison must have covered real text, not empty lines.
        assert!(checked > 1000, "{lang}: only {checked} tokens compared");
    }
}

#[test]
fn committed_stemmer_files_match_the_locked_crate() {
    let metadata = Command::new(env!("CARGO")).args(["metadata", "--format-version", "1"]).output().unwrap();
    let metadata: Value = serde_json::from_slice(&metadata.stdout).unwrap();
    let manifest = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "rust-stemmers")
        .map(|p| PathBuf::from(p["manifest_path"].as_str().unwrap()))
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let status = Command::new("node")
        .arg(repo_root().join("tools/snowball-to-js.mjs"))
        .arg(manifest.parent().unwrap())
        .arg(out.path())
        .status();
    match status {
        Ok(status) => assert!(status.success()),
        Err(error) if !in_ci() => return eprintln!("\nSKIPPED: cannot run node ({error})\n"),
        Err(error) => panic!("cannot run node: {error}"),
    }
    for name in ["english", "french", "spanish", "russian", "arabic"] {
        let file = format!("stem-{name}.js");
        let fresh = std::fs::read_to_string(out.path().join(&file)).unwrap();
        let committed = std::fs::read_to_string(repo_root().join("themes/default/js").join(&file)).unwrap();
        assert!(fresh == committed, "{file} is stale: run node tools/snowball-to-js.mjs");
    }
}

/// Runs queries on one language's built index in node; each on a fresh index.
fn queries(test: &str, public: &Path, lang: &str, list: &[(&str, bool)]) -> Option<Vec<Value>> {
    let index = public.join(lang).join("search");
    let request = json!({ "command": "query", "index": format!("{}/", index.display()), "queries": list });
    node(test, &request).map(|v| v.as_array().unwrap().clone())
}

fn first_url(result: &Value) -> String {
    result["results"][0]["url"].as_str().unwrap_or("(no result)").to_string()
}

#[test]
fn bundled_index_answers_in_every_language() {
    let site = SiteTest::bundled();
    site.build().ok();
    let expected: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::from([
        (
            "en",
            vec![
                ("remittances", "/en/objective-20/"),
                ("remittance", "/en/objective-20/"),
                ("consular", "/en/objective-14/"),
                ("remitances", "/en/objective-20/"),
            ],
        ),
        ("fr", vec![("envois de fonds", "/fr/objective-20/"), ("consulaire", "/fr/objective-14/")]),
        ("es", vec![("remesas", "/es/objective-20/"), ("proteccion consular", "/es/objective-14/")]),
        ("ar", vec![("التحويلات", "/ar/objective-20/"), ("تحويلات", "/ar/objective-20/")]),
        ("zh", vec![("汇款", "/zh/objective-20/"), ("领事", "/zh/objective-14/")]),
        ("ru", vec![("денежные переводы", "/ru/objective-20/"), ("консульской", "/ru/objective-14/")]),
    ]);
    let mut report = Vec::new();
    for (lang, cases) in expected {
        let list: Vec<(&str, bool)> = cases.iter().map(|(q, _)| (*q, false)).collect();
        let Some(results) = queries("bundled_index_answers_in_every_language", &site.public(), lang, &list) else {
            return;
        };
        for ((query, page), result) in cases.iter().zip(&results) {
            let url = first_url(result);
            assert!(url.starts_with(page), "{lang} {query:?}: first result {url}, expected {page}: {result}");
        }
        report.push(format!("{lang} {:?}: {} bytes", cases[0].0, results[0]["bytes"]));
    }
    // The bytes a first query fetches, for BENCHMARKS.md (cargo test -- --nocapture).
    println!("first query, index bytes fetched: {}", report.join("; "));
}

#[test]
fn prefixes_while_typing_reach_the_stems_of_words() {
    let site = SiteTest::bundled();
    site.build().ok();
    let Some(results) = queries(
        "prefixes_while_typing_reach_the_stems_of_words",
        &site.public(),
        "en",
        &[("remi", true), ("remi", false), ("consular prot", true)],
    ) else {
        return;
    };
    assert!(first_url(&results[0]).starts_with("/en/objective-20/"), "{}", results[0]);
    assert_eq!(results[1]["count"], 0, "a finished word is not a prefix: {}", results[1]);
    assert!(first_url(&results[2]).starts_with("/en/objective-14/"), "{}", results[2]);
}

#[test]
fn drafts_stay_out_and_untranslated_pages_stay_in() {
    let site = SiteTest::bundled();
    site.write(
        "site/content/en/secret.md",
        "+++\ntitle = \"Zanzibarian draft\"\ndraft = true\n+++\n\nZanzibarian plans.\n",
    );
    site.remove("site/content/fr/objective-20.md");
    site.build().ok();
    let test = "drafts_stay_out_and_untranslated_pages_stay_in";
    let Some(en) = queries(test, &site.public(), "en", &[("zanzibarian", false)]) else { return };
    assert_eq!(en[0]["count"], 0, "a draft was indexed: {}", en[0]);
    // The French index holds the English text shown at /fr/objective-20/, processed as
    // French queries are, so a French reader finds it with the English word.
    let Some(fr) = queries(test, &site.public(), "fr", &[("remittances", false)]) else { return };
    assert!(first_url(&fr[0]).starts_with("/fr/objective-20/"), "{}", fr[0]);
}

const ARROW_DOWN: &str = "\u{E015}";
const ESCAPE: &str = "\u{E00C}";

/// Types `query` into the search page's box and waits for the results of exactly that query.
fn search_page(browser: &Browser, server: &StaticServer, lang: &str, query: &str) -> Value {
    browser.goto(&server.url(&format!("/{lang}/search/")));
    let input = browser.find("#search-page-input");
    input.click();
    input.send_keys(query);
    browser.wait_for(
        "document.getElementById('search-results').getAttribute('data-query') === document.getElementById('search-page-input').value \
         && document.querySelector('#search-results .search-status').textContent",
        &format!("results for {query:?} in {lang}"),
    );
    browser.execute(
        "return { first: (document.querySelector('#search-results .search-result') || {}).href || '', \
                  status: document.querySelector('#search-results .search-status').textContent, \
                  marks: document.querySelectorAll('#search-results mark').length, \
                  needsJsHidden: document.querySelector('.search-needs-js').hidden, \
                  url: location.search }",
        &[],
    )
}

#[test]
fn search_in_the_browser() {
    let Some(browser) = Browser::start("search_in_the_browser") else { return };
    let site = SiteTest::bundled();
    site.build().ok();
    let server = StaticServer::start(&site.public());

    // Nothing about search is fetched before the reader asks for it.
    browser.goto(&server.url("/en/objective-15/"));
    let resources = "return performance.getEntriesByType('resource').map(e => e.name).filter(n => /search/.test(n))";
    assert_eq!(browser.execute(resources, &[]), json!([]), "search files fetched before focus");

    // The header box: focusing loads search, typing shows results in a panel.
    browser.find("#site-search").click();
    browser.find("#site-search").send_keys("remittances");
    browser.wait_for("document.querySelector('#site-search-panel .search-result')", "header results");
    let first = browser.execute("return document.querySelector('#site-search-panel .search-result').href", &[]);
    assert!(first.as_str().unwrap().contains("/en/objective-20/"), "header: {first}");
    // Keyboard: down arrow into the results, Escape back to the box.
    browser.press(ARROW_DOWN);
    let focused = browser.execute("return document.activeElement.className", &[]);
    assert_eq!(focused, json!("search-result"));
    browser.press(ESCAPE);
    assert_eq!(browser.execute("return document.activeElement.id", &[]), json!("site-search"));

    let cases = [
        ("en", "remittances", "/en/objective-20/"),
        ("en", "remittance", "/en/objective-20/"),
        ("en", "consular", "/en/objective-14/"),
        ("en", "remitances", "/en/objective-20/"),
        ("fr", "envois de fonds", "/fr/objective-20/"),
        ("zh", "汇款", "/zh/objective-20/"),
        ("ar", "التحويلات", "/ar/objective-20/"),
    ];
    for (lang, query, page) in cases {
        let got = search_page(&browser, &server, lang, query);
        let first = got["first"].as_str().unwrap();
        assert!(first.contains(page), "{lang} {query:?}: first result {first}, expected {page}; {got}");
        assert!(got["marks"].as_u64().unwrap() > 0, "{lang} {query:?}: no highlighted words; {got}");
        assert_eq!(got["needsJsHidden"], json!(true), "the no-JavaScript message shows");
        assert!(got["url"].as_str().unwrap().starts_with("?q="), "the query is not in the address: {got}");
    }

    // The count is announced with the language's plural rules (Arabic has six forms).
    let got = search_page(&browser, &server, "en", "consular");
    assert!(got["status"].as_str().unwrap().ends_with(" results"), "{got}");
    let ar = search_page(&browser, &server, "ar", "القنصلية");
    assert!(!ar["status"].as_str().unwrap().is_empty(), "{ar}");

    // ?q= makes results shareable: opening the address shows them.
    browser.goto(&server.url("/en/search/?q=consular"));
    browser.wait_for("document.querySelector('#search-results .search-result')", "results from ?q=");
    assert_eq!(browser.execute("return document.getElementById('search-page-input').value", &[]), json!("consular"));
}
