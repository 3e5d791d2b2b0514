//! The note as open data: `/<lang>/note.json` for each language, the whole note as
//! structured data (pages, objectives, blocks with their ids, guiding questions,
//! footnotes with their URLs), and `/note.schema.json`, the JSON Schema it follows.
//! Made from the `Site` alone, before a clean build frees the Markdown text; only when
//! the config sets `open_data = true`. Texts are Markdown as written, the form the
//! translations are made and exchanged in; ids are the anchors every language shares.

use rayon::prelude::*;
use serde::Serialize;

use super::pages::kind_name;
use crate::blocks::{self, UnitKind};
use crate::content::{PageKind, SourcePage};
use crate::i18n::Language;
use crate::output::OutputFile;
use crate::site::{Page, Site, Translation};

/// The schema every `note.json` follows, published at the site's root.
const SCHEMA: &str = include_str!("note.schema.json");

/// Where the schema is published, from the site's root.
const SCHEMA_PATH: &str = "note.schema.json";

#[derive(Serialize)]
struct NoteData<'a> {
    #[serde(rename = "$schema")]
    schema: String,
    title: &'a str,
    language: &'a str,
    url: String,
    /// The language the note was written in; every other language's text is a
    /// translation, and unofficial.
    original_language: &'a str,
    pages: Vec<PageData<'a>>,
}

#[derive(Serialize)]
struct PageData<'a> {
    url: String,
    kind: &'static str,
    title: &'a str,
    /// The language of the text: the original's where the page is not translated yet.
    language: &'a str,
    translation: Translation,
    #[serde(skip_serializing_if = "Option::is_none")]
    objective: Option<ObjectiveData<'a>>,
    blocks: Vec<BlockData>,
    questions: Vec<TextData>,
    footnotes: Vec<FootnoteData>,
}

#[derive(Serialize)]
struct ObjectiveData<'a> {
    number: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    short_label: Option<&'a str>,
}

#[derive(Serialize)]
struct BlockData {
    id: String,
    kind: &'static str,
    markdown: String,
}

#[derive(Serialize)]
struct TextData {
    id: String,
    markdown: String,
}

#[derive(Serialize)]
struct FootnoteData {
    label: String,
    markdown: String,
    urls: Vec<String>,
}

/// Each language's `note.json` and the schema, when the site publishes open data.
pub(crate) fn note_data_files(site: &Site) -> Vec<OutputFile> {
    if !site.config.open_data {
        return Vec::new();
    }
    let mut files = vec![OutputFile::new(SCHEMA_PATH, SCHEMA)];
    files.extend(site.languages.iter().map(|language| note_data(site, language)));
    files
}

fn note_data(site: &Site, language: &Language) -> OutputFile {
    let code = language.code.as_str();
    let mut pages: Vec<&Page> = site.pages.iter().filter(|page| page.lang == language.code).collect();
    // The home, then the objectives in their order, then the other pages by key.
    let objectives = site.objectives_in(&language.code);
    let place = |page: &Page| {
        let kind = site.source(page).front.kind;
        let objective = objectives.iter().position(|o| o.key == page.key).unwrap_or(usize::MAX);
        (kind != PageKind::Home, objective, page.key.clone())
    };
    pages.sort_by_cached_key(|page| place(page));
    let data = NoteData {
        schema: site.base_url.absolute(SCHEMA_PATH),
        title: language.get("site_title").unwrap_or(&site.config.title),
        language: code,
        url: site.base_url.absolute(&format!("/{code}/")),
        original_language: site.default_language.as_str(),
        // In parallel: a page the build cache knew reads its text now.
        pages: pages.into_par_iter().map(|page| page_data(site, page)).collect(),
    };
    // Serializing plain structs of strings and numbers cannot fail.
    let json = serde_json::to_string(&data).unwrap_or_default();
    OutputFile::new(format!("{code}/note.json"), json)
}

fn page_data<'a>(site: &'a Site, page: &'a Page) -> PageData<'a> {
    let source: &SourcePage = site.source(page);
    let (mut blocks, mut questions, mut footnotes) = (Vec::new(), Vec::new(), Vec::new());
    for unit in blocks::page_units(source) {
        match unit.kind {
            UnitKind::Block(kind) => blocks.push(BlockData { id: unit.id, kind: kind.name(), markdown: unit.text }),
            UnitKind::Question => questions.push(TextData { id: unit.id, markdown: unit.text }),
            UnitKind::Footnote => footnotes.push(FootnoteData {
                label: unit.id.trim_start_matches("fn:").to_string(),
                urls: urls_in(&unit.text),
                markdown: unit.text,
            }),
            // The title and the other front-matter values are the page's own fields.
            UnitKind::Field => {}
        }
    }
    PageData {
        url: site.base_url.absolute(page.url.as_str()),
        kind: kind_name(source.front.kind),
        title: &source.front.title,
        language: source.lang.as_str(),
        translation: page.translation,
        objective: source
            .front
            .objective
            .map(|number| ObjectiveData { number: number.get(), short_label: source.front.short_label.as_deref() }),
        blocks,
        questions,
        footnotes,
    }
}

/// Where the next `http://` or `https://` address starts.
fn next_url(text: &str) -> Option<usize> {
    [text.find("http://"), text.find("https://")].into_iter().flatten().min()
}

/// The web addresses a footnote cites: each `http://` or `https://` run up to a space or
/// a closing bracket, without the sentence's final punctuation.
fn urls_in(text: &str) -> Vec<String> {
    let mut urls = Vec::new();
    let mut rest = text;
    while let Some(start) = next_url(rest) {
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ']' | '>' | '<' | '"'))
            .unwrap_or(candidate.len());
        let url = candidate[..end].trim_end_matches(['.', ',', ';', ':']);
        if !urls.iter().any(|known| known == url) {
            urls.push(url.to_string());
        }
        rest = &candidate[end..];
    }
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footnote_urls_are_found_whole_and_once() {
        assert_eq!(
            urls_in(
                "ASEAN (2020) – https://asean.org/a.pdf. See [the lab](https://example.org/lab?x=1), https://asean.org/a.pdf"
            ),
            ["https://asean.org/a.pdf", "https://example.org/lab?x=1"]
        );
        assert_eq!(urls_in("no address here"), Vec::<String>::new());
        assert_eq!(urls_in("<http://a.example/b>"), ["http://a.example/b"]);
    }
}
