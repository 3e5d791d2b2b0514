//! Reading the site's source files without being led astray by the file system: only
//! regular files are read (a FIFO or a device would block or never end), symbolic links
//! are followed only to places inside the site root, and a folder reached twice through
//! links (a loop) is an error instead of an endless walk. Every stage that reads sources
//! (content, i18n, config, templates, assets) goes through here. A file's or folder's
//! `Stamp` tells whether it changed without reading it.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rustix::fs::{Mode, OFlags};
use serde::{Deserialize, Serialize};

/// A file's or folder's identity, size and dates. Writing or replacing a file, changing
/// its permissions, and adding, removing or renaming a name in a folder give it another
/// change time, which programs cannot set back on the file systems that keep one (those of
/// Linux and macOS; not FAT).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub(crate) inode: u64,
    pub(crate) size: u64,
    /// Seconds and nanoseconds, as are `changed`.
    pub(crate) modified: (i64, i64),
    pub(crate) changed: (i64, i64),
}

/// How long before the moment a file or folder was known a change of it must be for
/// its stamp to be trusted later: more than the coarsest file system clock in common use
/// (FAT's two seconds) and the kernel's tick. A change made in the same tick as the
/// moment it was known could otherwise give a later change the same time.
const MARGIN: Duration = Duration::from_secs(3);

impl Stamp {
    pub fn of(metadata: &std::fs::Metadata) -> Self {
        Self {
            inode: metadata.ino(),
            size: metadata.len(),
            modified: (metadata.mtime(), metadata.mtime_nsec()),
            changed: (metadata.ctime(), metadata.ctime_nsec()),
        }
    }

    /// Whether the file or folder last changed well before `known_since`, the moment its
    /// content was known: then any later change gives it another stamp. The file
    /// system's clock is taken to be this machine's, as it is for local disks.
    pub fn settled_before(&self, known_since: SystemTime) -> bool {
        let Some(limit) = known_since.checked_sub(MARGIN) else { return false };
        let Ok(limit) = limit.duration_since(SystemTime::UNIX_EPOCH) else { return false };
        let Ok(seconds) = i64::try_from(limit.as_secs()) else { return false };
        self.modified.max(self.changed) < (seconds, i64::from(limit.subsec_nanos()))
    }
}

/// A source path that cannot be used, and why.
#[derive(Debug)]
pub struct Unreadable {
    pub path: PathBuf,
    pub source: io::Error,
}

fn problem(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// The bytes of the regular file at `path` (following symbolic links). Anything else
/// is refused without blocking: the file is opened non-blocking and checked before it
/// is read, so a FIFO with no writer cannot stall the build.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    read_stamped(path).map(|(bytes, _)| bytes)
}

/// [`read`], with the file's stamp as it was just before it was read: a change made
/// while it is read gives it another stamp.
pub fn read_stamped(path: &Path) -> io::Result<(Vec<u8>, Stamp)> {
    let fd = rustix::fs::open(path, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty())
        .map_err(|errno| explain_open_error(path, io::Error::from(errno)))?;
    let file = std::fs::File::from(fd);
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(problem(format!(
            "it is {}, not a regular file; imrf-site reads only regular files",
            describe_type(&metadata.file_type())
        )));
    }
    // One byte more than its size, so the read that finds the end needs no more room.
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0).saturating_add(1));
    // Through `Take`: a file's own `read_to_end` asks for its size and place again,
    // two system calls more per file (24,000 on a 12,000-page site).
    file.take(u64::MAX).read_to_end(&mut bytes)?;
    Ok((bytes, Stamp::of(&metadata)))
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path)?).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not valid UTF-8"))
}

/// Turns "no such file" for a dangling symbolic link into a message that says so.
fn explain_open_error(path: &Path, error: io::Error) -> io::Error {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !is_link {
        return error;
    }
    let target = std::fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default();
    match error.raw_os_error() {
        Some(code) if code == rustix::io::Errno::LOOP.raw_os_error() => {
            problem(format!("it is a symbolic link loop (it points to {target}, which leads back to itself)"))
        }
        _ if error.kind() == io::ErrorKind::NotFound => {
            problem(format!("it is a symbolic link to {target}, which does not exist"))
        }
        _ => error,
    }
}

