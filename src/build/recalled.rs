//! What this build reuses of the last one's `Remembered` (`Recalled`, made by
//! `Remembered::recall`): the Markdown summaries and file checks by their keys, the PDFs,
//! and the renderings and search indexes the output directories still hold, with their
//! offline fingerprints (`ReusedRendering`, `ReusedIndex`), and what the last link checks
//! read and found.

use std::sync::Arc;

use bytes::Bytes;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::checks::Checked;
use super::keys::Key;
use super::link_checks::{CheckedLinks, FileFacts, LastChecked};
use super::pdfs::KeptPdfs;
use super::remembered::ReadParts;
use crate::offline::Fingerprint;
use crate::output::{OutputError, Staging};
use crate::render::MarkdownSummary;

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
    pub(super) assets: Key,
    pub(super) markdown: FxHashMap<Key, Arc<MarkdownSummary>>,
    pub(super) checks: Checked,
    pub(super) pdfs: KeptPdfs,
    pub(super) renderings: FxHashMap<Key, String>,
    pub(super) search: FxHashMap<Key, Vec<String>>,
    pub(super) facts: FxHashMap<String, Bytes>,
    /// The hash of each file of the output, as the last build wrote it.
    pub(super) hashes: FxHashMap<String, u128>,
    pub(super) links: CheckedLinks,
    pub(super) read: ReadParts,
}

impl Recalled {
    /// Nothing to reuse: the build runs as if there were no cache (but for the parts
    /// and maps a caller fills in).
    pub(super) fn nothing() -> Self {
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
