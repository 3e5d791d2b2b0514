//! The term shards: every key of the `Index` (terms, aliases and Han grams) in UTF-16
//! order, JavaScript's string order, cut into `s/<name>.json` files of about 15 KB, each
//! named by its content, with the long terms' tails in `t/<name>.json`. Owns the key
//! order and where shards are cut: the cut after a key depends on the keys and their
//! document counts only, never on scores, so that past an edit the cuts fall again where
//! they fell (`shard_ends`) and an edit changes the shards of the keys it touches, not
//! every shard after them (`delta`). Writes the shards row by row (`Index::shards`), or
//! from rows kept one by one (`assemble`), the same files either way. Rows are spelled
//! as `format` says.

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use super::collect::Index;
use super::format::{
    HEAD_POSTINGS, NamedFile, Posting, ShardBuffer, encode, is_long, named, push_json_string, push_number,
};

/// A shard is not closed before its estimated bytes (`row_size`) reach this...
const MIN_SHARD_BYTES: usize = 8 * 1024;
/// ...is closed after a row with a chance of one in this many per estimated byte...
const CUT_CHANCE_BYTES: usize = 4 * 1024;
/// ...and is closed once they pass this.
const MAX_SHARD_BYTES: usize = 24 * 1024;

/// A shard, by the place of its last key in the sorted keys, from a cut after any key:
/// the shards of keys `0..=ends[0]`, `ends[0] + 1..=ends[1]`, and so on.
pub(super) type ShardEnds = Vec<usize>;

/// Where the sorted keys are cut into shards, given each key and its estimated row size
/// (`row_size`). Whether a shard closes after a key depends on the key (its hash) and
/// the estimated bytes since the last cut: after an edit, the cuts fall again where they
/// fell once the first cut past the edit is one the last build had.
pub(super) fn shard_ends<'k>(keys: impl Iterator<Item = (&'k str, usize)>) -> ShardEnds {
    let mut ends = Vec::new();
    let mut bytes = 0;
    let mut last = None;
    let mut keys = keys.enumerate().peekable();
    while let Some((n, (key, size))) = keys.next() {
        bytes += size;
        last = Some(n);
        if closes_after(key, size, bytes, keys.peek().map(|(_, (next, _))| *next)) {
            ends.push(n);
            bytes = 0;
        }
    }
    if let Some(last) = last.filter(|&last| ends.last() != Some(&last)) {
        ends.push(last);
    }
    ends
}

/// Whether a shard closes after `key`, whose row's estimated size is `size`, with
/// `bytes` estimated since the last cut (its own included), when `next` is the key after.
fn closes_after(key: &str, size: usize, bytes: usize, next: Option<&str>) -> bool {
    // A term's row and an alias's row of the same key stay in one shard: a shard that
    // began with the alias's would have that key as its separator, and `search.js`
    // would look for the term there.
    let splits_a_key = next == Some(key);
    !splits_a_key
        && (bytes >= MAX_SHARD_BYTES
            || (bytes >= MIN_SHARD_BYTES && xxh3_64(key.as_bytes()) % (CUT_CHANCE_BYTES as u64) < size as u64))
}

/// Where a run of rows is cut, the row before it ending a shard, and `next` the key of
/// the row after it (none at the index's end, which ends a shard). `None` when the run's
/// last row does not end a shard (the cuts past it may then move too).
pub(super) fn run_ends(rows: &[Row], next: Option<&str>) -> Option<ShardEnds> {
    let mut ends = Vec::new();
    let mut bytes = 0;
    for (n, row) in rows.iter().enumerate() {
        bytes += row.size;
        let after = rows.get(n + 1).map(|row| &*row.key).or(next);
        if closes_after(&row.key, row.size, bytes, after) {
            ends.push(n);
            bytes = 0;
        }
    }
    match next {
        _ if rows.is_empty() => Some(ends),
        None if ends.last() != Some(&(rows.len() - 1)) => {
            ends.push(rows.len() - 1);
            Some(ends)
        }
        _ => (ends.last() == Some(&(rows.len() - 1))).then_some(ends),
    }
}

/// About how many bytes a row takes, from what is known before its scores: a term's
/// postings take about three base-64 digits each, and only the first `HEAD_POSTINGS`
/// are in the shard.
pub(super) fn row_size(key: &str, documents: Option<usize>, stem: &str) -> usize {
    match documents {
        Some(df) => key.len() + 12 + 3 * df.min(HEAD_POSTINGS),
        None => key.len() + stem.len() + 6,
    }
}

