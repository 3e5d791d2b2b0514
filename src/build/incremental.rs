//! Watch mode's builds (`Rebuilder`, for `imrf-site serve`): the pipeline's steps run
//! again after each change, every stage's result reused from the `memo` when its `keys`
//! say the inputs are unchanged, in two phases so that the reload waits only for what
//! the open page needs: `render_pages` (every file but the search index), then `complete`
//! (the search index and the offline workers made from every file), then `check` (the
//! link check, and the alignment and glossary checks), which nothing published waits for.
//! When only pages changed, the first phase hands them over early (`EarlyPages`), and
//! the search indexes they change right after them. Writes nothing; the files are
//! `SharedFile`s for the server.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::path::PathBuf;

use rayon::prelude::*;

use super::keys::{Key, Keys, hash_debug, hash_files};
use super::memo::{Memo, MemoFile, MemoFiles, SharedFile};
use super::pdfs::typeset_pdfs;
use super::stages::{BuildOptions, Prepared, describe_link_problems, precache, prepare, stemmer_urls, theme_dir};
use crate::assets;
use crate::check;
use crate::diagnostic::Warning;
use crate::error::Error;
use crate::hreflang;
use crate::output::OutputFile;
use crate::render::{self, RenderError, RenderedSources, Rendering};
use crate::search::{self, TermsMemo};
use crate::site::{Site, SitePaths};
use crate::templates::AssetLinks;
use crate::types::LangCode;

/// The first phase of a watch-mode build: every file but the search index, whose
/// making and the link check are `Rebuilder::finish`'s (`complete`, then `check`). The
/// pages a reader has open are all here.
pub(crate) struct RenderedPages {
    pub(crate) site: Site,
    /// Pages, generated pages, sitemap, robots.txt and assets, in no particular order.
    pub(crate) files: Vec<SharedFile>,
    warnings: Vec<Warning>,
    keys: Keys,
    sources: RenderedSources,
    stemmers: BTreeMap<String, String>,
}

/// A finished watch-mode build.
pub struct WatchedSite {
    pub site: Site,
    /// Every file of the site, in no particular order.
    pub files: Vec<SharedFile>,
    pub(crate) warnings: Vec<Warning>,
    /// Internal links that lead nowhere, and language alternates that are not reciprocal.
    pub(crate) link_problems: Vec<String>,
}

/// Renders the site again and again for watch mode (`imrf-site serve`), remembering
/// each stage's results between builds. Every memo entry is keyed by a hash of all the
/// inputs of the stage that made it (source text, front matter, UI strings, config,
/// templates, assets), so a rebuild after any sequence of edits equals a clean build of
/// the final files: a change invalidates exactly what reads it, and the pipeline runs
/// again with memo hits for the rest. The one input not hashed is the files' text,
/// which is re-read when the watcher reports a change to a file or a folder above it.
/// Files rendered through templates are the exception to keying by every input: their
/// key leaves out the asset names, which reach them only as the URLs `asset` writes, and
/// a remembered file has those URLs rewritten when the names change (a stylesheet edit
/// renders nothing).
pub struct Rebuilder {
    options: BuildOptions,
    memo: Memo,
    rendered_pages: usize,
    /// Pages rendered again by the last rebuild's second phase, for the sizes of the
    /// PDFs it typeset.
    rendered_again: usize,
}

impl Rebuilder {
    pub fn new(options: BuildOptions) -> Self {
        Self { options, memo: Memo::default(), rendered_pages: 0, rendered_again: 0 }
    }

    /// Renders the site after the files or folders in `changed` changed; `everything`
    /// (the first build, or after the watcher lost track) forgets what was read. Both
    /// phases: `render_pages`, then `finish`.
    pub fn rebuild(&mut self, changed: &[PathBuf], everything: bool) -> Result<WatchedSite, Error> {
        self.rebuild_with_early_pages(changed, everything, &mut |_| {})
    }

    /// `rebuild`, handing the pages it renders again to `early` before the rest when
    /// only pages changed (`EarlyPages`).
    pub fn rebuild_with_early_pages(
        &mut self,
        changed: &[PathBuf],
        everything: bool,
        early: EarlyPages,
    ) -> Result<WatchedSite, Error> {
        let pages = self.render_pages(changed, everything, early)?;
        Ok(self.finish(pages))
    }

    /// The first phase of `rebuild`: every file but the search index. The pages it
    /// renders again may be handed to `early` before the rest (`EarlyPages`).
    pub(crate) fn render_pages(
        &mut self,
        changed: &[PathBuf],
        everything: bool,
        early: EarlyPages,
    ) -> Result<RenderedPages, Error> {
        if everything {
            self.memo = Memo::default();
        } else {
            self.memo.forget_files(changed);
        }
        let (pages, rendered_pages) = render_pages(&self.options, &mut self.memo, early)?;
        self.rendered_pages = rendered_pages;
        self.rendered_again = 0;
        Ok(pages)
    }

