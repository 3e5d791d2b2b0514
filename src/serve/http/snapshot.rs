//! What the preview serves: one successful build's files by output path, shared with
//! the build (nothing is copied), with the base path the site lives under and the
//! build's generation, or a rebuild's early files laid over such a snapshot. Never
//! changes once made; the server swaps in a new one.

use std::sync::Arc;

use hyper::body::Bytes;
use rustc_hash::FxHashMap;

use crate::build::SharedFile;

/// One successful build as served: output path to bytes.
pub(crate) struct Snapshot {
    /// By path; the paths are the site's own, so a fast hash is safe.
    files: FxHashMap<Arc<str>, Bytes>,
    /// The snapshot these files are laid over (`with_pages`), which serves every path
    /// they do not hold: a rebuild's early files are published without copying the
    /// tens of thousands of paths of a large site.
    under: Option<Arc<Snapshot>>,
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
        Self { files: map, under: None, base_path: base_path.to_string(), generation }
    }

    /// `last` with `pages` laid over it, in place of its files at the same paths: what a
    /// rebuild shows before it is done (`crate::build::EarlyPages`). A rebuild lays a
    /// few such layers at most, and then publishes a whole snapshot.
    pub(crate) fn with_pages(last: &Arc<Snapshot>, pages: &[SharedFile], generation: u64) -> Self {
        let files = pages.iter().map(|f| (Arc::clone(&f.path), f.bytes.clone())).collect();
        Self { files, under: Some(Arc::clone(last)), base_path: last.base_path.clone(), generation }
    }

    /// About how many files it serves (a layer's paths may also be under it).
    pub(crate) fn len(&self) -> usize {
        self.files.len() + self.under.as_ref().map_or(0, |under| under.len())
    }

    /// Before the first successful build: every page is the error overlay.
    pub(crate) fn empty() -> Self {
        Self { files: FxHashMap::default(), under: None, base_path: "/".into(), generation: 0 }
    }

    /// The file at output path `path` (`en/index.html`).
    pub(super) fn file(&self, path: &str) -> Option<&Bytes> {
        self.files.get(path).or_else(|| self.under.as_ref()?.file(path))
    }

    /// The base URL's path, `/` or `/imrf/`.
    pub(super) fn base_path(&self) -> &str {
        &self.base_path
    }
}
