//! Read offline: when the config sets `offline = true`, one service worker per language,
//! `/<lang>/sw.js`, whose scope is the language's folder. Each worker holds the list of
//! what a reader of that language needs without a connection (every file under
//! `/<lang>/`, and the theme's assets those files name, such as the stylesheet, the
//! scripts and the icon) and a version, a hash of those files' bytes. Any change to them
//! changes the worker's bytes, so the browser installs the new worker, which fetches the
//! files again into a new cache and deletes the old one (`worker.js`, its code).
//!
//! Made from the finished build's files, so `build` (which writes its files as it goes
//! and keeps none) records each file's hash as it is written (`Precache::record`), and
//! watch mode records them all at the end: both then make the same workers. Writes
//! nothing; the theme's button and `site.js` register and remove the worker.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

use crate::output::OutputFile;

/// What every worker does with its list (network first, the cache when the network
/// fails), after the two constants `worker_script` writes above it.
const WORKER: &str = include_str!("worker.js");

/// The worker's file name in each language's folder.
const WORKER_FILE: &str = "sw.js";

/// What a worker needs to know of one published file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Fingerprint {
    /// Path inside the output directory, with `/` separators.
    path: String,
    hash: blake3::Hash,
    /// The theme's assets (by place in `Precache::assets`) whose URL the file holds.
    names: Vec<usize>,
}

impl Fingerprint {
    /// The file's path inside the output directory.
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// The fingerprints of a build's files, gathered as they are made, and the workers made
/// from them at the end (`service_workers`).
pub struct Precache {
    /// The path every published URL starts with: `/` or `/imrf/`.
    base_path: String,
    languages: Vec<String>,
    /// The theme's assets: each one's path in the output, and its URL as pages write it.
    assets: Vec<(String, String)>,
    seen: Mutex<Vec<Fingerprint>>,
}

impl Precache {
    /// For a site published under `base_path` in `languages`, whose theme's assets are
    /// published at `asset_paths` (`/assets/main.1a2b3c.css`, `/favicon.svg`).
    pub fn new<'a>(
        base_path: &str,
        languages: impl IntoIterator<Item = &'a str>,
        asset_paths: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let assets = asset_paths
            .into_iter()
            .map(|path| {
                let path = path.trim_start_matches('/');
                (path.to_string(), format!("{base_path}{path}"))
            })
            .collect();
        Self {
            base_path: base_path.to_string(),
            languages: languages.into_iter().map(str::to_string).collect(),
            assets,
            seen: Mutex::new(Vec::new()),
        }
    }

    /// Takes note of published files (path and bytes). Files outside the language
    /// folders that are not the theme's assets are ignored: no worker lists them.
    pub fn record<'f>(&self, files: impl ParallelIterator<Item = (&'f str, &'f [u8])>) {
        let fingerprints: Vec<Fingerprint> = files.filter_map(|(path, bytes)| self.fingerprint(path, bytes)).collect();
        self.remember(fingerprints);
    }

    /// `record` for files as `build` writes them.
    pub fn record_files(&self, files: &[OutputFile]) {
        self.record(files.par_iter().map(|file| (file.path.as_str(), &*file.bytes)));
    }

    fn fingerprint(&self, path: &str, bytes: &[u8]) -> Option<Fingerprint> {
        let in_language = self.language_of(path).is_some_and(|language| !is_worker(language, path));
        let asset = self.assets.iter().position(|(asset, _)| asset == path);
        if !in_language && asset.is_none() {
            return None;
        }
        let names = (0..self.assets.len())
            .filter(|&place| {
                Some(place) != asset && memchr::memmem::find(bytes, self.assets[place].1.as_bytes()).is_some()
            })
            .collect();
        Some(Fingerprint { path: path.to_string(), hash: blake3::hash(bytes), names })
    }

    fn language_of(&self, path: &str) -> Option<&str> {
        let (folder, _) = path.split_once('/')?;
        self.languages.iter().map(String::as_str).find(|language| *language == folder)
    }

    /// Adds fingerprints: `record`'s, or those an earlier build of the same assets
    /// recorded for files this build keeps as they are (the build cache).
    pub fn remember(&self, fingerprints: impl IntoIterator<Item = Fingerprint>) {
        // A panic while holding the lock leaves a list that is still valid.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).extend(fingerprints);
    }

    /// Every fingerprint recorded so far, for the build cache.
    pub fn recorded(&self) -> Vec<Fingerprint> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Each language's `sw.js`, from every file recorded so far.
    pub fn service_workers(&self) -> Vec<OutputFile> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
        // The order files were recorded in depends on the threads; the workers must not.
        seen.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        self.languages
            .iter()
            .map(|language| {
                let listed = self.listed_files(language, &seen);
                let script = worker_script(&version(&listed), &listed);
                OutputFile::new(format!("{language}/{WORKER_FILE}"), script)
            })
            .collect()
    }

    /// The URLs a language's worker keeps, each with its file's hash, sorted by URL: the
    /// language's files, the assets they name, and the assets those name in turn (an
    /// image a stylesheet uses).
    fn listed_files(&self, language: &str, seen: &[Fingerprint]) -> Vec<(String, blake3::Hash)> {
        let own: Vec<&Fingerprint> = seen.iter().filter(|f| self.language_of(&f.path) == Some(language)).collect();
        let mut named: BTreeSet<usize> = own.iter().flat_map(|f| f.names.iter().copied()).collect();
        let mut unread: Vec<usize> = named.iter().copied().collect();
        let mut assets = Vec::new();
        while let Some(place) = unread.pop() {
            let Some(asset) = seen.iter().find(|f| f.path == self.assets[place].0) else { continue };
            assets.push(asset);
            unread.extend(asset.names.iter().copied().filter(|&name| named.insert(name)));
        }
        let mut listed: Vec<(String, blake3::Hash)> =
            own.into_iter().chain(assets).map(|f| (self.url(&f.path), f.hash)).collect();
        listed.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        listed
    }

    /// The URL a reader asks for: a folder's `index.html` is asked for as the folder.
    fn url(&self, path: &str) -> String {
        let asked = match path.strip_suffix("index.html") {
            Some(folder) if folder.is_empty() || folder.ends_with('/') => folder,
            _ => path,
        };
        format!("{}{asked}", self.base_path)
    }
}

fn is_worker(language: &str, path: &str) -> bool {
    path.strip_prefix(language).and_then(|rest| rest.strip_prefix('/')) == Some(WORKER_FILE)
}

/// A hash of every listed URL and its file's bytes: a worker's version, and so its
/// cache's name. Any change to a listed file, or to the list, changes it.
fn version(listed: &[(String, blake3::Hash)]) -> String {
    let mut hasher = blake3::Hasher::new();
    for (url, hash) in listed {
        hasher.update(url.as_bytes());
        hasher.update(&[0]);
        hasher.update(hash.as_bytes());
    }
    hasher.finalize().to_hex()[..16].to_string()
}

/// The worker: its version and list as JavaScript constants, then its code.
fn worker_script(version: &str, listed: &[(String, blake3::Hash)]) -> String {
    // A JSON string is a JavaScript string literal.
    let urls: Vec<String> = listed.iter().map(|(url, _)| serde_json::Value::from(url.as_str()).to_string()).collect();
    format!(
        "\"use strict\";\n// Made by imrf-site with the build: a new build of these files makes a new version.\n\
         var VERSION = \"{version}\";\nvar FILES = [\n  {}\n];\n{WORKER}",
        urls.join(",\n  ")
    )
}

#[cfg(test)]
mod tests;
