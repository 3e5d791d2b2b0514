//! The index's files as `themes/default/js/search.js` reads them: their layout (below), its
//! version, the constants both sides share and the encoders the writers use. This is the
//! one place the Rust/JS contract is written down: change it only together with
//! `search.js`, and bump `FORMAT`. Owns how things are spelled in the files; not what goes
//! in them (`documents`, `collect`), nor the order of the keys and where shards are cut
//! (`shards`).
//!
//! Layout under `<lang>/search/` (`search.js` reads the same):
//! - `index.json`: the text processing to apply to queries, the first separator (below)
//!   of each group of `DIR_SHARDS` term shards, the number of documents, the UI strings
//!   and plural forms, and `v`, a hash of every file below, appended to the URLs of the
//!   files not named by their content (directories and document chunks) so caches never
//!   mix two builds.
//! - `s/<name>.json`: a contiguous range of keys in UTF-16 order (JavaScript's string
//!   order): `{"t": [[term, df, postings], ...], "a": [[word, stem], ...]}`. Postings are a
//!   string of base-64 varints, pairs of (document id minus the previous one, score), by
//!   id; a document's id is `chunk * 32 + index in chunk`. A term found in more than
//!   `HEAD_POSTINGS` documents keeps only its best there, and the rest in `t/<name>.json`
//!   (a JSON string, same encoding), named by a fourth element.
//!   `a` maps each indexed word to its stem, so that a prefix the reader is still typing
//!   (`migratio`) reaches the stem (`migrat`) of the words it begins.
//!   Shards and tails are named by a hash of their content (`named`): a file that did not
//!   change keeps its name from one build to the next, so a reader's cache still holds it,
//!   and `search.js` fetches them without the version.
//! - `s/dir-<k>.json`: `[[separator, name], ...]` for shards `k * DIR_SHARDS` onwards, in
//!   key order: each shard's name and the shortest prefix of its first key that sorts
//!   after the previous shard's last key. Two levels keep the manifest small when a large
//!   site has thousands of shards.
//! - `d/<n>.json`: a chunk of documents: `[[url, title, heading, text, lang], ...]`
//!   (`lang` only when the text is not in the index's language). Chunks stay small, so a
//!   first page of results fetches little even on a large site.
//!
//! Written by: `manifest` (`index.json`), `ShardBuffer` (a term shard's object) and
//! `named` here, the term rows and tails in `shards`, the document chunks in `documents`, the file
//! names and the version in `index_language` (`mod.rs`).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use xxhash_rust::xxh3::xxh3_128;

use super::text::TextProcessor;
use crate::i18n::Language;
use crate::site::Site;

/// Bumped when the file layout changes; the manifest says which layout its files follow.
const FORMAT: u32 = 2;
/// Shards per directory file.
pub(super) const DIR_SHARDS: usize = 64;
/// Documents per chunk at most: ids are `chunk * CHUNK_DOCS + index`.
pub(super) const CHUNK_DOCS: usize = 32;
/// Postings kept in the shard; the rest wait in a tail file until the reader asks for more.
pub(super) const HEAD_POSTINGS: usize = 1000;
/// The digits of the postings' varints (URL-safe base 64): 5 bits of value per digit,
/// digits from the upper half continuing the number.
const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// UI strings the client shows, by their i18n keys.
const CLIENT_STRINGS: [&str; 6] =
    ["search_no_results", "search_prompt", "search_error", "search_loading", "search_more", "search_all_results"];

/// A document's id: `chunk * CHUNK_DOCS + index in chunk`; 32 bits, as postings are many.
pub(super) type DocRef = u32;

/// One document in a term's postings, with the term's score there (`score`).
pub(super) struct Posting {
    pub(super) doc: DocRef,
    pub(super) score: u32,
}

/// `index.json`: what a client needs before its first query.
pub(super) fn manifest(
    site: &Site,
    assets: &BTreeMap<String, String>,
    language: &Language,
    processor: &TextProcessor,
    docs: usize,
    first_keys: Vec<&str>,
    version: String,
) -> Value {
    let stemmer = processor.stemmer_name().map(|name| {
        let url = assets.get(&format!("stem-{name}.js")).map(|path| site.base_url.link(path));
        json!({ "name": name, "url": url })
    });
    let strings: BTreeMap<&str, &str> =
        CLIENT_STRINGS.iter().map(|key| (*key, language.get(key).unwrap_or_default())).collect();
    let plurals = language.plural_tables().remove("search_results").unwrap_or_default();
    json!({
        "format": FORMAT,
        "v": version,
        "lang": language.code.as_str(),
        "text": { "stemmer": stemmer, "foldLatin": processor.folds_latin(), "foldYo": processor.folds_yo() },
        "docs": docs,
        "dirs": first_keys,
        "strings": strings,
        "results": plurals,
    })
}

/// Postings, given by id, as base-64 varints: (id minus the previous id, score) pairs.
pub(super) fn encode<'p>(postings: impl IntoIterator<Item = &'p Posting>, out: &mut String) {
    let mut previous = 0;
    for posting in postings {
        varint(posting.doc - previous, out);
        varint(posting.score, out);
        previous = posting.doc;
    }
}

