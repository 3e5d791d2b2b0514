//! Runs the pipeline: load the site, render Markdown, load the theme, build assets,
//! render pages, and (for `build`) write the output. `check` runs the same steps
//! without the write, so the two cannot drift apart.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::assets::{self, Assets};
use crate::check::{self, BrokenLink};
use crate::error::{Error, Warning};
use crate::output::{self, OutputFile};
use crate::render;
use crate::search;
use crate::site::{Site, SitePaths};
use crate::templates::{TemplateGlobals, Templates};

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub root: PathBuf,
    pub output: Option<PathBuf>,
    pub base_url: Option<String>,
}

impl BuildOptions {
    pub fn new(root: &Path) -> Self {
        Self { root: root.to_path_buf(), output: None, base_url: None }
    }

    pub fn output_dir(&self) -> PathBuf {
        self.output.clone().unwrap_or_else(|| self.root.join("public"))
    }
}

/// What a finished build reports.
#[derive(Debug)]
pub struct BuildReport {
    pub pages: usize,
    pub languages: usize,
    pub files: usize,
    pub warnings: Vec<Warning>,
    pub elapsed: Duration,
}

impl BuildReport {
    pub fn summary(&self) -> String {
        format!(
            "Built {} pages in {} languages ({} files) in {} ms",
            self.pages,
            self.languages,
            self.files,
            self.elapsed.as_millis()
        )
    }
}

/// The site rendered in memory, ready to write.
pub struct RenderedSite {
    pub site: Site,
    pub files: Vec<OutputFile>,
    pub warnings: Vec<Warning>,
    /// Internal links that lead nowhere: warnings for `build`, errors for `check`.
    pub broken_links: Vec<String>,
}

/// Loads and renders the whole site without writing anything.
pub fn render(options: &BuildOptions) -> Result<RenderedSite, Error> {
    let (site, mut warnings) = Site::load(SitePaths::new(&options.root), options.base_url.as_deref())?;
    let sources = render::render_markdown(&site).map_err(Error::Render)?;
    warnings.extend(sources.warnings(&site));
    let theme_dir = site.paths.theme(&site.config.theme);
    let Assets { files: asset_files, names } = assets::build(&theme_dir)?;
    let search_files = search::build(&site, &sources, &names);
    let globals = TemplateGlobals {
        languages: site.languages.iter().map(|l| (l.code.clone(), l.clone())).collect(),
        base_path: site.base_url.path.clone(),
        assets: names,
    };
    let templates = Templates::load(&theme_dir.join("templates"), globals)?;
    let mut files = render::render_site(&site, &sources, &templates).map_err(Error::Render)?;
    files.extend(asset_files);
    files.extend(search_files);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let broken_links =
        check::broken_links(&files, &site.base_url.path).iter().map(|link| describe_link(&site, link)).collect();
    Ok(RenderedSite { site, files, warnings, broken_links })
}

/// A broken link named by the source file it comes from, where there is one.
fn describe_link(site: &Site, link: &BrokenLink) -> String {
    let source =
        site.pages.iter().find(|p| p.url.output_file() == link.page).map(|p| site.source(p).path.display().to_string());
    match source {
        Some(path) => format!("{path} (published as {}): link to {} {}", link.page, link.href, link.reason),
        None => link.to_string(),
    }
}

/// Builds the site into its output directory.
pub fn build(options: &BuildOptions) -> Result<BuildReport, Error> {
    let started = Instant::now();
    let output_dir = options.output_dir();
    output::check_output_dir(&output_dir, &options.root)?;
    let rendered = render(options)?;
    output::write_site(&output_dir, &options.root, &rendered.files)?;
    let mut warnings = rendered.warnings;
    warnings.extend(rendered.broken_links.into_iter().map(|message| Warning { message }));
    Ok(BuildReport {
        pages: rendered.files.iter().filter(|f| f.path.ends_with(".html")).count(),
        languages: rendered.site.languages.len(),
        files: rendered.files.len(),
        warnings,
        elapsed: started.elapsed(),
    })
}

/// Renders the site again and again for watch mode (`imrf-site serve`).
pub struct Rebuilder {
    options: BuildOptions,
}

impl Rebuilder {
    pub fn new(options: BuildOptions) -> Self {
        Self { options }
    }

    /// Renders the site after the files in `_changed` changed (`_everything`: the first
    /// build, or after the watcher lost track).
    pub fn rebuild(&mut self, _changed: &[PathBuf], _everything: bool) -> Result<RenderedSite, Error> {
        render(&self.options)
    }
}
