//! What a language's glossary (`glossary`) requires of its pages and UI strings: no wording it
//! marks to avoid, and, on a translated objective page, the objective's official title.
//! Reads each page as written (its front matter's text and its body, which the loaded
//! pages keep) so that each warning names the line and column; reports warnings, since
//! a page with a wrong term still builds.

use std::collections::BTreeMap;
use std::path::Path;

use aho_corasick::AhoCorasick;
use rayon::prelude::*;

use crate::diagnostic::{Location, Warning};
use crate::glossary::{Glossary, Term};
use crate::site::Site;
use crate::types::LangCode;

/// One warning per avoided wording found, and per translated objective page whose
/// title is not its objective's official title: every source's (`GlossaryCheck`), then
/// the UI strings'.
pub fn warnings(site: &Site) -> Vec<Warning> {
    let check = GlossaryCheck::new(site);
    let mut warnings: Vec<Warning> =
        (0..site.sources.len()).into_par_iter().flat_map_iter(|n| check.of_source(n)).collect();
    warnings.extend(check.of_ui_strings());
    warnings
}

/// The glossary check of a site, one file at a time: `build` with the build cache checks
/// only the sources that changed.
pub struct GlossaryCheck<'s> {
    site: &'s Site,
    finders: BTreeMap<&'s LangCode, AvoidedWordings<'s>>,
}

impl<'s> GlossaryCheck<'s> {
    pub fn new(site: &'s Site) -> Self {
        let finders = site.glossaries.iter().map(|(code, glossary)| (code, AvoidedWordings::new(glossary))).collect();
        Self { site, finders }
    }

    /// The warnings of the source at `index`: what it reads is its path, front matter
    /// (as written and as read), body and language's glossary, and the site's default
    /// language.
    pub fn of_source(&self, index: usize) -> Vec<Warning> {
        let source = &self.site.sources[index];
        let (Some(glossary), Some(finder)) = (self.site.glossaries.get(&source.lang), self.finders.get(&source.lang))
        else {
            return Vec::new();
        };
        // The front matter from the file's second line, then the body: the file as
        // read, without reading it again.
        let front = Text { text: source.front_text(), first_line: 2 };
        let body = Text { text: source.body(), first_line: source.body_line };
        let mut found = avoided(&source.path, front, glossary, finder, false);
        found.extend(avoided(&source.path, body, glossary, finder, false));
        if source.lang != self.site.default_language {
            found.extend(unofficial_title(&source.path, front, &source.front, glossary));
        }
        found
    }

    /// The warnings of each language's UI strings (`i18n/<code>.toml`), read again here.
    pub fn of_ui_strings(&self) -> Vec<Warning> {
        let mut warnings = Vec::new();
        for (code, glossary) in &self.site.glossaries {
            let path = self.site.paths.i18n().join(format!("{code}.toml"));
            if let (Ok(text), Some(finder)) = (crate::files::read_to_string(&path), self.finders.get(code)) {
                warnings.extend(avoided(&path, Text { text: &text, first_line: 1 }, glossary, finder, true));
            }
        }
        warnings
    }
}

/// Each use in `text` of a wording the glossary avoids. In a TOML file (`skip_comments`)
/// comment lines are not read: they are notes to translators, not published.
/// The text is searched once for every wording (`AvoidedWordings`); only the uses found
/// are placed on their line.
fn avoided(
    path: &Path,
    Text { text, first_line }: Text,
    glossary: &Glossary,
    finder: &AvoidedWordings,
    skip_comments: bool,
) -> Vec<Warning> {
    finder
        .uses(text)
        .into_iter()
        .filter(|found| !(skip_comments && in_comment(text, found.offset)))
        .map(|found| {
            let (name, term) = finder.terms[found.term];
            let location = Location::of_offset(path, text, found.offset, first_line);
            Warning {
                message: format!(
                    "{location}: \"{}\" is not the official wording; write \"{}\" ({} `terms.{name}`, from {})",
                    found.wrong,
                    term.official,
                    glossary.path.display(),
                    term.source
                ),
            }
        })
        .collect()
}

/// A part of a file, and the line it starts on.
#[derive(Clone, Copy)]
struct Text<'t> {
    text: &'t str,
    first_line: usize,
}

/// Whether byte `at` of a TOML file is on a comment line.
fn in_comment(text: &str, at: usize) -> bool {
    let line_start = text[..at].rfind('\n').map_or(0, |newline| newline + 1);
    text[line_start..].trim_start().starts_with('#')
}

/// Every wording a glossary avoids, found in one pass over a text (Aho-Corasick): a
/// search per wording read each page once per wording, a seventh of a cached build.
struct AvoidedWordings<'g> {
    /// The glossary's terms, in its order.
    terms: Vec<(&'g str, &'g Term)>,
    /// Each wording with its term's place in `terms`, in the automaton's pattern order.
    wordings: Vec<(&'g str, usize)>,
    automaton: Option<AhoCorasick>,
}

/// One use of an avoided wording: where it starts, which term avoids it, and the wording.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Use<'g> {
    offset: usize,
    term: usize,
    wrong: &'g str,
}

impl<'g> AvoidedWordings<'g> {
    fn new(glossary: &'g Glossary) -> Self {
        let terms: Vec<(&str, &Term)> = glossary.terms.iter().map(|(name, term)| (name.as_str(), term)).collect();
        let wordings: Vec<(&str, usize)> = terms
            .iter()
            .enumerate()
            .flat_map(|(t, (_, term))| term.avoid.iter().map(move |wrong| (wrong.as_str(), t)))
            .filter(|(wrong, _)| !wrong.is_empty())
            .collect();
        // A glossary's handful of wordings always builds: the automaton's limits are in
        // the millions of patterns. Without one, nothing is found, as with no wordings.
        let automaton =
            (!wordings.is_empty()).then(|| AhoCorasick::new(wordings.iter().map(|(wrong, _)| *wrong)).ok()).flatten();
        Self { terms, wordings, automaton }
    }

