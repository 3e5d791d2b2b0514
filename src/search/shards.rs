//! The term shards: every key of the `Index` (terms, aliases and Han grams) in UTF-16
//! order, JavaScript's string order, cut into `s/<n>.json` files of about `SHARD_BYTES`,
//! each with its separator, and the long terms' tails in `t/<n>.json`. Owns the key order
//! and where shards are cut, in parallel yet the same for any number of threads; the
//! rows are spelled as `format` says.

use rayon::prelude::*;

use super::collect::Index;
use super::format::{Posting, ShardBuffer, encode, is_long, push_json_string, push_number, separator, split_best};

/// A term shard is closed once its JSON passes this many bytes.
const SHARD_BYTES: usize = 12 * 1024;
/// Sorted keys per slice, the unit that is cut into term shards in parallel.
const SHARD_SLICE: usize = 8192;

impl Index {
    /// The term shards (JSON), the first key of each, and the tail files.
    pub(super) fn shards(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
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
        let entries = if keys.any(has_surrogates) || has_surrogates(&self.grams.texts) {
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
        };

        // Slices of the sorted keys are cut into shards in parallel, each on its own: a
        // fixed size, so that the shards do not depend on the number of threads. A term's
        // tail file is numbered by the long terms in the slices before its own.
        let slices: Vec<&[Keyed]> = entries.chunks(SHARD_SLICE).collect();
        let mut first_tails = Vec::with_capacity(slices.len());
        let mut long_terms = 0;
        for slice in &slices {
            first_tails.push(long_terms);
            long_terms += slice.iter().filter(|(_, _, entry)| entry.is_long()).count();
        }
        let parts: Vec<Shards> = slices
            .par_iter()
            .enumerate()
            .map(|(n, slice)| {
                let previous_key = n.checked_sub(1).and_then(|p| slices[p].last()).map_or("", |(_, key, _)| *key);
                Shards::of(slice, previous_key, first_tails[n], self)
            })
            .collect();
        let mut all = Shards::default();
        for part in parts {
            all.shards.extend(part.shards);
            all.first_keys.extend(part.first_keys);
            all.tails.extend(part.tails);
        }
        // An empty index still gets one (empty) shard.
        if all.shards.is_empty() {
            all.shards.push(ShardBuffer::default().take());
            all.first_keys.push(String::new());
        }
        (all.shards, all.first_keys, all.tails)
    }
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

    /// A term whose postings go partly to a tail file (`is_long`).
    fn is_long(&self) -> bool {
        match self {
            Entry::Term(postings) => is_long(postings.len()),
            Entry::Gram(_, df) => is_long(*df),
            Entry::Alias(..) => false,
        }
    }
}

/// Sorted keys of the index cut into term shards: the shards' JSON, the separator of
/// each (see `separator`) and the tail files of their long terms.
#[derive(Default)]
struct Shards {
    shards: Vec<String>,
    first_keys: Vec<String>,
    tails: Vec<String>,
}

impl Shards {
    /// The shards of `entries`, which follow `previous_key` in the index; their long
    /// terms' tail files are numbered from `first_tail`.
    fn of(entries: &[Keyed], previous_key: &str, first_tail: usize, index: &Index) -> Self {
        let mut out = Shards::default();
        let mut shard = ShardBuffer::default();
        let mut row = String::new();
        let mut gram_postings = Vec::new();
        let mut last_key = previous_key;
        for (_, key, entry) in entries {
            if shard.is_empty() {
                out.first_keys.push(separator(last_key, key));
            }
            last_key = key;
            row.clear();
            row.push('[');
            match entry {
                Entry::Term(postings) => out.push_term(&mut shard, &mut row, key, postings, first_tail),
                Entry::Gram(g, _) => {
                    index.grams.postings_into(*g, &index.scorer, &mut gram_postings);
                    out.push_term(&mut shard, &mut row, key, &gram_postings, first_tail);
                }
                Entry::Alias(stem) => {
                    push_json_string(&mut row, key);
                    row.push(',');
                    push_json_string(&mut row, stem);
                    row.push(']');
                    shard.push_alias(&row);
                }
            }
            if shard.bytes >= SHARD_BYTES {
                out.shards.push(shard.take());
            }
        }
        if !shard.is_empty() {
            out.shards.push(shard.take());
        }
        out
    }

    /// A term's row, `[term, df, postings]`, in `shard` (`row` holds its opening bracket);
    /// a long term's other postings in a tail file, numbered from `first_tail`.
    fn push_term(
        &mut self,
        shard: &mut ShardBuffer,
        row: &mut String,
        term: &str,
        postings: &[Posting],
        first_tail: usize,
    ) {
        push_json_string(row, term);
        push_number(row, ",", postings.len());
        row.push_str(",\"");
        if is_long(postings.len()) {
            let (head, tail) = split_best(postings);
            encode(head, row);
            push_number(row, "\",", first_tail + self.tails.len());
            let mut tail_json = String::from('"');
            encode(tail, &mut tail_json);
            tail_json.push('"');
            self.tails.push(tail_json);
        } else {
            encode(postings.iter(), row);
            row.push('"');
        }
        row.push(']');
        shard.push_term(row);
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
