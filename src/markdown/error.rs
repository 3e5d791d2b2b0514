//! What can stop a page's Markdown from rendering, each with the byte offset it is about
//! (turned into a line and column by the caller, which knows the file). Owns the errors
//! only: the checks behind them are in `footnotes` and `sanitize`.

use super::sanitize::MAX_RAW_HTML_DEPTH;

/// Why a page's Markdown could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkdownError {
    #[error("footnote reference `[^{label}]` has no definition (add a line `[^{label}]: ...`)")]
    UndefinedFootnote { label: String, offset: usize },
    #[error("footnote `[^{label}]` is defined twice")]
    DuplicateFootnote { label: String, offset: usize },
    #[error(
        "raw HTML nested more than {MAX_RAW_HTML_DEPTH} elements deep, too deep to sanitize; flatten it (or set unsafe_html = true in site/config.toml)"
    )]
    RawHtmlTooDeep { offset: usize },
}

impl MarkdownError {
    /// The byte offset in the Markdown where the problem is.
    pub(crate) fn offset(&self) -> usize {
        match self {
            MarkdownError::UndefinedFootnote { offset, .. }
            | MarkdownError::DuplicateFootnote { offset, .. }
            | MarkdownError::RawHtmlTooDeep { offset } => *offset,
        }
    }
}
