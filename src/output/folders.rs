//! What the build cache knows of an output directory's folders: each folder's inode and
//! dates at a moment its names were known to be imrf-site's (`FolderStamps`). A later
//! build lists only the folders whose stamp changed (`list_changed`): adding, removing
//! or renaming a name in a folder changes its change time, which programs cannot set
//! back on the file systems that keep one (those of Linux and macOS; not FAT). Git's
//! untracked cache skips unchanged folders the same way. A folder changed too close to
//! the moment its build began is listed again next time (`Stamp::settled_before`): a
//! coarse file system clock may give a later change the same time. A build stamps again
//! only the folders whose names it changed (`stamps_after`). The file system's
//! clock is taken to be this machine's, as it is for local disks; a network file system
//! whose clock lags this one's by more than the margin could hide a change.

use std::path::Path;
use std::time::SystemTime;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

use super::records::folder_of;
use super::{OutputError, io};
use crate::files::Stamp;

/// Every folder of an output directory, by its path inside it (`""` for the directory
/// itself), with its stamp, or `None` when it must be listed to be known.
pub type FolderStamps = FxHashMap<String, Option<Stamp>>;

/// A folder's stamp, if the folder last changed well before `known_since`: from then on
/// its names were known, and any later change gives it another change time.
fn trusted(stamp: Stamp, known_since: SystemTime) -> Option<Stamp> {
    stamp.settled_before(known_since).then_some(stamp)
}

/// What `list_changed` found.
#[derive(Default)]
pub(super) struct Listing {
    /// The files of the folders it listed, as paths inside the directory.
    pub(super) files: Vec<String>,
    /// Whether some folder was known by its stamp, and not listed.
    pub(super) skipped_any: bool,
    /// Every folder's stamp now, for the next build.
    pub(super) stamps: FolderStamps,
}

/// Every file below `dir` (as `/`-separated paths inside it), listed in parallel: a
/// large site's output has tens of thousands.
pub(super) fn list_files(dir: &Path) -> Result<Vec<String>, OutputError> {
    let mut listing = Listing::default();
    let nothing = Walk { dir, known: None, subfolders: &FxHashMap::default(), stamped: &FxHashMap::default() };
    walk(&nothing, String::new(), &mut listing)?;
    Ok(listing.files)
}

/// `list_files`, but only in the folders whose stamp differs from `known`'s (every
/// folder, when `known` is empty), and with every folder stamped: a folder whose stamp
/// is unchanged holds the names it held when stamped. Each folder is stamped before it
/// is listed, so a change made while it is read shows next time; its stamp is trusted
/// only if it had not changed since well before `began`, when the build began. The
/// known folders are stamped first, all at once and in parallel (most are unchanged,
/// and then walking them is a walk in memory); a stamp is used only for a folder
/// reached from the top.
pub(super) fn list_changed(dir: &Path, known: &FolderStamps, began: SystemTime) -> Result<Listing, OutputError> {
    let subfolders = subfolders_of(known.keys());
    let folders: Vec<&str> = known.keys().map(String::as_str).filter(|folder| !folder.is_empty()).collect();
    let stamped =
        folders.into_par_iter().filter_map(|folder| Some((folder, folder_stamp(&dir.join(folder))?))).collect();
    let context = Walk { dir, known: Some((known, began)), subfolders: &subfolders, stamped: &stamped };
    let mut listing = Listing::default();
    listing.stamps.reserve(known.len());
    walk(&context, String::new(), &mut listing)?;
    Ok(listing)
}

/// The stamp of the folder at `path`, if a folder is there.
fn folder_stamp(path: &Path) -> Option<Stamp> {
    std::fs::symlink_metadata(path).ok().filter(|metadata| metadata.is_dir()).map(|metadata| Stamp::of(&metadata))
}

