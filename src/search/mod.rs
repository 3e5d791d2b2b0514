//! The client-side search index: for each language, a small manifest, term shards and
//! document chunks under `/<lang>/search/`, which `themes/default/js/search.js` fetches
//! only as a query needs them. Owns what is indexed, the ranking scores (BM25F, computed
//! here so the client only adds numbers) and the file layout; does not search (the
//! browser does) and writes nothing (the caller's `emit` does).
//!
//! `index_language` is the entry point; each step has its module:
//! - `documents`: what is indexed: every published page's sections, guiding questions and
//!   footnotes, each with its anchor, grouped into chunks that give each its id.
//! - `collect`: the documents' words, stems and Han grams gathered in parallel into an
//!   `Index` of terms with their postings.
//! - `grams`: Han grams as numbers that sort as UTF-16 does, merged across workers.
//! - `score`: BM25F over title, heading and text.
//! - `shards`: the index's keys in UTF-16 order, cut into term shards named by content.
//! - `delta`: watch mode's index, updated after an edit by the rows it touches.
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
    let titles: Vec<String> =
        pages.par_iter().map(|page| markdown::inline_text(&site.source(page).front.title)).collect();
    let by_page: Vec<Vec<Doc>> =
        pages.par_iter().zip(&titles).map(|(page, title)| page_docs(site, sources, language, page, title)).collect();
    let mut ranges = Vec::with_capacity(by_page.len());
    let mut docs = Vec::with_capacity(by_page.iter().map(Vec::len).sum());
    for page in by_page {
        ranges.push(docs.len()..docs.len() + page.len());
        docs.extend(page);
    }
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
    let dirs: Vec<Value> = separators
        .iter()
        .zip(&shards)
        .map(|(separator, shard)| json!([separator, shard.name]))
        .collect::<Vec<_>>()
        .chunks(DIR_SHARDS)
        .map(|dir| Value::from(dir.to_vec()))
        .collect();
    let first_keys: Vec<&str> = separators.iter().step_by(DIR_SHARDS).map(String::as_str).collect();
    out.emit(shards.into_iter().map(|shard| (format!("s/{}.json", shard.name), shard.body)).collect())?;
    out.emit(dirs.iter().enumerate().map(|(k, dir)| (format!("s/dir-{k}.json"), dir.to_string())).collect())?;
    out.emit(tails.into_iter().map(|tail| (format!("t/{}.json", tail.name), tail.body)).collect())?;
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
    fn emit<B: AsRef<[u8]> + Into<Bytes> + Sync>(&mut self, files: Vec<(String, B)>) -> Result<(), E> {
        // Each file hashed on its own, in parallel; the version hashes their hashes.
        let hashes: Vec<u128> = files
            .par_iter()
            .map(|(path, body)| {
                let mut file = xxh3::Xxh3::new();
                file.update(&(path.len() as u64).to_le_bytes());
                file.update(path.as_bytes());
                file.update(body.as_ref());
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
