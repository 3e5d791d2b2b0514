//! Runs the pipeline: load the site, render Markdown, load the theme, build assets,
//! render pages, and (for `build`) write the output. `check` runs the same steps
//! without the write, so the two cannot drift apart. Watch mode (`Rebuilder`) runs the
//! same steps too, remembering each stage's results by a hash of its inputs and reusing
//! them when a rebuild finds the inputs unchanged.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::assets::{self, Assets};
use crate::check::{self, BrokenLink, PageLinks};
use crate::content::{self, ContentError, SourcePage};
use crate::error::{Error, Warning};
use crate::i18n::Language;
use crate::markdown::Rendered;
use crate::output::{OutputFile, Staging};
use crate::render::{self, GeneratedKind, RenderedSources, Rendering, SiteFiles};
use crate::search;
use crate::site::{Page, Site, SitePaths};
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

/// Loads and renders the whole site without writing anything.
pub fn render(options: &BuildOptions) -> Result<RenderedSite, Error> {
    run(options, &mut Memo::default(), false).map(|(site, _)| site)
}

/// What every build reads and makes before rendering pages.
struct Prepared {
    site: Site,
    warnings: Vec<Warning>,
    keys: Keys,
    sources: RenderedSources,
    /// A hash of the theme's stylesheets, scripts and static files.
    assets_key: Key,
    assets: Assets,
    templates: Templates,
    templates_dir: PathBuf,
}

/// Loads the site, renders its Markdown, builds the assets and loads the templates,
/// reusing what `memo` remembers (nothing, for a clean build).
fn prepare(options: &BuildOptions, memo: &mut Memo, remember: bool) -> Result<Prepared, Error> {
    let loader = |lang: &LangCode, key: &str, path: &Path| memo.load_page(lang, key, path, remember);
    let (site, mut warnings) = Site::load_with(SitePaths::new(&options.root), options.base_url.as_deref(), &loader)?;
    let keys = Keys::new(&site, &memo.sources());

    let sources = render::render_markdown(&site, &|source| {
        keys.markdown.get(source.path.as_path()).and_then(|key| memo.markdown.get(key)).cloned()
    })
    .map_err(Error::Render)?;
    warnings.extend(sources.warnings(&site));

    let theme_dir = site.paths.theme(&site.config.theme);
    let assets_key = hash_files(&[theme_dir.join("css"), theme_dir.join("js"), theme_dir.join("static")]);
    let assets = match memo.assets.take() {
        Some((key, assets)) if key == assets_key => assets,
        _ => assets::build(&theme_dir)?,
    };

    let globals = TemplateGlobals {
        languages: site.languages.iter().map(|l| (l.code.clone(), l.clone())).collect(),
        base_path: site.base_url.path.clone(),
        assets: assets.names.clone(),
    };
    let templates_dir = theme_dir.join("templates");
    let templates = Templates::load(&templates_dir, globals)?;
    Ok(Prepared { site, warnings, keys, sources, assets_key, assets, templates, templates_dir })
}

