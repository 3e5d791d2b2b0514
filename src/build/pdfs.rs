//! The PDF stage every build runs when the config has `[pdf]`: each language's PDF
//! typeset in parallel (`pdf::Typesetter`), and the `Downloads` every page links to, with
//! the PDF's size. Pages are rendered after it, since they show that size. Watch mode
//! keeps a `PdfMemo`: the fonts, found once, and each PDF by the key of all it reads
//! (its Typst source, the theme's `pdf/` folder, the font folders), so an edit re-typesets
//! only the language it changed, and does so after the pages are published: the reader
//! waits for the pages, not for Typst. `build` with the build cache starts from the
//! PDFs the last build made (`KeptPdfs`, saved as parts of the cache), so a build that
//! changed no language's text typesets nothing and opens no font file.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::keys::{Key, hash_debug};
use super::memo::SharedFile;
use super::stages::theme_dir;
use crate::cache::BuildCache;
use crate::diagnostic::Warning;
use crate::error::Error;
use crate::pdf::{FontLibrary, PdfError, Typesetter, font_files, pdf_path};
use crate::site::Site;
use crate::templates::{Download, Downloads};
use crate::types::LangCode;

/// A PDF, and what Typst warned about while making it.
type MadePdf = (SharedFile, Vec<Warning>);

/// What the PDF stage remembers between watch-mode builds; for `build`, the PDFs the
/// build cache kept (`with_kept`), or nothing.
#[derive(Default)]
pub(super) struct PdfMemo {
    /// The fonts found, by the key of the font files in the folders searched.
    fonts: Option<(Key, Arc<FontLibrary>)>,
    /// Each PDF, and Typst's warnings about it, by the key of all it reads.
    made: HashMap<Key, MadePdf>,
    /// Each language's last PDF, and the key of the theme it was made with.
    latest: HashMap<LangCode, (Key, MadePdf)>,
    /// The PDFs a watch-mode build deferred (`typeset_pdfs`), and what typesets them.
    pending: Vec<Pending>,
    typesetter: Option<Arc<Typesetter>>,
    /// How many PDFs the last build typeset; it reused the others.
    pub(super) typeset: usize,
}

/// The PDFs a build made, by the key of all each read, for the next build
/// (`PdfMemo::kept`, `PdfMemo::with_kept`).
#[derive(Default)]
pub(super) struct KeptPdfs(HashMap<Key, MadePdf>);

/// A kept PDF as the build cache's file names it: its bytes are a part of the cache
/// (`BuildCache::write_part`).
#[derive(Serialize, Deserialize)]
pub(super) struct SavedPdf {
    key: Key,
    path: String,
    part: u128,
    warnings: Vec<String>,
}

impl SavedPdf {
    /// The cache's part that holds the PDF.
    pub(super) fn part(&self) -> u128 {
        self.part
    }
}

impl KeptPdfs {
    /// Writes each PDF as a part of `cache`; what names them, in the order of their keys.
    pub(super) fn save(&self, cache: &BuildCache) -> std::io::Result<Vec<SavedPdf>> {
        let mut saved = self
            .0
            .iter()
            .map(|(key, (file, warnings))| {
                Ok(SavedPdf {
                    key: *key,
                    path: file.path.to_string(),
                    part: cache.write_part(&file.bytes)?,
                    warnings: warnings.iter().map(|warning| warning.message.clone()).collect(),
                })
            })
            .collect::<std::io::Result<Vec<SavedPdf>>>()?;
        saved.sort_unstable_by_key(|pdf| pdf.key);
        Ok(saved)
    }

    /// The PDFs `saved` names, or `None` when a part is missing or damaged.
    pub(super) fn load(cache: &BuildCache, saved: &[SavedPdf]) -> Option<Self> {
        saved
            .par_iter()
            .map(|pdf| {
                let file =
                    SharedFile { path: pdf.path.as_str().into(), bytes: Bytes::from(cache.read_part(pdf.part)?) };
                let warnings = pdf.warnings.iter().map(|message| Warning { message: message.clone() }).collect();
                Some((pdf.key, (file, warnings)))
            })
            .collect::<Option<HashMap<Key, MadePdf>>>()
            .map(Self)
    }
}

