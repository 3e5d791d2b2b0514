//! The plain text of each section of a page (the stretch under one heading), for the
//! search index, and of a footnote: the words joined by single spaces, one space between
//! blocks, headings left out. Collects text only: it writes no HTML and decides no ids
//! (the renderer tells it where a section starts).

use pulldown_cmark::{Event, Tag, TagEnd};
use serde::Serialize;

/// A stretch of the page's text under one heading, for the search index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Section {
    /// The heading's id, or `None` for the text before the first heading.
    pub id: Option<String>,
    pub heading: Option<String>,
    pub text: String,
}

/// Collects each section's plain text, one space between blocks.
#[derive(Default)]
pub(super) struct SectionCollector {
    sections: Vec<Section>,
    /// The id and heading of the section being read, once it has begun.
    current: Option<(Option<String>, Option<String>)>,
    /// Its text so far: one buffer for every section, each copied out at its exact length
    /// (sections are kept for the whole build), rather than a string of its own that
    /// grows by copying and is copied again to shed its spare room.
    text: String,
    in_heading: bool,
    /// Whitespace ended the text so far: the next word is preceded by a space.
    pending_space: bool,
}

impl SectionCollector {
    pub(super) fn observe(&mut self, event: &Event) {
        match event {
            Event::Start(Tag::Heading { .. }) => self.in_heading = true,
            Event::End(TagEnd::Heading(_)) => self.in_heading = false,
            _ if self.in_heading => {}
            Event::Text(text) | Event::Code(text) => self.push_text(text),
            Event::SoftBreak | Event::HardBreak => self.push_text(" "),
            Event::End(TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell | TagEnd::CodeBlock) => self.push_text(" "),
            _ => {}
        }
    }

    /// Appends text with its whitespace collapsed: one space between words, none at
    /// the start (the end is trimmed when the section is flushed).
    fn push_text(&mut self, text: &str) {
        if is_single_spaced(text) {
            // Most text: its words already one space apart, copied whole.
            self.push_single_spaced(text);
        } else {
            self.push_words(text);
        }
    }

    /// `push_text` for text whose only whitespace is single spaces.
    fn push_single_spaced(&mut self, text: &str) {
        let words = text.trim_matches(' ');
        let space = self.pending_space || text.starts_with(' ');
        if words.is_empty() {
            self.pending_space = space;
            return;
        }
        self.current.get_or_insert((None, None));
        if space && !self.text.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(words);
        self.pending_space = text.ends_with(' ');
    }

    /// `push_text` for any other text, word by word.
    fn push_words(&mut self, text: &str) {
        self.current.get_or_insert((None, None));
        let mut space = self.pending_space || text.starts_with(char::is_whitespace);
        let mut any_word = false;
        for word in text.split_whitespace() {
            if space && !self.text.is_empty() {
                self.text.push(' ');
            }
            self.text.push_str(word);
            space = true;
            any_word = true;
        }
        self.pending_space = if any_word { text.ends_with(char::is_whitespace) } else { space };
    }

    pub(super) fn start_section(&mut self, id: String, heading: String) {
        self.flush();
        self.current = Some((Some(id), Some(heading)));
    }

    fn flush(&mut self) {
        self.pending_space = false;
        if let Some((id, heading)) = self.current.take() {
            if !self.text.is_empty() || heading.is_some() {
                self.sections.push(Section { id, heading, text: self.text.as_str().to_owned() });
            }
        }
        self.text.clear();
    }

    pub(super) fn finish(mut self) -> Vec<Section> {
        self.flush();
        self.sections
    }
}

/// Whether the only whitespace in `text` is single spaces (no other whitespace
/// character, no two spaces in a row), found by vectorized byte searches.
fn is_single_spaced(text: &str) -> bool {
    let bytes = text.as_bytes();
    // Every whitespace character beyond ASCII starts with one of these bytes in UTF-8;
    // each one found is decoded to be sure (Chinese punctuation starts with 0xE3 too).
    let other_whitespace = || {
        memchr::memchr3_iter(0xC2, 0xE1, 0xE2, bytes)
            .chain(memchr::memchr_iter(0xE3, bytes))
            .any(|at| text[at..].chars().next().is_some_and(char::is_whitespace))
    };
    memchr::memchr3(b'\t', b'\n', b'\r', bytes).is_none()
        && memchr::memchr2(0x0B, 0x0C, bytes).is_none()
        && memchr::memmem::find(bytes, b"  ").is_none()
        && !other_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn section_text_is_the_words_joined_by_single_spaces(
            parts in proptest::collection::vec(
                proptest::string::string_regex("[a-zé中 \t\n\u{0B}\u{0C}\u{85}\u{A0}\u{1680}\u{2000}-\u{2030}\u{205F}\u{3000}-\u{3002}]{0,12}").unwrap(),
                0..6,
            )
        ) {
            let mut collector = SectionCollector::default();
            for part in &parts {
                collector.push_text(part);
            }
            let text: Vec<String> = collector.finish().into_iter().map(|s| s.text).collect();
            // Parts join without a space unless whitespace separates them.
            let words = parts.concat().split_whitespace().collect::<Vec<_>>().join(" ");
            let expected: Vec<String> = if words.is_empty() { Vec::new() } else { vec![words] };
            proptest::prop_assert_eq!(text, expected);
        }
    }

    #[test]
    fn section_text_has_single_spaces_between_words() {
        let mut collector = SectionCollector::default();
        for text in ["  Alpha  beta", "gamma ", " ", "\u{3000}delta\n", "epsilon\u{a0}", "", "zeta  "] {
            collector.push_text(text);
        }
        let text: Vec<String> = collector.finish().into_iter().map(|s| s.text).collect();
        assert_eq!(text, ["Alpha betagamma delta epsilon zeta"]);
    }
}