/// The pipeline, for `render` (nothing remembered) and for watch mode's `Rebuilder`
/// (each stage's results remembered, and reused when their inputs are unchanged).
/// Returns the site and how many pages it rendered (the others were reused).
fn run(options: &BuildOptions, memo: &mut Memo, remember: bool) -> Result<(RenderedSite, usize), Error> {
    let Prepared { site, warnings, keys, sources, assets_key, assets, templates, templates_dir } =
        prepare(options, memo, remember)?;
    let Assets { files: asset_files, names } = assets;
    // Asset names are not part of a rendering's key: a file remembered with older ones
    // has the asset URLs it holds rewritten (`Memo::rebind`).
    let theme_key = hash_files(&[templates_dir]);
    let renderings = render::renderings(&site);
    let rendering_keys: Vec<Key> = renderings.par_iter().map(|r| keys.rendering(&site, r, &theme_key)).collect();
    memo.rebind(&rendering_keys, &templates);
    let (wanted, wanted_keys): (Vec<Rendering>, Vec<Key>) =
        renderings.iter().zip(&rendering_keys).filter(|(_, key)| !memo.rendered.contains_key(*key)).unzip();
    let SiteFiles { rendered, others } =
        render::render_site(&site, &sources, &templates, &wanted).map_err(Error::Render)?;
    let rendered_pages = wanted.iter().filter(|r| matches!(r, Rendering::Page(_))).count();
    let mut rendered: Vec<(Key, MemoFile)> =
        wanted_keys.into_iter().zip(rendered).map(|(key, (file, assets))| (key, MemoFile { file, assets })).collect();
    // Nothing below can fail, so the memo's entries can move into this build rather than
    // be copied: `remember` puts this build's results back.
    rendered.extend(rendering_keys.iter().filter_map(|key| Some((*key, memo.rendered.remove(key)?))));

    // The search index reads only the stemmer scripts' URLs among the asset names; given
    // only those, it cannot read more than its memo key covers.
    let stemmers = stemmer_urls(&names);
    let stemmers_key = hash_debug(&stemmers);
    let search_keys: Vec<Key> = site.languages.iter().map(|l| keys.search(&site, l, &stemmers_key)).collect();
    let previous_search = RefCell::new(std::mem::take(&mut memo.search));
    let search_files = search::build(&site, &sources, &stemmers, &|language| {
        let index = site.languages.iter().position(|l| l.code == language.code)?;
        previous_search.borrow_mut().remove(&search_keys[index])
    });

    if remember {
        memo.remember(&site, &keys, &sources, &rendered, &search_keys, &search_files);
        memo.assets = Some((assets_key, Assets { files: asset_files.clone(), names }));
    }
    let mut files = others;
    files.extend(rendered.into_iter().map(|(_, rendered)| rendered.file));
    files.extend(asset_files);
    files.extend(search_files.into_iter().flatten());
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let broken_links = describe_links(&site, &check::broken_links(&files, &site.base_url.path));
    Ok((RenderedSite { site, files, warnings, broken_links }, rendered_pages))
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
    let Prepared { site, mut warnings, mut sources, assets, templates, .. } =
        prepare(options, &mut Memo::default(), false)?;
    let mut writer = StagedWriter { staging: &staging, links: Vec::new(), paths: Vec::new() };
    let mut errors = Vec::new();
    for batch in render::renderings(&site).chunks(WRITE_BATCH) {
        match render::render_files(&site, &sources, &templates, batch) {
            // After an error, the rest is still rendered for its errors, not written.
            Ok(rendered) if errors.is_empty() => writer.write(rendered.into_iter().map(|(file, _)| file).collect())?,
            Ok(_) => {}
            Err(batch_errors) => errors.extend(batch_errors),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Render(errors));
    }
    writer.write(render::site_maps(&site, &sources, &templates))?;
    sources.release_html();
    let stemmers = stemmer_urls(&assets.names);
    writer.write(assets.files)?;
    for language in &site.languages {
        search::index_language(&site, &sources, &stemmers, language, &mut |files| writer.write(files))?;
    }
    let StagedWriter { links, paths, .. } = writer;
    let broken = check::broken_links_among(&links, paths.iter().map(String::as_str), &site.base_url.path);
    warnings.extend(describe_links(&site, &broken).into_iter().map(|message| Warning { message }));
    staging.finish()?;
    Ok(BuildReport {
        pages: paths.iter().filter(|path| path.ends_with(".html")).count(),
        languages: site.languages.len(),
        files: paths.len(),
        warnings,
        elapsed: started.elapsed(),
    })
}

/// Writes `build`'s batches, keeping what the link check needs of them.
struct StagedWriter<'s> {
    staging: &'s Staging,
    links: Vec<PageLinks>,
    paths: Vec<String>,
}

impl StagedWriter<'_> {
    fn write(&mut self, files: Vec<OutputFile>) -> Result<(), Error> {
        self.staging.write(&files)?;
        self.links.par_extend(files.par_iter().filter_map(PageLinks::of));
        self.paths.extend(files.into_iter().map(|file| file.path));
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
    /// (the first build, or after the watcher lost track) forgets what was read.
    pub fn rebuild(&mut self, changed: &[PathBuf], everything: bool) -> Result<RenderedSite, Error> {
        if everything {
            self.memo = Memo::default();
        } else {
            self.memo.forget_files(changed);
        }
        let (site, rendered_pages) = run(&self.options, &mut self.memo, true)?;
        self.rendered_pages = rendered_pages;
        Ok(site)
    }

    /// How many pages the last successful rebuild rendered; it reused the others.
    pub fn rendered_pages(&self) -> usize {
        self.rendered_pages
    }
}

/// A blake3 hash of a stage's inputs.
type Key = [u8; 32];

/// What watch mode remembers between builds (see `Rebuilder`).
#[derive(Default)]
struct Memo {
    /// Parsed pages by file, with the hashes of their text and front matter.
    sources: Mutex<HashMap<PathBuf, (SourcePage, SourceKeys)>>,
    markdown: HashMap<Key, Arc<Rendered>>,
    assets: Option<(Key, Assets)>,
    /// One language's search index files.
    search: HashMap<Key, Vec<OutputFile>>,
    /// One file rendered through a template (a page, a generated page).
    rendered: HashMap<Key, MemoFile>,
}

