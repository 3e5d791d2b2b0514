//! `imrf-site build`: the one-shot build into the output directory. Each batch of
//! pages and each language's search index goes to the staging directory as soon as it
//! is made (`StagedWriter`), and only its links and language alternates stay in memory
//! for the final checks, so a large site is never held whole; the Markdown's text and
//! HTML are freed as soon as nothing reads them any more. With the build cache on, the
//! pages, site maps and search indexes whose keys the last build remembered are reused
//! from the output directories instead (`remembered`), and what this build made is
//! remembered.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use rustc_hash::{FxHashMap, FxHashSet};

use super::checks;
use super::indexes::{Indexes, MadeIndex, forget_kept_indexes_but};
use super::keys::{Key, hash_debug};
use super::known::{KnownSourceMap, KnownSources, SourceReads};
use super::link_checks::{self, Published, StagedWriter, facts_of};
use super::pdfs::{PdfMemo, typeset_pdfs};
use super::recalled::{Recalled, ReusedRendering};
use super::remembered::{CacheKeys, Made, Remembered, SavedRemembered};
use super::stages::{BuildOptions, Prepared, describe_page_problems, precache, prepare, stemmer_urls, theme_dir};
use crate::assets;
use crate::cache::BuildCache;
use crate::diagnostic::Warning;
use crate::error::Error;
use crate::offline::Precache;
use crate::output::{Finished, OutputFile, Outputs, Staging};
use crate::render::{self, Rendering};
use crate::site::{LoadError, Site, SitePaths};
use crate::types::LangCode;

/// What a finished build reports.
#[derive(Debug)]
pub struct BuildReport {
    pub(crate) pages: usize,
    pub(crate) languages: usize,
    pub(crate) files: usize,
    pub warnings: Vec<Warning>,
    pub(crate) elapsed: Duration,
    /// With the build cache on: what this build took from it.
    pub(crate) cache: Option<CacheReport>,
}

/// What a build reused from the build cache, and what it left there.
#[derive(Debug)]
pub(crate) struct CacheReport {
    dir: PathBuf,
    renderings: (usize, usize),
    pdfs: (usize, usize),
    /// Source files read from disk, of those found (the others were known unchanged).
    sources_read: (usize, usize),
    indexes: (usize, usize),
    /// Whether the link checks' problems were the last build's (`link_checks`).
    link_checks_reused: bool,
    /// Search indexes updated from the one the cache keeps (`search::Kept`).
    updated_indexes: usize,
    /// The cache folder's size after this build, when the cache could be saved.
    bytes: Option<u64>,
}

impl BuildReport {
    pub fn summary(&self) -> String {
        let built = format!(
            "Built {} pages in {} languages ({} files) in {} ms",
            self.pages,
            self.languages,
            self.files,
            self.elapsed.as_millis()
        );
        let Some(cache) = &self.cache else { return built };
        let size = cache.bytes.map_or("not saved".to_string(), |bytes| format!("{:.1} MB", bytes as f64 / 1e6));
        let updated = match cache.updated_indexes {
            0 => String::new(),
            1 => ", and updated 1 search index".to_string(),
            n => format!(", and updated {n} search indexes"),
        };
        let pdfs = match cache.pdfs {
            (_, 0) => String::new(),
            (reused, of) => format!(", {reused} of {of} PDFs"),
        };
        let (and, links) = if cache.link_checks_reused { (",", " and the link checks") } else { (" and", "") };
        format!(
            "{built}\nReused {} of {} pages{pdfs}{and} {} of {} search indexes{links} from the build cache ({}, {size}){updated}; read {} of {} source files",
            cache.renderings.0,
            cache.renderings.1,
            cache.indexes.0,
            cache.indexes.1,
            cache.dir.display(),
            cache.sources_read.0,
            cache.sources_read.1,
        )
    }
}

/// Renderings per batch in `build`: enough to keep every thread busy, few enough that
/// the rendered pages of a large site are never in memory all at once.
const WRITE_BATCH: usize = 256;

