//! What the file formats (`po`, `xliff`) share: the error a parser reports, and the note
//! line that tells the translator what a tag stands for (`<g1>…</g1>: link to …`), written
//! into both formats and read back from them. No format's syntax lives here.

use crate::diagnostic::Location;
use crate::exchange::catalog::{Tag, TagKind};

/// A file a translator sent back that cannot be read, with the place of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct FormatError {
    pub location: Location,
    pub message: String,
}

impl FormatError {
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Self { location, message: message.into() }
    }
}

/// The note line for one tag: `<g1>…</g1>: link to https://…` or `<x2/>: footnote 3`.
pub fn tag_note(tag: &Tag) -> String {
    match tag.kind {
        TagKind::Paired => format!("<{0}>…</{0}>: {1}", tag.name, tag.meaning),
        TagKind::Standalone => format!("<{}/>: {}", tag.name, tag.meaning),
    }
}

/// The tag a note line describes, or `None` when the line is an ordinary note.
pub fn parse_tag_note(line: &str) -> Option<Tag> {
    let rest = line.strip_prefix('<')?;
    let name_end = rest.find(|c: char| !c.is_ascii_alphanumeric())?;
    let (name, after_name) = rest.split_at(name_end);
    if name.is_empty() {
        return None;
    }
    let paired_end = format!(">…</{name}>: ");
    let (kind, meaning) = if let Some(meaning) = after_name.strip_prefix(&paired_end) {
        (TagKind::Paired, meaning)
    } else {
        (TagKind::Standalone, after_name.strip_prefix("/>: ")?)
    };
    Some(Tag { name: name.to_string(), kind, meaning: meaning.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(name: &str, kind: TagKind, meaning: &str) -> Tag {
        Tag { name: name.into(), kind, meaning: meaning.into() }
    }

    #[test]
    fn tag_notes_read_back_as_the_tags_they_describe() {
        for tag in [
            tag("g1", TagKind::Paired, "link to https://example.org/a?b=1"),
            tag("x2", TagKind::Standalone, "footnote [^asean-consular]"),
            tag("g3", TagKind::Paired, "emphasis: strong"),
        ] {
            assert_eq!(parse_tag_note(&tag_note(&tag)), Some(tag));
        }
    }

    #[test]
    fn ordinary_notes_are_not_tags() {
        for note in ["Paragraph 3 of objective 14", "<g1> is bold", "<>: x", "<g1>…</g2>: link"] {
            assert_eq!(parse_tag_note(note), None, "{note}");
        }
    }
}

/// What the tests of both formats share: a catalog with every hard case, and the check
/// for the real tools (msgfmt, xmllint) that read the files written.
#[cfg(test)]
pub mod testing {
    use crate::exchange::catalog::{Catalog, CatalogUnit, Tag, TagKind, UnitState};

    fn unit(id: &str, source: &str, target: &str, state: UnitState) -> CatalogUnit {
        CatalogUnit {
            id: id.into(),
            source: source.into(),
            target: target.into(),
            state,
            previous_source: None,
            notes: Vec::new(),
            tags: Vec::new(),
            line: 0,
        }
    }

    /// Quotes, backslashes, line breaks, tags, empty targets, an outdated unit, Arabic
    /// and Chinese.
    pub fn sample_catalog() -> Catalog {
        let link = Tag {
            name: "g1".into(),
            kind: TagKind::Paired,
            meaning: "link to https://example.org/?a=1&b=\"2\"".into(),
        };
        let footnote =
            Tag { name: "x2".into(), kind: TagKind::Standalone, meaning: "footnote [^asean-consular]".into() };
        let mut tagged = unit(
            "p-14-1",
            "See <g1>the \"report\"</g1><x2/> & more.",
            "Voir <g1>le « rapport »</g1><x2/> & plus.",
            UnitState::Translated,
        );
        tagged.tags = vec![link, footnote];
        tagged.notes = vec!["Objective 14, paragraph 1".into(), "A second note".into()];
        let mut outdated =
            unit("p-14-2", "Line one\nline two\n\tindented", "Ligne un\nligne deux\n\tindentée", UnitState::Outdated);
        outdated.previous_source = Some("Line one\nold line two".into());
        let mut outdated_empty = unit("q-14-1", "What changed?", "", UnitState::Outdated);
        outdated_empty.previous_source = Some("What did change?".into());
        Catalog {
            source_lang: "en".into(),
            target_lang: "fr".into(),
            original: "objective-14.md".into(),
            units: vec![
                unit(
                    "title",
                    "Objective 14: \"consular\" protection",
                    "Objectif 14 : protection « consulaire »",
                    UnitState::Translated,
                ),
                tagged,
                outdated,
                outdated_empty,
                unit("ui:path", r"C:\temp\new \n is not a newline", r"C:\temp\nouveau", UnitState::Translated),
                unit("fn:asean-consular", "Not translated yet, a < b > c", "", UnitState::New),
                unit("ar", "الهجرة الآمنة والمنظمة", "الهجرة الآمنة والمنظمة والنظامية", UnitState::Translated),
                unit("zh", "安全、有序和正常移民", "安全、有序和正常移民全球契约", UnitState::Translated),
                unit("half-tag", "A <g3>tag that is not closed, <g4></g5> <x> </g3", "", UnitState::New),
            ],
        }
    }

    /// The catalog without the lines units were read from, to compare with one written.
    pub fn without_lines(mut catalog: Catalog) -> Catalog {
        for unit in &mut catalog.units {
            unit.line = 0;
        }
        catalog
    }

    /// True when CI=true (or another non-empty value but 0 and false): a missing tool fails.
    fn in_ci() -> bool {
        std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
    }

    /// Whether a test may use what it needs; skips loudly without it, and fails in CI.
    pub fn available(what: &str, found: bool) -> bool {
        if !found {
            assert!(!in_ci(), "{what} is missing and CI is set: .ci/run installs it");
            eprintln!("SKIPPED: {what} is missing, so this test did not run (.ci/run installs it)");
        }
        found
    }

    /// Whether the program `name` is installed (it runs with `--version`).
    pub fn tool_available(name: &str) -> bool {
        let runs = std::process::Command::new(name)
            .arg("--version")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        available(name, runs)
    }
}
