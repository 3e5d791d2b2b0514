//! The translator's workflow: `status` (what is translated, missing, outdated, per
//! language), `status --stamp` (record which version of the original a translation
//! translates) and `new-language` (scaffold a language). Reads the same `Site` model as
//! the build, so it reports exactly what the build would publish.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::glossary;
use crate::i18n::{self, I18nError};
use crate::site::LoadError;
use crate::site::{Page, Site, SitePaths, Translation};
use crate::stamps::{self, StampError, UnitChange};
use crate::types::LangCode;

#[derive(Debug, thiserror::Error)]
pub enum TranslationError {
    #[error(transparent)]
    Site(#[from] LoadError),
    #[error(transparent)]
    I18n(#[from] I18nError),
    #[error("{path}: {action}: {source}", path = .path.display())]
    Io { path: PathBuf, action: &'static str, source: std::io::Error },
    #[error("`{0}`: {1}")]
    BadTarget(String, String),
    #[error("{path}: already exists; a new language starts from nothing", path = .0.display())]
    Exists(PathBuf),
    #[error(transparent)]
    Stamp(#[from] StampError),
}

/// One language's translation state, as `status` prints it.
#[derive(Debug, Serialize)]
pub struct LanguageStatus {
    pub code: String,
    pub name: String,
    pub is_default: bool,
    pub pages: usize,
    pub translated: Vec<String>,
    pub missing: Vec<String>,
    pub outdated: Vec<String>,
    pub unstamped: Vec<String>,
    pub orphans: Vec<String>,
    /// UI string keys the language's i18n file lacks (all of them when there is no file).
    pub ui_missing: Vec<String>,
    pub ui_file: bool,
    /// For each outdated page: what changed in the original, unit by unit.
    pub changes: Vec<PageChanges>,
}

/// What changed in an outdated translation's original since it was stamped.
#[derive(Debug, Serialize)]
pub struct PageChanges {
    pub page: String,
    pub translation: String,
    pub original: String,
    /// False when the page was stamped without a block record (by an imrf-site older
    /// than block tracking): which units changed is then unknown.
    pub recorded: bool,
    pub units: Vec<ChangeReport>,
}

/// One unit's change, with a word diff of its old and new text when it changed.
#[derive(Debug, Serialize)]
pub struct ChangeReport {
    #[serde(flatten)]
    pub change: UnitChange,
    /// `[-removed-]{+added+}`, as `git diff --word-diff=plain` writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl LanguageStatus {
    /// Whether a translation team has work left (what `--strict` fails on).
    pub fn incomplete(&self) -> bool {
        !(self.missing.is_empty()
            && self.outdated.is_empty()
            && self.unstamped.is_empty()
            && self.ui_missing.is_empty())
    }
}

/// The translation state of every language of the site at `root`.
pub fn status(root: &Path) -> Result<Vec<LanguageStatus>, TranslationError> {
    let (site, _) = Site::load(SitePaths::new(root), None)?;
    let (string_keys, plural_keys) = i18n::required_keys(&site.paths.i18n(), &site.default_language)?;
    let all_ui: Vec<String> =
        string_keys.into_iter().chain(plural_keys.into_iter().map(|k| format!("plurals.{k}"))).collect();
    let mut report = Vec::new();
    for language in &site.languages {
        let mut by_state: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let pages: Vec<_> = site.pages_in(&language.code).collect();
        for page in &pages {
            let state = match page.translation {
                Translation::Original | Translation::Current => "translated",
                Translation::Missing => "missing",
                Translation::Outdated => "outdated",
                Translation::Unstamped => "unstamped",
                Translation::Orphan => "orphans",
            };
            by_state.entry(state).or_default().push(page.key.clone());
        }
        let ui = i18n::missing_for(&site.paths.i18n(), &language.code, &site.default_language)?;
        let outdated = pages.iter().filter(|page| page.translation == Translation::Outdated);
        let changes = outdated.map(|page| page_changes(&site, page)).collect::<Result<Vec<_>, _>>()?;
        let mut take = |state: &str| by_state.remove(state).unwrap_or_default();
        report.push(LanguageStatus {
            code: language.code.to_string(),
            name: language.name.clone(),
            is_default: language.code == site.default_language,
            pages: pages.len(),
            translated: take("translated"),
            missing: take("missing"),
            outdated: take("outdated"),
            unstamped: take("unstamped"),
            orphans: take("orphans"),
            ui_file: ui.is_some(),
            ui_missing: ui.unwrap_or_else(|| all_ui.clone()),
            changes,
        });
    }
    Ok(report)
}

fn page_changes(site: &Site, page: &Page) -> Result<PageChanges, TranslationError> {
    let translation = site.source(page);
    let original = site.original(&page.key);
    let stamp = stamps::read(&translation.path)?;
    let units = match (original, &stamp) {
        (Some(original), Some(stamp)) => stamps::compare(&stamp.units, &crate::blocks::page_units(original)),
        _ => Vec::new(),
    };
    Ok(PageChanges {
        page: page.key.clone(),
        translation: translation.path.display().to_string(),
        original: original.map(|o| o.path.display().to_string()).unwrap_or_default(),
        recorded: stamp.is_some(),
        units: units.into_iter().map(|change| ChangeReport { diff: word_diff_of(&change), change }).collect(),
    })
}

fn word_diff_of(change: &UnitChange) -> Option<String> {
    match change {
        UnitChange::Changed { old, new, .. } => Some(word_diff(old, new)),
        _ => None,
    }
}

/// `old` and `new` as one text, words removed in `[-...-]` and added in `{+...+}`.
pub fn word_diff(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_words(old, new);
    let mut out = String::new();
    let mut run: Option<(similar::ChangeTag, String)> = None;
    // A run's trailing space is written after its closing mark, where a reader expects it.
    let close = |out: &mut String, run: Option<(similar::ChangeTag, String)>| {
        let Some((tag, text)) = run else { return };
        let words = text.trim_end();
        match tag {
            similar::ChangeTag::Delete => out.push_str(&format!("[-{words}-]")),
            similar::ChangeTag::Insert => out.push_str(&format!("{{+{words}+}}")),
            similar::ChangeTag::Equal => out.push_str(words),
        }
        out.push_str(&text[words.len()..]);
    };
    for change in diff.iter_all_changes() {
        let (tag, value) = (change.tag(), change.value());
        match &mut run {
            Some((current, text)) if *current == tag => text.push_str(value),
            // A space between two removed (or added) words stays inside the run.
            Some((_, text)) if tag == similar::ChangeTag::Equal && value.trim().is_empty() => text.push_str(value),
            _ => {
                close(&mut out, run.take());
                run = Some((tag, value.to_string()));
            }
        }
    }
    close(&mut out, run);
    out
}

/// The changes of each outdated page, for people.
fn format_changes(language: &LanguageStatus) -> String {
    let mut text = String::new();
    for page in &language.changes {
        if !page.recorded {
            text.push_str(&format!(
                "{}: outdated; stamped without a block record, so which paragraphs changed is unknown: review it against {}, then `imrf-site status --stamp {}/{}`\n",
                page.translation, page.original, language.code, page.page
            ));
            continue;
        }
        text.push_str(&format!(
            "{}: {} change(s) in {} since it was stamped\n",
            page.translation,
            page.units.len(),
            page.original
        ));
        for report in &page.units {
            text.push_str(&describe_change(&report.change, report.diff.as_deref(), &page.original));
        }
    }
    text
}

fn describe_change(change: &UnitChange, diff: Option<&str>, original: &str) -> String {
    match change {
        UnitChange::Changed { id, line, .. } => {
            format!("  {id} ({original}:{line}) changed:\n    {}\n", diff.unwrap_or_default())
        }
        UnitChange::Added { id, new, line } => format!("  {id} ({original}:{line}) is new:\n    {{+{new}+}}\n"),
        UnitChange::Removed { id, old } => format!("  {id} was removed from the original:\n    [-{old}-]\n"),
        UnitChange::Renumbered { from, to } => {
            format!("  {from} is unchanged but is now {to} (a block was added or removed before it)\n")
        }
    }
}

/// The report as a table for people.
pub fn format_status(report: &[LanguageStatus]) -> String {
    let mut text = format!(
        "{:<10} {:<12} {:>6} {:>11} {:>8} {:>9} {:>10} {:>11}\n",
        "language", "name", "pages", "translated", "missing", "outdated", "unstamped", "UI missing"
    );
    for language in report {
        let code = if language.is_default { format!("{} *", language.code) } else { language.code.clone() };
        text.push_str(&format!(
            "{:<10} {:<12} {:>6} {:>11} {:>8} {:>9} {:>10} {:>11}\n",
            code,
            language.name,
            language.pages,
            language.translated.len(),
            language.missing.len(),
            language.outdated.len(),
            language.unstamped.len(),
            if language.ui_file { language.ui_missing.len().to_string() } else { "no file".to_string() },
        ));
    }
    for language in report {
        for (label, keys) in [
            ("missing", &language.missing),
            ("outdated", &language.outdated),
            ("unstamped", &language.unstamped),
            ("orphan", &language.orphans),
        ] {
            if !keys.is_empty() {
                text.push_str(&format!("{} {label}: {}\n", language.code, keys.join(", ")));
            }
        }
        text.push_str(&format_changes(language));
        if language.ui_file && !language.ui_missing.is_empty() {
            text.push_str(&format!("{} UI strings missing: {}\n", language.code, language.ui_missing.join(", ")));
        }
    }
    text.push_str("* the default language (the original)\n");
    text
}

/// Records in each translated page named by `target` (`fr` for all of a language's
/// translations, `fr/objective-14.md` for one) the hash of the original it translates.
/// Returns the files changed.
pub fn stamp(root: &Path, target: &str) -> Result<Vec<PathBuf>, TranslationError> {
    let (site, _) = Site::load(SitePaths::new(root), None)?;
    let (lang_part, key) = match target.split_once('/') {
        Some((lang, key)) => (lang, Some(key)),
        None => (target, None),
    };
    let lang = LangCode::parse(lang_part).map_err(|message| TranslationError::BadTarget(target.into(), message))?;
    if lang == site.default_language {
        return Err(TranslationError::BadTarget(
            target.into(),
            "the default language is the original; only translations are stamped".into(),
        ));
    }
    let candidates: Vec<_> = site
        .pages_in(&lang)
        .filter(|p| key.is_none_or(|k| p.key == k))
        .filter(|p| matches!(p.translation, Translation::Current | Translation::Outdated | Translation::Unstamped))
        .collect();
    if candidates.is_empty() {
        return Err(TranslationError::BadTarget(
            target.into(),
            "no translated page matches (is the file in site/content/<lang>/ and does the original exist?)".into(),
        ));
    }
    let mut changed = Vec::new();
    for page in candidates {
        let Some(original) = site.original(&page.key) else { continue };
        let path = &site.source(page).path;
        let record = stamps::render(&site.content_path(&original.path), &crate::blocks::page_units(original))
            .map_err(|error| TranslationError::BadTarget(target.into(), error.to_string()))?;
        if stamps::write(path, &record)? {
            changed.push(stamps::stamp_path(path));
        }
        let original = crate::blocks::content_hash(original).to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TranslationError::Io {
            path: path.clone(),
            action: "cannot read",
            source,
        })?;
        let stamped = with_source_hash(&text, &original);
        if stamped != text {
            std::fs::write(path, stamped).map_err(|source| TranslationError::Io {
                path: path.clone(),
                action: "cannot write",
                source,
            })?;
            changed.push(path.clone());
        }
    }
    Ok(changed)
}

/// The page text with `source_hash = "<hash>"` set in its front matter (replacing an
/// older stamp in place, or added as the front matter's first key so that it stays
/// above any `[[questions]]` tables).
fn with_source_hash(text: &str, hash: &str) -> String {
    let line = format!("source_hash = \"{hash}\"");
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut lines: Vec<String> = text.split(newline).map(String::from).collect();
    let closing = lines.iter().skip(1).position(|l| l.trim_end() == "+++").map(|i| i + 1);
    let existing = lines.iter().take(closing.unwrap_or(0)).position(|l| l.trim_start().starts_with("source_hash"));
    match existing {
        Some(index) => lines[index] = line,
        None => lines.insert(1, line),
    }
    lines.join(newline)
}

/// Languages written right to left, for a new language's default text direction.
const RTL_LANGUAGES: [&str; 10] = ["ar", "arc", "ckb", "dv", "fa", "he", "ps", "sd", "ur", "yi"];

/// Creates `i18n/<code>.toml` (every key to translate, commented out with the original
/// beside it, so nothing untranslated is published as if translated) and an empty
/// `site/content/<code>/` with a short guide.
pub fn new_language(root: &Path, code: &str) -> Result<Vec<PathBuf>, TranslationError> {
    let code = LangCode::parse(code).map_err(|message| TranslationError::BadTarget(code.into(), message))?;
    let paths = SitePaths::new(root);
    let config = crate::config::Config::load(&paths.site()).map_err(|e| TranslationError::Site(e.into()))?;
    let default = config.default_language;
    let i18n_path = paths.i18n().join(format!("{code}.toml"));
    let glossary_path = glossary::path_for(&paths.i18n(), &code);
    let content_dir = paths.content().join(code.as_str());
    for path in [&i18n_path, &glossary_path, &content_dir] {
        // A dangling symbolic link counts: writing through it could create a file anywhere.
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(TranslationError::Exists(path.clone()));
        }
    }
    let default_path = paths.i18n().join(format!("{default}.toml"));
    let default_text = crate::files::read_to_string(&default_path).map_err(|source| TranslationError::Io {
        path: default_path.clone(),
        action: "cannot read",
        source,
    })?;
    let reference = glossary::read_reference(&paths.i18n(), &default)?;
    let scaffold = i18n_scaffold(&code, &default, &default_text);
    write_new(&i18n_path, &scaffold)?;
    let mut written = vec![i18n_path];
    if let Some(reference) = reference {
        write_new(&glossary_path, &glossary::scaffold(&code, &reference))?;
        written.push(glossary_path);
    }
    std::fs::create_dir_all(&content_dir).map_err(|source| TranslationError::Io {
        path: content_dir.clone(),
        action: "cannot create",
        source,
    })?;
    let guide = content_dir.join("TRANSLATING.txt");
    write_new(&guide, &translating_guide(&code, &default))?;
    written.push(guide);
    Ok(written)
}

fn write_new(path: &Path, text: &str) -> Result<(), TranslationError> {
    std::fs::write(path, text).map_err(|source| TranslationError::Io {
        path: path.to_path_buf(),
        action: "cannot write",
        source,
    })
}

fn i18n_scaffold(code: &LangCode, default: &LangCode, default_text: &str) -> String {
    let dir = if RTL_LANGUAGES.contains(&code.primary()) { "rtl" } else { "ltr" };
    let categories = i18n::categories_of(code).join(", ");
    let mut out = format!(
        "# UI strings for {code}. Translate each value and remove the `# ` in front of its line;\n\
         # a line left commented out is shown in {default} (the build warns about it).\n\
         # Keep placeholders in braces ({{number}}, {{count}}, ...) as they are.\n\
         # Plural tables need exactly the forms {code} uses (CLDR): {categories}.\n\n\
         [language]\n\
         # The language's name in itself, as readers look for it in the language switcher.\n\
         name = \"{code}\"\n\
         dir = \"{dir}\"\n"
    );
    let mut section = "";
    for line in default_text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed;
            if section.starts_with("[language.") {
                // Number and date formats: commented out like the strings, so the
                // scaffold stays valid until the translator fills them in.
                out.push_str(&format!("\n# {trimmed}\n"));
            } else if section != "[language]" && !section.starts_with("[plurals.") {
                out.push_str(&format!("\n{trimmed}\n"));
            }
            continue;
        }
        if section == "[language]" || trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if section.starts_with("[plurals.") {
            continue;
        }
        out.push_str(&format!("# {trimmed}\n"));
    }
    let plural_sections: Vec<&str> =
        default_text.lines().map(str::trim).filter(|l| l.starts_with("[plurals.")).collect();
    if !plural_sections.is_empty() {
        out.push_str(&format!("\n# Plural forms: uncomment a table and give every form {code} uses.\n"));
        for header in plural_sections {
            let example = default_text
                .split(header)
                .nth(1)
                .and_then(|rest| rest.lines().find(|l| l.trim_start().starts_with("other")))
                .map(str::trim)
                .unwrap_or("other = \"...\"");
            out.push_str(&format!("# {header}\n"));
            for category in i18n::categories_of(code) {
                let value = example.split_once('=').map_or("\"...\"", |(_, v)| v.trim());
                out.push_str(&format!("# {category} = {value}\n"));
            }
        }
    }
    out
}

