//! The view structs templates see: made for templates, so that the site model can
//! change without breaking themes. Plain data; filling them in is the `Renderer`'s.

use serde::Serialize;

use crate::i18n::Language;
use crate::markdown::{Footnote, Heading};
use crate::site::Translation;

#[derive(Serialize)]
pub(super) struct LangView<'a> {
    pub(super) code: &'a str,
    pub(super) name: &'a str,
    pub(super) dir: &'a str,
}

impl<'a> LangView<'a> {
    pub(super) fn of(language: &'a Language) -> Self {
        Self { code: language.code.as_str(), name: &language.name, dir: language.dir.as_str() }
    }
}

#[derive(Serialize, Clone)]
pub(super) struct LinkView {
    pub(super) title: String,
    pub(super) url: String,
}

#[derive(Serialize)]
pub(super) struct ObjectiveView {
    pub(super) number: u8,
    /// The language of the label and title when the page is shown untranslated.
    pub(super) content_lang: Option<String>,
    pub(super) short_label: String,
    pub(super) title: String,
    pub(super) url: String,
    pub(super) question_count: usize,
}

#[derive(Serialize)]
pub(super) struct QuestionView {
    pub(super) id: String,
    pub(super) html: String,
    pub(super) text: String,
    /// The question's place on its objective page.
    pub(super) url: String,
}

#[derive(Serialize)]
pub(super) struct AlternateView<'a> {
    pub(super) code: &'a str,
    pub(super) name: &'a str,
    pub(super) url: String,
    pub(super) absolute_url: String,
    pub(super) current: bool,
    /// Whether the page exists in this language; the switcher leads to the language's
    /// home where it does not, and the page lists no alternate there.
    pub(super) exists: bool,
}

#[derive(Serialize)]
pub(super) struct PageView<'a> {
    pub(super) kind: &'a str,
    pub(super) title: String,
    pub(super) description: Option<String>,
    pub(super) url: String,
    pub(super) canonical_url: String,
    pub(super) content_html: &'a str,
    pub(super) toc: Vec<&'a Heading>,
    pub(super) footnotes: &'a [Footnote],
    pub(super) objective: Option<ObjectiveView>,
    pub(super) questions: Vec<QuestionView>,
    /// The language of the text shown, when it differs from the page's (a fallback).
    pub(super) content_lang: Option<LangView<'a>>,
    pub(super) translation: Translation,
    pub(super) date: Option<DateView>,
    pub(super) breadcrumbs: Vec<LinkView>,
    pub(super) previous: Option<ObjectiveView>,
    pub(super) next: Option<ObjectiveView>,
}

#[derive(Serialize)]
pub(super) struct DateView {
    /// For `<time datetime>`.
    pub(super) iso: String,
    /// Written the page language's way.
    pub(super) text: String,
}

#[derive(Serialize)]
pub(super) struct QuestionGroupView {
    pub(super) objective: ObjectiveView,
    pub(super) questions: Vec<QuestionView>,
}

#[derive(Serialize)]
pub(super) struct CitationView {
    pub(super) title: String,
    pub(super) url: String,
    pub(super) number: usize,
}

#[derive(Serialize)]
pub(super) struct ReferenceView {
    pub(super) html: String,
    pub(super) url: Option<String>,
    pub(super) citations: Vec<CitationView>,
}

/// What every template gets besides the page itself.
#[derive(Serialize)]
pub(super) struct Common<'a> {
    pub(super) lang: LangView<'a>,
    pub(super) default_lang: &'a str,
    pub(super) is_translation: bool,
    pub(super) languages: Vec<AlternateView<'a>>,
    pub(super) objectives: Vec<ObjectiveView>,
    pub(super) home_url: String,
    pub(super) search_url: String,
    pub(super) site_title: &'a str,
}
