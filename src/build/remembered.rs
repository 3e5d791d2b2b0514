//! What `build` keeps in the build cache for the next build (`Remembered`, saved by
//! `crate::cache` with its large maps in parts, `Saved` and `parts`), and what it reuses
//! from it: each source's `MarkdownSummary` (so that its Markdown is rendered only if
//! read), each file's alignment and glossary warnings (`checks`), each language's PDF
//! (`pdfs::KeptPdfs`), each file rendered through a template and each language's search
//! index, by the key of all they read (`keys`, the same as watch mode's), found in the
//! output directories (`output::Staging::reuse`), with what the final checks and the
//! offline workers read of each file (`FileFacts`), so that a reused file is not read
//! again (unless its facts do not decode when the checks run), and what the final
//! checks found (`CheckedLinks`, saved last by `PartsSaved::finish`: the parts are saved
//! while the checks run). Each file's facts
//! are encoded on their own: a file reused as it is hands its encoded facts on to the
//! next build, so saving the cache does not encode every link of every page again (they
//! are most of its bytes), and a reused file's are decoded only in part: its offline
//! fingerprint at once, its links only if the link checks run (`link_checks`). A file
//! whose fingerprint does not decode is made again. The parts a map was read from and
//! that it still holds keep their names, not encoded again (`ReadParts`). Decides what
//! is reusable; the build (`clean`) does the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::checks::Checked;
use super::keys::{Key, Keys, SourceKeys, hash_debug, hash_files};
use super::known::KnownSourceMap;
use super::link_checks::{CheckedLinks, FileFacts, LastChecked};
use super::parts::{self, KeyedParts};
use super::pdfs::{KeptPdfs, SavedPdf};
use super::stages::theme_dir;
use crate::cache::BuildCache;
use crate::diagnostic::Warning;
use crate::offline::Fingerprint;
use crate::output::{OutputError, Outputs, Staging};
use crate::render::{MarkdownSummary, RenderedSources, Rendering};
use crate::site::Site;
use crate::types::LangCode;

/// What one build leaves the next.
#[derive(Default)]
pub(super) struct Remembered {
    /// The output directory it wrote.
    output: PathBuf,
    /// What it read of each source, for the next build. Read back on its own, before the
    /// rest (`SavedRemembered::sources`), so that the site is read while the rest is:
    /// empty in a `Remembered` read back.
    sources: KnownSourceMap,
    /// A hash of the theme's asset names: pages hold their URLs, and the offline
    /// workers' fingerprints their places, so other names reuse nothing.
    assets: Key,
    /// The output path of each file rendered through a template, by its key.
    renderings: FxHashMap<Key, String>,
    /// Each language's search index files, by the index's key.
    search: FxHashMap<Key, Vec<String>>,
    /// What the build knows of each source's Markdown without rendering it, by its key.
    markdown: FxHashMap<Key, Arc<MarkdownSummary>>,
    /// Each file's alignment and glossary warnings, by the key of what they read.
    checks: Checked,
    /// Each language's PDF, by the key of what it reads.
    pdfs: KeptPdfs,
    /// What the checks and the offline workers read of each file (`FileFacts`, encoded),
    /// by path.
    facts: FxHashMap<String, Bytes>,
    /// What the output directories hold.
    outputs: Outputs,
    /// What the link and alternates checks found, when read back (for `recall`). A build
    /// saves its own apart (`PartsSaved::finish`), once its checks are done.
    links: CheckedLinks,
    /// The parts some of its maps were read from (`ReadParts`): read back, or as this
    /// build read them, for the parts that did not change to keep their names.
    read: ReadParts,
}

/// The parts the maps keyed by a `Key` were read from (`parts::KeyedParts`), and those
/// the output folder's records were read from: the output before last's, next time,
/// when the build keeps the output it began with as it was given (`for_previous`).
#[derive(Default)]
pub(super) struct ReadParts {
    renderings: KeyedParts,
    markdown: KeyedParts,
    checks: KeyedParts,
    published: Option<Vec<u128>>,
}

impl ReadParts {
    /// Forgets the parts of the output folder's records unless the build kept the
    /// output it began with as it was given (`output::Finished::kept_as_given`).
    pub(super) fn for_previous(self, kept_as_given: bool) -> Self {
        Self { published: self.published.filter(|_| kept_as_given), ..self }
    }
}

