//! The fonts a PDF may use: every font file in the theme's `fonts/` folder, then in the
//! configured font folders (`[pdf] font_dirs`, Debian's `/usr/share/fonts` by default),
//! folder by folder and in sorted order within each, so that the same fonts give the
//! same book and the theme's own come first where two are alike. Each file is read once
//! to list its faces (which needs the whole file), and again, and kept, only when Typst
//! sets text in it. Which families a PDF uses is the theme's (`note.typ`); Typst subsets
//! what it sets into the file.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;

use crate::files::Stamp;

/// The fonts in some folders, found on first use: a build whose PDFs are all kept
/// (`build::pdfs`) reads no font file.
pub struct FontLibrary {
    /// The folders searched, for messages.
    pub(super) folders: Vec<PathBuf>,
    found: OnceLock<Found>,
}

/// The fonts found, and each one's file, read on first use.
struct Found {
    book: LazyHash<FontBook>,
    faces: Vec<Face>,
    files: Vec<FontFile>,
}

struct Face {
    file: usize,
    index: u32,
    font: OnceLock<Option<Font>>,
}

struct FontFile {
    path: PathBuf,
    bytes: OnceLock<Option<Bytes>>,
}

impl FontLibrary {
    /// Every font in `folders` (and their subfolders), folder by folder, each folder's
    /// in the order of their paths; looked for when first asked for.
    pub fn in_folders(folders: &[PathBuf]) -> Self {
        Self { folders: folders.to_vec(), found: OnceLock::new() }
    }

    fn found(&self) -> &Found {
        self.found.get_or_init(|| Found::in_folders(&self.folders))
    }

    /// Whether no font was found (looking for them, the first time).
    pub fn is_empty(&self) -> bool {
        self.found().faces.is_empty()
    }

    /// What Typst knows of every face found.
    pub(super) fn book(&self) -> &LazyHash<FontBook> {
        &self.found().book
    }

    /// The font at `index` in the book, read from its file the first time.
    pub(super) fn font(&self, index: usize) -> Option<Font> {
        let found = self.found();
        let face = found.faces.get(index)?;
        face.font
            .get_or_init(|| {
                let file = found.files.get(face.file)?;
                let bytes = file.bytes.get_or_init(|| std::fs::read(&file.path).ok().map(Bytes::new)).clone()?;
                Font::new(bytes, face.index)
            })
            .clone()
    }
}

impl Found {
    /// Reads every font file once, to list its faces.
    fn in_folders(folders: &[PathBuf]) -> Self {
        let mut paths: Vec<PathBuf> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for folder in folders {
            let mut found = Vec::new();
            collect_font_files(folder, &mut found);
            found.sort();
            for path in found {
                if seen.insert(path.clone()) {
                    paths.push(path);
                }
            }
        }
        let mut book = FontBook::new();
        let mut faces = Vec::new();
        let mut files = Vec::new();
        for path in paths {
            let Ok(data) = std::fs::read(&path) else { continue };
            let infos: Vec<FontInfo> = FontInfo::iter(&data).collect();
            if infos.is_empty() {
                continue;
            }
            for (index, info) in infos.into_iter().enumerate() {
                book.push(info);
                faces.push(Face { file: files.len(), index: index as u32, font: OnceLock::new() });
            }
            files.push(FontFile { path, bytes: OnceLock::new() });
        }
        Self { book: LazyHash::new(book), faces, files }
    }
}

/// A font file as known without reading it. A PDF is kept by its fonts' stamps across
/// builds (`build::pdfs`), so the change time is in (`files::Stamp`): a file replaced
/// with its date kept (`cp -p`, tar, dpkg), or made unreadable, has a new one.
#[derive(Debug)]
pub struct FontFileStamp {
    pub path: PathBuf,
    /// `None` when the file is not there any more.
    pub stamp: Option<Stamp>,
}

/// What would make `FontLibrary::in_folders` find other fonts: each font file's stamp,
/// for the PDF stage to know when to look again.
pub fn font_files(folders: &[PathBuf]) -> Vec<FontFileStamp> {
    let mut paths = Vec::new();
    for folder in folders {
        collect_font_files(folder, &mut paths);
    }
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let stamp = std::fs::metadata(&path).ok().as_ref().map(Stamp::of);
            FontFileStamp { path, stamp }
        })
        .collect()
}

fn collect_font_files(folder: &Path, paths: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            collect_font_files(&path, paths);
        } else if is_font_file(&path) {
            paths.push(path);
        }
    }
}

fn is_font_file(path: &Path) -> bool {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    matches!(extension.as_deref(), Some("ttf" | "otf" | "ttc" | "otc"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_font_file_made_unreadable_or_replaced_with_its_date_kept_has_another_stamp() {
        let dir = tempfile::tempdir().unwrap();
        let font = dir.path().join("a.ttf");
        std::fs::write(&font, b"not really a font").unwrap();
        let stamp = || format!("{:?}", font_files(&[dir.path().to_path_buf()]));
        let before = stamp();
        assert!(before.contains("a.ttf"), "{before}");
        // Past a coarse clock's tick, so the change time can differ.
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::fs::set_permissions(&font, std::fs::Permissions::from_mode(0o000)).unwrap();
        let unreadable = stamp();
        assert_ne!(unreadable, before, "same size and modification time, another change time");
        let modified = std::fs::metadata(&font).unwrap().modified().unwrap();
        std::fs::remove_file(&font).unwrap();
        std::fs::write(&font, b"not really a fonT").unwrap();
        std::fs::File::options().write(true).open(&font).unwrap().set_modified(modified).unwrap();
        assert_ne!(stamp(), before, "replaced with the same size and date");
    }
}
