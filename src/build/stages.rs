//! The steps every way of building runs alike (`build`, `render` and watch mode's
//! `Rebuilder`): the options they are given, `prepare` (the loaded site's Markdown
//! rendered, its warnings collected, its templates loaded), the stemmer scripts' URLs
//! the search index is given, and broken links named by their source file. Sharing them
//! is what keeps the three from drifting apart. Owns no memo and writes nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::BrokenLink;
use crate::diagnostic::Warning;
use crate::error::Error;
use crate::hreflang::HreflangProblem;
use crate::markdown::Rendered;
use crate::offline::Precache;
use crate::render::{self, MarkdownSummary, RenderedSources};
use crate::site::Site;
use crate::templates::{Downloads, TemplateGlobals, Templates};
use crate::types::LangCode;

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub root: PathBuf,
    pub output: Option<PathBuf>,
    pub base_url: Option<String>,
    /// Where `build` keeps what the next build can reuse.
    pub cache: Cache,
}

/// Where `build` keeps its cache (`crate::cache`); watch mode keeps its own in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cache {
    /// `<root>/.imrf-site-cache`.
    Default,
    In(PathBuf),
    /// `--no-cache`: everything made anew, nothing kept.
    Off,
}

impl BuildOptions {
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_path_buf(), output: None, base_url: None, cache: Cache::Default }
    }

    pub fn output_dir(&self) -> PathBuf {
        self.output.clone().unwrap_or_else(|| self.root.join("public"))
    }

    /// The build cache's folder, unless it is off.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        match &self.cache {
            Cache::Default => Some(self.root.join(".imrf-site-cache")),
            Cache::In(dir) => Some(dir.clone()),
            Cache::Off => None,
        }
    }
}

/// What every build reads and makes before rendering pages: the site loaded (by
/// `Site::load_with`), its Markdown rendered and its templates loaded (`prepare`).
pub(super) struct Prepared {
    pub(super) site: Site,
    pub(super) warnings: Vec<Warning>,
    pub(super) sources: RenderedSources,
    pub(super) templates: Templates,
}

/// Renders the loaded site's Markdown (except what `reuse` hands back, by source index,
/// and what `later` has a summary of: rendered when read) and loads the templates,
/// which name the assets by `asset_names` and link each language's `downloads`. The
/// alignment and glossary checks are the caller's: watch mode makes them after the
/// pages are published.
pub(super) fn prepare(
    site: Site,
    mut warnings: Vec<Warning>,
    reuse: &(dyn Fn(usize) -> Option<Arc<Rendered>> + Sync),
    later: &(dyn Fn(usize) -> Option<Arc<MarkdownSummary>> + Sync),
    asset_names: &BTreeMap<String, String>,
    downloads: BTreeMap<LangCode, Downloads>,
) -> Result<Prepared, Error> {
    let sources = render::render_markdown(&site, reuse, later).map_err(Error::Render)?;
    warnings.extend(sources.warnings(&site));
    let globals = TemplateGlobals {
        languages: site.languages.iter().map(|l| (l.code.clone(), l.clone())).collect(),
        base_path: site.base_url.path.clone(),
        assets: asset_names.clone(),
        citation: site.config.citation.clone(),
        downloads,
        offline: site.config.offline,
    };
    let templates = Templates::load(&theme_dir(&site).join("templates"), globals)?;
    Ok(Prepared { site, warnings, sources, templates })
}

pub(super) fn theme_dir(site: &Site) -> PathBuf {
    site.paths.theme(&site.config.theme)
}

/// What the offline workers are made from, when the site offers them (`offline`).
pub(super) fn precache(site: &Site, asset_names: &BTreeMap<String, String>) -> Option<Precache> {
    let languages = site.languages.iter().map(|language| language.code.as_str());
    let assets = asset_names.values().map(String::as_str);
    site.config.offline.then(|| Precache::new(&site.base_url.path, languages, assets))
}

/// The stemmer scripts (`stem-english.js`) among the asset names, with their URLs: all
/// the search manifest names of the assets.
pub(super) fn stemmer_urls(names: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let is_stemmer = |name: &str| name.starts_with("stem-") && name.ends_with(".js");
    names.iter().filter(|(name, _)| is_stemmer(name)).map(|(n, p)| (n.clone(), p.clone())).collect()
}

/// One broken link or alternate: the output file it is in, and what is wrong with it.
/// What the build cache keeps of the last build's link checks (`link_checks`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct PageProblem {
    page: String,
    what: String,
}

/// Broken links, then language alternates that break their cluster, in that order.
pub(super) fn page_problems(links: &[BrokenLink], alternates: &[HreflangProblem]) -> Vec<PageProblem> {
    let links = links
        .iter()
        .map(|link| PageProblem { page: link.page.clone(), what: format!("link to {} {}", link.href, link.reason) });
    let alternates = alternates.iter().map(|problem| PageProblem { page: problem.page.clone(), what: problem.what() });
    links.chain(alternates).collect()
}

/// `problems`, each named by the source file of the page it is in, where there is one
/// (the file a person edits). The pages are indexed by output file once: a large site
/// can have thousands of them.
pub(super) fn describe_page_problems(site: &Site, problems: &[PageProblem]) -> Vec<String> {
    if problems.is_empty() {
        return Vec::new();
    }
    let sources: HashMap<String, &Path> =
        site.pages.iter().map(|p| (p.url.output_file(), site.source(p).path.as_path())).collect();
    let described = |PageProblem { page, what }: &PageProblem| match sources.get(page) {
        Some(path) => format!("{} (published as {page}): {what}", path.display()),
        None => format!("{page}: {what}"),
    };
    problems.iter().map(described).collect()
}

/// `page_problems`, described (`describe_page_problems`).
pub(super) fn describe_link_problems(site: &Site, links: &[BrokenLink], alternates: &[HreflangProblem]) -> Vec<String> {
    describe_page_problems(site, &page_problems(links, alternates))
}
