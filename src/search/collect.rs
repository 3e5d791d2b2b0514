//! Term collection: the documents' words, stemmed, and Han grams, gathered by one worker
//! per block of documents, merged in document order and scored into the `Index` that
//! `shards` writes. Owns the postings (each term's documents, by id, with their scores)
//! and the aliases from word to stem; not the tokenizing (`text`), the formula (`score`)
//! nor the merge of the grams (`grams`).

use rayon::prelude::*;
use rustc_hash::FxHashMap;

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
    pub(super) fn build(processor: &TextProcessor, docs: &[Doc], chunks: &[Vec<usize>]) -> Index {
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
}
