//! Runs the pipeline: load the site, render Markdown, load the theme, build assets,
//! render pages, and (for `build`) write the output. `check` runs the same steps
//! without the write, so the two cannot drift apart. Watch mode (`Rebuilder`) runs the
//! same steps too, remembering each stage's results by a hash of its inputs and reusing
//! them when a rebuild finds the inputs unchanged.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rayon::prelude::*;

use crate::assets::{self, Assets};
use crate::check::{self, BrokenLink, PageLinks};
use crate::content::{self, ContentError, SourcePage};
use crate::diagnostic::Warning;
use crate::error::Error;
use crate::i18n::Language;
use crate::markdown::Rendered;
use crate::output::{OutputFile, Staging};
use crate::render::{self, GeneratedKind, RenderedSources, Rendering};
use crate::search;
use crate::site::{Page, Site, SitePaths, SourceFiles};
use crate::templates::{AssetLinks, TemplateGlobals, Templates};
use crate::types::LangCode;

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub root: PathBuf,
    pub output: Option<PathBuf>,
    pub base_url: Option<String>,
}

impl BuildOptions {
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_path_buf(), output: None, base_url: None }
    }

    pub fn output_dir(&self) -> PathBuf {
        self.output.clone().unwrap_or_else(|| self.root.join("public"))
    }
}

/// What a finished build reports.
#[derive(Debug)]
pub struct BuildReport {
    pub pages: usize,
    pub languages: usize,
    pub files: usize,
    pub warnings: Vec<Warning>,
    pub elapsed: Duration,
}

impl BuildReport {
    pub fn summary(&self) -> String {
        format!(
            "Built {} pages in {} languages ({} files) in {} ms",
            self.pages,
            self.languages,
            self.files,
            self.elapsed.as_millis()
        )
    }
}

/// The site rendered in memory, ready to write.
pub struct RenderedSite {
    pub site: Site,
    pub files: Vec<OutputFile>,
    pub warnings: Vec<Warning>,
    /// Internal links that lead nowhere: warnings for `build`, errors for `check`.
    pub broken_links: Vec<String>,
}

/// Loads and renders the whole site without writing anything: watch mode's two phases
/// with nothing remembered.
pub fn render(options: &BuildOptions) -> Result<RenderedSite, Error> {
    let mut memo = Memo::default();
    let (pages, _) = render_pages(options, &mut memo, false)?;
    let WatchedSite { site, files, warnings, broken_links } = finish(pages, &mut memo);
    // Without the memo's share of the files, their bytes move out without a copy.
    drop(memo);
    let mut files: Vec<OutputFile> = files
        .into_iter()
        .map(|file| OutputFile { path: file.path.to_string(), bytes: Vec::from(file.bytes) })
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(RenderedSite { site, files, warnings, broken_links })
}

/// What every build reads and makes before rendering pages: the site loaded (by
/// `Site::load_with`), its Markdown rendered and its templates loaded (`prepare`).
struct Prepared {
    site: Site,
    warnings: Vec<Warning>,
    sources: RenderedSources,
    templates: Templates,
}

/// Renders the loaded site's Markdown (except what `reuse` hands back, by source index)
/// and loads the templates, which name the assets by `asset_names`.
fn prepare(
    site: Site,
    mut warnings: Vec<Warning>,
    reuse: &(dyn Fn(usize) -> Option<Arc<Rendered>> + Sync),
    asset_names: &BTreeMap<String, String>,
) -> Result<Prepared, Error> {
    let sources = render::render_markdown(&site, reuse).map_err(Error::Render)?;
    warnings.extend(sources.warnings(&site));
    warnings.extend(crate::alignment::warnings(&site, &sources));
    warnings.extend(crate::terminology::warnings(&site));
    let globals = TemplateGlobals {
        languages: site.languages.iter().map(|l| (l.code.clone(), l.clone())).collect(),
        base_path: site.base_url.path.clone(),
        assets: asset_names.clone(),
    };
    let templates = Templates::load(&theme_dir(&site).join("templates"), globals)?;
    Ok(Prepared { site, warnings, sources, templates })
}

