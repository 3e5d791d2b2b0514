//! The build cache on disk (`<root>/.imrf-site-cache/`, or `--cache-dir`): one file
//! holding what a build remembers for the next (the payload is the build's own type,
//! `build::Remembered` as saved), files of the same form for each language's kept search index
//! (`search-<lang>`, whose own files under `search/<lang>/` are `search`'s), and the
//! lock that keeps two builds from using it at once.
//! Owns the file's integrity, never its meaning: a cache written by another binary, cut
//! short, or damaged is detected and set aside with a warning, so the build runs as if
//! there were none; it can cost time, never a wrong page.
//!
//! The file: `MAGIC`, the format number, the identity of the binary that wrote it (a
//! hash of the executable: a rebuilt imrf-site may render differently), the payload's
//! length and hash, then the payload (postcard). It is written to a temporary name and
//! renamed, so a build killed while saving leaves the previous file whole. The payload
//! names its large parts, each a file of `parts/` named by its content's hash
//! (`read_part`, `write_part`): a build writes only the parts that changed, before the
//! file that names them, and then deletes the parts no file names.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rustc_hash::FxHashSet;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::diagnostic::Warning;

mod store;

pub use store::ContentStore;

const MAGIC: &[u8] = b"imrf-site build cache\n";
/// Bumped when the payload's types change.
const FORMAT: u32 = 9;
const DATA: &str = "build.cache";
/// The executable's hash, by its size, date and inode (hashing 60 MB costs 40 ms).
const BINARY: &str = "binary";
const LOCK: &str = "lock";
/// The folder of the payload's parts.
const PARTS: &str = "parts";
/// The Cache Directory Tagging Specification's tag, which also marks the folder as ours.
const TAG: &str = "CACHEDIR.TAG";
const TAG_TEXT: &str =
    "Signature: 8a477f597d28d172789f06886806bc55\n# imrf-site's build cache: it can be deleted at any time.\n";
const HEADER: usize = MAGIC.len() + 4 + 32 + 8 + 16;

/// The cache folder, locked for this build.
pub struct BuildCache {
    dir: PathBuf,
    /// Held until the build ends: another build that finds it taken runs without the cache.
    _lock: File,
    binary: [u8; 32],
    /// The parts of the cache file's payload (`read_part`, `write_part`).
    parts: ContentStore,
    /// The parts this build read whole: saving one again would write the same bytes.
    parts_read: Mutex<FxHashSet<u128>>,
}

impl BuildCache {
    /// Opens (and creates) the cache folder `dir`; a warning saying why when it cannot
    /// be used: the build then runs without it.
    pub fn open(dir: &Path) -> Result<Self, Warning> {
        let unusable =
            |why: String| Warning { message: format!("{}: the build cache is not used: {why}", dir.display()) };
        std::fs::create_dir_all(dir).map_err(|e| unusable(format!("cannot create the folder ({e})")))?;
        // The folder is the cache's only if it holds the tag, or nothing yet: `--cache-dir`
        // pointed at a folder of someone else's files writes nothing there.
        let tag = dir.join(TAG);
        let empty = std::fs::read_dir(dir).map_err(|e| unusable(format!("cannot list it ({e})")))?.next().is_none();
        if !empty && !tag.exists() {
            return Err(unusable(format!(
                "it holds other files and no {TAG}, so it is not an imrf-site cache folder; give --cache-dir a new or empty folder"
            )));
        }
        if empty {
            // Git and backup tools leave the folder out (https://bford.info/cachedir/).
            // The tag first: a build started at the same moment that finds the folder no
            // longer empty must find it tagged too.
            std::fs::write(&tag, TAG_TEXT).map_err(|e| unusable(format!("cannot write {TAG} ({e})")))?;
            let _ = std::fs::write(dir.join(".gitignore"), "# Written by imrf-site: the build cache.\n*\n");
        }
        let lock = File::create(dir.join(LOCK)).map_err(|e| unusable(format!("cannot create its lock ({e})")))?;
        if rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            return Err(unusable("another imrf-site build is using it".into()));
        }
        let binary =
            binary_identity(dir).map_err(|e| unusable(format!("cannot read imrf-site's own executable ({e})")))?;
        let parts = ContentStore::new(&dir.join(PARTS));
        Ok(Self { dir: dir.to_path_buf(), _lock: lock, binary, parts, parts_read: Mutex::default() })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the last build saved, if this binary wrote it and it is whole. A file that
    /// is damaged is reported; one from another binary (or none) is simply not there.
    pub fn load<T: DeserializeOwned>(&self) -> (Option<T>, Option<Warning>) {
        self.load_file(DATA, "everything")
    }

