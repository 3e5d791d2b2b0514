//! The kept index updated after an edit (`update`): the edited pages' terms against
//! those kept, the rows of the shards they fall in, cut again until the cuts fall where
//! they fell.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::super::{LastIndex, differing, too_many};
use super::{
    Hashes, IndexFile, InputKey, KeptFiles, KeptMeta, KeptRow, PAGE_BLOCK, ShardRecord, shard_path, tail_path,
    write_block,
};
use crate::cache::ContentStore;
use crate::search::collect::{PageTerms, Stems, doc_ids, place};
use crate::search::documents::{Doc, chunk_sizes, doc_size, documents_json};
use crate::search::format::NamedFile;
use crate::search::score::Scorer;
use crate::search::shards::{Row, row_order, run_ends, shard_bodies, shard_starts};
use crate::search::text::TextProcessor;

/// The last build's index, kept in `store` as `meta` says, updated for the pages whose
/// keys `page_keys` changed (`docs_of` gives a page's documents, by its place): the
/// files, the changed ones with their bytes, and the new meta. None when the index must
/// be made afresh: too many pages changed, one has another number of documents, the
/// documents fall into other chunks, the mean length moved, a stored file is missing,
/// or the meta's lists disagree.
pub(crate) fn update<'s>(
    processor: &TextProcessor,
    meta: &KeptMeta,
    store: &ContentStore,
    page_keys: Vec<InputKey>,
    docs_of: &(dyn Fn(usize) -> Vec<Doc<'s>> + Sync),
) -> Option<(KeptFiles, KeptMeta)> {
    if !meta.consistent(page_keys.len()) {
        return None;
    }
    let changed = meta.changed_pages(&page_keys);
    if too_many(changed.len(), page_keys.len()) {
        return None;
    }
    let ranges = meta.page_ranges();
    let made: Vec<(usize, Vec<Doc>, Arc<PageTerms>)> = changed
        .par_iter()
        .map_init(Stems::default, |stems, &p| {
            let docs = docs_of(p);
            let terms = Arc::new(PageTerms::collect(processor, stems, &docs));
            (p, docs, terms)
        })
        .collect();
    let mut sizes = meta.sizes.clone();
    for (p, docs, _) in &made {
        if docs.len() != ranges[*p].len() {
            return None;
        }
        for (d, doc) in ranges[*p].clone().zip(docs) {
            sizes[d] = place(doc_size(doc));
        }
    }
    let chunks = chunk_sizes(sizes.iter().map(|&size| size as usize));
    if chunks != chunk_sizes(meta.sizes.iter().map(|&size| size as usize)) {
        return None;
    }
    let mut blocks: BTreeMap<usize, Vec<Arc<PageTerms>>> = BTreeMap::new();
    for block in changed.iter().map(|p| p / PAGE_BLOCK).collect::<BTreeSet<_>>() {
        let terms: Vec<PageTerms> = store.read(meta.blocks[block])?;
        blocks.insert(block, terms.into_iter().map(Arc::new).collect());
    }
    let mut updating = Updating::new(meta, store, &ranges, &chunks);
    let mut wanted = BTreeSet::new();
    let mut new_terms = Vec::with_capacity(made.len());
    for (p, _, new) in &made {
        let old = Arc::clone(blocks.get(&(p / PAGE_BLOCK))?.get(p % PAGE_BLOCK)?);
        let change = differing(&old, new);
        let terms = change.lost.iter().map(String::as_str).chain(change.gained.iter().map(|(text, _)| text.as_str()));
        wanted.extend(terms.map(|text| meta.shard_of(text, true)));
        let had: FxHashSet<&str> = old.aliases().map(|(word, _)| word).collect();
        let has: FxHashSet<&str> = new.aliases().map(|(word, _)| word).collect();
        wanted.extend(had.symmetric_difference(&has).map(|word| meta.shard_of(word, false)));
        updating.last.terms[*p] = old;
        new_terms.push((*p, Arc::clone(new)));
        blocks.get_mut(&(p / PAGE_BLOCK))?[p % PAGE_BLOCK] = Arc::clone(new);
    }
    updating.load(&wanted)?;
    updating.last.update_pages(&new_terms)?;
    let changed_docs: BTreeSet<usize> = changed.iter().flat_map(|&p| ranges[p].clone()).collect();
    let chunk_files = chunk_files(meta, &chunks, &ranges, &changed_docs, docs_of);
    let mut blocks_kept = meta.blocks.clone();
    for (b, block) in &blocks {
        blocks_kept[*b] = write_block(store, block).ok()?;
    }
    let kept = Kept { page_keys, sizes, chunks: chunk_files, blocks: blocks_kept };
    updating.finish(kept)
}

/// What an update keeps besides the shards.
struct Kept {
    page_keys: Vec<InputKey>,
    sizes: Vec<u32>,
    chunks: Vec<IndexFile>,
    blocks: Vec<u128>,
}