/// A file rendered through a template, and the asset URLs it holds.
#[derive(Clone)]
struct MemoFile {
    file: OutputFile,
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
    fn lock_sources(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, (SourcePage, SourceKeys)>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.sources.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn load_page(&self, lang: &LangCode, key: &str, path: &Path, remember: bool) -> Result<SourcePage, ContentError> {
        if let Some((page, _)) = self.lock_sources().get(path) {
            if &page.lang == lang && page.key == key {
                return Ok(page.clone());
            }
        }
        let page = content::load_page(lang, key, path)?;
        if remember {
            let keys = SourceKeys::of(&page);
            self.lock_sources().insert(path.to_path_buf(), (page.clone(), keys));
        }
        Ok(page)
    }

    fn sources(&self) -> HashMap<PathBuf, SourceKeys> {
        self.lock_sources().iter().map(|(path, (_, keys))| (path.clone(), *keys)).collect()
    }

    /// Forgets the files at or below `changed` (a folder may have been renamed or removed).
    fn forget_files(&mut self, changed: &[PathBuf]) {
        let sources = self.sources.get_mut().unwrap_or_else(PoisonError::into_inner);
        sources.retain(|path, _| !changed.iter().any(|c| path.starts_with(c)));
    }

    /// Brings the remembered renderings that this build has (by key) up to date with
    /// the asset names of `templates`, and forgets those that cannot be: they are
    /// rendered again.
    fn rebind(&mut self, keys: &[Key], templates: &Templates) {
        let wanted: HashSet<&Key> = keys.iter().collect();
        let stale: Vec<Key> = self
            .rendered
            .par_iter_mut()
            .filter(|(key, _)| wanted.contains(key))
            .filter_map(|(key, kept)| (!templates.rebind(&mut kept.file.bytes, &mut kept.assets)).then_some(*key))
            .collect();
        for key in stale {
            self.rendered.remove(&key);
        }
    }

    /// Keeps this build's results (and only those: what the site no longer has goes).
    fn remember(
        &mut self,
        site: &Site,
        keys: &Keys,
        sources: &RenderedSources,
        rendered: &[(Key, MemoFile)],
        search_keys: &[Key],
        search_files: &[Vec<OutputFile>],
    ) {
        self.markdown = site
            .sources
            .iter()
            .enumerate()
            .filter_map(|(index, source)| Some((*keys.markdown.get(source.path.as_path())?, sources.shared(index))))
            .collect();
        self.search = search_keys.iter().copied().zip(search_files.iter().cloned()).collect();
        self.rendered = rendered.iter().cloned().collect();
    }
}

/// The memo keys of one build, computed from the loaded site.
struct Keys {
    /// What every stage reads: UI strings, config and base URL.
    site: Key,
    /// The site's outline: every page's front matter, URL and translation state.
    outline: Key,
    /// By source file: its text and the site key, which is all its Markdown depends on.
    markdown: HashMap<PathBuf, Key>,
}

impl Keys {
    fn new(site: &Site, known: &HashMap<PathBuf, SourceKeys>) -> Self {
        let site_key = hash_parts(&[
            format!("{:?}", site.languages).as_bytes(),
            format!("{:?}", site.config).as_bytes(),
            format!("{:?}", site.base_url).as_bytes(),
            site.default_language.as_str().as_bytes(),
        ]);
        let source_keys: Vec<SourceKeys> = site
            .sources
            .par_iter()
            .map(|source| known.get(&source.path).copied().unwrap_or_else(|| SourceKeys::of(source)))
            .collect();
        let mut outline = blake3::Hasher::new();
        outline.update(&site_key);
        for keys in &source_keys {
            outline.update(&keys.front);
        }
        for page in &site.pages {
            outline.update(&page_identity(site, page));
        }
        let markdown = site
            .sources
            .iter()
            .zip(&source_keys)
            .map(|(source, keys)| (source.path.clone(), hash_parts(&[&keys.text, &site_key])))
            .collect();
        Self { site: site_key, outline: *outline.finalize().as_bytes(), markdown }
    }

    fn source_markdown(&self, site: &Site, page: &Page) -> Key {
        self.markdown.get(site.source(page).path.as_path()).copied().unwrap_or_default()
    }

    /// A language's search index reads its pages, their Markdown, and the stemmer
    /// scripts' URLs.
    fn search(&self, site: &Site, language: &Language, stemmers: &Key) -> Key {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.site);
        hasher.update(stemmers);
        hasher.update(language.code.as_str().as_bytes());
        for page in site.pages_in(&language.code) {
            hasher.update(&page_identity(site, page));
            hasher.update(&self.source_markdown(site, page));
        }
        *hasher.finalize().as_bytes()
    }

    /// A rendering reads the outline and the templates, a page its own source's
    /// Markdown, and a references page its language's pages' (see `render::render_site`).
    fn rendering(&self, site: &Site, rendering: &Rendering, theme: &Key) -> Key {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.outline);
        hasher.update(theme);
        match rendering {
            Rendering::Page(page) => {
                hasher.update(&page_identity(site, page));
                hasher.update(&self.source_markdown(site, page));
            }
            Rendering::Generated(language, kind) => {
                hasher.update(&hash_parts(&[b"generated", language.code.as_str().as_bytes(), kind.slug().as_bytes()]));
                if *kind == GeneratedKind::References {
                    for page in site.pages_in(&language.code) {
                        hasher.update(&self.source_markdown(site, page));
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
