//! Turns a page's Markdown into HTML with pulldown-cmark, plus what the templates and
//! the search index need from it: the headings (with unique ids, for the table of
//! contents), the footnotes (numbered in order of first reference, linked both ways),
//! and the plain text of each section. Pure: no I/O, no knowledge of templates.
//!
//! This file holds the entry points (`render`, `render_inline`, `inline_text`) and the
//! renderer itself: block ids, heading ids, links (external ones marked, internal ones
//! under the base path). The parts with rules of their own are beside it: `sanitize`
//! (the allowlist raw HTML goes through, a security boundary), `footnotes`, `sections`
//! (plain text for search), `error` (what stops a page) and `events` (the parser options
//! and the spanned events they all read). Each is below this file: none imports it, their
//! tests aside, which go through `render`.

mod error;
mod events;
mod footnotes;
mod sanitize;
mod sections;

use std::collections::BTreeSet;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Parser, Tag, TagEnd};
use serde::Serialize;

pub use self::error::MarkdownError;
use self::events::{Spanned, options};
pub use self::footnotes::Footnote;
use self::footnotes::{Definitions, FootnoteReferences, check_footnote_references, split_footnote_definitions};
pub(crate) use self::sanitize::is_safe_url;
use self::sanitize::{Sanitized, needs_sanitizing, raw_html_too_deep, sanitize_html, unsafe_markup};
use self::sections::{Section, SectionCollector};
use crate::blocks::{BlockCounter, BlockKind, BlockStart};
use crate::html::escape_html;

/// The words the Markdown renderer writes itself, in the content's language.
#[derive(Debug, Clone)]
pub struct MarkdownStrings {
    /// Read by screen readers after an external link, e.g. "(external link)".
    pub external_link: String,
    /// Accessible name of a footnote reference; `{number}` is replaced.
    pub footnote_reference: String,
    /// Accessible name of a footnote's link back to the text; `{number}` is replaced.
    pub back_to_reference: String,
}

/// What the renderer needs besides the Markdown itself.
pub struct MarkdownContext<'a> {
    pub strings: &'a MarkdownStrings,
    /// The base URL's path (`/` or `/imrf/`), prefixed to root-relative links.
    pub base_path: &'a str,
    /// The site's own origin: links to it are not marked external.
    pub site_origin: &'a str,
    /// Ids the templates use on the same page; headings never take them.
    pub reserved_ids: &'a [&'a str],
    /// The page's block id prefix (`p-14`, see `blocks::block_prefix`): each block of the
    /// body gets the id `<prefix>-<number>` (the theme's script adds the permalinks, so
    /// that pages do not carry a link per paragraph in their bytes).
    pub block_prefix: &'a str,
    /// Publish raw HTML as written (`unsafe_html = true` in site/config.toml) instead of
    /// passing it through the allowlist sanitizer.
    pub trust_raw_html: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub(crate) headings: Vec<Heading>,
    pub footnotes: Vec<Footnote>,
    pub(crate) sections: Vec<Section>,
    /// Markup that could run scripts, which the sanitizer removed: for warnings.
    pub(crate) sanitized: Vec<Sanitized>,
    /// The body's blocks in order (their ids are `<prefix>-1`, `<prefix>-2`, ...), for
    /// comparing a translation's blocks with its original's.
    pub(crate) blocks: Vec<BlockMark>,
}

/// A block of the body: what it is and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct BlockMark {
    pub kind: BlockKind,
    /// The byte offset in the Markdown.
    pub offset: usize,
}

