//! A folder of files each named by its content's hash (`ContentStore`): read back only
//! when whole, written whole by a rename, and cleared of what the last build no longer
//! names. The build cache keeps the parts of its file in one (`cache::BuildCache`), and
//! each language's kept search index its files in another (`search`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashSet;
use serde::Serialize;
use serde::de::DeserializeOwned;
use xxhash_rust::xxh3::xxh3_128;

/// Writes so far in this process, which tell their temporary files apart.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// A folder of files, each named by its content's hash (XXH3, 128 bits).
pub struct ContentStore {
    dir: PathBuf,
}

impl ContentStore {
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.to_path_buf() }
    }

    fn path(&self, name: u128) -> PathBuf {
        self.dir.join(format!("{name:032x}"))
    }

    pub fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)
    }

    /// The bytes of the file `name`, if it is there and whole.
    pub fn read_bytes(&self, name: u128) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path(name)).ok()?;
        (xxh3_128(&bytes) == name).then_some(bytes)
    }

    /// The file `name`, decoded, if it is there and whole.
    pub fn read<T: DeserializeOwned>(&self, name: u128) -> Option<T> {
        postcard::from_bytes(&self.read_bytes(name)?).ok()
    }

    /// Stores `bytes` under their hash's name, and returns it. Written again when a file
    /// of that name is there: it may be one that was damaged.
    pub fn write_bytes(&self, bytes: &[u8]) -> std::io::Result<u128> {
        let name = xxh3_128(bytes);
        // Renamed into place whole: a build killed while writing leaves no half file. Two
        // threads may write the same file at once (two blocks of the same pages' terms).
        let unique = WRITES.fetch_add(1, Ordering::Relaxed);
        let temporary = self.dir.join(format!("{name:032x}.{}.{unique}.tmp", std::process::id()));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, self.path(name))?;
        Ok(name)
    }

    /// Stores `value`, encoded, under its hash's name (`write_bytes`).
    pub fn write<T: Serialize + ?Sized>(&self, value: &T) -> std::io::Result<u128> {
        self.write_bytes(&postcard::to_stdvec(value).map_err(std::io::Error::other)?)
    }

    /// Deletes every file but those `named`: each build leaves its own.
    pub fn keep_only(&self, named: impl Iterator<Item = u128>) {
        let named: FxHashSet<String> = named.map(|name| format!("{name:032x}")).collect();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        for entry in entries.flatten() {
            if !named.contains(&*entry.file_name().to_string_lossy()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}
