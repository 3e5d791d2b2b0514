//! Turns a page's Markdown into HTML with pulldown-cmark, plus what the templates and
//! the search index need from it: the headings (with unique ids, for the table of
//! contents), the footnotes (numbered in order of first reference, linked both ways),
//! and the plain text of each section. Pure: no I/O, no knowledge of templates.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::blocks::{BlockCounter, BlockKind, BlockStart};

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
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

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

/// A stretch of the page's text under one heading, for the search index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    /// The heading's id, or `None` for the text before the first heading.
    pub id: Option<String>,
    pub heading: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    pub headings: Vec<Heading>,
    pub footnotes: Vec<Footnote>,
    pub sections: Vec<Section>,
    /// Markup that could run scripts, which the sanitizer removed: for warnings.
    pub sanitized: Vec<Sanitized>,
    /// The body's blocks in order (their ids are `<prefix>-1`, `<prefix>-2`, ...), for
    /// comparing a translation's blocks with its original's.
    pub blocks: Vec<BlockMark>,
}

/// A block of the body: what it is and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockMark {
    pub kind: BlockKind,
    /// The byte offset in the Markdown.
    pub offset: usize,
}

/// Something the HTML sanitizer removed from a page, and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sanitized {
    /// The byte offset in the Markdown.
    pub offset: usize,
    pub what: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkdownError {
    #[error("footnote reference `[^{label}]` has no definition (add a line `[^{label}]: ...`)")]
    UndefinedFootnote { label: String, offset: usize },
    #[error("footnote `[^{label}]` is defined twice")]
    DuplicateFootnote { label: String, offset: usize },
    #[error(
        "raw HTML nested more than {MAX_RAW_HTML_DEPTH} elements deep, too deep to sanitize; flatten it (or set unsafe_html = true in site/config.toml)"
    )]
    RawHtmlTooDeep { offset: usize },
}

/// How deep raw HTML may nest when it is sanitized: the HTML parser's scope checks grow
/// with depth, so absurd nesting would stall the build for minutes.
pub const MAX_RAW_HTML_DEPTH: usize = 512;

impl MarkdownError {
    /// The byte offset in the Markdown where the problem is.
    pub fn offset(&self) -> usize {
        match self {
            MarkdownError::UndefinedFootnote { offset, .. }
            | MarkdownError::DuplicateFootnote { offset, .. }
            | MarkdownError::RawHtmlTooDeep { offset } => *offset,
        }
    }
}

fn options() -> Options {
    crate::blocks::markdown_options()
}

type Spanned<'a> = (Event<'a>, Range<usize>);

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

/// The allowlist raw HTML goes through: ammonia's defaults (formatting, tables, links
/// and images with http(s), mailto and tel URLs; no scripts, styles, frames, forms or
/// event handlers), plus the attributes the renderer itself writes.
static SANITIZER: std::sync::LazyLock<ammonia::Builder<'static>> = std::sync::LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .add_generic_attributes(["id", "class", "aria-label", "aria-hidden", "dir", "lang"])
        .link_rel(None)
        .add_tag_attributes("a", ["rel"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .filter_style_properties(["text-align"].into())
        .url_schemes(["http", "https", "mailto", "tel"].into());
    builder
});

fn sanitize_html(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Where raw HTML first opens more than [`MAX_RAW_HTML_DEPTH`] nested elements, if it does
/// (counting start and end tags, as written, across the page's raw HTML).
fn raw_html_too_deep(events: &[Spanned]) -> Option<usize> {
    const VOID: [&str; 14] =
        ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr", "param"];
    let mut depth = 0usize;
    for (event, range) in events {
        let (Event::Html(html) | Event::InlineHtml(html)) = event else { continue };
        for (at, _) in html.match_indices('<') {
            let rest = &html[at + 1..];
            if rest.starts_with('/') {
                depth = depth.saturating_sub(1);
                continue;
            }
            let name_length = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
            let name = rest[..name_length].to_ascii_lowercase();
            let self_closing = rest.find('>').is_some_and(|end| rest[..end].ends_with('/'));
            if name_length == 0 || self_closing || VOID.contains(&name.as_str()) {
                continue;
            }
            depth += 1;
            if depth > MAX_RAW_HTML_DEPTH {
                return Some(range.start + at.min(range.len()));
            }
        }
    }
    None
}

/// Whether an event is raw HTML or a link the sanitizer must see.
fn needs_sanitizing(event: &Event) -> bool {
    match event {
        Event::Html(_) | Event::InlineHtml(_) => true,
        Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => !is_safe_url(dest_url),
        _ => false,
    }
}

/// A description of what in a raw HTML or link event could run a script.
fn unsafe_markup((event, range): &(Event, Range<usize>)) -> Option<Sanitized> {
    let what = match event {
        Event::Html(html) | Event::InlineHtml(html) => describe_unsafe_html(html)?,
        Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) if !is_safe_url(dest_url) => {
            "a link whose scheme is not http, https, mailto or tel (such as javascript:)"
        }
        _ => return None,
    };
    Some(Sanitized { offset: range.start, what })
}

