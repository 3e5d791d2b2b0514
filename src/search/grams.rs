//! Han grams in the index: Chinese text has no spaces between words, so `text` cuts it
//! into grams of one or two characters, and a language holds many more of them than
//! words. Owns a gram's number (`gram_key`, which sorts as the gram does in UTF-16) and
//! the parallel merge of each worker's sorted list into `Grams`, whose postings are
//! scored only as their shard is written. Not the cutting into grams (`text`) nor the
//! order of all keys (`shards`).

use rayon::prelude::*;

use super::format::Posting;
use super::score::{FieldCounts, Scorer};

/// A Han gram of one or two characters as a number that sorts as the gram does in
/// UTF-16 (JavaScript's string order, the shards' order): the first character's rank
/// (`utf16_rank`) in the high half, the second's (or 0) in the low half.
pub(super) fn gram_key(gram: &str) -> u64 {
    let mut ranks = gram.chars().map(utf16_rank);
    let first = ranks.next().unwrap_or(0);
    let second = ranks.next().unwrap_or(0);
    (first << 32) | second
}

/// The characters of the gram `gram_key` numbered.
pub(super) fn gram_chars(key: u64) -> impl Iterator<Item = char> {
    let character = |half: u64| u32::try_from(half & 0xFFFF_FFFF).ok().and_then(character_of_rank);
    character(key >> 32).into_iter().chain(character(key).filter(|_| key & 0xFFFF_FFFF != 0))
}

/// Where a character sorts in UTF-16, from 1: characters beyond U+FFFF are written as
/// surrogates (U+D800 to U+DFFF), so they sort between U+D7FF and U+E000.
fn utf16_rank(c: char) -> u64 {
    let code = u64::from(u32::from(c));
    match code {
        0..0xD800 => code + 1,
        0xE000..0x10000 => code + 0x10_0001,
        _ => code - 0x10000 + 0xD801,
    }
}

/// The character `utf16_rank` ranked.
fn character_of_rank(rank: u32) -> Option<char> {
    let code = match rank.checked_sub(1)? {
        low @ 0..0xD800 => low,
        beyond @ 0xD800..0x10_D800 => beyond - 0xD800 + 0x10000,
        high => high - 0x10_0000,
    };
    char::from_u32(code)
}

/// A Han gram's occurrences in one document: `Found` with its gram (`gram_key`).
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct GramFound {
    pub(super) key: u64,
    pub(super) doc: u32,
    pub(super) counts: FieldCounts,
}

/// The distinct Han grams of a language, in key order, over the lists of every block.
/// Each block's list is sorted by gram, then document, and the blocks hold consecutive
/// documents in order, so a gram's postings are its runs in each block, one after the
/// other.
pub(super) struct Grams {
    blocks: Vec<Vec<GramFound>>,
    /// Each gram's text, one after another: gram `g` ends at `ends[g]`.
    pub(super) texts: String,
    ends: Vec<usize>,
    /// Where each gram's run starts in each block: `starts[g * blocks.len() + b]`. The
    /// run ends where the next gram's starts, or at the end of the block.
    starts: Vec<usize>,
}

/// Gram lists merged into parts, worked on in parallel.
const GRAM_PARTS: usize = 64;

impl Grams {
    /// The merge is cut into parts at grams of the largest list, which only decides what
    /// runs in parallel: the result is the same wherever the cuts fall.
    pub(super) fn new(blocks: Vec<Vec<GramFound>>) -> Self {
        let largest = blocks.iter().max_by_key(|block| block.len()).map_or(&[][..], Vec::as_slice);
        let mut cuts: Vec<u64> =
            (1..GRAM_PARTS).filter_map(|p| largest.get(largest.len() * p / GRAM_PARTS)).map(|f| f.key).collect();
        cuts.dedup();
        let bounds: Vec<Option<u64>> = std::iter::once(None).chain(cuts.into_iter().map(Some)).chain([None]).collect();
        // Where each block's rows of `key` and after begin.
        let place = |key: u64| blocks.iter().map(move |block| block.partition_point(|f| f.key < key));
        let parts: Vec<GramPart> = bounds
            .par_windows(2)
            .map(|pair| {
                let from = pair[0].map_or_else(|| vec![0; blocks.len()], |key| place(key).collect());
                let to = pair[1].map_or_else(|| blocks.iter().map(Vec::len).collect(), |key| place(key).collect());
                merge_gram_lists(&blocks, from, to)
            })
            .collect();
        let mut grams = Grams { blocks, texts: String::new(), ends: Vec::new(), starts: Vec::new() };
        for part in parts {
            let offset = grams.texts.len();
            grams.texts.push_str(&part.texts);
            grams.ends.extend(part.ends.iter().map(|end| offset + end));
            grams.starts.extend(part.starts);
        }
        grams
    }

    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(super) fn text(&self, g: usize) -> &str {
        let start = g.checked_sub(1).map_or(0, |previous| self.ends[previous]);
        &self.texts[start..self.ends[g]]
    }