/// Builds the site into its output directory. The same stages as `render`, but each
/// batch of files goes to the staging directory as soon as it is made, and only its
/// links and alternates stay in memory for the final checks: a large site is never held
/// whole. With the build cache on, the pages, site maps and search indexes whose inputs
/// did not change since the last build are taken from the output directories
/// (`remembered`).
pub fn build(options: &BuildOptions) -> Result<BuildReport, Error> {
    let started = Instant::now();
    let output_dir = options.output_dir();
    // A cache folder not made yet (or empty) is made once the output folder passed its
    // checks: a build refused there leaves the site's folder as it was. A cache that is
    // there is opened (locked) and read first; a build refused then changes nothing in
    // it but its lock file, and a damaged cache file it sets aside.
    let new_cache = options
        .cache_dir()
        .is_some_and(|dir| std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none()));
    let (mut cache, mut cache_warnings) = if new_cache { (None, Vec::new()) } else { open_cache(options) };
    let (saved, warning) = cache.as_ref().map(SavedRemembered::open).unwrap_or_default();
    cache_warnings.extend(warning);
    // What the last build read of each source first: the site is read from it while the
    // output folders are listed and checked and the rest of the cache is read. Neither
    // waits for the other, and reading the site changes nothing.
    let known = match (&cache, &saved) {
        (Some(cache), Some(saved)) => saved.sources(cache).map(KnownSources::new),
        _ => Some(KnownSources::default()),
    };
    let mut damaged = known.is_none();
    let mut recalled = None;
    let (staging, site) = rayon::join(
        || {
            Staging::begin_with(&output_dir, &options.root, || {
                if new_cache {
                    return Some(Outputs::default());
                }
                let cache = cache.as_ref()?;
                let remembered = match saved.map(|saved| saved.read(cache)) {
                    Some(None) => {
                        damaged = true;
                        None
                    }
                    remembered => remembered.flatten(),
                };
                let (outputs, remembered) = remembered.unwrap_or_default().recall(&output_dir);
                recalled = Some(remembered);
                Some(outputs)
            })
        },
        || load_site(options, known.as_ref()),
    );
    let staging = staging?;
    if let Some(cache) = cache.as_ref().filter(|_| damaged) {
        cache_warnings.push(cache.parts_damaged());
        recalled = Some(Remembered::default().recall(&output_dir).1);
    }
    if new_cache {
        let (opened, warnings) = open_cache(options);
        cache_warnings = warnings;
        recalled = opened.as_ref().map(|_| Remembered::default().recall(&output_dir).1);
        cache = opened;
    }
    cache_warnings.extend(staging.notice().map(|notice| Warning { message: notice.to_string() }));
    let LoadedSite { site, mut warnings, keys, sources: known_sources, sources_read } = site?;
    warnings.extend(cache_warnings);
    let assets = assets::build(&theme_dir(&site))?;
    let assets_key = hash_debug(&assets.names);
    let mut recalled = recalled.map(|recalled| recalled.for_assets(&assets_key));
    // Pages show each PDF's size, so the PDFs are made first; each the last build made
    // from the same inputs is taken from the cache.
    let mut pdf_memo = PdfMemo::with_kept(recalled.as_mut().map(Recalled::take_pdfs).unwrap_or_default());
    let pdfs = typeset_pdfs(&site, &mut pdf_memo)?;
    let pdf_count = pdfs.files.len();
    let download_keys: BTreeMap<LangCode, Key> =
        pdfs.downloads.iter().map(|(code, downloads)| (code.clone(), hash_debug(downloads))).collect();
    let mut keys = keys.filter(|_| recalled.is_some());
    // The Markdown of a source the cache knows is rendered only if something reads it.
    let summary_of = |index: usize| recalled.as_ref()?.markdown(keys.as_ref()?.markdown(index));
    let Prepared { mut site, mut warnings, mut sources, templates } =
        prepare(site, warnings, &|_| None, &summary_of, &assets.names, pdfs.downloads)?;
    warnings.extend(pdfs.warnings);
    let (check_warnings, checked) = checks::warnings(&site, &sources, keys.as_ref().zip(recalled.as_ref()));
    warnings.extend(check_warnings);
    let stemmers = stemmer_urls(&assets.names);
    if let Some(keys) = &mut keys {
        // In the order of the renderings below.
        keys.complete(&site, &sources, &render::renderings(&site), &download_keys, &stemmers);
    }
    // The note as open data reads the Markdown as written, so it is made first.
    let note_data = render::note_data_files(&site);
    // Rendered, and its warnings located: the Markdown text is read no more.
    site.release_source_text();
    // The pages are written once, never rewritten when asset names change.
    let templates = templates.without_asset_links();
    let precache = precache(&site, &assets.names);
    let renderings = render::renderings(&site);
    let mut writer = StagedWriter::new(&staging, precache.as_ref());
    let mut remembering = Remembering::default();
    remembering.made.sources = known_sources;
    if let Some(keys) = &mut keys {
        remembering.made.markdown = std::mem::take(&mut keys.markdown);
    }
    remembering.made.checks = checked;
    remembering.made.pdfs = pdf_memo.kept();
    let mut wanted: Vec<(Rendering, Option<&Key>)> = Vec::new();
    match (&recalled, &keys) {
        (Some(recalled), Some(keys)) => {
            let reused = recalled.reuse_renderings(&keys.renderings, &staging)?;
            for ((rendering, key), reused) in renderings.iter().zip(&keys.renderings).zip(reused) {
                match reused {
                    Some(reused) => remembering.reuse_rendering(*key, reused, &mut writer),
                    None => wanted.push((*rendering, Some(key))),
                }
            }
        }
        _ => wanted.extend(renderings.iter().map(|rendering| (*rendering, None))),
    }
    let reused_renderings = renderings.len() - wanted.len();
    let renderer = render::Renderer::new(&site, &sources, &templates);
    let indexes = Indexes {
        cache: cache.as_ref(),
        site: &site,
        stemmers: &stemmers,
        staging: &staging,
        precache: precache.as_ref(),
        recalled: recalled.as_ref(),
        keys: keys.as_ref(),
    };
    // The first language's search index is made while the pages render: each fills the
    // other's waits (folders made one by one, the index's merges), 4 % of the wall time
    // at 12,000 pages. Only the first: every index at once held 170 MiB more.
    let (pages, first_index) = rayon::join(
        || write_pages(&renderer, &wanted, &mut writer),
        || site.languages.first().map(|first| indexes.make(&sources, 0, first)).transpose(),
    );
    remembering.made.renderings.extend(pages?);
    remembering.add_index(first_index?);
    write_site_maps(&renderer, keys.as_ref().zip(recalled.as_ref()), &staging, &mut writer, &mut remembering)?;
    writer.write(note_data)?;
    writer.write(pdfs.files.into_iter().map(OutputFile::from).collect())?;
    sources.release_html();
    writer.write(assets.files)?;
    let last_reader = last_index_reading(&site);
    sources.release_text(|source| last_reader[source] == 0);
    for (position, language) in site.languages.iter().enumerate().skip(1) {
        remembering.add_index(Some(indexes.make(&sources, position, language)?));
        sources.release_text(|source| last_reader[source] <= position);
    }
    warnings.append(&mut remembering.warnings);
    if let Some(cache) = &cache {
        forget_kept_indexes_but(cache, &site.languages);
    }
    let deferred_errors = sources.deferred_errors();
    if !deferred_errors.is_empty() {
        return Err(Error::Render(deferred_errors));
    }
    // A source the cache knew unchanged and that changed since was read as empty:
    // nothing made from it is published or kept.
    let unread = site.text_problems();
    if !unread.is_empty() {
        return Err(LoadError::Content(unread).into());
    }
    let StagedWriter { links, alternates, .. } = writer;
    if let Some(precache) = &precache {
        staging.write(&precache.service_workers())?;
    }
    let Finished { paths, outputs, kept_as_given } = staging.finish()?;
    let read_parts = recalled.as_mut().map(Recalled::take_read_parts).unwrap_or_default().for_previous(kept_as_given);
    let reused_paths = std::mem::take(&mut remembering.reused);
    let reused: FxHashSet<&str> = reused_paths.iter().map(String::as_str).collect();
    let published =
        Published { paths: &paths, links: &links, alternates: &alternates, reused: &reused, output: &output_dir };
    // The cache's parts are saved while the links are checked: both only read what was
    // made. The cache file, which keeps what the checks found, is saved after both.
    let ((checked, link_checks_reused), saved) = rayon::join(
        || link_checks::checked_links(&site, &published, recalled.as_ref().map(Recalled::last_checked)),
        || {
            cache.zip(outputs).map(|(cache, outputs)| {
                let fingerprints = precache.as_ref().map(Precache::recorded).unwrap_or_default();
                let mut facts = facts_of(&links, &alternates, &fingerprints, &reused);
                facts.extend(recalled.as_ref().map(|recalled| recalled.facts_of_reused(&reused)).unwrap_or_default());
                let remembered = Remembered::new(&output_dir, assets_key, remembering.made, facts, outputs, read_parts);
                (remembered.save_parts(&cache), cache)
            })
        },
    );
    warnings.extend(describe_page_problems(&site, checked.problems()).into_iter().map(|message| Warning { message }));
    let cache = saved.map(|(parts, cache)| {
        let saved = parts.and_then(|parts| parts.finish(&cache, &checked));
        if let Err(error) = &saved {
            let message = format!("{}: the build cache could not be saved: {error}", cache.dir().display());
            warnings.push(Warning { message });
        }
        CacheReport {
            dir: cache.dir().to_path_buf(),
            renderings: (reused_renderings, renderings.len()),
            pdfs: (pdf_count - pdf_memo.typeset, pdf_count),
            sources_read: sources_read.counts(),
            indexes: (remembering.reused_indexes, site.languages.len()),
            updated_indexes: remembering.updated_indexes,
            link_checks_reused,
            bytes: saved.ok().map(|()| cache.size()),
        }
    });
    Ok(BuildReport {
        pages: paths.iter().filter(|path| path.ends_with(".html")).count(),
        languages: site.languages.len(),
        files: paths.len(),
        warnings,
        elapsed: started.elapsed(),
        cache,
    })
}

