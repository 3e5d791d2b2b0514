//! What the preview serves: one successful build's files by output path, shared with
//! the build (nothing is copied), with the base path the site lives under and the
//! build's generation. Never changes once made; the server swaps in a new one.

use std::sync::Arc;

use hyper::body::Bytes;
use rustc_hash::FxHashMap;

use crate::build::SharedFile;

/// One successful build as served: output path to bytes.
pub(crate) struct Snapshot {
    /// By path; the paths are the site's own, so a fast hash is safe.
    files: FxHashMap<Arc<str>, Bytes>,
    /// The base URL's path (`/` or `/imrf/`): the site is served under it.
    base_path: String,
    /// Counts successful builds, so a page can tell whether it is out of date.
    pub(crate) generation: u64,
}

impl Snapshot {
    /// Serves `files`, whose paths and bytes it shares (nothing is copied); `expected`
    /// is about how many there are.
    pub(crate) fn of_files<'a>(
        files: impl Iterator<Item = &'a SharedFile>,
        expected: usize,
        base_path: &str,
        generation: u64,
    ) -> Self {
        let mut map = FxHashMap::with_capacity_and_hasher(expected, Default::default());
        map.extend(files.map(|f| (Arc::clone(&f.path), f.bytes.clone())));
        Self { files: map, base_path: base_path.to_string(), generation }
    }

    /// `last` with `pages` in place of its files at the same paths: what a rebuild
    /// shows before it is done (`crate::build::EarlyPages`).
    pub(crate) fn with_pages(last: &Snapshot, pages: &[SharedFile], generation: u64) -> Self {
        let mut files = last.files.clone();
        files.extend(pages.iter().map(|f| (Arc::clone(&f.path), f.bytes.clone())));
        Self { files, base_path: last.base_path.clone(), generation }
    }

    /// How many files it serves.
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }

    /// Before the first successful build: every page is the error overlay.
    pub(crate) fn empty() -> Self {
        Self { files: FxHashMap::default(), base_path: "/".into(), generation: 0 }
    }

    /// The file at output path `path` (`en/index.html`).
    pub(super) fn file(&self, path: &str) -> Option<&Bytes> {
        self.files.get(path)
    }

    /// The base URL's path, `/` or `/imrf/`.
    pub(super) fn base_path(&self) -> &str {
        &self.base_path
    }
}
