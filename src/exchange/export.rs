//! `imrf-site translation export LANG`: one file per page, and one for the UI strings,
//! in the format a translator's CAT tool reads (gettext PO or XLIFF 1.2).

use std::path::{Path, PathBuf};

use crate::exchange::catalog::{Catalog, UnitState};
use crate::exchange::units::{self, UI_ORIGINAL};
use crate::exchange::{ExchangeError, Format, language_of};
use crate::site::{Site, SitePaths};

/// What an export wrote.
#[derive(Debug, Default)]
pub struct ExportReport {
    pub files: Vec<PathBuf>,
    pub units: usize,
    pub translated: usize,
    pub outdated: usize,
    pub new: usize,
}

/// Writes the catalogs of `lang` into `output` (default `<root>/translations/<lang>/`).
pub fn export(root: &Path, lang: &str, format: Format, output: Option<&Path>) -> Result<ExportReport, ExchangeError> {
    let (site, _) = Site::load(SitePaths::new(root), None)?;
    let lang = language_of(&site, lang)?;
    let output = output.map_or_else(|| root.join("translations").join(lang.as_str()), Path::to_path_buf);
    let mut catalogs = Vec::new();
    for page in site.pages_in(&site.default_language) {
        if let Some(page_catalog) = units::page_catalog(&site, &lang, &page.key)? {
            catalogs.push(page_catalog.catalog);
        }
    }
    catalogs.extend(units::ui_catalog(&site, &lang));
    std::fs::create_dir_all(&output).map_err(|source| ExchangeError::Write { path: output.clone(), source })?;
    let mut report = ExportReport::default();
    for catalog in &catalogs {
        let path = output.join(file_name(&catalog.original, format));
        let text = match format {
            Format::Po => crate::exchange::po::write(catalog),
            Format::Xliff => crate::exchange::xliff::write(catalog),
        };
        std::fs::write(&path, text).map_err(|source| ExchangeError::Write { path: path.clone(), source })?;
        count(&mut report, catalog);
        report.files.push(path);
    }
    Ok(report)
}

/// `objective-14.md` -> `objective-14.po`; a page in a folder keeps it in the name
/// (`annex/costs.md` -> `annex--costs.po`); the UI strings go to `i18n.po`.
fn file_name(original: &str, format: Format) -> String {
    let stem = if original == UI_ORIGINAL { original } else { original.strip_suffix(".md").unwrap_or(original) };
    format!("{}.{}", stem.replace('/', "--"), format.extension())
}

fn count(report: &mut ExportReport, catalog: &Catalog) {
    for unit in &catalog.units {
        report.units += 1;
        match unit.state {
            UnitState::Translated => report.translated += 1,
            UnitState::Outdated => report.outdated += 1,
            UnitState::New => report.new += 1,
        }
    }
}
