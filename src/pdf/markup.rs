//! Markdown to Typst markup, for the PDF. The same parser and options as the pages
//! (`blocks::markdown_options`); every character of text is escaped, so nothing a
//! writer or translator types is read as Typst code; footnotes become Typst footnotes
//! where they are referenced, so they print at the foot of their page. Pure: it knows
//! nothing of pages or languages. Raw HTML, which pages show only through the sanitizer,
//! and images are left out.

use std::collections::HashMap;

use pulldown_cmark::{Event, HeadingLevel, LinkType, Parser, Tag, TagEnd};

use crate::blocks::markdown_options;
use crate::markdown::is_safe_url;

/// How the Markdown of one page is set into the PDF.
pub(super) struct MarkupOptions<'a> {
    /// Added to each Markdown heading's level: the PDF's outline has the page's own
    /// title above the headings of an objective page, none above the home page's.
    pub(super) heading_offset: i8,
    /// Makes a link written in the page (`/en/x/`, `../x/`) absolute: the PDF is read
    /// away from the site.
    pub(super) absolute: &'a dyn Fn(&str) -> String,
    /// Set in a right-to-left language: a URL written as text is isolated as
    /// left-to-right, or its slashes would move to its other end.
    pub(super) right_to_left: bool,
    /// Markup set before the first heading (the home page's contents come after its
    /// opening paragraph), or after the text when it has none.
    pub(super) before_first_heading: Option<&'a str>,
}

/// Typst markup of a page's Markdown body.
pub(super) fn body_markup(markdown: &str, options: &MarkupOptions) -> String {
    let events: Vec<Event> = Parser::new_ext(markdown, markdown_options()).collect();
    let (body, definitions) = split_footnote_definitions(events);
    let no_notes = HashMap::new();
    let mut notes = HashMap::new();
    for (label, events) in definitions {
        let mut writer = Writer::new(options, &no_notes);
        writer.write_all(events);
        notes.insert(label, writer.out.trim().to_string());
    }
    let mut writer = Writer::new(options, &notes);
    writer.write_all(body);
    if let Some(markup) = writer.before_first_heading.take() {
        writer.out.push_str(markup);
    }
    writer.out.trim().to_string()
}

/// Typst markup of one line of Markdown (a title, a guiding question).
pub(super) fn inline_markup(markdown: &str, options: &MarkupOptions) -> String {
    let events = Parser::new_ext(markdown, markdown_options())
        .filter(|event| !matches!(event, Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph)));
    let no_notes = HashMap::new();
    let mut writer = Writer::new(options, &no_notes);
    writer.write_all(events.collect());
    writer.out.trim().to_string()
}

/// The body's events, and each footnote definition's events by label.
fn split_footnote_definitions(events: Vec<Event>) -> (Vec<Event>, Vec<(String, Vec<Event>)>) {
    let mut body = Vec::new();
    let mut definitions: Vec<(String, Vec<Event>)> = Vec::new();
    let mut depth = 0usize;
    for event in events {
        match &event {
            Event::Start(Tag::FootnoteDefinition(label)) => {
                if depth == 0 {
                    definitions.push((label.to_string(), Vec::new()));
                }
                depth += 1;
            }
            Event::End(TagEnd::FootnoteDefinition) => depth = depth.saturating_sub(1),
            _ if depth > 0 => {
                if let Some((_, events)) = definitions.last_mut() {
                    events.push(event);
                }
            }
            _ => body.push(event),
        }
    }
    (body, definitions)
}

/// What an open Markdown element closes with.
enum Closing {
    Text(&'static str),
    /// A list item: its content ends, and the list goes on.
    Item,
    Nothing,
}

struct Writer<'a> {
    options: &'a MarkupOptions<'a>,
    /// Each footnote's markup, by label.
    notes: &'a HashMap<String, String>,
    /// The footnotes already set, whose later references point back to them.
    noted: HashMap<String, String>,
    open: Vec<Closing>,
    /// Inside an image: its alt text is not set.
    image_depth: usize,
    /// Inside a code block: its text goes into a string.
    code: Option<String>,
    /// Inside a link whose text is its URL, in a right-to-left language.
    isolating: bool,
    before_first_heading: Option<&'a str>,
    out: String,
}