fn describe_type(file_type: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_block_device() || file_type.is_char_device() {
        "a device"
    } else if file_type.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

/// Every entry below `dir` that is not a folder (files, and links or special files that
/// [`read`] will judge), sorted by path; names starting with `.` are skipped. Folders
/// are entered when `recursive`. A symbolic link must resolve inside `root`, and a
/// folder reached a second time (a link loop) is an error.
pub fn walk(dir: &Path, root: &Path, recursive: bool) -> Result<Vec<PathBuf>, Unreadable> {
    let unreadable = |path: &Path| {
        let path = path.to_path_buf();
        move |source: io::Error| Unreadable { path, source }
    };
    dir.canonicalize().map_err(unreadable(dir))?;
    let root = root.canonicalize().map_err(unreadable(root))?;
    let start = resolve_inside(dir, &root).map_err(unreadable(dir))?;
    let mut visited = BTreeSet::from([start]);
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(&current).map_err(unreadable(&current))? {
            let entry = entry.map_err(unreadable(&current))?;
            if !entry.file_name().to_string_lossy().starts_with('.') {
                // The type as `symlink_metadata` gives it, mostly without a system call:
                // watch mode walks every source on every save.
                let file_type = entry.file_type().map_err(unreadable(&entry.path()))?;
                entries.push((entry.path(), file_type));
            }
        }
        entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        for (path, file_type) in entries {
            if !file_type.is_symlink() {
                if file_type.is_dir() {
                    if recursive {
                        visited.insert(path.canonicalize().map_err(unreadable(&path))?);
                        pending.push(path);
                    }
                } else {
                    found.push(path);
                }
                continue;
            }
            let target = match resolve_inside(&path, &root) {
                Ok(target) => target,
                // A dangling or looping link to a file: `read` names the problem.
                Err(error) if error.kind() == io::ErrorKind::NotFound || is_loop(&error) => {
                    found.push(path);
                    continue;
                }
                Err(error) => return Err(Unreadable { path, source: error }),
            };
            if !target.is_dir() {
                found.push(path);
            } else if recursive {
                let here = current.canonicalize().map_err(unreadable(&current))?;
                if here.starts_with(&target) || !visited.insert(target.clone()) {
                    return Err(Unreadable {
                        source: problem(format!(
                            "this symbolic link leads back to {}, a folder that holds the link or was already read: a link loop",
                            target.display()
                        )),
                        path,
                    });
                }
                pending.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn is_loop(error: &io::Error) -> bool {
    error.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error())
}

/// The canonical form of `path`, which must lie inside the canonical `root`.
fn resolve_inside(path: &Path, root: &Path) -> io::Result<PathBuf> {
    let target = path.canonicalize()?;
    if target.starts_with(root) {
        Ok(target)
    } else {
        Err(problem(format!(
            "it leads to {}, outside the site root {}; copy the file into the site instead of linking to it",
            target.display(),
            root.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_refuses_fifos_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.md");
        std::fs::write(&file, "text").unwrap();
        assert_eq!(read(&file).unwrap(), b"text");
        let fifo = dir.path().join("fifo.md");
        rustix::fs::mknodat(rustix::fs::CWD, &fifo, rustix::fs::FileType::Fifo, Mode::RUSR | Mode::WUSR, 0).unwrap();
        let error = read(&fifo).unwrap_err();
        assert!(error.to_string().contains("FIFO"), "{error}");
        assert!(read(dir.path()).unwrap_err().to_string().contains("a folder"));
    }

    #[test]
    fn walks_in_order_inside_the_root_and_stops_at_loops() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/2.md"), "").unwrap();
        std::fs::write(root.join("a/1.md"), "").unwrap();
        std::fs::write(root.join("a/.hidden"), "").unwrap();
        let files = walk(&root.join("a"), &root, true).unwrap();
        assert_eq!(files, [root.join("a/1.md"), root.join("a/b/2.md")]);
        assert_eq!(walk(&root.join("a"), &root, false).unwrap(), [root.join("a/1.md")]);

        std::os::unix::fs::symlink("..", root.join("a/b/up")).unwrap();
        let error = walk(&root.join("a"), &root, true).unwrap_err();
        assert_eq!(error.path, root.join("a/b/up"));
        assert!(error.source.to_string().contains("loop"), "{}", error.source);
        std::fs::remove_file(root.join("a/b/up")).unwrap();

        std::fs::write(dir.path().join("secret"), "").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("a/leak.md")).unwrap();
        let error = walk(&root.join("a"), &root, true).unwrap_err();
        assert!(error.source.to_string().contains("outside the site root"), "{}", error.source);
    }
}
