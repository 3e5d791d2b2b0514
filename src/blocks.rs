//! Blocks: the unit the whole pipeline aligns, tracks and exchanges. A page's body is
//! cut into blocks (headings, paragraphs, items of top-level lists, tables, quotes,
//! code and raw HTML blocks), numbered in order, and each block gets an id made of the
//! page and its position (`p-14-3`: the third block of objective 14). A translation
//! keeps its original's blocks in the same order, so the ids, and the anchors readers
//! link to, are the same in every language.
//!
//! The numbering rule, which `markdown` follows when it writes the anchors and
//! `translation` when it compares a translation with its original: blocks are counted
//! from 1 in the order they appear; editing a block keeps every id; inserting or
//! deleting a block renumbers the blocks after it on the same page only (other pages
//! keep theirs), and `status` says so, block by block. Guiding questions (`q-14-1`) and
//! footnotes (`fn:label`) are units with ids of their own.
//!
//! Pure: no I/O, no HTML.

use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::Serialize;

use crate::content::{FrontMatter, PageKind, SourcePage};

/// What a block is: a translation must have the same kinds in the same order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockKind {
    Heading,
    Paragraph,
    ListItem,
    Table,
    Quote,
    Code,
    Html,
}

impl BlockKind {
    /// The kind's name, as a note to a translator says it ("paragraph p-14-3").
    pub fn name(self) -> &'static str {
        match self {
            BlockKind::Heading => "heading",
            BlockKind::Paragraph => "paragraph",
            BlockKind::ListItem => "list item",
            BlockKind::Table => "table",
            BlockKind::Quote => "block quote",
            BlockKind::Code => "code block",
            BlockKind::Html => "HTML block",
        }
    }

    /// The kind as a warning says it ("a paragraph", "an HTML block").
    pub fn describe(self) -> String {
        let article = if self == BlockKind::Html { "an" } else { "a" };
        format!("{article} {}", self.name())
    }
}

/// Follows Markdown events and says where blocks start, by the numbering rule above.
/// Footnote definitions must be taken out of the events first (they are units of their
/// own, not blocks).
#[derive(Debug, Default)]
pub struct BlockCounter {
    /// How many container elements are open (paragraph, list, item, quote, ...).
    depth: usize,
    /// The depth of the top-level list being read, if any.
    in_top_list: bool,
    /// Blocks counted so far.
    count: usize,
}

/// A block that starts at an event: its kind, its number (from 1) and the depth at
/// which its element is open (`BlockCounter::ends_block` says when it closes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockStart {
    pub kind: BlockKind,
    pub number: usize,
    pub depth: usize,
}

impl BlockCounter {
    /// Reads one event; returns the block it starts, if it starts one.
    pub fn observe(&mut self, event: &Event) -> Option<BlockStart> {
        match event {
            Event::Start(tag) => {
                let started = self.block_kind(tag).map(|kind| {
                    self.count += 1;
                    BlockStart { kind, number: self.count, depth: self.depth }
                });
                if matches!(tag, Tag::List(_)) && self.depth == 0 {
                    self.in_top_list = true;
                }
                self.depth += 1;
                started
            }
            Event::End(end) => {
                self.depth = self.depth.saturating_sub(1);
                if matches!(end, TagEnd::List(_)) && self.depth == 0 {
                    self.in_top_list = false;
                }
                None
            }
            _ => None,
        }
    }

    /// Whether `event`, just observed, closes the block that `start` opened.
    pub fn ends_block(&self, event: &Event, start: &BlockStart) -> bool {
        matches!(event, Event::End(_)) && self.depth == start.depth
    }

    fn block_kind(&self, tag: &Tag) -> Option<BlockKind> {
        if self.in_top_list {
            return (self.depth == 1 && matches!(tag, Tag::Item)).then_some(BlockKind::ListItem);
        }
        if self.depth != 0 {
            return None;
        }
        match tag {
            Tag::Heading { .. } => Some(BlockKind::Heading),
            Tag::Paragraph => Some(BlockKind::Paragraph),
            Tag::Table(_) => Some(BlockKind::Table),
            Tag::BlockQuote(_) => Some(BlockKind::Quote),
            Tag::CodeBlock(_) => Some(BlockKind::Code),
            Tag::HtmlBlock => Some(BlockKind::Html),
            _ => None,
        }
    }
}

