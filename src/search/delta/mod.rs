//! Watch mode's search index, kept from one build to the next (`TermsMemo`): each page's
//! terms by its text, and the last index's occurrences and rows. After an edit, only the
//! pages whose text changed are read, and only the rows of the terms and words they hold
//! are written again; the shards are then cut and named from the rows as a build from
//! nothing cuts and names them (`shards::assemble`), so the files are the same. An edit
//! that changes the documents (how many a page has, how they fall into chunks), the mean
//! length the scores use, or many pages at once, makes the index afresh.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::collect::{Found, Index, Occurrences, PageTerms, Stems, docs_key, place};
use super::documents::{Doc, chunk_key, documents_json};
use super::grams::{GramFound, gram_chars};
use super::score::Scorer;
use super::shards::{Row, ShardFiles, assemble, row_order};
use super::text::TextProcessor;

/// Past one changed page in this many, the index is made afresh, which is then faster.
const MOST_CHANGED: usize = 8;

/// What `imrf-site serve` keeps of one language's index from one build to the next.
#[derive(Default)]
pub struct TermsMemo {
    /// Each page's terms by a hash of its documents' text (`docs_key`): tokenizing and
    /// stemming are most of the cost of an index. Holds the last index's pages only.
    pages: HashMap<u128, Arc<PageTerms>>,
    /// Each document chunk's JSON by its `chunk_key`. Holds the last index's chunks only.
    chunks: HashMap<u128, Bytes>,
    last: Option<LastIndex>,
    /// Whether the last index was an update of the one before.
    #[cfg(test)]
    updated: bool,
}

impl TermsMemo {
    /// The files `d/<n>.json` of `chunks` (`documents::chunk_files`), each chunk's JSON
    /// reused when the last index had a chunk of the same documents.
    pub(super) fn chunk_files(&mut self, docs: &[Doc], chunks: &[Vec<usize>]) -> Vec<(String, Bytes)> {
        let keys: Vec<u128> = chunks.par_iter().map(|chunk| chunk_key(documents(docs, chunk))).collect();
        let bodies: Vec<Bytes> = chunks
            .par_iter()
            .zip(&keys)
            .map(|(chunk, key)| match self.chunks.get(key) {
                Some(body) => body.clone(),
                None => documents_json(documents(docs, chunk)).into(),
            })
            .collect();
        self.chunks = keys.into_iter().zip(bodies.iter().cloned()).collect();
        bodies.into_iter().enumerate().map(|(n, body)| (format!("d/{n}.json"), body)).collect()
    }

    /// The term shards of `docs`, which are the documents of `pages` one after the other
    /// (each page's range in `docs`), with the ids `chunks` give them: updated from the
    /// last index when it can be, made afresh otherwise; the same files either way.
    pub(super) fn index(
        &mut self,
        processor: &TextProcessor,
        docs: &[Doc],
        pages: &[Range<usize>],
        chunks: &[Vec<usize>],
    ) -> ShardFiles {
        let keys: Vec<u128> = pages.par_iter().map(|range| docs_key(&docs[range.clone()])).collect();
        let made: Vec<Arc<PageTerms>> = pages
            .par_iter()
            .zip(&keys)
            .map_init(Stems::default, |stems, (range, key)| match self.pages.get(key) {
                Some(page) => Arc::clone(page),
                None => Arc::new(PageTerms::collect(processor, stems, &docs[range.clone()])),
            })
            .collect();
        self.pages = keys.iter().copied().zip(made.iter().cloned()).collect();
        let updated =
            self.last.take().filter(|last| last.pages == pages && last.chunks == chunks).and_then(|mut last| {
                let files = last.update(&keys, &made)?;
                Some((last, files))
            });
        #[cfg(test)]
        {
            self.updated = updated.is_some();
        }
        if let Some((last, files)) = updated {
            self.last = Some(last);
            return files;
        }
        let (index, occurrences) = Index::build(processor, docs, pages, chunks, Some(&made));
        let Some(occurrences) = occurrences else {
            // Not reached: with the pages' terms given, the occurrences are returned.
            return index.shards();
        };
        let last = LastIndex::new(index, occurrences, pages, chunks, keys, made);
        let files = assemble(&last.rows);
        self.last = Some(last);
        files
    }
}

/// The last index, as an edit updates it.
struct LastIndex {
    /// Each page's documents, and the chunks they fall into: an update keeps both.
    pages: Vec<Range<usize>>,
    chunks: Vec<Vec<usize>>,
    /// Each page's `docs_key` and terms.
    keys: Vec<u128>,
    terms: Vec<Arc<PageTerms>>,
    /// Each document's id and text length, by position, and the mean length the scores
    /// are normalized by.
    ids: Vec<u32>,
    lengths: Vec<u32>,
    average_length: f64,
    /// Each term's (Han grams too) number, text and occurrences by document position;
    /// a term no page holds any longer keeps its number, with no occurrences and no row.
    numbers: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
    found: Vec<Vec<Found>>,
    /// Each word that differs from its stem, with its stem's number and how many pages
    /// hold it.
    aliases: FxHashMap<Box<str>, (u32, u32)>,
    /// Every row of the shards, in key order.
    rows: Vec<Row>,
}

