//! Every source page's Markdown rendered once, in parallel (`render_markdown`), and
//! held for the pages, the search index and watch mode's memo (`RenderedSources`),
//! with the warnings the HTML sanitizer leaves. Knows no template; the Markdown itself
//! is `markdown`'s.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::{RenderError, every_one};
use crate::content::SourcePage;
use crate::diagnostic::{Location, Warning};
use crate::i18n::Language;
use crate::markdown::{self, BlockMark, MarkdownContext, MarkdownStrings, Rendered};
use crate::site::Site;
use crate::types::LangCode;

/// Ids the templates put on every page; Markdown headings never take them.
const RESERVED_IDS: [&str; 8] = [
    "main-content",
    "page-toc",
    "overview",
    "footnotes-heading",
    "guiding-questions",
    "objectives-heading",
    "site-search",
    "search-results",
];

/// Every source page's Markdown, rendered once: a fallback page reuses the original's.
/// Shared, so that watch mode's memo keeps it without a copy. A source the build cache
/// vouches for (`MarkdownSummary`) is rendered only when something reads it (`get`):
/// a cached build renders the pages it makes again and the search indexes it rebuilds,
/// not the whole site.
pub struct RenderedSources {
    cells: Vec<OnceLock<Arc<Rendered>>>,
    /// For a source not rendered yet: how to render it, and what is known of it.
    deferred: Vec<Option<Deferred>>,
    /// Errors of deferred renderings, which the build reports (`deferred_errors`).
    errors: Mutex<Vec<RenderError>>,
}

/// What a build knows of a source's Markdown without rendering it, from the build
/// cache (by the key of all the rendering reads): what the alignment check, the
/// sanitizer's warnings and the references page read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkdownSummary {
    blocks: Vec<BlockMark>,
    /// What the sanitizer removed: byte offset, and what.
    sanitized: Vec<(usize, String)>,
    notes: Vec<CitedNote>,
    /// A hash of `notes`: all a references page reads of the source.
    footnotes: [u8; 32],
}

impl MarkdownSummary {
    pub fn of(rendered: &Rendered) -> Self {
        let notes = cited_notes(rendered);
        Self {
            blocks: rendered.blocks.clone(),
            sanitized: rendered.sanitized.iter().map(|s| (s.offset, s.what.to_string())).collect(),
            footnotes: notes_key(&notes),
            notes,
        }
    }
}

/// What a references page reads of a footnote: its number, where the text cites it,
/// the first URL it links to, and its HTML.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CitedNote {
    pub(crate) number: usize,
    pub(crate) reference_ids: Vec<String>,
    pub(crate) url: Option<String>,
    pub(crate) content_html: String,
}

fn cited_notes(rendered: &Rendered) -> Vec<CitedNote> {
    rendered
        .footnotes
        .iter()
        .map(|note| CitedNote {
            number: note.number,
            reference_ids: note.reference_ids.clone(),
            url: note.url.clone(),
            content_html: note.content_html.clone(),
        })
        .collect()
}

/// A hash of a source's cited notes.
fn notes_key(notes: &[CitedNote]) -> [u8; 32] {
    *blake3::hash(&postcard::to_stdvec(notes).unwrap_or_else(|_| format!("{notes:?}").into_bytes())).as_bytes()
}

/// A source whose rendering waits until it is read.
struct Deferred {
    source: Arc<SourcePage>,
    strings: Arc<MarkdownStrings>,
    base_path: Arc<str>,
    origin: Arc<str>,
    trust_raw_html: bool,
    /// Shared with the build cache's maps, which hand it on unchanged.
    summary: Arc<MarkdownSummary>,
}

impl Deferred {
    fn render(&self) -> Result<Rendered, RenderError> {
        render_source(&self.source, &self.strings, &self.base_path, &self.origin, self.trust_raw_html)
    }
}

