//! The search index kept in the build cache from one `imrf-site build` to the next: what
//! watch mode's `LastIndex` holds, stored by term shard (each shard's rows with their
//! terms' occurrences) and by block of pages (their terms), with a small `KeptMeta`
//! that names those files. A build after an edit reads the meta, the edited pages'
//! blocks and the shards their changed terms fall in, updates those rows as watch mode
//! does (`LastIndex::update_pages`), and cuts the shards they fall in again until the
//! cuts fall where they fell (`shards::run_ends`): the files are those a build from
//! nothing writes. Each stored file is named by its content's hash and checked against
//! it when read: one missing or damaged makes the index afresh, never a wrong one.
//!
//! Here: what is kept, and an index made afresh and kept (`make_and_keep`); `update`:
//! the update after an edit. The files are stored in a `cache::ContentStore`.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_128;

mod update;

pub(crate) use update::update;

use super::{LastIndex, TermsMemo};
use crate::cache::ContentStore;
use crate::search::collect::{Found, PageTerms, place};
use crate::search::documents::{Doc, chunk_sizes, doc_size};
use crate::search::format::NamedFile;
use crate::search::shards::{Row, ShardFiles, row_order, shard_ends, shard_starts};
use crate::search::text::TextProcessor;

/// Pages per block of page terms: an edit reads and writes the blocks of its pages.
const PAGE_BLOCK: usize = 32;

/// A build's key of something the index reads (`build::keys`).
pub(crate) type InputKey = [u8; 32];

/// One file of a language's index, with its hash (`file_hash`), and its bytes when they
/// must be written: a file without them is the last build's, unchanged.
pub(crate) struct IndexFile {
    pub(crate) path: String,
    pub(crate) hash: Hashes,
    pub(crate) body: Option<Bytes>,
}

impl IndexFile {
    fn new(path: String, body: Bytes) -> Self {
        Self { hash: Hashes::of(&path, &body), path, body: Some(body) }
    }
}

/// A file's two hashes: with its path (`file_hash`), what the manifest's version is
/// made of; of its bytes alone, what the output folders record, which tells the file
/// the last build wrote at its path from another.
#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Hashes {
    pub(crate) version: u128,
    pub(crate) content: u128,
}

impl Hashes {
    fn of(path: &str, body: &[u8]) -> Self {
        Self { version: file_hash(path, body), content: xxh3_128(body) }
    }
}

/// The hash of a file of the index (its path in the index's folder, and its bytes): what
/// the manifest's version is made of, and what tells a file kept from one made anew.
pub(crate) fn file_hash(path: &str, body: &[u8]) -> u128 {
    let mut file = xxhash_rust::xxh3::Xxh3::new();
    file.update(&(path.len() as u64).to_le_bytes());
    file.update(path.as_bytes());
    file.update(body);
    file.digest128()
}

/// A language's index as `search::index_language_kept` writes it: the files in the
/// order the manifest's version hashes them (the document chunks, the term shards, the
/// tails; the directories and the manifest are made from `separators` and `names`).
pub(crate) struct KeptFiles {
    pub(crate) chunks: Vec<IndexFile>,
    pub(crate) shards: Vec<IndexFile>,
    pub(crate) tails: Vec<IndexFile>,
    /// Each shard's separator and name, for the directories and the manifest.
    pub(crate) separators: Vec<String>,
    pub(crate) names: Vec<String>,
    pub(crate) documents: usize,
}

/// What the build cache keeps of a language's index: small, read whole.
#[derive(Serialize, Deserialize)]
pub(crate) struct KeptMeta {
    /// What the index read besides its pages' documents (the site, the stemmers, the
    /// language), as the build keys it.
    pub(crate) base: InputKey,
    /// Each page's key: what its documents are made of.
    page_keys: Vec<InputKey>,
    /// Each page's number of documents.
    page_docs: Vec<u32>,
    /// Each document's size as chunks count it (`doc_size`), and its text length. Its
    /// id follows from the chunks, which follow from the sizes; the mean length the
    /// scores use, from the lengths.
    sizes: Vec<u32>,
    lengths: Vec<u32>,
    /// Each document chunk's file hashes.
    chunks: Vec<Hashes>,
    shards: Vec<ShardRecord>,
    /// Each tail file's hashes, and how many rows name it, by its name.
    tails: BTreeMap<String, (Hashes, u32)>,
    /// Each block of `PAGE_BLOCK` pages' terms, by its stored file's name.
    blocks: Vec<u128>,
}

