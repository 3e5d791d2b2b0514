//! The folder a language's kept index is stored in (`KeptStore`): files named by their
//! content's hash, read back only when whole, replaced whole, and cleared of what the
//! last meta no longer names.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashSet;
use serde::Serialize;
use serde::de::DeserializeOwned;
use xxhash_rust::xxh3::xxh3_128;

use super::KeptMeta;

/// Writes so far in this process, which tell their temporary files apart.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// The folder of one language's stored files, each named by its content's hash.
pub(crate) struct KeptStore {
    dir: PathBuf,
}

impl KeptStore {
    pub(crate) fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    fn path(&self, name: u128) -> PathBuf {
        self.dir.join(format!("{name:032x}"))
    }

    /// The file `name`, if it is there and whole.
    pub(super) fn read<T: DeserializeOwned>(&self, name: u128) -> Option<T> {
        let bytes = std::fs::read(self.path(name)).ok()?;
        (xxh3_128(&bytes) == name).then(|| postcard::from_bytes(&bytes).ok())?
    }

    /// Stores `value`, under its hash's name. Written again when a file of that name is
    /// there: it may be one that was damaged.
    pub(super) fn write<T: Serialize + ?Sized>(&self, value: &T) -> std::io::Result<u128> {
        let bytes = postcard::to_stdvec(value).map_err(std::io::Error::other)?;
        let name = xxh3_128(&bytes);
        // Renamed into place whole: a build killed while writing leaves no half file. Two
        // threads may write the same file at once (two blocks of the same pages' terms).
        let unique = WRITES.fetch_add(1, Ordering::Relaxed);
        let temporary = self.dir.join(format!("{name:032x}.{}.{unique}.tmp", std::process::id()));
        std::fs::write(&temporary, &bytes)?;
        std::fs::rename(&temporary, self.path(name))?;
        Ok(name)
    }

    /// Deletes the stored files `meta` does not name: each build leaves one index.
    pub(crate) fn keep_only(&self, meta: &KeptMeta) {
        let named: FxHashSet<String> = meta
            .shards
            .iter()
            .map(|shard| shard.rows)
            .chain(meta.blocks.iter().copied())
            .map(|name| format!("{name:032x}"))
            .collect();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            if !named.contains(&*entry.file_name().to_string_lossy()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    pub(super) fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)
    }
}