/// `Remembered` as the cache file holds it: the small fields whole, and each large map
/// by the names of its parts (`parts`), so that a build writes only the parts it changed.
#[derive(Serialize, Deserialize)]
struct Saved {
    output: PathBuf,
    sources: Vec<u128>,
    assets: Key,
    search: FxHashMap<Key, Vec<String>>,
    renderings: Vec<u128>,
    markdown: Vec<u128>,
    checks: Vec<u128>,
    pdfs: Vec<SavedPdf>,
    facts: Vec<u128>,
    published: Vec<u128>,
    published_folders: Vec<u128>,
    previous: Vec<u128>,
    previous_folders: Vec<u128>,
    /// What the link checks found (`CheckedLinks`): a part of its own, as it names every
    /// file a link leads to.
    links: u128,
}

impl Saved {
    /// Every part it names.
    fn parts(&self) -> impl Iterator<Item = u128> + '_ {
        [
            &self.sources,
            &self.renderings,
            &self.markdown,
            &self.checks,
            &self.facts,
            &self.published,
            &self.published_folders,
            &self.previous,
            &self.previous_folders,
        ]
        .into_iter()
        .flatten()
        .chain([&self.links])
        .copied()
        .chain(self.pdfs.iter().map(SavedPdf::part))
    }

    /// The `Remembered` it names but the sources, when every part is there and whole.
    fn read(self, cache: &BuildCache) -> Option<Remembered> {
        let (renderings, renderings_read) = parts::load_keyed(cache, &self.renderings)?;
        let (markdown, markdown_read) = parts::load_keyed(cache, &self.markdown)?;
        let (checks, checks_read) = parts::load_keyed(cache, &self.checks)?;
        let read = ReadParts {
            renderings: renderings_read,
            markdown: markdown_read,
            checks: checks_read,
            published: Some(self.published.clone()),
        };
        let outputs = Outputs {
            published: parts::load(cache, &self.published)?,
            published_folders: parts::load(cache, &self.published_folders)?,
            previous: parts::load(cache, &self.previous)?,
            previous_folders: parts::load(cache, &self.previous_folders)?,
        };
        Some(Remembered {
            output: self.output,
            sources: KnownSourceMap::default(),
            assets: self.assets,
            renderings,
            search: self.search,
            markdown,
            checks,
            pdfs: KeptPdfs::load(cache, &self.pdfs)?,
            facts: parts::load(cache, &self.facts)?,
            outputs,
            links: postcard::from_bytes(&cache.read_part(self.links)?).ok()?,
            read,
        })
    }
}

/// What a build made, by key, for the next to reuse.
#[derive(Default)]
pub(super) struct Made {
    pub(super) sources: KnownSourceMap,
    pub(super) markdown: FxHashMap<Key, Arc<MarkdownSummary>>,
    pub(super) checks: Checked,
    pub(super) pdfs: KeptPdfs,
    pub(super) renderings: FxHashMap<Key, String>,
    pub(super) search: FxHashMap<Key, Vec<String>>,
}

/// The keys of what a build may reuse: each source's Markdown (by source index), each
/// rendering's (in the order of `render::renderings`) and each language's search index
/// (in the order of `site.languages`), computed as watch mode computes them (`keys`).
pub(super) struct CacheKeys {
    keys: Keys,
    pub(super) renderings: Vec<Key>,
    pub(super) search: Vec<Key>,
    /// Each language's search index's keys for the index kept in the cache
    /// (`search::Kept`): what it reads besides its pages, and each page's.
    pub(super) search_bases: Vec<Key>,
    pub(super) search_pages: Vec<Vec<Key>>,
    /// What this build leaves of each source's Markdown, by its key.
    pub(super) markdown: FxHashMap<Key, Arc<MarkdownSummary>>,
}

impl CacheKeys {
    /// The Markdown keys, from the site and its sources' keys (by source index).
    pub(super) fn new(site: &Site, source_keys: &[SourceKeys]) -> Self {
        let keys = Keys::new(site, source_keys);
        Self {
            keys,
            renderings: Vec::new(),
            search: Vec::new(),
            search_bases: Vec::new(),
            search_pages: Vec::new(),
            markdown: FxHashMap::default(),
        }
    }