fn varint(value: u32, out: &mut String) {
    // Widened once: the digits are looked up by index.
    let mut value = value as usize;
    while value >= 32 {
        out.push(char::from(DIGITS[32 + (value & 31)]));
        value >>= 5;
    }
    out.push(char::from(DIGITS[value]));
}

/// Whether a term found in `df` documents is so common that the rest of its postings,
/// after the `HEAD_POSTINGS` best, go to a tail file.
pub(super) fn is_long(df: usize) -> bool {
    df > HEAD_POSTINGS
}

/// A long postings list split between the shard, which keeps the `HEAD_POSTINGS` best
/// (the higher score, then the lower id), and the tail file: both by id, as the list is.
/// The last posting kept is found by selection, not by sorting the whole list.
pub(super) fn split_best(postings: &[Posting]) -> (Vec<&Posting>, Vec<&Posting>) {
    let rank = |a: &Posting, b: &Posting| b.score.cmp(&a.score).then(a.doc.cmp(&b.doc));
    let mut ranked: Vec<&Posting> = postings.iter().collect();
    if !is_long(ranked.len()) {
        return (ranked, Vec::new());
    }
    let (_, last_kept, _) = ranked.select_nth_unstable_by(HEAD_POSTINGS - 1, |a, b| rank(a, b));
    let last_kept: &Posting = last_kept;
    // Ids are unique, so the ranking is total: exactly `HEAD_POSTINGS` rank up to the last kept.
    postings.iter().partition(|posting| rank(posting, last_kept).is_le())
}

/// The shortest prefix of `key` that sorts after `previous` (UTF-16 order): enough to
/// tell which shard a key belongs to.
pub(super) fn separator(previous: &str, key: &str) -> String {
    let mut prefix = String::new();
    for c in key.chars() {
        prefix.push(c);
        if prefix.encode_utf16().cmp(previous.encode_utf16()) == std::cmp::Ordering::Greater {
            break;
        }
    }
    prefix
}

/// The rows of the term shard being filled: `{"a": [aliases], "t": [terms]}`.
#[derive(Default)]
pub(super) struct ShardBuffer {
    terms: String,
    aliases: String,
}

impl ShardBuffer {
    /// A term's row (a Han gram's too) or an alias's.
    pub(super) fn push(&mut self, row: &str, is_term: bool) {
        push_row(if is_term { &mut self.terms } else { &mut self.aliases }, row);
    }

    /// The shard's JSON; the buffer starts afresh.
    pub(super) fn take(&mut self) -> String {
        let json = format!("{{\"a\":[{}],\"t\":[{}]}}", self.aliases, self.terms);
        *self = Self::default();
        json
    }
}

/// A file named by its content: a shard or a tail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct NamedFile {
    pub(super) name: String,
    pub(super) body: String,
}

/// `body` with its name: 80 bits of its hash in hexadecimal, so that two files of one
/// index (tens of thousands at most) never share a name unless they are the same.
pub(super) fn named(body: String) -> NamedFile {
    NamedFile { name: format!("{:020x}", xxh3_128(body.as_bytes()) >> 48), body }
}

fn push_row(rows: &mut String, row: &str) {
    if !rows.is_empty() {
        rows.push(',');
    }
    rows.push_str(row);
}

/// `text` as a JSON string, escaped as serde_json escapes it.
pub(super) fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\') {
        out.push_str(&Value::from(text).to_string());
    } else {
        // Terms are words: nothing to escape, the common case needs no detour.
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// `prefix` then `number` in decimal.
pub(super) fn push_number(out: &mut String, prefix: &str, number: usize) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = write!(out, "{prefix}{number}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postings_are_written_as_base64_varints_by_id() {
        let postings = [Posting { doc: 3, score: 1200 }, Posting { doc: 31, score: 32 }, Posting { doc: 70, score: 5 }];
        // (3, 1200), (+28, 32), (+39, 5). 1200 = 0b1_00101_10000 takes three digits,
        // lowest five bits first, each but the last from the upper half: w l B.
        let mut encoded = String::new();
        encode(&postings, &mut encoded);
        assert_eq!(encoded, ["D", "wlB", "c", "gB", "nB", "F"].concat());
        assert_eq!(separator("remitt", "remo"), "remo");
        assert_eq!(separator("remitt", "rent"), "ren");
        assert_eq!(separator("", "zeta"), "z");
    }

    #[test]
    fn long_postings_keep_the_best_in_the_shard_and_the_rest_in_the_tail() {
        // Scores fall with the id, except that the last document scores best of all.
        let count = HEAD_POSTINGS + 2;
        let postings: Vec<Posting> = (0..count)
            .map(|doc| Posting {
                doc: u32::try_from(doc).unwrap(),
                score: if doc == count - 1 { 10_000 } else { u32::try_from(count - doc).unwrap() },
            })
            .collect();
        let (head, tail) = split_best(&postings);
        let ids = |list: &[&Posting]| list.iter().map(|p| p.doc as usize).collect::<Vec<_>>();
        let mut expected_head: Vec<usize> = (0..HEAD_POSTINGS - 1).collect();
        expected_head.push(count - 1);
        assert_eq!(ids(&head), expected_head);
        assert_eq!(ids(&tail), [HEAD_POSTINGS - 1, HEAD_POSTINGS]);
    }
}
