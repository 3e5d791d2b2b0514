//! Each language's glossary, `i18n/<code>.glossary.toml`: the official wording of the
//! names the note uses (the Forum, the Compact, ...) and of its objectives' titles, each
//! with its source, and the wordings a page must not use. Owns the file format, its
//! loading and the scaffold a new language starts from; what the glossary requires of
//! pages is checked by `terminology`. Part of the load stage: it reads no page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::toml_problem;
use crate::diagnostic::{Location, Warning};
use crate::i18n::I18nError;
use crate::types::{LangCode, ObjectiveNumber};

/// A name the note uses, as a language must write it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Term {
    pub official: String,
    /// Wordings that are wrong in this language (calques, unofficial names): a page
    /// that uses one gets a warning.
    #[serde(default)]
    pub avoid: Vec<String>,
    pub source: String,
}

/// The official title of a GCM objective in one language.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfficialTitle {
    pub title: String,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GlossaryFile {
    #[serde(default)]
    terms: BTreeMap<String, Term>,
    #[serde(default)]
    objectives: BTreeMap<String, OfficialTitle>,
}

/// One language's glossary, as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glossary {
    pub path: PathBuf,
    pub terms: BTreeMap<String, Term>,
    pub objectives: BTreeMap<ObjectiveNumber, OfficialTitle>,
}

impl Glossary {
    /// The entries' names as the file writes its tables (`terms.forum`, `objectives.14`).
    fn entry_names(&self) -> impl Iterator<Item = String> + '_ {
        let terms = self.terms.keys().map(|name| format!("terms.{name}"));
        terms.chain(self.objectives.keys().map(|number| format!("objectives.{number}")))
    }

    /// Entries with an empty wording or source: a scaffold not yet filled in.
    fn unfinished(&self) -> Vec<String> {
        let terms = self
            .terms
            .iter()
            .filter(|(_, term)| term.official.trim().is_empty() || term.source.trim().is_empty())
            .map(|(name, _)| format!("terms.{name}"));
        let titles = self
            .objectives
            .iter()
            .filter(|(_, title)| title.title.trim().is_empty() || title.source.trim().is_empty())
            .map(|(number, _)| format!("objectives.{number}"));
        terms.chain(titles).collect()
    }
}

/// Every language's glossary, by language, with the warnings loading them gave.
#[derive(Debug, Default)]
pub struct Glossaries {
    pub by_language: BTreeMap<LangCode, Glossary>,
    pub warnings: Vec<Warning>,
}

pub fn path_for(i18n_dir: &Path, code: &LangCode) -> PathBuf {
    i18n_dir.join(format!("{code}.glossary.toml"))
}

/// Loads the glossary of each language in `codes` that has one. When the default
/// language has a glossary, its entries are the list every other language's must give:
/// a translation without a glossary, or one that lacks entries, gets a warning.
pub fn load(i18n_dir: &Path, codes: &[LangCode], default: &LangCode) -> Result<Glossaries, I18nError> {
    let mut glossaries = Glossaries::default();
    for code in codes {
        let path = path_for(i18n_dir, code);
        if path.exists() {
            glossaries.by_language.insert(code.clone(), read(&path)?);
        }
    }
    let Some(reference) = glossaries.by_language.get(default) else { return Ok(glossaries) };
    let mut warnings = Vec::new();
    for code in codes.iter().filter(|code| *code != default) {
        let Some(glossary) = glossaries.by_language.get(code) else {
            warnings.push(Warning {
                message: format!(
                    "{}: no glossary for {code}, so its pages' official terms are not checked; \
                     copy the entries of {} and give each its official wording in {code} and its source",
                    path_for(i18n_dir, code).display(),
                    reference.path.display()
                ),
            });
            continue;
        };
        warnings.extend(gaps(glossary, reference));
    }
    for glossary in glossaries.by_language.values() {
        let unfinished = glossary.unfinished();
        if !unfinished.is_empty() {
            warnings.push(Warning {
                message: format!(
                    "{}: {} entr{} without an official wording or a source yet, not checked: {}",
                    glossary.path.display(),
                    unfinished.len(),
                    if unfinished.len() == 1 { "y" } else { "ies" },
                    unfinished.join(", ")
                ),
            });
        }
    }
    glossaries.warnings = warnings;
    Ok(glossaries)
}

/// A warning when `glossary` lacks entries the default language's glossary has.
fn gaps(glossary: &Glossary, reference: &Glossary) -> Option<Warning> {
    let present: Vec<String> = glossary.entry_names().collect();
    let missing: Vec<String> = reference.entry_names().filter(|name| !present.contains(name)).collect();
    (!missing.is_empty()).then(|| Warning {
        message: format!(
            "{}: no entry for {} (listed in {}); add each with its official wording and its source",
            glossary.path.display(),
            missing.join(", "),
            reference.path.display()
        ),
    })
}

fn read(path: &Path) -> Result<Glossary, I18nError> {
    let text =
        crate::files::read_to_string(path).map_err(|source| I18nError::Read { path: path.to_path_buf(), source })?;
    parse(path, &text)
}

