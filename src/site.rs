//! Builds the `Site` model from the loaded parts: which languages exist, which page is
//! published at which URL in each language, and whether that page is the original, a
//! translation (current or outdated), or the default language's text standing in for a
//! missing translation. Plain data: rendering reads it, nothing mutates it afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{BaseUrl, Config};
use crate::content::{self, ContentError, PageKind, SourcePage};
use crate::diagnostic::{Location, Warning};
use crate::glossary::{self, Glossary};
use crate::i18n::{self, Language};
use crate::types::{LangCode, UrlPath};

/// Where the source folders of a site are.
#[derive(Debug, Clone)]
pub struct SitePaths {
    pub root: PathBuf,
}

impl SitePaths {
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_path_buf() }
    }
    pub fn site(&self) -> PathBuf {
        self.root.join("site")
    }
    pub fn content(&self) -> PathBuf {
        self.root.join("site").join("content")
    }
    pub fn i18n(&self) -> PathBuf {
        self.root.join("i18n")
    }
    pub fn theme(&self, name: &str) -> PathBuf {
        self.root.join("themes").join(name)
    }
}

/// How a published page relates to its source in the default language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Translation {
    /// The default language's own page.
    Original,
    /// A translation stamped with the current source's hash.
    Current,
    /// A translation stamped with an older version of the source.
    Outdated,
    /// A translation that records no source version yet.
    Unstamped,
    /// No translation: the default language's text is shown.
    Missing,
    /// A page that exists only in this language.
    Orphan,
}

/// One page as published in one language.
#[derive(Debug, Clone)]
pub struct Page {
    pub lang: LangCode,
    pub key: String,
    pub url: UrlPath,
    /// Index into `Site::sources` of the text shown (the default language's for `Missing`).
    pub source: usize,
    pub translation: Translation,
}

#[derive(Debug)]
pub struct Site {
    pub paths: SitePaths,
    pub config: Config,
    pub base_url: BaseUrl,
    pub default_language: LangCode,
    /// The default language first, then the others by code.
    pub languages: Vec<Language>,
    /// Shared with watch mode's memo, which hands back unchanged pages without a copy.
    pub sources: Vec<Arc<SourcePage>>,
    /// Each language's official terms, for the languages that have a glossary.
    pub glossaries: BTreeMap<LangCode, Glossary>,
    /// Every published page: by language (in `languages` order), then by key.
    pub pages: Vec<Page>,
}

/// What stops the site from loading: its config, its UI strings or glossaries, or its
/// pages (every bad page at once).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    I18n(#[from] crate::i18n::I18nError),
    #[error("{}", crate::diagnostic::join_lines(.0))]
    Content(Vec<ContentError>),
}

/// URLs the generator publishes itself in every language.
pub const GENERATED_PAGES: [&str; 3] = ["guiding-questions", "references", "search"];

impl Site {
    /// Loads config, UI strings and content, and decides what is published where.
    pub fn load(paths: SitePaths, base_url_override: Option<&str>) -> Result<(Site, Vec<Warning>), LoadError> {
        Self::load_with(paths, base_url_override, &FromDisk)
    }

    /// `load`, listing and reading pages through `files`: watch mode (`build::Rebuilder`)
    /// answers from its memo for what did not change.
    pub fn load_with(
        paths: SitePaths,
        base_url_override: Option<&str>,
        files: &dyn SourceFiles,
    ) -> Result<(Site, Vec<Warning>), LoadError> {
        let config_path = paths.site().join("config.toml");
        let mut config = Config::load(&paths.site())?;
        if let Some(url) = base_url_override {
            config.base_url = url.to_string();
        }
        let base_url = config.base_url(&config_path)?;
        let codes = content::discover_languages(&paths.content()).map_err(LoadError::Content)?;
        let default_language = config.default_language.clone();
        if !codes.contains(&default_language) {
            return Err(LoadError::Content(vec![ContentError::Invalid {
                location: Location::file(&config_path),
                message: format!(
                    "default_language is `{default_language}` but there is no folder {}",
                    paths.content().join(default_language.as_str()).display()
                ),
            }]));
        }
        let i18n_set = i18n::load(&paths.i18n(), &codes, &default_language)?;
        let mut warnings = i18n_set.warnings;
        let glossaries = glossary::load(&paths.i18n(), &codes, &default_language)?;
        warnings.extend(glossaries.warnings);
        let mut languages: Vec<Language> = i18n_set.languages.into_values().collect();
        languages.sort_by_key(|l| (l.code != default_language, l.code.clone()));

        let sources = load_sources(&paths, &languages, files)?;
        let pages = publish(&sources, &languages, &default_language, &mut warnings)?;
        warnings.extend(translation_warnings(&pages, &sources, &default_language));
        warnings.sort();
        let glossaries = glossaries.by_language;
        let site = Site { paths, config, base_url, default_language, languages, sources, glossaries, pages };
        Ok((site, warnings))
    }

