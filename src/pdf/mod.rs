//! The note as a PDF in each language, `/<lang>/<name>-<lang>.pdf`, when the config
//! has a `[pdf]` table: the whole note (title page, contents, the home page's text, the
//! objectives in order with their footnotes as footnotes, the guiding questions), with
//! the unofficial-translation notice, typeset by Typst as a library with the theme's
//! `pdf/note.typ` and fonts found on disk (`fonts`), subset into the file. Tagged, with
//! its title and language as metadata, and byte-identical for the same sources and
//! fonts: no date and a stable document id. Made from the `Site` before the Markdown
//! text is freed; writes nothing.

mod document;
mod fonts;
mod markup;
mod world;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use typst::diag::{Severity, SourceDiagnostic, Warned};
use typst::foundations::Smart;
use typst::syntax::Source;
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

pub use fonts::{FontLibrary, font_files};
pub use world::ThemeFiles;

use crate::diagnostic::{Location, Warning};
use crate::i18n::Language;
use crate::output::OutputFile;
use crate::site::Site;
use crate::types::{LangCode, UrlPath};
use world::NoteWorld;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("{path}: cannot read the PDF theme: {source}", path = .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "no fonts for the PDF in {folders}: install Debian's fonts-noto-core and fonts-noto-cjk, \
         list the folders that hold your fonts in `font_dirs` under [pdf] in site/config.toml, \
         or remove [pdf] to publish no PDF"
    )]
    NoFonts { folders: String },
    #[error("{location}: {message}")]
    Theme { location: Location, message: String },
    #[error("the {lang} PDF could not be typeset: {message}")]
    Typeset { lang: LangCode, message: String },
}

/// What typesets the PDFs of one build: Typst's library, the fonts (found when the first
/// PDF is typeset) and the theme's files, loaded once and shared by every language.
pub struct Typesetter {
    library: LazyHash<Library>,
    fonts: Arc<FontLibrary>,
    theme: ThemeFiles,
    theme_dir: PathBuf,
}

impl Typesetter {
    /// Loads the theme's `pdf/` folder; `fonts` are this site's fonts, looked for when
    /// the first PDF is typeset.
    pub fn new(theme_dir: &Path, fonts: Arc<FontLibrary>) -> Result<Self, PdfError> {
        let pdf_dir = theme_dir.join("pdf");
        let mut files = BTreeMap::new();
        read_folder(&pdf_dir, "", &mut files)?;
        Ok(Self {
            library: LazyHash::new(Library::default()),
            fonts,
            theme: ThemeFiles::new(files),
            theme_dir: pdf_dir,
        })
    }

    /// The theme's PDF files as read: part of the memo key of what is typeset with them.
    pub fn theme_files(&self) -> &ThemeFiles {
        &self.theme
    }

    /// The folders a site's fonts are found in: the theme's `fonts/`, then `[pdf] font_dirs`.
    pub fn font_folders(site: &Site, theme_dir: &Path) -> Vec<PathBuf> {
        let mut folders = vec![theme_dir.join("fonts")];
        if let Some(pdf) = &site.config.pdf {
            folders.extend(pdf.font_dirs.iter().map(|dir| site.paths.root.join(dir)));
        }
        folders
    }

    /// The Typst source of `language`'s PDF: all a PDF reads besides the theme and the
    /// fonts, so a remembered PDF made from the same source is the same PDF.
    pub fn note_source(&self, site: &Site, language: &Language) -> String {
        document::note_source(site, language)
    }