/// A chunk's documents.
fn documents<'d, 's>(docs: &'d [Doc<'s>], chunk: &'d [usize]) -> impl Iterator<Item = &'d Doc<'s>> {
    chunk.iter().map(|&d| &docs[d])
}

/// Each term's (and Han gram's) occurrences in one page, by its text.
fn occurrences(page: &PageTerms) -> FxHashMap<String, Vec<Found>> {
    let terms = page.terms().map(|(term, found)| (term.to_string(), found.to_vec()));
    let grams = page
        .grams
        .chunk_by(|a, b| a.key == b.key)
        .map(|run| (gram_chars(run[0].key).collect(), run.iter().map(gram_found).collect()));
    terms.chain(grams).collect()
}

/// A Han gram's occurrences in one document, as a term's are kept.
fn gram_found(found: &GramFound) -> Found {
    Found { doc: found.doc, counts: found.counts }
}

/// What an edit changed of one page's terms (Han grams too): the terms whose old
/// occurrences go, and those whose new ones come in, with them. A term the page holds
/// as before, in documents of the same lengths, is in neither and keeps its row; one
/// it gained, lost, holds in other counts, or holds in a document whose length changed
/// (which scores it anew) is in one or both.
pub(super) struct Differing {
    pub(super) lost: Vec<String>,
    pub(super) gained: Vec<(String, Vec<Found>)>,
}

/// What changed between a page's `old` and `new` terms.
pub(super) fn differing(old: &PageTerms, new: &PageTerms) -> Differing {
    let resized: Vec<bool> = old.lengths.iter().zip(&new.lengths).map(|(was, is)| was != is).collect();
    let (old, new) = (occurrences(old), occurrences(new));
    let same = |found: &Vec<Found>, other: &FxHashMap<String, Vec<Found>>, text: &str| {
        other.get(text) == Some(found) && found.iter().all(|f| !resized.get(f.doc as usize).copied().unwrap_or(true))
    };
    let lost = old.iter().filter(|(text, found)| !same(found, &new, text)).map(|(text, _)| text.clone()).collect();
    let gained = new.into_iter().filter(|(text, found)| !same(found, &old, text)).collect();
    Differing { lost, gained }
}

/// Whether `changed` pages of `pages` are too many to update the index by: past one in
/// `MOST_CHANGED`, it is made afresh, which is then faster.
pub(super) fn too_many(changed: usize, pages: usize) -> bool {
    changed > (pages / MOST_CHANGED).max(1)
}

/// A row to write again: its key, whether it is a term's, and the row (none when the
/// key is gone).
type Change = (Box<str>, bool, Option<Row>);

impl LastIndex {
    fn new(
        index: Index,
        occurrences: Occurrences,
        pages: &[Range<usize>],
        chunks: &[Vec<usize>],
        keys: Vec<u128>,
        terms: Vec<Arc<PageTerms>>,
    ) -> Self {
        let rows = index.rows();
        let Occurrences { mut names, mut found } = occurrences;
        for g in 0..index.grams.len() {
            names.push(index.grams.text(g).into());
            found.push(index.grams.occurrences(g).map(gram_found).collect());
        }
        let numbers = names.iter().enumerate().map(|(n, name)| (name.clone(), place(n))).collect();
        let mut last = LastIndex {
            pages: pages.to_vec(),
            chunks: chunks.to_vec(),
            keys,
            terms: Vec::new(),
            average_length: index.scorer.average_length(),
            ids: index.scorer.ids,
            lengths: index.scorer.lengths,
            numbers,
            names,
            found,
            aliases: FxHashMap::default(),
            rows,
        };
        for page in &terms {
            for (word, term) in page.aliases() {
                last.count_alias(word, page.term(term));
            }
        }
        last.terms = terms;
        last
    }

    /// The shards after the pages whose `keys` changed, now holding the terms `made`
    /// (each page's, in order); none when the index must be made afresh (the caller
    /// then drops this one, which may be half updated).
    fn update(&mut self, keys: &[u128], made: &[Arc<PageTerms>]) -> Option<ShardFiles> {
        let changed: Vec<(usize, Arc<PageTerms>)> =
            (0..keys.len()).filter(|&p| keys[p] != self.keys[p]).map(|p| (p, Arc::clone(&made[p]))).collect();
        if too_many(changed.len(), keys.len()) {
            return None;
        }
        self.update_pages(&changed)?;
        for &(p, _) in &changed {
            self.keys[p] = keys[p];
        }
        Some(assemble(&self.rows))
    }