    pub fn language(&self, code: &LangCode) -> Option<&Language> {
        self.languages.iter().find(|l| &l.code == code)
    }

    pub fn default_lang(&self) -> &Language {
        // Invariant: `load` checks that the default language has a content folder,
        // and every content folder has a `Language`, sorted first.
        &self.languages[0]
    }

    pub fn source(&self, page: &Page) -> &SourcePage {
        &self.sources[page.source]
    }

    /// The default language's page `key`: the original its translations follow.
    pub fn original(&self, key: &str) -> Option<&SourcePage> {
        self.pages_in(&self.default_language).find(|p| p.key == key).map(|p| self.source(p))
    }

    /// A source file's path from the content folder, `/`-separated (`en/objective-14.md`),
    /// as stamps and translators' notes name it.
    pub fn content_path(&self, path: &Path) -> String {
        let relative = path.strip_prefix(self.paths.content()).unwrap_or(path);
        relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
    }

    /// Frees the Markdown and front matter text of every source, once it is rendered and
    /// its warnings are located: a clean build, which writes as it goes, reads only the
    /// rendering after that (the content hashes that translation states needed were made
    /// while loading).
    pub fn release_source_text(&mut self) {
        for source in &mut self.sources {
            // A page the memo shares keeps its text: only a clean build, which shares
            // none, calls this.
            if let Some(source) = Arc::get_mut(source) {
                source.release_text();
            }
        }
    }

    /// The sources whose text could not be read as the build cache knew it, when asked
    /// for (`SourcePage::text_problem`): a build that read one as empty must fail.
    pub fn text_problems(&self) -> Vec<ContentError> {
        self.sources.iter().filter_map(|source| source.text_problem()).collect()
    }

    pub fn pages_in<'a>(&'a self, lang: &'a LangCode) -> impl Iterator<Item = &'a Page> + 'a {
        self.pages.iter().filter(move |p| &p.lang == lang)
    }

    /// The objective pages of a language, in their order (weight, then number).
    pub fn objectives_in<'a>(&'a self, lang: &'a LangCode) -> Vec<&'a Page> {
        let mut objectives: Vec<&Page> =
            self.pages_in(lang).filter(|p| self.source(p).front.kind == PageKind::Objective).collect();
        objectives.sort_by_key(|p| {
            let front = &self.source(p).front;
            (front.weight.unwrap_or(i64::MAX), front.objective)
        });
        objectives
    }
}

/// Where `Site::load_with` finds the pages: on disk (`FromDisk`), or in a memo of them.
pub trait SourceFiles: Sync {
    /// Every Markdown file under a language folder: `content::markdown_files`.
    fn markdown_files(&self, lang_dir: &Path, root: &Path) -> Result<Vec<(String, PathBuf)>, ContentError>;
    /// Reads and parses one page: `content::load_page`.
    fn load_page(&self, lang: &LangCode, key: &str, path: &Path) -> Result<Arc<SourcePage>, ContentError>;
}

/// Every page listed and read from disk.
pub struct FromDisk;

impl SourceFiles for FromDisk {
    fn markdown_files(&self, lang_dir: &Path, root: &Path) -> Result<Vec<(String, PathBuf)>, ContentError> {
        content::markdown_files(lang_dir, root)
    }