    /// The second phase of `rebuild`: every file the first left out (`complete`), then
    /// the checks (`CompleteSite::check`).
    pub(crate) fn finish(&mut self, pages: RenderedPages) -> WatchedSite {
        self.complete(pages).check()
    }

    /// The files the first phase left out: the search index and the offline workers,
    /// and the PDFs it deferred; when there were any, the pages that show their sizes
    /// are rendered again (the rest is reused), so the result equals a clean build.
    /// Nothing published waits for the checks, which `serve` runs after publishing.
    pub(crate) fn complete(&mut self, pages: RenderedPages) -> CompleteSite {
        if !self.memo.pdfs.has_pending() {
            return complete(pages, &mut self.memo, Terms::Remember);
        }
        let failures = self.memo.pdfs.typeset_pending(&pages.site);
        let typeset = self.memo.pdfs.typeset;
        // The same files again: every stage but the new sizes' pages is remembered.
        let mut complete_site = match render_pages(&self.options, &mut self.memo, &mut |_| {}) {
            Ok((again, rendered_pages)) => {
                self.rendered_again = rendered_pages;
                complete(again, &mut self.memo, Terms::Remember)
            }
            Err(error) => {
                let mut complete_site = complete(pages, &mut self.memo, Terms::Remember);
                complete_site
                    .warnings
                    .push(Warning { message: format!("the pages could not be rendered again: {error}") });
                complete_site
            }
        };
        self.memo.pdfs.typeset = typeset;
        complete_site.warnings.extend(failures);
        complete_site
    }

    /// The search indexes and offline workers made last (the search indexes may be this
    /// build's, made early: `EarlyPages`), to serve with the pages of a build that is not
    /// finished yet.
    pub(crate) fn last_finished_files(&self) -> impl Iterator<Item = &SharedFile> {
        self.memo.search.values().flatten().chain(&self.memo.service_workers)
    }

    /// How many pages the last successful rebuild rendered; it reused the others.
    pub fn rendered_pages(&self) -> usize {
        self.rendered_pages
    }

    /// How many PDFs the last successful rebuild typeset; it reused the others.
    pub fn typeset_pdfs(&self) -> usize {
        self.memo.pdfs.typeset
    }

    /// How many pages the last rebuild rendered again once the PDFs it typeset after
    /// the pages were published had their sizes.
    pub fn rendered_again(&self) -> usize {
        self.rendered_again
    }
}

/// Where a rebuild hands the pages it rendered again, and then the search indexes they
/// changed, before it renders the generated pages (`render_loaded`), when nothing else
/// changed since the last build: the same pages at the same URLs, with the same assets.
/// The last build's files with these instead are a site a reader may be shown at once
/// (`imrf-site serve` publishes it): a references page lists every footnote of a
/// language and takes many times longer to render than the page a contributor just
/// saved.
pub type EarlyPages<'e> = &'e mut dyn FnMut(&[SharedFile]);

/// Loads the site, reading only the pages `memo` does not hold unchanged (and
/// remembering those), and renders it (`render_loaded`).
fn render_pages(options: &BuildOptions, memo: &mut Memo, early: EarlyPages) -> Result<(RenderedPages, usize), Error> {
    let files = MemoFiles { memo };
    let (site, warnings) = Site::load_with(SitePaths::new(&options.root), options.base_url.as_deref(), &files)?;
    render_loaded(site, warnings, memo, early)
}

