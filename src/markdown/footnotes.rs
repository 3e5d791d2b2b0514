//! Footnotes: taking their definitions out of the page's events, the check that every
//! reference has a definition (and no label two), numbering in order of first reference,
//! the reference and back-link markup that links them both ways, and each note's HTML and
//! plain text for the references page. Owns no other markup: links, headings and blocks
//! inside a note are written by the renderer it is given.

use std::collections::BTreeMap;
use std::ops::Range;

use pulldown_cmark::{Event, Tag, TagEnd};
use serde::Serialize;

use super::error::MarkdownError;
use super::events::Spanned;
use super::sections::SectionCollector;
use crate::html::escape_html;

/// A note as the page and the references page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Footnote {
    pub label: String,
    pub number: usize,
    /// The element id of the note (`fn-1`).
    pub id: String,
    /// The ids of the references to it in the text, in order (`fnref-1`, `fnref-1-2`).
    pub reference_ids: Vec<String>,
    /// The note as HTML, ending with its links back to the text.
    pub html: String,
    /// The note's own HTML without the links back, for the references page.
    pub content_html: String,
    pub text: String,
    /// The first URL the note links to: how the references page knows two notes cite
    /// the same source.
    pub url: Option<String>,
}

/// Each footnote's definition by label: where it starts and its events.
pub(super) type Definitions<'a> = BTreeMap<String, (usize, Vec<Spanned<'a>>)>;

pub(super) fn split_footnote_definitions(
    events: Vec<Spanned<'_>>,
) -> Result<(Vec<Spanned<'_>>, Definitions<'_>), MarkdownError> {
    let mut body = Vec::with_capacity(events.len());
    let mut definitions = BTreeMap::new();
    let mut current: Option<(String, usize, Vec<Spanned>)> = None;
    let mut depth = 0usize;
    for (event, range) in events {
        match (&event, current.as_mut()) {
            (Event::Start(Tag::FootnoteDefinition(label)), None) => {
                current = Some((label.to_string(), range.start, Vec::new()));
            }
            (Event::Start(Tag::FootnoteDefinition(_)), Some((_, _, inner))) => {
                depth += 1;
                inner.push((event, range));
            }
            (Event::End(TagEnd::FootnoteDefinition), Some(_)) if depth == 0 => {
                if let Some((label, offset, inner)) = current.take() {
                    if definitions.contains_key(&label) {
                        return Err(MarkdownError::DuplicateFootnote { label, offset });
                    }
                    definitions.insert(label, (offset, inner));
                }
            }
            (Event::End(TagEnd::FootnoteDefinition), Some((_, _, inner))) => {
                depth -= 1;
                inner.push((event, range));
            }
            (_, Some((_, _, inner))) => inner.push((event, range)),
            (_, None) => body.push((event, range)),
        }
    }
    Ok((body, definitions))
}

/// pulldown-cmark leaves a reference to an undefined footnote as literal text, split
/// over several text events (`[`, `^label`, `]`), so look for that shape in each run of
/// adjacent text outside code.
pub(super) fn check_footnote_references(
    markdown: &str,
    body: &[Spanned],
    definitions: &Definitions,
) -> Result<(), MarkdownError> {
    let mut in_code = false;
    let mut run: Option<Range<usize>> = None;
    let check_run = |run: &Option<Range<usize>>| -> Result<(), MarkdownError> {
        let Some(range) = run else { return Ok(()) };
        let source = &markdown[range.clone()];
        match find_footnote_marker(source) {
            Some(found) if !definitions.contains_key(&source[found.clone()]) => Err(MarkdownError::UndefinedFootnote {
                label: source[found.clone()].to_string(),
                offset: range.start + found.start - 2,
            }),
            _ => Ok(()),
        }
    };
    for (event, range) in body {
        match event {
            Event::Text(_) if !in_code => {
                run = match run.take() {
                    Some(current) if current.end == range.start => Some(current.start..range.end),
                    previous => {
                        check_run(&previous)?;
                        Some(range.clone())
                    }
                };
                continue;
            }
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            Event::FootnoteReference(label) if !definitions.contains_key(label.as_ref()) => {
                return Err(MarkdownError::UndefinedFootnote { label: label.to_string(), offset: range.start });
            }
            _ => {}
        }
        check_run(&run.take())?;
    }
    check_run(&run)
}

/// The byte range of `label` in the first `[^label]` of `text`.
fn find_footnote_marker(text: &str) -> Option<Range<usize>> {
    // `[` found with memchr, then `^` checked: quicker than a two-byte substring search.
    let start = text.match_indices('[').map(|(at, _)| at + 1).find(|&at| text[at..].starts_with('^'))? + 1;
    let length = text[start..].find(']')?;
    let label = &text[start..start + length];
    let plausible = !label.is_empty() && !label.contains(char::is_whitespace);
    plausible.then_some(start..start + length)
}

/// The notes referenced so far, in order of first reference (a note's number is its
/// place here), each with how often it is referenced.
#[derive(Default)]
pub(super) struct FootnoteReferences {
    order: Vec<(String, usize)>,
}

