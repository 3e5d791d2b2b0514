//! Every source page's Markdown rendered once, in parallel (`render_markdown`), and
//! held for the pages, the search index and watch mode's memo (`RenderedSources`),
//! with the warnings the HTML sanitizer leaves. Knows no template; the Markdown itself
//! is `markdown`'s.

use std::sync::Arc;

use rayon::prelude::*;

use super::error::{RenderError, every_one};
use crate::diagnostic::{Location, Warning};
use crate::i18n::Language;
use crate::markdown::{self, MarkdownContext, MarkdownStrings, Rendered};
use crate::site::Site;

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
/// Shared, so that watch mode's memo keeps it without a copy.
pub struct RenderedSources(Vec<Arc<Rendered>>);

/// Renders the Markdown of every source page, in parallel, collecting every error.
/// A source's result comes from `reuse` when it has one: watch mode (`build::Rebuilder`)
/// answers from its memo of earlier builds, keyed by everything the rendering reads (the
/// source, the UI strings, the base URL and the config); a clean build answers `None`.
pub(crate) fn render_markdown(
    site: &Site,
    reuse: &(dyn Fn(usize) -> Option<Arc<Rendered>> + Sync),
) -> Result<RenderedSources, Vec<RenderError>> {
    let base_path = site.base_url.path.clone();
    let results: Vec<Result<Arc<Rendered>, RenderError>> = site
        .sources
        .par_iter()
        .enumerate()
        .map(|(index, source)| {
            if let Some(rendered) = reuse(index) {
                return Ok(rendered);
            }
            let language = site.language(&source.lang).unwrap_or(site.default_lang());
            let strings = markdown_strings(language);
            let block_prefix = crate::blocks::block_prefix(&source.front, &source.key);
            let context = MarkdownContext {
                strings: &strings,
                base_path: &base_path,
                site_origin: &site.base_url.origin,
                reserved_ids: &RESERVED_IDS,
                block_prefix: &block_prefix,
                trust_raw_html: site.config.unsafe_html,
            };
            markdown::render(&source.body, &context).map(Arc::new).map_err(|error| RenderError::Markdown {
                location: Location::of_offset(&source.path, &source.body, error.offset(), source.body_line),
                message: error.to_string(),
            })
        })
        .collect();
    every_one(results).map(RenderedSources)
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
    pub(crate) fn get(&self, index: usize) -> &Rendered {
        &self.0[index]
    }

    /// The same as `get`, shared.
    pub(crate) fn shared(&self, index: usize) -> Arc<Rendered> {
        Arc::clone(&self.0[index])
    }

    /// Frees the HTML (of the text and of its footnotes) once every page is rendered:
    /// what is left, the text, is all the search index reads. A rendering shared with
    /// watch mode's memo is left whole.
    pub(crate) fn release_html(&mut self) {
        for rendered in self.0.iter_mut().filter_map(Arc::get_mut) {
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
        for (index, rendered) in self.0.iter_mut().enumerate() {
            if let Some(rendered) = Arc::get_mut(rendered).filter(|_| done(index)) {
                rendered.sections = Vec::new();
                rendered.headings = Vec::new();
                rendered.footnotes = Vec::new();
            }
        }
    }

    /// One warning for each piece of markup the HTML sanitizer removed, where it was written.
    pub(crate) fn warnings(&self, site: &Site) -> Vec<Warning> {
        let mut warnings = Vec::new();
        for (source, rendered) in site.sources.iter().zip(&self.0) {
            for removed in &rendered.sanitized {
                let location = Location::of_offset(&source.path, &source.body, removed.offset, source.body_line);
                warnings.push(Warning {
                    message: format!(
                        "{location}: {} was removed by the HTML sanitizer (to publish raw HTML as written, set unsafe_html = true in site/config.toml)",
                        removed.what
                    ),
                });
            }
        }
        warnings
    }
}