/// The prefix of a page's block ids: `p-14` for objective 14, `p-home` for a language's
/// home page, `p-<path>` for other pages (`p-about`, `p-annex-costs`). The same in every
/// language, since translations share their original's key and objective number.
pub fn block_prefix(front: &FrontMatter, key: &str) -> String {
    if let (PageKind::Objective, Some(number)) = (front.kind, front.objective) {
        return format!("p-{number}");
    }
    let stem = key.strip_suffix(".md").unwrap_or(key);
    let stem = stem.strip_suffix("_index").unwrap_or(stem).trim_end_matches('/');
    if stem.is_empty() {
        return "p-home".to_string();
    }
    let slug: String = stem.chars().map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    format!("p-{slug}")
}

/// The id of block `number` of a page whose prefix is `prefix`.
pub fn block_id(prefix: &str, number: usize) -> String {
    format!("{prefix}-{number}")
}

/// Whether a unit id is a block's (`p-14-3`), as opposed to a front-matter value's, a
/// question's (`q-14-1`) or a footnote's (`fn:label`).
pub fn is_block_id(id: &str) -> bool {
    id.starts_with("p-")
}

/// What a unit is, for status reports and translators' notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnitKind {
    /// A front-matter value: `title`, `short_label`, `description`.
    Field,
    Question,
    Block(BlockKind),
    Footnote,
}

/// One translatable unit of a page, as written in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// `title`, `short_label`, `description`, `q-14-1`, `p-14-3`, `fn:label`.
    pub id: String,
    pub kind: UnitKind,
    /// The Markdown (or front-matter value) as written, without the block's own marker
    /// (`## `, `- `, `[^label]: `).
    pub text: String,
    /// For blocks and footnotes: where `text` is in the body (bytes).
    pub span: Option<Range<usize>>,
    /// The file line the unit starts on.
    pub line: usize,
}

/// Every unit of a page, in order: the front-matter values, the guiding questions, the
/// body's blocks, then the footnotes.
pub fn page_units(page: &SourcePage) -> Vec<Unit> {
    let prefix = block_prefix(&page.front, &page.key);
    let mut units = front_matter_units(&page.front);
    units.extend(body_units(page.body(), &prefix, page.body_line));
    units
}

pub fn front_matter_units(front: &FrontMatter) -> Vec<Unit> {
    let field =
        |id: &str, text: &str| Unit { id: id.into(), kind: UnitKind::Field, text: text.into(), span: None, line: 1 };
    let mut units = vec![field("title", &front.title)];
    units.extend(front.short_label.as_deref().map(|text| field("short_label", text)));
    units.extend(front.description.as_deref().map(|text| field("description", text)));
    units.extend(front.questions.iter().map(|question| Unit {
        id: question.id.clone(),
        kind: UnitKind::Question,
        text: question.text.clone(),
        span: None,
        line: 1,
    }));
    units
}

/// The blocks and footnotes of a body whose first line is `first_line` of its file.
pub fn body_units(body: &str, prefix: &str, first_line: usize) -> Vec<Unit> {
    let mut blocks = Vec::new();
    let mut footnotes = Vec::new();
    let mut counter = BlockCounter::default();
    let mut open: Option<(BlockStart, usize)> = None;
    let mut footnote: Option<(String, usize)> = None;
    let mut footnote_depth = 0usize;
    for (event, range) in Parser::new_ext(body, markdown_options()).into_offset_iter() {
        match &event {
            Event::Start(Tag::FootnoteDefinition(label)) => {
                if footnote_depth == 0 {
                    footnote = Some((label.to_string(), range.start));
                }
                footnote_depth += 1;
                continue;
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                footnote_depth -= 1;
                if let (0, Some((label, start))) = (footnote_depth, footnote.take()) {
                    footnotes.push(footnote_unit(body, &label, start..range.end, first_line));
                }
                continue;
            }
            _ if footnote_depth > 0 => continue,
            _ => {}
        }
        if let Some(start) = counter.observe(&event) {
            open = Some((start, range.start));
            continue;
        }
        if let Some((start, from)) = open.filter(|(start, _)| counter.ends_block(&event, start)) {
            open = None;
            let span = content_span(body, start.kind, from..range.end);
            blocks.push(Unit {
                id: block_id(prefix, start.number),
                kind: UnitKind::Block(start.kind),
                text: body[span.clone()].to_string(),
                line: line_of(body, span.start, first_line),
                span: Some(span),
            });
        }
    }
    blocks.extend(footnotes);
    blocks
}

