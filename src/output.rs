//! The only module that writes to the output directory. A build is written whole into
//! a staging directory beside the output, then swapped into place, so a failed build
//! leaves the previous site untouched. A manifest of the files written lets the next
//! build prove that it replaces only what imrf-site itself made: an output directory
//! holding anything else is refused, never deleted.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

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
pub fn check_output_dir(output: &Path, root: &Path) -> Result<(), OutputError> {
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

/// Writes `files` as the new content of `output`, atomically from the reader's point of
/// view: everything goes to a staging directory first, which then replaces `output`.
pub fn write_site(output: &Path, root: &Path, files: &[OutputFile]) -> Result<(), OutputError> {
    check_output_dir(output, root)?;
    let output = absolute(output)?;
    let paths: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    if paths.len() != files.len() {
        let mut seen = BTreeSet::new();
        let duplicate = files.iter().find(|f| !seen.insert(&f.path)).map(|f| f.path.clone()).unwrap_or_default();
        return Err(OutputError::DuplicatePath(duplicate));
    }
    let staging = sibling(&output, "imrf-site-staging");
    prepare_staging(&staging)?;
    files.par_iter().try_for_each(|file| write_file(&staging, file))?;
    let manifest: String =
        std::iter::once(MANIFEST_HEADER).chain(paths.iter().copied()).map(|line| format!("{line}\n")).collect();
    std::fs::write(staging.join(MANIFEST), manifest).map_err(io(&staging, "cannot write the manifest"))?;
    std::fs::remove_file(staging.join(STAGING_MARKER)).map_err(io(&staging, "cannot finish staging"))?;
    swap_into_place(&staging, &output)
}

fn write_file(dir: &Path, file: &OutputFile) -> Result<(), OutputError> {
    let path = dir.join(&file.path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent, "cannot create directory"))?;
    }
    std::fs::write(&path, &file.bytes).map_err(io(&path, "cannot write"))
}

fn prepare_staging(staging: &Path) -> Result<(), OutputError> {
    if staging.exists() {
        if !staging.join(STAGING_MARKER).exists() {
            return Err(OutputError::Refused {
                path: staging.to_path_buf(),
                reason: "a leftover staging directory that imrf-site did not create is in the way; remove it".into(),
            });
        }
        std::fs::remove_dir_all(staging)
            .map_err(io(staging, "cannot remove an interrupted build's staging directory"))?;
    }
    std::fs::create_dir_all(staging).map_err(io(staging, "cannot create the staging directory"))?;
    std::fs::write(staging.join(STAGING_MARKER), "").map_err(io(staging, "cannot mark the staging directory"))
}

fn swap_into_place(staging: &Path, output: &Path) -> Result<(), OutputError> {
    if !output.exists() {
        return std::fs::rename(staging, output).map_err(io(output, "cannot move the new site into place"));
    }
    let old = sibling(output, "imrf-site-old");
    if old.exists() {
        if read_manifest(&old)?.is_none() {
            return Err(OutputError::Refused {
                path: old,
                reason: "a directory imrf-site did not create is in the way; remove it".into(),
            });
        }
        std::fs::remove_dir_all(&old).map_err(io(&old, "cannot remove an interrupted build's old site"))?;
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
    std::fs::remove_dir_all(&old).map_err(io(&old, "cannot remove the previous site"))
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
