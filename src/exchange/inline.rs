//! Inline Markdown as tags a CAT tool protects. In a unit's text, each piece of inline
//! markup (emphasis, a link, a footnote reference, inline code, raw HTML) becomes a
//! numbered tag: `<g1>text</g1>` around text the translator translates, `<x2/>` for
//! what stands alone. The markup itself (the URL, the footnote label) is taken from the
//! original when the translation comes back, so a translator cannot break it.
//!
//! Pure: Markdown text in, tagged text out, and back.

use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Parser, Tag as MdTag, TagEnd};

use crate::exchange::catalog::{Tag, TagKind};

/// What one tag stands for in the Markdown it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markup {
    pub tag: Tag,
    /// The Markdown the tag (or, for a pair, the opening tag) replaces: `[`, `*`,
    /// `[^label]`.
    pub open: String,
    /// For a pair: the Markdown the closing tag replaces (`](https://...)`, `*`).
    pub close: String,
    /// What makes two pieces of markup the same in two languages: the kind and the
    /// URL, label or code (`link https://...`, `footnote asean-consular`, `emphasis`).
    signature: String,
}

/// A unit's text with its markup as tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub text: String,
    pub markup: Vec<Markup>,
}

/// A piece of markup found in a text: where it is, and what it replaces.
struct Found {
    /// For a pair, the opening markup's range and the closing one's; for a lone piece,
    /// its range twice.
    open: Range<usize>,
    close: Range<usize>,
    kind: TagKind,
    signature: String,
    meaning: String,
}

/// `markdown` with its inline markup as tags numbered from 1 in order.
pub fn tag_source(markdown: &str) -> Tagged {
    let found = find_markup(markdown);
    let markup: Vec<Markup> = found
        .iter()
        .enumerate()
        .map(|(index, piece)| {
            let name = match piece.kind {
                TagKind::Paired => format!("g{}", index + 1),
                TagKind::Standalone => format!("x{}", index + 1),
            };
            Markup {
                tag: Tag { name, kind: piece.kind, meaning: piece.meaning.clone() },
                open: markdown[piece.open.clone()].to_string(),
                close: if piece.kind == TagKind::Paired {
                    markdown[piece.close.clone()].to_string()
                } else {
                    String::new()
                },
                signature: piece.signature.clone(),
            }
        })
        .collect();
    let names: Vec<Option<&Tag>> = markup.iter().map(|m| Some(&m.tag)).collect();
    Tagged { text: replace(markdown, &found, &names), markup }
}

/// A translation's Markdown with its markup as the tags of its original's (`source`):
/// each piece takes the tag of the first unused piece of the original with the same
/// signature. Markup the original does not have stays as Markdown.
pub fn tag_translation(markdown: &str, source: &[Markup]) -> String {
    let found = find_markup(markdown);
    let mut used = vec![false; source.len()];
    let names: Vec<Option<&Tag>> = found
        .iter()
        .map(|piece| {
            let index = (0..source.len()).find(|&i| !used[i] && source[i].signature == piece.signature)?;
            used[index] = true;
            Some(&source[index].tag)
        })
        .collect();
    replace(markdown, &found, &names)
}

/// What is wrong with a translation's tags, for the translator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    #[error("the tag {tag} ({meaning}) is missing: keep every tag of the source in the translation")]
    Missing { tag: String, meaning: String },
    #[error("the tag {0} is not in the source: remove it, or use one of the source's tags")]
    Unknown(String),
    #[error("the tag {tag} ({meaning}) is there {count} times: keep it once, as in the source")]
    Repeated { tag: String, meaning: String, count: usize },
    #[error("the tags {0} are not closed in the order they were opened")]
    Misnested(String),
}

/// A translation with tags (`tagged`) as Markdown, each tag replaced by its original's
/// markup (`source`). Every tag of the source must be there once, pairs nested.
pub fn untag(tagged: &str, source: &[Markup]) -> Result<String, TagError> {
    let mut out = String::with_capacity(tagged.len());
    let mut counts = vec![(0usize, 0usize); source.len()];
    let mut open: Vec<usize> = Vec::new();
    let mut rest = tagged;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let Some((closing, name, lone, length)) = read_tag(&rest[at..]) else {
            out.push('<');
            rest = &rest[at + 1..];
            continue;
        };
        let written = &rest[at..at + length];
        let index = source.iter().position(|m| m.tag.name == name).ok_or_else(|| TagError::Unknown(written.into()))?;
        let markup = &source[index];
        match (markup.tag.kind, closing, lone) {
            (TagKind::Standalone, false, true) => {
                counts[index].0 += 1;
                out.push_str(&markup.open);
            }
            (TagKind::Paired, false, false) => {
                counts[index].0 += 1;
                open.push(index);
                out.push_str(&markup.open);
            }
            (TagKind::Paired, true, false) => {
                counts[index].1 += 1;
                if open.pop() != Some(index) {
                    return Err(TagError::Misnested(format!("<{name}>…</{name}>")));
                }
                out.push_str(&markup.close);
            }
            _ => return Err(TagError::Unknown(written.into())),
        }
        rest = &rest[at + length..];
    }
    out.push_str(rest);
    check_counts(source, &counts)?;
    Ok(out)
}