impl<'a> Writer<'a> {
    fn new(options: &'a MarkupOptions<'a>, notes: &'a HashMap<String, String>) -> Self {
        Self {
            options,
            notes,
            noted: HashMap::new(),
            open: Vec::new(),
            image_depth: 0,
            code: None,
            isolating: false,
            before_first_heading: options.before_first_heading,
            out: String::new(),
        }
    }

    fn write_all(&mut self, events: Vec<Event>) {
        for event in events {
            self.write(event);
        }
    }

    fn write(&mut self, event: Event) {
        if self.image_depth > 0 {
            match event {
                Event::Start(Tag::Image { .. }) => self.image_depth += 1,
                Event::End(TagEnd::Image) => self.image_depth -= 1,
                _ => {}
            }
            return;
        }
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => match &mut self.code {
                Some(code) => code.push_str(&text),
                None => push_escaped(&mut self.out, &text),
            },
            Event::Code(code) => {
                self.out.push_str("#raw(");
                push_string(&mut self.out, &code);
                self.out.push(')');
            }
            Event::SoftBreak => self.out.push(' '),
            Event::HardBreak => self.out.push_str("#linebreak()"),
            Event::Rule => self.out.push_str("\n#line(length: 100%)\n\n"),
            Event::FootnoteReference(label) => self.footnote(&label),
            // Raw HTML is shown on pages only through the sanitizer; math and task
            // lists are not enabled.
            _ => {}
        }
    }

    fn start(&mut self, tag: Tag) {
        let closing = match tag {
            Tag::Paragraph => Closing::Text("\n\n"),
            Tag::Heading { level, .. } => {
                if let Some(markup) = self.before_first_heading.take() {
                    self.out.push_str(markup);
                }
                let level = (heading_number(level) + self.options.heading_offset).max(1);
                self.out.push('\n');
                self.out.push_str(&"=".repeat(level as usize));
                self.out.push(' ');
                Closing::Text("\n\n")
            }
            Tag::Emphasis => self.call("#emph["),
            Tag::Strong => self.call("#strong["),
            Tag::Strikethrough => self.call("#strike["),
            Tag::BlockQuote(_) => self.call("#quote(block: true)["),
            Tag::Link { link_type, dest_url, .. } => {
                // A link within the page, or one the pages' sanitizer would not publish,
                // is set as its text.
                if dest_url.starts_with('#') || !is_safe_url(&dest_url) {
                    Closing::Nothing
                } else {
                    let target = match link_type {
                        LinkType::Email => format!("mailto:{dest_url}"),
                        _ => (self.options.absolute)(&dest_url),
                    };
                    self.out.push_str("#link(");
                    push_string(&mut self.out, &target);
                    self.out.push_str(")[");
                    if self.options.right_to_left && link_type == LinkType::Autolink {
                        self.out.push(LEFT_TO_RIGHT_ISOLATE);
                        self.isolating = true;
                    }
                    Closing::Text("]")
                }
            }
            Tag::List(None) => self.call_list("#list("),
            Tag::List(Some(start)) => self.call_list(&format!("#enum(start: {start}, ")),
            Tag::Item => {
                self.out.push('[');
                Closing::Item
            }
            Tag::Table(alignments) => self.call_list(&format!("#table(columns: {}, ", alignments.len().max(1))),
            Tag::TableCell => {
                self.out.push('[');
                Closing::Item
            }
            Tag::CodeBlock(_) => {
                self.code = Some(String::new());
                Closing::Nothing
            }
            Tag::Image { .. } => {
                self.image_depth = 1;
                return;
            }
            _ => Closing::Nothing,
        };
        self.open.push(closing);
    }

    fn end(&mut self, tag: TagEnd) {
        if tag == TagEnd::CodeBlock
            && let Some(code) = self.code.take()
        {
            self.out.push_str("\n#raw(block: true, ");
            push_string(&mut self.out, code.trim_end_matches('\n'));
            self.out.push_str(")\n\n");
        }
        if tag == TagEnd::Link && std::mem::take(&mut self.isolating) {
            self.out.push(POP_DIRECTIONAL_ISOLATE);
        }
        match self.open.pop() {
            Some(Closing::Text(text)) => {
                if text == "\n\n" {
                    trim_trailing_spaces(&mut self.out);
                }
                self.out.push_str(text);
            }
            Some(Closing::Item) => {
                trim_trailing_spaces(&mut self.out);
                self.out.push_str("], ");
            }
            Some(Closing::Nothing) | None => {}
        }
    }

    fn call(&mut self, opening: &str) -> Closing {
        self.out.push_str(opening);
        Closing::Text("]")
    }

    /// A list or table: a function call whose arguments are its items' content blocks.
    fn call_list(&mut self, opening: &str) -> Closing {
        self.out.push('\n');
        self.out.push_str(opening);
        Closing::Text(")\n\n")
    }

    /// A footnote where it is referenced; a second reference to the same note points
    /// to the first instead of printing it twice.
    fn footnote(&mut self, label: &str) {
        let Some(note) = self.notes.get(label) else { return };
        if let Some(typst_label) = self.noted.get(label) {
            self.out.push_str(&format!("#footnote(<{typst_label}>)"));
            return;
        }
        // Numbered, not named after the Markdown label: a Typst label allows fewer
        // characters than a footnote label (`[^①]`).
        let typst_label = format!("fn-{}", self.noted.len() + 1);
        self.out.push_str(&format!("#footnote[{note}]<{typst_label}>"));
        self.noted.insert(label.to_string(), typst_label);
    }
}