/// Renders every file of the loaded site but the search index, reusing (and then
/// remembering) in `memo` what an earlier build made from the same inputs. Returns the
/// files and how many pages it rendered (the others were reused).
pub(super) fn render_loaded(
    site: Site,
    warnings: Vec<Warning>,
    memo: &mut Memo,
    early: EarlyPages,
) -> Result<(RenderedPages, usize), Error> {
    let keys = Keys::new(&site, &memo.source_keys(&site));
    let theme_dir = theme_dir(&site);
    let assets_key = hash_files(&[theme_dir.join("css"), theme_dir.join("js"), theme_dir.join("static")]);
    let (assets, same_assets) = match memo.assets.take() {
        Some((key, assets)) if key == assets_key => (assets, true),
        _ => (assets::build(&theme_dir)?, false),
    };
    // The site maps list every page: the last ones hold while the outline is the same.
    let kept_site_maps = match memo.site_maps.take() {
        Some((key, files)) if key == keys.outline => Some(files),
        _ => None,
    };
    // Pages show each PDF's size, so the PDFs are made first.
    let pdfs = typeset_pdfs(&site, &mut memo.pdfs)?;
    let download_keys: BTreeMap<LangCode, Key> =
        pdfs.downloads.iter().map(|(code, downloads)| (code.clone(), hash_debug(downloads))).collect();
    let reuse = |index: usize| keys.markdown.get(index).and_then(|key| memo.markdown.get(key)).cloned();
    let Prepared { site, mut warnings, sources, templates } =
        prepare(site, warnings, &reuse, &|_| None, &assets.names, pdfs.downloads)?;
    warnings.extend(pdfs.warnings);
    // Asset names are not part of a rendering's key: a file remembered with older ones
    // has the asset URLs it holds rewritten (`Memo::rebind`). Its language's downloads
    // are, as the templates' `downloads` global.
    let theme_key = hash_files(&[theme_dir.join("templates")]);
    let renderings = render::renderings(&site);
    let footnotes = memo.footnote_keys(&keys, &sources);
    let rendering_keys: Vec<Key> =
        renderings.par_iter().map(|r| keys.rendering(&site, r, &theme_key, &footnotes, &download_keys)).collect();
    memo.rebind(&rendering_keys, &templates, &assets.names);
    let (wanted, wanted_keys): (Vec<Rendering>, Vec<Key>) =
        renderings.iter().zip(&rendering_keys).filter(|(_, key)| !memo.rendered.contains_key(*key)).unzip();
    // The search index reads only the stemmer scripts' URLs among the asset names; given
    // only those, it cannot read more than its memo key covers.
    let stemmers = stemmer_urls(&assets.names);
    let renderer = render::Renderer::new(&site, &sources, &templates);
    let rendered = if same_assets && kept_site_maps.is_some() {
        // Site maps kept from an earlier build of this server: a rebuild, whose search
        // terms are remembered (the first build keeps none).
        let search = || search_indexes(&site, &sources, &keys, &stemmers, memo, Terms::Remember).made;
        render_pages_first(&renderer, &wanted, early, search)?
    } else {
        shared(renderer.files(&wanted))?
    };
    let site_maps = kept_site_maps.unwrap_or_else(|| renderer.site_maps().into_iter().map(SharedFile::from).collect());
    let rendered_pages = wanted.iter().filter(|r| matches!(r, Rendering::Page(..))).count();
    let mut rendered: HashMap<Key, MemoFile> =
        wanted_keys.into_iter().zip(rendered).map(|(key, (file, assets))| (key, MemoFile { file, assets })).collect();
    // What the site no longer has is forgotten.
    rendered.extend(rendering_keys.iter().filter_map(|key| Some((*key, memo.rendered.remove(key)?))));
    memo.rendered = rendered;
    memo.remember_markdown(&keys, &sources, &footnotes);

    let mut files: Vec<SharedFile> = site_maps.clone();
    // Made again on every rebuild, remembering nothing: it reads every page's text.
    files.extend(render::note_data_files(&site).into_iter().map(SharedFile::from));
    files.extend(pdfs.files);
    memo.site_maps = Some((keys.outline, site_maps));
    files.extend(memo.rendered.values().map(|kept| kept.file.clone()));
    files.extend(assets.files.iter().cloned().map(SharedFile::from));
    memo.assets = Some((assets_key, assets));
    Ok((RenderedPages { site, files, warnings, keys, sources, stemmers }, rendered_pages))
}

/// Renders `wanted`: the pages first, handed to `early`, then the search indexes the
/// pages changed (`search`), also handed to `early`, then the generated pages; returned
/// in the order of `wanted`.
fn render_pages_first(
    renderer: &render::Renderer,
    wanted: &[Rendering],
    early: EarlyPages,
    search: impl FnOnce() -> Vec<SharedFile>,
) -> Result<Vec<(SharedFile, AssetLinks)>, Error> {
    let is_page = |rendering: &&Rendering| matches!(rendering, Rendering::Page(..));
    let (pages, generated): (Vec<Rendering>, Vec<Rendering>) = wanted.iter().partition(is_page);
    if pages.is_empty() || generated.is_empty() {
        return shared(renderer.files(wanted));
    }
    let pages = shared(renderer.files(&pages))?;
    early(&pages.iter().map(|(file, _)| file.clone()).collect::<Vec<_>>());
    let search = search();
    if !search.is_empty() {
        early(&search);
    }
    let mut pages = pages.into_iter();
    let mut generated = shared(renderer.files(&generated))?.into_iter();
    // Back in the order of `wanted`, which the keys follow.
    let rendered = wanted.iter().map(|rendering| if is_page(&rendering) { pages.next() } else { generated.next() });
    Ok(rendered.flatten().collect())
}

/// Rendered files as the memo and the server share them.
fn shared(
    rendered: Result<Vec<(OutputFile, AssetLinks)>, Vec<RenderError>>,
) -> Result<Vec<(SharedFile, AssetLinks)>, Error> {
    let rendered = rendered.map_err(Error::Render)?;
    Ok(rendered.into_iter().map(|(file, assets)| (SharedFile::from(file), assets)).collect())
}