fn describe_unsafe_html(html: &str) -> Option<&'static str> {
    let lower = html.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&["<script", "</script"]) {
        Some("a <script> element")
    } else if has(&["<style", "<iframe", "<object", "<embed", "<form", "<frame", "<base", "<meta", "<link"]) {
        Some("an element outside the allowlist (style, iframe, object, embed, form, frame, base, meta or link)")
    } else if has_event_handler(&lower) {
        Some("an event handler attribute (on...=)")
    } else if has(&["javascript:", "vbscript:", "data:"]) {
        Some("a URL whose scheme is not http, https, mailto or tel (such as javascript:)")
    } else {
        None
    }
}

/// Whether lower-case HTML has an attribute such as ` onclick=` or `/onload =`.
fn has_event_handler(lower: &str) -> bool {
    let bytes = lower.as_bytes();
    lower.match_indices("on").any(|(at, _)| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let separated = matches!(before, Some(b' ' | b'\t' | b'\n' | b'/' | b'"' | b'\''));
        let name_end = lower[at + 2..].find(|c: char| !c.is_ascii_alphabetic()).map_or(lower.len(), |n| at + 2 + n);
        separated && name_end > at + 2 && lower[name_end..].trim_start().starts_with('=')
    })
}

/// Relative URLs and http(s), mailto and tel are safe; any other scheme (javascript:,
/// vbscript:, data:) is not. Browsers ignore tabs, newlines and leading spaces in a
/// scheme, so those are dropped before looking.
fn is_safe_url(url: &str) -> bool {
    let cleaned: String = url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control()).collect();
    let scheme_end = cleaned.find(':');
    let path_start = cleaned.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (Some(colon), Some(slash)) if slash < colon => true,
        (Some(colon), _) => ["http", "https", "mailto", "tel"].iter().any(|s| cleaned[..colon].eq_ignore_ascii_case(s)),
        (None, _) => true,
    }
}

/// Plain text of one line of Markdown, with the same typography as its HTML.
pub fn inline_text(markdown: &str) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(markdown, options()) {
        if let Event::Text(t) | Event::Code(t) = event {
            text.push_str(&t);
        }
    }
    text
}

type Definitions<'a> = BTreeMap<String, (usize, Vec<Spanned<'a>>)>;