    /// Typesets `source` (`note_source`) into `lang`'s PDF; with what Typst warned
    /// about (a font family not found, say).
    pub fn typeset(
        &self,
        site: &Site,
        lang: &LangCode,
        source: String,
    ) -> Result<(OutputFile, Vec<Warning>), PdfError> {
        if self.fonts.is_empty() {
            let folders = self.fonts.folders.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", ");
            return Err(PdfError::NoFonts { folders });
        }
        let failed = |message: &str| PdfError::Typeset { lang: lang.clone(), message: message.to_string() };
        let path = pdf_path(site, lang).ok_or_else(|| failed("the config has no [pdf] table"))?;
        let main_id = world::file_id(world::MAIN).ok_or_else(|| failed("the generated note has no valid path"))?;
        let main = Source::new(main_id, source);
        let world = NoteWorld { library: &self.library, fonts: &self.fonts, theme: &self.theme, main };
        let Warned { output, warnings } = typst::compile::<PagedDocument>(&world);
        let document = output.map_err(|errors| self.diagnostic_error(&world, lang, errors.as_slice()))?;
        let options = PdfOptions {
            ident: Smart::Custom(format!("imrf-site/{lang}")),
            creator: Smart::Custom(Some("imrf-site".into())),
            ..PdfOptions::default()
        };
        let bytes = typst_pdf::pdf(&document, &options)
            .map_err(|errors| self.diagnostic_error(&world, lang, errors.as_slice()))?;
        let warnings = warnings
            .iter()
            .filter(|warning| warning.severity == Severity::Warning)
            .map(|warning| Warning { message: self.describe(&world, lang, warning) })
            .collect();
        Ok((OutputFile::new(path.as_str().trim_start_matches('/'), bytes), warnings))
    }

    fn diagnostic_error(&self, world: &NoteWorld, lang: &LangCode, errors: &[SourceDiagnostic]) -> PdfError {
        let Some(first) = errors.first() else {
            return PdfError::Typeset { lang: lang.clone(), message: "Typst gave no reason".into() };
        };
        match self.theme_location(world, first) {
            Some(location) => PdfError::Theme { location, message: first.message.to_string() },
            None => PdfError::Typeset { lang: lang.clone(), message: first.message.to_string() },
        }
    }

    fn describe(&self, world: &NoteWorld, lang: &LangCode, diagnostic: &SourceDiagnostic) -> String {
        let hints: String = diagnostic.hints.iter().map(|hint| format!(" ({})", hint.v)).collect();
        match self.theme_location(world, diagnostic) {
            Some(location) => format!("{location}: the {lang} PDF: {}{hints}", diagnostic.message),
            None => format!("the {lang} PDF: {}{hints}", diagnostic.message),
        }
    }

    /// Where in the theme's files a diagnostic points, when it points there; the
    /// generated note is nobody's file to fix.
    fn theme_location(&self, world: &NoteWorld, diagnostic: &SourceDiagnostic) -> Option<Location> {
        let id = diagnostic.span.id()?;
        if id == world.main.id() {
            return None;
        }
        let source = typst::World::source(world, id).ok()?;
        let range = world.range(diagnostic.span)?;
        let (line, column) = source.lines().byte_to_line_column(range.start)?;
        let path = self.theme_dir.join(id.vpath().get_without_slash());
        Some(Location::at(&path, line + 1, column + 1))
    }
}

/// Every file below `folder`, by its path inside the theme's `pdf/` (`/note.typ`).
fn read_folder(folder: &Path, prefix: &str, files: &mut BTreeMap<String, Vec<u8>>) -> Result<(), PdfError> {
    let entries = std::fs::read_dir(folder).map_err(|source| PdfError::Read { path: folder.to_path_buf(), source })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = format!("{prefix}/{}", entry.file_name().to_string_lossy());
        if entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            read_folder(&path, &name, files)?;
        } else {
            let bytes = std::fs::read(&path).map_err(|source| PdfError::Read { path: path.clone(), source })?;
            files.insert(name, bytes);
        }
    }
    Ok(())
}

/// Where a language's PDF is published, when the site makes PDFs.
pub fn pdf_path(site: &Site, lang: &LangCode) -> Option<UrlPath> {
    let pdf = site.config.pdf.as_ref()?;
    Some(UrlPath::file(&format!("{lang}/{}-{lang}.pdf", pdf.name)))
}