fn check_counts(source: &[Markup], counts: &[(usize, usize)]) -> Result<(), TagError> {
    for (markup, &(opened, closed)) in source.iter().zip(counts) {
        let shown = match markup.tag.kind {
            TagKind::Paired => format!("<{0}>…</{0}>", markup.tag.name),
            TagKind::Standalone => format!("<{}/>", markup.tag.name),
        };
        let meaning = markup.tag.meaning.clone();
        if opened == 0 {
            return Err(TagError::Missing { tag: shown, meaning });
        }
        if opened > 1 {
            return Err(TagError::Repeated { tag: shown, meaning, count: opened });
        }
        if markup.tag.kind == TagKind::Paired && closed != 1 {
            return Err(TagError::Misnested(shown));
        }
    }
    Ok(())
}

/// A tag at the start of `text`: whether it closes, its name, whether it stands alone,
/// and its length. `None` when `text` does not start with one of our tags.
fn read_tag(text: &str) -> Option<(bool, &str, bool, usize)> {
    let inner = text.strip_prefix('<')?;
    let (closing, inner) = match inner.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, inner),
    };
    inner.chars().next().filter(|c| matches!(c, 'g' | 'x'))?;
    let digits = inner[1..].find(|c: char| !c.is_ascii_digit()).unwrap_or(inner.len() - 1);
    if digits == 0 {
        return None;
    }
    let name = &inner[..1 + digits];
    let after = &inner[1 + digits..];
    let (lone, end) = if after.starts_with("/>") {
        (true, 2)
    } else if after.starts_with('>') {
        (false, 1)
    } else {
        return None;
    };
    let length = 1 + usize::from(closing) + name.len() + end;
    Some((closing, name, lone, length))
}

/// `markdown` with each piece of `found` replaced by its tag in `names` (left as written
/// where the name is `None`), and line breaks inside the text as spaces.
fn replace(markdown: &str, found: &[Found], names: &[Option<&Tag>]) -> String {
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    for (piece, name) in found.iter().zip(names) {
        let Some(tag) = name else { continue };
        match piece.kind {
            TagKind::Standalone => edits.push((piece.open.clone(), format!("<{}/>", tag.name))),
            TagKind::Paired => {
                edits.push((piece.open.clone(), format!("<{}>", tag.name)));
                edits.push((piece.close.clone(), format!("</{}>", tag.name)));
            }
        }
    }
    edits.sort_by_key(|(range, _)| (range.start, range.end));
    let mut out = String::with_capacity(markdown.len());
    let mut at = 0;
    for (range, text) in edits {
        if range.start < at {
            continue;
        }
        out.push_str(&markdown[at..range.start]);
        out.push_str(&text);
        at = range.end;
    }
    out.push_str(&markdown[at..]);
    out
}

/// The inline markup of `markdown`, in order of where it starts.
fn find_markup(markdown: &str) -> Vec<Found> {
    // A footnote reference is only one when its label is defined: define every label
    // the text mentions, after it, where no range of the text can reach.
    let mut text = markdown.to_string();
    let labels: Vec<&str> = markdown.split("[^").skip(1).filter_map(|rest| rest.split(']').next()).collect();
    for label in labels {
        text.push_str(&format!("\n\n[^{label}]: x\n"));
    }
    let mut found = Vec::new();
    // Open pairs: (index in `found`, the construct's range, the first and last byte its
    // content covers so far).
    let mut stack: Vec<(usize, Range<usize>, Option<Range<usize>>)> = Vec::new();
    let mut footnote_depth = 0usize;
    for (event, range) in Parser::new_ext(&text, crate::blocks::markdown_options()).into_offset_iter() {
        if range.start >= markdown.len() && !matches!(event, Event::End(_)) {
            break;
        }
        match &event {
            Event::Start(MdTag::FootnoteDefinition(_)) => footnote_depth += 1,
            Event::End(TagEnd::FootnoteDefinition) => footnote_depth -= 1,
            _ => {}
        }
        if footnote_depth > 0 {
            continue;
        }
        // What a pair's content covers: every event inside it but the ends (a pair's
        // end spans the whole pair; an inner pair's start already spans the inner one).
        if let Some((_, _, content)) = stack.last_mut().filter(|_| !matches!(event, Event::End(_))) {
            let covered = content.get_or_insert(range.clone());
            covered.start = covered.start.min(range.start);
            covered.end = covered.end.max(range.end);
        }
        match event {
            Event::Start(tag) => {
                if let Some((signature, meaning, lone)) = describe(&tag) {
                    found.push(Found {
                        open: range.clone(),
                        close: range.clone(),
                        kind: if lone { TagKind::Standalone } else { TagKind::Paired },
                        signature,
                        meaning,
                    });
                    if !lone {
                        stack.push((found.len() - 1, range, None));
                    } else {
                        stack.push((usize::MAX, range, None));
                    }
                }
            }
            Event::End(end) if is_inline_end(&end) => {
                if let Some((index, range, content)) = stack.pop() {
                    close_pair(&mut found, index, range, content);
                }
            }
            Event::FootnoteReference(label) => {
                found.push(lone(range, format!("footnote {label}"), format!("footnote [^{label}]")))
            }
            Event::Code(code) => found.push(lone(range, format!("code {code}"), format!("code `{code}`"))),
            Event::InlineHtml(html) => found.push(lone(range, format!("html {html}"), format!("HTML {html}"))),
            _ => {}
        }
    }
    found.sort_by_key(|piece| piece.open.start);
    found
}