/// The site as `build` loads it, and with the cache on, its sources' keys and what the
/// next build may take of them.
struct LoadedSite {
    site: Site,
    warnings: Vec<Warning>,
    keys: Option<CacheKeys>,
    sources: KnownSourceMap,
    /// Source files read from disk, of those found: counted until the end.
    sources_read: SourceReads,
}

/// Loads the site, each source the last build kept (`known`, with the cache on) from
/// what it kept while its file keeps its stamp. With the cache on, the sources' keys and
/// records are made here too: they take none of the time the output folders' checks take.
fn load_site(options: &BuildOptions, known: Option<&KnownSources>) -> Result<LoadedSite, LoadError> {
    let paths = SitePaths::new(&options.root);
    let base_url = options.base_url.as_deref();
    if options.cache_dir().is_none() {
        let (site, warnings) = Site::load(paths, base_url)?;
        let sources = KnownSourceMap::default();
        return Ok(LoadedSite { site, warnings, keys: None, sources, sources_read: SourceReads::none() });
    }
    let none = KnownSources::default();
    let known = known.unwrap_or(&none);
    let read_since = SystemTime::now();
    let (site, warnings) = Site::load_with(paths, base_url, known)?;
    let source_keys = known.source_keys(&site);
    let sources = known.remember(&site, &source_keys, read_since);
    let keys = Some(CacheKeys::new(&site, &source_keys));
    Ok(LoadedSite { site, warnings, keys, sources, sources_read: known.reads() })
}

