//! The ranking, computed at build time so that the client only adds numbers: BM25F over
//! a document's title, heading and text, kept as whole tenths in each posting. Owns the
//! fields, their weights and the formula; not which documents a term occurs in
//! (`collect`, `grams`) nor how scores are written (`format`).

use super::format::{DocRef, Posting};

/// BM25 saturation and length normalization.
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// How much a word counts in the page title and the section heading, against the text.
const TITLE_WEIGHT: f64 = 3.0;
const HEADING_WEIGHT: f64 = 2.0;
/// Scores are written as integers: tenths.
const SCORE_SCALE: f64 = 10.0;

/// How often a term occurs in each field of one document. 8 bits for the short fields
/// and 16 for the text count far beyond where BM25 saturates, and keep postings small.
#[derive(Default, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct FieldCounts {
    pub(super) title: u8,
    pub(super) heading: u8,
    pub(super) body: u16,
}

#[derive(Clone, Copy)]
pub(super) enum Field {
    Title,
    Heading,
    Body,
}

impl FieldCounts {
    pub(super) fn of(field: Field) -> Self {
        let mut counts = Self::default();
        counts.add(field);
        counts
    }

    pub(super) fn add(&mut self, field: Field) {
        match field {
            Field::Title => self.title = self.title.saturating_add(1),
            Field::Heading => self.heading = self.heading.saturating_add(1),
            Field::Body => self.body = self.body.saturating_add(1),
        }
    }

    pub(super) fn add_all(&mut self, other: FieldCounts) {
        self.title = self.title.saturating_add(other.title);
        self.heading = self.heading.saturating_add(other.heading);
        self.body = self.body.saturating_add(other.body);
    }
}

/// What scores a term's postings: the documents' ids and lengths, by position.
pub(super) struct Scorer {
    pub(super) ids: Vec<DocRef>,
    pub(super) lengths: Vec<u32>,
    documents: f64,
    average_length: f64,
}

impl Scorer {
    pub(super) fn new(ids: Vec<DocRef>, lengths: Vec<u32>) -> Self {
        let documents = lengths.len() as f64;
        let total: f64 = lengths.iter().map(|&l| f64::from(l)).sum();
        // Rounded to a whole term: an edit of a few words then leaves it, and so the scores
        // of every document it did not touch, as they were (`delta` rewrites only the rows
        // of the terms it touched), and ranks as well as the exact mean.
        let average_length = if lengths.is_empty() { 1.0 } else { (total / documents).round().max(1.0) };
        Self { ids, lengths, documents, average_length }
    }

    /// The mean text length the scores are normalized by.
    pub(super) fn average_length(&self) -> f64 {
        self.average_length
    }

    /// The postings of a term found in `df` documents, given by position with their counts.
    pub(super) fn postings(&self, df: usize, found: impl Iterator<Item = (u32, FieldCounts)>) -> Vec<Posting> {
        let mut postings = Vec::with_capacity(df);
        self.postings_into(df, found, &mut postings);
        postings
    }

    /// `postings`, appended to `out`.
    pub(super) fn postings_into(
        &self,
        df: usize,
        found: impl Iterator<Item = (u32, FieldCounts)>,
        out: &mut Vec<Posting>,
    ) {
        let df = df as f64;
        let idf = (1.0 + (self.documents - df + 0.5) / (df + 0.5)).ln();
        out.extend(found.map(|(doc, counts)| Posting {
            doc: self.ids[doc as usize],
            score: score(idf, counts, f64::from(self.lengths[doc as usize]) / self.average_length),
        }));
    }
}

/// BM25F: the fields' counts weighted (the text's normalized by its length) and saturated.
fn score(idf: f64, counts: FieldCounts, relative_length: f64) -> u32 {
    let body = f64::from(counts.body) / (1.0 - B + B * relative_length);
    let weighted = TITLE_WEIGHT * f64::from(counts.title) + HEADING_WEIGHT * f64::from(counts.heading) + body;
    let value = idf * weighted * (K1 + 1.0) / (K1 + weighted);
    // Rounded to tenths, at least 1 so that every match counts.
    (value * SCORE_SCALE).round().clamp(1.0, f64::from(u32::MAX)) as u32
}