    /// The key of the Markdown of the source at `index`.
    pub(super) fn markdown(&self, index: usize) -> &Key {
        &self.keys.markdown[index]
    }

    /// The renderings' and search indexes' keys, from the rendered Markdown (before any
    /// of it is released) and each language's `downloads`.
    pub(super) fn complete(
        &mut self,
        site: &Site,
        sources: &RenderedSources,
        renderings: &[Rendering],
        downloads: &BTreeMap<LangCode, Key>,
        stemmers: &BTreeMap<String, String>,
    ) {
        let templates = hash_files(&[theme_dir(site).join("templates")]);
        let footnotes: Vec<Key> = (0..site.sources.len()).into_par_iter().map(|n| sources.footnotes_key(n)).collect();
        let keys = &self.keys;
        self.renderings =
            renderings.par_iter().map(|r| keys.rendering(site, r, &templates, &footnotes, downloads)).collect();
        let stemmers = hash_debug(stemmers);
        self.search = site.languages.iter().map(|language| keys.search(site, language, &stemmers)).collect();
        self.search_bases = site.languages.iter().map(|language| keys.search_base(language, &stemmers)).collect();
        self.search_pages = site.languages.iter().map(|language| keys.search_pages(site, language)).collect();
        self.markdown =
            (0..site.sources.len()).into_par_iter().map(|n| (keys.markdown[n], sources.summary(n))).collect();
    }
}

/// A rendering taken as the last build wrote it: its output path, and the offline
/// workers' fingerprint of it.
pub(super) struct ReusedRendering {
    pub(super) path: String,
    pub(super) fingerprint: Option<Fingerprint>,
}

/// A search index taken as the last build wrote it: its files, and the offline
/// workers' fingerprints of them.
pub(super) struct ReusedIndex {
    pub(super) paths: Vec<String>,
    pub(super) fingerprints: Vec<Fingerprint>,
}

/// The last build's `Remembered`, as this build reuses it.
pub(super) struct Recalled {
    assets: Key,
    markdown: FxHashMap<Key, Arc<MarkdownSummary>>,
    checks: Checked,
    pdfs: KeptPdfs,
    renderings: FxHashMap<Key, String>,
    search: FxHashMap<Key, Vec<String>>,
    facts: FxHashMap<String, Bytes>,
    /// The hash of each file of the output, as the last build wrote it.
    hashes: FxHashMap<String, u128>,
    links: CheckedLinks,
    read: ReadParts,
}

/// The cache file as the last build saved it, its parts not read yet: the sources are
/// read first (`sources`), for the site to be read while the rest is (`read`).
pub(super) struct SavedRemembered(Saved);

impl SavedRemembered {
    /// What the last build saved in `cache`; a warning when it cannot be used.
    pub(super) fn open(cache: &BuildCache) -> (Option<Self>, Option<Warning>) {
        let (saved, warning) = cache.load::<Saved>();
        (saved.map(Self), warning)
    }

    /// What the last build kept of each source; `None` when a part is missing or damaged.
    pub(super) fn sources(&self, cache: &BuildCache) -> Option<KnownSourceMap> {
        parts::load(cache, &self.0.sources)
    }

    /// Everything else the last build saved; `None` when a part is missing or damaged.
    pub(super) fn read(self, cache: &BuildCache) -> Option<Remembered> {
        self.0.read(cache)
    }
}

/// A `Remembered` whose parts are saved, the cache file that names them not yet.
pub(super) struct PartsSaved(Saved);

impl PartsSaved {
    /// Saves `links`, what the link checks found, and the cache file; then only the
    /// parts it names are kept.
    pub(super) fn finish(mut self, cache: &BuildCache, links: &CheckedLinks) -> std::io::Result<()> {
        self.0.links = cache.write_part(&postcard::to_stdvec(links).map_err(std::io::Error::other)?)?;
        cache.save(&self.0)?;
        cache.keep_only_parts(self.0.parts());
        Ok(())
    }
}