/// A watch-mode build with every file made, its checks not run yet.
pub(crate) struct CompleteSite {
    pub(crate) site: Site,
    /// Every file of the site, in no particular order.
    pub(crate) files: Vec<SharedFile>,
    warnings: Vec<Warning>,
    sources: RenderedSources,
}

impl CompleteSite {
    /// The checks of the whole site, which read every page and on which nothing
    /// published depends: links and language alternates, block alignment, glossaries.
    pub(crate) fn check(self) -> WatchedSite {
        let CompleteSite { site, files, mut warnings, sources } = self;
        warnings.extend(crate::alignment::warnings(&site, &sources));
        warnings.extend(crate::terminology::warnings(&site));
        let broken = check::broken_links(&files, &site.base_url.path);
        let clusters = hreflang::hreflang_problems(&files, &site.base_url.absolute("/"));
        let link_problems = describe_link_problems(&site, &broken, &clusters);
        WatchedSite { site, files, warnings, link_problems }
    }
}

/// The search indexes of a build: every language's files, in the languages' order, and
/// the files of the indexes made now (the others were remembered).
struct SearchIndexes {
    all: Vec<SharedFile>,
    made: Vec<SharedFile>,
}

/// Each language's search index, reused when its key is remembered, or made (from its
/// pages' remembered terms, with `Terms::Remember`); `memo.search` then holds this
/// build's indexes, so that a second call reuses them all.
fn search_indexes(
    site: &Site,
    sources: &RenderedSources,
    keys: &Keys,
    stemmers: &BTreeMap<String, String>,
    memo: &mut Memo,
    terms: Terms,
) -> SearchIndexes {
    let stemmers_key = hash_debug(stemmers);
    let search_keys: Vec<Key> = site.languages.iter().map(|l| keys.search(site, l, &stemmers_key)).collect();
    let mut previous = std::mem::take(&mut memo.search);
    let reused: Vec<Option<Vec<SharedFile>>> = search_keys.iter().map(|key| previous.remove(key)).collect();
    let mut remembered = std::mem::take(&mut memo.search_memos);
    let mut language_memos: Vec<Option<TermsMemo>> = site
        .languages
        .iter()
        .map(|language| (terms == Terms::Remember).then(|| remembered.remove(&language.code).unwrap_or_default()))
        .collect();
    let indexes: Vec<(Vec<SharedFile>, bool)> = site
        .languages
        .par_iter()
        .zip(reused)
        .zip(&mut language_memos)
        .map(|((language, reused), terms)| match reused {
            Some(files) => (files, false),
            None => {
                let mut made = Vec::new();
                let Ok(()) = search::index_language::<Infallible>(
                    site,
                    sources,
                    stemmers,
                    language,
                    terms.as_mut(),
                    &mut |files| {
                        made.extend(files.into_iter().map(SharedFile::from));
                        Ok(())
                    },
                );
                (made, true)
            }
        })
        .collect();
    let all = indexes.iter().flat_map(|(files, _)| files).cloned().collect();
    let made = indexes.iter().filter(|(_, made)| *made).flat_map(|(files, _)| files).cloned().collect();
    memo.search = search_keys.into_iter().zip(indexes.into_iter().map(|(files, _)| files)).collect();
    memo.search_memos = site
        .languages
        .iter()
        .zip(language_memos)
        .filter_map(|(language, terms)| Some((language.code.clone(), terms?)))
        .collect();
    SearchIndexes { all, made }
}

/// Whether a build keeps its pages' search terms for the next (`TermsMemo`): watch mode
/// does; a build that has no next (`check`) would only pay for packing them.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Terms {
    Remember,
    Forget,
}

/// The second phase of a watch-mode build, but its checks: the search index (each
/// language's reused when its key is remembered, or made from its pages' remembered
/// terms) and the offline workers.
pub(super) fn complete(pages: RenderedPages, memo: &mut Memo, terms: Terms) -> CompleteSite {
    let RenderedPages { site, mut files, warnings, keys, sources, stemmers } = pages;
    files.extend(search_indexes(&site, &sources, &keys, &stemmers, memo, terms).all);
    // Made again on every rebuild from every file, as `build` makes them once written.
    let asset_names = memo.assets.as_ref().map(|(_, assets)| &assets.names);
    memo.service_workers = match asset_names.and_then(|names| precache(&site, names)) {
        Some(precache) => {
            precache.record(files.par_iter().map(|f| (&*f.path, &*f.bytes)));
            precache.service_workers().into_iter().map(SharedFile::from).collect()
        }
        None => Vec::new(),
    };
    files.extend(memo.service_workers.iter().cloned());
    CompleteSite { site, files, warnings, sources }
}
