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
//! build recognises and clears whatever an interrupted one left behind. With the build
//! cache on, the replaced output is kept beside the new one, for the next build to start
//! from (`staging`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;

/// The file in every output directory listing what imrf-site wrote there.
pub const MANIFEST: &str = ".imrf-site-manifest";
const MANIFEST_HEADER: &str = "# Written by imrf-site. Every file below was generated; the next build replaces them.";
const STAGING_MARKER: &str = ".imrf-site-staging";

mod folders;
mod records;
mod staging;

use folders::FolderStamps;
pub use records::{FileRecords, Outputs};
pub use staging::{Finished, Staging};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// Path inside the output directory, with `/` separators.
    pub path: String,
    /// Shared, not copied, with whatever else holds them (watch mode's memo and server).
    pub bytes: Bytes,
}

impl OutputFile {
    pub fn new(path: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
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

/// Checks that `output` is a place a build of the site in `root` may write to: not
/// the site's own folders, not a file.
fn check_output_place(output: &Path, root: &Path) -> Result<(), OutputError> {
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
    if output_abs.exists() && !output_abs.is_dir() {
        return refuse("it is a file, not a directory".into());
    }
    Ok(())
}

/// Checks that the output directory holds only files imrf-site wrote (its manifest's),
/// so that replacing it loses nothing. With `known` (the build cache's stamps of its
/// folders, and when the build began), only the folders changed since are listed;
/// returns every folder's stamp now.
fn check_output_files(output: &Path, known: Option<(&FolderStamps, SystemTime)>) -> Result<FolderStamps, OutputError> {
    let output_abs = absolute(output)?;
    if !output_abs.exists() {
        return Ok(FolderStamps::default());
    }
    let listing = match known {
        Some((known, began)) => folders::list_changed(&output_abs, known, began)?,
        None => folders::Listing { files: folders::list_files(&output_abs)?, ..Default::default() },
    };
    if listing.files.is_empty() && !listing.skipped_any {
        return Ok(listing.stamps);
    }
    let manifest = read_manifest(&output_abs)?.ok_or_else(|| OutputError::Refused {
        path: output.to_path_buf(),
        reason: format!(
            "it is not empty and was not written by imrf-site (no {MANIFEST}); move its files away or choose another --output"
        ),
    })?;
    let foreign = foreign_files(&listing.files, &manifest);
    if !foreign.is_empty() {
        return Err(OutputError::Refused {
            path: output.to_path_buf(),
            reason: format!(
                "it holds {} file(s) imrf-site did not write ({}); move them away (files to publish belong in the theme's static/ folder)",
                foreign.len(),
                shown(&foreign)
            ),
        });
    }
    Ok(listing.stamps)
}

/// The files of `files` that `manifest` does not list (nor is), sorted.
fn foreign_files<'f>(files: &'f [String], manifest: &BTreeSet<String>) -> Vec<&'f str> {
    let mut foreign: Vec<&str> =
        files.iter().map(String::as_str).filter(|file| *file != MANIFEST && !manifest.contains(*file)).collect();
    foreign.sort_unstable();
    foreign
}

/// The first five of `files`, for a message.
fn shown(files: &[&str]) -> String {
    let first: Vec<&str> = files.iter().take(5).copied().collect();
    format!("{}{}", first.join(", "), if files.len() > 5 { ", ..." } else { "" })
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

/// Puts the staging directory in place of the output. The previous output is removed,
/// or with `keep`, moved there (for the next build to start from); returns whether it was.
fn swap_into_place(staging: &Path, output: &Path, keep: Option<&Path>) -> Result<bool, OutputError> {
    if !output.exists() {
        std::fs::rename(staging, output).map_err(io(output, "cannot move the new site into place"))?;
        return Ok(false);
    }
    let set_aside = |old: &Path| match keep {
        Some(keep) => std::fs::rename(old, keep).map(|()| true).map_err(io(keep, "cannot keep the previous site")),
        None => remove_owned(old).map(|()| false),
    };
    if exchange(staging, output).is_ok() {
        // The staging path now holds the previous site, manifest and all.
        return set_aside(staging);
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
    set_aside(&old)
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
mod tests;