/// Renders a page's Markdown.
pub fn render(markdown: &str, context: &MarkdownContext) -> Result<Rendered, MarkdownError> {
    let events: Vec<Spanned> = Parser::new_ext(markdown, options()).into_offset_iter().collect();
    let (body, definitions) = split_footnote_definitions(events)?;
    check_footnote_references(markdown, &body, &definitions)?;

    let sanitize = !context.trust_raw_html
        && (body.iter().chain(definitions.values().flat_map(|(_, events)| events)).any(|(e, _)| needs_sanitizing(e)));
    let sanitized = if sanitize {
        if let Some(offset) = raw_html_too_deep(&body) {
            return Err(MarkdownError::RawHtmlTooDeep { offset });
        }
        body.iter().chain(definitions.values().flat_map(|(_, events)| events)).filter_map(unsafe_markup).collect()
    } else {
        Vec::new()
    };

    let mut renderer = Renderer::new(context);
    let body_events = renderer.transform(body, true);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, body_events.into_iter());
    let mut footnotes = renderer.render_footnotes(definitions);
    if sanitize {
        html = sanitize_html(&html);
        for footnote in &mut footnotes {
            footnote.html = sanitize_html(&footnote.html);
            footnote.content_html = sanitize_html(&footnote.content_html);
        }
    }
    // Kept for the whole build, like the sections: no spare capacity.
    html.shrink_to_fit();
    Ok(Rendered {
        html,
        headings: renderer.headings,
        footnotes,
        sections: renderer.sections.finish(),
        sanitized,
        blocks: renderer.blocks,
    })
}

/// Renders one line of Markdown (a guiding question) without the paragraph around it.
pub fn render_inline(markdown: &str, trust_raw_html: bool) -> String {
    let events: Vec<Event> = Parser::new_ext(markdown, options())
        .filter(|event| !matches!(event, Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph)))
        .collect();
    let sanitize = !trust_raw_html && events.iter().any(needs_sanitizing);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    if sanitize { sanitize_html(html.trim_end()) } else { html.trim_end().to_string() }
}

/// Plain text of one line of Markdown, with the same typography as its HTML.
pub(crate) fn inline_text(markdown: &str) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(markdown, options()) {
        if let Event::Text(t) | Event::Code(t) = event {
            text.push_str(&t);
        }
    }
    text
}

struct Renderer<'c> {
    context: &'c MarkdownContext<'c>,
    used_ids: BTreeSet<String>,
    headings: Vec<Heading>,
    footnote_references: FootnoteReferences,
    sections: SectionCollector,
    blocks: Vec<BlockMark>,
}

impl<'c> Renderer<'c> {
    fn new(context: &'c MarkdownContext<'c>) -> Self {
        Self {
            context,
            used_ids: context.reserved_ids.iter().map(|id| (*id).to_string()).collect(),
            headings: Vec::new(),
            footnote_references: FootnoteReferences::default(),
            sections: SectionCollector::default(),
            blocks: Vec::new(),
        }
    }

