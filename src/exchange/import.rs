//! `imrf-site translation import LANG FILE...`: translations from a CAT tool written back
//! into `site/content/LANG/` and `i18n/LANG.toml`. Every file is read and checked before
//! anything is written: a file whose units are not the original's of today, a tag the
//! translator removed or added, a unit that does not exist, each stops the import with
//! the file and line, and nothing is written. A unit is written only where its
//! translation changed, so importing an unchanged export changes no byte; an empty
//! translation never replaces one, and a unit still marked fuzzy (outdated) is left as
//! it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::blocks::{Unit, UnitKind, normalized};
use crate::diagnostic::Location;
use crate::exchange::catalog::{Catalog, CatalogUnit, UnitState};
use crate::exchange::units::{self, PageCatalog, UI_ORIGINAL};
use crate::exchange::{ExchangeError, Format, language_of};
use crate::site::{Site, SitePaths};
use crate::types::LangCode;

/// What an import changed.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Files written, with how many units changed in each.
    pub written: Vec<(PathBuf, usize)>,
    /// Units not imported because they are still marked fuzzy, by file.
    pub fuzzy: Vec<(PathBuf, Vec<String>)>,
    /// New pages not written because some of their units are not translated yet.
    pub incomplete: Vec<(PathBuf, Vec<String>)>,
    /// Pages stamped as following their original (every unit translated).
    pub stamped: Vec<String>,
}

/// One file's changes, checked, ready to write.
struct Planned {
    original: String,
    /// By unit id: the new Markdown (or string).
    edits: BTreeMap<String, String>,
    complete: bool,
}

pub fn import(root: &Path, lang: &str, files: &[PathBuf]) -> Result<ImportReport, ExchangeError> {
    let (site, _) = Site::load(SitePaths::new(root), None)?;
    let lang = language_of(&site, lang)?;
    let mut report = ImportReport::default();
    let mut planned = Vec::new();
    for file in files {
        let catalog = read_catalog(file)?;
        if catalog.target_lang != lang.as_str() {
            return Err(ExchangeError::Refused {
                location: Location::file(file),
                message: format!("this file holds {} translations, not {lang}", catalog.target_lang),
            });
        }
        let plan = plan(&site, &lang, file, &catalog)?;
        let fuzzy: Vec<String> =
            catalog.units.iter().filter(|u| u.state == UnitState::Outdated).map(|u| u.id.clone()).collect();
        if !fuzzy.is_empty() {
            report.fuzzy.push((file.clone(), fuzzy));
        }
        planned.push(plan);
    }
    for plan in planned.into_iter().filter(|plan| !plan.edits.is_empty()) {
        apply(&site, &lang, plan, &mut report)?;
    }
    for key in &report.stamped {
        crate::translation::stamp(root, &format!("{lang}/{key}")).map_err(|e| ExchangeError::Stamped(Box::new(e)))?;
    }
    Ok(report)
}

