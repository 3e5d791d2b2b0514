//! The `World` Typst typesets one PDF in: the generated note as its main file, the
//! theme's `pdf/` folder as the only other files it may read, the fonts found, and no
//! date (so a PDF depends on its sources alone). Nothing is read from the network or
//! from outside the theme.

use std::collections::BTreeMap;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, World};

use super::fonts::FontLibrary;

/// The file name of the generated note inside the theme's `pdf/` folder.
pub(super) const MAIN: &str = "/imrf-site-note.typ";

/// The theme's `pdf/` folder: its files by their path inside it (`/note.typ`).
pub struct ThemeFiles {
    /// Shared with every `World` that reads them, never copied.
    files: BTreeMap<String, Bytes>,
}

impl ThemeFiles {
    pub fn new(files: BTreeMap<String, Vec<u8>>) -> Self {
        Self { files: files.into_iter().map(|(path, bytes)| (path, Bytes::new(bytes))).collect() }
    }

    /// A hash of every file's path and bytes.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        for (path, bytes) in &self.files {
            hasher.update(&(path.len() as u64).to_le_bytes());
            hasher.update(path.as_bytes());
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
        *hasher.finalize().as_bytes()
    }

    pub(super) fn get(&self, path: &str) -> Option<&Bytes> {
        self.files.get(path)
    }
}

pub(super) struct NoteWorld<'a> {
    pub(super) library: &'a LazyHash<Library>,
    pub(super) fonts: &'a FontLibrary,
    pub(super) theme: &'a ThemeFiles,
    pub(super) main: Source,
}

/// The id of a file at `path` (`/note.typ`) in the one project Typst sees. Ids are
/// interned for the process, so the same path always has the same id.
pub(super) fn file_id(path: &str) -> Option<FileId> {
    let path = VirtualPath::new(path).ok()?;
    Some(FileId::new(RootedPath::new(VirtualRoot::Project, path)))
}

impl NoteWorld<'_> {
    fn path_of(id: FileId) -> String {
        id.vpath().get_with_slash().to_string()
    }
}

impl World for NoteWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        self.fonts.book()
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            return Ok(self.main.clone());
        }
        let bytes = self.file(id)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| FileError::InvalidUtf8)?;
        Ok(Source::new(id, text.to_string()))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            return Ok(Bytes::from_string(self.main.clone()));
        }
        let path = Self::path_of(id);
        match (id.root(), self.theme.get(&path)) {
            (VirtualRoot::Project, Some(bytes)) => Ok(bytes.clone()),
            _ => Err(FileError::NotFound(path.trim_start_matches('/').into())),
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
