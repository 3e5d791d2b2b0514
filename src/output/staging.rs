//! `Staging`: one build being written beside the output, then swapped into place. With
//! the build cache on, the staging directory starts as the output before last (kept
//! beside the output after the previous swap, `.public.imrf-site-previous/`), so a build
//! writes only the files that differ from it, and links unchanged files from the
//! output, which holds them already: a one-page edit writes what it changed, not the
//! site. What each directory holds is known from `FileRecords` the cache keeps, checked
//! against the files' sizes, dates and inodes (and, when those differ, their bytes)
//! before anything is reused.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use rayon::prelude::*;
use rustc_hash::FxHashSet;

use super::folders::{FolderStamps, stamps_after};
use super::records::{FileRecord, FileRecords, Outputs, content_hash, folder_of, folders_of, stays_inside};
use super::{
    MANIFEST, MANIFEST_HEADER, OutputError, OutputFile, STAGING_MARKER, absolute, check_output_files,
    check_output_place, io, prepare_staging, recover_interrupted_swap, remove_leftover, sibling, swap_into_place,
};

/// A build being written: files go into a staging directory beside the output as they
/// are made (so a large site need not be held in memory whole), and `finish` writes the
/// manifest and swaps the staging directory into place. Dropped without `finish` (a
/// failed build), it removes the staging directory, or, when nothing was written into
/// it, gives the output before last it started from back; if the process dies first,
/// the directory keeps its marker and the next build clears it.
pub struct Staging {
    output: PathBuf,
    dir: PathBuf,
    /// The files written so far, and the folders created for them.
    written: Mutex<Written>,
    finished: bool,
    /// With the cache on: what the output directories hold.
    reuse: Option<Reuse>,
    /// Why the previous output kept beside the output is not used (nor replaced).
    notice: Option<String>,
}

/// What a build with the cache can take from the directories already written.
struct Reuse {
    /// The files the staging directory held when the build began (the output before
    /// last), each checked.
    held: FileRecords,
    /// The folders of `held`'s files: they are there, and need not be made.
    held_folders: FxHashSet<String>,
    /// Every file its manifest lists: those this build does not write are removed.
    owned: BTreeSet<String>,
    /// Whether the staging directory is the output before last, renamed.
    from_previous: bool,
    /// The output directory's files, by the cache's records (checked when linked).
    published: FileRecords,
    /// The output directory's folders, as checked when the build began.
    output_folders: FolderStamps,
    /// The folders of the output before last, as checked when the build began.
    previous_folders: FolderStamps,
    /// When the build began: the folders' names were known from then on.
    began: SystemTime,
}

#[derive(Default)]
struct Written {
    paths: BTreeSet<String>,
    folders: FxHashSet<String>,
    records: FileRecords,
    /// With the cache on: the folders whose names this build changed (a file written
    /// anew, linked or removed there, a folder made there). The others keep the stamps
    /// they had when the build began.
    changed: FxHashSet<String>,
}

/// A finished build's files.
pub struct Finished {
    /// Every file written (the manifest).
    pub paths: BTreeSet<String>,
    /// With the cache on: what the output and the directory kept beside it now hold.
    pub outputs: Option<Outputs>,
    /// Whether the output the build began with is kept beside it with the records the
    /// build was given: `outputs.previous` is the `published` given, as it was given.
    pub kept_as_given: bool,
}

impl Staging {
    /// Checks the output directory (`check_output_place`, `check_output_files`) and
    /// prepares a fresh staging directory, after restoring a site that an interrupted
    /// swap left aside.
    #[cfg(test)]
    pub fn begin(output: &Path, root: &Path) -> Result<Self, OutputError> {
        Self::begin_with(output, root, || None)
    }

    /// `begin`, and with the build cache on (`outputs` gives what it knows of the output
    /// folders, once they passed the checks) the staging directory starts as the output
    /// before last, when the cache knows what it holds.
    pub fn begin_with(
        output: &Path,
        root: &Path,
        outputs: impl FnOnce() -> Option<Outputs>,
    ) -> Result<Self, OutputError> {
        Self::begin_at(output, root, SystemTime::now(), outputs)
    }