/// A PDF whose text changed, to typeset after the pages are published.
struct Pending {
    key: Key,
    lang: LangCode,
    source: String,
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

/// How `typeset_pdfs` makes a PDF whose inputs changed.
enum Made {
    Kept(MadePdf),
    Typeset(Result<MadePdf, PdfError>),
    /// The language's last PDF for now; the new one is pending.
    Deferred(MadePdf, String),
}

/// Every language's PDF, reusing from `memo` those made from the same inputs. A PDF
/// whose language's text changed, but not the theme, is deferred when `memo` holds an
/// earlier one: the earlier one is used for now, so that watch mode's first phase (the
/// pages the reader waits for) never waits for Typst; `PdfMemo::typeset_pending` makes
/// the new one after. `build`'s memo holds no earlier PDF of a language (`latest`), only
/// PDFs by key, so it defers nothing.
pub(super) fn typeset_pdfs(site: &Site, memo: &mut PdfMemo) -> Result<Pdfs, Error> {
    if site.config.pdf.is_none() {
        *memo = PdfMemo::default();
        return Ok(Pdfs::none());
    }
    let theme = theme_dir(site);
    let folders = Typesetter::font_folders(site, &theme);
    // Only the files' stamps are read to know whether fonts changed (`FontFileStamp`).
    let fonts_key = hash_debug(&(&folders, font_files(&folders)));
    let fonts = match &memo.fonts {
        Some((key, fonts)) if *key == fonts_key => Arc::clone(fonts),
        _ => Arc::new(FontLibrary::in_folders(&folders)),
    };
    memo.fonts = Some((fonts_key, Arc::clone(&fonts)));
    let typesetter = Arc::new(Typesetter::new(&theme, fonts)?);
    // All a PDF reads besides its source: the theme's files as read, the fonts, and its
    // file name (which the config sets).
    let theme_key = hash_debug(&(typesetter.theme_files().digest(), fonts_key, pdf_name(site)));
    let previous = std::mem::take(&mut memo.made);
    let made: Vec<(Key, Made)> = site
        .languages
        .par_iter()
        .map(|language| {
            let source = typesetter.note_source(site, language);
            let key = hash_debug(&(&source, &theme_key));
            let kept = previous.get(&key).filter(|kept| is_published_at(site, &language.code, &kept.0));
            let made = match (kept, memo.latest.get(&language.code)) {
                (Some(kept), _) => Made::Kept(kept.clone()),
                (None, Some((made_with, earlier))) if *made_with == theme_key => {
                    Made::Deferred(earlier.clone(), source)
                }
                (None, _) => Made::Typeset(
                    typesetter
                        .typeset(site, &language.code, source)
                        .map(|(file, warnings)| (SharedFile::from(file), warnings)),
                ),
            };
            (key, made)
        })
        .collect();
    memo.typeset = 0;
    memo.pending.clear();
    let mut pdfs = Pdfs::none();
    for ((key, made), language) in made.into_iter().zip(&site.languages) {
        let (pdf, deferred) = match made {
            Made::Kept(pdf) => (pdf, false),
            Made::Typeset(pdf) => {
                memo.typeset += 1;
                (pdf?, false)
            }
            Made::Deferred(pdf, source) => {
                memo.pending.push(Pending { key, lang: language.code.clone(), source });
                (pdf, true)
            }
        };
        pdfs.downloads.insert(language.code.clone(), Downloads { pdf: Some(download(site, &pdf.0)) });
        pdfs.warnings.extend(pdf.1.iter().cloned());
        pdfs.files.push(pdf.0.clone());
        if !deferred {
            memo.latest.insert(language.code.clone(), (theme_key, pdf.clone()));
            memo.made.insert(key, pdf);
        }
    }
    memo.typesetter = Some(typesetter);
    forget_old_typesetting(memo.typeset);
    Ok(pdfs)
}

/// Whether `file` is where `lang`'s PDF is published. A PDF from the build cache is
/// reused only there: a cache file made by hand cannot place a file outside the output.
fn is_published_at(site: &Site, lang: &LangCode, file: &SharedFile) -> bool {
    pdf_path(site, lang).is_some_and(|path| path.as_str().trim_start_matches('/') == &*file.path)
}

fn pdf_name(site: &Site) -> Option<&str> {
    site.config.pdf.as_ref().map(|pdf| pdf.name.as_str())
}

/// Typst remembers what it computed, for the next document; in a long `serve`, only
/// what the last few builds used is kept.
fn forget_old_typesetting(typeset: usize) {
    if typeset > 0 {
        typst::comemo::evict(10);
    }
}

impl PdfMemo {
    /// A memo for a clean build that holds the PDFs `kept`, as if it had made them: it
    /// defers nothing, and reuses each whose key is the same.
    pub(super) fn with_kept(kept: KeptPdfs) -> Self {
        Self { made: kept.0, ..Self::default() }
    }