    fn load_page(&self, lang: &LangCode, key: &str, path: &Path) -> Result<Arc<SourcePage>, ContentError> {
        content::load_page(lang, key, path).map(Arc::new)
    }
}

fn load_sources(
    paths: &SitePaths,
    languages: &[Language],
    files: &dyn SourceFiles,
) -> Result<Vec<Arc<SourcePage>>, LoadError> {
    let mut listed = Vec::new();
    for language in languages {
        let lang_dir = paths.content().join(language.code.as_str());
        let found = files.markdown_files(&lang_dir, &paths.root).map_err(|e| LoadError::Content(vec![e]))?;
        listed.extend(found.into_iter().map(|(key, path)| (&language.code, key, path)));
    }
    let results: Vec<Result<Arc<SourcePage>, ContentError>> =
        listed.par_iter().map(|(lang, key, path)| files.load_page(lang, key, path)).collect();
    let mut sources = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(page) if !page.front.draft => sources.push(page),
            Ok(_) => {}
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() { Ok(sources) } else { Err(LoadError::Content(errors)) }
}

/// The URL of the page `page` in language `lang` (a fallback page takes the original's
/// key and front matter, and the reader's language).
pub fn page_url(lang: &LangCode, page: &SourcePage) -> UrlPath {
    let lang = lang.as_str();
    if let (PageKind::Objective, Some(number)) = (page.front.kind, page.front.objective) {
        return UrlPath::page([lang, &format!("objective-{number}")]);
    }
    let stem = page.key.strip_suffix(".md").unwrap_or(&page.key);
    let stem = stem.strip_suffix("_index").unwrap_or(stem).trim_end_matches('/');
    UrlPath::page(std::iter::once(lang).chain(stem.split('/')))
}

fn publish(
    sources: &[Arc<SourcePage>],
    languages: &[Language],
    default: &LangCode,
    warnings: &mut Vec<Warning>,
) -> Result<Vec<Page>, LoadError> {
    let mut by_lang: BTreeMap<&LangCode, BTreeMap<&str, usize>> = BTreeMap::new();
    for (index, source) in sources.iter().enumerate() {
        by_lang.entry(&source.lang).or_default().insert(&source.key, index);
    }
    let empty = BTreeMap::new();
    let originals = by_lang.get(default).unwrap_or(&empty);
    let mut pages = Vec::new();
    let mut errors = Vec::new();
    for language in languages {
        let own = by_lang.get(&language.code).unwrap_or(&empty);
        let keys: BTreeSet<&str> = originals.keys().chain(own.keys()).copied().collect();
        let mut urls: BTreeMap<UrlPath, PathBuf> = BTreeMap::new();
        for key in keys {
            let (source, translation) = match (own.get(key), originals.get(key)) {
                (Some(&own_index), _) if &language.code == default => (own_index, Translation::Original),
                (Some(&own_index), Some(&original)) => {
                    if let Some(error) = question_mismatch(&sources[own_index], &sources[original]) {
                        errors.push(error);
                    }
                    (own_index, translation_state(&sources[own_index], &sources[original]))
                }
                (Some(&own_index), None) => {
                    let page = &sources[own_index];
                    if page.front.source_hash.is_some() {
                        errors.push(ContentError::Invalid {
                            location: Location::file(&page.path),
                            message: format!(
                                "this translation is stamped with source_hash, but {default} has no page `{key}` to translate from"
                            ),
                        });
                    }
                    warnings.push(Warning {
                        message: format!(
                            "{}: orphan page: {default} has no page `{key}`; it is published in {} only",
                            page.path.display(),
                            language.code
                        ),
                    });
                    (own_index, Translation::Orphan)
                }
                (None, Some(&original)) => (original, Translation::Missing),
                (None, None) => continue,
            };
            let shown = &sources[source];
            let url = page_url(&language.code, shown);
            if let Some(first) = urls.insert(url.clone(), shown.path.clone()) {
                errors.push(ContentError::DuplicateUrl { url: url.to_string(), first, second: shown.path.clone() });
            }
            pages.push(Page { lang: language.code.clone(), key: key.to_string(), url, source, translation });
        }
        for generated in GENERATED_PAGES {
            let url = UrlPath::page([language.code.as_str(), generated]);
            if let Some(path) = urls.get(&url) {
                errors.push(ContentError::Invalid {
                    location: Location::file(path),
                    message: format!("{url} is a page the generator makes itself; rename this file"),
                });
            }
        }
    }
    if errors.is_empty() { Ok(pages) } else { Err(LoadError::Content(errors)) }
}