/// The stamps of `dir`'s folders after a build: every folder that holds a file it wrote
/// (`holding`) and every one it found when it began (`found`, with their stamps then)
/// that is still there. A folder whose names the build did not change (not in
/// `changed`), and that holds what it wrote, keeps the stamp it was found with: it holds
/// the names it held then. The others are stamped again (`stamps_of`), the top folder
/// always (the manifest is written there).
pub(super) fn stamps_after(
    dir: &Path,
    holding: &FxHashSet<String>,
    found: &FolderStamps,
    changed: &FxHashSet<String>,
    began: SystemTime,
) -> FolderStamps {
    let unchanged = |folder: &str| !folder.is_empty() && holding.contains(folder) && !changed.contains(folder);
    let mut stamps: FolderStamps =
        found.iter().filter(|(folder, _)| unchanged(folder)).map(|(folder, stamp)| (folder.clone(), *stamp)).collect();
    // Each once: a folder may both hold what the build wrote and have been found.
    let top = String::new();
    let others: FxHashSet<&String> = holding
        .iter()
        .chain(found.keys())
        .chain([&top])
        .filter(|folder| !stamps.contains_key(folder.as_str()))
        .collect();
    stamps.extend(stamps_of(dir, others.into_iter(), began));
    stamps
}

/// The stamps of `folders` of `dir` (those that are there), each trusted only if the
/// folder has not changed since well before `known_since`, when its names were known.
fn stamps_of<'f>(dir: &Path, folders: impl Iterator<Item = &'f String>, known_since: SystemTime) -> FolderStamps {
    let folders: Vec<&String> = folders.collect();
    folders
        .into_par_iter()
        .filter_map(|folder| match std::fs::symlink_metadata(dir.join(folder)) {
            Ok(metadata) if metadata.is_dir() => Some((folder.clone(), trusted(Stamp::of(&metadata), known_since))),
            // No folder there now: its parent changed, and is listed.
            Ok(_) => None,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            // Kept, to be listed: its parent's stamp may be trusted, and name it only.
            Err(_) => Some((folder.clone(), None)),
        })
        .collect()
}

/// Each folder's subfolders, from the folders' paths.
fn subfolders_of<'k>(folders: impl Iterator<Item = &'k String>) -> FxHashMap<&'k str, Vec<&'k str>> {
    let mut subfolders: FxHashMap<&str, Vec<&str>> = FxHashMap::default();
    for folder in folders.filter(|folder| !folder.is_empty()) {
        subfolders.entry(folder_of(folder)).or_default().push(folder);
    }
    subfolders
}

struct Walk<'v> {
    dir: &'v Path,
    /// The stamps known, and when the build began. Without them, every folder is
    /// listed, and none stamped.
    known: Option<(&'v FolderStamps, SystemTime)>,
    subfolders: &'v FxHashMap<&'v str, Vec<&'v str>>,
    /// The known folders that were folders when the walk began, with their stamps then.
    stamped: &'v FxHashMap<&'v str, Stamp>,
}

/// Lists `folder` (stamping it first, with `known`), unless its stamp is the known one,
/// then walks its subfolders: in memory and in turn those stamped unchanged already, the
/// others in parallel (they are listed, or stamped now).
fn walk(context: &Walk, folder: String, listing: &mut Listing) -> Result<(), OutputError> {
    let Some((known, began)) = context.known else {
        let below = list_folder(&context.dir.join(&folder), &folder, &mut listing.files)?;
        return walk_listed(context, below, listing);
    };
    let stamp = match context.stamped.get(folder.as_str()) {
        Some(stamp) => *stamp,
        // Not known, or not a folder when the walk began: stamped now.
        None => {
            let path = context.dir.join(&folder);
            match std::fs::symlink_metadata(&path) {
                Ok(metadata) if metadata.is_dir() => Stamp::of(&metadata),
                // Replaced since its folder was listed (a link, a file): a name to check.
                Ok(_) => {
                    listing.files.push(folder);
                    return Ok(());
                }
                // Removed since its folder was listed: nothing is left to find.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound && !folder.is_empty() => return Ok(()),
                Err(error) => return Err(io(&path, "cannot inspect")(error)),
            }
        }
    };
    if stamped_as_known(known, &folder, stamp) {
        listing.skipped_any = true;
        let subfolders = context.subfolders.get(folder.as_str()).map(Vec::as_slice).unwrap_or_default();
        listing.stamps.insert(folder, trusted(stamp, began));
        let known_unchanged =
            |sub: &&str| context.stamped.get(sub).is_some_and(|stamp| stamped_as_known(known, sub, *stamp));
        let (in_memory, to_look_at): (Vec<&str>, Vec<&str>) = subfolders.iter().copied().partition(known_unchanged);
        for sub in in_memory {
            walk(context, sub.to_string(), listing)?;
        }
        walk_listed(context, to_look_at.into_iter().map(str::to_string).collect(), listing)
    } else {
        let below = list_folder(&context.dir.join(&folder), &folder, &mut listing.files)?;
        listing.stamps.insert(folder, trusted(stamp, began));
        walk_listed(context, below, listing)
    }
}

