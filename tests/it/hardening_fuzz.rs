//! Property tests that fuzz the parts of imrf-site fed by people: front matter and
//! Markdown (through the whole per-page pipeline, sanitizer included), the search text
//! processing, and the mapping from source file names to output paths. They run on
//! stable in `cargo test` with bounded case counts; inputs that once found a bug are
//! kept below as plain regression tests.

use std::path::{Component, Path};

use imrf_site::content::parse_page;
use imrf_site::markdown::{self, MarkdownContext, MarkdownStrings};
use imrf_site::search::text::TextProcessor;
use imrf_site::site::page_url;
use imrf_site::types::LangCode;
use proptest::prelude::*;

/// Cases per property: enough to explore, few enough to keep `cargo test` quick.
/// `IMRF_FUZZ_CASES=100000 cargo test hardening_fuzz` searches harder.
fn cases() -> u32 {
    std::env::var("IMRF_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1500)
}

/// Pieces people write (and mistype), for building inputs that reach deep into the
/// parsers instead of failing at the first byte.
const FRAGMENTS: &[&str] = &[
    "+++\n",
    "+++\r\n",
    "title = \"T\"\n",
    "title = 3\n",
    "kind = \"objective\"\nobjective = 4\nshort_label = \"S\"\n",
    "[[questions]]\nid = \"q-4-1\"\ntext = \"Why <b onclick=x()>not</b>?\"\n",
    "weight = [[[1]]]\n",
    "draft = false\n",
    "\"unterminated\n",
    "\u{feff}",
    "\r\n",
    "\n",
    "\n\n",
    "# Heading {#id}\n",
    "## Über 概述\n",
    "Text[^a] ",
    "[^a]: Note <https://example.org/>\n",
    "[^b]: <a href=\"javascript:x()\">src</a>\n",
    "> ",
    "- ",
    "1. ",
    "    code\n",
    "```\n",
    "`code` ",
    "*em* **strong** ~~del~~ ",
    "| a | b |\n|:-|-:|\n| 1 | 2 |\n",
    "[link](/en/objective-4/#q-4-1) ",
    "[out](https://un.org/) ",
    "[js](javascript:alert(1)) ",
    "[js2](JaVa\tScRiPt:alert(1)) ",
    "![img](data:text/html,x) ",
    "<script>alert(1)</script>\n",
    "<div onclick=\"x()\">",
    "</div>",
    "<img src=x onerror=alert(1)>",
    "<a href='javascript:x'>a</a>",
    "<!-- comment -->",
    "<style>*{}</style>",
    "&amp; &lt; &#0; ",
    "\u{0}",
    "\u{202e}",
    "é",
    "مرحبا ",
    "Привет ",
    "移民 ",
    "\\",
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    "\"",
    "'",
];

fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
        1 => any::<String>(),
        1 => "[a-z <>\\[\\]()*_`#|:=/\"'\n-]{0,12}",
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn strings() -> MarkdownStrings {
    MarkdownStrings {
        external_link: "(external)".into(),
        footnote_reference: "Note {number}".into(),
        back_to_reference: "Back {number}".into(),
    }
}

/// Every attribute (name, value) in `html`, as a browser would see them: the renderer
/// escapes `<` in text, so each `<` opens a tag.
pub fn attributes(html: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let bytes = html.as_bytes();
    let mut i = 0;
    while let Some(open) = html[i..].find('<').map(|o| i + o) {
        i = open + 1;
        if !bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
            i += 1;
        }
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                break;
            }
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"=>/".contains(&bytes[i]) {
                i += 1;
            }
            let name = html[start..i].to_ascii_lowercase();
            let mut value = String::new();
            if bytes.get(i) == Some(&b'=') {
                i += 1;
                let quote = bytes.get(i).copied().filter(|q| *q == b'"' || *q == b'\'');
                let value_start = if quote.is_some() { i + 1 } else { i };
                let end = match quote {
                    Some(q) => html[value_start..].find(q as char).map_or(bytes.len(), |e| value_start + e),
                    None => html[value_start..]
                        .find(|c: char| c.is_ascii_whitespace() || c == '>')
                        .map_or(bytes.len(), |e| value_start + e),
                };
                value = html[value_start..end].to_string();
                i = if quote.is_some() { end + 1 } else { end };
            }
            found.push((name, value));
        }
    }
    found
}

/// What must never reach a reader from a page that does not opt out of sanitizing.
fn assert_no_script(html: &str) -> Result<(), TestCaseError> {
    prop_assert!(!html.to_ascii_lowercase().contains("<script"), "script element in {html}");
    for (name, value) in attributes(html) {
        prop_assert!(!name.starts_with("on"), "event handler `{name}` in {html}");
        let scheme: String = value.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control()).collect();
        let scheme = scheme.to_ascii_lowercase();
        prop_assert!(
            !(scheme.starts_with("javascript:") || scheme.starts_with("vbscript:") || scheme.starts_with("data:")),
            "`{name}=\"{value}\"` in {html}"
        );
    }
    Ok(())
}

