//! The exchange model: what a translator's tool receives for one file of the site (a
//! page, or the UI strings), independent of the file format. `po` and `xliff` write a
//! `Catalog` and read one back; `exchange` makes catalogs from the site and applies
//! them to it. Plain data, no I/O.

/// One file's units, as exchanged with a CAT tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// The original's language (`en`).
    pub source_lang: String,
    /// The translation's language (`fr`).
    pub target_lang: String,
    /// What the units translate: a page key (`objective-14.md`) or `i18n` for the UI
    /// strings. Written into the file so that an import knows where it goes.
    pub original: String,
    pub units: Vec<CatalogUnit>,
}

/// One translatable unit: a block of a page, a front-matter value or a UI string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogUnit {
    /// Stable across languages and exports: `title`, `short_label`, `q-14-1`,
    /// `p-14-3`, `fn:asean-consular`, `ui:search_placeholder`.
    pub id: String,
    /// The original's text, inline markup replaced by tags (see `Tag`).
    pub source: String,
    /// The translation with the same tags; empty when there is none.
    pub target: String,
    pub state: UnitState,
    /// For an outdated unit: the original's text the translation was made from.
    pub previous_source: Option<String>,
    /// Notes for the translator (where the unit is, what it is).
    pub notes: Vec<String>,
    /// What each tag of `source` stands for, in order of first appearance.
    pub tags: Vec<Tag>,
    /// The line of the file the unit was read from (0 for a unit made by an export).
    pub line: usize,
}

/// A placeholder for inline markup that the translator must keep: a pair
/// `<g1>...</g1>` around text the translator translates (emphasis, a link's text), or a
/// standalone `<x2/>` (a footnote reference, inline code, a line break).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// `g1`, `x2`: the tag's name as written in the text.
    pub name: String,
    pub kind: TagKind,
    /// What it stands for, for the translator: "link to https://...", "footnote
    /// [^asean-consular]", "emphasis".
    pub meaning: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// `<g1>...</g1>`: markup around text.
    Paired,
    /// `<x1/>`: markup standing alone.
    Standalone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitState {
    /// Not translated yet: `target` is empty.
    New,
    /// Translated and up to date with `source`.
    Translated,
    /// Translated from an older `source` (`previous_source`): to be reviewed. Gettext
    /// calls this fuzzy, XLIFF `needs-review-translation`.
    Outdated,
}