/// One term shard as kept: its first and last row's key (and whether it is a term's),
/// its file's name and hash, and the stored file of its rows (`KeptRow`).
#[derive(Serialize, Deserialize, Clone)]
struct ShardRecord {
    first: (Box<str>, bool),
    last: (Box<str>, bool),
    name: String,
    hash: Hashes,
    rows: u128,
}

/// One row of a shard as kept: the row, with its term's occurrences, or its word's
/// stem and how many pages hold the word.
#[derive(Serialize, Deserialize)]
struct KeptRow {
    key: Box<str>,
    is_term: bool,
    json: Box<str>,
    size: u32,
    tail: Option<String>,
    found: Vec<Found>,
    stem: Option<(Box<str>, u32)>,
}

impl KeptMeta {
    /// The stored files it names: its shards' rows and its blocks of page terms.
    pub(crate) fn names(&self) -> impl Iterator<Item = u128> + '_ {
        self.shards.iter().map(|shard| shard.rows).chain(self.blocks.iter().copied())
    }

    /// Whether it was made from `base` and as many pages.
    pub(crate) fn fits(&self, base: &InputKey, pages: usize) -> bool {
        self.base == *base && self.page_keys.len() == pages
    }

    /// The pages whose keys are not those of `page_keys`.
    fn changed_pages(&self, page_keys: &[InputKey]) -> Vec<usize> {
        page_keys.iter().zip(&self.page_keys).enumerate().filter(|(_, (new, old))| new != old).map(|(p, _)| p).collect()
    }

    /// Whether its lists agree with one another, for `page_keys` pages: they do as this
    /// build wrote them, and the cache file's hash vouches for its bytes, but an update
    /// indexes one list by another and must never read past one.
    fn consistent(&self, pages: usize) -> bool {
        let documents = self.sizes.len();
        let chunks = chunk_sizes(self.sizes.iter().map(|&size| size as usize)).len();
        self.page_keys.len() == pages
            && self.page_docs.len() == pages
            && self.page_docs.iter().map(|&docs| docs as usize).sum::<usize>() == documents
            && self.lengths.len() == documents
            && self.chunks.len() == chunks
            && self.blocks.len() == pages.div_ceil(PAGE_BLOCK)
            && !self.shards.is_empty()
    }

    /// How many term shards the index has.
    #[cfg(test)]
    pub(crate) fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// Each page's documents, by position.
    fn page_ranges(&self) -> Vec<Range<usize>> {
        let mut start = 0;
        self.page_docs
            .iter()
            .map(|&docs| {
                let range = start..start + docs as usize;
                start = range.end;
                range
            })
            .collect()
    }

    /// The shard that holds (or would hold) the row of `key`.
    fn shard_of(&self, key: &str, is_term: bool) -> usize {
        let after = self.shards.partition_point(|shard| row_order(&shard.first.0, shard.first.1, key, is_term).is_le());
        after.saturating_sub(1)
    }
}

/// What a language's index is made from: its pages' documents, each page's range of
/// them and key, the chunks they fall into.
pub(crate) struct Documents<'d, 's> {
    pub(crate) docs: &'d [Doc<'s>],
    pub(crate) pages: &'d [Range<usize>],
    pub(crate) chunks: &'d [Vec<usize>],
}

/// Makes the index of `documents` afresh with watch mode's memo, and keeps it in
/// `store`: the files to write, and the meta naming what was stored (none when it could
/// not be stored; the next build then makes the index afresh).
pub(crate) fn make_and_keep(
    processor: &TextProcessor,
    documents: &Documents,
    base: InputKey,
    page_keys: Vec<InputKey>,
    store: &ContentStore,
) -> (KeptFiles, Option<KeptMeta>) {
    let Documents { docs, pages, chunks } = *documents;
    let mut memo = TermsMemo::default();
    let chunk_files: Vec<IndexFile> =
        memo.chunk_files(docs, chunks).into_par_iter().map(|(path, body)| IndexFile::new(path, body)).collect();
    let ShardFiles { shards, separators, tails } = memo.index(processor, docs, pages, chunks);
    let names: Vec<String> = shards.iter().map(|shard| shard.name.clone()).collect();
    let files = KeptFiles {
        chunks: chunk_files,
        shards: shards
            .into_par_iter()
            .map(|shard| IndexFile::new(shard_path(&shard.name), shard.body.into()))
            .collect(),
        tails: tails.into_par_iter().map(|tail| IndexFile::new(tail_path(&tail.name), tail.body.into())).collect(),
        separators,
        names,
        documents: docs.len(),
    };
    let meta = memo.last.as_ref().and_then(|last| {
        let sizes = docs.iter().map(|doc| place(doc_size(doc))).collect();
        last.keep(store, base, page_keys, sizes, &files).ok()
    });
    (files, meta)
}