/// The term shards of one index: each shard's file and first key's separator, and the
/// long terms' tail files.
#[derive(Default, Debug, PartialEq, Eq)]
pub(super) struct ShardFiles {
    pub(super) shards: Vec<NamedFile>,
    pub(super) separators: Vec<String>,
    pub(super) tails: Vec<NamedFile>,
}

impl Index {
    /// Every key of the index in UTF-16 order, with what its row holds.
    fn sorted_entries(&self) -> Vec<Keyed<'_>> {
        let mut entries: Vec<Keyed> = self
            .terms
            .iter()
            .map(|(term, postings)| keyed(term, Entry::Term(postings)))
            .chain(self.aliases.iter().map(|(word, term)| keyed(word, Entry::Alias(&self.terms[*term].0))))
            .collect();
        let grams = (0..self.grams.len()).map(|g| keyed(self.grams.text(g), Entry::Gram(g, self.grams.df(g))));
        // A word that is also a term has its term row first. Keys are otherwise unique,
        // so the order is total and an unstable sort gives one result.
        let term_first = |a: &Entry, b: &Entry| b.is_term().cmp(&a.is_term());
        let mut keys = self.terms.iter().map(|(term, _)| &**term).chain(self.aliases.iter().map(|(word, _)| &**word));
        if keys.any(has_surrogates) || has_surrogates(&self.grams.texts) {
            let order =
                |(_, a, x): &Keyed, (_, b, y): &Keyed| a.encode_utf16().cmp(b.encode_utf16()).then(term_first(x, y));
            entries.par_sort_unstable_by(order);
            merge_sorted(entries, grams, order)
        } else {
            // Without characters beyond U+FFFF, UTF-16 order is the order of UTF-8 bytes:
            // the first eight, as a number, tell most keys apart without a string compare.
            let order = |(p, a, x): &Keyed, (q, b, y): &Keyed| p.cmp(q).then_with(|| a.cmp(b)).then(term_first(x, y));
            entries.par_sort_unstable_by(order);
            merge_sorted(entries, grams, order)
        }
    }

    /// The term shards of the index, written as they are cut, row by row.
    pub(super) fn shards(&self) -> ShardFiles {
        let entries = self.sorted_entries();
        let ends = shard_ends(entries.iter().map(|(_, key, entry)| (*key, entry.row_size(key))));
        let starts = shard_starts(&ends);
        let made: Vec<(NamedFile, Vec<NamedFile>)> = starts
            .par_iter()
            .zip(&ends)
            .map(|(&start, &end)| {
                let mut shard = ShardBuffer::default();
                let mut tails = Vec::new();
                let mut row = String::new();
                let mut gram_postings = Vec::new();
                for (_, key, entry) in &entries[start..=end] {
                    match entry {
                        Entry::Term(postings) => tails.extend(term_row(&mut row, key, postings)),
                        Entry::Gram(g, _) => {
                            self.grams.postings_into(*g, &self.scorer, &mut gram_postings);
                            tails.extend(term_row(&mut row, key, &gram_postings));
                        }
                        Entry::Alias(stem) => alias_row(&mut row, key, stem),
                    }
                    shard.push(&row, entry.is_term());
                }
                (named(shard.take()), tails)
            })
            .collect();
        let mut files =
            ShardFiles { separators: separators(&starts, &ends, |n| entries[n].1), ..ShardFiles::default() };
        for (shard, tails) in made {
            files.shards.push(shard);
            files.tails.extend(tails);
        }
        files.finish();
        files
    }

    /// Every row of the index, in key order, each kept on its own (`Row`).
    pub(super) fn rows(&self) -> Vec<Row> {
        self.sorted_entries()
            .par_iter()
            .map(|(_, key, entry)| match entry {
                Entry::Term(postings) => Row::term(key, postings),
                Entry::Gram(g, _) => {
                    let mut postings = Vec::new();
                    self.grams.postings_into(*g, &self.scorer, &mut postings);
                    Row::term(key, &postings)
                }
                Entry::Alias(stem) => Row::alias(key, stem),
            })
            .collect()
    }
}