    /// `begin_with`, the build beginning at `began`: folders are stamped as known from
    /// then on.
    fn begin_at(
        output: &Path,
        root: &Path,
        began: SystemTime,
        outputs: impl FnOnce() -> Option<Outputs>,
    ) -> Result<Self, OutputError> {
        recover_interrupted_swap(&absolute(output)?)?;
        check_output_place(output, root)?;
        let outputs = outputs();
        let known = outputs.as_ref().map(|known| (&known.published_folders, began));
        let output_folders = check_output_files(output, known)?;
        let output = absolute(output)?;
        let dir = sibling(&output, "imrf-site-staging");
        let previous = sibling(&output, "imrf-site-previous");
        let keep_previous = outputs.is_some();
        let Outputs { published, previous: records, previous_folders, .. } = outputs.unwrap_or_default();
        let nothing_held = Reuse::starting_empty(published, output_folders, began);
        let (reuse, notice) = start_from_previous(&dir, &previous, (records, previous_folders), nothing_held)?;
        let reuse = keep_previous.then_some(reuse);
        Ok(Self { output, dir, written: Mutex::new(Written::default()), finished: false, reuse, notice })
    }

    /// Why the previous output kept beside the output could not be used, if it could not.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    /// Writes a batch of files, in parallel, into the staging directory. A path written
    /// twice, in this batch or an earlier one, is an error. Batches may be written from
    /// several threads at once. A file the staging directory already holds with the same
    /// bytes is left as it is.
    pub fn write(&self, files: &[OutputFile]) -> Result<(), OutputError> {
        self.claim(files.iter().map(|file| file.path.as_str()))?;
        let records: Vec<Option<(String, FileRecord, bool)>> =
            files.par_iter().map(|file| self.write_file(file)).collect::<Result<_, _>>()?;
        self.mark_changed(records.iter().flatten().filter(|(_, _, anew)| *anew).map(|(path, _, _)| folder_of(path)));
        self.remember(records.into_iter().flatten().map(|(path, record, _)| (path, record)));
        Ok(())
    }

    /// With the cache on, puts each file of `wanted` (path, content hash) in the
    /// staging directory without its bytes: kept from the output before last, or linked
    /// from the output. Returns, for each, whether it is there; a file that is not must
    /// be made and written.
    pub fn reuse(&self, wanted: &[(&str, u128)]) -> Result<Vec<bool>, OutputError> {
        let found = self.find(wanted);
        self.place(wanted, &found)?;
        Ok(found.iter().map(Option::is_some).collect())
    }

    /// Puts each file of `wanted` that was `found` in the staging directory.
    fn place(&self, wanted: &[(&str, u128)], found: &[Option<(FileRecord, bool)>]) -> Result<(), OutputError> {
        self.claim(wanted.iter().zip(found).filter(|(_, f)| f.is_some()).map(|((path, _), _)| *path))?;
        let linked = wanted.par_iter().zip(found).try_for_each(|(&(path, _), found)| match found {
            Some((_, true)) => self.link(path),
            _ => Ok(()),
        });
        linked?;
        self.mark_changed(
            wanted
                .iter()
                .zip(found)
                .filter(|(_, found)| matches!(found, Some((_, true))))
                .map(|((path, _), _)| folder_of(path)),
        );
        let records = wanted.iter().zip(found).filter_map(|((path, _), f)| Some((path.to_string(), f.as_ref()?.0)));
        self.remember(records);
        Ok(())
    }

    /// `reuse`, all or nothing: every file of `wanted` is put in the staging directory,
    /// or none is (and `false` says they must all be made).
    pub fn reuse_all(&self, wanted: &[(&str, u128)]) -> Result<bool, OutputError> {
        let found = self.find(wanted);
        if !found.iter().all(Option::is_some) {
            return Ok(false);
        }
        self.place(wanted, &found)?;
        Ok(true)
    }