/// Whether `folder`'s stamp is the one `known` keeps: then it holds the names it held.
fn stamped_as_known(known: &FolderStamps, folder: &str, stamp: Stamp) -> bool {
    known.get(folder) == Some(&Some(stamp))
}

/// Walks `subfolders`, in parallel.
fn walk_listed(context: &Walk, subfolders: Vec<String>, listing: &mut Listing) -> Result<(), OutputError> {
    let walked: Vec<Listing> = subfolders
        .into_par_iter()
        .map(|sub| {
            let mut below = Listing::default();
            walk(context, sub, &mut below).map(|()| below)
        })
        .collect::<Result<_, _>>()?;
    for below in walked {
        listing.files.extend(below.files);
        listing.skipped_any |= below.skipped_any;
        listing.stamps.extend(below.stamps);
    }
    Ok(())
}

/// Adds the files of `folder` (at `path`) to `files`; returns its subfolders.
fn list_folder(path: &Path, folder: &str, files: &mut Vec<String>) -> Result<Vec<String>, OutputError> {
    let prefix = if folder.is_empty() { String::new() } else { format!("{folder}/") };
    let mut subfolders = Vec::new();
    for entry in std::fs::read_dir(path).map_err(io(path, "cannot list"))? {
        let entry = entry.map_err(io(path, "cannot list"))?;
        let Ok(name) = entry.file_name().into_string() else {
            // imrf-site writes only UTF-8 names: this one, file or folder, is someone else's.
            files.push(format!("{prefix}{}", entry.file_name().to_string_lossy()));
            continue;
        };
        let name = format!("{prefix}{name}");
        if entry.file_type().map_err(io(&entry.path(), "cannot inspect"))?.is_dir() {
            subfolders.push(name);
        } else {
            files.push(name);
        }
    }
    Ok(subfolders)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for path in ["index.html", "en/index.html", "en/a/index.html", "en/b/index.html", "fr/index.html"] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        dir
    }

    /// Every folder stamped as if its names had been known for a minute.
    fn stamped(dir: &Path) -> FolderStamps {
        let all = list_changed(dir, &FolderStamps::default(), SystemTime::now()).unwrap();
        let stamps = stamps_of(dir, all.stamps.keys(), SystemTime::now() + Duration::from_secs(60));
        // Past a coarse clock's tick: a change made next has another change time.
        std::thread::sleep(Duration::from_millis(50));
        stamps
    }

    fn sorted(mut files: Vec<String>) -> Vec<String> {
        files.sort();
        files
    }

    #[test]
    fn without_stamps_every_folder_is_listed() {
        let dir = tree();
        let listing = list_changed(dir.path(), &FolderStamps::default(), SystemTime::now()).unwrap();
        let files = ["en/a/index.html", "en/b/index.html", "en/index.html", "fr/index.html", "index.html"];
        assert_eq!(sorted(listing.files), files);
        assert!(!listing.skipped_any);
        let mut folders: Vec<&String> = listing.stamps.keys().collect();
        folders.sort();
        assert_eq!(folders, ["", "en", "en/a", "en/b", "fr"]);
        // Just made: none is trusted yet.
        assert!(listing.stamps.values().all(Option::is_none));
    }

    #[test]
    fn only_the_folders_changed_since_their_stamps_are_listed() {
        let dir = tree();
        let known = stamped(dir.path());
        let listing = list_changed(dir.path(), &known, SystemTime::now()).unwrap();
        assert!(listing.files.is_empty() && listing.skipped_any);

        std::fs::write(dir.path().join("en/b/stray.html"), "x").unwrap();
        std::fs::create_dir(dir.path().join("en/a/new")).unwrap();
        std::fs::write(dir.path().join("en/a/new/deep.html"), "x").unwrap();
        let listing = list_changed(dir.path(), &known, SystemTime::now()).unwrap();
        assert_eq!(
            sorted(listing.files),
            ["en/a/index.html", "en/a/new/deep.html", "en/b/index.html", "en/b/stray.html"]
        );
        assert!(listing.stamps.contains_key("en/a/new"));
    }

    #[test]
    fn a_name_that_is_not_utf8_is_someone_elses_file_or_folder() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tree();
        let known = stamped(dir.path());
        let odd = dir.path().join("en").join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
        std::fs::create_dir(&odd).unwrap();
        std::fs::write(odd.join("index.html"), "x").unwrap();
        for files in
            [list_files(dir.path()).unwrap(), list_changed(dir.path(), &known, SystemTime::now()).unwrap().files]
        {
            assert!(files.contains(&"en/caf\u{FFFD}".to_string()), "{files:?}");
        }
    }

    #[test]
    fn a_folder_replaced_is_listed_even_with_the_same_dates() {
        let dir = tree();
        let mut known = stamped(dir.path());
        // Another inode: a folder removed and made again.
        if let Some(Some(stamp)) = known.get_mut("fr") {
            stamp.inode += 1;
        }
        let listing = list_changed(dir.path(), &known, SystemTime::now()).unwrap();
        assert_eq!(listing.files, ["fr/index.html"]);
    }

    #[test]
    fn a_folder_below_one_replaced_by_a_link_is_not_walked() {
        let dir = tree();
        let known = stamped(dir.path());
        // Moved, and linked to: below the link, each folder keeps its known stamp.
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::rename(dir.path().join("en"), elsewhere.path().join("en")).unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join("en"), dir.path().join("en")).unwrap();
        let listing = list_changed(dir.path(), &known, SystemTime::now()).unwrap();
        assert_eq!(sorted(listing.files), ["en", "index.html"], "fr is unchanged");
        let mut folders: Vec<&String> = listing.stamps.keys().collect();
        folders.sort();
        assert_eq!(folders, ["", "fr"], "nothing below the link is stamped");
    }

    #[test]
    fn a_folder_changed_within_the_margin_is_not_trusted() {
        let dir = tree();
        let now = SystemTime::now();
        let stamps = stamps_of(dir.path(), ["".to_string(), "en".to_string()].iter(), now);
        assert_eq!(stamps.len(), 2);
        assert!(stamps.values().all(Option::is_none));
        let later = stamps_of(dir.path(), ["en".to_string(), "gone".to_string()].iter(), now + Duration::from_secs(6));
        assert!(later.len() == 1 && later["en"].is_some());
    }

    #[test]
    fn after_a_build_only_the_folders_it_changed_and_the_top_one_are_stamped_again() {
        let dir = tree();
        let found_with = Stamp { inode: 1, size: 2, modified: (3, 4), changed: (5, 6) };
        let found: FolderStamps =
            ["", "en", "en/a", "en/b", "fr"].iter().map(|folder| (folder.to_string(), Some(found_with))).collect();
        let holding: FxHashSet<String> = ["en", "en/a", "en/b"].map(String::from).into_iter().collect();
        let changed: FxHashSet<String> = ["en/b".to_string()].into_iter().collect();
        let later = SystemTime::now() + Duration::from_secs(60);
        let stamps = stamps_after(dir.path(), &holding, &found, &changed, later);
        let now = |folder: &str| Some(Stamp::of(&std::fs::symlink_metadata(dir.path().join(folder)).unwrap()));
        assert_eq!(stamps["en"], Some(found_with), "left as it was found");
        assert_eq!(stamps["en/a"], Some(found_with));
        assert_eq!(stamps["en/b"], now("en/b"), "its names changed");
        assert_eq!(stamps[""], now(""), "the manifest is written there");
        // Holding nothing the build wrote: its files may have gone, and it with them.
        assert_eq!(stamps["fr"], now("fr"));
    }
}