impl FootnoteReferences {
    /// The HTML of a reference to the note `label`; `accessible_name` is its name for
    /// screen readers, with `{number}` replaced.
    pub(super) fn reference(&mut self, label: &str, accessible_name: &str) -> String {
        let index = match self.order.iter().position(|(l, _)| l == label) {
            Some(index) => index,
            None => {
                self.order.push((label.to_string(), 0));
                self.order.len() - 1
            }
        };
        self.order[index].1 += 1;
        let number = index + 1;
        let occurrence = self.order[index].1;
        let name = accessible_name.replace("{number}", &number.to_string());
        format!(
            "<sup class=\"footnote-ref\"><a href=\"#fn-{number}\" id=\"{}\" aria-label=\"{}\">{number}</a></sup>",
            reference_id(number, occurrence),
            escape_html(&name)
        )
    }
}

/// The referenced notes, numbered as referenced, each rendered by `transform` (the
/// renderer's, so that links inside a note are written as in the text);
/// `back_to_reference` names the links back, with `{number}` replaced. A note defined
/// but never referenced is left out.
pub(super) fn render_footnotes<'a>(
    referenced: FootnoteReferences,
    mut definitions: Definitions<'a>,
    back_to_reference: &str,
    mut transform: impl FnMut(Vec<Spanned<'a>>) -> Vec<Event<'a>>,
) -> Vec<Footnote> {
    let order = referenced.order;
    let mut footnotes = Vec::with_capacity(order.len());
    for (index, (label, references)) in order.into_iter().enumerate() {
        let Some((_, events)) = definitions.remove(&label) else { continue };
        let number = index + 1;
        let url = events.iter().find_map(|(event, _)| match event {
            Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
            _ => None,
        });
        let text = plain_text(&events);
        let transformed = transform(events);
        let mut content_html = String::new();
        pulldown_cmark::html::push_html(&mut content_html, transformed.into_iter());
        let reference_ids: Vec<String> = (1..=references).map(|n| reference_id(number, n)).collect();
        let html = with_back_links(&content_html, &reference_ids, number, back_to_reference);
        footnotes.push(Footnote {
            label,
            number,
            id: format!("fn-{number}"),
            reference_ids,
            html,
            content_html: content_html.trim_end().to_string(),
            text,
            url,
        });
    }
    footnotes
}

fn reference_id(number: usize, occurrence: usize) -> String {
    if occurrence == 1 { format!("fnref-{number}") } else { format!("fnref-{number}-{occurrence}") }
}

/// Puts the links back to the text inside the note's last paragraph, where readers
/// expect them, or after the note when it does not end with a paragraph.
fn with_back_links(content_html: &str, reference_ids: &[String], number: usize, label: &str) -> String {
    let label = escape_html(&label.replace("{number}", &number.to_string()));
    let links: String = reference_ids
        .iter()
        .map(|id| format!(" <a href=\"#{id}\" class=\"footnote-back\" aria-label=\"{label}\">↩</a>"))
        .collect();
    let trimmed = content_html.trim_end();
    match trimmed.strip_suffix("</p>") {
        Some(before) => format!("{before}{links}</p>"),
        None => format!("{trimmed}<p>{}</p>", links.trim_start()),
    }
}

fn plain_text(events: &[Spanned]) -> String {
    let mut collector = SectionCollector::default();
    for (event, _) in events {
        collector.observe(event);
    }
    collector.finish().into_iter().map(|s| s.text).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::tests::render_with;

    #[test]
    fn footnotes_are_numbered_by_first_reference_and_linked_both_ways() {
        let md = "Alpha[^b] beta[^a] gamma[^b].\n\n[^a]: <https://a.example/>\n\n[^b]: Note B.\n";
        let rendered = render_with(md, "/").unwrap();
        assert!(
            rendered.html.contains("<a href=\"#fn-1\" id=\"fnref-1\" aria-label=\"Note 1\">1</a>"),
            "{}",
            rendered.html
        );
        assert!(rendered.html.contains("id=\"fnref-2\""));
        assert!(rendered.html.contains("id=\"fnref-1-2\""));
        let labels: Vec<_> = rendered.footnotes.iter().map(|f| (f.label.as_str(), f.number)).collect();
        assert_eq!(labels, [("b", 1), ("a", 2)]);
        let b = &rendered.footnotes[0];
        assert_eq!(b.reference_ids, ["fnref-1", "fnref-1-2"]);
        assert!(b.html.ends_with("aria-label=\"Back to reference 1\">↩</a></p>"), "{}", b.html);
        assert_eq!(rendered.footnotes[1].url.as_deref(), Some("https://a.example/"));
        assert!(!rendered.html.contains("[^"));
    }

    #[test]
    fn undefined_footnote_is_an_error_with_its_offset() {
        let md = "Text\n\nMore[^missing] here.\n";
        let error = render_with(md, "/").unwrap_err();
        assert_eq!(error, MarkdownError::UndefinedFootnote { label: "missing".into(), offset: 10 });
    }

    #[test]
    fn a_footnote_marker_is_the_first_caret_in_brackets() {
        assert_eq!(find_footnote_marker("a [b] [^x] [^y]"), Some(8..9));
    }
}
