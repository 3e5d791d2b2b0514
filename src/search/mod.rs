//! The client-side search index: for each language, a small manifest, term shards and
//! document chunks under `/<lang>/search/`, which `themes/default/js/search.js` fetches
//! only as a query needs them. Owns what is indexed, the ranking scores (BM25F, computed
//! here so the client only adds numbers) and the file layout; does not search (the
//! browser does) and writes no output file (the caller's `emit` does; the index a build
//! keeps for the next goes to the cache folder it is given).
//!
//! `index_language` is the entry point, and `index_language_kept` for a build with the
//! cache; each step has its module:
//! - `documents`: what is indexed: every published page's sections, guiding questions and
//!   footnotes, each with its anchor, grouped into chunks that give each its id.
//! - `collect`: the documents' words, stems and Han grams gathered in parallel into an
//!   `Index` of terms with their postings.
//! - `grams`: Han grams as numbers that sort as UTF-16 does, merged across workers.
//! - `score`: BM25F over title, heading and text.
//! - `shards`: the index's keys in UTF-16 order, cut into term shards named by content.
//! - `delta`: an index updated after an edit by the rows it touches: watch mode's, in
//!   memory, and the one the build cache keeps on disk (`delta::kept`).
//! - `format`: the file layout `search.js` reads (the Rust/JS contract, stated there
//!   only; `search.js` points to this file for it), its version and the encoders.
//! - `text`: the text processing both sides share.

mod collect;
mod delta;
mod documents;
mod format;
mod grams;
mod score;
mod shards;
pub mod text;

use std::collections::BTreeMap;

use bytes::Bytes;
use rayon::prelude::*;
use serde_json::{Value, json};
use xxhash_rust::xxh3;

use crate::i18n::Language;
use crate::markdown;
use crate::output::OutputFile;
use crate::render::RenderedSources;
use crate::site::{Page, Site};
use collect::Index;
pub(crate) use delta::TermsMemo;
use delta::kept::{self as kept_index, Documents, IndexFile, KeptFiles, file_hash};
pub(crate) use delta::kept::{InputKey, KeptMeta};
use documents::{Doc, chunk_docs, chunk_files, page_docs};
use format::{DIR_SHARDS, manifest};
use shards::ShardFiles;
use text::TextProcessor;

/// One language's index files, handed to `emit` part by part (the documents, then the
/// term shards, then the rest), so that a caller writing them as they come never holds
/// the whole index in memory. Stops at `emit`'s first error. With a `memo` (watch mode),
/// the last index is updated where it can be: only the pages whose text changed are
/// read, and only the rows and document chunks they touch are written again (`TermsMemo`).
pub(crate) fn index_language<E>(
    site: &Site,
    sources: &RenderedSources,
    assets: &BTreeMap<String, String>,
    language: &Language,
    mut memo: Option<&mut TermsMemo>,
    emit: &mut dyn FnMut(Vec<OutputFile>) -> Result<(), E>,
) -> Result<(), E> {
    let processor = TextProcessor::for_language(language.code.primary());
    let pages: Vec<&Page> = site.pages_in(&language.code).collect();
    let titles = page_titles(site, &pages);
    let (docs, ranges) = all_docs(site, sources, language, &pages, &titles);
    let chunks = chunk_docs(&docs);
    let mut out = Emitter { base: format!("{}/search", language.code), version: xxh3::Xxh3::new(), emit };
    out.emit(match memo.as_deref_mut() {
        Some(memo) => memo.chunk_files(&docs, &chunks),
        None => chunk_files(&docs, &chunks),
    })?;
    let ShardFiles { shards, separators, tails } = match memo {
        Some(memo) => memo.index(&processor, &docs, &ranges, &chunks),
        None => Index::build(&processor, &docs, &ranges, &chunks, None).0.shards(),
    };
    let names: Vec<&str> = shards.iter().map(|shard| shard.name.as_str()).collect();
    let dirs = directories(&separators, &names);
    out.emit(shards.into_iter().map(|shard| (format!("s/{}.json", shard.name), shard.body)).collect())?;
    out.emit(dirs)?;
    out.emit(tails.into_iter().map(|tail| (format!("t/{}.json", tail.name), tail.body)).collect())?;
    out.finish(site, assets, language, &processor, docs.len(), &separators)
}

/// Takes files of the last build's index as they are, each by its path in the output
/// and its content's hash: whether they all were (`index_language_kept`).
pub(crate) type Reuse<'r, E> = dyn FnMut(&[(String, u128)]) -> Result<bool, E> + 'r;

/// What a build with the cache gives `index_language_kept`: the folder of the
/// language's kept index, what the index reads besides its pages, each page's key (in
/// the order of `Site::pages_in`), and what the last build kept.
pub(crate) struct Kept<'k> {
    pub(crate) store: &'k crate::cache::ContentStore,
    pub(crate) base: InputKey,
    pub(crate) page_keys: Vec<InputKey>,
    pub(crate) last: Option<KeptMeta>,
}