fn theme_dir(site: &Site) -> PathBuf {
    site.paths.theme(&site.config.theme)
}

/// An output file whose bytes are shared, not copied, between watch mode's memo, its
/// builds and the server.
#[derive(Clone)]
pub struct SharedFile {
    /// Path inside the output directory, with `/` separators.
    pub path: Arc<str>,
    pub bytes: Bytes,
}

impl From<OutputFile> for SharedFile {
    fn from(file: OutputFile) -> Self {
        Self { path: file.path.into(), bytes: Bytes::from(file.bytes) }
    }
}

impl check::HtmlFile for SharedFile {
    fn path(&self) -> &str {
        &self.path
    }
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The first phase of a watch-mode build: every file but the search index, whose
/// making and the link check are `Rebuilder::finish`'s. The pages a reader has open
/// are all here.
pub struct RenderedPages {
    pub site: Site,
    /// Pages, generated pages, sitemap, robots.txt and assets, in no particular order.
    pub files: Vec<SharedFile>,
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
    pub warnings: Vec<Warning>,
    /// Internal links that lead nowhere.
    pub broken_links: Vec<String>,
}

/// Loads the site and renders every file but the search index, reusing (and then
/// remembering) in `memo` what an earlier build made from the same inputs. Returns the
/// files and how many pages it rendered (the others were reused).
fn render_pages(options: &BuildOptions, memo: &mut Memo, remember: bool) -> Result<(RenderedPages, usize), Error> {
    let files = MemoFiles { memo, remember };
    let (site, warnings) = Site::load_with(SitePaths::new(&options.root), options.base_url.as_deref(), &files)?;
    let keys = Keys::new(&site, memo);
    let theme_dir = theme_dir(&site);
    let assets_key = hash_files(&[theme_dir.join("css"), theme_dir.join("js"), theme_dir.join("static")]);
    let assets = match memo.assets.take() {
        Some((key, assets)) if key == assets_key => assets,
        _ => assets::build(&theme_dir)?,
    };
    let reuse = |index: usize| keys.markdown.get(index).and_then(|key| memo.markdown.get(key)).cloned();
    let Prepared { site, warnings, sources, templates } = prepare(site, warnings, &reuse, &assets.names)?;
    // Asset names are not part of a rendering's key: a file remembered with older ones
    // has the asset URLs it holds rewritten (`Memo::rebind`).
    let theme_key = hash_files(&[theme_dir.join("templates")]);
    let renderings = render::renderings(&site);
    let footnotes = memo.footnote_keys(&keys, &sources);
    let rendering_keys: Vec<Key> =
        renderings.par_iter().map(|r| keys.rendering(&site, r, &theme_key, &footnotes)).collect();
    memo.rebind(&rendering_keys, &templates, &assets.names);
    let (wanted, wanted_keys): (Vec<Rendering>, Vec<Key>) =
        renderings.iter().zip(&rendering_keys).filter(|(_, key)| !memo.rendered.contains_key(*key)).unzip();
    let renderer = render::Renderer::new(&site, &sources, &templates);
    let rendered = renderer.files(&wanted).map_err(Error::Render)?;
    let site_maps = match memo.site_maps.take() {
        Some((key, files)) if key == keys.outline => files,
        _ => renderer.site_maps().into_iter().map(SharedFile::from).collect(),
    };
    let rendered_pages = wanted.iter().filter(|r| matches!(r, Rendering::Page(..))).count();
    let mut rendered: HashMap<Key, MemoFile> = wanted_keys
        .into_iter()
        .zip(rendered)
        .map(|(key, (file, assets))| (key, MemoFile { file: file.into(), assets }))
        .collect();
    // What the site no longer has is forgotten.
    rendered.extend(rendering_keys.iter().filter_map(|key| Some((*key, memo.rendered.remove(key)?))));
    memo.rendered = rendered;
    memo.remember_markdown(&keys, &sources, &footnotes);

    let mut files: Vec<SharedFile> = site_maps.clone();
    memo.site_maps = Some((keys.outline, site_maps));
    files.extend(memo.rendered.values().map(|kept| kept.file.clone()));
    files.extend(assets.files.iter().cloned().map(SharedFile::from));
    // The search index reads only the stemmer scripts' URLs among the asset names; given
    // only those, it cannot read more than its memo key covers.
    let stemmers = stemmer_urls(&assets.names);
    memo.assets = Some((assets_key, assets));
    Ok((RenderedPages { site, files, warnings, keys, sources, stemmers }, rendered_pages))
}

/// The second phase of a watch-mode build: the search index (each language's reused
/// when its key is remembered) and the link check.
fn finish(pages: RenderedPages, memo: &mut Memo) -> WatchedSite {
    let RenderedPages { site, mut files, warnings, keys, sources, stemmers } = pages;
    let stemmers_key = hash_debug(&stemmers);
    let search_keys: Vec<Key> = site.languages.iter().map(|l| keys.search(&site, l, &stemmers_key)).collect();
    let mut previous = std::mem::take(&mut memo.search);
    let reused: Vec<Option<Vec<SharedFile>>> = search_keys.iter().map(|key| previous.remove(key)).collect();
    let indexes: Vec<Vec<SharedFile>> = site
        .languages
        .par_iter()
        .zip(reused)
        .map(|(language, reused)| {
            reused.unwrap_or_else(|| {
                let mut made = Vec::new();
                let Ok(()) = search::index_language::<Infallible>(&site, &sources, &stemmers, language, &mut |files| {
                    made.extend(files.into_iter().map(SharedFile::from));
                    Ok(())
                });
                made
            })
        })
        .collect();
    files.extend(indexes.iter().flatten().cloned());
    memo.search = search_keys.into_iter().zip(indexes).collect();
    let broken_links = describe_links(&site, &check::broken_links(&files, &site.base_url.path));
    WatchedSite { site, files, warnings, broken_links }
}

/// The stemmer scripts (`stem-english.js`) among the asset names, with their URLs: all
/// the search manifest names of the assets.
fn stemmer_urls(names: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let is_stemmer = |name: &str| name.starts_with("stem-") && name.ends_with(".js");
    names.iter().filter(|(name, _)| is_stemmer(name)).map(|(n, p)| (n.clone(), p.clone())).collect()
}

/// Broken links named by the source file they come from, where there is one. The pages
/// are indexed by output file once: a large site can have thousands of broken links.
fn describe_links(site: &Site, links: &[BrokenLink]) -> Vec<String> {
    let sources: HashMap<String, &Path> =
        site.pages.iter().map(|p| (p.url.output_file(), site.source(p).path.as_path())).collect();
    links
        .iter()
        .map(|link| match sources.get(&link.page) {
            Some(path) => {
                format!("{} (published as {}): link to {} {}", path.display(), link.page, link.href, link.reason)
            }
            None => link.to_string(),
        })
        .collect()
}

/// Renderings per batch in `build`: enough to keep every thread busy, few enough that
/// the rendered pages of a large site are never in memory all at once.
const WRITE_BATCH: usize = 256;

/// Builds the site into its output directory. The same stages as `render`, but each
/// batch of files goes to the staging directory as soon as it is made, and only its
/// links stay in memory for the final check: a large site is never held whole.
pub fn build(options: &BuildOptions) -> Result<BuildReport, Error> {
    let started = Instant::now();
    let staging = Staging::begin(&options.output_dir(), &options.root)?;
    let (site, warnings) = Site::load(SitePaths::new(&options.root), options.base_url.as_deref())?;
    let assets = assets::build(&theme_dir(&site))?;
    let Prepared { mut site, mut warnings, mut sources, templates } =
        prepare(site, warnings, &|_| None, &assets.names)?;
    // Rendered, and its warnings located: the Markdown text is read no more.
    site.release_source_text();
    // The pages are written once, never rewritten when asset names change.
    let templates = templates.without_asset_links();
    let mut writer = StagedWriter { staging: &staging, links: Vec::new() };
    let renderer = render::Renderer::new(&site, &sources, &templates);
    let stemmers = stemmer_urls(&assets.names);
    // The first language's search index is made while the pages render: each fills the
    // other's waits (folders made one by one, the index's merges), 4 % of the wall time
    // at 12,000 pages. Only the first: every index at once held 170 MiB more.
    let (pages, first_index) = rayon::join(
        || write_pages(&site, &renderer, &mut writer),
        || site.languages.first().map_or(Ok(()), |first| write_index(&site, &sources, &stemmers, first, &staging)),
    );
    pages?;
    first_index?;
    writer.write(renderer.site_maps())?;
    sources.release_html();
    writer.write(assets.files)?;
    let last_reader = last_index_reading(&site);
    sources.release_text(|source| last_reader[source] == 0);
    for (position, language) in site.languages.iter().enumerate().skip(1) {
        write_index(&site, &sources, &stemmers, language, &staging)?;
        sources.release_text(|source| last_reader[source] <= position);
    }
    let links = writer.links;
    let paths = staging.finish()?;
    let broken = check::broken_links_among(&links, paths.iter().map(String::as_str), &site.base_url.path);
    warnings.extend(describe_links(&site, &broken).into_iter().map(|message| Warning { message }));
    Ok(BuildReport {
        pages: paths.iter().filter(|path| path.ends_with(".html")).count(),
        languages: site.languages.len(),
        files: paths.len(),
        warnings,
        elapsed: started.elapsed(),
    })
}

/// Renders every page and generated page, writing them batch by batch. After an error,
/// the rest is still rendered for its errors, not written.
fn write_pages(site: &Site, renderer: &render::Renderer, writer: &mut StagedWriter) -> Result<(), Error> {
    let mut errors = Vec::new();
    for batch in render::renderings(site).chunks(WRITE_BATCH) {
        match renderer.files(batch) {
            Ok(rendered) if errors.is_empty() => writer.write(rendered.into_iter().map(|(file, _)| file).collect())?,
            Ok(_) => {}
            Err(batch_errors) => errors.extend(batch_errors),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Render(errors)) }
}

/// One language's search index, written to the staging directory part by part.
fn write_index(
    site: &Site,
    sources: &RenderedSources,
    stemmers: &BTreeMap<String, String>,
    language: &Language,
    staging: &Staging,
) -> Result<(), Error> {
    search::index_language(site, sources, stemmers, language, &mut |files| Ok(staging.write(&files)?))
}

/// For each source (by index), the place in `site.languages` of the last language whose
/// search index reads its text: after that one, the text can go. A page in one
/// language may show another's source (a translation not made yet shows the original).
fn last_index_reading(site: &Site) -> Vec<usize> {
    let positions: HashMap<&LangCode, usize> =
        site.languages.iter().enumerate().map(|(position, language)| (&language.code, position)).collect();
    let mut last = vec![0; site.sources.len()];
    for page in &site.pages {
        let position = positions.get(&page.lang).copied().unwrap_or_default();
        last[page.source] = last[page.source].max(position);
    }
    last
}

/// Writes `build`'s batches, keeping what the link check needs of them.
struct StagedWriter<'s> {
    staging: &'s Staging,
    links: Vec<PageLinks>,
}

