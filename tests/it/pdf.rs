//! The note as a PDF in every language: checked with Debian's poppler-utils (`pdftotext`,
//! `pdffonts`, `pdfinfo`, `pdftoppm`), which `.ci/run` installs with the Noto fonts the
//! default theme's PDF uses. Page images of a Latin, an Arabic and a Chinese PDF are kept
//! under `target/tmp/browser-artefacts/pdf/` for a reviewer to look at.

use std::path::Path;
use std::process::Command;

use imrf_site::build::{BuildOptions, Rebuilder};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::browser_support::{artefact_path, require_program};
use crate::support::{Run, SiteTest, counted, snapshot_tree};

const LANGUAGES: [&str; 6] = ["ar", "en", "es", "fr", "ru", "zh"];

fn poppler_present(test: &str) -> bool {
    ["pdftotext", "pdffonts", "pdfinfo", "pdftoppm"]
        .iter()
        .all(|program| require_program(test, program, "install Debian's poppler-utils (.ci/run does)"))
}

fn pdf_of(site: &SiteTest, lang: &str) -> std::path::PathBuf {
    site.public().join(lang).join(format!("imrf-round-table-3-{lang}.pdf"))
}

/// `program args... pdf trailing...`'s standard output.
fn poppler(program: &str, args: &[&str], pdf: &Path, trailing: &[&str]) -> String {
    let output = Command::new(program).args(args).arg(pdf).args(trailing).output().unwrap();
    assert!(output.status.success(), "{program} {}: {}", pdf.display(), String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn pdfinfo(pdf: &Path) -> String {
    let output = Command::new("pdfinfo").arg(pdf).output().unwrap();
    assert!(output.status.success(), "pdfinfo {}", pdf.display());
    String::from_utf8(output.stdout).unwrap()
}

/// Text as compared: without white space (lines break anywhere), without the invisible
/// marks that keep right-to-left text in order, without digits, which the PDF adds as
/// footnote numbers, and without hyphens, which pdftotext drops where a line ends with
/// one (`socio-` / `economic` comes out `socioeconomic`).
fn comparable(text: &str) -> String {
    text.chars()
        .filter(|c| {
            !c.is_whitespace()
                && !c.is_ascii_digit()
                && *c != '-'
                && !matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{ad}')
        })
        .collect()
}

fn is_arabic_mark(c: char) -> bool {
    ('\u{064b}'..='\u{065f}').contains(&c) || c == '\u{0670}'
}

/// The Arabic words of a text, vowel marks left out.
///
/// Arabic is compared word by word, not sentence by sentence: poppler cannot put a
/// right-to-left line back in order where it holds a run of digits or Latin letters, or
/// a letter that carries a vowel mark, which Typst maps to text imperfectly
/// (typst/typst#4225: the letter comes out twice, or its mark lands a few words away).
/// A word with a mark inside it (`أُنشئت`, 10 of the translation's 1,967) is therefore
/// not looked for; one with a mark at its end (the tanween of `دوراً`) is, without it.
fn arabic_words(text: &str) -> Vec<String> {
    text.split(|c: char| !(('\u{0621}'..='\u{064a}').contains(&c) || is_arabic_mark(c)))
        .filter(|word| !word.is_empty())
        .map(|word| word.chars().filter(|c| !is_arabic_mark(*c)).collect())
        .collect()
}

/// The words of `sentence` to look for (`arabic_words`): those without a mark inside.
fn comparable_arabic_words(sentence: &str) -> Vec<String> {
    let words = sentence.split(|c: char| !(('\u{0621}'..='\u{064a}').contains(&c) || is_arabic_mark(c)));
    words
        .filter(|word| !word.trim_end_matches(is_arabic_mark).chars().any(is_arabic_mark))
        .flat_map(arabic_words)
        .collect()
}

/// Whether `needle` is in `haystack` whole, or in two parts with a page's foot (its
/// footnotes, page number and notice) and the next page's head between them. Each part
/// is at least `MIN_PART` characters, so a sentence that lost its first or last word
/// is not found.
fn found_across_a_page_break(haystack: &str, needle: &str) -> bool {
    const MIN_PART: usize = 8;
    if haystack.contains(needle) {
        return true;
    }
    let chars: Vec<(usize, char)> = needle.char_indices().collect();
    (MIN_PART..chars.len().saturating_sub(MIN_PART)).rev().any(|split| {
        let (head, tail) = needle.split_at(chars[split].0);
        haystack.match_indices(head).any(|(at, _)| {
            let after = &haystack[at + head.len()..];
            let window: String = after.chars().take(3000).collect();
            window.contains(tail)
        })
    })
}

/// The paragraphs, list items and footnote texts of a page's Markdown body, as plain
/// text (footnote references left out).
fn text_blocks(markdown: &str) -> Vec<String> {
    let options = Options::ENABLE_FOOTNOTES | Options::ENABLE_TABLES | Options::ENABLE_SMART_PUNCTUATION;
    let mut blocks = Vec::new();
    let mut current = String::new();
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Text(text) | Event::Code(text) => current.push_str(&text),
            Event::SoftBreak | Event::HardBreak => current.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item) | Event::Start(Tag::Item) => {
                if !current.trim().is_empty() {
                    blocks.push(std::mem::take(&mut current));
                }
                current.clear();
            }
            _ => {}
        }
    }
    blocks
}