    /// Where each file of `wanted` can be had: its record, and whether it must be
    /// linked from the output (or is held already).
    fn find(&self, wanted: &[(&str, u128)]) -> Vec<Option<(FileRecord, bool)>> {
        let Some(reuse) = &self.reuse else { return vec![None; wanted.len()] };
        let linkable = |path: &str, hash: u128| {
            let from = reuse.published.get(path).filter(|r| r.hash == hash)?;
            from.still_at(&self.output.join(path))
        };
        wanted
            .par_iter()
            .map(|&(path, hash)| match reuse.held.get(path) {
                _ if !stays_inside(path) => None,
                Some(held) if held.hash == hash => Some((*held, false)),
                _ => linkable(path, hash).map(|record| (record, true)),
            })
            .collect()
    }

    /// Records `paths` as written, and makes their folders: each once, parents first (a
    /// folder sorts before what it holds), made before the lock is let go: a batch
    /// written at the same time may put files in the same folders.
    fn claim<'p>(&self, paths: impl Iterator<Item = &'p str>) -> Result<(), OutputError> {
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let mut new_folders = BTreeSet::new();
        for path in paths {
            if !written.paths.insert(path.to_string()) {
                return Err(OutputError::DuplicatePath(path.to_string()));
            }
            let mut rest = path;
            while let Some((folder, _)) = rest.rsplit_once('/') {
                if !written.folders.insert(folder.to_string()) {
                    break;
                }
                new_folders.insert(folder);
                rest = folder;
            }
        }
        let held = self.reuse.as_ref().map(|reuse| &reuse.held_folders);
        for folder in new_folders.into_iter().filter(|folder| !held.is_some_and(|held| held.contains(*folder))) {
            if self.reuse.is_some() {
                written.changed.extend([folder.to_string(), folder_of(folder).to_string()]);
            }
            let path = self.dir.join(folder);
            match std::fs::create_dir(&path) {
                // The output before last may have the folder already, or a file there.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => {}
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    std::fs::remove_file(&path).map_err(io(&path, "cannot replace"))?;
                    std::fs::create_dir(&path).map_err(io(&path, "cannot create directory"))?;
                }
                result => result.map_err(io(&path, "cannot create directory"))?,
            }
        }
        Ok(())
    }

    fn remember(&self, records: impl Iterator<Item = (String, FileRecord)>) {
        if self.reuse.is_some() {
            self.written.lock().unwrap_or_else(PoisonError::into_inner).records.extend(records);
        }
    }

    /// Notes that the names in `folders` changed, when the cache is on.
    fn mark_changed<'f>(&self, folders: impl Iterator<Item = &'f str>) {
        if self.reuse.is_some() {
            let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            for folder in folders {
                if !written.changed.contains(folder) {
                    written.changed.insert(folder.to_string());
                }
            }
        }
    }

    /// Writes one file, as a new file: one the staging directory held may share its
    /// inode with the output (a link), which must not change. Returns, when the cache
    /// is on, its record and whether it was written anew (not held as it is).
    fn write_file(&self, file: &OutputFile) -> Result<Option<(String, FileRecord, bool)>, OutputError> {
        let path = self.dir.join(&file.path);
        let Some(reuse) = &self.reuse else {
            return write_new(&path, &file.bytes).map(|_| None);
        };
        let hash = content_hash(&file.bytes);
        let (record, anew) = match reuse.held.get(&file.path) {
            Some(held) if held.hash == hash => (*held, false),
            _ => (FileRecord::of(&write_new(&path, &file.bytes)?, hash), true),
        };
        Ok(Some((file.path.clone(), record, anew)))
    }

    /// Links the output's file at `path` into the staging directory, in place of the
    /// one it held there, if any.
    fn link(&self, path: &str) -> Result<(), OutputError> {
        let to = self.dir.join(path);
        if let Err(error) = std::fs::remove_file(&to)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            return Err(OutputError::Io { path: to, action: "cannot replace", source: error });
        }
        std::fs::hard_link(self.output.join(path), &to).map_err(io(&to, "cannot link"))
    }

    /// A build that failed before it wrote anything (a mistake in a page's front
    /// matter) puts the output before last back beside the output, as it found it, so
    /// that the build after the fix starts from it. Whether it did.
    fn give_back_previous(&mut self) -> bool {
        let started_from_previous = self.reuse.as_ref().is_some_and(|reuse| reuse.from_previous);
        let untouched = self.written.get_mut().unwrap_or_else(PoisonError::into_inner).paths.is_empty();
        if !started_from_previous || !untouched {
            return false;
        }
        let previous = sibling(&self.output, "imrf-site-previous");
        // The marker goes first: a folder kept beside the output never holds it.
        std::fs::remove_file(self.dir.join(STAGING_MARKER)).is_ok() && std::fs::rename(&self.dir, previous).is_ok()
    }

    /// Writes the manifest of every file written and puts the new site in place.
    /// Returns the paths written (the manifest), and with the cache on, the records of
    /// the new output and of the previous one, kept beside it, and whether those are the
    /// records the build was given (`Finished::kept_as_given`).
    pub fn finish(mut self) -> Result<Finished, OutputError> {
        // From here on the staging directory is the new site or, after a failed swap,
        // the next build's leftover to clear: no longer this value's to remove.
        self.finished = true;
        let mut written = std::mem::take(self.written.get_mut().unwrap_or_else(PoisonError::into_inner));
        let staging = &self.dir;
        if let Some(reuse) = &self.reuse {
            written.changed.extend(remove_unwritten(staging, &reuse.owned, &written.paths)?);
        }
        let manifest: String = std::iter::once(MANIFEST_HEADER)
            .chain(written.paths.iter().map(String::as_str))
            .map(|line| format!("{line}\n"))
            .collect();
        std::fs::write(staging.join(MANIFEST), manifest).map_err(io(staging, "cannot write the manifest"))?;
        std::fs::remove_file(staging.join(STAGING_MARKER)).map_err(io(staging, "cannot finish staging"))?;
        let reuse = self.reuse.take();
        // The output is kept for the next build only when the cache knows what it holds,
        // and where no folder of someone else's files is in the way.
        let keep = reuse
            .as_ref()
            .filter(|r| !r.published.is_empty() && self.notice.is_none())
            .map(|_| sibling(&self.output, "imrf-site-previous"));
        let kept = swap_into_place(staging, &self.output, keep.as_deref())?;
        let Written { paths, records, folders, changed } = written;
        let outputs = reuse.map(|reuse| {
            // The folders holding what it wrote, and those it found as it began.
            Outputs {
                published: records,
                published_folders: stamps_after(&self.output, &folders, &reuse.previous_folders, &changed, reuse.began),
                previous: if kept { reuse.published } else { FileRecords::default() },
                previous_folders: if kept { reuse.output_folders } else { FolderStamps::default() },
            }
        });
        Ok(Finished { paths, outputs, kept_as_given: kept })
    }
}