impl StagedWriter<'_> {
    fn write(&mut self, files: Vec<OutputFile>) -> Result<(), Error> {
        self.staging.write(&files)?;
        self.links.par_extend(files.par_iter().filter_map(PageLinks::of));
        Ok(())
    }
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
}

impl Rebuilder {
    pub fn new(options: BuildOptions) -> Self {
        Self { options, memo: Memo::default(), rendered_pages: 0 }
    }

    /// Renders the site after the files or folders in `changed` changed; `everything`
    /// (the first build, or after the watcher lost track) forgets what was read. Both
    /// phases: `render_pages`, then `finish`.
    pub fn rebuild(&mut self, changed: &[PathBuf], everything: bool) -> Result<WatchedSite, Error> {
        let pages = self.render_pages(changed, everything)?;
        Ok(self.finish(pages))
    }

    /// The first phase of `rebuild`: every file but the search index.
    pub fn render_pages(&mut self, changed: &[PathBuf], everything: bool) -> Result<RenderedPages, Error> {
        if everything {
            self.memo = Memo::default();
        } else {
            self.memo.forget_files(changed);
        }
        let (pages, rendered_pages) = render_pages(&self.options, &mut self.memo, true)?;
        self.rendered_pages = rendered_pages;
        Ok(pages)
    }

