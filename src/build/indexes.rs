//! Each language's search index in `build`: the last build's taken whole when its key
//! is the same, the one the build cache keeps updated for the pages that changed (or
//! made afresh and kept), or made; written part by part (`Indexes::make`). Also clears
//! the kept indexes of languages the site no longer has.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::keys::Key;
use super::recalled::{Recalled, ReusedIndex};
use super::remembered::CacheKeys;
use crate::cache::{BuildCache, ContentStore};
use crate::diagnostic::Warning;
use crate::error::Error;
use crate::i18n::Language;
use crate::offline::Precache;
use crate::output::{OutputFile, Staging};
use crate::render::RenderedSources;
use crate::search;
use crate::search::KeptMeta;
use crate::site::Site;

/// One language's search index, made or reused.
pub(super) struct MadeIndex {
    pub(super) key: Option<Key>,
    /// Every file of the index.
    pub(super) paths: Vec<String>,
    /// Those taken as the last build wrote them.
    pub(super) reused: Vec<String>,
    /// Whether the whole index was, or the one the cache keeps was updated.
    pub(super) whole: bool,
    pub(super) updated: bool,
    /// Why the index the cache kept could not be read.
    pub(super) warning: Option<Warning>,
}

/// What making each language's search index reads.
pub(super) struct Indexes<'b> {
    pub(super) cache: Option<&'b BuildCache>,
    pub(super) site: &'b Site,
    pub(super) stemmers: &'b BTreeMap<String, String>,
    pub(super) staging: &'b Staging,
    pub(super) precache: Option<&'b Precache>,
    pub(super) recalled: Option<&'b Recalled>,
    /// The cache keys, with the cache on.
    pub(super) keys: Option<&'b CacheKeys>,
}

impl Indexes<'_> {
    /// The search index of `language` (at `position` in the site's languages): the
    /// last build's when its key is the same and its files are at hand; with the cache
    /// on, the index the cache keeps updated for the pages that changed, or made afresh
    /// and kept (keeping costs more than making: not on the first build); or made.
    /// Written part by part.
    pub(super) fn make(
        &self,
        sources: &RenderedSources,
        position: usize,
        language: &Language,
    ) -> Result<MadeIndex, Error> {
        let key = self.keys.and_then(|keys| keys.search.get(position)).copied();
        if let (Some(key), Some(recalled)) = (&key, self.recalled)
            && let Some(reused) = recalled.reuse_search(key, self.staging)?
        {
            return Ok(self.reused(key, reused));
        }
        let mut paths = Vec::new();
        let mut emit = |files: Vec<OutputFile>| {
            self.staging.write(&files)?;
            if let Some(precache) = self.precache {
                precache.record_files(&files);
            }
            paths.extend(files.into_iter().map(|file| file.path));
            Ok::<(), Error>(())
        };
        // The index is kept only once the output has an index from an earlier build: the
        // first build with the cache (or after a new imrf-site) makes every index the
        // quick way, and a language's index is kept from the first build that changes it.
        let earlier = self.recalled.is_some_and(Recalled::made_indexes);
        let (Some(cache), Some(keys), true) = (self.cache, self.keys, earlier) else {
            search::index_language(self.site, sources, self.stemmers, language, None, &mut emit)?;
            return Ok(MadeIndex { key, paths, reused: Vec::new(), whole: false, updated: false, warning: None });
        };
        let name = kept_meta_name(language.code.as_str());
        let store = ContentStore::new(&kept_store_dir(cache, language.code.as_str()));
        let mut reused = Vec::new();
        let mut reuse = |files: &[(String, u128)]| {
            let Some(recalled) = self.recalled else { return Ok(files.is_empty()) };
            let Some(ReusedIndex { paths, fingerprints }) = recalled.reuse_files(files, self.staging)? else {
                return Ok(false);
            };
            if let Some(precache) = self.precache {
                precache.remember(fingerprints);
            }
            reused = paths;
            Ok::<bool, Error>(true)
        };
        // A kept index that cannot be read is made afresh, as if there were none.
        let instead = format!("the search index of {}", language.code);
        let (last, warning) = cache.load_file::<KeptMeta>(&name, &instead);
        let kept = search::Kept {
            store: &store,
            base: keys.search_bases[position],
            page_keys: keys.search_pages[position].clone(),
            last,
        };
        let (meta, updated) =
            search::index_language_kept(self.site, sources, self.stemmers, language, kept, &mut emit, &mut reuse)?;
        // An index that read a source as empty (one that changed after the build found it
        // unchanged: the build fails) is not kept.
        let whole = self.site.text_problems().is_empty();
        match meta {
            Some(meta) if whole && cache.save_file(&name, &meta).is_ok() => store.keep_only(meta.names()),
            // The one kept before describes an older index: dropped, so that the next
            // build makes the index afresh rather than update it from further back.
            _ => cache.remove_file(&name),
        }
        paths.extend(reused.iter().cloned());
        Ok(MadeIndex { key, paths, reused, whole: false, updated, warning })
    }

    /// The last build's index of `key`, taken whole.
    fn reused(&self, key: &Key, ReusedIndex { paths, fingerprints }: ReusedIndex) -> MadeIndex {
        if let Some(precache) = self.precache {
            precache.remember(fingerprints);
        }
        MadeIndex { key: Some(*key), reused: paths.clone(), paths, whole: true, updated: false, warning: None }
    }
}

/// The cache's file of a language's kept search index, and the folder of its files.
fn kept_meta_name(code: &str) -> String {
    format!("{KEPT_META}{code}")
}

fn kept_store_dir(cache: &BuildCache, code: &str) -> PathBuf {
    cache.dir().join(KEPT_STORE).join(code)
}

const KEPT_META: &str = "search-";
const KEPT_STORE: &str = "search";

/// Deletes the kept search indexes of languages the site no longer has.
pub(super) fn forget_kept_indexes_but(cache: &BuildCache, languages: &[Language]) {
    let kept = |code: &str| languages.iter().any(|language| language.code.as_str() == code);
    let metas = std::fs::read_dir(cache.dir()).into_iter().flatten().flatten();
    for name in metas.filter_map(|entry| entry.file_name().into_string().ok()) {
        if let Some(code) = name.strip_prefix(KEPT_META).filter(|code| !kept(code)) {
            cache.remove_file(&kept_meta_name(code));
        }
    }
    let stores = std::fs::read_dir(cache.dir().join(KEPT_STORE)).into_iter().flatten().flatten();
    for entry in stores {
        if entry.file_name().to_str().is_some_and(|code| !kept(code)) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
