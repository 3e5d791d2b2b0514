//! The client-side search index: for each language, a small manifest, term shards and
//! document chunks under `/<lang>/search/`, which `themes/default/js/search.js` fetches
//! only as a query needs them. Owns what is indexed (every published page's sections,
//! guiding questions and footnotes, each with its anchor), the ranking scores (BM25F,
//! computed here so the client only adds numbers) and the file layout. The text
//! processing both sides share is in `text`.
//!
//! Layout under `<lang>/search/` (`search.js` reads the same):
//! - `index.json`: the text processing to apply to queries, the first separator (below)
//!   of each group of `DIR_SHARDS` term shards, the number of documents, the UI strings and plural forms, and `v`, a hash of
//!   every file below, appended to their URLs so caches never mix two builds.
//! - `s/<n>.json`: a contiguous range of keys in UTF-16 order (JavaScript's string order):
//!   `{"t": [[term, df, postings], ...], "a": [[word, stem], ...]}`. Postings are a string
//!   of base-64 varints, pairs of (document id minus the previous one, score), by id; a
//!   document's id is `chunk * 32 + index in chunk`. A term found in more than
//!   `HEAD_POSTINGS` documents keeps only its best there, and the rest in `t/<n>.json`
//!   (a JSON string, same encoding), named by a fourth element.
//! - `s/dir-<k>.json`: the separators of shards `k * DIR_SHARDS` onwards: for each, the
//!   shortest prefix of its first key that sorts after the previous shard's last key. Two
//!   levels keep the manifest small when a large site has thousands of shards.
//!   `a` maps each indexed word to its stem, so that a prefix the reader is still typing
//!   (`migratio`) reaches the stem (`migrat`) of the words it begins.
//! - `d/<n>.json`: a chunk of documents: `[[url, title, heading, text, lang], ...]`
//!   (`lang` only when the text is not in the index's language). Chunks stay small, so a
//!   first page of results fetches little even on a large site.

pub mod text;

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde_json::{Value, json};
use xxhash_rust::xxh3;

use crate::content::PageKind;
use crate::i18n::Language;
use crate::markdown;
use crate::output::OutputFile;
use crate::render::RenderedSources;
use crate::site::{Page, Site};
use text::TextProcessor;

/// Bumped when the file layout changes, so a cached client never misreads an index.
const FORMAT: u32 = 1;
/// A term shard is closed once its JSON passes this many bytes.
const SHARD_BYTES: usize = 12 * 1024;
/// Shards per directory file.
const DIR_SHARDS: usize = 64;
/// A document chunk is closed once its JSON passes this many bytes: a first page of
/// results (five documents) fetches about 20 KiB at most, and a large site writes half
/// as many files as with 2 KiB (at 12,000 pages, 40,000 rather than 73,000 in all).
const CHUNK_BYTES: usize = 4 * 1024;
/// Sorted keys per slice, the unit that is cut into term shards in parallel.
const SHARD_SLICE: usize = 8192;
/// Documents per chunk at most: ids are `chunk * CHUNK_DOCS + index`.
const CHUNK_DOCS: usize = 32;
/// Postings kept in the shard; the rest wait in a tail file until the reader asks for more.
pub const HEAD_POSTINGS: usize = 1000;
/// BM25 saturation and length normalization.
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// How much a word counts in the page title and the section heading, against the text.
const TITLE_WEIGHT: f64 = 3.0;
const HEADING_WEIGHT: f64 = 2.0;
/// Scores are written as integers: tenths.
const SCORE_SCALE: f64 = 10.0;
/// The digits of the postings' varints (URL-safe base 64): 5 bits of value per digit,
/// digits from the upper half continuing the number.
const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// UI strings the client shows, by their i18n keys.
const CLIENT_STRINGS: [&str; 6] =
    ["search_no_results", "search_prompt", "search_error", "search_loading", "search_more", "search_all_results"];

/// One searchable stretch of a page: a section, a guiding question or a footnote.
struct Doc<'s> {
    url: String,
    title: &'s str,
    heading: Cow<'s, str>,
    text: Cow<'s, str>,
    /// The text's language when it is not the index's (a page shown untranslated).
    lang: Option<&'s str>,
}