/// The build cache, unless it is off or cannot be used (then with a warning).
fn open_cache(options: &BuildOptions) -> (Option<BuildCache>, Vec<Warning>) {
    match options.cache_dir().map(|dir| BuildCache::open(&dir)) {
        Some(Ok(cache)) => (Some(cache), Vec::new()),
        Some(Err(warning)) => (None, vec![warning]),
        None => (None, Vec::new()),
    }
}

/// What this build leaves in the cache, gathered as it goes.
#[derive(Default)]
struct Remembering {
    made: Made,
    reused_indexes: usize,
    updated_indexes: usize,
    /// About the kept search indexes.
    warnings: Vec<Warning>,
    /// The files taken as the last build wrote them.
    reused: Vec<String>,
}

impl Remembering {
    /// Remembers the rendering of `key` taken as the last build wrote it.
    fn reuse_rendering(&mut self, key: Key, reused: ReusedRendering, writer: &mut StagedWriter) {
        let ReusedRendering { path, fingerprint } = reused;
        writer.reuse(fingerprint);
        self.reused.push(path.clone());
        self.made.renderings.insert(key, path);
    }

    fn add_index(&mut self, index: Option<MadeIndex>) {
        let Some(MadeIndex { key, paths, reused, whole, updated, warning }) = index else { return };
        self.warnings.extend(warning);
        self.reused_indexes += usize::from(whole);
        self.updated_indexes += usize::from(updated);
        self.reused.extend(reused);
        if let Some(key) = key {
            self.made.search.insert(key, paths);
        }
    }
}