fn render_page(text: &str) -> Result<(), TestCaseError> {
    let en = LangCode::parse("en").unwrap();
    let path = Path::new("site/content/en/fuzz.md");
    let lines = text.split('\n').count();
    match parse_page(&en, "fuzz.md", path, text) {
        Err(error) => {
            // An error names the file, and a line inside it.
            let message = error.to_string();
            let rest = message.strip_prefix("site/content/en/fuzz.md");
            prop_assert!(rest.is_some(), "{message}");
            let line = rest.and_then(|r| r.strip_prefix(':')).and_then(|r| r.split(':').next()?.parse::<usize>().ok());
            if let Some(line) = line {
                prop_assert!((1..=lines + 1).contains(&line), "line {line} of {lines}: {message}");
            }
        }
        Ok(page) => {
            let strings = strings();
            let context = MarkdownContext {
                strings: &strings,
                base_path: "/imrf/",
                site_origin: "https://example.org",
                reserved_ids: &["main-content"],
                block_prefix: "p-fuzz",
                trust_raw_html: false,
            };
            if let Ok(rendered) = markdown::render(page.body(), &context) {
                assert_no_script(&rendered.html)?;
                for footnote in &rendered.footnotes {
                    assert_no_script(&footnote.html)?;
                }
                let url = page_url(&en, &page);
                prop_assert!(url.as_str().starts_with("/en/"), "{url}");
            }
            for question in &page.front.questions {
                assert_no_script(&markdown::render_inline(&question.text, false))?;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn front_matter_and_markdown_never_panic_and_never_publish_scripts(body in text(), front in text()) {
        render_page(&body)?;
        render_page(&format!("+++\ntitle = \"T\"\n{front}\n+++\n{body}"))?;
    }

    #[test]
    fn search_text_processing_never_panics_and_is_deterministic(
        text in text(),
        lang in proptest::sample::select(&["en", "fr", "es", "ru", "ar", "zh", "sw", ""][..]),
    ) {
        let processor = TextProcessor::for_language(lang);
        let tokens = processor.tokens(&text);
        for token in &tokens {
            prop_assert!(!token.term.is_empty() && !token.word.is_empty(), "{token:?} from {text:?}");
        }
        let again: Vec<(String, String)> = processor.tokens(&text).into_iter().map(|t| (t.term, t.word)).collect();
        let first: Vec<(String, String)> = tokens.into_iter().map(|t| (t.term, t.word)).collect();
        prop_assert_eq!(first, again);
        let normalized = processor.normalize(&text);
        prop_assert_eq!(&processor.normalize(&normalized), &normalized, "normalizing twice changes nothing");
    }

    /// Whatever a contributor names a file (the walker skips names starting with `.`),
    /// its page is written inside the output folder.
    #[test]
    fn file_names_never_lead_outside_the_output_folder(
        segments in proptest::collection::vec("[^./\u{0}][^/\u{0}]{0,8}", 1..4),
        objective in proptest::option::of(1u8..=23),
    ) {
        let key = format!("{}.md", segments.join("/"));
        let en = LangCode::parse("en").unwrap();
        let front = match objective {
            Some(n) => format!("kind = \"objective\"\nobjective = {n}\nshort_label = \"S\"\n"),
            None => String::new(),
        };
        let text = format!("+++\ntitle = \"T\"\n{front}+++\nBody\n");
        if let Ok(page) = parse_page(&en, &key, Path::new("x.md"), &text) {
            let file = page_url(&en, &page).output_file();
            prop_assert!(
                Path::new(&file).components().all(|c| matches!(c, Component::Normal(_))),
                "{key} is written to {file}"
            );
        }
    }
}

/// Inputs the properties above found bugs with.
#[test]
fn regressions_found_by_fuzzing() {
    // A ligature under a diacritic was folded only on the second pass, so a page with
    // `Ǣ` and a query with `æ` gave different terms.
    let english = TextProcessor::for_language("en");
    assert_eq!(english.normalize("Ǣ"), "ae");
    assert_eq!(english.tokens("Ǣsir")[0].word, english.tokens("æsir")[0].word);
}

#[test]
fn attribute_scanner_sees_what_a_browser_sees() {
    let found = attributes(r#"<p>a &lt;b onclick=x&gt;</p><img src=x onerror=alert(1)><a href='javascript:y' id="z">"#);
    let names: Vec<&str> = found.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["src", "onerror", "href", "id"]);
    assert_eq!(found[2].1, "javascript:y");
}