/// The document chunks: those that hold a `changed` document made again (with their
/// bytes when these changed), the others as the last build wrote them.
fn chunk_files<'s>(
    meta: &KeptMeta,
    chunks: &[Vec<usize>],
    ranges: &[Range<usize>],
    changed: &BTreeSet<usize>,
    docs_of: &(dyn Fn(usize) -> Vec<Doc<'s>> + Sync),
) -> Vec<IndexFile> {
    let mut made: FxHashMap<usize, IndexFile> = chunks
        .par_iter()
        .enumerate()
        .filter(|(_, chunk)| chunk.iter().any(|d| changed.contains(d)))
        .map(|(c, chunk)| {
            let (first, last) = (chunk[0], chunk[chunk.len() - 1]);
            let first_page = ranges.partition_point(|range| range.end <= first);
            let mut docs = Vec::new();
            for (p, range) in ranges.iter().enumerate().skip(first_page) {
                if range.start > last {
                    break;
                }
                docs.extend(range.clone().zip(docs_of(p)).filter(|(d, _)| (first..=last).contains(d)));
            }
            let body = documents_json(docs.iter().map(|(_, doc)| doc));
            (c, IndexFile::new(format!("d/{c}.json"), body.into()))
        })
        .collect();
    (0..chunks.len())
        .map(|c| match made.remove(&c) {
            Some(file) if file.hash != meta.chunks[c] => file,
            _ => IndexFile { path: format!("d/{c}.json"), hash: meta.chunks[c], body: None },
        })
        .collect()
}

/// Shards cut again (`Updating::runs`): the place of the first and last shard they
/// replace, their rows, and where those are cut.
struct Run {
    first: usize,
    last: usize,
    rows: Vec<Row>,
    ends: Vec<usize>,
}

/// The last index as far as an update reads it: the rows of the shards it loaded.
struct Updating<'m> {
    meta: &'m KeptMeta,
    store: &'m ContentStore,
    last: LastIndex,
    /// The loaded shards, by place, and the tails their rows named.
    loaded: BTreeSet<usize>,
    old_tails: Vec<String>,
}

impl<'m> Updating<'m> {
    fn new(meta: &'m KeptMeta, store: &'m ContentStore, ranges: &[Range<usize>], chunks: &[Vec<usize>]) -> Self {
        let placeholder = Arc::new(PageTerms::default());
        let ids = doc_ids(meta.sizes.len(), chunks);
        let average_length = Scorer::new(ids.clone(), meta.lengths.clone()).average_length();
        let last = LastIndex {
            pages: ranges.to_vec(),
            chunks: chunks.to_vec(),
            keys: vec![0; ranges.len()],
            terms: vec![placeholder; ranges.len()],
            ids,
            lengths: meta.lengths.clone(),
            average_length,
            numbers: FxHashMap::default(),
            names: Vec::new(),
            found: Vec::new(),
            aliases: FxHashMap::default(),
            rows: Vec::new(),
        };
        Self { meta, store, last, loaded: BTreeSet::new(), old_tails: Vec::new() }
    }

    /// Reads the shards `wanted` (by place), their rows in key order.
    fn load(&mut self, wanted: &BTreeSet<usize>) -> Option<()> {
        let read: Vec<Vec<KeptRow>> =
            wanted.par_iter().map(|&s| self.store.read(self.meta.shards.get(s)?.rows)).collect::<Option<_>>()?;
        let mut rows = std::mem::take(&mut self.last.rows);
        for shard in read {
            self.take_in_shard(shard, &mut rows);
        }
        self.last.rows = rows;
        self.loaded.extend(wanted);
        Some(())
    }

    /// Reads the shard at `place`, its rows after `rows`.
    fn load_one(&mut self, place: usize, rows: &mut Vec<Row>) -> Option<()> {
        let read: Vec<KeptRow> = self.store.read(self.meta.shards.get(place)?.rows)?;
        self.take_in_shard(read, rows);
        Some(())
    }

    /// Takes in the rows of a shard read back, after `rows`, noting the tails they name.
    fn take_in_shard(&mut self, shard: Vec<KeptRow>, rows: &mut Vec<Row>) {
        for row in shard {
            self.old_tails.extend(row.tail.clone());
            rows.push(self.last.take_in(row));
        }
    }

    /// The updated rows, by loaded shard: each one's rows are those before the next
    /// shard's first key. None when a row is past the last loaded shard (not reached:
    /// every changed row's shard is loaded).
    fn rows_by_shard(&mut self) -> Option<BTreeMap<usize, Vec<Row>>> {
        let mut rows = std::mem::take(&mut self.last.rows).into_iter().peekable();
        let mut by_shard = BTreeMap::new();
        for &s in &self.loaded {
            let next = self.meta.shards.get(s + 1).map(|shard| &shard.first);
            let before_next =
                |row: &Row| next.is_none_or(|(key, is_term)| row_order(&row.key, row.is_term, key, *is_term).is_lt());
            let mut mine = Vec::new();
            while let Some(row) = rows.next_if(before_next) {
                mine.push(row);
            }
            by_shard.insert(s, mine);
        }
        rows.next().is_none().then_some(by_shard)
    }

