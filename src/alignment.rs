//! Whether each translation keeps its original's blocks: the same kinds (heading,
//! paragraph, list item, ...) in the same order, which is what makes a block's id, and
//! the anchor readers link to, mean the same text in every language (see `blocks`).
//! Reads the rendered Markdown's block marks; reports warnings, since a misaligned page
//! still builds.

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::diagnostic::{Location, Warning};
use crate::markdown::BlockMark;
use crate::render::RenderedSources;
use crate::site::{Site, Translation};

/// One warning for each translation whose blocks differ from its original's, naming
/// both files, the first block that differs and its lines.
pub fn warnings(site: &Site, sources: &RenderedSources) -> Vec<Warning> {
    pairs(site)
        .par_iter()
        .filter_map(|&(translation, original)| compare(site, sources, translation, original))
        .collect()
}

/// The translations the check compares with their originals, in the site's page order:
/// (the translation's source, its original's source).
pub fn pairs(site: &Site) -> Vec<(usize, usize)> {
    let originals: BTreeMap<&str, usize> =
        site.pages_in(&site.default_language).map(|page| (page.key.as_str(), page.source)).collect();
    site.pages
        .iter()
        .filter(|page| {
            matches!(page.translation, Translation::Current | Translation::Outdated | Translation::Unstamped)
        })
        .filter_map(|page| Some((page.source, *originals.get(page.key.as_str())?)))
        .collect()
}

/// The warning when the blocks of the source at `translation` differ from those of
/// the source at `original`. It reads only the two sources (path, front matter, body)
/// and their rendered blocks.
pub fn compare(site: &Site, sources: &RenderedSources, translation: usize, original: usize) -> Option<Warning> {
    let difference = first_difference(sources.blocks(translation), sources.blocks(original))?;
    Some(Warning { message: describe(site, translation, original, &difference) })
}

/// Where two pages' blocks first differ: the block's position (0-based), and what each
/// page has there (`None`: the page has no more blocks).
#[derive(Debug, PartialEq, Eq)]
struct Difference<'a> {
    index: usize,
    translated: Option<&'a BlockMark>,
    expected: Option<&'a BlockMark>,
    counts: (usize, usize),
}

fn first_difference<'a>(translated: &'a [BlockMark], expected: &'a [BlockMark]) -> Option<Difference<'a>> {
    let length = translated.len().max(expected.len());
    (0..length).find(|&index| translated.get(index).map(|b| b.kind) != expected.get(index).map(|b| b.kind)).map(
        |index| Difference {
            index,
            translated: translated.get(index),
            expected: expected.get(index),
            counts: (translated.len(), expected.len()),
        },
    )
}

fn describe(site: &Site, translation: usize, original: usize, difference: &Difference) -> String {
    let (here, there) = (&site.sources[translation], &site.sources[original]);
    let locate = |source: &crate::content::SourcePage, block: Option<&BlockMark>| match block {
        Some(block) => Location::of_offset(&source.path, source.body(), block.offset, source.body_line),
        None => Location::file(&source.path),
    };
    let id = crate::blocks::block_id(&crate::blocks::block_prefix(&there.front, &there.key), difference.index + 1);
    let what = match (difference.translated, difference.expected) {
        (Some(found), Some(wanted)) => format!(
            "block {id} is {} here but {} in the original ({})",
            found.kind.describe(),
            wanted.kind.describe(),
            locate(there, Some(wanted))
        ),
        (None, Some(wanted)) => format!(
            "block {id} of the original ({}, {}) is missing here",
            wanted.kind.describe(),
            locate(there, Some(wanted))
        ),
        (found, _) => format!(
            "block {id} ({}) has no counterpart in the original {}",
            found.map_or_else(|| "a block".to_string(), |b| b.kind.describe()),
            there.path.display()
        ),
    };
    let (translated, expected) = difference.counts;
    format!(
        "{}: blocks differ from the original: {what}; this translation has {translated} blocks, the original {expected}. \
         Links to its paragraphs land on different text in the two languages: keep the original's headings, paragraphs and list items, in its order",
        locate(here, difference.translated),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::BlockKind;

    fn marks(kinds: &[BlockKind]) -> Vec<BlockMark> {
        kinds.iter().enumerate().map(|(offset, &kind)| BlockMark { kind, offset }).collect()
    }

    #[test]
    fn the_first_block_that_differs_is_found() {
        use BlockKind::{Heading, ListItem, Paragraph};
        let original = marks(&[Heading, Paragraph, Paragraph, ListItem]);
        assert_eq!(first_difference(&original, &original), None);
        let merged = marks(&[Heading, Paragraph, ListItem]);
        let difference = first_difference(&merged, &original).unwrap();
        assert_eq!((difference.index, difference.counts), (2, (3, 4)));
        let shorter = marks(&[Heading, Paragraph, Paragraph]);
        let difference = first_difference(&shorter, &original).unwrap();
        assert_eq!(difference.index, 3);
        assert!(difference.translated.is_none());
    }
}