/// The options every reading of a page's Markdown uses, so that blocks are cut where
/// the renderer sees them.
pub fn markdown_options() -> Options {
    Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TABLES
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_STRIKETHROUGH
}

fn footnote_unit(body: &str, label: &str, range: Range<usize>, first_line: usize) -> Unit {
    let written = &body[range.clone()];
    let marker_end = written.find("]:").map_or(0, |at| at + 2);
    let leading = written[marker_end..].len() - written[marker_end..].trim_start().len();
    let span = trimmed(body, range.start + marker_end + leading..range.end);
    Unit {
        id: format!("fn:{label}"),
        kind: UnitKind::Footnote,
        text: body[span.clone()].to_string(),
        line: line_of(body, range.start, first_line),
        span: Some(span),
    }
}

/// The part of a block a translator translates: without the heading's `#`s, the list
/// item's marker, or the trailing blank lines.
fn content_span(body: &str, kind: BlockKind, range: Range<usize>) -> Range<usize> {
    let range = trimmed(body, range);
    let written = &body[range.clone()];
    let marker = match kind {
        BlockKind::Heading => heading_marker(written),
        BlockKind::ListItem => item_marker(written),
        _ => 0,
    };
    trimmed(body, range.start + marker..range.end)
}

fn heading_marker(written: &str) -> usize {
    let hashes = written.len() - written.trim_start_matches('#').len();
    if hashes == 0 {
        return 0;
    }
    let after = &written[hashes..];
    hashes + (after.len() - after.trim_start_matches([' ', '\t']).len())
}

fn item_marker(written: &str) -> usize {
    let digits = written.len() - written.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let rest = &written[digits..];
    let bullet = usize::from(rest.starts_with(['-', '*', '+', '.', ')']));
    let after = &rest[bullet..];
    digits + bullet + (after.len() - after.trim_start_matches([' ', '\t']).len())
}

/// `range` without surrounding whitespace.
fn trimmed(body: &str, range: Range<usize>) -> Range<usize> {
    let written = &body[range.clone()];
    let start = range.start + (written.len() - written.trim_start().len());
    let end = range.end - (written.len() - written.trim_end().len());
    start..end.max(start)
}

fn line_of(body: &str, offset: usize, first_line: usize) -> usize {
    first_line + body[..offset].matches('\n').count()
}

/// A unit's text as compared between versions: what an editor's re-wrapping or
/// typography changes leave as it was. Whitespace runs become one space; curly quotes
/// and apostrophes become straight ones, dashes hyphens, the ellipsis three dots and
/// non-breaking spaces spaces (the renderer's smart punctuation makes the same of both).
pub fn normalized(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let folded = match c {
            '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{2032}' => "'",
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{2033}' => "\"",
            '\u{2013}' | '\u{2014}' | '\u{2212}' => "-",
            '\u{2026}' => "...",
            c if c.is_whitespace() => {
                space = true;
                continue;
            }
            _ => {
                if space && !out.is_empty() {
                    out.push(' ');
                }
                space = false;
                out.push(c);
                continue;
            }
        };
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push_str(folded);
    }
    // `--` and `---` are how a plain-text editor writes the dashes folded above.
    if out.contains("--") {
        out = out.replace("---", "-").replace("--", "-");
    }
    out
}

/// The hash a translation of `page` records in `source_hash`, made once per page. Asked
/// for while the body is still there: loading settles the translations' states before a
/// clean build lets the text go (`Site::release_source_text`).
pub fn content_hash(page: &SourcePage) -> &str {
    page.content_hash_slot().get_or_init(|| hash_units(&page.front, &page.key, page.body()))
}

