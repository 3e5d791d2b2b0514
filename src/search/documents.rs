//! What is indexed: the documents of each published page (its sections, guiding
//! questions and footnotes, each with its anchor, under the page's title), and their
//! grouping into the chunks `d/<n>.json`, which gives each document its id. Owns the
//! choice of text; not how it becomes terms (`text`, `collect`) nor how it ranks
//! (`score`). A chunk's JSON follows the layout in `format`.

use std::borrow::Cow;

use bytes::Bytes;
use rayon::prelude::*;

use super::format::CHUNK_DOCS;
use crate::content::PageKind;
use crate::i18n::Language;
use crate::markdown;
use crate::render::RenderedSources;
use crate::site::{Page, Site};

/// A document chunk is closed once its JSON passes this many bytes: a first page of
/// results (five documents) fetches about 20 KiB at most, and a large site writes half
/// as many files as with 2 KiB (at 12,000 pages, 40,000 rather than 73,000 in all).
const CHUNK_BYTES: usize = 4 * 1024;

/// One searchable stretch of a page: a section, a guiding question or a footnote.
pub(super) struct Doc<'s> {
    pub(super) url: String,
    pub(super) title: &'s str,
    pub(super) heading: Cow<'s, str>,
    pub(super) text: Cow<'s, str>,
    /// The text's language when it is not the index's (a page shown untranslated).
    pub(super) lang: Option<&'s str>,
}

/// The documents of one published page, in reading order.
pub(super) fn page_docs<'s>(
    site: &'s Site,
    sources: &'s RenderedSources,
    language: &'s Language,
    page: &Page,
    title: &'s str,
) -> Vec<Doc<'s>> {
    let source = site.source(page);
    let rendered = sources.get(page.source);
    let page_url = site.base_url.link(page.url.as_str());
    let lang = (source.lang != page.lang).then(|| source.lang.as_str());
    let objective = source.front.kind == PageKind::Objective;
    let doc = |anchor: Option<&str>, heading: Cow<'s, str>, text: Cow<'s, str>| Doc {
        url: match anchor {
            Some(id) => format!("{page_url}#{id}"),
            None => page_url.clone(),
        },
        title,
        heading,
        text,
        lang,
    };
    let mut docs = Vec::new();
    for section in &rendered.sections {
        if section.text.trim().is_empty() && section.heading.is_none() {
            continue;
        }
        let (anchor, heading) = match (&section.id, &section.heading) {
            (Some(id), Some(heading)) => (Some(id.as_str()), Cow::Borrowed(heading.as_str())),
            // The text before the first heading sits under the objective page's
            // "Overview of progress" heading; on other pages it opens the page.
            _ if objective => {
                (Some("overview"), Cow::Borrowed(language.get("overview_of_progress").unwrap_or_default()))
            }
            _ => (None, Cow::Borrowed("")),
        };
        docs.push(doc(anchor, heading, Cow::Borrowed(&section.text)));
    }
    let questions_heading = language.get("guiding_questions").unwrap_or_default();
    for question in &source.front.questions {
        let text = Cow::Owned(markdown::inline_text(&question.text));
        docs.push(doc(Some(&question.id), Cow::Borrowed(questions_heading), text));
    }
    let note = language.get("footnote_reference").unwrap_or_default();
    for footnote in &rendered.footnotes {
        let heading = Cow::Owned(note.replace("{number}", &footnote.number.to_string()));
        docs.push(doc(Some(&footnote.id), heading, Cow::Borrowed(&footnote.text)));
    }
    docs
}

impl Doc<'_> {
    /// About the most Han grams the document can hold: one per character from U+2000
    /// on (the first byte of its UTF-8 form is 0xE2 or above), whatever it normalizes
    /// to. An estimate all the same (NFKC spells a few signs, like `㍻`, with two
    /// ideographs): the list grows past it if need be.
    pub(super) fn most_grams(&self) -> usize {
        [self.title, &self.heading, &self.text]
            .iter()
            .map(|text| text.bytes().filter(|&byte| byte >= 0xE2).count())
            .sum()
    }
}

/// The files `d/<n>.json`: each chunk's documents as JSON (`documents_json`).
pub(super) fn chunk_files(docs: &[Doc], chunks: &[Vec<usize>]) -> Vec<(String, Bytes)> {
    chunks
        .par_iter()
        .enumerate()
        .map(|(n, chunk)| (format!("d/{n}.json"), documents_json(chunk.iter().map(|&d| &docs[d])).into()))
        .collect()
}

/// A chunk of documents as JSON: `[[url, title, heading, text, lang], ...]`, written from
/// the documents' strings, not copies of them.
pub(super) fn documents_json<'d, 's: 'd>(docs: impl Iterator<Item = &'d Doc<'s>>) -> String {
    let rows: Vec<Vec<&str>> = docs
        .map(|doc| {
            let mut row = vec![doc.url.as_str(), doc.title, &doc.heading, &doc.text];
            row.extend(doc.lang);
            row
        })
        .collect();
    // Invariant: a list of lists of strings always serializes.
    serde_json::to_string(&rows).unwrap_or_default()
}

/// What tells one chunk's documents from another's: everything its JSON holds.
pub(super) fn chunk_key<'d, 's: 'd>(docs: impl Iterator<Item = &'d Doc<'s>>) -> u128 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for doc in docs {
        // Each with its length, so that no two lists of texts run together.
        for text in [doc.url.as_str(), doc.title, &doc.heading, &doc.text, doc.lang.unwrap_or("\u{0}")] {
            hasher.update(&(text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
    }
    hasher.digest128()
}

/// Groups consecutive documents into chunks of about `CHUNK_BYTES`.
pub(super) fn chunk_docs(docs: &[Doc]) -> Vec<Vec<usize>> {
    chunk_sizes(docs.iter().map(doc_size))
}

/// What a document counts for in its chunk's size.
pub(super) fn doc_size(doc: &Doc) -> usize {
    doc.url.len() + doc.title.len() + doc.heading.len() + doc.text.len()
}

/// Groups consecutive documents of these sizes into chunks of about `CHUNK_BYTES`.
pub(super) fn chunk_sizes(sizes: impl Iterator<Item = usize>) -> Vec<Vec<usize>> {
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for (d, size) in sizes.enumerate() {
        if !current.is_empty() && (bytes + size > CHUNK_BYTES || current.len() == CHUNK_DOCS) {
            chunks.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(d);
        bytes += size;
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}