    /// `load`, from the cache's file `name` (a file of its own for each language's
    /// search index, `build::indexes`), which holds what the build then makes again
    /// (`instead`, for the warning: "the English search index").
    pub fn load_file<T: DeserializeOwned>(&self, name: &str, instead: &str) -> (Option<T>, Option<Warning>) {
        let path = self.dir.join(name);
        let set_aside = |why: &str| Some(self.set_aside(name, why, instead));
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return (None, None),
            Err(error) => return (None, set_aside(&format!("it cannot be read ({error})"))),
        };
        match self.payload(&bytes) {
            Ok(Some(payload)) => match postcard::from_bytes(payload) {
                Ok(value) => (Some(value), None),
                Err(error) => (None, set_aside(&format!("it cannot be decoded ({error})"))),
            },
            Ok(None) => (None, None),
            Err(why) => (None, set_aside(why)),
        }
    }

    /// The payload of the cache file `bytes`, `None` when another binary wrote it.
    fn payload<'b>(&self, bytes: &'b [u8]) -> Result<Option<&'b [u8]>, &'static str> {
        let header = bytes.get(..HEADER).ok_or("it is cut short")?;
        let (magic, rest) = header.split_at(MAGIC.len());
        if magic != MAGIC {
            return Err("it is not an imrf-site build cache");
        }
        let (format, rest) = rest.split_at(4);
        let (binary, rest) = rest.split_at(32);
        if format != FORMAT.to_le_bytes() || binary != self.binary {
            return Ok(None);
        }
        let (length, hash) = rest.split_at(8);
        let length = u64::from_le_bytes(length.try_into().map_err(|_| "it is cut short")?);
        let payload = &bytes[HEADER..];
        if payload.len() as u64 != length {
            return Err("it is cut short");
        }
        if xxhash_rust::xxh3::xxh3_128(payload).to_le_bytes() != hash {
            return Err("its contents are damaged");
        }
        Ok(Some(payload))
    }

    /// The part `name` of the payload (a large map's, `build::parts`, or a kept PDF's
    /// bytes), if it is there and whole.
    pub fn read_part(&self, name: u128) -> Option<Vec<u8>> {
        let bytes = self.parts.read_bytes(name)?;
        self.parts_read.lock().unwrap_or_else(PoisonError::into_inner).insert(name);
        Some(bytes)
    }

    /// Stores a part of the payload, unless this build read the same part whole; returns
    /// its name. Parts go before the cache file that names them (`save`).
    pub fn write_part(&self, bytes: &[u8]) -> std::io::Result<u128> {
        let name = xxhash_rust::xxh3::xxh3_128(bytes);
        if self.parts_read.lock().unwrap_or_else(PoisonError::into_inner).contains(&name) {
            return Ok(name);
        }
        self.parts.create()?;
        self.parts.write_bytes(bytes)
    }

    /// Deletes every part but those `named`, once the cache file that names them is saved.
    pub fn keep_only_parts(&self, named: impl Iterator<Item = u128>) {
        self.parts.keep_only(named);
    }

    /// Sets the cache file aside when a part it names is missing or damaged.
    pub fn parts_damaged(&self) -> Warning {
        self.set_aside(DATA, "a part of it is missing or damaged", "everything")
    }

    /// Removes a damaged cache file, and says so.
    fn set_aside(&self, name: &str, why: &str, instead: &str) -> Warning {
        let path = self.dir.join(name);
        let _ = std::fs::remove_file(&path);
        Warning {
            message: format!(
                "{}: the build cache was not used, {why}; this build makes {instead} again",
                path.display()
            ),
        }
    }

    /// The bytes of every file in the cache folder: the cache file, its parts and each
    /// language's kept search index.
    pub fn size(&self) -> u64 {
        folder_size(&self.dir)
    }

    /// Removes the cache's file `name`, if it is there.
    pub fn remove_file(&self, name: &str) {
        let _ = std::fs::remove_file(self.dir.join(name));
    }

    /// Saves `value` for the next build, replacing the cache file whole. Returns the
    /// file's size in bytes.
    pub fn save<T: Serialize>(&self, value: &T) -> std::io::Result<u64> {
        self.save_file(DATA, value)
    }

    /// `save`, to the cache's file `name`.
    pub fn save_file<T: Serialize>(&self, name: &str, value: &T) -> std::io::Result<u64> {
        // The header, then the payload encoded after it in the same buffer.
        let mut bytes = Vec::with_capacity(HEADER);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        bytes.extend_from_slice(&self.binary);
        bytes.resize(HEADER, 0);
        let mut bytes = postcard::to_extend(value, bytes).map_err(std::io::Error::other)?;
        let (header, payload) = bytes.split_at_mut(HEADER);
        let length = (payload.len() as u64).to_le_bytes();
        let hash = xxhash_rust::xxh3::xxh3_128(payload).to_le_bytes();
        header[HEADER - 24..].copy_from_slice(&[&length[..], &hash[..]].concat());
        let temporary = self.dir.join(format!("{name}.{}.tmp", std::process::id()));
        let mut file = File::create(&temporary)?;
        file.write_all(&bytes)?;
        drop(file);
        std::fs::rename(&temporary, self.dir.join(name))?;
        Ok(bytes.len() as u64)
    }
}