/// Guiding-question anchors are shared by every language (links and search land on
/// them), so a translation must keep the original's ids, in order.
fn question_mismatch(translation: &SourcePage, original: &SourcePage) -> Option<ContentError> {
    let ids = |page: &SourcePage| page.front.questions.iter().map(|q| q.id.clone()).collect::<Vec<_>>();
    let (translated, expected) = (ids(translation), ids(original));
    (translated != expected).then(|| ContentError::Invalid {
        location: Location::file(&translation.path),
        message: format!(
            "guiding question ids [{}] differ from the original's [{}] in {}; keep the original's ids",
            translated.join(", "),
            expected.join(", "),
            original.path.display()
        ),
    })
}

fn translation_state(translation: &SourcePage, original: &SourcePage) -> Translation {
    match &translation.front.source_hash {
        None => Translation::Unstamped,
        Some(hash) if hash == crate::blocks::content_hash(original) => Translation::Current,
        Some(_) => Translation::Outdated,
    }
}

/// What a build tells translators: each outdated page, and per language the pages not
/// translated yet and the translations that record no source version.
fn translation_warnings(pages: &[Page], sources: &[Arc<SourcePage>], default: &LangCode) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let mut missing: BTreeMap<&LangCode, Vec<&str>> = BTreeMap::new();
    let mut unstamped: BTreeMap<&LangCode, Vec<&str>> = BTreeMap::new();
    for page in pages {
        match page.translation {
            Translation::Outdated => warnings.push(Warning {
                message: format!(
                    "{}: outdated translation: the {default} original changed since it was translated (`imrf-site status` shows which blocks, word by word); update them, then run `imrf-site status --stamp {}/{}`",
                    sources[page.source].path.display(),
                    page.lang,
                    page.key
                ),
            }),
            Translation::Missing => missing.entry(&page.lang).or_default().push(&page.key),
            Translation::Unstamped => unstamped.entry(&page.lang).or_default().push(&page.key),
            Translation::Original | Translation::Current | Translation::Orphan => {}
        }
    }
    for (lang, keys) in missing {
        warnings.push(Warning {
            message: format!(
                "{lang}: {} page(s) not translated yet, shown in {default}: {}",
                keys.len(),
                some_of(&keys)
            ),
        });
    }
    for (lang, keys) in unstamped {
        warnings.push(Warning {
            message: format!(
                "{lang}: {} translation(s) record no source version, so changes to the original cannot be detected: {} (run `imrf-site status --stamp {lang}` once they are up to date)",
                keys.len(),
                some_of(&keys)
            ),
        });
    }
    warnings
}

/// How many pages a warning names before it counts the rest: a site with thousands of
/// untranslated pages would otherwise print a line of thousands of names on every build.
const NAMED_PAGES: usize = 10;

/// The first `NAMED_PAGES` of `keys`, and how many more there are.
fn some_of(keys: &[&str]) -> String {
    let named = keys[..keys.len().min(NAMED_PAGES)].join(", ");
    match keys.len().saturating_sub(NAMED_PAGES) {
        0 => named,
        more => format!("{named} and {more} more (`imrf-site status` lists them all)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_of_pages_are_cut_and_counted() {
        assert_eq!(some_of(&["a.md", "b.md"]), "a.md, b.md");
        let keys: Vec<String> = (1..=12).map(|n| format!("p{n}.md")).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        assert_eq!(some_of(&keys[..10]), keys[..10].join(", "));
        assert_eq!(
            some_of(&keys),
            "p1.md, p2.md, p3.md, p4.md, p5.md, p6.md, p7.md, p8.md, p9.md, p10.md and 2 more (`imrf-site status` lists them all)"
        );
    }
}
