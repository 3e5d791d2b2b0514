//! A translated UI string keeps the `{placeholders}` of its original: `t` fills in only
//! the names the theme passes, so a translated name (`{auteur}`) would be published as
//! written, and a dropped one would lose what it stood for (a citation's URL). Warns,
//! with the line and column, and changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::diagnostic::{Location, Warning};

/// The `{name}` placeholders of a string, in order of first use.
fn placeholders(text: &str) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            if !found.contains(&name) {
                found.push(name);
            }
            rest = &after[close + 1..];
        } else {
            rest = after;
        }
    }
    found
}

/// A warning for each string of `strings` whose placeholders are not those of the same
/// string in `originals`; `text` is the file's text, to place each on its line.
pub(super) fn mismatches(
    path: &Path,
    text: &str,
    strings: &BTreeMap<String, String>,
    originals: &BTreeMap<String, String>,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for (key, translated) in strings {
        let Some(original) = originals.get(key) else { continue };
        let wanted: BTreeSet<&str> = placeholders(original).into_iter().collect();
        let written = placeholders(translated);
        let unknown: Vec<&str> = written.iter().copied().filter(|name| !wanted.contains(name)).collect();
        let missing: Vec<&str> = placeholders(original).into_iter().filter(|name| !written.contains(name)).collect();
        if unknown.is_empty() && missing.is_empty() {
            continue;
        }
        let braced = |names: &[&str]| names.iter().map(|name| format!("{{{name}}}")).collect::<Vec<_>>().join(", ");
        let mut problems = Vec::new();
        if !unknown.is_empty() {
            problems.push(format!(
                "{} would be published as written (the original has no such placeholder)",
                braced(&unknown)
            ));
        }
        if !missing.is_empty() {
            problems.push(format!("{} of the original is missing", braced(&missing)));
        }
        let location = place(path, text, key, unknown.first().or(missing.first()).copied());
        warnings.push(Warning {
            message: format!(
                "{location}: UI string `{key}`: {}; keep the original's placeholders as they are: {}",
                problems.join(", and "),
                braced(&placeholders(original))
            ),
        });
    }
    warnings
}

/// Where `key = "..."` is written in the file: its line, and the column of the first
/// unknown placeholder on it (else of the key).
fn place(path: &Path, text: &str, key: &str, placeholder: Option<&str>) -> Location {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let sets_key = trimmed.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='));
        if sets_key {
            let within =
                placeholder.and_then(|name| line.find(&format!("{{{name}}}"))).unwrap_or(line.len() - trimmed.len());
            return Location::of_offset(path, text, offset + within, 1);
        }
        offset += line.len();
    }
    Location::file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_names_in_braces() {
        assert_eq!(placeholders("{author}. {year}. « {title} ». {url} {year}"), ["author", "year", "title", "url"]);
        assert_eq!(placeholders("a { spaced } b {} {Nom}"), Vec::<&str>::new());
    }

    #[test]
    fn a_renamed_or_dropped_placeholder_is_warned_about_on_its_line() {
        let originals = BTreeMap::from([
            ("citation_text".to_string(), "{author}. {year}. {title}. {url}".to_string()),
            ("home".to_string(), "Home".to_string()),
        ]);
        let text = "[strings]\nhome = \"Accueil\"\ncitation_text = \"{auteur}. {year}. {title}.\"\n";
        let strings = BTreeMap::from([
            ("citation_text".to_string(), "{auteur}. {year}. {title}.".to_string()),
            ("home".to_string(), "Accueil".to_string()),
        ]);
        let warnings = mismatches(Path::new("fr.toml"), text, &strings, &originals);
        assert_eq!(
            warnings.iter().map(|w| w.message.as_str()).collect::<Vec<_>>(),
            [
                "fr.toml:3:18: UI string `citation_text`: {auteur} would be published as written (the original has no such \
              placeholder), and {author}, {url} of the original is missing; keep the original's placeholders as they are: \
              {author}, {year}, {title}, {url}"
            ]
        );
    }
}