fn folder_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => folder_size(&entry.path()),
            Ok(_) => entry.metadata().map_or(0, |metadata| metadata.len()),
            Err(_) => 0,
        })
        .sum()
}

/// A hash of the running executable, remembered in the cache folder by the file's size,
/// date and inode so that it is read only after imrf-site is rebuilt.
fn binary_identity(dir: &Path) -> std::io::Result<[u8; 32]> {
    let executable = std::env::current_exe()?;
    let metadata = std::fs::metadata(&executable)?;
    let stamp = format!("{} {} {} {}", metadata.len(), metadata.mtime(), metadata.mtime_nsec(), metadata.ino());
    let remembered = std::fs::read_to_string(dir.join(BINARY)).unwrap_or_default();
    if let Some((seen, hash)) = remembered.trim_end().rsplit_once(' ')
        && seen == stamp
        && let Ok(hash) = blake3::Hash::from_hex(hash)
    {
        return Ok(*hash.as_bytes());
    }
    let hash = blake3::hash(&std::fs::read(&executable)?);
    let _ = std::fs::write(dir.join(BINARY), format!("{stamp} {}\n", hash.to_hex()));
    Ok(*hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Payload {
        pages: Vec<String>,
    }

    fn payload() -> Payload {
        Payload { pages: vec!["en/index.html".into(), "fr/index.html".into()] }
    }

    #[test]
    fn a_saved_payload_loads_back_and_a_damaged_one_is_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BuildCache::open(dir.path()).unwrap();
        assert_eq!(cache.load::<Payload>(), (None, None), "nothing saved yet");
        let saved = cache.save(&payload()).unwrap();
        assert_eq!(cache.load::<Payload>().0, Some(payload()));
        std::fs::create_dir_all(dir.path().join("search/en")).unwrap();
        std::fs::write(dir.path().join("search/en/kept"), [0; 1000]).unwrap();
        let others: u64 = [TAG, ".gitignore", BINARY, LOCK]
            .iter()
            .map(|name| std::fs::metadata(dir.path().join(name)).unwrap().len())
            .sum();
        assert_eq!(cache.size(), saved + 1000 + others, "the cache file, a kept index, the folder's own files");

        let path = dir.path().join(DATA);
        let whole = std::fs::read(&path).unwrap();
        let mut flipped = whole.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let damages: [(&str, Vec<u8>, &str); 4] = [
            ("cut short", whole[..whole.len() - 3].to_vec(), "cut short"),
            ("cut in the header", whole[..10].to_vec(), "cut short"),
            ("one bit flipped", flipped, "damaged"),
            ("another file", b"<html>".repeat(40), "not an imrf-site build cache"),
        ];
        for (what, bytes, said) in damages {
            std::fs::write(&path, bytes).unwrap();
            let (loaded, warning) = cache.load::<Payload>();
            assert_eq!(loaded, None, "{what}");
            let message = warning.unwrap_or_else(|| panic!("{what}: no warning")).message;
            assert!(message.contains(said) && message.contains("build.cache"), "{what}: {message}");
            assert!(!path.exists(), "{what}: the damaged file is removed");
        }
    }

    #[test]
    fn a_cache_from_another_binary_or_format_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BuildCache::open(dir.path()).unwrap();
        cache.save(&payload()).unwrap();
        let path = dir.path().join(DATA);
        let whole = std::fs::read(&path).unwrap();
        for place in [MAGIC.len(), MAGIC.len() + 4] {
            let mut other = whole.clone();
            other[place] ^= 0xff;
            std::fs::write(&path, other).unwrap();
            assert_eq!(cache.load::<Payload>(), (None, None), "byte {place} of the header changed");
        }
    }

    #[test]
    fn a_folder_of_other_files_is_not_taken_for_a_cache() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/\n").unwrap();
        std::fs::write(dir.path().join(DATA), "mine").unwrap();
        let refused = BuildCache::open(dir.path()).err().expect("not a cache folder");
        assert!(refused.message.contains("not an imrf-site cache folder"), "{}", refused.message);
        assert_eq!(std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(), "target/\n");
        assert_eq!(std::fs::read_to_string(dir.path().join(DATA)).unwrap(), "mine");
        assert!(!dir.path().join(LOCK).exists());
    }

    #[test]
    fn a_second_build_at_once_does_not_use_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let first = BuildCache::open(dir.path()).unwrap();
        let second = BuildCache::open(dir.path()).err().expect("the folder is locked");
        assert!(second.message.contains("another imrf-site build is using it"), "{}", second.message);
        drop(first);
        assert!(BuildCache::open(dir.path()).is_ok(), "free again once the first build ends");
    }
}