/// One language's index files, handed to `emit` part by part (the documents, then the
/// term shards, then the rest), so that a caller writing them as they come never holds
/// the whole index in memory. Stops at `emit`'s first error.
pub fn index_language<E>(
    site: &Site,
    sources: &RenderedSources,
    assets: &BTreeMap<String, String>,
    language: &Language,
    emit: &mut dyn FnMut(Vec<OutputFile>) -> Result<(), E>,
) -> Result<(), E> {
    let processor = TextProcessor::for_language(language.code.primary());
    let pages: Vec<&Page> = site.pages_in(&language.code).collect();
    let titles: Vec<String> =
        pages.par_iter().map(|page| markdown::inline_text(&site.source(page).front.title)).collect();
    let docs: Vec<Doc> = pages
        .par_iter()
        .zip(&titles)
        .flat_map_iter(|(page, title)| page_docs(site, sources, language, page, title))
        .collect();
    let chunks = chunk_docs(&docs);
    let mut out = Emitter { base: format!("{}/search", language.code), version: xxh3::Xxh3::new(), emit };
    let documents = chunks
        .par_iter()
        .enumerate()
        .map(|(n, chunk)| (format!("d/{n}.json"), documents_json(chunk.iter().map(|&d| &docs[d]))))
        .collect();
    out.emit(documents)?;
    let (shards, separators, tails) = Index::build(&processor, &docs, &chunks).shards();
    out.emit(shards.into_iter().enumerate().map(|(n, shard)| (format!("s/{n}.json"), shard)).collect())?;
    let dirs: Vec<&[String]> = separators.chunks(DIR_SHARDS).collect();
    let first_keys: Vec<&str> = dirs.iter().map(|dir| dir[0].as_str()).collect();
    out.emit(dirs.iter().enumerate().map(|(k, dir)| (format!("s/dir-{k}.json"), json!(dir).to_string())).collect())?;
    out.emit(tails.into_iter().enumerate().map(|(n, tail)| (format!("t/{n}.json"), tail)).collect())?;
    let version = format!("{:010x}", out.version.digest128() >> 88);
    let manifest = manifest(site, assets, language, &processor, docs.len(), first_keys, version);
    out.emit(vec![("index.json".to_string(), manifest.to_string())])
}

/// Hands a language's index files on, each under `<lang>/search/`, and hashes them in
/// order for the manifest's version. The version only tells one build's files from
/// another's, for caches: XXH3, many times faster than a cryptographic hash, is enough.
struct Emitter<'e, E> {
    base: String,
    version: xxh3::Xxh3,
    emit: &'e mut dyn FnMut(Vec<OutputFile>) -> Result<(), E>,
}

impl<E> Emitter<'_, E> {
    fn emit(&mut self, files: Vec<(String, String)>) -> Result<(), E> {
        // Each file hashed on its own, in parallel; the version hashes their hashes.
        let hashes: Vec<u128> = files
            .par_iter()
            .map(|(path, body)| {
                let mut file = xxh3::Xxh3::new();
                file.update(&(path.len() as u64).to_le_bytes());
                file.update(path.as_bytes());
                file.update(body.as_bytes());
                file.digest128()
            })
            .collect();
        for hash in &hashes {
            self.version.update(&hash.to_le_bytes());
        }
        (self.emit)(
            files.into_iter().map(|(path, body)| OutputFile::new(format!("{}/{path}", self.base), body)).collect(),
        )
    }
}

fn manifest(
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
        "dirShards": DIR_SHARDS,
        "strings": strings,
        "results": plurals,
    })
}