impl Remembered {
    /// Saves it in `cache` for the next build, but for the cache file: the parts that
    /// changed. The file that names them is written by `PartsSaved::finish`, with what
    /// the link checks found: the parts are written while the checks run.
    pub(super) fn save_parts(&self, cache: &BuildCache) -> std::io::Result<PartsSaved> {
        Ok(PartsSaved(Saved {
            output: self.output.clone(),
            sources: parts::save(cache, &self.sources)?,
            assets: self.assets,
            search: self.search.clone(),
            renderings: parts::save_keyed(cache, &self.renderings, &self.read.renderings)?,
            markdown: parts::save_keyed(cache, &self.markdown, &self.read.markdown)?,
            checks: parts::save_keyed(cache, &self.checks, &self.read.checks)?,
            pdfs: self.pdfs.save(cache)?,
            facts: parts::save(cache, &self.facts)?,
            published: parts::save(cache, &self.outputs.published)?,
            published_folders: parts::save(cache, &self.outputs.published_folders)?,
            previous: match &self.read.published {
                Some(names) => names.clone(),
                None => parts::save(cache, &self.outputs.previous)?,
            },
            previous_folders: parts::save(cache, &self.outputs.previous_folders)?,
            links: 0,
        }))
    }

    /// Splits what the last build remembered into what the output directories hold
    /// (for `Staging`) and what this build may reuse: no file when it wrote another
    /// output directory.
    pub(super) fn recall(self, output: &Path) -> (Outputs, Recalled) {
        if self.output != output {
            // The Markdown's summaries, the checks and the PDFs hold for any output.
            let recalled = Recalled {
                markdown: self.markdown,
                checks: self.checks,
                pdfs: self.pdfs,
                // No records of this output were given to the build.
                read: ReadParts { published: None, ..self.read },
                ..Recalled::nothing()
            };
            return (Outputs::default(), recalled);
        }
        let hashes = self.outputs.published.iter().map(|(path, record)| (path.clone(), record.hash)).collect();
        let recalled = Recalled {
            assets: self.assets,
            markdown: self.markdown,
            checks: self.checks,
            pdfs: self.pdfs,
            renderings: self.renderings,
            search: self.search,
            facts: self.facts,
            hashes,
            links: self.links,
            read: self.read,
        };
        (self.outputs, recalled)
    }

    /// What this build leaves the next: `renderings` and `search` (filled as it
    /// went), the facts of every file, and the output directories' records; `read`, the
    /// parts this build read some of its maps from (`ReadParts`).
    pub(super) fn new(
        output: &Path,
        assets: Key,
        made: Made,
        facts: FxHashMap<String, Bytes>,
        outputs: Outputs,
        read: ReadParts,
    ) -> Self {
        let Made { sources, markdown, checks, pdfs, renderings, search } = made;
        let output = output.to_path_buf();
        let links = CheckedLinks::default();
        Self { output, sources, assets, renderings, search, markdown, checks, pdfs, facts, outputs, links, read }
    }
}

impl Recalled {
    fn nothing() -> Self {
        Self {
            assets: Key::default(),
            markdown: FxHashMap::default(),
            checks: Checked::default(),
            pdfs: KeptPdfs::default(),
            renderings: FxHashMap::default(),
            search: FxHashMap::default(),
            facts: FxHashMap::default(),
            hashes: FxHashMap::default(),
            links: CheckedLinks::default(),
            read: ReadParts::default(),
        }
    }

    /// Forgets every file when the theme's asset names changed (`assets`, their hash):
    /// pages hold their URLs, and the offline workers' fingerprints their places.
    pub(super) fn for_assets(self, assets: &Key) -> Self {
        if self.assets == *assets {
            self
        } else {
            Self { markdown: self.markdown, checks: self.checks, pdfs: self.pdfs, read: self.read, ..Self::nothing() }
        }
    }

    /// The parts this build read some of the last build's maps from (`ReadParts`),
    /// taken for its save.
    pub(super) fn take_read_parts(&mut self) -> ReadParts {
        std::mem::take(&mut self.read)
    }

    /// The PDFs the last build made, taken for this build's `PdfMemo`.
    pub(super) fn take_pdfs(&mut self) -> KeptPdfs {
        std::mem::take(&mut self.pdfs)
    }

    /// Whether the last build made search indexes into this output.
    pub(super) fn made_indexes(&self) -> bool {
        !self.search.is_empty()
    }

