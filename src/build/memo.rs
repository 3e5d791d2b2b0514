//! What watch mode remembers between builds (`Memo`), each result by the key of its
//! inputs (`keys`): parsed pages and each language folder's listing (handed back to
//! `Site::load_with` through `MemoFiles` until a change could alter them), rendered
//! Markdown, assets, every file rendered through a template, and each language's search
//! index; and `SharedFile`, the file whose bytes the memo, its builds and the server
//! share. Decides what to forget after a change; when to reuse is `incremental`'s.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use bytes::Bytes;
use rayon::prelude::*;

use super::keys::{Key, Keys, SourceKeys};
use super::pdfs::PdfMemo;
use crate::assets::Assets;
use crate::check;
use crate::content::{self, ContentError, SourcePage};
use crate::markdown::Rendered;
use crate::output::OutputFile;
use crate::render::RenderedSources;
use crate::search::TermsMemo;
use crate::site::{Site, SourceFiles};
use crate::templates::{AssetLinks, Templates};
use crate::types::LangCode;

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
        Self { path: file.path.into(), bytes: file.bytes }
    }
}

impl From<SharedFile> for OutputFile {
    fn from(file: SharedFile) -> Self {
        Self::new(file.path.to_string(), file.bytes)
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

/// The site's pages as `memo` remembers them (unchanged files), or as read from disk
/// (and then remembered).
pub(super) struct MemoFiles<'m> {
    pub(super) memo: &'m Memo,
}

impl SourceFiles for MemoFiles<'_> {
    fn markdown_files(&self, lang_dir: &Path, root: &Path) -> Result<Vec<(String, PathBuf)>, ContentError> {
        let mut listings = self.memo.listings.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(listing) = listings.get(lang_dir) {
            return Ok(listing.clone());
        }
        let listing = content::markdown_files(lang_dir, root)?;
        listings.insert(lang_dir.to_path_buf(), listing.clone());
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
        let keys = SourceKeys::of(&page);
        sources.write().unwrap_or_else(PoisonError::into_inner).insert(path.to_path_buf(), (page.clone(), keys));
        Ok(page)
    }
}

/// Each language folder's Markdown files (`content::markdown_files`), by folder.
type Listings = HashMap<PathBuf, Vec<(String, PathBuf)>>;

/// What watch mode remembers between builds (see `Rebuilder`).
#[derive(Default)]
pub(super) struct Memo {
    /// Parsed pages by file, with the hashes of their text and front matter.
    sources: RwLock<HashMap<PathBuf, (Arc<SourcePage>, SourceKeys)>>,
    listings: Mutex<Listings>,
    pub(super) markdown: HashMap<Key, Arc<Rendered>>,
    /// A hash of the footnotes of the Markdown of the same key.
    footnotes: HashMap<Key, Key>,
    pub(super) assets: Option<(Key, Assets)>,
    /// The sitemap and robots.txt, by the outline key.
    pub(super) site_maps: Option<(Key, Vec<SharedFile>)>,
    /// The asset names every file in `rendered` holds the URLs of.
    asset_names: BTreeMap<String, String>,
    /// One language's search index files.
    pub(super) search: HashMap<Key, Vec<SharedFile>>,
    /// Each language's pages' search terms, for the language's next index (`TermsMemo`).
    pub(super) search_memos: HashMap<LangCode, TermsMemo>,
    /// The last finished build's offline workers, made from every file, search index included.
    pub(super) service_workers: Vec<SharedFile>,
    /// One file rendered through a template (a page, a generated page).
    pub(super) rendered: HashMap<Key, MemoFile>,
    /// The fonts and each language's PDF.
    pub(super) pdfs: PdfMemo,
}

/// A file rendered through a template, and the asset URLs it holds.
#[derive(Clone)]
pub(super) struct MemoFile {
    pub(super) file: SharedFile,
    pub(super) assets: AssetLinks,
}

impl Memo {
    /// Each source's keys, by index: remembered, or computed for a page read anew.
    pub(super) fn source_keys(&self, site: &Site) -> Vec<SourceKeys> {
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
    pub(super) fn forget_files(&mut self, changed: &[PathBuf]) {
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
    pub(super) fn rebind(&mut self, keys: &[Key], templates: &Templates, names: &BTreeMap<String, String>) {
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
    pub(super) fn footnote_keys(&self, keys: &Keys, sources: &RenderedSources) -> Vec<Key> {
        keys.markdown
            .par_iter()
            .enumerate()
            .map(|(index, key)| {
                let kept = self.footnotes.get(key).copied();
                kept.unwrap_or_else(|| sources.footnotes_key(index))
            })
            .collect()
    }

    /// Keeps this build's rendered Markdown and its footnotes' hashes (and only those:
    /// what the site no longer has goes).
    pub(super) fn remember_markdown(&mut self, keys: &Keys, sources: &RenderedSources, footnotes: &[Key]) {
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
