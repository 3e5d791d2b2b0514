//! The pages the generator makes itself, through templates but from no source page:
//! each language's guiding questions, references, search and 404 pages
//! (`GeneratedKind`), and the root language picker.

use std::collections::HashMap;

use minijinja::Value;

use super::error::RenderError;
use super::renderer::Renderer;
use super::views::{CitationView, LinkView, QuestionGroupView, ReferenceView};
use crate::i18n::Language;
use crate::markdown;
use crate::output::OutputFile;
use crate::site::{Page, Translation};
use crate::templates::{AssetLinks, LANGUAGE_PICKER_TEMPLATE};
use crate::types::{LangCode, UrlPath};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum GeneratedKind {
    GuidingQuestions,
    References,
    Search,
    NotFound,
}

impl GeneratedKind {
    fn template(self) -> &'static str {
        match self {
            GeneratedKind::GuidingQuestions => "guiding-questions.html",
            GeneratedKind::References => "references.html",
            GeneratedKind::Search => "search.html",
            GeneratedKind::NotFound => "404.html",
        }
    }
    pub(crate) fn slug(self) -> &'static str {
        match self {
            GeneratedKind::GuidingQuestions => "guiding-questions",
            GeneratedKind::References => "references",
            GeneratedKind::Search => "search",
            GeneratedKind::NotFound => "404",
        }
    }
    fn title_key(self) -> &'static str {
        match self {
            GeneratedKind::GuidingQuestions => "guiding_questions",
            GeneratedKind::References => "references",
            GeneratedKind::Search => "search",
            GeneratedKind::NotFound => "not_found_title",
        }
    }
}

impl<'a> Renderer<'a> {
    pub(super) fn render_generated(
        &self,
        language: &'a Language,
        kind: GeneratedKind,
    ) -> Result<(OutputFile, AssetLinks), RenderError> {
        let code = language.code.as_str();
        let url = UrlPath::page([code, kind.slug()]);
        let (url, output_path) = match kind {
            GeneratedKind::NotFound => (UrlPath::file(&format!("{code}/404.html")), format!("{code}/404.html")),
            _ => (url.clone(), url.output_file()),
        };
        let title = language.get(kind.title_key()).unwrap_or_default().to_string();
        let page = minijinja::context! {
            kind => kind.slug(),
            title => title,
            url => self.link(&url),
            canonical_url => self.site.base_url.absolute(url.as_str()),
            breadcrumbs => vec![LinkView { title: language.get("home").unwrap_or_default().to_string(), url: self.link(&UrlPath::page([code])) }],
            translation => if language.code == self.site.default_language { Translation::Original } else { Translation::Current },
        };
        let groups = match kind {
            GeneratedKind::GuidingQuestions => self.question_groups(&language.code),
            _ => Vec::new(),
        };
        let references = match kind {
            GeneratedKind::References => self.references(&language.code),
            _ => Vec::new(),
        };
        let mut common = self.common(language, None);
        if !matches!(kind, GeneratedKind::NotFound) {
            for alternate in &mut common.languages {
                let other = UrlPath::page([alternate.code, kind.slug()]);
                alternate.url = self.link(&other);
                alternate.absolute_url = self.site.base_url.absolute(other.as_str());
            }
        }
        let context = minijinja::context! {
            page => page,
            groups => Value::from_serialize(groups),
            references => Value::from_serialize(references),
            ..Value::from_serialize(common)
        };
        self.render_template(kind.template(), &context, output_path, url.as_str())
    }

    fn question_groups(&self, lang: &LangCode) -> Vec<QuestionGroupView> {
        let objectives = self.objectives.get(lang).map(Vec::as_slice).unwrap_or_default();
        objectives
            .iter()
            .filter(|p| !self.site.source(p).front.questions.is_empty())
            .map(|p| QuestionGroupView { objective: self.objective_view(p), questions: self.questions(p) })
            .collect()
    }

    /// Every footnote of the language's pages, merged by the URL it cites, each with the
    /// places that cite it, in the order readers meet them.
    fn references(&self, lang: &LangCode) -> Vec<ReferenceView> {
        let mut references: Vec<ReferenceView> = Vec::new();
        // Where each cited URL already is in `references`: one lookup per footnote.
        let mut by_url: HashMap<String, usize> = HashMap::new();
        let pages = self.reading_order(lang);
        for page in pages {
            let source = self.site.source(page);
            let title = match source.front.objective {
                Some(number) => format!(
                    "{} – {}",
                    self.language(lang)
                        .get("objective_number")
                        .unwrap_or("{number}")
                        .replace("{number}", &number.to_string()),
                    source.front.short_label.clone().unwrap_or_default()
                ),
                None => markdown::inline_text(&source.front.title),
            };
            for footnote in self.sources.cited_notes(page.source).iter() {
                let citations = footnote.reference_ids.iter().map(|id| CitationView {
                    title: title.clone(),
                    url: format!("{}#{id}", self.link(&page.url)),
                    number: footnote.number,
                });
                let existing = footnote.url.as_deref().and_then(|url| by_url.get(url).copied());
                match existing {
                    Some(index) => references[index].citations.extend(citations),
                    None => {
                        if let Some(url) = &footnote.url {
                            by_url.insert(url.clone(), references.len());
                        }
                        references.push(ReferenceView {
                            html: footnote.content_html.clone(),
                            url: footnote.url.clone(),
                            citations: citations.collect(),
                        });
                    }
                }
            }
        }
        references
    }

    /// A language's pages as a reader meets them: home, objectives in order, the rest.
    fn reading_order(&self, lang: &'a LangCode) -> Vec<&'a Page> {
        let objectives = self.objectives.get(lang).cloned().unwrap_or_default();
        let mut pages: Vec<&Page> = self.site.pages_in(lang).filter(|p| p.key == "_index.md").collect();
        pages.extend(objectives.iter().copied());
        pages.extend(
            self.site.pages_in(lang).filter(|p| p.key != "_index.md" && !objectives.iter().any(|o| o.key == p.key)),
        );
        pages
    }

    pub(super) fn render_language_picker(&self) -> Result<(OutputFile, AssetLinks), RenderError> {
        let default = self.site.default_lang();
        let context = minijinja::context! {
            title => self.site.config.title,
            default_lang => default.code.as_str(),
            base_path => self.site.base_url.path,
            ..Value::from_serialize(self.common(default, None))
        };
        self.render_template(LANGUAGE_PICKER_TEMPLATE, &context, "index.html".into(), "/")
    }
}