fn split_footnote_definitions(events: Vec<Spanned<'_>>) -> Result<(Vec<Spanned<'_>>, Definitions<'_>), MarkdownError> {
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
fn check_footnote_references(markdown: &str, body: &[Spanned], definitions: &Definitions) -> Result<(), MarkdownError> {
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

struct Renderer<'c> {
    context: &'c MarkdownContext<'c>,
    used_ids: BTreeSet<String>,
    headings: Vec<Heading>,
    /// Footnote labels in order of first reference, with how often each is referenced.
    footnote_order: Vec<(String, usize)>,
    sections: SectionCollector,
    blocks: Vec<BlockMark>,
}

impl<'c> Renderer<'c> {
    fn new(context: &'c MarkdownContext<'c>) -> Self {
        Self {
            context,
            used_ids: context.reserved_ids.iter().map(|id| (*id).to_string()).collect(),
            headings: Vec::new(),
            footnote_order: Vec::new(),
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
                    let html = self.footnote_reference(&label);
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

    fn footnote_reference(&mut self, label: &str) -> String {
        let index = match self.footnote_order.iter().position(|(l, _)| l == label) {
            Some(index) => index,
            None => {
                self.footnote_order.push((label.to_string(), 0));
                self.footnote_order.len() - 1
            }
        };
        self.footnote_order[index].1 += 1;
        let number = index + 1;
        let occurrence = self.footnote_order[index].1;
        let name = self.context.strings.footnote_reference.replace("{number}", &number.to_string());
        format!(
            "<sup class=\"footnote-ref\"><a href=\"#fn-{number}\" id=\"{}\" aria-label=\"{}\">{number}</a></sup>",
            reference_id(number, occurrence),
            escape_html(&name)
        )
    }

    fn render_footnotes(&mut self, mut definitions: Definitions) -> Vec<Footnote> {
        let order = std::mem::take(&mut self.footnote_order);
        let mut footnotes = Vec::with_capacity(order.len());
        for (index, (label, references)) in order.into_iter().enumerate() {
            let Some((_, events)) = definitions.remove(&label) else { continue };
            let number = index + 1;
            let url = events.iter().find_map(|(event, _)| match event {
                Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
                _ => None,
            });
            let text = plain_text(&events);
            let transformed = self.transform(events, false);
            let mut content_html = String::new();
            pulldown_cmark::html::push_html(&mut content_html, transformed.into_iter());
            let reference_ids: Vec<String> = (1..=references).map(|n| reference_id(number, n)).collect();
            let html = with_back_links(&content_html, &reference_ids, number, &self.context.strings.back_to_reference);
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

fn is_external(url: &str, site_origin: &str) -> bool {
    let absolute = url.starts_with("http://") || url.starts_with("https://") || url.starts_with("//");
    absolute && !(url.starts_with(site_origin) && url[site_origin.len()..].starts_with(['/', '?', '#']))
        || url.starts_with("mailto:")
}

/// Collects each section's plain text, one space between blocks.
#[derive(Default)]
struct SectionCollector {
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
    fn observe(&mut self, event: &Event) {
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

    fn start_section(&mut self, id: String, heading: String) {
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

    fn finish(mut self) -> Vec<Section> {
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

/// An id from heading text: lower case, letters and digits of any script kept, the
/// rest turned into single hyphens.
pub fn slugify(text: &str) -> String {
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

pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    // The characters to escape are ASCII, which never occurs inside a multi-byte UTF-8
    // sequence: copy the stretches between them whole.
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        escaped.push_str(&text[start..index]);
        escaped.push_str(entity);
        start = index + 1;
    }
    escaped.push_str(&text[start..]);
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings() -> MarkdownStrings {
        MarkdownStrings {
            external_link: "(external link)".into(),
            footnote_reference: "Note {number}".into(),
            back_to_reference: "Back to reference {number}".into(),
        }
    }

    fn render_with(markdown: &str, base_path: &str) -> Result<Rendered, MarkdownError> {
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
    fn raw_html_goes_through_the_allowlist_unless_trusted() {
        let md = "Text <abbr title=\"Global Compact\">GCM</abbr> <b onclick=\"steal()\">bold</b>.\n\n\
                  <script>\nalert(1)\n</script>\n\n[click](javascript:alert(2)) \
                  [ok](https://un.org/) [tab](java\tscript:alert(3))\n\n<img src=x onerror=alert(4)>\n\n\
                  Note[^n].\n\n[^n]: <a href=\"javascript:alert(5)\">source</a>\n";
        let rendered = render_with(md, "/").unwrap();
        let all = format!("{}{}", rendered.html, rendered.footnotes[0].html);
        for bad in ["<script", "alert(1)", "onclick", "javascript:", "onerror"] {
            assert!(!all.contains(bad), "{bad} in {all}");
        }
        for good in
            ["<abbr title=\"Global Compact\">GCM</abbr>", "<b>bold</b>", "href=\"https://un.org/\"", "id=\"fnref-1\""]
        {
            assert!(all.contains(good), "{good} missing from {all}");
        }
        let what: Vec<&str> = rendered.sanitized.iter().map(|s| s.what).collect();
        assert_eq!(what.len(), 6, "{what:?}");
        assert_eq!(&md[rendered.sanitized[0].offset..][..2], "<b");

        let strings = strings();
        let trusted = MarkdownContext {
            strings: &strings,
            base_path: "/",
            site_origin: "https://example.org",
            reserved_ids: &[],
            block_prefix: "p-t",
            trust_raw_html: true,
        };
        let html = render(md, &trusted).unwrap().html;
        assert!(html.contains("<script>\nalert(1)\n</script>") && html.contains("onclick"), "{html}");
        assert_eq!(render_inline("Is <i>it</i> <b onmouseover=\"x()\">so</b>?", false), "Is <i>it</i> <b>so</b>?");
        assert!(render_inline("<b onmouseover=\"x()\">so</b>", true).contains("onmouseover"));
    }

    #[test]
    fn pages_without_raw_html_are_not_reserialized() {
        let md = "A line  \nbreak and a [link](/en/) & \"quotes\".\n";
        let rendered = render_with(md, "/").unwrap();
        assert!(rendered.html.contains("<br />"), "{}", rendered.html);
        assert!(rendered.sanitized.is_empty());
    }

    #[test]
    fn raw_html_is_sanitized_up_to_a_depth_limit() {
        let deep = |n: usize| format!("Text\n\n{}x{}\n", "<div onclick=\"a()\">".repeat(n), "</div>".repeat(n));
        let html = render_with(&deep(MAX_RAW_HTML_DEPTH), "/").unwrap().html;
        assert!(!html.contains("onclick") && html.matches("<div>").count() == MAX_RAW_HTML_DEPTH);
        let error = render_with(&deep(100_000), "/").unwrap_err();
        assert_eq!(error, MarkdownError::RawHtmlTooDeep { offset: 6 + MAX_RAW_HTML_DEPTH * 19 });
        let inline = format!("{}x{}\n", "<span><br>".repeat(600), "</span>".repeat(600));
        assert!(render_with(&inline, "/").is_err(), "inline elements count too; void ones do not");
    }

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
        assert_eq!(escape_html("a<b>&\"c'd 中文"), "a&lt;b&gt;&amp;&quot;c&#39;d 中文");
        assert_eq!(find_footnote_marker("a [b] [^x] [^y]"), Some(8..9));
    }

    #[test]
    fn smart_punctuation_applies() {
        assert_eq!(render_inline("the \"mobile\" migrants' -- x", false), "the “mobile” migrants’ – x");
        assert_eq!(inline_text("a \"b\""), "a “b”");
    }
}