    /// The second phase of `rebuild`: the search index and the link check.
    pub fn finish(&mut self, pages: RenderedPages) -> WatchedSite {
        finish(pages, &mut self.memo)
    }

    /// The search index files of the last finished build, to serve with the pages of a
    /// build that is not finished yet.
    pub fn last_search_index(&self) -> impl Iterator<Item = &SharedFile> {
        self.memo.search.values().flatten()
    }

    /// How many pages the last successful rebuild rendered; it reused the others.
    pub fn rendered_pages(&self) -> usize {
        self.rendered_pages
    }
}

/// The site's pages as `memo` remembers them (unchanged files), or as read from disk
/// (and then remembered, if `remember`).
struct MemoFiles<'m> {
    memo: &'m Memo,
    remember: bool,
}

impl SourceFiles for MemoFiles<'_> {
    fn markdown_files(&self, lang_dir: &Path, root: &Path) -> Result<Vec<(String, PathBuf)>, ContentError> {
        let mut listings = self.memo.listings.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(listing) = listings.get(lang_dir) {
            return Ok(listing.clone());
        }
        let listing = content::markdown_files(lang_dir, root)?;
        if self.remember {
            listings.insert(lang_dir.to_path_buf(), listing.clone());
        }
        Ok(listing)
    }

    /// The page at `path` as read unchanged before, if any, shared rather than copied.
    fn load_page(&self, lang: &LangCode, key: &str, path: &Path) -> Result<Arc<SourcePage>, ContentError> {
        // A panic while holding the lock leaves a map that is still valid.
        let sources = &self.memo.sources;
        let remembered = sources.read().unwrap_or_else(PoisonError::into_inner).get(path).map(|(p, _)| p.clone());
        if let Some(page) = remembered.filter(|page| &page.lang == lang && page.key == key) {
            return Ok(page);
        }
        let page = Arc::new(content::load_page(lang, key, path)?);
        if self.remember {
            let keys = SourceKeys::of(&page);
            sources.write().unwrap_or_else(PoisonError::into_inner).insert(path.to_path_buf(), (page.clone(), keys));
        }
        Ok(page)
    }
}