/// Renders `wanted`, writing them batch by batch, and returns the output path of each
/// rendering that has a cache key. After an error, the rest is still rendered for its
/// errors, not written.
fn write_pages(
    renderer: &render::Renderer,
    wanted: &[(Rendering, Option<&Key>)],
    writer: &mut StagedWriter,
) -> Result<FxHashMap<Key, String>, Error> {
    let mut errors = Vec::new();
    let mut paths = FxHashMap::default();
    for batch in wanted.chunks(WRITE_BATCH) {
        let renderings: Vec<Rendering> = batch.iter().map(|(rendering, _)| *rendering).collect();
        match renderer.files(&renderings) {
            Ok(rendered) if errors.is_empty() => {
                let files: Vec<OutputFile> = rendered.into_iter().map(|(file, _)| file).collect();
                for ((_, key), file) in batch.iter().zip(&files) {
                    if let Some(key) = key {
                        paths.insert(**key, file.path.clone());
                    }
                }
                writer.write(files)?;
            }
            Ok(_) => {}
            Err(batch_errors) => errors.extend(batch_errors),
        }
    }
    if errors.is_empty() { Ok(paths) } else { Err(Error::Render(errors)) }
}

/// Writes the sitemap and robots.txt; with the cache on (`cached`), takes each the last
/// build wrote from the same outline, all they read (`CacheKeys::site_map`): the sitemap
/// names every page, and making it took 4 % of a one-page edit's CPU, on one thread.
fn write_site_maps(
    renderer: &render::Renderer,
    cached: Option<(&CacheKeys, &Recalled)>,
    staging: &Staging,
    writer: &mut StagedWriter,
    remembering: &mut Remembering,
) -> Result<(), Error> {
    let Some((keys, recalled)) = cached else { return writer.write(renderer.site_maps()) };
    let site_map_keys: Vec<Key> = render::SITE_MAP_PATHS.iter().map(|path| keys.site_map(path)).collect();
    let reused = recalled.reuse_renderings(&site_map_keys, staging)?;
    let mut missing = Vec::new();
    for ((path, key), reused) in render::SITE_MAP_PATHS.into_iter().zip(site_map_keys).zip(reused) {
        match reused {
            Some(reused) => remembering.reuse_rendering(key, reused, writer),
            None => {
                remembering.made.renderings.insert(key, path.to_string());
                missing.push(path);
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    writer.write(renderer.site_maps().into_iter().filter(|file| missing.contains(&file.path.as_str())).collect())
}

/// For each source (by index), the place in `site.languages` of the last language whose
/// search index reads its text: after that one, the text can go. A page in one
/// language may show another's source (a translation not made yet shows the original).
fn last_index_reading(site: &Site) -> Vec<usize> {
    let positions: FxHashMap<&LangCode, usize> =
        site.languages.iter().enumerate().map(|(position, language)| (&language.code, position)).collect();
    let mut last = vec![0; site.sources.len()];
    for page in &site.pages {
        let position = positions.get(&page.lang).copied().unwrap_or_default();
        last[page.source] = last[page.source].max(position);
    }
    last
}
