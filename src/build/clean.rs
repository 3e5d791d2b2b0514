//! `imrf-site build`: the one-shot clean build into the output directory. Each batch of
//! pages and each language's search index goes to the staging directory as soon as it
//! is made (`StagedWriter`), and only its links and language alternates stay in memory
//! for the final checks, so a large site is never held whole; the Markdown's text and
//! HTML are freed as soon as nothing reads them any more. Remembers nothing between
//! builds: that is watch mode's (`incremental`).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use super::pdfs::{PdfMemo, typeset_pdfs};
use super::stages::{BuildOptions, Prepared, describe_link_problems, precache, prepare, stemmer_urls, theme_dir};
use crate::assets;
use crate::check::{self, PageLinks};
use crate::diagnostic::Warning;
use crate::error::Error;
use crate::hreflang::{self, PageAlternates};
use crate::i18n::Language;
use crate::offline::Precache;
use crate::output::{OutputFile, Staging};
use crate::render::{self, RenderedSources};
use crate::search;
use crate::site::{Site, SitePaths};
use crate::types::LangCode;

/// What a finished build reports.
#[derive(Debug)]
pub struct BuildReport {
    pub(crate) pages: usize,
    pub(crate) languages: usize,
    pub(crate) files: usize,
    pub warnings: Vec<Warning>,
    pub(crate) elapsed: Duration,
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

/// Renderings per batch in `build`: enough to keep every thread busy, few enough that
/// the rendered pages of a large site are never in memory all at once.
const WRITE_BATCH: usize = 256;

/// Builds the site into its output directory. The same stages as `render`, but each
/// batch of files goes to the staging directory as soon as it is made, and only its
/// links and alternates stay in memory for the final checks: a large site is never held
/// whole.
pub fn build(options: &BuildOptions) -> Result<BuildReport, Error> {
    let started = Instant::now();
    let staging = Staging::begin(&options.output_dir(), &options.root)?;
    let (site, warnings) = Site::load(SitePaths::new(&options.root), options.base_url.as_deref())?;
    let assets = assets::build(&theme_dir(&site))?;
    // Pages show each PDF's size, so the PDFs are made first.
    let pdfs = typeset_pdfs(&site, &mut PdfMemo::default())?;
    let Prepared { mut site, mut warnings, mut sources, templates } =
        prepare(site, warnings, &|_| None, &assets.names, pdfs.downloads)?;
    warnings.extend(pdfs.warnings);
    // The note as open data reads the Markdown as written, so it is made first.
    let note_data = render::note_data_files(&site);
    // Rendered, and its warnings located: the Markdown text is read no more.
    site.release_source_text();
    // The pages are written once, never rewritten when asset names change.
    let templates = templates.without_asset_links();
    let precache = precache(&site, &assets.names);
    let mut writer =
        StagedWriter { staging: &staging, links: Vec::new(), alternates: Vec::new(), precache: precache.as_ref() };
    let renderer = render::Renderer::new(&site, &sources, &templates);
    let stemmers = stemmer_urls(&assets.names);
    // The first language's search index is made while the pages render: each fills the
    // other's waits (folders made one by one, the index's merges), 4 % of the wall time
    // at 12,000 pages. Only the first: every index at once held 170 MiB more.
    let (pages, first_index) = rayon::join(
        || write_pages(&site, &renderer, &mut writer),
        || {
            site.languages
                .first()
                .map_or(Ok(()), |first| write_index(&site, &sources, &stemmers, first, &staging, precache.as_ref()))
        },
    );
    pages?;
    first_index?;
    writer.write(renderer.site_maps())?;
    writer.write(note_data)?;
    writer.write(pdfs.files.into_iter().map(OutputFile::from).collect())?;
    sources.release_html();
    writer.write(assets.files)?;
    let last_reader = last_index_reading(&site);
    sources.release_text(|source| last_reader[source] == 0);
    for (position, language) in site.languages.iter().enumerate().skip(1) {
        write_index(&site, &sources, &stemmers, language, &staging, precache.as_ref())?;
        sources.release_text(|source| last_reader[source] <= position);
    }
    let StagedWriter { links, alternates, .. } = writer;
    if let Some(precache) = &precache {
        staging.write(&precache.service_workers())?;
    }
    let paths = staging.finish()?;
    let broken = check::broken_links_among(&links, paths.iter().map(String::as_str), &site.base_url.path);
    let clusters =
        hreflang::problems_among(&alternates, paths.iter().map(String::as_str), &site.base_url.absolute("/"));
    let problems = describe_link_problems(&site, &broken, &clusters);
    warnings.extend(problems.into_iter().map(|message| Warning { message }));
    Ok(BuildReport {
        pages: paths.iter().filter(|path| path.ends_with(".html")).count(),
        languages: site.languages.len(),
        files: paths.len(),
        warnings,
        elapsed: started.elapsed(),
    })
}

/// Renders every page and generated page, writing them batch by batch. After an error,
/// the rest is still rendered for its errors, not written.
fn write_pages(site: &Site, renderer: &render::Renderer, writer: &mut StagedWriter) -> Result<(), Error> {
    let mut errors = Vec::new();
    for batch in render::renderings(site).chunks(WRITE_BATCH) {
        match renderer.files(batch) {
            Ok(rendered) if errors.is_empty() => writer.write(rendered.into_iter().map(|(file, _)| file).collect())?,
            Ok(_) => {}
            Err(batch_errors) => errors.extend(batch_errors),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Error::Render(errors)) }
}

/// One language's search index, written to the staging directory part by part.
fn write_index(
    site: &Site,
    sources: &RenderedSources,
    stemmers: &BTreeMap<String, String>,
    language: &Language,
    staging: &Staging,
    precache: Option<&Precache>,
) -> Result<(), Error> {
    search::index_language(site, sources, stemmers, language, &mut |files| {
        staging.write(&files)?;
        if let Some(precache) = precache {
            precache.record_files(&files);
        }
        Ok(())
    })
}

/// For each source (by index), the place in `site.languages` of the last language whose
/// search index reads its text: after that one, the text can go. A page in one
/// language may show another's source (a translation not made yet shows the original).
fn last_index_reading(site: &Site) -> Vec<usize> {
    let positions: HashMap<&LangCode, usize> =
        site.languages.iter().enumerate().map(|(position, language)| (&language.code, position)).collect();
    let mut last = vec![0; site.sources.len()];
    for page in &site.pages {
        let position = positions.get(&page.lang).copied().unwrap_or_default();
        last[page.source] = last[page.source].max(position);
    }
    last
}

/// Writes `build`'s batches, keeping what the link and alternates checks need of them,
/// and what the offline workers need (`Precache`), when the site offers them.
struct StagedWriter<'s> {
    staging: &'s Staging,
    links: Vec<PageLinks>,
    alternates: Vec<PageAlternates>,
    precache: Option<&'s Precache>,
}

impl StagedWriter<'_> {
    fn write(&mut self, files: Vec<OutputFile>) -> Result<(), Error> {
        self.staging.write(&files)?;
        if let Some(precache) = self.precache {
            precache.record_files(&files);
        }
        self.links.par_extend(files.par_iter().filter_map(PageLinks::of));
        self.alternates.par_extend(files.par_iter().filter_map(PageAlternates::of));
        Ok(())
    }
}