/// Each language folder's Markdown files (`content::markdown_files`), by folder.
type Listings = HashMap<PathBuf, Vec<(String, PathBuf)>>;

/// A blake3 hash of a stage's inputs.
type Key = [u8; 32];

/// What watch mode remembers between builds (see `Rebuilder`).
#[derive(Default)]
struct Memo {
    /// Parsed pages by file, with the hashes of their text and front matter.
    sources: RwLock<HashMap<PathBuf, (Arc<SourcePage>, SourceKeys)>>,
    listings: Mutex<Listings>,
    markdown: HashMap<Key, Arc<Rendered>>,
    /// A hash of the footnotes of the Markdown of the same key.
    footnotes: HashMap<Key, Key>,
    assets: Option<(Key, Assets)>,
    /// The sitemap and robots.txt, by the outline key.
    site_maps: Option<(Key, Vec<SharedFile>)>,
    /// The asset names every file in `rendered` holds the URLs of.
    asset_names: BTreeMap<String, String>,
    /// One language's search index files.
    search: HashMap<Key, Vec<SharedFile>>,
    /// One file rendered through a template (a page, a generated page).
    rendered: HashMap<Key, MemoFile>,
}

/// A file rendered through a template, and the asset URLs it holds.
#[derive(Clone)]
struct MemoFile {
    file: SharedFile,
    assets: AssetLinks,
}