/// The documents of one published page, in reading order.
fn page_docs<'s>(
    site: &'s Site,
    sources: &'s RenderedSources,
    language: &'s Language,
    page: &Page,
    title: &'s str,
) -> Vec<Doc<'s>> {
    let source = site.source(page);
    let rendered = sources.get(page.source);
    let page_url = site.base_url.link(page.url.as_str());
    let lang = (source.lang != page.lang).then(|| source.lang.as_str());
    let objective = source.front.kind == PageKind::Objective;
    let doc = |anchor: Option<&str>, heading: Cow<'s, str>, text: Cow<'s, str>| Doc {
        url: match anchor {
            Some(id) => format!("{page_url}#{id}"),
            None => page_url.clone(),
        },
        title,
        heading,
        text,
        lang,
    };
    let mut docs = Vec::new();
    for section in &rendered.sections {
        if section.text.trim().is_empty() && section.heading.is_none() {
            continue;
        }
        let (anchor, heading) = match (&section.id, &section.heading) {
            (Some(id), Some(heading)) => (Some(id.as_str()), Cow::Borrowed(heading.as_str())),
            // The text before the first heading sits under the objective page's
            // "Overview of progress" heading; on other pages it opens the page.
            _ if objective => {
                (Some("overview"), Cow::Borrowed(language.get("overview_of_progress").unwrap_or_default()))
            }
            _ => (None, Cow::Borrowed("")),
        };
        docs.push(doc(anchor, heading, Cow::Borrowed(&section.text)));
    }
    let questions_heading = language.get("guiding_questions").unwrap_or_default();
    for question in &source.front.questions {
        let text = Cow::Owned(markdown::inline_text(&question.text));
        docs.push(doc(Some(&question.id), Cow::Borrowed(questions_heading), text));
    }
    let note = language.get("footnote_reference").unwrap_or_default();
    for footnote in &rendered.footnotes {
        let heading = Cow::Owned(note.replace("{number}", &footnote.number.to_string()));
        docs.push(doc(Some(&footnote.id), heading, Cow::Borrowed(&footnote.text)));
    }
    docs
}

impl Doc<'_> {
    /// About the most Han grams the document can hold: one per character from U+2000
    /// on (the first byte of its UTF-8 form is 0xE2 or above), whatever it normalizes
    /// to. An estimate all the same (NFKC spells a few signs, like `㍻`, with two
    /// ideographs): the list grows past it if need be.
    fn most_grams(&self) -> usize {
        [self.title, &self.heading, &self.text]
            .iter()
            .map(|text| text.bytes().filter(|&byte| byte >= 0xE2).count())
            .sum()
    }
}

/// A chunk of documents as JSON: `[[url, title, heading, text, lang], ...]`, written from
/// the documents' strings, not copies of them.
fn documents_json<'d, 's: 'd>(docs: impl Iterator<Item = &'d Doc<'s>>) -> String {
    let rows: Vec<Vec<&str>> = docs
        .map(|doc| {
            let mut row = vec![doc.url.as_str(), doc.title, &doc.heading, &doc.text];
            row.extend(doc.lang);
            row
        })
        .collect();
    // Invariant: a list of lists of strings always serializes.
    serde_json::to_string(&rows).unwrap_or_default()
}