    /// The shards cut again where rows changed: runs of consecutive loaded shards, each
    /// grown by the next shard until its last row ends a shard as it did (`run_ends`).
    fn runs(&mut self) -> Option<Vec<Run>> {
        let mut by_shard = self.rows_by_shard()?;
        let loaded: Vec<usize> = self.loaded.iter().copied().collect();
        let mut runs = Vec::new();
        let mut i = 0;
        while i < loaded.len() {
            let (start, mut end) = (loaded[i], loaded[i]);
            let mut rows = by_shard.remove(&start)?;
            i += 1;
            loop {
                while i < loaded.len() && loaded[i] == end + 1 {
                    end += 1;
                    rows.extend(by_shard.remove(&end)?);
                    i += 1;
                }
                let next = self.meta.shards.get(end + 1).map(|shard| &*shard.first.0);
                if let Some(ends) = run_ends(&rows, next) {
                    runs.push(Run { first: start, last: end, rows, ends });
                    break;
                }
                end += 1;
                self.load_one(end, &mut rows)?;
            }
        }
        Some(runs)
    }

    /// The updated index's files and meta, with `kept`.
    fn finish(mut self, kept: Kept) -> Option<(KeptFiles, KeptMeta)> {
        let meta = self.meta;
        let runs = self.runs()?;
        let mut tails = meta.tails.clone();
        for name in &self.old_tails {
            let (_, rows) = tails.get_mut(name)?;
            *rows = rows.checked_sub(1)?;
        }
        let mut new_tails: FxHashMap<String, Bytes> = FxHashMap::default();
        let mut records = Vec::new();
        let mut shard_files = Vec::new();
        let mut previous = 0;
        for Run { first: start, last: end, rows, ends } in runs {
            for record in &meta.shards[previous..start] {
                records.push(record.clone());
                shard_files.push(IndexFile { path: shard_path(&record.name), hash: record.hash, body: None });
            }
            previous = end + 1;
            for tail in rows.iter().filter_map(|row| row.tail.as_deref()) {
                let hash = if tail.body.is_empty() {
                    meta.tails.get(&tail.name)?.0
                } else {
                    new_tails.entry(tail.name.clone()).or_insert_with(|| tail.body.clone().into());
                    Hashes::of(&tail_path(&tail.name), tail.body.as_bytes())
                };
                tails.entry(tail.name.clone()).or_insert((hash, 0)).1 += 1;
            }
            let starts = shard_starts(&ends);
            let bodies = shard_bodies(&rows, &starts, &ends);
            let made: Vec<(ShardRecord, IndexFile)> = starts
                .par_iter()
                .zip(&ends)
                .zip(bodies)
                .map(|((&first, &last), NamedFile { name, body })| {
                    let file = IndexFile::new(shard_path(&name), body.into());
                    let record = self.last.shard_record(self.store, &rows[first..=last], &name, file.hash).ok()?;
                    Some((record, file))
                })
                .collect::<Option<_>>()?;
            for (record, file) in made {
                records.push(record);
                shard_files.push(file);
            }
        }
        for record in &meta.shards[previous..] {
            records.push(record.clone());
            shard_files.push(IndexFile { path: shard_path(&record.name), hash: record.hash, body: None });
        }
        tails.retain(|_, (_, rows)| *rows > 0);
        if records.is_empty() {
            return None;
        }
        let tail_files = tails
            .iter()
            .map(|(name, (hash, _))| {
                let body = new_tails.remove(name);
                // A tail neither made now nor written by the last build: not reached.
                (body.is_some() || meta.tails.contains_key(name)).then(|| IndexFile {
                    path: tail_path(name),
                    hash: *hash,
                    body,
                })
            })
            .collect::<Option<_>>()?;
        let mut last_key = "";
        let separators = records
            .iter()
            .map(|record| {
                let separator = crate::search::format::separator(last_key, &record.first.0);
                last_key = &record.last.0;
                separator
            })
            .collect();
        let files = KeptFiles {
            chunks: kept.chunks,
            names: records.iter().map(|record| record.name.clone()).collect(),
            shards: shard_files,
            tails: tail_files,
            separators,
            documents: meta.sizes.len(),
        };
        let meta = KeptMeta {
            base: meta.base,
            page_keys: kept.page_keys,
            page_docs: meta.page_docs.clone(),
            sizes: kept.sizes,
            lengths: self.last.lengths,
            chunks: files.chunks.iter().map(|chunk| chunk.hash).collect(),
            shards: records,
            tails,
            blocks: kept.blocks,
        };
        Some((files, meta))
    }
}