    /// The PDFs of the last `typeset_pdfs`, for the next build.
    pub(super) fn kept(&self) -> KeptPdfs {
        KeptPdfs(self.made.clone())
    }

    /// Whether the last `typeset_pdfs` deferred a PDF.
    pub(super) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Typesets the PDFs the last `typeset_pdfs` deferred, and remembers them, so the
    /// next build of the same files uses them. A PDF that fails is reported and the
    /// earlier one kept: the next edit tries again.
    pub(super) fn typeset_pending(&mut self, site: &Site) -> Vec<Warning> {
        let Some(typesetter) = self.typesetter.clone() else { return Vec::new() };
        let pending = std::mem::take(&mut self.pending);
        let made: Vec<(Pending, Result<MadePdf, PdfError>)> = pending
            .into_par_iter()
            .map(|pending| {
                let pdf = typesetter
                    .typeset(site, &pending.lang, pending.source.clone())
                    .map(|(file, warnings)| (SharedFile::from(file), warnings));
                (pending, pdf)
            })
            .collect();
        forget_old_typesetting(made.len());
        let mut failures = Vec::new();
        for (pending, pdf) in made {
            match pdf {
                Ok(pdf) => {
                    self.typeset += 1;
                    if let Some((_, latest)) = self.latest.get_mut(&pending.lang) {
                        *latest = pdf.clone();
                    }
                    self.made.insert(pending.key, pdf);
                }
                Err(error) => failures.push(Warning { message: format!("{error}; the previous PDF is served") }),
            }
        }
        failures
    }
}

fn download(site: &Site, file: &SharedFile) -> Download {
    let url = format!("/{}", file.path);
    Download {
        url: site.base_url.link(&url),
        absolute_url: site.base_url.absolute(&url),
        kilobytes: (file.bytes.len() as u64).div_ceil(1000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::SitePaths;

    #[test]
    fn a_kept_pdf_is_reused_only_at_its_languages_path() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (site, _) = Site::load(SitePaths::new(root), None).unwrap();
        let mut memo = PdfMemo::default();
        let made = typeset_pdfs(&site, &mut memo).unwrap();
        assert_eq!(memo.typeset, site.languages.len());
        // A cache file made by hand: the same keys, the PDFs at another path.
        let elsewhere: HashMap<Key, MadePdf> = memo
            .kept()
            .0
            .into_iter()
            .map(|(key, (file, warnings))| (key, (SharedFile { path: "../elsewhere.pdf".into(), ..file }, warnings)))
            .collect();
        let mut memo = PdfMemo::with_kept(KeptPdfs(elsewhere));
        let again = typeset_pdfs(&site, &mut memo).unwrap();
        assert_eq!(memo.typeset, site.languages.len(), "a PDF kept at another path is typeset again");
        let paths = |pdfs: &Pdfs| pdfs.files.iter().map(|file| file.path.to_string()).collect::<Vec<_>>();
        assert_eq!(paths(&again), paths(&made));
        let mut memo = PdfMemo::with_kept(memo.kept());
        typeset_pdfs(&site, &mut memo).unwrap();
        assert_eq!(memo.typeset, 0, "a PDF kept at its path is reused");
    }
}