/// The hash that identifies a version of a page's translatable text: each unit's id and
/// text (`page_units`) as `normalized` leaves it, so that re-wrapping a
/// paragraph or typesetting its quotes is not a new version. Front-matter formatting and
/// untranslated keys (`weight`, `kind`) do not count either.
fn hash_units(front: &FrontMatter, key: &str, body: &str) -> String {
    let prefix = block_prefix(front, key);
    let mut hasher = blake3::Hasher::new();
    let units = front_matter_units(front).into_iter().chain(body_units(body, &prefix, 1));
    for unit in units {
        hasher.update(unit.id.as_bytes());
        hasher.update(b"\0");
        hasher.update(normalized(&unit.text).as_bytes());
        hasher.update(b"\0");
    }
    hasher.finalize().to_hex()[..16].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids_and_texts(body: &str) -> Vec<(String, String)> {
        body_units(body, "p-14", 1).into_iter().map(|u| (u.id, u.text)).collect()
    }

    #[test]
    fn blocks_are_numbered_in_order_with_their_markers_left_out() {
        let body = "## Intro\n\nFirst *para*\ngoes on.\n\n- one\n- two\n  - nested\n\n1. three\n\n> quoted\n\n| a |\n|---|\n| b |\n\nLast[^n].\n\n[^n]: The note.\n";
        let units = ids_and_texts(body);
        let expected = [
            ("p-14-1", "Intro"),
            ("p-14-2", "First *para*\ngoes on."),
            ("p-14-3", "one"),
            ("p-14-4", "two\n  - nested"),
            ("p-14-5", "three"),
            ("p-14-6", "> quoted"),
            ("p-14-7", "| a |\n|---|\n| b |"),
            ("p-14-8", "Last[^n]."),
            ("fn:n", "The note."),
        ];
        let expected: Vec<(String, String)> = expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(units, expected);
    }

    #[test]
    fn units_know_their_lines() {
        let units = body_units("\nOne.\n\nTwo\nlines.\n\n[^a]: Note.\n", "p-x", 10);
        let lines: Vec<usize> = units.iter().map(|u| u.line).collect();
        assert_eq!(lines, [11, 13, 16]);
    }

    #[test]
    fn inserting_a_block_renumbers_only_the_blocks_after_it() {
        let before = ids_and_texts("A.\n\nB.\n\nC.\n");
        let after = ids_and_texts("A.\n\nNew.\n\nB.\n\nC.\n");
        assert_eq!(before[0], after[0]);
        assert_eq!(after[2], ("p-14-3".to_string(), "B.".to_string()));
        assert_eq!(after.len(), 4);
    }

    #[test]
    fn prefixes_name_the_page_the_same_way_in_every_language() {
        let front = |kind: &str| -> FrontMatter {
            toml::from_str(&format!("title = \"T\"\nkind = \"{kind}\"\nobjective = 14\nshort_label = \"S\"")).unwrap()
        };
        assert_eq!(block_prefix(&front("objective"), "whatever.md"), "p-14");
        let page: FrontMatter = toml::from_str("title = \"T\"").unwrap();
        assert_eq!(block_prefix(&page, "_index.md"), "p-home");
        assert_eq!(block_prefix(&page, "annex/Costs.md"), "p-annex-costs");
    }

    #[test]
    fn rewrapping_and_typography_do_not_count_as_changes() {
        let plain = "The \"mobile consulates\" -- set up in 2020 -- worked... it's true.";
        let typeset = "The \u{201c}mobile consulates\u{201d} \u{2013} set up\nin\u{a0}2020 \u{2013}  worked\u{2026} it\u{2019}s true.";
        assert_eq!(normalized(plain), normalized(typeset));
        assert_ne!(normalized(plain), normalized("The \"mobile consulates\" worked."));
    }

    fn page(text: &str) -> SourcePage {
        let english = crate::types::LangCode::parse("en").unwrap();
        crate::content::parse_page(&english, "a.md", std::path::Path::new("a.md"), text).unwrap()
    }

    #[test]
    fn content_hash_follows_text_not_formatting() {
        let a = page("+++\ntitle = \"A\"\n+++\nBody\n");
        let b = page("+++\ntitle    =   \"A\"\nweight = 3\n+++\n\nBody\n\n");
        let c = page("+++\ntitle = \"A\"\n+++\nBody changed\n");
        let crlf = page("+++\r\ntitle = \"A\"\r\n+++\r\nBody\r\n");
        assert_eq!(content_hash(&a), content_hash(&crlf));
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
    }
}
