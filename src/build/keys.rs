//! Watch mode's memo keys: what each stage reads, hashed (blake3). A key must cover
//! every input of the stage it names, or a rebuild would reuse a stale result: this is
//! where each stage's inputs are listed (`Keys::rendering` follows the contract stated
//! at `render::Renderer::files`). Owns the hashing only; what is remembered under a key
//! is `memo`'s, and when it is reused is `incremental`'s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rayon::prelude::*;

use crate::content::SourcePage;
use crate::i18n::Language;
use crate::render::{GeneratedKind, Rendering};
use crate::site::{Page, Site};
use crate::types::LangCode;

/// A blake3 hash of a stage's inputs.
pub(super) type Key = [u8; 32];

/// The hashes of one source file, remembered with the parsed page (and in the build
/// cache, `known`).
#[derive(Clone, Copy, serde::Serialize, serde::Deserialize)]
pub(super) struct SourceKeys {
    /// Everything the file says: path, front matter and body.
    text: Key,
    /// The part other pages may show: path and front matter.
    front: Key,
}

impl SourceKeys {
    pub(super) fn of(page: &SourcePage) -> Self {
        let front = hash_parts(&[
            page.path.to_string_lossy().as_bytes(),
            page.lang.as_str().as_bytes(),
            page.key.as_bytes(),
            // Serialized rather than `Debug`-formatted: ten times faster on 12,000 pages.
            &postcard::to_stdvec(&page.front).unwrap_or_else(|_| format!("{:?}", page.front).into_bytes()),
        ]);
        // The text as written covers the body and where it starts; its hash is the one
        // the checks and the build cache's record read too, so the body is hashed once.
        // Invariant: keys are made before the text is released (a released text has none).
        let written = page.written_hash().unwrap_or_default();
        let text = hash_parts(&[&front, &written]);
        Self { text, front }
    }
}

/// The memo keys of one build, computed from the loaded site.
pub(super) struct Keys {
    /// What every stage reads: UI strings, config and base URL.
    site: Key,
    /// The site's outline: every page's front matter, URL and translation state.
    pub(super) outline: Key,
    /// By source index: its text and the site key, which is all its Markdown depends on.
    pub(super) markdown: Vec<Key>,
    /// By page index (`page_identity`).
    pages: Vec<Key>,
}

impl Keys {
    /// The keys of `site`, whose sources have `source_keys` (by source index).
    pub(super) fn new(site: &Site, source_keys: &[SourceKeys]) -> Self {
        let site_key = hash_parts(&[
            format!("{:?}", site.languages).as_bytes(),
            format!("{:?}", site.config).as_bytes(),
            format!("{:?}", site.base_url).as_bytes(),
            site.default_language.as_str().as_bytes(),
        ]);
        let pages: Vec<Key> = site.pages.par_iter().map(|page| page_identity(site, page)).collect();
        let mut outline = blake3::Hasher::new();
        outline.update(&site_key);
        for keys in source_keys {
            outline.update(&keys.front);
        }
        for identity in &pages {
            outline.update(identity);
        }
        let markdown = source_keys.par_iter().map(|keys| hash_parts(&[&keys.text, &site_key])).collect();
        Self { site: site_key, outline: *outline.finalize().as_bytes(), markdown, pages }
    }

    /// A language's search index reads its pages, their Markdown, and the stemmer
    /// scripts' URLs: what `search_base` and `search_pages` hash.
    pub(super) fn search(&self, site: &Site, language: &Language, stemmers: &Key) -> Key {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.search_base(language, stemmers));
        for page in self.search_pages(site, language) {
            hasher.update(&page);
        }
        *hasher.finalize().as_bytes()
    }

    /// What a language's search index reads besides its pages: the site, the stemmer
    /// scripts' URLs, the language.
    pub(super) fn search_base(&self, language: &Language, stemmers: &Key) -> Key {
        hash_parts(&[&self.site, stemmers, language.code.as_str().as_bytes()])
    }

    /// What each page of a language's search index is made from, in the site's order:
    /// the page (`page_identity`) and its source's Markdown.
    pub(super) fn search_pages(&self, site: &Site, language: &Language) -> Vec<Key> {
        site.pages
            .iter()
            .zip(&self.pages)
            .filter(|(page, _)| page.lang == language.code)
            .map(|(page, identity)| hash_parts(&[identity, &self.markdown[page.source]]))
            .collect()
    }

    /// A rendering reads the outline and the templates, its language's downloads (a
    /// PDF's size), a page its own source's Markdown, and a references page its
    /// language's pages' footnotes (`footnotes`, by source; see `render::Renderer::files`).
    pub(super) fn rendering(
        &self,
        site: &Site,
        rendering: &Rendering,
        theme: &Key,
        footnotes: &[Key],
        downloads: &BTreeMap<LangCode, Key>,
    ) -> Key {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&self.outline);
        hasher.update(theme);
        let language = match rendering {
            Rendering::Page(_, page) => Some(&page.lang),
            Rendering::Generated(language, _) => Some(&language.code),
            Rendering::LanguagePicker | Rendering::RootNotFound => None,
        };
        if let Some(download) = language.and_then(|code| downloads.get(code)) {
            hasher.update(download);
        }
        match rendering {
            Rendering::Page(index, page) => {
                hasher.update(&self.pages[*index]);
                hasher.update(&self.markdown[page.source]);
            }
            Rendering::Generated(language, kind) => {
                hasher.update(&hash_parts(&[b"generated", language.code.as_str().as_bytes(), kind.slug().as_bytes()]));
                if *kind == GeneratedKind::References {
                    for page in site.pages_in(&language.code) {
                        hasher.update(footnotes.get(page.source).unwrap_or(&Key::default()));
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

pub(super) use crate::hashes::hash_parts;

pub(super) fn hash_debug(value: &impl std::fmt::Debug) -> Key {
    hash_parts(&[format!("{value:?}").as_bytes()])
}

/// Every file below `dirs` (path and bytes), in a stable order. Only regular files are
/// read (a FIFO would block); others, and unreadable files, count by their path and
/// error, so that the stage that reads them reports the problem.
pub(super) fn hash_files(dirs: &[PathBuf]) -> Key {
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