fn parse(path: &Path, text: &str) -> Result<Glossary, I18nError> {
    let file: GlossaryFile = toml::from_str(text).map_err(|error| {
        let (location, message) = toml_problem(path, text, &error, 1);
        I18nError::Invalid { location, message }
    })?;
    let mut objectives = BTreeMap::new();
    for (key, title) in file.objectives {
        let number = key.parse::<i64>().map_err(|_| I18nError::Invalid {
            location: table_location(path, text, &key),
            message: format!(
                "`[objectives.{key}]`: the part after `objectives.` must be the objective's number, like `[objectives.14]`"
            ),
        })?;
        let number = ObjectiveNumber::new(number)
            .map_err(|message| I18nError::Invalid { location: table_location(path, text, &key), message })?;
        objectives.insert(number, title);
    }
    for (name, term) in &file.terms {
        if let Some(wrong) =
            term.avoid.iter().find(|wrong| wrong.trim().is_empty() || term.official.contains(wrong.as_str()))
        {
            return Err(I18nError::Invalid {
                location: table_location(path, text, name),
                message: format!(
                    "`terms.{name}` avoids \"{wrong}\", which is empty or part of its own official wording \"{}\": \
                     every page using the official wording would be warned about",
                    term.official
                ),
            });
        }
    }
    Ok(Glossary { path: path.to_path_buf(), terms: file.terms, objectives })
}

/// The line of the table header that names `key` (`[objectives.x]`), for errors the
/// TOML parser cannot place because the TOML itself is valid.
fn table_location(path: &Path, text: &str, key: &str) -> Location {
    let header = format!(".{key}]");
    text.lines()
        .position(|line| line.trim_start().starts_with('[') && line.trim_end().ends_with(&header))
        .map_or_else(|| Location::file(path), |index| Location::at(path, index + 1, 1))
}

/// The glossary a new language starts from: the default language's entries, each with
/// its wording and source in a comment and both values empty (warned about until they
/// are filled in, so nothing is checked against a wording nobody gave).
pub fn scaffold(code: &LangCode, reference: &Glossary) -> String {
    let mut out = format!(
        "# Official terms for {code}: give each entry its official wording in {code}, where it\n\
         # comes from (the document and paragraph), and, in `avoid`, wordings a page must not use.\n\
         # Objective titles are those of General Assembly resolution 73/195 in {code}.\n"
    );
    for (name, term) in &reference.terms {
        out.push_str(&format!(
            "\n[terms.{name}]\n# {}\nofficial = \"\"\navoid = []\n# {}\nsource = \"\"\n",
            term.official, term.source
        ));
    }
    for (number, title) in &reference.objectives {
        out.push_str(&format!(
            "\n[objectives.{number}]\n# {}\ntitle = \"\"\n# {}\nsource = \"\"\n",
            title.title, title.source
        ));
    }
    out
}

/// The default language's glossary, for `new-language`'s scaffold; `None` when the
/// site has none.
pub fn read_reference(i18n_dir: &Path, default: &LangCode) -> Result<Option<Glossary>, I18nError> {
    let path = path_for(i18n_dir, default);
    if path.exists() { read(&path).map(Some) } else { Ok(None) }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGLISH: &str = "[terms.forum]\nofficial = \"International Migration Review Forum\"\nsource = \"A/RES/73/195\"\n\n\
                           [objectives.15]\ntitle = \"Provide access to basic services for migrants\"\nsource = \"A/RES/73/195\"\n";

    #[test]
    fn glossaries_parse_with_their_objective_numbers() {
        let glossary = parse(Path::new("en.glossary.toml"), ENGLISH).unwrap();
        assert_eq!(glossary.terms["forum"].official, "International Migration Review Forum");
        let fifteen = ObjectiveNumber::new(15).unwrap();
        assert_eq!(glossary.objectives[&fifteen].title, "Provide access to basic services for migrants");
        assert_eq!(glossary.entry_names().collect::<Vec<_>>(), ["terms.forum", "objectives.15"]);
    }

    #[test]
    fn bad_entries_are_errors_with_their_line() {
        let path = Path::new("fr.glossary.toml");
        let error = parse(path, "[objectives.quinze]\ntitle = \"T\"\nsource = \"S\"\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "fr.glossary.toml:1:1: `[objectives.quinze]`: the part after `objectives.` must be the objective's number, like `[objectives.14]`"
        );
        let error = parse(path, "[objectives.30]\ntitle = \"T\"\nsource = \"S\"\n").unwrap_err();
        assert!(error.to_string().starts_with("fr.glossary.toml:1:1: objective 30 does not exist"), "{error}");
        let error = parse(path, "[terms.forum]\nofficial = \"Forum d'examen\"\navoid = [\"Forum\"]\nsource = \"S\"\n")
            .unwrap_err();
        assert!(
            error.to_string().contains("avoids \"Forum\", which is empty or part of its own official wording"),
            "{error}"
        );
        let error = parse(path, "[terms.forum]\nofficiel = \"F\"\nsource = \"S\"\n").unwrap_err();
        assert!(
            error.to_string().starts_with("fr.glossary.toml:2:1: unknown key `officiel`: did you mean `official`?"),
            "{error}"
        );
    }

    #[test]
    fn missing_and_unfinished_entries_are_warned_about() {
        let reference = parse(Path::new("en.glossary.toml"), ENGLISH).unwrap();
        let scaffold = scaffold(&LangCode::parse("fr").unwrap(), &reference);
        let french = parse(Path::new("fr.glossary.toml"), &scaffold).unwrap();
        assert!(gaps(&french, &reference).is_none());
        assert_eq!(french.unfinished(), ["terms.forum", "objectives.15"]);
        assert!(
            scaffold.contains("[terms.forum]\n# International Migration Review Forum\nofficial = \"\""),
            "{scaffold}"
        );
        let partial =
            parse(Path::new("fr.glossary.toml"), "[terms.forum]\nofficial = \"F\"\nsource = \"S\"\n").unwrap();
        let warning = gaps(&partial, &reference).unwrap();
        assert_eq!(
            warning.message,
            "fr.glossary.toml: no entry for objectives.15 (listed in en.glossary.toml); add each with its official wording and its source"
        );
    }
}
