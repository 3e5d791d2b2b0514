//! Term collection: the documents' words, stemmed, and Han grams, gathered by one worker
//! per block of documents, merged in document order and scored into the `Index` that
//! `shards` writes. Owns the postings (each term's documents, by id, with their scores)
//! and the aliases from word to stem; not the tokenizing (`text`), the formula (`score`)
//! nor the merge of the grams (`grams`).

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use xxhash_rust::xxh3;

use super::documents::Doc;
use super::format::{CHUNK_DOCS, Posting};
use super::grams::{GramFound, Grams, gram_key};
use super::score::{Field, FieldCounts, Scorer};
use super::text::TextProcessor;

pub(super) struct Index {
    /// Terms (Han grams aside) with their postings, by document id.
    pub(super) terms: Vec<(Box<str>, Vec<Posting>)>,
    /// Words that differ from their stem, with the stem's place in `terms`.
    pub(super) aliases: Vec<(Box<str>, usize)>,
    /// The Han grams, whose postings are scored only as their shard is written: there
    /// are many more of them than words, and their postings would double the index's
    /// memory at its peak.
    pub(super) grams: Grams,
    pub(super) scorer: Scorer,
}

/// A place in the index's lists in 32 bits, as postings are many: a document's position
/// in the language's list, a term's number, or a place in one page's packed lists.
pub(super) fn place(position: usize) -> u32 {
    // Invariant: a language has far fewer than 2^32 documents (each is a section of a
    // page) and distinct words, and one page's text is far shorter than 4 GiB, so all fit.
    u32::try_from(position).unwrap_or(u32::MAX)
}

/// A term's occurrences in one document, by the document's position in the list.
#[derive(Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Found {
    pub(super) doc: u32,
    pub(super) counts: FieldCounts,
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
    /// Each Han gram met, in document order, each document's occurrences of a gram
    /// counted in one row as the document is read (`count_document_grams`), then (once
    /// the run is read) sorted by gram and document (`sort_grams`): Chinese text has many
    /// more distinct grams than a language has words, and sorted lists cost far less than
    /// a table looked up at every character.
    grams: Vec<GramFound>,
    /// The text length (in terms) of each document seen, by position.
    lengths: Vec<(usize, u32)>,
}

/// Words to their stems, kept by each worker across the pages it collects one by one
/// (`PageTerms::collect`): stemming each page's words anew was most of the cost.
#[derive(Default)]
pub(super) struct Stems(FxHashMap<Box<str>, Box<str>>);

impl Stems {
    fn stem(&mut self, processor: &TextProcessor, word: &str) -> &str {
        if !self.0.contains_key(word) {
            self.0.insert(word.into(), processor.stem(word).into());
        }
        // Invariant: inserted just above when it was not there.
        self.0.get(word).map_or("", |stem| stem)
    }
}

