//! What the build cache knows of the output directories: a record of each file as
//! imrf-site wrote it (`FileRecord`), by which a later build tells whether the file is
//! still that one without reading it, and the paths' rules (`stays_inside`).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::folders::FolderStamps;

/// What one file of an output directory holds, as imrf-site wrote it: its content's
/// hash, and the size, date and inode that tell whether it is still that file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub hash: u128,
    size: u64,
    modified: (i64, i64),
    inode: u64,
}

/// The files of an output directory, by path inside it.
pub type FileRecords = FxHashMap<String, FileRecord>;

/// The hash that tells two versions of an output file apart (XXH3, 128 bits: hashing
/// every file a build writes costs about 1 % of the build).
pub(super) fn content_hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

impl FileRecord {
    pub(super) fn of(metadata: &std::fs::Metadata, hash: u128) -> Self {
        Self { hash, size: metadata.len(), modified: (metadata.mtime(), metadata.mtime_nsec()), inode: metadata.ino() }
    }

    /// The file at `path`, if it still holds the recorded bytes: its size, date and
    /// inode are the recorded ones, or (a copy restored from a CI cache, a `touch`) its
    /// size is and its bytes hash the same. Returns its record as it is now.
    pub(super) fn still_at(&self, path: &Path) -> Option<FileRecord> {
        let metadata = std::fs::symlink_metadata(path).ok().filter(|m| m.is_file() && m.len() == self.size)?;
        let now = FileRecord::of(&metadata, self.hash);
        if now == *self {
            return Some(now);
        }
        let bytes = std::fs::read(path).ok()?;
        (content_hash(&bytes) == self.hash).then_some(now)
    }
}

/// Whether `path`, a path read from a manifest or the cache, names a place inside the
/// folder it is joined to: relative, with no `..`, `.` or empty part. Anything else is
/// never removed, linked or written.
pub(super) fn stays_inside(path: &str) -> bool {
    !path.is_empty() && path.split('/').all(|part| !matches!(part, "" | "." | ".."))
}

/// What the build cache knows of the output directories, and gets back after a build.
#[derive(Debug, Default)]
pub struct Outputs {
    /// The output directory's files.
    pub published: FileRecords,
    /// The output directory's folders (`folders`).
    pub published_folders: FolderStamps,
    /// The files of the output before last, kept beside it.
    pub previous: FileRecords,
    /// The folders of the output before last.
    pub previous_folders: FolderStamps,
}

/// The folder `path` is in (`""` for the top one).
pub(super) fn folder_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

/// The folders `paths` are in, and the folders those are in.
pub(super) fn folders_of<'p>(paths: impl Iterator<Item = &'p String>) -> FxHashSet<String> {
    let mut folders = FxHashSet::default();
    for path in paths {
        let mut rest = path.as_str();
        while let Some((folder, _)) = rest.rsplit_once('/') {
            if folders.contains(folder) {
                break;
            }
            folders.insert(folder.to_string());
            rest = folder;
        }
    }
    folders
}