/// The term shards of `rows`, which are in key order: the same files as `Index::shards`
/// writes for the index they are the rows of.
pub(super) fn assemble(rows: &[Row]) -> ShardFiles {
    let ends = shard_ends(rows.iter().map(|row| (&*row.key, row.size)));
    let starts = shard_starts(&ends);
    let shards = shard_bodies(rows, &starts, &ends);
    let mut files = ShardFiles {
        shards,
        separators: separators(&starts, &ends, |n| &rows[n].key),
        tails: rows.iter().filter_map(|row| row.tail.as_deref().cloned()).collect(),
    };
    files.finish();
    files
}

/// The shards of `rows` that start and end where `starts` and `ends` say.
pub(super) fn shard_bodies(rows: &[Row], starts: &[usize], ends: &[usize]) -> Vec<NamedFile> {
    starts
        .par_iter()
        .zip(ends)
        .map(|(&start, &end)| {
            let mut shard = ShardBuffer::default();
            for row in &rows[start..=end] {
                shard.push(&row.json, row.is_term);
            }
            named(shard.take())
        })
        .collect()
}

/// One row of a term shard as watch mode keeps it (`delta`), with its key and what the
/// cuts and the shard need of it.
pub(super) struct Row {
    pub(super) key: Box<str>,
    /// A term's row (or a Han gram's), not an alias's.
    pub(super) is_term: bool,
    pub(super) json: Box<str>,
    /// Its estimated size (`row_size`).
    pub(super) size: usize,
    /// A long term's tail file. A row read back from the build cache (`delta::kept`)
    /// has its tail's name only: the file is in the output already.
    pub(super) tail: Option<Box<NamedFile>>,
}

impl Row {
    pub(super) fn term(term: &str, postings: &[Posting]) -> Row {
        let mut json = String::new();
        let tail = term_row(&mut json, term, postings).map(Box::new);
        Row { key: term.into(), is_term: true, json: json.into(), size: row_size(term, Some(postings.len()), ""), tail }
    }

    pub(super) fn alias(word: &str, stem: &str) -> Row {
        let mut json = String::new();
        alias_row(&mut json, word, stem);
        Row { key: word.into(), is_term: false, json: json.into(), size: row_size(word, None, stem), tail: None }
    }
}

/// The order of the rows: keys in UTF-16 order, a term's row before an alias's of the
/// same key, as `Index::shards` sorts them.
pub(super) fn row_order(key: &str, is_term: bool, other: &str, other_is_term: bool) -> std::cmp::Ordering {
    key.encode_utf16().cmp(other.encode_utf16()).then(other_is_term.cmp(&is_term))
}

/// Where each shard starts, from where each ends.
pub(super) fn shard_starts(ends: &[usize]) -> Vec<usize> {
    std::iter::once(0).chain(ends.iter().map(|end| end + 1)).take(ends.len()).collect()
}

impl ShardFiles {
    /// An empty index still gets one (empty) shard; a tail two long terms share is
    /// written once.
    pub(super) fn finish(&mut self) {
        if self.shards.is_empty() {
            self.shards.push(named(ShardBuffer::default().take()));
            self.separators.push(String::new());
        }
        self.tails.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        self.tails.dedup_by(|a, b| a.name == b.name);
    }
}

/// Each shard's separator (see `format::separator`), from the place of each shard's first
/// and last key, and the key at a place.
pub(super) fn separators<'k>(starts: &[usize], ends: &[usize], key: impl Fn(usize) -> &'k str) -> Vec<String> {
    let previous_ends = std::iter::once(None).chain(ends.iter().map(|&end| Some(end)));
    starts
        .iter()
        .zip(ends)
        .zip(previous_ends)
        .map(|((&start, _), previous)| super::format::separator(previous.map_or("", &key), key(start)))
        .collect()
}

/// A term's row, `[term, df, postings]`, in `row` (cleared first); a long term's other
/// postings go to a tail file, returned, whose name is the row's fourth element.
pub(super) fn term_row(row: &mut String, term: &str, postings: &[Posting]) -> Option<NamedFile> {
    row.clear();
    row.push('[');
    push_json_string(row, term);
    push_number(row, ",", postings.len());
    row.push_str(",\"");
    let tail = if is_long(postings.len()) {
        let (head, tail) = super::format::split_best(postings);
        encode(head, row);
        let mut tail_json = String::from('"');
        encode(tail, &mut tail_json);
        tail_json.push('"');
        let tail = named(tail_json);
        row.push_str("\",\"");
        row.push_str(&tail.name);
        row.push('"');
        Some(tail)
    } else {
        encode(postings.iter(), row);
        row.push('"');
        None
    };
    row.push(']');
    tail
}