    /// The events of the body (`is_body`, whose text and blocks are collected) or of a
    /// footnote, as the HTML writer is to write them.
    fn transform<'a>(&mut self, events: Vec<Spanned<'a>>, is_body: bool) -> Vec<Event<'a>> {
        let mut out = Vec::with_capacity(events.len());
        let mut external_links = Vec::new();
        let mut heading: Option<(HeadingLevel, Option<String>, Vec<Event<'a>>)> = None;
        let mut counter = BlockCounter::default();
        let mut block: Option<(BlockStart, String)> = None;
        for (event, range) in events {
            if is_body {
                self.sections.observe(&event);
                if let Some(start) = counter.observe(&event) {
                    self.blocks.push(BlockMark { kind: start.kind, offset: range.start });
                    let id = crate::blocks::block_id(self.context.block_prefix, start.number);
                    let opening = block_opening(start.kind, &id);
                    block = Some((start, id));
                    if let Some((html, replaces_event)) = opening {
                        out.push(Event::Html(html.into()));
                        if replaces_event {
                            continue;
                        }
                    }
                } else if let Some((start, _)) =
                    block.take_if(|(start, _)| start.kind != BlockKind::Heading && counter.ends_block(&event, start))
                {
                    if wraps_in_div(start.kind) {
                        out.push(event);
                        out.push(Event::Html("</div>\n".into()));
                        continue;
                    }
                }
            }
            match event {
                Event::Start(Tag::Heading { level, id, .. }) => {
                    heading = Some((level, id.map(|i| i.to_string()), Vec::new()));
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, id, inner)) = heading.take() {
                        let block_id = block.take().map(|(_, id)| id);
                        let html = self.heading_html(level, id, inner, block_id);
                        out.push(Event::Html(html.into()));
                    }
                }
                Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                    let external = is_external(&dest_url, self.context.site_origin);
                    external_links.push(external);
                    let event = self.link_start(link_type, dest_url, title, id, external);
                    push(&mut out, &mut heading, event);
                }
                Event::End(TagEnd::Link) => {
                    if external_links.pop().unwrap_or(false) {
                        let note = format!(
                            "<span class=\"visually-hidden\"> {}</span>",
                            escape_html(&self.context.strings.external_link)
                        );
                        push(&mut out, &mut heading, Event::InlineHtml(note.into()));
                    }
                    push(&mut out, &mut heading, Event::End(TagEnd::Link));
                }
                Event::FootnoteReference(label) => {
                    let html = self.footnote_references.reference(&label, &self.context.strings.footnote_reference);
                    push(&mut out, &mut heading, Event::InlineHtml(html.into()));
                }
                other => push(&mut out, &mut heading, other),
            }
        }
        out
    }

    fn link_start<'a>(
        &self,
        link_type: LinkType,
        dest_url: CowStr<'a>,
        title: CowStr<'a>,
        id: CowStr<'a>,
        external: bool,
    ) -> Event<'a> {
        if external {
            let title_attr =
                if title.is_empty() { String::new() } else { format!(" title=\"{}\"", escape_html(&title)) };
            let html =
                format!("<a href=\"{}\" class=\"external\" rel=\"external\"{title_attr}>", escape_html(&dest_url));
            return Event::InlineHtml(html.into());
        }
        let dest_url = match dest_url.strip_prefix('/') {
            Some(rest) if !rest.starts_with('/') => format!("{}{rest}", self.context.base_path).into(),
            _ => dest_url,
        };
        Event::Start(Tag::Link { link_type, dest_url, title, id })
    }

    /// A heading's HTML. A heading of the body (`block_id`) is a block: its id is the
    /// block's, the same in every language, unless the Markdown gives one (`{#id}`).
    fn heading_html(
        &mut self,
        level: HeadingLevel,
        id: Option<String>,
        inner: Vec<Event>,
        block_id: Option<String>,
    ) -> String {
        let text: String = inner
            .iter()
            .filter_map(|e| match e {
                Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                _ => None,
            })
            .collect();
        let record = block_id.is_some();
        let id = self.unique_id(id.or(block_id).unwrap_or_else(|| slugify(&text)));
        let level = level as u8;
        let mut html = format!("<h{level} id=\"{}\">", escape_html(&id));
        pulldown_cmark::html::push_html(&mut html, inner.into_iter());
        html.push_str(&format!("</h{level}>\n"));
        if record {
            self.sections.start_section(id.clone(), text.clone());
            self.headings.push(Heading { level, id, text });
        }
        html
    }

    fn unique_id(&mut self, base: String) -> String {
        let mut id = base.clone();
        let mut n = 2;
        while self.used_ids.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        self.used_ids.insert(id.clone());
        id
    }

    /// The notes the body references, in the order of its first references to them.
    fn render_footnotes(&mut self, definitions: Definitions) -> Vec<Footnote> {
        let referenced = std::mem::take(&mut self.footnote_references);
        let context = self.context;
        footnotes::render_footnotes(referenced, definitions, &context.strings.back_to_reference, |events| {
            self.transform(events, false)
        })
    }
}

fn push<'a>(
    out: &mut Vec<Event<'a>>,
    heading: &mut Option<(HeadingLevel, Option<String>, Vec<Event<'a>>)>,
    event: Event<'a>,
) {
    match heading {
        Some((_, _, inner)) => inner.push(event),
        None => out.push(event),
    }
}

/// The HTML that opens a block with its id, and whether it replaces the start event
/// (a paragraph, an item or a quote takes the id itself; a table, code or raw HTML is
/// wrapped in a `div` that holds the id). A heading writes its own.
fn block_opening(kind: BlockKind, id: &str) -> Option<(String, bool)> {
    match kind {
        BlockKind::Heading => None,
        BlockKind::Paragraph => Some((format!("<p id=\"{id}\">"), true)),
        BlockKind::ListItem => Some((format!("<li id=\"{id}\">"), true)),
        BlockKind::Quote => Some((format!("<blockquote id=\"{id}\">\n"), true)),
        BlockKind::Table | BlockKind::Code | BlockKind::Html => {
            Some((format!("<div class=\"block\" id=\"{id}\">\n"), false))
        }
    }
}

