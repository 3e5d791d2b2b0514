//! The only module that writes to the output directory. A build is written whole into
//! a staging directory beside the output, then swapped into place, so a failed build
//! leaves the previous site untouched. A manifest of the files written lets the next
//! build prove that it replaces only what imrf-site itself made: an output directory
//! holding anything else is refused, never deleted.
//!
//! A build killed at any moment (even `kill -9`) leaves the previous output in place:
//! the swap is one atomic exchange of the two directories where the system offers it
//! (Linux `renameat2(RENAME_EXCHANGE)`), and every directory imrf-site removes keeps
//! its proof of ownership (the staging marker or the manifest) until last, so the next
//! build recognises and clears whatever an interrupted one left behind.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rayon::prelude::*;

/// The file in every output directory listing what imrf-site wrote there.
pub const MANIFEST: &str = ".imrf-site-manifest";
const MANIFEST_HEADER: &str = "# Written by imrf-site. Every file below was generated; the next build replaces them.";
const STAGING_MARKER: &str = ".imrf-site-staging";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path inside the output directory, with `/` separators.
    pub path: String,
    pub bytes: Vec<u8>,
}

impl OutputFile {
    pub fn new(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self { path: path.into(), bytes: bytes.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: {action}: {source}", path = .path.display())]
    Io { path: PathBuf, action: &'static str, source: std::io::Error },
    #[error("{path}: refusing to write the site here: {reason}", path = .path.display())]
    Refused { path: PathBuf, reason: String },
    #[error("two outputs would be written to {0}; this is a bug in imrf-site")]
    DuplicatePath(String),
}

fn io<'a>(path: &'a Path, action: &'static str) -> impl FnOnce(std::io::Error) -> OutputError + 'a {
    move |source| OutputError::Io { path: path.to_path_buf(), action, source }
}

/// Checks that `output` may be replaced by a build of the site in `root`.
fn check_output_dir(output: &Path, root: &Path) -> Result<(), OutputError> {
    let refuse = |reason: String| Err(OutputError::Refused { path: output.to_path_buf(), reason });
    let output_abs = absolute(output)?;
    let root_abs = absolute(root)?;
    if root_abs.starts_with(&output_abs) {
        return refuse("it contains the site's sources; choose a folder such as <root>/public".into());
    }
    for source in ["site", "themes", "i18n"] {
        if output_abs.starts_with(root_abs.join(source)) {
            return refuse(format!("it is inside the site's {source}/ folder"));
        }
    }
    if !output_abs.exists() {
        return Ok(());
    }
    if !output_abs.is_dir() {
        return refuse("it is a file, not a directory".into());
    }
    let present = list_files(&output_abs)?;
    if present.is_empty() {
        return Ok(());
    }
    let manifest = read_manifest(&output_abs)?
        .ok_or_else(|| OutputError::Refused {
            path: output.to_path_buf(),
            reason: format!(
                "it is not empty and was not written by imrf-site (no {MANIFEST}); move its files away or choose another --output"
            ),
        })?;
    let foreign: Vec<&String> = present.iter().filter(|f| f.as_str() != MANIFEST && !manifest.contains(*f)).collect();
    if !foreign.is_empty() {
        let shown: Vec<&str> = foreign.iter().take(5).map(|s| s.as_str()).collect();
        return refuse(format!(
            "it holds {} file(s) imrf-site did not write ({}{}); move them away (files to publish belong in the theme's static/ folder)",
            foreign.len(),
            shown.join(", "),
            if foreign.len() > 5 { ", ..." } else { "" }
        ));
    }
    Ok(())
}

/// A build being written: files go into a staging directory beside the output as they
/// are made (so a large site need not be held in memory whole), and `finish` writes the
/// manifest and swaps the staging directory into place. Dropped without `finish` (a
/// failed build), it removes the staging directory; if the process dies first, the
/// directory keeps its marker and the next build clears it.
pub struct Staging {
    output: PathBuf,
    dir: PathBuf,
    /// The files written so far, and the folders created for them.
    written: Mutex<Written>,
    finished: bool,
}

#[derive(Default)]
struct Written {
    paths: BTreeSet<String>,
    folders: HashSet<String>,
}

impl Staging {
    /// Checks the output directory (see `check_output_dir`) and prepares a fresh staging
    /// directory, after restoring a site that an interrupted swap left aside.
    pub fn begin(output: &Path, root: &Path) -> Result<Self, OutputError> {
        recover_interrupted_swap(&absolute(output)?)?;
        check_output_dir(output, root)?;
        let output = absolute(output)?;
        let dir = sibling(&output, "imrf-site-staging");
        prepare_staging(&dir)?;
        Ok(Self { output, dir, written: Mutex::new(Written::default()), finished: false })
    }

    /// Writes a batch of files, in parallel, into the staging directory. A path written
    /// twice, in this batch or an earlier one, is an error. Batches may be written from
    /// several threads at once.
    pub fn write(&self, files: &[OutputFile]) -> Result<(), OutputError> {
        {
            let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            for file in files {
                if !written.paths.insert(file.path.clone()) {
                    return Err(OutputError::DuplicatePath(file.path.clone()));
                }
            }
            // Every folder once, parents first (a folder sorts before what it holds),
            // made before the lock is let go: a batch written at the same time may put
            // files in the same folders.
            let mut new_folders = BTreeSet::new();
            for file in files {
                let mut rest = file.path.as_str();
                while let Some((folder, _)) = rest.rsplit_once('/') {
                    if !written.folders.insert(folder.to_string()) {
                        break;
                    }
                    new_folders.insert(folder);
                    rest = folder;
                }
            }
            for folder in new_folders {
                let path = self.dir.join(folder);
                std::fs::create_dir(&path).map_err(io(&path, "cannot create directory"))?;
            }
        }
        // Each file one `open` and one `write`.
        files.par_iter().try_for_each(|file| write_file(&self.dir, file))
    }

    /// Writes the manifest of every file written and puts the new site in place.
    /// Returns the paths written (the manifest).
    pub fn finish(mut self) -> Result<BTreeSet<String>, OutputError> {
        // From here on the staging directory is the new site or, after a failed swap,
        // the next build's leftover to clear: no longer this value's to remove.
        self.finished = true;
        let written = std::mem::take(self.written.get_mut().unwrap_or_else(PoisonError::into_inner));
        let manifest: String = std::iter::once(MANIFEST_HEADER)
            .chain(written.paths.iter().map(String::as_str))
            .map(|line| format!("{line}\n"))
            .collect();
        let staging = &self.dir;
        std::fs::write(staging.join(MANIFEST), manifest).map_err(io(staging, "cannot write the manifest"))?;
        std::fs::remove_file(staging.join(STAGING_MARKER)).map_err(io(staging, "cannot finish staging"))?;
        swap_into_place(staging, &self.output)?;
        Ok(written.paths)
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.finished {
            // Best effort: what stays behind is marked, and the next build clears it.
            let _ = remove_owned(&self.dir);
        }
    }
}

fn write_file(dir: &Path, file: &OutputFile) -> Result<(), OutputError> {
    let path = dir.join(&file.path);
    std::fs::write(&path, &file.bytes).map_err(io(&path, "cannot write"))
}

fn prepare_staging(staging: &Path) -> Result<(), OutputError> {
    if staging.exists() {
        remove_leftover(
            staging,
            "a leftover staging directory that imrf-site did not create is in the way; remove it",
        )?;
    }
    std::fs::create_dir_all(staging).map_err(io(staging, "cannot create the staging directory"))?;
    std::fs::write(staging.join(STAGING_MARKER), "").map_err(io(staging, "cannot mark the staging directory"))
}

/// Removes a directory an interrupted build left beside the output, once it proves to
/// be imrf-site's own: it holds the staging marker or a manifest (or nothing at all).
fn remove_leftover(dir: &Path, refusal: &str) -> Result<(), OutputError> {
    let owned = dir.join(STAGING_MARKER).exists()
        || dir.join(MANIFEST).exists()
        || std::fs::read_dir(dir).map_err(io(dir, "cannot list"))?.next().is_none();
    if !owned {
        return Err(OutputError::Refused { path: dir.to_path_buf(), reason: refusal.into() });
    }
    remove_owned(dir)
}

/// Removes a directory of imrf-site's, its proofs of ownership (marker, manifest) last,
/// so that a removal cut short leaves a directory the next build still recognises.
fn remove_owned(dir: &Path) -> Result<(), OutputError> {
    let action = "cannot remove an earlier build's leftover directory";
    for entry in std::fs::read_dir(dir).map_err(io(dir, action))? {
        let entry = entry.map_err(io(dir, action))?;
        let name = entry.file_name();
        if name == STAGING_MARKER || name == MANIFEST {
            continue;
        }
        let path = entry.path();
        let is_dir = entry.file_type().map_err(io(&path, action))?.is_dir();
        if is_dir { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) }.map_err(io(&path, action))?;
    }
    std::fs::remove_dir_all(dir).map_err(io(dir, action))
}

/// Puts the previous site back where a build stopped between moving it aside and moving
/// the new one in (only possible where the directories cannot be exchanged atomically).
fn recover_interrupted_swap(output: &Path) -> Result<(), OutputError> {
    let old = sibling(output, "imrf-site-old");
    if !output.exists() && old.join(MANIFEST).exists() {
        std::fs::rename(&old, output).map_err(io(output, "cannot restore the previous site"))?;
    }
    Ok(())
}

fn swap_into_place(staging: &Path, output: &Path) -> Result<(), OutputError> {
    if !output.exists() {
        return std::fs::rename(staging, output).map_err(io(output, "cannot move the new site into place"));
    }
    if exchange(staging, output).is_ok() {
        // The staging path now holds the previous site, manifest and all.
        return remove_owned(staging);
    }
    let old = sibling(output, "imrf-site-old");
    if old.exists() {
        remove_leftover(&old, "a directory imrf-site did not create is in the way; remove it")?;
    }
    std::fs::rename(output, &old).map_err(io(output, "cannot move the previous site aside"))?;
    if let Err(source) = std::fs::rename(staging, output) {
        // Put the previous site back so that nothing is lost.
        let _ = std::fs::rename(&old, output);
        return Err(OutputError::Io {
            path: output.to_path_buf(),
            action: "cannot move the new site into place",
            source,
        });
    }
    remove_owned(&old)
}

/// Atomically swaps two directories, where the operating system and file system can.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// The manifest's file list, or `None` when the directory has no manifest.
pub fn read_manifest(dir: &Path) -> Result<Option<BTreeSet<String>>, OutputError> {
    let path = dir.join(MANIFEST);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).map(String::from).collect())),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(OutputError::Io { path, action: "cannot read", source }),
    }
}