    /// What the last build knew of the Markdown of `key`.
    pub(super) fn markdown(&self, key: &Key) -> Option<Arc<MarkdownSummary>> {
        self.markdown.get(key).cloned()
    }

    /// The warnings of the file check of `key`, as the last build found them.
    pub(super) fn checked(&self, key: &Key) -> Option<Vec<String>> {
        self.checks.get(key).cloned()
    }

    /// The output path the rendering of `key` was written to, with its hash.
    fn rendering(&self, key: &Key) -> Option<(&str, u128)> {
        let path = self.renderings.get(key)?;
        Some((path, *self.hashes.get(path)?))
    }

    /// The offline workers' fingerprint of the file at `path`, from its facts as the
    /// last build wrote them (none, for a file it has no facts of); `None` when it cannot
    /// be decoded, and the file must be made again.
    fn fingerprint(&self, path: &str) -> Option<Option<Fingerprint>> {
        match self.facts.get(path) {
            Some(bytes) => FileFacts::decode_fingerprint(bytes),
            None => Some(None),
        }
    }

    /// For each key, the rendering's output path and offline fingerprint when the last
    /// build made it and `staging` now holds it; the rest must be rendered.
    pub(super) fn reuse_renderings(
        &self,
        keys: &[Key],
        staging: &Staging,
    ) -> Result<Vec<Option<ReusedRendering>>, OutputError> {
        let wanted: Vec<(usize, (&str, u128), Option<Fingerprint>)> = keys
            .par_iter()
            .enumerate()
            .filter_map(|(n, key)| {
                let file = self.rendering(key)?;
                Some((n, file, self.fingerprint(file.0)?))
            })
            .collect();
        let files: Vec<(&str, u128)> = wanted.iter().map(|(_, file, _)| *file).collect();
        let found = staging.reuse(&files)?;
        let mut reused: Vec<Option<ReusedRendering>> = keys.iter().map(|_| None).collect();
        for ((n, (path, _), fingerprint), found) in wanted.into_iter().zip(found) {
            if found {
                reused[n] = Some(ReusedRendering { path: path.to_string(), fingerprint });
            }
        }
        Ok(reused)
    }

    /// The files of the search index of `key`, with the offline workers' fingerprints
    /// their facts hold, when the last build made it, their facts decode, and `staging`
    /// now holds them all.
    pub(super) fn reuse_search(&self, key: &Key, staging: &Staging) -> Result<Option<ReusedIndex>, OutputError> {
        let Some(paths) = self.search.get(key) else { return Ok(None) };
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let Some(hash) = self.hashes.get(path) else { return Ok(None) };
            files.push((path.clone(), *hash));
        }
        self.reuse_files(&files, staging)
    }

    /// `files` (each path with its content's hash) as the last build wrote them, with
    /// the offline workers' fingerprints their facts hold, when the last build wrote
    /// each with that hash (and not with other asset names, `for_assets`), their facts
    /// decode, and `staging` now holds them all.
    pub(super) fn reuse_files(
        &self,
        files: &[(String, u128)],
        staging: &Staging,
    ) -> Result<Option<ReusedIndex>, OutputError> {
        let mut fingerprints = Vec::new();
        for (path, hash) in files {
            let (Some(fingerprint), Some(written)) = (self.fingerprint(path), self.hashes.get(path)) else {
                return Ok(None);
            };
            if written != hash {
                return Ok(None);
            }
            fingerprints.extend(fingerprint);
        }
        let wanted: Vec<(&str, u128)> = files.iter().map(|(path, hash)| (path.as_str(), *hash)).collect();
        let paths = || files.iter().map(|(path, _)| path.clone()).collect();
        Ok(staging.reuse_all(&wanted)?.then(|| ReusedIndex { paths: paths(), fingerprints }))
    }

    /// What the last build's link checks read and found.
    pub(super) fn last_checked(&self) -> LastChecked<'_> {
        LastChecked { checked: &self.links, published: &self.hashes, facts: &self.facts }
    }

    /// The encoded facts of the files of `reused`, which this build took as the last
    /// one wrote them, for the next build.
    pub(super) fn facts_of_reused(&self, reused: &FxHashSet<&str>) -> FxHashMap<String, Bytes> {
        reused.iter().filter_map(|path| Some((path.to_string(), self.facts.get(*path)?.clone()))).collect()
    }
}