/// The path of a shard file and of a tail file in the index's folder.
fn shard_path(name: &str) -> String {
    format!("s/{name}.json")
}

fn tail_path(name: &str) -> String {
    format!("t/{name}.json")
}

impl LastIndex {
    /// Stores this index's shards' rows and its pages' terms; the meta that names them.
    fn keep(
        &self,
        store: &ContentStore,
        base: InputKey,
        page_keys: Vec<InputKey>,
        sizes: Vec<u32>,
        files: &KeptFiles,
    ) -> std::io::Result<KeptMeta> {
        store.create()?;
        let ends = shard_ends(self.rows.iter().map(|row| (&*row.key, row.size)));
        let starts = shard_starts(&ends);
        if ends.len() != files.shards.len() {
            return Err(std::io::Error::other("an empty index is not kept"));
        }
        let shards = starts
            .par_iter()
            .zip(&ends)
            .zip(&files.shards)
            .zip(&files.names)
            .map(|(((&start, &end), file), name)| self.shard_record(store, &self.rows[start..=end], name, file.hash))
            .collect::<std::io::Result<Vec<ShardRecord>>>()?;
        let mut tails: BTreeMap<String, (Hashes, u32)> = BTreeMap::new();
        let tail_hashes: FxHashMap<&str, Hashes> = files
            .tails
            .iter()
            .map(|tail| (tail.path.trim_start_matches("t/").trim_end_matches(".json"), tail.hash))
            .collect();
        for tail in self.rows.iter().filter_map(|row| row.tail.as_ref()) {
            let hash = tail_hashes.get(tail.name.as_str()).copied().unwrap_or_default();
            tails.entry(tail.name.clone()).or_insert((hash, 0)).1 += 1;
        }
        let blocks =
            self.terms.par_chunks(PAGE_BLOCK).map(|block| write_block(store, block)).collect::<Result<_, _>>()?;
        Ok(KeptMeta {
            base,
            page_keys,
            page_docs: self.pages.iter().map(|range| place(range.len())).collect(),
            sizes,
            lengths: self.lengths.clone(),
            chunks: files.chunks.iter().map(|chunk| chunk.hash).collect(),
            shards,
            tails,
            blocks,
        })
    }

    /// Stores one shard's `rows`, with their occurrences and stems.
    fn shard_record(
        &self,
        store: &ContentStore,
        rows: &[Row],
        name: &str,
        hash: Hashes,
    ) -> std::io::Result<ShardRecord> {
        let kept: Vec<KeptRow> = rows.iter().map(|row| self.kept_row(row)).collect();
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Err(std::io::Error::other("a shard has rows"));
        };
        Ok(ShardRecord {
            first: (first.key.clone(), first.is_term),
            last: (last.key.clone(), last.is_term),
            name: name.to_string(),
            hash,
            rows: store.write(&kept)?,
        })
    }

    fn kept_row(&self, row: &Row) -> KeptRow {
        let (found, stem) = if row.is_term {
            let found = self.numbers.get(&row.key).map(|&n| self.found[n as usize].clone()).unwrap_or_default();
            (found, None)
        } else {
            let stem = self.aliases.get(&row.key).map(|&(stem, pages)| (self.names[stem as usize].clone(), pages));
            (Vec::new(), stem)
        };
        KeptRow {
            key: row.key.clone(),
            is_term: row.is_term,
            json: row.json.clone(),
            size: place(row.size),
            tail: row.tail.as_ref().map(|tail| tail.name.clone()),
            found,
            stem,
        }
    }

    /// Takes in a kept row read back: its occurrences, or its word's stem and pages.
    fn take_in(&mut self, row: KeptRow) -> Row {
        if row.is_term {
            let n = self.number(&row.key);
            self.found[n as usize] = row.found;
        } else if let Some((stem, pages)) = &row.stem {
            let stem = self.number(stem);
            self.aliases.insert(row.key.clone(), (stem, *pages));
        }
        Row {
            key: row.key,
            is_term: row.is_term,
            json: row.json,
            size: row.size as usize,
            tail: row.tail.map(|name| Box::new(NamedFile { name, body: String::new() })),
        }
    }
}

fn write_block(store: &ContentStore, block: &[Arc<PageTerms>]) -> std::io::Result<u128> {
    let terms: Vec<&PageTerms> = block.iter().map(|page| &**page).collect();
    store.write(&terms)
}