/// Groups consecutive documents into chunks of about `CHUNK_BYTES`.
fn chunk_docs(docs: &[Doc]) -> Vec<Vec<usize>> {
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for (d, doc) in docs.iter().enumerate() {
        let size = doc.url.len() + doc.title.len() + doc.heading.len() + doc.text.len();
        if !current.is_empty() && (bytes + size > CHUNK_BYTES || current.len() == CHUNK_DOCS) {
            chunks.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(d);
        bytes += size;
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// A document's id: `chunk * CHUNK_DOCS + index in chunk`; 32 bits, as postings are many.
type DocRef = u32;

struct Posting {
    doc: DocRef,
    score: u32,
}

struct Index {
    /// Terms (Han grams aside) with their postings, by document id.
    terms: Vec<(Box<str>, Vec<Posting>)>,
    /// Words that differ from their stem, with the stem's place in `terms`.
    aliases: Vec<(Box<str>, usize)>,
    /// The Han grams, whose postings are scored only as their shard is written: there
    /// are many more of them than words, and their postings would double the index's
    /// memory at its peak.
    grams: Grams,
    scorer: Scorer,
}

/// How often a term occurs in each field of one document. 8 bits for the short fields
/// and 16 for the text count far beyond where BM25 saturates, and keep postings small.
#[derive(Default, Clone, Copy)]
struct FieldCounts {
    title: u8,
    heading: u8,
    body: u16,
}

#[derive(Clone, Copy)]
enum Field {
    Title,
    Heading,
    Body,
}

impl FieldCounts {
    fn of(field: Field) -> Self {
        let mut counts = Self::default();
        counts.add(field);
        counts
    }

    fn add(&mut self, field: Field) {
        match field {
            Field::Title => self.title = self.title.saturating_add(1),
            Field::Heading => self.heading = self.heading.saturating_add(1),
            Field::Body => self.body = self.body.saturating_add(1),
        }
    }

    fn add_all(&mut self, other: FieldCounts) {
        self.title = self.title.saturating_add(other.title);
        self.heading = self.heading.saturating_add(other.heading);
        self.body = self.body.saturating_add(other.body);
    }
}

/// A Han gram of one or two characters as a number that sorts as the gram does in
/// UTF-16 (JavaScript's string order, the shards' order): the first character's rank
/// (`utf16_rank`) in the high half, the second's (or 0) in the low half.
fn gram_key(gram: &str) -> u64 {
    let mut ranks = gram.chars().map(utf16_rank);
    let first = ranks.next().unwrap_or(0);
    let second = ranks.next().unwrap_or(0);
    (first << 32) | second
}

/// The characters of the gram `gram_key` numbered.
fn gram_chars(key: u64) -> impl Iterator<Item = char> {
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

/// A document's position in the language's list, in 32 bits: postings are many.
fn doc_index(position: usize) -> u32 {
    // Invariant: a language has far fewer than 2^32 documents (each is a section of a
    // page), so the position fits.
    u32::try_from(position).unwrap_or(u32::MAX)
}

/// A term's occurrences in one document, by the document's position in the list.
struct Found {
    doc: u32,
    counts: FieldCounts,
}

/// A Han gram's occurrences in one document: `Found` with its gram (`gram_key`).
struct GramFound {
    key: u64,
    doc: u32,
    counts: FieldCounts,
}

/// What one worker collects from a run of consecutive documents. Runs are merged in
/// document order, so every term's `found` list stays sorted by document.
#[derive(Default)]
struct Collected {
    /// Each normalized word met (Han grams aside), to its term's index in `found`: a
    /// word is stemmed once per worker, however often it occurs.
    words: FxHashMap<Box<str>, u32>,
    /// Each stem (or unstemmed word) to its index in `found`.
    terms: FxHashMap<Box<str>, u32>,
    found: Vec<Vec<Found>>,
    /// Each Han gram met, in document order, then (once the run is read) sorted by gram
    /// and document with each document's occurrences of a gram counted in one row:
    /// Chinese text has many more distinct grams than a language has words, and one
    /// list sorted once costs far less than a table looked up at every character.
    grams: Vec<GramFound>,
    /// The text length (in terms) of each document seen, by position.
    lengths: Vec<(usize, u32)>,
}

impl Collected {
    fn add(mut self, processor: &TextProcessor, d: u32, doc: &Doc) -> Self {
        let mut length = 0;
        for (text, field) in [(doc.title, Field::Title), (&doc.heading, Field::Heading), (&doc.text, Field::Body)] {
            processor.for_each_word(text, |word, han| {
                if han {
                    self.grams.push(GramFound { key: gram_key(word), doc: d, counts: FieldCounts::of(field) });
                } else {
                    let term = self.term_of(processor, word);
                    let found = &mut self.found[term];
                    match found.last_mut() {
                        Some(last) if last.doc == d => last.counts.add(field),
                        _ => found.push(Found { doc: d, counts: FieldCounts::of(field) }),
                    }
                }
                if matches!(field, Field::Body) {
                    length += 1;
                }
            });
        }
        self.lengths.push((d as usize, length));
        self
    }

    /// `grams` sorted by gram and document, each document's rows of a gram made one.
    fn count_grams(&mut self) {
        self.grams.sort_unstable_by_key(|found| (found.key, found.doc));
        self.grams.dedup_by(|later, kept| {
            let same = later.key == kept.key && later.doc == kept.doc;
            if same {
                kept.counts.add_all(later.counts);
            }
            same
        });
    }

    fn term_of(&mut self, processor: &TextProcessor, word: &str) -> usize {
        if let Some(&term) = self.words.get(word) {
            return term as usize;
        }
        let index = self.term_index(&processor.stem(word));
        self.words.insert(word.into(), index);
        index as usize
    }

    fn term_index(&mut self, term: &str) -> u32 {
        if let Some(&index) = self.terms.get(term) {
            return index;
        }
        // Invariant: a language has far fewer than 2^32 distinct words, so the count fits.
        let index = u32::try_from(self.found.len()).unwrap_or(u32::MAX);
        self.found.push(Vec::new());
        self.terms.insert(term.into(), index);
        index
    }

    /// `later`'s documents appended after this one's. Grams are left to `Index::build`.
    fn merge(mut self, later: Collected) -> Self {
        let mut found: Vec<Option<Vec<Found>>> = later.found.into_iter().map(Some).collect();
        let mut renumbered = vec![0; found.len()];
        for (term, index) in later.terms {
            let into = self.term_index(&term);
            renumbered[index as usize] = into;
            self.found[into as usize].extend(found[index as usize].take().unwrap_or_default());
        }
        for (word, index) in later.words {
            self.words.entry(word).or_insert(renumbered[index as usize]);
        }
        self.lengths.extend(later.lengths);
        self
    }
}

impl Index {
    fn build(processor: &TextProcessor, docs: &[Doc], chunks: &[Vec<usize>]) -> Index {
        let mut ids = vec![0; docs.len()];
        for (c, chunk) in chunks.iter().enumerate() {
            for (i, &d) in chunk.iter().enumerate() {
                ids[d] = doc_index(c * CHUNK_DOCS + i);
            }
        }
        // One contiguous block of documents per thread: each block's terms are gathered
        // once, and the merge touches each block's vocabulary once, however many
        // documents it holds (more blocks even out the load a little but hold more
        // copies of the vocabulary: at 12,000 pages, 4 blocks peaked 20 MiB higher).
        let block = docs.len().div_ceil(rayon::current_num_threads()).max(1);
        let mut blocks: Vec<Collected> = docs
            .par_chunks(block)
            .enumerate()
            .map(|(b, block_docs)| {
                let first = b * block;
                // Room for every gram the block can hold, so the list never grows by
                // copying itself: at its peak, that copy would double the largest
                // allocation of the build. Room never written to takes no memory.
                let room = block_docs.iter().map(Doc::most_grams).sum();
                let start = Collected { grams: Vec::with_capacity(room), ..Collected::default() };
                let mut collected = block_docs
                    .iter()
                    .enumerate()
                    .fold(start, |collected, (i, doc)| collected.add(processor, doc_index(first + i), doc));
                collected.count_grams();
                collected
            })
            .collect();
        let grams: Vec<Vec<GramFound>> = blocks.iter_mut().map(|block| std::mem::take(&mut block.grams)).collect();
        let collected = blocks.into_iter().reduce(Collected::merge).unwrap_or_default();
        let mut lengths = vec![0; docs.len()];
        for (d, length) in collected.lengths {
            lengths[d] = length;
        }
        let scorer = Scorer::new(ids, lengths);
        let mut names: Vec<Box<str>> = vec![Box::from(""); collected.found.len()];
        for (term, index) in collected.terms {
            names[index as usize] = term;
        }
        let terms = names
            .into_par_iter()
            .zip(collected.found)
            .map(|(term, found)| {
                let postings = scorer.postings(found.len(), found.iter().map(|f| (f.doc, f.counts)));
                (term, postings)
            })
            .collect::<Vec<_>>();
        let aliases = collected
            .words
            .into_iter()
            .filter(|(word, index)| **word != *terms[*index as usize].0)
            .map(|(word, index)| (word, index as usize))
            .collect();
        Index { terms, aliases, grams: Grams::new(grams), scorer }
    }

    /// The term shards (JSON), the first key of each, and the tail files.
    fn shards(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
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

/// What scores a term's postings: the documents' ids and lengths, by position.
struct Scorer {
    ids: Vec<DocRef>,
    lengths: Vec<u32>,
    documents: f64,
    average_length: f64,
}

impl Scorer {
    fn new(ids: Vec<DocRef>, lengths: Vec<u32>) -> Self {
        let documents = lengths.len() as f64;
        let total: f64 = lengths.iter().map(|&l| f64::from(l)).sum();
        let average_length = if lengths.is_empty() { 1.0 } else { (total / documents).max(1.0) };
        Self { ids, lengths, documents, average_length }
    }

    /// The postings of a term found in `df` documents, given by position with their counts.
    fn postings(&self, df: usize, found: impl Iterator<Item = (u32, FieldCounts)>) -> Vec<Posting> {
        let mut postings = Vec::with_capacity(df);
        self.postings_into(df, found, &mut postings);
        postings
    }

    /// `postings`, appended to `out`.
    fn postings_into(&self, df: usize, found: impl Iterator<Item = (u32, FieldCounts)>, out: &mut Vec<Posting>) {
        let df = df as f64;
        let idf = (1.0 + (self.documents - df + 0.5) / (df + 0.5)).ln();
        out.extend(found.map(|(doc, counts)| Posting {
            doc: self.ids[doc as usize],
            score: score(idf, counts, f64::from(self.lengths[doc as usize]) / self.average_length),
        }));
    }
}

/// The distinct Han grams of a language, in key order, over the lists of every block.
/// Each block's list is sorted by gram, then document, and the blocks hold consecutive
/// documents in order, so a gram's postings are its runs in each block, one after the
/// other.
struct Grams {
    blocks: Vec<Vec<GramFound>>,
    /// Each gram's text, one after another: gram `g` ends at `ends[g]`.
    texts: String,
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
    fn new(blocks: Vec<Vec<GramFound>>) -> Self {
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

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn text(&self, g: usize) -> &str {
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

    /// The number of documents gram `g` occurs in.
    fn df(&self, g: usize) -> usize {
        self.runs(g).map(<[GramFound]>::len).sum()
    }

    /// Gram `g`'s postings, in `out` (cleared first).
    fn postings_into(&self, g: usize, scorer: &Scorer, out: &mut Vec<Posting>) {
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

/// Whether a term found in `df` documents is so common that the rest of its postings,
/// after the `HEAD_POSTINGS` best, go to a tail file.
fn is_long(df: usize) -> bool {
    df > HEAD_POSTINGS
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

/// `prefix` then `number` in decimal.
fn push_number(out: &mut String, prefix: &str, number: usize) {
    use std::fmt::Write as _;
    // Writing to a String cannot fail.
    let _ = write!(out, "{prefix}{number}");
}

/// The rows of the term shard being filled: `{"a": [aliases], "t": [terms]}`.
#[derive(Default)]
struct ShardBuffer {
    terms: String,
    aliases: String,
    /// The rows' bytes, each with its separator.
    bytes: usize,
}

impl ShardBuffer {
    fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    fn push_term(&mut self, row: &str) {
        push_row(&mut self.terms, row);
        self.bytes += row.len() + 1;
    }

    fn push_alias(&mut self, row: &str) {
        push_row(&mut self.aliases, row);
        self.bytes += row.len() + 1;
    }

    /// The shard's JSON; the buffer starts afresh.
    fn take(&mut self) -> String {
        let json = format!("{{\"a\":[{}],\"t\":[{}]}}", self.aliases, self.terms);
        *self = Self::default();
        json
    }
}

fn push_row(rows: &mut String, row: &str) {
    if !rows.is_empty() {
        rows.push(',');
    }
    rows.push_str(row);
}

/// `text` as a JSON string, escaped as serde_json escapes it.
fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\') {
        out.push_str(&Value::from(text).to_string());
    } else {
        // Terms are words: nothing to escape, the common case needs no detour.
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// A long postings list split between the shard, which keeps the `HEAD_POSTINGS` best
/// (the higher score, then the lower id), and the tail file: both by id, as the list is.
/// The last posting kept is found by selection, not by sorting the whole list.
fn split_best(postings: &[Posting]) -> (Vec<&Posting>, Vec<&Posting>) {
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

/// The shortest prefix of `key` that sorts after `previous` (UTF-16 order): enough to
/// tell which shard a key belongs to.
fn separator(previous: &str, key: &str) -> String {
    let mut prefix = String::new();
    for c in key.chars() {
        prefix.push(c);
        if prefix.encode_utf16().cmp(previous.encode_utf16()) == std::cmp::Ordering::Greater {
            break;
        }
    }
    prefix
}

/// Postings, given by id, as base-64 varints: (id minus the previous id, score) pairs.
fn encode<'p>(postings: impl IntoIterator<Item = &'p Posting>, out: &mut String) {
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

/// BM25F: the fields' counts weighted (the text's normalized by its length) and saturated.
fn score(idf: f64, counts: FieldCounts, relative_length: f64) -> u32 {
    let body = f64::from(counts.body) / (1.0 - B + B * relative_length);
    let weighted = TITLE_WEIGHT * f64::from(counts.title) + HEADING_WEIGHT * f64::from(counts.heading) + body;
    let value = idf * weighted * (K1 + 1.0) / (K1 + weighted);
    // Rounded to hundredths, at least 1 so that every match counts.
    (value * SCORE_SCALE).round().clamp(1.0, f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc<'a>(title: &'a str, heading: &'a str, text: impl Into<Cow<'a, str>>) -> Doc<'a> {
        Doc { url: String::new(), title, heading: heading.into(), text: text.into(), lang: None }
    }

    /// The documents holding `term`, best score first (ties by id, as the client sorts).
    fn ranking(docs: &[Doc], term: &str) -> Vec<usize> {
        let chunks: Vec<Vec<usize>> = (0..docs.len()).map(|d| vec![d]).collect();
        let index = Index::build(&TextProcessor::for_language("en"), docs, &chunks);
        let (_, postings) = index.terms.iter().find(|(t, _)| &**t == term).expect("the term is indexed");
        let mut best: Vec<&Posting> = postings.iter().collect();
        best.sort_by(|a, b| b.score.cmp(&a.score).then(a.doc.cmp(&b.doc)));
        best.iter().map(|p| p.doc as usize / CHUNK_DOCS).collect()
    }

    #[test]
    fn title_and_heading_matches_outrank_the_text() {
        let filler = "migrants send money home to families in countries of origin";
        let docs = [
            doc("Health services", "Access", format!("{filler} remittances")),
            doc("Remittances and inclusion", "Overview", filler),
            doc("Health services", "Remittance costs", filler),
            doc("Health services", "Access", filler),
        ];
        assert_eq!(ranking(&docs, "remitt"), [1, 2, 0]);
    }

    #[test]
    fn shorter_texts_and_more_occurrences_rank_higher() {
        let long = "other words ".repeat(40);
        let docs = [
            doc("A", "", format!("consular {long}")),
            doc("A", "", "consular protection"),
            doc("A", "", format!("consular consular consular {long}")),
        ];
        assert_eq!(ranking(&docs, "consular"), [1, 2, 0]);
    }

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
    fn han_grams_are_numbered_and_back() {
        for gram in ["汇款", "汇", "𠀋款", "款𠀋"] {
            assert_eq!(gram_chars(gram_key(gram)).collect::<String>(), gram);
        }
        assert_ne!(gram_key("汇款"), gram_key("款汇"));
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

    #[test]
    fn a_gram_is_counted_per_field_in_one_row_per_document() {
        let processor = TextProcessor::for_language("zh");
        let first = doc("汇款", "", "汇款汇款");
        let second = doc("移民", "汇款", "移民");
        let mut collected = Collected::default().add(&processor, 0, &first).add(&processor, 1, &second);
        collected.count_grams();
        let rows: Vec<(u32, u8, u8, u16)> = collected
            .grams
            .iter()
            .filter(|found| found.key == gram_key("汇款"))
            .map(|found| (found.doc, found.counts.title, found.counts.heading, found.counts.body))
            .collect();
        assert_eq!(rows, [(0, 1, 0, 2), (1, 0, 1, 0)]);
        assert!(collected.grams.is_sorted_by_key(|found| (found.key, found.doc)));
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