fn translating_guide(code: &LangCode, default: &LangCode) -> String {
    format!(
        "Translating the review into {code}\n\
         ==================================\n\n\
         1. Translate the UI strings in i18n/{code}.toml: set the language's own name, then\n   \
            translate each commented line and uncomment it. Then fill in\n   \
            i18n/{code}.glossary.toml (if the site has glossaries): the official {code} names of\n   \
            the Forum, the Compact and the objectives' titles, each with its source; the build\n   \
            warns where a page uses a wording it marks to avoid or lacks its official title.\n\
         2. For each page in site/content/{default}/, create the file of the same name here and\n   \
            translate it completely: the front matter values title, short_label, description\n   \
            and each question's text, then the Markdown. Keep kind, objective, weight, question\n   \
            ids, footnote labels ([^label]) and URLs as they are, and keep the original's\n   \
            blocks: the same headings, paragraphs and list items, in the same order (each\n   \
            has an anchor shared by every language; the build warns when they differ).\n   \
            With a CAT tool instead: `imrf-site translation export {code}`, translate the\n   \
            files in translations/{code}/, then `imrf-site translation import {code} <files>`.\n\
         3. Preview with `imrf-site serve`; pages you have not translated yet are shown in\n   \
            {default} with a notice, so the site is complete at every step.\n\
         4. When a page is done, run `imrf-site status --stamp {code}/<file>.md`: it records\n   \
            the original's text block by block (<file>.stamp.toml), so that later changes\n   \
            to the original are reported block by block.\n\
         5. `imrf-site status` shows what is left; `--strict` fails while anything is.\n\n\
         This file is not published.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diffs_mark_removed_and_added_words() {
        assert_eq!(
            word_diff(
                "The pandemic tested the capacities of networks.",
                "The pandemic tested capacities of consular networks."
            ),
            "The pandemic tested [-the-] capacities of {+consular+} networks."
        );
        assert_eq!(word_diff("one two three", "one four five three"), "one [-two-]{+four five+} three");
    }

    #[test]
    fn stamps_replace_or_insert_in_front_matter() {
        let page = "+++\ntitle = \"T\"\n[[questions]]\nid = \"q-1-1\"\ntext = \"Q\"\n+++\nBody source_hash\n";
        let stamped = with_source_hash(page, "abc");
        assert_eq!(
            stamped,
            "+++\nsource_hash = \"abc\"\ntitle = \"T\"\n[[questions]]\nid = \"q-1-1\"\ntext = \"Q\"\n+++\nBody source_hash\n"
        );
        assert_eq!(with_source_hash(&stamped, "def"), stamped.replace("abc", "def"));
        let crlf = "+++\r\ntitle = \"T\"\r\n+++\r\nBody\r\n";
        assert_eq!(with_source_hash(crlf, "abc"), "+++\r\nsource_hash = \"abc\"\r\ntitle = \"T\"\r\n+++\r\nBody\r\n");
    }
}