#[derive(Clone, Copy)]
struct SourceKeys {
    /// Everything the file says: path, front matter and body.
    text: Key,
    /// The part other pages may show: path and front matter.
    front: Key,
}

impl SourceKeys {
    fn of(page: &SourcePage) -> Self {
        let front = hash_parts(&[
            page.path.to_string_lossy().as_bytes(),
            page.lang.as_str().as_bytes(),
            page.key.as_bytes(),
            format!("{:?}", page.front).as_bytes(),
        ]);
        let text = hash_parts(&[&front, page.body.as_bytes(), &page.body_line.to_le_bytes()]);
        Self { text, front }
    }
}

impl Memo {
    /// Each source's keys, by index: remembered, or computed for a page read anew.
    fn source_keys(&self, site: &Site) -> Vec<SourceKeys> {
        let sources = self.sources.read().unwrap_or_else(PoisonError::into_inner);
        site.sources
            .par_iter()
            .map(|source| match sources.get(&source.path) {
                Some((kept, keys)) if Arc::ptr_eq(kept, source) => *keys,
                _ => SourceKeys::of(source),
            })
            .collect()
    }

    /// Forgets the files at or below `changed` (a folder may have been renamed or removed).
    fn forget_files(&mut self, changed: &[PathBuf]) {
        let sources = self.sources.get_mut().unwrap_or_else(PoisonError::into_inner);
        sources.retain(|path, _| !changed.iter().any(|c| path.starts_with(c)));
        let listings = self.listings.get_mut().unwrap_or_else(PoisonError::into_inner);
        if !changed.iter().all(|path| keeps_listings(listings, path)) {
            listings.clear();
        }
    }

    /// Brings the remembered renderings that this build has (by key) up to date with
    /// the asset names of `templates` (`names`), and forgets those that cannot be: they
    /// are rendered again.
    fn rebind(&mut self, keys: &[Key], templates: &Templates, names: &BTreeMap<String, String>) {
        if *names == self.asset_names {
            return;
        }
        let wanted: HashSet<&Key> = keys.iter().collect();
        // Every file left holds the URLs of `names` afterwards.
        self.rendered.retain(|key, _| wanted.contains(key));
        let stale: Vec<Key> = self
            .rendered
            .par_iter_mut()
            .filter_map(|(key, kept)| {
                let mut html = kept.file.bytes.to_vec();
                let rebound = templates.rebind(&mut html, &mut kept.assets);
                kept.file.bytes = Bytes::from(html);
                (!rebound).then_some(*key)
            })
            .collect();
        for key in stale {
            self.rendered.remove(&key);
        }
        self.asset_names = names.clone();
    }

    /// A hash of each source's footnotes (all a references page reads of its Markdown),
    /// by source index; remembered by Markdown key.
    fn footnote_keys(&self, keys: &Keys, sources: &RenderedSources) -> Vec<Key> {
        keys.markdown
            .par_iter()
            .enumerate()
            .map(|(index, key)| {
                let kept = self.footnotes.get(key).copied();
                kept.unwrap_or_else(|| hash_debug(&sources.get(index).footnotes))
            })
            .collect()
    }

    /// Keeps this build's rendered Markdown and its footnotes' hashes (and only those:
    /// what the site no longer has goes).
    fn remember_markdown(&mut self, keys: &Keys, sources: &RenderedSources, footnotes: &[Key]) {
        let kept = || keys.markdown.iter().copied().enumerate();
        self.markdown = kept().map(|(index, key)| (key, sources.shared(index))).collect();
        self.footnotes = kept().filter_map(|(index, key)| Some((key, *footnotes.get(index)?))).collect();
    }
}