    /// The uses in `text` of the avoided wordings: as whole words in scripts that
    /// separate words with spaces, anywhere in others (Chinese has no word boundaries,
    /// and Arabic joins prefixes such as و to the word). By place, then the glossary's
    /// order. A wording's uses never overlap one another (as `str::match_indices` finds
    /// them); two wordings' uses may.
    fn uses(&self, text: &str) -> Vec<Use<'g>> {
        let Some(automaton) = &self.automaton else { return Vec::new() };
        let mut free_from = vec![0; self.wordings.len()];
        let mut uses = Vec::new();
        for found in automaton.find_overlapping_iter(text) {
            let pattern = found.pattern().as_usize();
            let (wrong, term) = self.wordings[pattern];
            let offset = found.start();
            if offset < free_from[pattern] {
                continue;
            }
            free_from[pattern] = found.end();
            if is_whole(text, offset, wrong) {
                uses.push(Use { offset, term, wrong });
            }
        }
        uses.sort_unstable();
        uses
    }
}

/// Whether `wrong`, found at `offset`, is not part of a longer word where words are spaced.
fn is_whole(text: &str, offset: usize, wrong: &str) -> bool {
    let joined_before = wrong.chars().next().is_some_and(separates_words)
        && text[..offset].chars().next_back().is_some_and(char::is_alphanumeric);
    let joined_after = wrong.chars().next_back().is_some_and(separates_words)
        && text[offset + wrong.len()..].chars().next().is_some_and(char::is_alphanumeric);
    !(joined_before || joined_after)
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
    front_text: Text,
    front: &crate::content::FrontMatter,
    glossary: &Glossary,
) -> Option<Warning> {
    let number = front.objective?;
    let official = glossary.objectives.get(&number).filter(|o| !o.title.trim().is_empty())?;
    if crate::blocks::normalized(&front.title) == crate::blocks::normalized(&official.title) {
        return None;
    }
    let location = title_location(path, front_text);
    Some(Warning {
        message: format!(
            "{location}: the title is not objective {number}'s official title; write \"{}\" ({} `objectives.{number}`, from {})",
            official.title,
            glossary.path.display(),
            official.source
        ),
    })
}

/// Where the front matter (`front`, its text) sets `title`: the first line that starts
/// with the key.
fn title_location(path: &Path, Text { text, first_line }: Text) -> Location {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.strip_prefix("title").is_some_and(|rest| rest.trim_start().starts_with('=')) {
            return Location::of_offset(path, text, offset + line.len() - trimmed.len(), first_line);
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

    fn uses<'g>(text: &str, glossary: &'g Glossary) -> Vec<(usize, &'g str)> {
        AvoidedWordings::new(glossary).uses(text).into_iter().map(|found| (found.offset, found.wrong)).collect()
    }

    fn glossary(terms: &[(&str, Term)]) -> Glossary {
        Glossary {
            path: "fr.glossary.toml".into(),
            terms: terms.iter().map(|(name, term)| (name.to_string(), term.clone())).collect(),
            objectives: BTreeMap::new(),
        }
    }

    #[test]
    fn avoided_wordings_match_whole_words_where_words_are_spaced() {
        let acronyms = glossary(&[("forum", term("Forum d'examen", &["IMRF"]))]);
        assert_eq!(uses("le Forum (IMRF) et l'IMRF", &acronyms), [(10, "IMRF"), (21, "IMRF")]);
        assert!(uses("IMRFs, XIMRF, imrf-2022", &acronyms).is_empty());
        let chinese = glossary(&[("forum", term("国际移民问题审查论坛", &["国际移民审查论坛"]))]);
        assert_eq!(uses("第三次国际移民审查论坛会议", &chinese).len(), 1);
        assert!(uses("国际移民问题审查论坛", &chinese).is_empty());
        let arabic = glossary(&[("inclusion", term("الشمول المالي", &["الإدماج المالي"]))]);
        assert_eq!(uses("والإدماج المالي", &arabic).len(), 1);
    }

    #[test]
    fn uses_come_by_place_then_glossary_order_and_a_wording_never_overlaps_itself() {
        let terms = glossary(&[("a_first", term("X", &["migrant workers"])), ("b_second", term("Y", &["migrant"]))]);
        // "migrant" and "migrant workers" start at the same place: the earlier term first.
        assert_eq!(uses("migrant workers", &terms), [(0, "migrant workers"), (0, "migrant")]);
        // Like `match_indices`: "论论" twice in "论论论论", not three times.
        let cjk = glossary(&[("c", term("Z", &["论论"]))]);
        assert_eq!(uses("论论论论", &cjk), [(0, "论论"), (6, "论论")]);
    }

    #[test]
    fn the_title_line_is_found_in_the_front_matter() {
        let page = "+++\nsource_hash = \"x\"\n  title = \"T\"\n+++\ntitle = body\n";
        let page =
            crate::content::parse_page(&LangCode::parse("fr").unwrap(), "a.md", Path::new("a.md"), page).unwrap();
        let front = Text { text: page.front_text(), first_line: 2 };
        assert_eq!(title_location(Path::new("a.md"), front).to_string(), "a.md:3:3");
    }
}
