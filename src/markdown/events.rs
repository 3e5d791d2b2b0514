//! How the Markdown stage reads Markdown: pulldown-cmark with the same options as
//! `blocks` (so that the renderer and the translation units number blocks alike), and
//! events paired with their byte range (so that errors and warnings can say where).
//! Reads only: it renders and checks nothing.

use std::ops::Range;

use pulldown_cmark::{Event, Options};

/// The parser options, shared with `blocks`.
pub(super) fn options() -> Options {
    crate::blocks::markdown_options()
}

/// An event and the byte range of the Markdown it comes from.
pub(super) type Spanned<'a> = (Event<'a>, Range<usize>);