/// Renders one source's Markdown.
fn render_source(
    source: &SourcePage,
    strings: &MarkdownStrings,
    base_path: &str,
    origin: &str,
    trust_raw_html: bool,
) -> Result<Rendered, RenderError> {
    let block_prefix = crate::blocks::block_prefix(&source.front, &source.key);
    let context = MarkdownContext {
        strings,
        base_path,
        site_origin: origin,
        reserved_ids: &RESERVED_IDS,
        block_prefix: &block_prefix,
        trust_raw_html,
    };
    markdown::render(source.body(), &context).map_err(|error| RenderError::Markdown {
        location: Location::of_offset(&source.path, source.body(), error.offset(), source.body_line),
        message: error.to_string(),
    })
}

/// Renders the Markdown of every source page, in parallel, collecting every error.
/// A source's result comes from `reuse` when it has one: watch mode (`build::Rebuilder`)
/// answers from its memo of earlier builds, keyed by everything the rendering reads (the
/// source, the UI strings, the base URL and the config); a clean build answers `None`.
/// A source `later` has a summary of (the build cache's, by the same key) is rendered
/// only when read.
pub(crate) fn render_markdown(
    site: &Site,
    reuse: &(dyn Fn(usize) -> Option<Arc<Rendered>> + Sync),
    later: &(dyn Fn(usize) -> Option<Arc<MarkdownSummary>> + Sync),
) -> Result<RenderedSources, Vec<RenderError>> {
    let base_path: Arc<str> = site.base_url.path.clone().into();
    let origin: Arc<str> = site.base_url.origin.clone().into();
    let strings: HashMap<&LangCode, Arc<MarkdownStrings>> =
        site.languages.iter().map(|language| (&language.code, Arc::new(markdown_strings(language)))).collect();
    let default_strings = Arc::new(markdown_strings(site.default_lang()));
    let trust = site.config.unsafe_html;
    type Made = Result<(Option<Arc<Rendered>>, Option<Deferred>), RenderError>;
    let results: Vec<Made> = site
        .sources
        .par_iter()
        .enumerate()
        .map(|(index, source)| {
            if let Some(rendered) = reuse(index) {
                return Ok((Some(rendered), None));
            }
            let strings = strings.get(&source.lang).unwrap_or(&default_strings);
            if let Some(summary) = later(index) {
                let deferred = Deferred {
                    source: Arc::clone(source),
                    strings: Arc::clone(strings),
                    base_path: Arc::clone(&base_path),
                    origin: Arc::clone(&origin),
                    trust_raw_html: trust,
                    summary,
                };
                return Ok((None, Some(deferred)));
            }
            render_source(source, strings, &base_path, &origin, trust).map(|rendered| (Some(Arc::new(rendered)), None))
        })
        .collect();
    let made = every_one(results)?;
    let (cells, deferred) = made
        .into_iter()
        .map(|(rendered, deferred)| {
            let cell = OnceLock::new();
            if let Some(rendered) = rendered {
                let _ = cell.set(rendered);
            }
            (cell, deferred)
        })
        .unzip();
    Ok(RenderedSources { cells, deferred, errors: Mutex::new(Vec::new()) })
}

fn markdown_strings(language: &Language) -> MarkdownStrings {
    let get = |key: &str| language.get(key).unwrap_or_default().to_string();
    MarkdownStrings {
        external_link: get("external_link"),
        footnote_reference: get("footnote_reference"),
        back_to_reference: get("back_to_reference"),
    }
}

impl RenderedSources {
    /// A source's rendering, rendered now if it was deferred. A deferred source renders
    /// as it did when the cache vouched for it (the same key); if it fails all the same,
    /// the error is kept for `deferred_errors` and an empty rendering stands in.
    pub(crate) fn get(&self, index: usize) -> &Rendered {
        self.cells[index].get_or_init(|| {
            let rendered = self.deferred[index].as_ref().map(Deferred::render);
            match rendered {
                Some(Ok(rendered)) => Arc::new(rendered),
                Some(Err(error)) => {
                    self.errors.lock().unwrap_or_else(PoisonError::into_inner).push(error);
                    Arc::default()
                }
                // Every cell is set or deferred (`render_markdown`).
                None => Arc::default(),
            }
        })
    }

