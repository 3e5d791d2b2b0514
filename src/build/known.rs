//! The sources a build read, as the build cache keeps them for the next build
//! (`KnownSource`: the file's stamp, its front matter and the hash of its text, and its
//! memo keys), and `KnownSources`, the `SourceFiles` that answers from them. A file
//! whose stamp (size included) is the one kept is not read: its page is made from what
//! the cache kept, and its text is read only if something asks for it (a page rendered
//! again, a check whose key changed, a PDF), then checked against the kept hash
//! (`content::SourcePage::known`). Writing a file gives it another change time, which
//! programs cannot set back; a file changed too close to the moment it was read keeps no
//! record (`Stamp::settled_before`), and is read again next time.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::keys::SourceKeys;
use crate::content::{self, ContentError, KnownPage, SourcePage};
use crate::files::Stamp;
use crate::site::{Site, SourceFiles};
use crate::types::LangCode;

/// What the build cache keeps of one source file.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct KnownSource {
    stamp: Stamp,
    page: KnownPage,
    keys: SourceKeys,
}

/// Every source the last build kept, by path.
pub(super) type KnownSourceMap = FxHashMap<String, KnownSource>;

/// The sources the last build kept, as `Site::load_with` reads them.
#[derive(Default)]
pub(super) struct KnownSources {
    known: KnownSourceMap,
    /// Source files asked for.
    asked: AtomicUsize,
    /// Of them, those read from disk, while loading or on demand (the known pages
    /// count theirs here).
    read: Arc<AtomicUsize>,
    /// The drafts loaded: not part of the site, but known next time all the same.
    drafts: Mutex<Vec<Arc<SourcePage>>>,
}

/// How many source files a build read from disk, of how many it found: asked at the
/// end of the build, once every text read on demand was read.
pub(super) struct SourceReads {
    read: Arc<AtomicUsize>,
    asked: usize,
}

impl SourceReads {
    pub(super) fn none() -> Self {
        Self { read: Arc::default(), asked: 0 }
    }

    pub(super) fn counts(&self) -> (usize, usize) {
        (self.read.load(Ordering::Relaxed), self.asked)
    }
}

impl KnownSources {
    pub(super) fn new(known: KnownSourceMap) -> Self {
        Self { known, ..Self::default() }
    }

    /// The source files read so far, and from now on.
    pub(super) fn reads(&self) -> SourceReads {
        SourceReads { read: Arc::clone(&self.read), asked: self.asked.load(Ordering::Relaxed) }
    }

    /// What the cache kept of the file at `path`, if the file is there with the stamp
    /// it had then.
    fn unchanged(&self, path: &Path) -> Option<&KnownSource> {
        let known = self.known.get(path.to_str()?)?;
        // Followed, as `files::read` follows a link (the walk checked where it leads).
        let metadata = std::fs::metadata(path).ok()?;
        (metadata.is_file() && Stamp::of(&metadata) == known.stamp).then_some(known)
    }

    /// Each source's memo keys (by source index): the kept ones for a file whose stamp
    /// is the one kept (the same stamp, the same text), else made from its text.
    pub(super) fn source_keys(&self, site: &Site) -> Vec<SourceKeys> {
        site.sources.par_iter().map(|source| self.source_keys_of(source)).collect()
    }

    fn source_keys_of(&self, source: &SourcePage) -> SourceKeys {
        let known = source.path.to_str().and_then(|path| self.known.get(path));
        match known {
            Some(known) if source.stamp == Some(known.stamp) => known.keys,
            _ => SourceKeys::of(source),
        }
    }
}

impl SourceFiles for KnownSources {
    fn markdown_files(&self, lang_dir: &Path, root: &Path) -> Result<Vec<(String, PathBuf)>, ContentError> {
        content::markdown_files(lang_dir, root)
    }

    fn load_page(&self, lang: &LangCode, key: &str, path: &Path) -> Result<Arc<SourcePage>, ContentError> {
        self.asked.fetch_add(1, Ordering::Relaxed);
        let page = match self.unchanged(path) {
            Some(known) => Arc::new(SourcePage::known(lang, key, path, known.stamp, &known.page, &self.read)),
            None => {
                self.read.fetch_add(1, Ordering::Relaxed);
                content::load_page(lang, key, path).map(Arc::new)?
            }
        };
        if page.front.draft {
            self.drafts.lock().unwrap_or_else(PoisonError::into_inner).push(Arc::clone(&page));
        }
        Ok(page)
    }
}