/// Ends a pair: its opening markup runs to where its content starts, its closing markup
/// from where the content ends. A pair without content (`[](url)`) stands alone.
fn close_pair(found: &mut [Found], index: usize, range: Range<usize>, content: Option<Range<usize>>) {
    let Some(piece) = found.get_mut(index) else { return };
    match content {
        Some(content) if piece.kind == TagKind::Paired => {
            piece.open = range.start..content.start;
            piece.close = content.end..range.end;
        }
        _ => {
            piece.kind = TagKind::Standalone;
            piece.open = range.clone();
            piece.close = range;
        }
    }
}

fn lone(range: Range<usize>, signature: String, meaning: String) -> Found {
    Found { open: range.clone(), close: range, kind: TagKind::Standalone, signature, meaning }
}

fn is_inline_end(end: &TagEnd) -> bool {
    matches!(end, TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Link | TagEnd::Image)
}

/// For an inline tag: its signature, its meaning for the translator, and whether it
/// stands alone (an autolink or an image, whose text is not translated here).
fn describe(tag: &MdTag) -> Option<(String, String, bool)> {
    Some(match tag {
        MdTag::Emphasis => ("emphasis".into(), "emphasis".into(), false),
        MdTag::Strong => ("strong".into(), "strong emphasis".into(), false),
        MdTag::Strikethrough => ("strikethrough".into(), "struck-through text".into(), false),
        MdTag::Link { link_type: LinkType::Autolink | LinkType::Email, dest_url, .. } => {
            (format!("autolink {dest_url}"), format!("address {dest_url}"), true)
        }
        MdTag::Link { dest_url, .. } => (format!("link {dest_url}"), format!("link to {dest_url}"), false),
        MdTag::Image { dest_url, .. } => (format!("image {dest_url}"), format!("image {dest_url}"), true),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_becomes_numbered_tags_and_comes_back() {
        let markdown = "See *the* [Network's site](https://un.org/ \"UN\")[^a] and `code`, <https://x.org/>.";
        let tagged = tag_source(markdown);
        assert_eq!(tagged.text, "See <g1>the</g1> <g2>Network's site</g2><x3/> and <x4/>, <x5/>.");
        let meanings: Vec<&str> = tagged.markup.iter().map(|m| m.tag.meaning.as_str()).collect();
        assert_eq!(
            meanings,
            ["emphasis", "link to https://un.org/", "footnote [^a]", "code `code`", "address https://x.org/"]
        );
        assert_eq!(untag(&tagged.text, &tagged.markup).unwrap(), markdown);
        let french = untag("Voir <g2>le site du Réseau</g2><x3/>, <g1>la</g1> <x4/> <x5/>.", &tagged.markup).unwrap();
        assert_eq!(french, "Voir [le site du Réseau](https://un.org/ \"UN\")[^a], *la* `code` <https://x.org/>.");
    }

    #[test]
    fn a_translation_takes_its_original_s_tags() {
        let source = tag_source("Text[^a] with a [link](https://un.org/) and *stress*.");
        let translation = tag_translation("Texte avec un [lien](https://un.org/)[^a] et _accent_.", &source.markup);
        assert_eq!(translation, "Texte avec un <g2>lien</g2><x1/> et <g3>accent</g3>.");
    }

    #[test]
    fn tags_removed_added_or_misnested_are_refused() {
        let source = tag_source("A *b* [c](https://c.org/)[^n].").markup;
        assert_eq!(
            untag("A <g1>b</g1> <g2>c</g2>.", &source),
            Err(TagError::Missing { tag: "<x3/>".into(), meaning: "footnote [^n]".into() })
        );
        assert_eq!(untag("A <g1>b</g1> <g2>c</g2><x3/><x9/>.", &source), Err(TagError::Unknown("<x9/>".into())));
        assert!(matches!(untag("A <g1>b <g2>c</g1></g2><x3/>.", &source), Err(TagError::Misnested(_))));
        assert!(matches!(
            untag("<x3/> A <g1>b</g1> <g2>c</g2><x3/>.", &source),
            Err(TagError::Repeated { count: 2, .. })
        ));
        assert_eq!(untag("a < b <g> <x/>", &[]).unwrap(), "a < b <g> <x/>");
    }
}
