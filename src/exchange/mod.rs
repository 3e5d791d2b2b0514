//! Translations exchanged with translators' tools (CAT tools: OmegaT, Poedit, Trados,
//! memoQ, Weblate): `translation export` writes each page's units (`blocks`) and the UI
//! strings as gettext PO or XLIFF 1.2 files, `translation import` writes what comes back
//! into the site's Markdown and TOML. `catalog` is the format-free model, `po` and
//! `xliff` the formats, `inline` the tags that protect inline Markdown, `units` the
//! catalog of a page as the site has it today.

use std::path::{Path, PathBuf};

use crate::diagnostic::Location;
use crate::site::LoadError;
use crate::site::Site;
use crate::types::LangCode;

pub mod catalog;
pub mod export;
pub mod format;
pub mod import;
pub mod inline;
pub mod po;
pub mod units;
pub mod xliff;

/// A file format CAT tools read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// GNU gettext PO (Poedit, Weblate, OmegaT, Lokalize).
    Po,
    /// XLIFF 1.2 (Trados, memoQ, OmegaT, Okapi).
    Xliff,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Po => "po",
            Format::Xliff => "xlf",
        }
    }

    /// The format a file's name says it is in.
    pub fn of_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "po" => Some(Format::Po),
            "xlf" | "xliff" => Some(Format::Xliff),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Site(#[from] LoadError),
    #[error(transparent)]
    Stamp(#[from] crate::stamps::StampError),
    #[error(transparent)]
    Format(#[from] format::FormatError),
    #[error("{location}: {message}")]
    Refused { location: Location, message: String },
    #[error("`{0}`: {1}")]
    BadLanguage(String, String),
    #[error("{path}: cannot read: {source}", path = .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: cannot write: {source}", path = .path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("the import was written, but stamping it failed: {0}")]
    Stamped(Box<crate::translation::TranslationError>),
}

/// `lang` as one of the site's translations (not the original, and with a folder).
fn language_of(site: &Site, lang: &str) -> Result<LangCode, ExchangeError> {
    let code = LangCode::parse(lang).map_err(|message| ExchangeError::BadLanguage(lang.into(), message))?;
    if code == site.default_language {
        return Err(ExchangeError::BadLanguage(
            lang.into(),
            "this is the original's language; export a translation".into(),
        ));
    }
    if site.language(&code).is_none() {
        return Err(ExchangeError::BadLanguage(
            lang.into(),
            format!(
                "the site has no such language: there is no folder {} (run `imrf-site new-language {code}` first)",
                site.paths.content().join(code.as_str()).display()
            ),
        ));
    }
    Ok(code)
}