/// Whether the Markdown files of every listed folder are still those `listings` name
/// after a change at `path`: the path is outside them, a listed file edited in place,
/// or a file that never counted (not Markdown, or gone without having been listed).
/// Anything else (a new or removed page, a folder created, renamed or removed) lists
/// them again.
fn keeps_listings(listings: &Listings, path: &Path) -> bool {
    let mut relevant = listings.iter().filter(|(dir, _)| path.starts_with(dir) || dir.starts_with(path)).peekable();
    if relevant.peek().is_none() {
        return true;
    }
    let listed = relevant.flat_map(|(_, files)| files).any(|(_, file)| file.starts_with(path));
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if listed => metadata.is_file() && listings.values().flatten().any(|(_, file)| file == path),
        Ok(metadata) => metadata.is_file() && path.extension().is_none_or(|e| e != "md"),
        Err(_) => !listed,
    }
}

/// The memo keys of one build, computed from the loaded site.
struct Keys {
    /// What every stage reads: UI strings, config and base URL.
    site: Key,
    /// The site's outline: every page's front matter, URL and translation state.
    outline: Key,
    /// By source index: its text and the site key, which is all its Markdown depends on.
    markdown: Vec<Key>,
    /// By page index (`page_identity`).
    pages: Vec<Key>,
}

impl Keys {
    fn new(site: &Site, memo: &Memo) -> Self {
        let site_key = hash_parts(&[
            format!("{:?}", site.languages).as_bytes(),
            format!("{:?}", site.config).as_bytes(),
            format!("{:?}", site.base_url).as_bytes(),
            site.default_language.as_str().as_bytes(),
        ]);
        let source_keys = memo.source_keys(site);
        let pages: Vec<Key> = site.pages.par_iter().map(|page| page_identity(site, page)).collect();
        let mut outline = blake3::Hasher::new();
        outline.update(&site_key);
        for keys in &source_keys {
            outline.update(&keys.front);
        }
        for identity in &pages {
            outline.update(identity);
        }
        let markdown = source_keys.par_iter().map(|keys| hash_parts(&[&keys.text, &site_key])).collect();
        Self { site: site_key, outline: *outline.finalize().as_bytes(), markdown, pages }
    }

    /// A language's search index reads its pages, their Markdown, and the stemmer
    /// scripts' URLs.
    fn search(&self, site: &Site, language: &Language, stemmers: &Key) -> Key {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.site);
        hasher.update(stemmers);
        hasher.update(language.code.as_str().as_bytes());
        for (page, identity) in site.pages.iter().zip(&self.pages).filter(|(page, _)| page.lang == language.code) {
            hasher.update(identity);
            hasher.update(&self.markdown[page.source]);
        }
        *hasher.finalize().as_bytes()
    }

    /// A rendering reads the outline and the templates, a page its own source's
    /// Markdown, and a references page its language's pages' footnotes (`footnotes`, by
    /// source; see `render::Renderer::files`).
    fn rendering(&self, site: &Site, rendering: &Rendering, theme: &Key, footnotes: &[Key]) -> Key {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.outline);
        hasher.update(theme);
        match rendering {
            Rendering::Page(index, page) => {
                hasher.update(&self.pages[*index]);
                hasher.update(&self.markdown[page.source]);
            }
            Rendering::Generated(language, kind) => {
                hasher.update(&hash_parts(&[b"generated", language.code.as_str().as_bytes(), kind.slug().as_bytes()]));
                if *kind == GeneratedKind::References {
                    for page in site.pages_in(&language.code) {
                        hasher.update(footnotes.get(page.source).unwrap_or(&Key::default()));
                    }
                }
            }
            Rendering::LanguagePicker => {
                hasher.update(b"language picker");
            }
            Rendering::RootNotFound => {
                hasher.update(b"root 404");
            }
        }
        *hasher.finalize().as_bytes()
    }
}