impl KnownSources {
    /// What the next build may take of each source of `site` (with `keys`, by source
    /// index) and of each draft without reading it: every file read with a stamp
    /// settled before `read_since`, when the reading began. An original's content hash
    /// is made now (read on demand if the cache did not have it): its translations'
    /// states read it.
    pub(super) fn remember(&self, site: &Site, keys: &[SourceKeys], read_since: SystemTime) -> KnownSourceMap {
        let drafts = self.drafts.lock().unwrap_or_else(PoisonError::into_inner);
        let draft_keys: Vec<SourceKeys> = drafts.iter().map(|draft| self.source_keys_of(draft)).collect();
        let sources = site.sources.iter().zip(keys).chain(drafts.iter().zip(&draft_keys));
        let sources: Vec<(&Arc<SourcePage>, &SourceKeys)> = sources.collect();
        sources
            .into_par_iter()
            .filter_map(|(source, keys)| {
                let stamp = source.stamp.filter(|stamp| stamp.settled_before(read_since))?;
                let path = source.path.to_str()?;
                if source.lang == site.default_language {
                    crate::blocks::content_hash(source);
                }
                let page = source.to_known()?;
                Some((path.to_string(), KnownSource { stamp, page, keys: *keys }))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn en() -> LangCode {
        LangCode::parse("en").unwrap()
    }

    /// A page written to `dir`, read, and what a build long after would keep of it.
    fn kept(dir: &Path, text: &str) -> (PathBuf, SourcePage, KnownSource) {
        let path = dir.join("a.md");
        std::fs::write(&path, text).unwrap();
        let page = content::load_page(&en(), "a.md", &path).unwrap();
        let known =
            KnownSource { stamp: page.stamp.unwrap(), page: page.to_known().unwrap(), keys: SourceKeys::of(&page) };
        (path, page, known)
    }

    #[test]
    fn a_file_with_its_kept_stamp_is_not_read_until_its_text_is_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _, mut known) = kept(dir.path(), "+++\ntitle = \"A\"\n+++\nBody\n");
        // What the cache says wins while the stamp is the same: the title comes from it.
        known.page.front.title = "Kept".to_string();
        let sources = KnownSources::new(FxHashMap::from_iter([(path.to_str().unwrap().to_string(), known)]));
        let page = sources.load_page(&en(), "a.md", &path).unwrap();
        assert_eq!(page.front.title, "Kept");
        assert_eq!(sources.reads().counts(), (0, 1));
        // Asked for, the text is read and checked against the kept hash.
        assert_eq!(page.body(), "Body\n");
        assert!(page.text_problem().is_none());
        assert_eq!(sources.reads().counts(), (1, 1));
    }

    #[test]
    fn a_file_changed_since_is_read_and_one_changed_after_it_was_found_unchanged_fails() {
        let dir = tempfile::tempdir().unwrap();
        let (path, _, known) = kept(dir.path(), "+++\ntitle = \"A\"\n+++\nBody\n");
        let map = FxHashMap::from_iter([(path.to_str().unwrap().to_string(), known)]);
        let sources = KnownSources::new(map.clone());
        let found = sources.load_page(&en(), "a.md", &path).unwrap();

        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&path, "+++\ntitle = \"B\"\n+++\nOther body\n").unwrap();
        // Found unchanged before the write: its text no longer is the one kept.
        assert_eq!(found.body(), "");
        let problem = found.text_problem().unwrap().to_string();
        assert!(problem.contains("a.md") && problem.contains("changed while imrf-site was building"), "{problem}");
        assert_eq!(sources.reads().counts(), (1, 1), "read on demand");
        // Nothing of it is kept, and releasing the text keeps the problem for the build.
        assert!(found.to_known().is_none());
        let mut released = Arc::unwrap_or_clone(found);
        released.release_text();
        assert!(released.text_problem().is_some());

        // A build after the write reads it.
        let sources = KnownSources::new(map);
        let page = sources.load_page(&en(), "a.md", &path).unwrap();
        assert_eq!((page.front.title.as_str(), page.body()), ("B", "Other body\n"));
        assert_eq!(sources.reads().counts(), (1, 1));
    }

    #[test]
    fn keys_are_taken_only_for_a_source_with_the_kept_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let (path, page, known) = kept(dir.path(), "+++\ntitle = \"A\"\n+++\nBody\n");
        let sources = KnownSources::new(FxHashMap::from_iter([(path.to_str().unwrap().to_string(), known.clone())]));
        let kept_keys = |page: &SourcePage| {
            let key = |keys: SourceKeys| postcard::to_stdvec(&keys).unwrap();
            let site_keys = sources.source_keys_of(page);
            key(site_keys) == key(known.keys)
        };
        assert!(kept_keys(&page));
        let mut other = page.clone();
        other.stamp = None;
        other.front.title = "Changed".to_string();
        assert!(!kept_keys(&other), "a source read with another stamp has its own keys");
    }
}