impl Collected {
    fn add(mut self, processor: &TextProcessor, mut stems: Option<&mut Stems>, d: u32, doc: &Doc) -> Self {
        let mut length = 0;
        let first_gram = self.grams.len();
        for (text, field) in [(doc.title, Field::Title), (&doc.heading, Field::Heading), (&doc.text, Field::Body)] {
            processor.for_each_word(text, |word, han| {
                if han {
                    self.grams.push(GramFound { key: gram_key(word), doc: d, counts: FieldCounts::of(field) });
                } else {
                    let term = self.term_of(processor, stems.as_deref_mut(), word);
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
        // Counted document by document, so that the list holds one row per gram of each
        // document rather than one per occurrence: a Chinese index's largest list, at
        // the build's peak memory.
        self.count_document_grams(first_gram);
        self
    }

    /// The rows from `first` on, one document's, sorted by gram, and each gram's rows
    /// made one, in place.
    fn count_document_grams(&mut self, first: usize) {
        let grams = &mut self.grams;
        grams[first..].sort_unstable_by_key(|found| found.key);
        let mut kept = first;
        for next in first..grams.len() {
            if kept > first && grams[kept - 1].key == grams[next].key {
                let counts = grams[next].counts;
                grams[kept - 1].counts.add_all(counts);
            } else {
                grams.swap(kept, next);
                kept += 1;
            }
        }
        grams.truncate(kept);
    }

    /// `grams` sorted by gram and document. Each document's grams are counted as it is
    /// read (`add`, or the page's own `PageTerms`), so each (gram, document) has one row.
    fn sort_grams(&mut self) {
        self.grams.sort_unstable_by_key(|found| (found.key, found.doc));
    }

    fn term_of(&mut self, processor: &TextProcessor, stems: Option<&mut Stems>, word: &str) -> usize {
        if let Some(&term) = self.words.get(word) {
            return term as usize;
        }
        let index = match stems {
            Some(stems) => self.term_index(stems.stem(processor, word)),
            None => self.term_index(&processor.stem(word)),
        };
        self.words.insert(word.into(), index);
        index as usize
    }

    fn term_index(&mut self, term: &str) -> u32 {
        if let Some(&index) = self.terms.get(term) {
            return index;
        }
        let index = place(self.found.len());
        self.found.push(Vec::new());
        self.terms.insert(term.into(), index);
        index
    }

    /// A page's terms (`PageTerms`) appended, its documents numbered from `first_doc`.
    fn append(mut self, page: &PageTerms, first_doc: u32) -> Self {
        let mut renumbered = Vec::with_capacity(page.term_ends.len());
        for (term, found) in page.terms() {
            let into = self.term_index(term);
            renumbered.push(into);
            let found = found.iter().map(|f| Found { doc: f.doc + first_doc, counts: f.counts });
            self.found[into as usize].extend(found);
        }
        for (word, term) in page.aliases() {
            if !self.words.contains_key(word) {
                self.words.insert(word.into(), renumbered[term as usize]);
            }
        }
        self.grams.extend(page.grams.iter().map(|g| GramFound {
            key: g.key,
            doc: g.doc + first_doc,
            counts: g.counts,
        }));
        let first = first_doc as usize;
        self.lengths.extend(page.lengths.iter().enumerate().map(|(d, &length)| (first + d, length)));
        self
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

/// One page's terms as the memo keeps them, packed into a few flat lists: a page has
/// hundreds of terms, and a map entry, a string and a list for each (`Collected`) made
/// the memo of a 12,000-page site five times larger.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub(super) struct PageTerms {
    /// The terms one after another: term `t` ends at `term_ends[t]`.
    texts: String,
    term_ends: Vec<u32>,
    /// Each term's occurrences by the page's documents (numbered from 0), one term
    /// after another: term `t`'s end at `found_ends[t]`.
    found: Vec<Found>,
    found_ends: Vec<u32>,
    /// The words that differ from their stem, one after another, each with its end in
    /// `alias_texts` and its term.
    alias_texts: String,
    aliases: Vec<(u32, u32)>,
    /// The page's Han grams, counted and sorted (`Collected::sort_grams`).
    pub(super) grams: Vec<GramFound>,
    /// Each document's text length, in terms.
    pub(super) lengths: Vec<u32>,
}

impl PageTerms {
    /// A page's terms, its words stemmed through `stems`.
    pub(super) fn collect(processor: &TextProcessor, stems: &mut Stems, docs: &[Doc]) -> Self {
        let mut page = docs
            .iter()
            .enumerate()
            .fold(Collected::default(), |page, (d, doc)| page.add(processor, Some(&mut *stems), place(d), doc));
        page.sort_grams();
        let mut names: Vec<&str> = vec![""; page.found.len()];
        for (term, &index) in &page.terms {
            names[index as usize] = term;
        }
        let mut packed = PageTerms {
            texts: String::new(),
            term_ends: Vec::with_capacity(names.len()),
            found: Vec::with_capacity(page.found.iter().map(Vec::len).sum()),
            found_ends: Vec::with_capacity(names.len()),
            alias_texts: String::new(),
            aliases: Vec::new(),
            grams: std::mem::take(&mut page.grams),
            lengths: page.lengths.iter().map(|&(_, length)| length).collect(),
        };
        packed.grams.shrink_to_fit();
        for (name, found) in names.iter().zip(&page.found) {
            packed.texts.push_str(name);
            packed.term_ends.push(place(packed.texts.len()));
            packed.found.extend(found.iter().map(|f| Found { doc: f.doc, counts: f.counts }));
            packed.found_ends.push(place(packed.found.len()));
        }
        for (word, &term) in &page.words {
            if **word != *names[term as usize] {
                packed.alias_texts.push_str(word);
                packed.aliases.push((place(packed.alias_texts.len()), term));
            }
        }
        packed.texts.shrink_to_fit();
        packed.alias_texts.shrink_to_fit();
        packed
    }

    /// Each term with its occurrences.
    pub(super) fn terms(&self) -> impl Iterator<Item = (&str, &[Found])> {
        let starts = std::iter::once(0).chain(self.term_ends.iter().copied());
        let found_starts = std::iter::once(0).chain(self.found_ends.iter().copied());
        starts.zip(&self.term_ends).zip(found_starts.zip(&self.found_ends)).map(|((start, &end), (from, &to))| {
            (&self.texts[start as usize..end as usize], &self.found[from as usize..to as usize])
        })
    }

    /// Term `t`'s text.
    pub(super) fn term(&self, t: u32) -> &str {
        let start = t.checked_sub(1).map_or(0, |previous| self.term_ends[previous as usize]);
        &self.texts[start as usize..self.term_ends[t as usize] as usize]
    }

    /// Each word that differs from its stem, with its term's place in `terms`.
    pub(super) fn aliases(&self) -> impl Iterator<Item = (&str, u32)> {
        let starts = std::iter::once(0).chain(self.aliases.iter().map(|&(end, _)| end));
        starts.zip(&self.aliases).map(|(start, &(end, term))| (&self.alias_texts[start as usize..end as usize], term))
    }
}

/// What tells one page's documents from another's, for the memo: their text, field by
/// field, the only thing their terms are made of.
pub(super) fn docs_key(docs: &[Doc]) -> u128 {
    let mut hasher = xxh3::Xxh3::new();
    for doc in docs {
        // Each with its length, so that no two lists of texts run together.
        for text in [doc.title, &doc.heading, &doc.text] {
            hasher.update(&(text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
    }
    hasher.digest128()
}

impl Index {
    /// The index of `docs`, which are the documents of `pages` one after the other
    /// (each page's range in `docs`), with the ids `chunks` give them. With `remembered`
    /// (each page's terms, as watch mode keeps them), the pages are not read again, and
    /// the terms' occurrences are returned with the index (`Occurrences`) for the next
    /// build's update (`delta`); the index is the same either way.
    pub(super) fn build(
        processor: &TextProcessor,
        docs: &[Doc],
        pages: &[Range<usize>],
        chunks: &[Vec<usize>],
        remembered: Option<&[Arc<PageTerms>]>,
    ) -> (Index, Option<Occurrences>) {
        let ids = doc_ids(docs.len(), chunks);
        // One contiguous block of pages per thread: each block's terms are gathered
        // once, and the merge touches each block's vocabulary once, however many
        // documents it holds (more blocks even out the load a little but hold more
        // copies of the vocabulary: at 12,000 pages, 4 blocks peaked 20 MiB higher).
        let block = pages.len().div_ceil(rayon::current_num_threads()).max(1);
        let mut blocks: Vec<Collected> = pages
            .par_chunks(block)
            .enumerate()
            .map(|(b, block_pages)| {
                let block_docs =
                    block_pages.first().map_or(0, |first| first.start)..block_pages.last().map_or(0, |last| last.end);
                // Room for every gram the block can hold, so the list never grows by
                // copying itself: at its peak, that copy would double the largest
                // allocation of the build. Room never written to takes no memory.
                let room = docs[block_docs.clone()].iter().map(Doc::most_grams).sum();
                let start = Collected { grams: Vec::with_capacity(room), ..Collected::default() };
                let mut collected = match remembered {
                    Some(made) => made[b * block..][..block_pages.len()]
                        .iter()
                        .zip(block_pages)
                        .fold(start, |collected, (page, range)| collected.append(page, place(range.start))),
                    None => block_docs.fold(start, |collected, d| collected.add(processor, None, place(d), &docs[d])),
                };
                collected.sort_grams();
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
        let score = |term: Box<str>, found: &[Found]| {
            let postings = scorer.postings(found.len(), found.iter().map(|f| (f.doc, f.counts)));
            (term, postings)
        };
        let (terms, occurrences): (Vec<_>, _) = if remembered.is_some() {
            let terms =
                names.par_iter().zip(&collected.found).map(|(term, found)| score(term.clone(), found)).collect();
            (terms, Some(Occurrences { names, found: collected.found }))
        } else {
            // Each term's occurrences are dropped once scored: held until the end, they
            // would raise the build's peak memory by as much as the postings take.
            let terms = names.into_par_iter().zip(collected.found).map(|(term, found)| score(term, &found)).collect();
            (terms, None)
        };
        let aliases = collected
            .words
            .into_iter()
            .filter(|(word, index)| **word != *terms[*index as usize].0)
            .map(|(word, index)| (word, index as usize))
            .collect();
        (Index { terms, aliases, grams: Grams::new(grams), scorer }, occurrences)
    }
}

/// Each document's id, by its position: `chunk * CHUNK_DOCS + index in chunk`.
pub(super) fn doc_ids(documents: usize, chunks: &[Vec<usize>]) -> Vec<u32> {
    let mut ids = vec![0; documents];
    for (c, chunk) in chunks.iter().enumerate() {
        for (i, &d) in chunk.iter().enumerate() {
            ids[d] = place(c * CHUNK_DOCS + i);
        }
    }
    ids
}

/// The terms (Han grams aside) of an index and each one's occurrences, by document
/// position, as `Index::build` merged them: what `delta` updates after an edit.
pub(super) struct Occurrences {
    /// Each term, by its number.
    pub(super) names: Vec<Box<str>>,
    pub(super) found: Vec<Vec<Found>>,
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn doc<'a>(title: &'a str, heading: &'a str, text: impl Into<Cow<'a, str>>) -> Doc<'a> {
        Doc { url: String::new(), title, heading: heading.into(), text: text.into(), lang: None }
    }

    /// The documents holding `term`, best score first (ties by id, as the client sorts).
    fn ranking(docs: &[Doc], term: &str) -> Vec<usize> {
        let chunks: Vec<Vec<usize>> = (0..docs.len()).map(|d| vec![d]).collect();
        let pages: Vec<Range<usize>> = (0..docs.len()).map(|d| d..d + 1).collect();
        let (index, _) = Index::build(&TextProcessor::for_language("en"), docs, &pages, &chunks, None);
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
    fn a_gram_is_counted_per_field_in_one_row_per_document() {
        let processor = TextProcessor::for_language("zh");
        let first = doc("汇款", "", "汇款汇款");
        let second = doc("移民", "汇款", "移民");
        let mut collected = Collected::default().add(&processor, None, 0, &first).add(&processor, None, 1, &second);
        collected.sort_grams();
        let rows: Vec<(u32, u8, u8, u16)> = collected
            .grams
            .iter()
            .filter(|found| found.key == gram_key("汇款"))
            .map(|found| (found.doc, found.counts.title, found.counts.heading, found.counts.body))
            .collect();
        assert_eq!(rows, [(0, 1, 0, 2), (1, 0, 1, 0)]);
        assert!(collected.grams.is_sorted_by_key(|found| (found.key, found.doc)));
    }
}