/// The sentences of a block: a sentence ends at `.`, `?`, `!`, `。`, `？` or `؟`.
fn sentences(block: &str) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    for c in block.chars() {
        current.push(c);
        if matches!(c, '.' | '?' | '!' | '。' | '？' | '؟') {
            sentences.push(std::mem::take(&mut current));
        }
    }
    sentences.push(current);
    sentences.into_iter().filter(|s| comparable(s).chars().count() > 3).collect()
}

/// The text a language's pages show: its own Markdown, or the original's where a page
/// is not translated; front matter questions included.
fn page_texts(site: &SiteTest, lang: &str) -> Vec<String> {
    let mut texts = Vec::new();
    let own = site.root().join("site/content").join(lang);
    for entry in std::fs::read_dir(site.root().join("site/content/en")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".md") {
            continue;
        }
        let path =
            if own.join(&name).exists() { own.join(&name) } else { site.root().join("site/content/en").join(&name) };
        let text = std::fs::read_to_string(path).unwrap();
        let (front, body) = text.trim_start_matches("+++").split_once("+++").unwrap();
        let front: toml::Value = toml::from_str(front).unwrap();
        for question in front.get("questions").and_then(|q| q.as_array()).into_iter().flatten() {
            texts.extend(text_blocks(question["text"].as_str().unwrap()));
        }
        texts.extend(text_blocks(body));
    }
    texts
}

#[test]
fn every_language_publishes_the_whole_note_as_a_pdf_with_its_fonts_embedded() {
    let test = "every_language_publishes_the_whole_note_as_a_pdf_with_its_fonts_embedded";
    if !poppler_present(test) {
        return;
    }
    let site = SiteTest::bundled();
    site.build().ok();
    for lang in LANGUAGES {
        let pdf = pdf_of(&site, lang);
        let info = pdfinfo(&pdf);
        let pages: usize = info.lines().find_map(|l| l.strip_prefix("Pages:")).unwrap().trim().parse().unwrap();
        assert!((6..=40).contains(&pages), "{lang}: {pages} pages");
        assert!(info.contains("Tagged:          yes"), "{lang}: not tagged\n{info}");
        let home = std::fs::read_to_string(site.root().join(format!("site/content/{lang}/_index.md"))).unwrap();
        let title = home.lines().find_map(|l| l.strip_prefix("title = \"")).unwrap().trim_end_matches('"');
        assert!(
            info.contains(&format!("Title:           {title}")),
            "{lang}: the PDF's title is not {title:?}\n{info}"
        );

        let fonts = poppler("pdffonts", &[], &pdf, &[]);
        let rows: Vec<&str> = fonts.lines().skip(2).filter(|l| !l.trim().is_empty()).collect();
        assert!(!rows.is_empty(), "{lang}: no fonts\n{fonts}");
        for row in &rows {
            let columns: Vec<&str> = row.split_whitespace().collect();
            let embedded = &columns[columns.len() - 5];
            assert_eq!(*embedded, "yes", "{lang}: a font is not embedded: {row}");
        }

        let extracted = poppler("pdftotext", &["-enc", "UTF-8"], &pdf, &["-"]);
        let text = comparable(&extracted);
        let words: std::collections::HashSet<String> = arabic_words(&extracted).into_iter().collect();
        let mut missing = Vec::new();
        let mut checked = 0;
        for block in page_texts(&site, lang) {
            for sentence in sentences(&block) {
                checked += 1;
                let whole = comparable(&sentence);
                let found = if lang == "ar" {
                    comparable_arabic_words(&sentence).iter().all(|word| words.contains(word))
                } else {
                    found_across_a_page_break(&text, &whole)
                };
                if !found {
                    missing.push(whole);
                }
            }
        }
        assert!(checked > 60, "{lang}: only {checked} sentences found to check");
        assert!(
            missing.is_empty(),
            "{lang}: {} of {checked} sentences are not in the PDF, first: {:?}",
            missing.len(),
            &missing[..missing.len().min(3)]
        );

        let notice = if lang == "en" { None } else { Some(read_string(&site, lang, "unofficial_translation")) };
        if let Some(notice) = notice {
            assert!(text.contains(&comparable(&notice)), "{lang}: no unofficial-translation notice in the PDF");
        }
    }
    for (lang, script) in [("en", "latin"), ("ar", "arabic"), ("zh", "chinese")] {
        let prefix = artefact_path(&format!("pdf/{script}"));
        let status = Command::new("pdftoppm")
            .args(["-r", "60", "-png", "-f", "1", "-l", "4"])
            .arg(pdf_of(&site, lang))
            .arg(&prefix)
            .status();
        assert!(status.unwrap().success(), "pdftoppm {lang}");
    }
}