fn read_catalog(file: &Path) -> Result<Catalog, ExchangeError> {
    let format = Format::of_path(file).ok_or_else(|| ExchangeError::Refused {
        location: Location::file(file),
        message: "not a translation file: the name should end in .po, .xlf or .xliff".into(),
    })?;
    let bytes = std::fs::read(file).map_err(|source| ExchangeError::Read { path: file.to_path_buf(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| ExchangeError::Refused {
        location: Location::file(file),
        message: "the file is not UTF-8: save it as UTF-8 in your tool".into(),
    })?;
    let parsed = match format {
        Format::Po => crate::exchange::po::parse(file, &text),
        Format::Xliff => crate::exchange::xliff::parse(file, &text),
    };
    parsed.map_err(ExchangeError::Format)
}

/// Checks a catalog against the site of today and works out what it changes.
fn plan(site: &Site, lang: &LangCode, file: &Path, catalog: &Catalog) -> Result<Planned, ExchangeError> {
    let refused = |line: usize, message: String| ExchangeError::Refused { location: at_line(file, line), message };
    if catalog.original == UI_ORIGINAL {
        let current = units::ui_catalog(site, lang)
            .ok_or_else(|| refused(0, format!("there is no i18n/{lang}.toml: run `imrf-site new-language {lang}`")))?;
        check_units(file, catalog, &current)?;
        let edits = catalog
            .units
            .iter()
            .filter(|unit| unit.state == UnitState::Translated && !unit.target.is_empty())
            .filter(|unit| current.units.iter().any(|c| c.id == unit.id && c.target != unit.target))
            .map(|unit| (unit.id.clone(), unit.target.clone()))
            .collect();
        return Ok(Planned { original: UI_ORIGINAL.into(), edits, complete: false });
    }
    let current = units::page_catalog(site, lang, &catalog.original)?.ok_or_else(|| {
        refused(0, format!("{} has no page `{}` (was it renamed or deleted?)", site.default_language, catalog.original))
    })?;
    check_units(file, catalog, &current.catalog)?;
    let mut edits = BTreeMap::new();
    for unit in &catalog.units {
        if unit.state != UnitState::Translated || unit.target.is_empty() {
            continue;
        }
        let known = current.catalog.units.iter().find(|c| c.id == unit.id);
        if known.is_some_and(|c| c.target == unit.target) {
            continue;
        }
        let markup = current.markup.get(&unit.id).map_or(&[][..], Vec::as_slice);
        let markdown = crate::exchange::inline::untag(&unit.target, markup)
            .map_err(|error| refused(unit.line, format!("unit {}: {error}", unit.id)))?;
        edits.insert(unit.id.clone(), markdown);
    }
    let complete = catalog.units.iter().all(|u| u.state == UnitState::Translated && !u.target.is_empty());
    Ok(Planned { original: catalog.original.clone(), edits, complete })
}

/// The file's units must be the original's of today: the same ids with the same source.
fn check_units(file: &Path, catalog: &Catalog, current: &Catalog) -> Result<(), ExchangeError> {
    let unknown: Vec<&CatalogUnit> =
        catalog.units.iter().filter(|u| !current.units.iter().any(|c| c.id == u.id)).collect();
    if let Some(first) = unknown.first() {
        return Err(ExchangeError::Refused {
            location: at_line(file, first.line),
            message: format!(
                "unit(s) {} do not exist in the original {}: export again",
                ids(unknown.iter().copied()),
                current.original
            ),
        });
    }
    let missing: Vec<&CatalogUnit> =
        current.units.iter().filter(|c| !catalog.units.iter().any(|u| u.id == c.id)).collect();
    let changed: Vec<&CatalogUnit> = catalog
        .units
        .iter()
        .filter(|u| current.units.iter().any(|c| c.id == u.id && normalized(&c.source) != normalized(&u.source)))
        .collect();
    if !missing.is_empty() || !changed.is_empty() {
        let line = changed.first().map_or(0, |u| u.line);
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("the original has new unit(s) {}", ids(missing.into_iter())));
        }
        if !changed.is_empty() {
            parts.push(format!("the original's text of {} changed", ids(changed.into_iter())));
        }
        return Err(ExchangeError::Refused {
            location: at_line(file, line),
            message: format!(
                "this file no longer matches {}: {} since it was exported; export again and let your tool carry the translations over",
                current.original,
                parts.join(", and ")
            ),
        });
    }
    Ok(())
}

fn ids<'a>(units: impl Iterator<Item = &'a CatalogUnit>) -> String {
    units.map(|u| u.id.as_str()).collect::<Vec<_>>().join(", ")
}

fn at_line(file: &Path, line: usize) -> Location {
    if line == 0 { Location::file(file) } else { Location::at(file, line, 1) }
}

fn apply(site: &Site, lang: &LangCode, plan: Planned, report: &mut ImportReport) -> Result<(), ExchangeError> {
    if plan.original == UI_ORIGINAL {
        let path = site.paths.i18n().join(format!("{lang}.toml"));
        let text = read_text(&path)?;
        let edits: BTreeMap<String, String> =
            plan.edits.iter().map(|(id, text)| (id.trim_start_matches("ui:").to_string(), text.clone())).collect();
        let updated = with_strings(&path, &text, &edits)?;
        write_text(&path, &updated)?;
        report.written.push((path, plan.edits.len()));
        return Ok(());
    }
    let key = plan.original.as_str();
    let existing = site.pages_in(lang).find(|p| p.key == key && p.lang == site.source(p).lang).map(|p| site.source(p));
    let target = site.paths.content().join(lang.as_str()).join(key);
    let (base, base_page) = match existing {
        Some(page) => (read_text(&page.path)?, page),
        None => {
            let Some(PageCatalog { catalog, .. }) = units::page_catalog(site, lang, key)? else { return Ok(()) };
            if !plan.complete {
                let untranslated = catalog.units.iter().map(|u| u.id.clone()).filter(|id| !plan.edits.contains_key(id));
                report.incomplete.push((target, untranslated.collect()));
                return Ok(());
            }
            let Some(original) = site.original(key) else { return Ok(()) };
            (read_text(&original.path)?, original)
        }
    };
    let updated = with_units(&target, &base, base_page, &plan.edits)?;
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|source| ExchangeError::Write { path: parent.to_path_buf(), source })?;
    }
    write_text(&target, &updated)?;
    report.written.push((target, plan.edits.len()));
    if plan.complete {
        report.stamped.push(key.to_string());
    }
    Ok(())
}