/// Whether a block's id is on a `div` around it (see `block_opening`).
fn wraps_in_div(kind: BlockKind) -> bool {
    matches!(kind, BlockKind::Table | BlockKind::Code | BlockKind::Html)
}

fn is_external(url: &str, site_origin: &str) -> bool {
    let absolute = url.starts_with("http://") || url.starts_with("https://") || url.starts_with("//");
    absolute && !(url.starts_with(site_origin) && url[site_origin.len()..].starts_with(['/', '?', '#']))
        || url.starts_with("mailto:")
}

/// An id from heading text: lower case, letters and digits of any script kept, the
/// rest turned into single hyphens.
fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() { "section".to_string() } else { slug.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn strings() -> MarkdownStrings {
        MarkdownStrings {
            external_link: "(external link)".into(),
            footnote_reference: "Note {number}".into(),
            back_to_reference: "Back to reference {number}".into(),
        }
    }

    pub(super) fn render_with(markdown: &str, base_path: &str) -> Result<Rendered, MarkdownError> {
        let strings = strings();
        let context = MarkdownContext {
            strings: &strings,
            base_path,
            site_origin: "https://example.org",
            reserved_ids: &["main-content"],
            block_prefix: "p-t",
            trust_raw_html: false,
        };
        render(markdown, &context)
    }

    #[test]
    fn external_links_are_marked_and_internal_links_get_the_base_path() {
        let md = "[out](https://un.org/) [in](/en/objective-14/) [self](https://example.org/en/)";
        let html = render_with(md, "/imrf/").unwrap().html;
        assert!(html.contains("<a href=\"https://un.org/\" class=\"external\" rel=\"external\">out<span class=\"visually-hidden\"> (external link)</span></a>"), "{html}");
        assert!(html.contains("<a href=\"/imrf/en/objective-14/\">in</a>"), "{html}");
        assert!(html.contains("<a href=\"https://example.org/en/\">self</a>"), "{html}");
    }

    #[test]
    fn headings_take_block_ids_or_their_own_unique_ids_and_start_sections() {
        let md = "Intro text.\n\n## Main content {#main-content}\n\nOne.\n\n## Main content {#main-content}\n\nTwo.\n\n### Überblick 概述\n";
        let rendered = render_with(md, "/").unwrap();
        let ids: Vec<_> = rendered.headings.iter().map(|h| h.id.as_str()).collect();
        assert_eq!(ids, ["main-content-2", "main-content-3", "p-t-6"]);
        let kinds: Vec<BlockKind> = rendered.blocks.iter().map(|b| b.kind).collect();
        use BlockKind::{Heading, Paragraph};
        assert_eq!(kinds, [Paragraph, Heading, Paragraph, Heading, Paragraph, Heading]);
        assert_eq!(rendered.sections[0], Section { id: None, heading: None, text: "Intro text.".into() });
        assert_eq!(rendered.sections[1].text, "One.");
    }

    #[test]
    fn rendered_html_snapshot() {
        let md = "Intro with a source[^a] and [a link](https://un.org/) -- and \"quotes\".\n\n\
                  ## Overview of *progress*\n\n| Country | Agreements |\n| --- | --- |\n| Portugal | 20 |\n\n\
                  - one[^b]\n- two [inside](/en/objective-14/#q-14-1)\n\n\
                  [^a]: The Lab – <https://example.com/lab/>\n\n[^b]: Second note.\n\n    With a second paragraph.\n";
        let rendered = render_with(md, "/imrf/").unwrap();
        let footnotes: Vec<&str> = rendered.footnotes.iter().map(|f| f.html.as_str()).collect();
        insta::assert_snapshot!(format!("{}\n---\n{}", rendered.html, footnotes.join("\n")));
    }

    #[test]
    fn smart_punctuation_applies() {
        assert_eq!(render_inline("the \"mobile\" migrants' -- x", false), "the “mobile” migrants’ – x");
        assert_eq!(inline_text("a \"b\""), "a “b”");
    }
}