    /// The rows after the pages `changed` (each with its new terms) changed; none when
    /// the index must be made afresh: a page has another number of documents, or the
    /// mean length moved (the caller then drops this index, which may be half updated).
    fn update_pages(&mut self, changed: &[(usize, Arc<PageTerms>)]) -> Option<()> {
        let mut terms = FxHashSet::default();
        let mut words = FxHashSet::default();
        for (p, new) in changed {
            let range = self.pages[*p].clone();
            if new.lengths.len() != range.len() {
                return None;
            }
            let old = std::mem::replace(&mut self.terms[*p], Arc::clone(new));
            self.replace_page(&differing(&old, new), place(range.start)..place(range.end), &mut terms);
            self.replace_aliases(&old, new, &mut words);
            self.lengths[range].copy_from_slice(&new.lengths);
        }
        let scorer = Scorer::new(self.ids.clone(), self.lengths.clone());
        if scorer.average_length() != self.average_length {
            return None;
        }
        let terms: Vec<u32> = terms.into_iter().collect();
        let mut changes: Vec<Change> = terms
            .par_iter()
            .map(|&n| {
                let (name, found) = (&self.names[n as usize], &self.found[n as usize]);
                let row = (!found.is_empty())
                    .then(|| Row::term(name, &scorer.postings(found.len(), found.iter().map(|f| (f.doc, f.counts)))));
                (name.clone(), true, row)
            })
            .collect();
        for word in words {
            let row = match self.aliases.get(&word) {
                Some(&(stem, pages)) if pages > 0 => Some(Row::alias(&word, &self.names[stem as usize])),
                _ => {
                    self.aliases.remove(&word);
                    None
                }
            };
            changes.push((word, false, row));
        }
        self.apply(changes);
        Some(())
    }

    /// Puts a page's changed occurrences (`differing`) in place of its old ones, its
    /// documents at `docs`, and notes the terms whose rows change.
    fn replace_page(&mut self, changed: &Differing, docs: Range<u32>, terms: &mut FxHashSet<u32>) {
        // Every changed term's old occurrences out, then the new ones in: taking them out
        // takes out every occurrence in the page's documents.
        for text in &changed.lost {
            if let Some(&n) = self.numbers.get(text.as_str()) {
                let list = &mut self.found[n as usize];
                let from = list.partition_point(|f| f.doc < docs.start);
                let to = list.partition_point(|f| f.doc < docs.end);
                list.drain(from..to);
                terms.insert(n);
            }
        }
        for (text, found) in &changed.gained {
            let n = self.number(text);
            let list = &mut self.found[n as usize];
            let at = list.partition_point(|f| f.doc < docs.start);
            list.splice(at..at, found.iter().map(|f| Found { doc: f.doc + docs.start, counts: f.counts }));
            terms.insert(n);
        }
    }

    /// Counts the words that differ from their stems that a page gained, and uncounts
    /// those it lost; notes them.
    fn replace_aliases(&mut self, old: &PageTerms, new: &PageTerms, words: &mut FxHashSet<Box<str>>) {
        let had: FxHashSet<&str> = old.aliases().map(|(word, _)| word).collect();
        let has: FxHashSet<&str> = new.aliases().map(|(word, _)| word).collect();
        for word in had.difference(&has) {
            if let Some((_, pages)) = self.aliases.get_mut(*word) {
                *pages = pages.saturating_sub(1);
            }
            words.insert((*word).into());
        }
        for (word, term) in new.aliases().filter(|(word, _)| !had.contains(word)) {
            self.count_alias(word, new.term(term));
            words.insert(word.into());
        }
    }

    /// Counts one more page holding `word`, which stems to `stem`.
    fn count_alias(&mut self, word: &str, stem: &str) {
        let stem = self.number(stem);
        self.aliases.entry(word.into()).or_insert((stem, 0)).1 += 1;
    }

    /// A term's number, given to it now if it has none.
    fn number(&mut self, text: &str) -> u32 {
        if let Some(&n) = self.numbers.get(text) {
            return n;
        }
        let n = place(self.names.len());
        self.names.push(text.into());
        self.found.push(Vec::new());
        self.numbers.insert(text.into(), n);
        n
    }

    /// The rows with `changes` made: rows written again, added or taken out.
    fn apply(&mut self, mut changes: Vec<Change>) {
        changes.sort_by(|a, b| row_order(&a.0, a.1, &b.0, b.1));
        let places: Vec<Result<usize, usize>> = changes
            .iter()
            .map(|(key, is_term, _)| self.rows.binary_search_by(|row| row_order(&row.key, row.is_term, key, *is_term)))
            .collect();
        if places.iter().zip(&changes).all(|(place, (_, _, row))| place.is_ok() && row.is_some()) {
            for (place, (_, _, row)) in places.into_iter().zip(changes) {
                if let (Ok(at), Some(row)) = (place, row) {
                    self.rows[at] = row;
                }
            }
            return;
        }
        let old = std::mem::take(&mut self.rows);
        let mut rows = Vec::with_capacity(old.len() + changes.len());
        let mut old = old.into_iter().enumerate().peekable();
        for (place, (_, _, row)) in places.into_iter().zip(changes) {
            let (Ok(at) | Err(at)) = place;
            while let Some((_, kept)) = old.next_if(|(n, _)| *n < at) {
                rows.push(kept);
            }
            if place.is_ok() {
                // The row written again (or taken out) is not kept.
                old.next();
            }
            rows.extend(row);
        }
        rows.extend(old.map(|(_, kept)| kept));
        self.rows = rows;
    }
}

pub(crate) mod kept;
#[cfg(test)]
mod tests;