/// The page text `text` (of `page`) with each unit of `edits` replaced: blocks and
/// footnotes in the body, where they are written; front-matter values in place.
fn with_units(
    path: &Path,
    text: &str,
    page: &crate::content::SourcePage,
    edits: &BTreeMap<String, String>,
) -> Result<String, ExchangeError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let body_start =
        text.len().checked_sub(page.body().len()).filter(|&at| text[at..] == *page.body()).ok_or_else(|| {
            ExchangeError::Refused {
                location: Location::file(&page.path),
                message: "the file changed while importing; import again".into(),
            }
        })?;
    let units = crate::blocks::page_units(page);
    let mut body = page.body().to_string();
    let mut spans: Vec<(&Unit, &String)> =
        units.iter().filter(|u| u.span.is_some()).filter_map(|u| edits.get(&u.id).map(|e| (u, e))).collect();
    spans.sort_by_key(|(unit, _)| std::cmp::Reverse(unit.span.as_ref().map_or(0, |s| s.start)));
    for (unit, edit) in spans {
        if let Some(span) = &unit.span {
            body.replace_range(span.clone(), edit);
        }
    }
    let front_edits: BTreeMap<String, String> = units
        .iter()
        .filter(|u| matches!(u.kind, UnitKind::Field | UnitKind::Question))
        .filter_map(|u| edits.get(&u.id).map(|e| (u.id.clone(), e.clone())))
        .collect();
    let front = &text[..body_start];
    let front = if front_edits.is_empty() { front.to_string() } else { with_front_matter(path, front, &front_edits)? };
    Ok(format!("{front}{body}"))
}

/// Front matter (`+++\n...\n+++\n`) with fields and question texts replaced.
fn with_front_matter(path: &Path, front: &str, edits: &BTreeMap<String, String>) -> Result<String, ExchangeError> {
    let newline = if front.contains("\r\n") { "\r\n" } else { "\n" };
    let inner_start = front.find(newline).map_or(0, |at| at + newline.len());
    let inner_end = front[..front.len().saturating_sub(newline.len())].rfind("+++").unwrap_or(front.len());
    let inner = &front[inner_start..inner_end];
    let mut doc: toml_edit::DocumentMut =
        inner.parse().map_err(|error: toml_edit::TomlError| ExchangeError::Refused {
            location: Location::file(path),
            message: format!("cannot read the front matter to update it: {}", error.message()),
        })?;
    for (id, text) in edits {
        if let Some(questions) = doc.get_mut("questions").and_then(|q| q.as_array_of_tables_mut()) {
            if let Some(question) =
                questions.iter_mut().find(|q| q.get("id").and_then(|v| v.as_str()) == Some(id.as_str()))
            {
                question["text"] = toml_edit::value(text.as_str());
                continue;
            }
        }
        doc[id.as_str()] = toml_edit::value(text.as_str());
    }
    Ok(format!("{}{}{}", &front[..inner_start], doc, &front[inner_end..]))
}

/// An i18n file with the strings of `edits` set in its `[strings]` table, the rest of
/// the file (comments, order, commented-out keys) as it was.
fn with_strings(path: &Path, text: &str, edits: &BTreeMap<String, String>) -> Result<String, ExchangeError> {
    let mut doc: toml_edit::DocumentMut =
        text.parse().map_err(|error: toml_edit::TomlError| ExchangeError::Refused {
            location: Location::file(path),
            message: format!("cannot read the file to update it: {}", error.message()),
        })?;
    for (key, value) in edits {
        doc["strings"][key.as_str()] = toml_edit::value(value.as_str());
    }
    Ok(doc.to_string())
}

fn read_text(path: &Path) -> Result<String, ExchangeError> {
    crate::files::read_to_string(path).map_err(|source| ExchangeError::Read { path: path.to_path_buf(), source })
}

fn write_text(path: &Path, text: &str) -> Result<(), ExchangeError> {
    std::fs::write(path, text).map_err(|source| ExchangeError::Write { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_strings_are_set_in_place_and_the_rest_of_the_file_kept() {
        let text = "# UI strings\n[language]\nname = \"Français\"\n\n[strings]\n# home = \"Home\"\nsearch = \"Chercher\" # short\n";
        let edits = BTreeMap::from([("home".to_string(), "Accueil".to_string())]);
        let updated = with_strings(Path::new("fr.toml"), text, &edits).unwrap();
        assert_eq!(updated, format!("{text}home = \"Accueil\"\n"));
    }
}