/// Every file below `dir`, as `/`-separated relative paths.
fn list_files(dir: &Path) -> Result<BTreeSet<String>, OutputError> {
    let mut files = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).map_err(io(&current, "cannot list"))? {
            let entry = entry.map_err(io(&current, "cannot list"))?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(io(&path, "cannot inspect"))?;
            if file_type.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap_or(&path);
                files.insert(
                    relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/"),
                );
            }
        }
    }
    Ok(files)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "public".into());
    path.with_file_name(format!(".{name}.{suffix}"))
}

fn absolute(path: &Path) -> Result<PathBuf, OutputError> {
    let joined = std::path::absolute(path).map_err(io(path, "cannot resolve"))?;
    // Resolve symlinks in the part that exists, so `a/../b` and links compare equal.
    let mut existing = joined.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        resolved.push(name);
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole site written in one batch.
    fn write_site(output: &Path, root: &Path, files: &[OutputFile]) -> Result<(), OutputError> {
        let staging = Staging::begin(output, root)?;
        staging.write(files)?;
        staging.finish().map(drop)
    }

    #[test]
    fn replaces_its_own_output_and_refuses_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("site")).unwrap();
        let out = root.join("public");
        write_site(&out, &root, &[OutputFile::new("a/index.html", "one")]).unwrap();
        write_site(&out, &root, &[OutputFile::new("b.html", "two")]).unwrap();
        assert!(!out.join("a/index.html").exists());
        assert_eq!(std::fs::read_to_string(out.join("b.html")).unwrap(), "two");

        std::fs::write(out.join("CNAME"), "example.org").unwrap();
        let error = write_site(&out, &root, &[OutputFile::new("c.html", "three")]).unwrap_err();
        assert!(error.to_string().contains("CNAME"), "{error}");
        assert_eq!(std::fs::read_to_string(out.join("b.html")).unwrap(), "two");
        assert!(out.join("CNAME").exists());
    }

    fn site_in(dir: &Path) -> (PathBuf, PathBuf) {
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("site")).unwrap();
        let out = root.join("public");
        write_site(&out, &root, &[OutputFile::new("a/index.html", "one")]).unwrap();
        (root, out)
    }

    #[test]
    fn a_build_written_in_batches_replaces_the_site_only_when_finished() {
        let dir = tempfile::tempdir().unwrap();
        let (root, out) = site_in(dir.path());
        let staging_dir = sibling(&out, "imrf-site-staging");

        let staging = Staging::begin(&out, &root).unwrap();
        staging.write(&[OutputFile::new("en/a/index.html", "a")]).unwrap();
        staging.write(&[OutputFile::new("en/b/index.html", "b"), OutputFile::new("en/search/s/0.json", "{}")]).unwrap();
        let error = staging.write(&[OutputFile::new("en/a/index.html", "again")]).unwrap_err();
        assert!(matches!(error, OutputError::DuplicatePath(ref path) if path == "en/a/index.html"), "{error}");
        // Given up (a failed build): the previous site stays, the staging folder goes.
        drop(staging);
        assert_eq!(std::fs::read_to_string(out.join("a/index.html")).unwrap(), "one");
        assert!(!staging_dir.exists());

        let staging = Staging::begin(&out, &root).unwrap();
        staging.write(&[OutputFile::new("en/a/index.html", "a")]).unwrap();
        staging.write(&[OutputFile::new("en/b/index.html", "b")]).unwrap();
        staging.finish().unwrap();
        assert!(!out.join("a/index.html").exists());
        assert_eq!(std::fs::read_to_string(out.join("en/b/index.html")).unwrap(), "b");
        let manifest = read_manifest(&out).unwrap().unwrap();
        assert_eq!(manifest.into_iter().collect::<Vec<_>>(), ["en/a/index.html", "en/b/index.html"]);
        assert!(!staging_dir.exists());
    }

    #[test]
    fn batches_written_at_once_share_new_folders() {
        let dir = tempfile::tempdir().unwrap();
        let (root, out) = site_in(dir.path());
        let staging = Staging::begin(&out, &root).unwrap();
        // Both batches of a pair need the same new folders: neither may count on a folder
        // the other has claimed but not made yet.
        for n in 0..200 {
            let (pages, index) = rayon::join(
                || staging.write(&[OutputFile::new(format!("{n}/search/index.html"), "page")]),
                || staging.write(&[OutputFile::new(format!("{n}/search/d/0.json"), "[]")]),
            );
            pages.unwrap();
            index.unwrap();
        }
        staging.finish().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("199/search/d/0.json")).unwrap(), "[]");
    }

    #[test]
    fn leftovers_of_a_build_killed_at_any_step_are_cleared_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let (root, out) = site_in(dir.path());
        let staging = sibling(&out, "imrf-site-staging");
        let old = sibling(&out, "imrf-site-old");
        let next = [OutputFile::new("b.html", "two")];
        type Leave = fn(&Path);
        let states: [(&str, Leave); 4] = [
            ("killed while writing the staging directory", |s| {
                std::fs::create_dir_all(s.join("x")).unwrap();
                std::fs::write(s.join(STAGING_MARKER), "").unwrap();
                std::fs::write(s.join("x/half.html"), "<p").unwrap();
            }),
            ("killed after finishing staging, before the swap", |s| {
                std::fs::create_dir_all(s).unwrap();
                std::fs::write(s.join(MANIFEST), "b.html\n").unwrap();
                std::fs::write(s.join("b.html"), "two").unwrap();
            }),
            ("killed while removing the previous site after the swap", |s| {
                std::fs::create_dir_all(s).unwrap();
                std::fs::write(s.join(MANIFEST), "a/index.html\n").unwrap();
            }),
            ("killed right after creating the staging directory", |s| std::fs::create_dir_all(s).unwrap()),
        ];
        for (what, leave) in states {
            leave(&staging);
            write_site(&out, &root, &next).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(std::fs::read_to_string(out.join("b.html")).unwrap(), "two", "{what}");
            assert!(!staging.exists(), "{what}");
            write_site(&out, &root, &[OutputFile::new("a/index.html", "one")]).unwrap();
        }

        // Killed between moving the previous site aside and moving the new one in (only
        // where directories cannot be exchanged): the next build puts it back first.
        std::fs::rename(&out, &old).unwrap();
        write_site(&out, &root, &next).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("b.html")).unwrap(), "two");
        assert!(!old.exists() && !staging.exists());

        std::fs::create_dir_all(&staging).unwrap();
        std::fs::write(staging.join("mine.txt"), "not the tool's").unwrap();
        let error = write_site(&out, &root, &next).unwrap_err();
        assert!(error.to_string().contains("did not create"), "{error}");
        assert!(staging.join("mine.txt").exists(), "a folder the tool did not make is never deleted");
    }

    #[test]
    fn refuses_source_folders_and_foreign_directories() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("site")).unwrap();
        assert!(check_output_dir(&root, &root).is_err());
        assert!(check_output_dir(dir.path(), &root).is_err());
        assert!(check_output_dir(&root.join("site/out"), &root).is_err());
        let foreign = dir.path().join("docs");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
        let error = check_output_dir(&foreign, &root).unwrap_err();
        assert!(error.to_string().contains("not written by imrf-site"), "{error}");
    }
}