impl Reuse {
    /// Nothing held: the staging directory starts empty.
    fn starting_empty(published: FileRecords, output_folders: FolderStamps, began: SystemTime) -> Self {
        Self {
            held: FileRecords::default(),
            held_folders: FxHashSet::default(),
            owned: BTreeSet::new(),
            from_previous: false,
            published,
            output_folders,
            previous_folders: FolderStamps::default(),
            began,
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.finished || self.give_back_previous() {
            return;
        }
        // Best effort: what stays behind is marked, and the next build clears it.
        let _ = super::remove_owned(&self.dir);
    }
}

/// Makes the staging directory from the output before last, kept beside the output,
/// when the cache's records say what it holds (`known`: its files' records and its
/// folders' stamps, empty when the cache is off); otherwise clears it and starts empty
/// (`nothing_held`). Each file the records name is checked; one that changed is
/// forgotten (the build replaces it). A kept folder holding files imrf-site did not
/// write is left as it is, unused, and said so (the notice returned).
fn start_from_previous(
    dir: &Path,
    previous: &Path,
    (records, known): (FileRecords, FolderStamps),
    nothing_held: Reuse,
) -> Result<(Reuse, Option<String>), OutputError> {
    if dir.exists() {
        remove_leftover(dir, "a leftover staging directory that imrf-site did not create is in the way; remove it")?;
    }
    if !previous.exists() {
        prepare_staging(dir)?;
        return Ok((nothing_held, None));
    }
    let owned = super::read_manifest(previous)?.unwrap_or_default();
    let listing = super::folders::list_changed(previous, &known, nothing_held.began)?;
    let foreign: Vec<&str> =
        super::foreign_files(&listing.files, &owned).into_iter().filter(|path| *path != STAGING_MARKER).collect();
    if !foreign.is_empty() && !previous.join(STAGING_MARKER).exists() {
        // Someone else's files: neither published nor deleted. The folder stays as it is.
        prepare_staging(dir)?;
        return Ok((
            nothing_held,
            Some(format!(
                "{}: the previous output kept here is not used: it holds {} file(s) imrf-site did not write ({}); remove them, or the folder, and builds start from it again",
                previous.display(),
                foreign.len(),
                super::shown(&foreign)
            )),
        ));
    }
    if records.is_empty() || !previous.join(MANIFEST).exists() || previous.join(STAGING_MARKER).exists() {
        remove_leftover(previous, "a directory imrf-site did not create is in the way; remove it")?;
        prepare_staging(dir)?;
        return Ok((nothing_held, None));
    }
    std::fs::rename(previous, dir).map_err(io(dir, "cannot reuse the previous output"))?;
    std::fs::write(dir.join(STAGING_MARKER), "").map_err(io(dir, "cannot mark the staging directory"))?;
    let held: FileRecords = records
        .into_par_iter()
        .filter(|(path, _)| stays_inside(path))
        .filter_map(|(path, record)| Some((path.clone(), record.still_at(&dir.join(&path))?)))
        .collect();
    let held_folders = folders_of(held.keys());
    let reuse =
        Reuse { held, held_folders, owned, from_previous: true, previous_folders: listing.stamps, ..nothing_held };
    Ok((reuse, None))
}

/// Removes the files of the output before last (`owned`, its manifest) that this build
/// did not write (pages gone since), and the folders they leave empty, deepest first.
/// Returns the folders they were in, and those folders' folders, but the top one: each
/// may have lost a name.
fn remove_unwritten(
    dir: &Path,
    owned: &BTreeSet<String>,
    written: &BTreeSet<String>,
) -> Result<FxHashSet<String>, OutputError> {
    let gone: Vec<&String> = owned.difference(written).filter(|path| stays_inside(path)).collect();
    gone.par_iter().try_for_each(|path| {
        let file = dir.join(path);
        std::fs::remove_file(&file).or_else(already_gone).map_err(io(&file, "cannot remove"))
    })?;
    let folders = folders_of(gone.iter().copied());
    let mut deepest_first: Vec<&String> = folders.iter().collect();
    deepest_first.sort_by_key(|folder| std::cmp::Reverse(folder.matches('/').count()));
    for folder in deepest_first {
        // Only an empty folder goes; one still holding files stays.
        let _ = std::fs::remove_dir(dir.join(folder));
    }
    Ok(folders)
}

/// Whether a file to remove is gone already: not there, or its name taken by what this
/// build wrote (a folder where the file was, or a file where its folder was).
fn already_gone(error: std::io::Error) -> std::io::Result<()> {
    use std::io::ErrorKind::{IsADirectory, NotADirectory, NotFound};
    if matches!(error.kind(), NotFound | IsADirectory | NotADirectory) { Ok(()) } else { Err(error) }
}

/// Writes `bytes` to `path` as a new file, replacing what is there (a file that may be
/// a link to the output's, or a folder of an earlier build's), never writing into it.
/// Returns the new file's metadata.
fn write_new(path: &Path, bytes: &[u8]) -> Result<std::fs::Metadata, OutputError> {
    let mut created = match std::fs::File::create_new(path) {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) }
                .map_err(io(path, "cannot replace"))?;
            std::fs::File::create_new(path)
        }
        created => created,
    }
    .map_err(io(path, "cannot write"))?;
    created.write_all(bytes).map_err(io(path, "cannot write"))?;
    created.metadata().map_err(io(path, "cannot inspect"))
}

#[cfg(test)]
mod tests;