/// A published page: where, in which language, from which file, in which state.
fn page_identity(site: &Site, page: &Page) -> Key {
    hash_parts(&[
        page.lang.as_str().as_bytes(),
        page.key.as_bytes(),
        page.url.as_str().as_bytes(),
        format!("{:?}", page.translation).as_bytes(),
        site.source(page).path.to_string_lossy().as_bytes(),
    ])
}

/// Hashes parts so that their boundaries count (`ab`,`c` differs from `a`,`bc`).
fn hash_parts(parts: &[&[u8]]) -> Key {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    *hasher.finalize().as_bytes()
}

fn hash_debug(value: &impl std::fmt::Debug) -> Key {
    hash_parts(&[format!("{value:?}").as_bytes()])
}

/// Every file below `dirs` (path and bytes), in a stable order. Only regular files are
/// read (a FIFO would block); others, and unreadable files, count by their path and
/// error, so that the stage that reads them reports the problem.
fn hash_files(dirs: &[PathBuf]) -> Key {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = dirs.to_vec();
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let mut hasher = blake3::Hasher::new();
    for path in files {
        hasher.update(path.to_string_lossy().as_bytes());
        let bytes = match std::fs::metadata(&path) {
            Ok(metadata) if metadata.is_file() => std::fs::read(&path),
            Ok(_) => Err(std::io::Error::other("not a regular file")),
            Err(error) => Err(error),
        };
        match bytes {
            Ok(bytes) => hasher.update(&hash_parts(&[&bytes])),
            Err(error) => hasher.update(error.to_string().as_bytes()),
        };
    }
    *hasher.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A language folder with two pages, listed.
    fn listed_site() -> (tempfile::TempDir, PathBuf, Listings) {
        let root = tempfile::tempdir().unwrap();
        let lang_dir = root.path().join("site/content/en");
        std::fs::create_dir_all(lang_dir.join("part")).unwrap();
        std::fs::write(lang_dir.join("a.md"), "a").unwrap();
        std::fs::write(lang_dir.join("part/b.md"), "b").unwrap();
        let listing = content::markdown_files(&lang_dir, root.path()).unwrap();
        assert_eq!(listing.len(), 2);
        (root, lang_dir.clone(), HashMap::from([(lang_dir, listing)]))
    }

    #[test]
    fn listings_survive_edits_in_place_and_files_that_never_counted() {
        let (root, lang_dir, listings) = listed_site();
        std::fs::write(lang_dir.join("a.md"), "edited").unwrap();
        assert!(keeps_listings(&listings, &lang_dir.join("a.md")));
        std::fs::write(lang_dir.join("figure.png"), "png").unwrap();
        assert!(keeps_listings(&listings, &lang_dir.join("figure.png")));
        // An editor's temporary file, renamed over the page before the rebuild.
        assert!(keeps_listings(&listings, &lang_dir.join("a.md.tmp")));
        assert!(keeps_listings(&listings, &root.path().join("themes/default/css/site.css")));
        assert!(keeps_listings(&listings, &root.path().join("site/content/fr/a.md")));
    }

    #[test]
    fn listings_go_when_pages_or_folders_come_and_go() {
        let (root, lang_dir, listings) = listed_site();
        std::fs::write(lang_dir.join("new.md"), "new").unwrap();
        assert!(!keeps_listings(&listings, &lang_dir.join("new.md")), "a new page");
        std::fs::remove_file(lang_dir.join("a.md")).unwrap();
        assert!(!keeps_listings(&listings, &lang_dir.join("a.md")), "a removed page");
        std::fs::create_dir(lang_dir.join("fresh")).unwrap();
        assert!(!keeps_listings(&listings, &lang_dir.join("fresh")), "a new folder may hold pages");
        std::fs::rename(lang_dir.join("part"), lang_dir.join("moved")).unwrap();
        assert!(!keeps_listings(&listings, &lang_dir.join("part")), "a folder of pages renamed");
        assert!(!keeps_listings(&listings, &root.path().join("site/content")), "an ancestor of the listed folder");
    }
}