fn read_string(site: &SiteTest, lang: &str, key: &str) -> String {
    let text = std::fs::read_to_string(site.root().join(format!("i18n/{lang}.toml"))).unwrap();
    let strings: toml::Value = toml::from_str(&text).unwrap();
    strings["strings"][key].as_str().unwrap().to_string()
}

#[test]
fn every_page_links_its_language_pdf_with_its_size_and_names_it_for_citation() {
    if !poppler_present("every_page_links_its_language_pdf_with_its_size_and_names_it_for_citation") {
        return;
    }
    let site = SiteTest::bundled();
    site.build().ok();
    for lang in LANGUAGES {
        let bytes = std::fs::metadata(pdf_of(&site, lang)).unwrap().len();
        let kilobytes = bytes.div_ceil(1000).to_string();
        let href = format!("href=\"/{lang}/imrf-round-table-3-{lang}.pdf\"");
        for page in ["", "objective-14/", "guiding-questions/", "references/", "search/"] {
            let html = site.read(&format!("{lang}/{page}index.html"));
            let link =
                html.split("class=\"download-pdf\"").nth(1).unwrap_or_else(|| panic!("{lang}/{page}: no PDF link"));
            let link = &link[..link.find("</p>").unwrap()];
            assert!(link.contains(&href), "{lang}/{page}: {link}");
            let digits: String = link.chars().filter(char::is_ascii_digit).collect();
            assert!(digits.ends_with(&kilobytes), "{lang}/{page}: the link does not say {kilobytes} KB: {link}");
        }
        let objective = site.read(&format!("{lang}/objective-14/index.html"));
        let pdf_url = format!(
            "<meta name=\"citation_pdf_url\" content=\"https://example.org/{lang}/imrf-round-table-3-{lang}.pdf\">"
        );
        assert!(objective.contains(&pdf_url), "{lang}: no citation_pdf_url");
    }
}

#[test]
fn pdfs_are_byte_identical_across_builds_and_thread_counts() {
    if !poppler_present("pdfs_are_byte_identical_across_builds_and_thread_counts") {
        return;
    }
    let site = SiteTest::bundled();
    site.build().ok();
    let pdfs = |site: &SiteTest| -> Vec<(String, Vec<u8>)> {
        snapshot_tree(&site.public()).into_iter().filter(|(path, _)| path.ends_with(".pdf")).collect()
    };
    let first = pdfs(&site);
    assert_eq!(first.len(), 6);
    let mut one_thread = Command::new(env!("CARGO_BIN_EXE_imrf-site"));
    // Without the cache, which would hand the first build's PDFs on.
    one_thread.env("RAYON_NUM_THREADS", "1").args(["build", "--no-cache", "--root"]).arg(site.root());
    assert!(one_thread.status().unwrap().success());
    assert!(first == pdfs(&site), "a one-thread build made other PDFs");
}

#[test]
fn serve_typesets_again_only_the_language_that_changed_and_equals_a_clean_build() {
    if !poppler_present("serve_typesets_again_only_the_language_that_changed_and_equals_a_clean_build") {
        return;
    }
    let site = SiteTest::bundled();
    let mut rebuilder = Rebuilder::new(BuildOptions::new(site.root()));
    rebuilder.rebuild(&[], true).unwrap();
    assert_eq!(rebuilder.typeset_pdfs(), 6);
    site.edit("site/content/fr/objective-14.md", "joue un rôle essentiel", "joue un rôle tout à fait essentiel");
    let changed = site.root().join("site/content/fr/objective-14.md");
    let watched = rebuilder.rebuild(&[changed], false).unwrap();
    assert_eq!(rebuilder.typeset_pdfs(), 1, "only the French PDF reads the edited page");
    site.build().ok();
    let built = snapshot_tree(&site.public());
    for (path, bytes) in built.iter().filter(|(path, _)| path.ends_with(".pdf") || path.ends_with("index.html")) {
        let served = watched
            .files
            .iter()
            .find(|file| &*file.path == path.as_str())
            .unwrap_or_else(|| panic!("{path} not served"));
        assert!(served.bytes == bytes.as_slice(), "{path}: served differs from a clean build");
    }
    // The theme's PDF template is an input too.
    site.edit("themes/default/pdf/note.typ", "size: 10.5pt", "size: 11pt");
    rebuilder.rebuild(&[site.root().join("themes/default/pdf/note.typ")], false).unwrap();
    assert_eq!(rebuilder.typeset_pdfs(), 6);
}