    /// Gram `g`'s run in each block.
    fn runs(&self, g: usize) -> impl Iterator<Item = &[GramFound]> {
        let count = self.blocks.len();
        self.blocks.iter().enumerate().map(move |(b, block)| {
            let end = self.starts.get((g + 1) * count + b).copied().unwrap_or(block.len());
            &block[self.starts[g * count + b]..end]
        })
    }

    /// Gram `g`'s occurrences, by document.
    pub(super) fn occurrences(&self, g: usize) -> impl Iterator<Item = &GramFound> {
        self.runs(g).flatten()
    }

    /// The number of documents gram `g` occurs in.
    pub(super) fn df(&self, g: usize) -> usize {
        self.runs(g).map(<[GramFound]>::len).sum()
    }

    /// Gram `g`'s postings, in `out` (cleared first).
    pub(super) fn postings_into(&self, g: usize, scorer: &Scorer, out: &mut Vec<Posting>) {
        out.clear();
        let found = self.runs(g).flat_map(|run| run.iter()).map(|f| (f.doc, f.counts));
        scorer.postings_into(self.df(g), found, out);
    }
}

/// One part of `Grams::new`: its grams' texts, where each ends, and where each one's
/// run starts in each block.
struct GramPart {
    texts: String,
    ends: Vec<usize>,
    starts: Vec<usize>,
}

/// The blocks' sorted lists, from `at` to `to` in each, merged into a `GramPart`.
fn merge_gram_lists(blocks: &[Vec<GramFound>], mut at: Vec<usize>, to: Vec<usize>) -> GramPart {
    let mut part = GramPart { texts: String::new(), ends: Vec::new(), starts: Vec::new() };
    let next = |at: &[usize]| {
        blocks.iter().zip(at).zip(&to).filter(|((_, a), t)| a < t).map(|((block, &a), _)| block[a].key).min()
    };
    while let Some(key) = next(&at) {
        part.texts.extend(gram_chars(key));
        part.ends.push(part.texts.len());
        for (b, block) in blocks.iter().enumerate() {
            part.starts.push(at[b]);
            while at[b] < to[b] && block[at[b]].key == key {
                at[b] += 1;
            }
        }
    }
    part
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::score::Field;

    #[test]
    fn han_grams_are_numbered_and_back() {
        for gram in ["汇款", "汇", "𠀋款", "款𠀋"] {
            assert_eq!(gram_chars(gram_key(gram)).collect::<String>(), gram);
        }
        assert_ne!(gram_key("汇款"), gram_key("款汇"));
    }

    #[test]
    fn han_gram_keys_sort_as_their_grams_do_in_utf16() {
        // U+F900 is above the surrogates, U+2000B beyond U+FFFF: UTF-16 puts it first.
        let grams = ["汇款", "汇", "𠀋款", "款𠀋", "豈", "豈汇", "𠀋", "汇豈", "汇𠀋", "㐀"];
        let mut by_key = grams.to_vec();
        by_key.sort_by_key(|gram| gram_key(gram));
        let mut by_utf16 = grams.to_vec();
        by_utf16.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        assert_eq!(by_key, by_utf16);
    }

    #[test]
    fn grams_merge_the_blocks_in_key_order_each_block_s_documents_in_turn() {
        let row = |gram: &str, doc| GramFound { key: gram_key(gram), doc, counts: FieldCounts::of(Field::Body) };
        // Two blocks, each sorted by gram then document; the second holds later documents.
        let mut blocks = vec![
            vec![row("汇款", 0), row("款", 1), row("汇款", 1), row("移民", 0)],
            vec![row("移民", 2), row("汇款", 3), row("豈", 2), row("𠀋", 3)],
        ];
        for block in &mut blocks {
            block.sort_unstable_by_key(|found| (found.key, found.doc));
        }
        let grams = Grams::new(blocks);
        let texts: Vec<&str> = (0..grams.len()).map(|g| grams.text(g)).collect();
        let mut expected = vec!["汇款", "款", "移民", "豈", "𠀋"];
        expected.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
        assert_eq!(texts, expected);
        let documents = |gram: &str| {
            let g = texts.iter().position(|text| *text == gram).expect("the gram is merged");
            assert_eq!(grams.df(g), grams.runs(g).flatten().count());
            grams.runs(g).flatten().map(|found| found.doc).collect::<Vec<_>>()
        };
        assert_eq!(documents("汇款"), [0, 1, 3]);
        assert_eq!(documents("移民"), [0, 2]);
        assert_eq!(documents("款"), [1]);
        assert_eq!(documents("𠀋"), [3]);
    }
}