/// `index_language` for a build with the cache: the last build's index (`kept.last`)
/// updated for the pages whose keys changed, when it can be and `reuse` finds the files
/// it did not change (their paths in the output and content hashes; false when one is
/// not there as the last build wrote it), or made afresh; the files changed or made go
/// to `emit`. What was kept for the next build (none when it could not be stored), and
/// whether the index was updated.
pub(crate) fn index_language_kept<E>(
    site: &Site,
    sources: &RenderedSources,
    assets: &BTreeMap<String, String>,
    language: &Language,
    kept: Kept,
    emit: &mut dyn FnMut(Vec<OutputFile>) -> Result<(), E>,
    reuse: &mut Reuse<E>,
) -> Result<(Option<KeptMeta>, bool), E> {
    let processor = TextProcessor::for_language(language.code.primary());
    let pages: Vec<&Page> = site.pages_in(&language.code).collect();
    let titles = page_titles(site, &pages);
    let mut out = Emitter { base: format!("{}/search", language.code), version: xxh3::Xxh3::new(), emit };
    let last = kept.last.filter(|last| last.fits(&kept.base, pages.len()));
    let docs_of = |p: usize| page_docs(site, sources, language, pages[p], &titles[p]);
    if let Some((files, meta)) =
        last.and_then(|last| kept_index::update(&processor, &last, kept.store, kept.page_keys.clone(), &docs_of))
    {
        let unchanged: Vec<(String, u128)> = [&files.chunks, &files.shards, &files.tails]
            .into_iter()
            .flatten()
            .filter(|file| file.body.is_none())
            .map(|file| (format!("{}/{}", out.base, file.path), file.hash.content))
            .collect();
        if reuse(&unchanged)? {
            out.emit_kept(files, site, assets, language, &processor)?;
            return Ok((Some(meta), true));
        }
    }
    let (docs, ranges) = all_docs(site, sources, language, &pages, &titles);
    let chunks = chunk_docs(&docs);
    let documents = Documents { docs: &docs, pages: &ranges, chunks: &chunks };
    let (files, meta) = kept_index::make_and_keep(&processor, &documents, kept.base, kept.page_keys, kept.store);
    out.emit_kept(files, site, assets, language, &processor)?;
    Ok((meta, false))
}

/// Each page's title as plain text.
fn page_titles(site: &Site, pages: &[&Page]) -> Vec<String> {
    pages.par_iter().map(|page| markdown::inline_text(&site.source(page).front.title)).collect()
}

/// The documents of `pages` one after the other, and each page's range of them.
fn all_docs<'s>(
    site: &'s Site,
    sources: &'s RenderedSources,
    language: &'s Language,
    pages: &[&Page],
    titles: &'s [String],
) -> (Vec<Doc<'s>>, Vec<std::ops::Range<usize>>) {
    let by_page: Vec<Vec<Doc>> =
        pages.par_iter().zip(titles).map(|(page, title)| page_docs(site, sources, language, page, title)).collect();
    let mut ranges = Vec::with_capacity(by_page.len());
    let mut docs = Vec::with_capacity(by_page.iter().map(Vec::len).sum());
    for page in by_page {
        ranges.push(docs.len()..docs.len() + page.len());
        docs.extend(page);
    }
    (docs, ranges)
}

/// The directory files `s/dir-<k>.json`: each shard's separator and name, `DIR_SHARDS`
/// to a file.
fn directories(separators: &[String], names: &[&str]) -> Vec<(String, String)> {
    let dirs: Vec<Value> = separators
        .iter()
        .zip(names)
        .map(|(separator, name)| json!([separator, name]))
        .collect::<Vec<_>>()
        .chunks(DIR_SHARDS)
        .map(|dir| Value::from(dir.to_vec()))
        .collect();
    dirs.iter().enumerate().map(|(k, dir)| (format!("s/dir-{k}.json"), dir.to_string())).collect()
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
    fn emit<B: AsRef<[u8]> + Into<Bytes> + Sync>(&mut self, files: Vec<(String, B)>) -> Result<(), E> {
        // Each file hashed on its own, in parallel; the version hashes their hashes.
        let hashes: Vec<u128> = files.par_iter().map(|(path, body)| file_hash(path, body.as_ref())).collect();
        for hash in &hashes {
            self.version.update(&hash.to_le_bytes());
        }
        self.hand_on(files)
    }

    /// Files of a kept index: every one's hash counts in the version, and only those
    /// with their bytes are handed on.
    fn emit_files(&mut self, files: Vec<IndexFile>) -> Result<(), E> {
        for file in &files {
            self.version.update(&file.hash.version.to_le_bytes());
        }
        self.hand_on(files.into_iter().filter_map(|file| Some((file.path, file.body?))))
    }

    /// Hands files on to `emit`, each under the index's folder.
    fn hand_on<B: Into<Bytes>>(&mut self, files: impl IntoIterator<Item = (String, B)>) -> Result<(), E> {
        (self.emit)(
            files.into_iter().map(|(path, body)| OutputFile::new(format!("{}/{path}", self.base), body)).collect(),
        )
    }

    /// A kept index's files in the order of `index_language`'s, then its manifest.
    fn emit_kept(
        &mut self,
        files: KeptFiles,
        site: &Site,
        assets: &BTreeMap<String, String>,
        language: &Language,
        processor: &TextProcessor,
    ) -> Result<(), E> {
        let KeptFiles { chunks, shards, tails, separators, names, documents } = files;
        self.emit_files(chunks)?;
        self.emit_files(shards)?;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        self.emit(directories(&separators, &names))?;
        self.emit_files(tails)?;
        self.finish(site, assets, language, processor, documents, &separators)
    }

    /// The manifest, `index.json`, last: its version is a hash of every other file.
    fn finish(
        &mut self,
        site: &Site,
        assets: &BTreeMap<String, String>,
        language: &Language,
        processor: &TextProcessor,
        documents: usize,
        separators: &[String],
    ) -> Result<(), E> {
        let first_keys: Vec<&str> = separators.iter().step_by(DIR_SHARDS).map(String::as_str).collect();
        let version = format!("{:010x}", self.version.digest128() >> 88);
        let manifest = manifest(site, assets, language, processor, documents, first_keys, version);
        self.emit(vec![("index.json".to_string(), manifest.to_string())])
    }
}