const LEFT_TO_RIGHT_ISOLATE: char = '\u{2066}';
const POP_DIRECTIONAL_ISOLATE: char = '\u{2069}';

fn heading_number(level: HeadingLevel) -> i8 {
    level as i8
}

fn trim_trailing_spaces(out: &mut String) {
    let kept = out.trim_end_matches(' ').len();
    out.truncate(kept);
}

/// Text in markup, every ASCII punctuation character escaped: `*`, `_`, `#`, `$`, `[`,
/// `<`, `@`, `=`, `-`, `/`, quotes and the rest each mean something in Typst markup, and
/// a backslash before any of them makes it a plain character. Line breaks (every
/// character Typst takes for one) are spaces: a paragraph's lines are one paragraph.
pub(super) fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            c if typst::syntax::is_newline(c) => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

/// `text` escaped for markup (`push_escaped`).
pub(super) fn escaped(text: &str) -> String {
    let mut out = String::new();
    push_escaped(&mut out, text);
    out
}

/// A Typst string literal.
pub(super) fn push_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn absolute(url: &str) -> String {
        if url.starts_with('/') { format!("https://example.org{url}") } else { url.to_string() }
    }

    fn markup(markdown: &str) -> String {
        body_markup(
            markdown,
            &MarkupOptions { heading_offset: 0, absolute: &absolute, right_to_left: false, before_first_heading: None },
        )
    }

    #[test]
    fn text_that_looks_like_typst_is_set_as_written() {
        assert_eq!(
            markup("#set page(width: 1pt) $x$ a<b @b **c** = d"),
            r"\#set page\(width\: 1pt\) \$x\$ a\<b \@b #strong[c] \= d"
        );
    }

    #[test]
    fn emphasis_links_and_headings_become_their_typst_elements() {
        assert_eq!(
            markup("## Gaps\n\nSee *the* [Hub](/en/objective-14/) and <https://example.org/a_b>."),
            "== Gaps\n\nSee #emph[the] #link(\"https://example.org/en/objective-14/\")[Hub] and \
             #link(\"https://example.org/a_b\")[https\\:\\/\\/example\\.org\\/a\\_b]\\."
        );
    }

    #[test]
    fn footnotes_are_set_where_they_are_referenced_and_once() {
        let text = markup("One[^a] and two[^a].\n\n[^a]: The *source*.\n");
        assert_eq!(text, "One#footnote[The #emph[source]\\.]<fn-1> and two#footnote(<fn-1>)\\.");
    }

    #[test]
    fn any_footnote_label_makes_a_valid_typst_label() {
        assert_eq!(markup("A[^①].\n\n[^①]: Note.\n"), "A#footnote[Note\\.]<fn-1>\\.");
    }

    #[test]
    fn lists_are_function_calls_so_that_their_items_hold_any_text() {
        assert_eq!(markup("3. first\n4. second"), "#enum(start: 3, [first], [second], )");
        assert_eq!(markup("- a [b]\n- c"), "#list([a \\[b\\]], [c], )");
    }

    #[test]
    fn in_a_right_to_left_language_urls_are_isolated_left_to_right() {
        let options =
            MarkupOptions { heading_offset: 0, absolute: &absolute, right_to_left: true, before_first_heading: None };
        assert_eq!(
            body_markup("<https://a.org/>", &options),
            "#link(\"https://a.org/\")[\u{2066}https\\:\\/\\/a\\.org\\/\u{2069}]"
        );
    }

    #[test]
    fn the_contents_go_before_the_first_heading_or_after_a_text_without_one() {
        let options = MarkupOptions {
            heading_offset: -1,
            absolute: &absolute,
            right_to_left: false,
            before_first_heading: Some("#contents()\n"),
        };
        assert_eq!(
            body_markup("Preface.\n\n## Introduction\n\nText.", &options),
            "Preface\\.\n\n#contents()\n\n= Introduction\n\nText\\."
        );
        assert_eq!(body_markup("Preface.", &options), "Preface\\.\n\n#contents()");
    }

    /// The leaves of escaped text as Typst reads it, with what each one says.
    fn read_back(markup: &str) -> Result<String, String> {
        fn leaves(node: &typst::syntax::SyntaxNode, out: &mut String) -> Result<(), String> {
            use typst::syntax::SyntaxKind;
            match node.kind() {
                SyntaxKind::Markup => node.children().try_for_each(|child| leaves(child, out)),
                SyntaxKind::Text | SyntaxKind::Space => {
                    out.push_str(node.leaf_text());
                    Ok(())
                }
                SyntaxKind::Escape => {
                    out.push_str(node.leaf_text().strip_prefix('\\').unwrap_or_default());
                    Ok(())
                }
                other => Err(format!("{other:?}: {}", node.full_text())),
            }
        }
        let mut out = String::new();
        leaves(&typst::syntax::parse(markup), &mut out)?;
        Ok(out)
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_is_read_by_typst_as_that_text(text in "\\PC{0,40}") {
            let expected: String = text.chars().map(|c| if typst::syntax::is_newline(c) { ' ' } else { c }).collect();
            proptest::prop_assert_eq!(read_back(&escaped(&text)), Ok(expected));
        }
    }

    #[test]
    fn line_breaks_of_every_kind_and_markup_characters_stay_text() {
        for text in [
            "a\u{2028}b\u{2029}\u{85}c\u{b}d",
            "= not a heading",
            "- not a list",
            "1. not a list",
            "/ term: no",
            "a -- b ... 'c' \"d\" ~",
        ] {
            let expected: String = text.chars().map(|c| if typst::syntax::is_newline(c) { ' ' } else { c }).collect();
            assert_eq!(read_back(&escaped(text)), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn unsafe_links_are_set_as_their_text_and_email_links_get_mailto() {
        assert_eq!(markup("[x](javascript:alert(1)) <a@b.org>"), "x #link(\"mailto:a@b.org\")[a\\@b\\.org]");
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_control_characters() {
        let mut out = String::new();
        push_string(&mut out, "a \"b\" \\ c\n\u{7}");
        assert_eq!(out, r#""a \"b\" \\ c\n\u{7}""#);
    }
}
