//! What `build` keeps in the build cache for the next build (`Remembered`, saved by
//! `crate::cache` with its large maps in parts, `Saved` and `parts`), and what it
//! reuses from it (`recalled::Recalled`): each source's `MarkdownSummary` (so that its
//! Markdown is rendered only if read), each file's alignment and glossary warnings
//! (`checks`), each language's PDF (`pdfs::KeptPdfs`), each file rendered through a
//! template, the site maps and each language's search index, by the key of all they
//! read (`keys`, the same as watch mode's), found in the output directories
//! (`output::Staging::reuse`), with what the final checks and the offline workers read
//! of each file (`FileFacts`), so that a reused file is not read again (unless its
//! facts do not decode when the checks run), and what the final checks found
//! (`CheckedLinks`, saved last by `PartsSaved::finish`: the parts are saved while the
//! checks run). Each file's facts are encoded on their own: a file reused as it is
//! hands its encoded facts on to the next build, so saving the cache does not encode
//! every link of every page again (they are most of its bytes), and a reused file's are
//! decoded only in part: its offline fingerprint at once, its links only if the link
//! checks run (`link_checks`). A file whose fingerprint does not decode is made again.
//! Some parts are not encoded again (`ReadParts`): a part of a map keyed by a `Key`
//! that holds the keys it was read with, and the output before last's records, which
//! are those of the output folder as read. Decides what is reusable; the build
//! (`clean`) does the rest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::checks::Checked;
use super::keys::{Key, Keys, SourceKeys, hash_debug, hash_files, hash_parts};
use super::known::KnownSourceMap;
use super::link_checks::CheckedLinks;
use super::parts::{self, KeyedParts};
use super::pdfs::{KeptPdfs, SavedPdf};
use super::recalled::Recalled;
use super::stages::theme_dir;
use crate::cache::BuildCache;
use crate::diagnostic::Warning;
use crate::output::Outputs;
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
    /// The output path of each file rendered through a template, and of the site maps
    /// (`CacheKeys::site_map`), by its key.
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
/// rendering's (in the order of `render::renderings`), each language's search index
/// (in the order of `site.languages`), computed as watch mode computes them (`keys`),
/// and the site maps' (`site_map`).
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

    /// The key of the site map file at `path` (`render::SITE_MAP_PATHS`): it reads the
    /// site's outline only, as watch mode's kept site maps do.
    pub(super) fn site_map(&self, path: &str) -> Key {
        hash_parts(&[b"site map", &self.keys.outline, path.as_bytes()])
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
            // The Markdown's summaries, the checks and the PDFs hold for any output, and
            // so do the parts they were read from.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_output_before_last_keeps_the_parts_of_the_records_the_build_was_given() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BuildCache::open(dir.path()).unwrap();
        // Names no encoding of the (empty) records makes: taken as they are, or not at all.
        let given: Vec<u128> = (1..=3).collect();
        let saved = |kept_as_given: bool| {
            let read = ReadParts { published: Some(given.clone()), ..ReadParts::default() };
            let remembered = Remembered::new(
                Path::new("public"),
                Key::default(),
                Made::default(),
                FxHashMap::default(),
                Outputs::default(),
                read.for_previous(kept_as_given),
            );
            remembered.save_parts(&cache).unwrap().0.previous
        };
        assert_eq!(saved(true), given, "kept as given: the parts the records were read from");
        let encoded = parts::save(&cache, &Outputs::default().previous).unwrap();
        assert_eq!(saved(false), encoded, "not kept as given: the records encoded");
    }
}