/// An alias's row, `[word, stem]`, in `row` (cleared first).
pub(super) fn alias_row(row: &mut String, word: &str, stem: &str) {
    row.clear();
    row.push('[');
    push_json_string(row, word);
    row.push(',');
    push_json_string(row, stem);
    row.push(']');
}

fn keyed<'a>(key: &'a str, entry: Entry<'a>) -> Keyed<'a> {
    (leading_bytes(key), key, entry)
}

/// Two lists sorted by `order` as one.
fn merge_sorted<T>(
    first: Vec<T>,
    second: impl Iterator<Item = T>,
    order: impl Fn(&T, &T) -> std::cmp::Ordering,
) -> Vec<T> {
    let mut merged = Vec::with_capacity(first.len() + second.size_hint().0);
    let mut first = first.into_iter().peekable();
    for item in second {
        while let Some(earlier) = first.next_if(|earlier| order(earlier, &item).is_lt()) {
            merged.push(earlier);
        }
        merged.push(item);
    }
    merged.extend(first);
    merged
}

/// A key of the index with its `leading_bytes`, and what its row holds.
type Keyed<'a> = (u64, &'a str, Entry<'a>);

/// A key of the index and what its row holds.
enum Entry<'a> {
    /// A term (Han grams aside) with its postings.
    Term(&'a [Posting]),
    /// A Han gram, by its place in `Grams`, with the number of documents it occurs in.
    Gram(usize, usize),
    /// A word with its stem.
    Alias(&'a str),
}

impl Entry<'_> {
    fn is_term(&self) -> bool {
        !matches!(self, Entry::Alias(..))
    }

    fn row_size(&self, key: &str) -> usize {
        match self {
            Entry::Term(postings) => row_size(key, Some(postings.len()), ""),
            Entry::Gram(_, df) => row_size(key, Some(*df), ""),
            Entry::Alias(stem) => row_size(key, None, stem),
        }
    }
}

/// The first eight bytes of `key` as a big-endian number, zeros after its end: what
/// orders two keys unless those bytes are equal.
fn leading_bytes(key: &str) -> u64 {
    let mut bytes = [0; 8];
    for (byte, from) in bytes.iter_mut().zip(key.bytes()) {
        *byte = from;
    }
    u64::from_be_bytes(bytes)
}

/// Whether a string has characters beyond U+FFFF, which UTF-16 writes as surrogate pairs
/// and sorts before U+E000 to U+FFFF: the first byte of their UTF-8 form is 0xF0 or above.
fn has_surrogates(text: &str) -> bool {
    text.bytes().any(|byte| byte >= 0xF0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_cut_again_where_they_were_past_an_edit() {
        let keys: Vec<String> = (0..20_000).map(|n| format!("key{n:05}")).collect();
        let sizes = |changed: Option<usize>| -> Vec<(&str, usize)> {
            keys.iter().enumerate().map(|(n, key)| (key.as_str(), if Some(n) == changed { 900 } else { 60 })).collect()
        };
        let before = shard_ends(sizes(None).into_iter());
        let after = shard_ends(sizes(Some(5_000)).into_iter());
        assert!(before.len() > 20, "many shards: {}", before.len());
        let differ = before.iter().filter(|end| !after.contains(end)).count();
        assert!(differ <= 3, "{differ} cuts moved");
        assert_eq!(before.last(), Some(&19_999));
        let estimated: Vec<usize> = before.windows(2).map(|pair| (pair[1] - pair[0]) * 60).collect();
        assert!(estimated.iter().all(|&bytes| (MIN_SHARD_BYTES..MAX_SHARD_BYTES + 60).contains(&bytes)));
    }

    #[test]
    fn a_term_and_an_alias_of_the_same_key_share_a_shard() {
        // Every key twice (a term's row, then an alias's), each row past the largest shard.
        let keys: Vec<String> = (0..50).map(|n| format!("key{n:02}")).collect();
        let rows = keys.iter().flat_map(|key| [(key.as_str(), MAX_SHARD_BYTES), (key.as_str(), MAX_SHARD_BYTES)]);
        let ends = shard_ends(rows);
        assert_eq!(ends.len(), 50);
        assert!(ends.iter().all(|end| end % 2 == 1), "{ends:?}");
    }
}