/// The `N of 6 PDFs` a build with the cache says it reused.
#[track_caller]
fn pdfs_reused(run: &Run) -> String {
    let stdout = run.ok();
    let line = stdout.lines().find(|line| line.starts_with("Reused ")).unwrap_or_else(|| panic!("{stdout}"));
    let (reused, of) = counted(line, "PDFs").unwrap_or_else(|| panic!("no PDFs in: {line}"));
    format!("{reused} of {of} PDFs")
}

#[test]
fn a_build_with_the_cache_typesets_only_the_pdfs_whose_inputs_changed() {
    let site = SiteTest::bundled();
    assert_eq!(pdfs_reused(&site.build()), "0 of 6 PDFs");
    assert_eq!(pdfs_reused(&site.build()), "6 of 6 PDFs", "nothing changed");
    site.edit("site/content/fr/objective-14.md", "joue un rôle essentiel", "joue un rôle tout à fait essentiel");
    assert_eq!(pdfs_reused(&site.build()), "5 of 6 PDFs", "only the French PDF reads the edited page");
    let cold = site.root().join("cold");
    site.run(&["build", "--no-cache", "--output", cold.to_str().unwrap()]).ok();
    assert!(snapshot_tree(&site.public()) == snapshot_tree(&cold), "the cached build differs from a clean one");

    // A PDF the cache holds damaged is never published: the cache is set aside.
    let parts = site.root().join(".imrf-site-cache/parts");
    let mut damaged = 0;
    for entry in std::fs::read_dir(&parts).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if bytes.starts_with(b"%PDF") {
            std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
            damaged += 1;
        }
    }
    assert_eq!(damaged, 6, "each PDF is a part of the cache");
    let run = site.build();
    assert_eq!(pdfs_reused(&run), "0 of 6 PDFs");
    assert!(run.stderr().contains("a part of it is missing or damaged"), "{}", run.stderr());
    assert!(snapshot_tree(&site.public()) == snapshot_tree(&cold), "a damaged cache changed the output");

    // The PDF's name is an input too.
    site.edit("site/config.toml", "name = \"imrf-round-table-3\"", "name = \"round-table-3\"");
    assert_eq!(pdfs_reused(&site.build()), "0 of 6 PDFs");
    assert!(site.public().join("fr/round-table-3-fr.pdf").is_file());
}

#[test]
fn a_mistake_in_the_pdf_template_names_its_line_and_keeps_the_previous_output() {
    if !poppler_present("a_mistake_in_the_pdf_template_names_its_line_and_keeps_the_previous_output") {
        return;
    }
    let site = SiteTest::bundled();
    site.build().ok();
    let before = snapshot_tree(&site.public());
    site.edit("themes/default/pdf/note.typ", "set par(justify: true", "set par(justifie: true");
    let line = site.source("themes/default/pdf/note.typ").lines().position(|l| l.contains("justifie")).unwrap() + 1;
    let error = site.build().err();
    let expected = format!("themes/default/pdf/note.typ:{line}:");
    assert!(error.contains(&expected) && error.contains("justifie"), "{error}");
    assert!(before == snapshot_tree(&site.public()), "a failed build changed the output");
}

#[test]
fn without_fonts_the_build_says_what_to_install_and_without_pdf_it_makes_none() {
    let site = SiteTest::bundled();
    site.edit("site/config.toml", "font_dirs = [\"/usr/share/fonts\"]", "font_dirs = [\"no-fonts-here\"]");
    let error = site.build().err();
    assert!(error.contains("no fonts for the PDF in") && error.contains("fonts-noto-core"), "{error}");
    assert!(error.contains("no-fonts-here"), "{error}");

    let text = site.source("site/config.toml");
    let without = &text[..text.find("\n[pdf]").unwrap()];
    site.write("site/config.toml", without);
    site.build().ok();
    let files = snapshot_tree(&site.public());
    assert!(!files.iter().any(|(path, _)| path.ends_with(".pdf")));
    assert!(!site.read("en/index.html").contains("download-pdf"));
    assert!(!site.read("en/objective-14/index.html").contains("citation_pdf_url"));
}