    /// The same as `get`, shared.
    pub(crate) fn shared(&self, index: usize) -> Arc<Rendered> {
        self.get(index);
        self.cells[index].get().map(Arc::clone).unwrap_or_default()
    }

    /// The errors of deferred renderings read so far (none, unless a rendering changed
    /// under the same key).
    pub(crate) fn deferred_errors(&mut self) -> Vec<RenderError> {
        std::mem::take(self.errors.get_mut().unwrap_or_else(PoisonError::into_inner))
    }

    /// What the build cache keeps of a source: from its rendering, or as it was given.
    pub(crate) fn summary(&self, index: usize) -> Arc<MarkdownSummary> {
        match (self.cells[index].get(), &self.deferred[index]) {
            (None, Some(deferred)) => Arc::clone(&deferred.summary),
            _ => Arc::new(MarkdownSummary::of(self.get(index))),
        }
    }

    /// A source's blocks, without rendering a deferred source.
    pub(crate) fn blocks(&self, index: usize) -> &[BlockMark] {
        match (self.cells[index].get(), &self.deferred[index]) {
            (None, Some(deferred)) => &deferred.summary.blocks,
            _ => &self.get(index).blocks,
        }
    }

    /// A hash of a source's footnotes (all a references page reads of its Markdown),
    /// without rendering a deferred source.
    pub(crate) fn footnotes_key(&self, index: usize) -> [u8; 32] {
        match (self.cells[index].get(), &self.deferred[index]) {
            (None, Some(deferred)) => deferred.summary.footnotes,
            _ => notes_key(&cited_notes(self.get(index))),
        }
    }

    /// What a references page reads of a source's footnotes, without rendering a
    /// deferred source.
    pub(crate) fn cited_notes(&self, index: usize) -> Cow<'_, [CitedNote]> {
        match (self.cells[index].get(), &self.deferred[index]) {
            (None, Some(deferred)) => Cow::Borrowed(&deferred.summary.notes),
            _ => Cow::Owned(cited_notes(self.get(index))),
        }
    }

    /// Frees the HTML (of the text and of its footnotes) once every page is rendered:
    /// what is left, the text, is all the search index reads. A rendering shared with
    /// watch mode's memo is left whole.
    pub(crate) fn release_html(&mut self) {
        for rendered in self.cells.iter_mut().filter_map(OnceLock::get_mut).filter_map(Arc::get_mut) {
            rendered.html = String::new();
            for footnote in &mut rendered.footnotes {
                footnote.html = String::new();
                footnote.content_html = String::new();
            }
        }
    }

    /// Frees the text (sections, headings, footnotes) of the sources for which `done`
    /// (given a source index) says no search index still reads it. A rendering shared
    /// with watch mode's memo is left whole.
    pub(crate) fn release_text(&mut self, done: impl Fn(usize) -> bool) {
        for (index, cell) in self.cells.iter_mut().enumerate() {
            if let Some(rendered) = cell.get_mut().and_then(Arc::get_mut).filter(|_| done(index)) {
                rendered.sections = Vec::new();
                rendered.headings = Vec::new();
                rendered.footnotes = Vec::new();
            }
        }
    }

    /// One warning for each piece of markup the HTML sanitizer removed, where it was written.
    pub(crate) fn warnings(&self, site: &Site) -> Vec<Warning> {
        let mut warnings = Vec::new();
        for (index, source) in site.sources.iter().enumerate() {
            let removed: Vec<(usize, String)> = match (self.cells[index].get(), &self.deferred[index]) {
                (None, Some(deferred)) => deferred.summary.sanitized.clone(),
                _ => self.get(index).sanitized.iter().map(|s| (s.offset, s.what.to_string())).collect(),
            };
            for (offset, what) in removed {
                let location = Location::of_offset(&source.path, source.body(), offset, source.body_line);
                warnings.push(Warning {
                    message: format!(
                        "{location}: {what} was removed by the HTML sanitizer (to publish raw HTML as written, set unsafe_html = true in site/config.toml)"
                    ),
                });
            }
        }
        warnings
    }
}
