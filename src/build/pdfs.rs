//! The PDF stage every build runs when the config has `[pdf]`: each language's PDF
//! typeset in parallel (`pdf::Typesetter`), and the `Downloads` every page links to, with
//! the PDF's size. Pages are rendered after it, since they show that size. Watch mode
//! keeps a `PdfMemo`: the fonts, found once, and each PDF by the key of all it reads
//! (its Typst source, the theme's `pdf/` folder, the font folders), so an edit re-typesets
//! only the language it changed.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use super::keys::{Key, hash_debug, hash_files};
use super::memo::SharedFile;
use super::stages::theme_dir;
use crate::diagnostic::Warning;
use crate::error::Error;
use crate::pdf::{FontLibrary, PdfError, Typesetter};
use crate::site::Site;
use crate::templates::{Download, Downloads};
use crate::types::LangCode;

/// A PDF, and what Typst warned about while making it.
type MadePdf = (SharedFile, Vec<Warning>);

/// What the PDF stage remembers between watch-mode builds; empty for a clean build.
#[derive(Default)]
pub(super) struct PdfMemo {
    /// The fonts found, by the folders searched.
    fonts: Option<(Vec<PathBuf>, Arc<FontLibrary>)>,
    /// Each PDF, and Typst's warnings about it, by the key of all it reads.
    made: HashMap<Key, MadePdf>,
    /// How many PDFs the last build typeset; it reused the others.
    pub(super) typeset: usize,
}

/// The site's PDFs, one per language, in the order of `site.languages`.
pub(super) struct Pdfs {
    pub(super) files: Vec<SharedFile>,
    pub(super) warnings: Vec<Warning>,
    pub(super) downloads: BTreeMap<LangCode, Downloads>,
}

impl Pdfs {
    fn none() -> Self {
        Self { files: Vec::new(), warnings: Vec::new(), downloads: BTreeMap::new() }
    }
}

/// Every language's PDF, reusing from `memo` those made from the same inputs.
pub(super) fn typeset_pdfs(site: &Site, memo: &mut PdfMemo) -> Result<Pdfs, Error> {
    if site.config.pdf.is_none() {
        *memo = PdfMemo::default();
        return Ok(Pdfs::none());
    }
    let theme = theme_dir(site);
    let folders = Typesetter::font_folders(site, &theme);
    let fonts = match &memo.fonts {
        Some((searched, fonts)) if *searched == folders => Arc::clone(fonts),
        _ => Arc::new(FontLibrary::find(&folders)),
    };
    memo.fonts = Some((folders.clone(), Arc::clone(&fonts)));
    let typesetter = Typesetter::new(&theme, fonts)?;
    let theme_key = hash_files(&[theme.join("pdf")]);
    let previous = std::mem::take(&mut memo.made);
    let made: Vec<(Key, Result<MadePdf, PdfError>)> = site
        .languages
        .par_iter()
        .map(|language| {
            let source = typesetter.note_source(site, language);
            let key = hash_debug(&(&source, &theme_key, &folders));
            let pdf = match previous.get(&key) {
                Some(kept) => Ok(kept.clone()),
                None => typesetter
                    .typeset(site, &language.code, source)
                    .map(|(file, warnings)| (SharedFile::from(file), warnings)),
            };
            (key, pdf)
        })
        .collect();
    memo.typeset = made.iter().filter(|(key, _)| !previous.contains_key(key)).count();
    let mut pdfs = Pdfs::none();
    for ((key, pdf), language) in made.into_iter().zip(&site.languages) {
        let (file, warnings) = pdf?;
        pdfs.downloads.insert(language.code.clone(), Downloads { pdf: Some(download(site, &file)) });
        pdfs.warnings.extend(warnings.iter().cloned());
        pdfs.files.push(file.clone());
        memo.made.insert(key, (file, warnings));
    }
    Ok(pdfs)
}

fn download(site: &Site, file: &SharedFile) -> Download {
    let url = format!("/{}", file.path);
    Download {
        url: site.base_url.link(&url),
        absolute_url: site.base_url.absolute(&url),
        kilobytes: (file.bytes.len() as u64).div_ceil(1000),
    }
}
