//! What a language's glossary (`glossary`) requires of its pages and UI strings: no wording it
//! marks to avoid, and, on a translated objective page, the objective's official title.
//! Reads the source files again (their front matter included, which the loaded pages
//! keep only as values) so that each warning names the line and column; reports
//! warnings, since a page with a wrong term still builds.

use std::path::Path;

use rayon::prelude::*;

use crate::diagnostic::{Location, Warning};
use crate::glossary::{Glossary, Term};
use crate::site::Site;

/// One warning per avoided wording found, and per translated objective page whose
/// title is not its objective's official title.
pub fn warnings(site: &Site) -> Vec<Warning> {
    let mut warnings: Vec<Warning> = site
        .sources
        .par_iter()
        .flat_map_iter(|source| {
            let glossary = site.glossaries.get(&source.lang)?;
            // The load stage read this file a moment ago; if it has gone since, the next
            // build reports that, and there is nothing to check here.
            let text = crate::files::read_to_string(&source.path).ok()?;
            let mut found = avoided(&source.path, &text, glossary, false);
            if source.lang != site.default_language {
                found.extend(unofficial_title(&source.path, &text, &source.front, glossary));
            }
            Some(found)
        })
        .flatten()
        .collect();
    for (code, glossary) in &site.glossaries {
        let path = site.paths.i18n().join(format!("{code}.toml"));
        if let Ok(text) = crate::files::read_to_string(&path) {
            warnings.extend(avoided(&path, &text, glossary, true));
        }
    }
    warnings
}

/// Each use in `text` of a wording the glossary avoids. In a TOML file (`skip_comments`)
/// comment lines are not read: they are notes to translators, not published.
/// The text is searched whole, once per wording (a search per line cost a seventh of a
/// build of generated pages); only the uses found are placed on their line.
fn avoided(path: &Path, text: &str, glossary: &Glossary, skip_comments: bool) -> Vec<Warning> {
    let mut uses: Vec<(usize, &str, &String, &Term)> = glossary
        .terms
        .iter()
        .flat_map(|(name, term)| {
            uses_of_avoided(text, term).into_iter().map(move |(at, wrong)| (at, wrong, name, term))
        })
        .filter(|&(at, ..)| !(skip_comments && in_comment(text, at)))
        .collect();
    // Stable: uses at the same place keep the glossary's order.
    uses.sort_by_key(|&(at, ..)| at);
    uses.into_iter()
        .map(|(offset, wrong, name, term)| {
            let location = Location::of_offset(path, text, offset, 1);
            Warning {
                message: format!(
                    "{location}: \"{wrong}\" is not the official wording; write \"{}\" ({} `terms.{name}`, from {})",
                    term.official,
                    glossary.path.display(),
                    term.source
                ),
            }
        })
        .collect()
}

/// Whether byte `at` of a TOML file is on a comment line.
fn in_comment(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |newline| newline + 1);
    text[line_start..].trim_start().starts_with('#')
}

/// The byte offsets in `text` where `term`'s avoided wordings occur: as whole words in
/// scripts that separate words with spaces, anywhere in others (Chinese has no word
/// boundaries, and Arabic joins prefixes such as و to the word).
fn uses_of_avoided<'a>(text: &str, term: &'a Term) -> Vec<(usize, &'a str)> {
    let mut uses = Vec::new();
    for wrong in &term.avoid {
        for (offset, _) in text.match_indices(wrong.as_str()) {
            let joined_before = wrong.chars().next().is_some_and(separates_words)
                && text[..offset].chars().next_back().is_some_and(char::is_alphanumeric);
            let joined_after = wrong.chars().next_back().is_some_and(separates_words)
                && text[offset + wrong.len()..].chars().next().is_some_and(char::is_alphanumeric);
            let whole = !(joined_before || joined_after);
            if whole {
                uses.push((offset, wrong.as_str()));
            }
        }
    }
    uses.sort_unstable();
    uses
}

/// A letter or digit of a script that writes spaces between words (Latin, Greek and
/// Cyrillic).
fn separates_words(c: char) -> bool {
    c.is_alphanumeric() && (c.is_ascii() || ('\u{00c0}'..='\u{052f}').contains(&c))
}

/// A warning when a translated objective page's title is not the official title the
/// glossary gives for its objective (typography aside: quotes, dashes and spaces fold).
fn unofficial_title(
    path: &Path,
    text: &str,
    front: &crate::content::FrontMatter,
    glossary: &Glossary,
) -> Option<Warning> {
    let number = front.objective?;
    let official = glossary.objectives.get(&number).filter(|o| !o.title.trim().is_empty())?;
    if crate::blocks::normalized(&front.title) == crate::blocks::normalized(&official.title) {
        return None;
    }
    let location = title_location(path, text);
    Some(Warning {
        message: format!(
            "{location}: the title is not objective {number}'s official title; write \"{}\" ({} `objectives.{number}`, from {})",
            official.title,
            glossary.path.display(),
            official.source
        ),
    })
}

/// Where the front matter sets `title`: the first line that starts with the key.
fn title_location(path: &Path, text: &str) -> Location {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.strip_prefix("title").is_some_and(|rest| rest.trim_start().starts_with('=')) {
            return Location::of_offset(path, text, offset + line.len() - trimmed.len(), 1);
        }
        if offset > 0 && line.trim_end() == "+++" {
            break;
        }
        offset += line.len();
    }
    Location::file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(official: &str, avoid: &[&str]) -> Term {
        Term { official: official.into(), avoid: avoid.iter().map(|s| s.to_string()).collect(), source: "S".into() }
    }

    #[test]
    fn avoided_wordings_match_whole_words_where_words_are_spaced() {
        let acronyms = term("Forum d'examen", &["IMRF"]);
        assert_eq!(uses_of_avoided("le Forum (IMRF) et l'IMRF", &acronyms), [(10, "IMRF"), (21, "IMRF")]);
        assert!(uses_of_avoided("IMRFs, XIMRF, imrf-2022", &acronyms).is_empty());
        let chinese = term("国际移民问题审查论坛", &["国际移民审查论坛"]);
        assert_eq!(uses_of_avoided("第三次国际移民审查论坛会议", &chinese).len(), 1);
        assert!(uses_of_avoided("国际移民问题审查论坛", &chinese).is_empty());
        let arabic = term("الشمول المالي", &["الإدماج المالي"]);
        assert_eq!(uses_of_avoided("والإدماج المالي", &arabic).len(), 1);
    }

    #[test]
    fn the_title_line_is_found_in_the_front_matter() {
        let text = "+++\nsource_hash = \"x\"\n  title = \"T\"\n+++\ntitle = body\n";
        assert_eq!(title_location(Path::new("a.md"), text).to_string(), "a.md:3:3");
    }
}
