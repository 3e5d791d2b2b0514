//! Renders the `Site` into output files: each page's Markdown once (in parallel), then
//! every page of every language through its template (in parallel), plus the root
//! language picker, the 404 page, the sitemap and robots.txt. Pure: returns bytes and
//! paths, writes nothing. Template contexts are view structs made for templates, so the
//! model can change without breaking themes.
//!
//! Here: which files are rendered through a template (`Rendering`, `renderings`) and
//! `Renderer::files`, whose contract watch mode's memo keys rely on. The files, each
//! below the ones that use it:
//! - `error`: `RenderError`, and every error of a parallel run collected;
//! - `sources`: every source's Markdown rendered once (`RenderedSources`);
//! - `views`: the view structs templates see;
//! - `renderer`: the `Renderer`'s maps of the site and what every template context shares;
//! - `pages`: a source page through its template;
//! - `generated`: the pages the generator makes itself, and the language picker;
//! - `site_maps`: `sitemap.xml` and `robots.txt`.

mod error;
mod generated;
mod note_data;
mod pages;
mod renderer;
mod site_maps;
mod sources;
mod views;

pub use error::RenderError;
pub(crate) use generated::GeneratedKind;
pub(crate) use note_data::note_data_files;
pub(crate) use renderer::Renderer;
pub(crate) use site_maps::SITE_MAP_PATHS;
pub(crate) use sources::render_markdown;
pub use sources::{MarkdownSummary, RenderedSources};

use error::every_one;

use rayon::prelude::*;

use crate::i18n::Language;
use crate::output::OutputFile;
use crate::site::{Page, Site};
use crate::templates::AssetLinks;

/// A file `Renderer::files` makes through a template.
#[derive(Clone, Copy)]
pub(crate) enum Rendering<'a> {
    /// A page, and its index in `Site::pages`.
    Page(usize, &'a Page),
    /// One of a language's generated pages.
    Generated(&'a Language, GeneratedKind),
    /// The root page that sends readers to their language.
    LanguagePicker,
    /// The root 404 page static hosts serve: the default language's.
    RootNotFound,
}

/// Every file of the site that `Renderer::files` makes through a template, in a stable order.
pub(crate) fn renderings(site: &Site) -> Vec<Rendering<'_>> {
    let mut renderings: Vec<Rendering> =
        site.pages.iter().enumerate().map(|(index, page)| Rendering::Page(index, page)).collect();
    for language in &site.languages {
        for kind in
            [GeneratedKind::GuidingQuestions, GeneratedKind::References, GeneratedKind::Search, GeneratedKind::NotFound]
        {
            renderings.push(Rendering::Generated(language, kind));
        }
    }
    renderings.push(Rendering::LanguagePicker);
    renderings.push(Rendering::RootNotFound);
    renderings
}

impl Renderer<'_> {
    /// Renders the files of `wanted` in parallel, collecting every error: one per
    /// rendering, in the same order, with the asset URLs it holds (which watch mode
    /// rewrites when asset names change). A clean build wants all of `renderings(site)`;
    /// watch mode (`build::Rebuilder`) only those it has not kept from an earlier build,
    /// and relies on this contract: a rendering's output depends on the site's outline
    /// (every page's front matter, URL and translation state, the UI strings, config,
    /// templates), on asset names only through the URLs the templates' `asset` wrote
    /// (`AssetLinks`), and on Markdown only as follows: a page on its own source's, a
    /// language's references page on its pages' (their footnotes). Never on another
    /// page's text otherwise.
    pub(crate) fn files(&self, wanted: &[Rendering]) -> Result<Vec<(OutputFile, AssetLinks)>, Vec<RenderError>> {
        every_one(wanted.par_iter().map(|rendering| self.render(rendering)).collect())
    }

    fn render(&self, rendering: &Rendering) -> Result<(OutputFile, AssetLinks), RenderError> {
        match rendering {
            Rendering::Page(_, page) => self.render_page(page),
            Rendering::Generated(language, kind) => self.render_generated(language, *kind),
            Rendering::LanguagePicker => self.render_language_picker(),
            Rendering::RootNotFound => self
                .render_generated(self.site.default_lang(), GeneratedKind::NotFound)
                .map(|(file, assets)| (OutputFile::new("404.html", file.bytes), assets)),
        }
    }
}
