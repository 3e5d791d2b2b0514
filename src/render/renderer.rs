//! The `Renderer`: its maps of the site (objectives in order, each page's URL in every
//! language), made once per build, and what every template context shares (`common`,
//! links, objective and question views, rendering a template into a file). Which files
//! there are and how each is filled in is the other files' of `render`.

use std::collections::BTreeMap;

use minijinja::Value;

use super::error::RenderError;
use super::sources::RenderedSources;
use super::views::{AlternateView, Common, LangView, ObjectiveView, QuestionView};
use crate::i18n::Language;
use crate::markdown;
use crate::output::OutputFile;
use crate::site::{Page, Site};
use crate::templates::{AssetLinks, Templates};
use crate::types::{LangCode, UrlPath};

/// Renders the site's files; made once per build, as it maps every page.
pub(crate) struct Renderer<'a> {
    pub(super) site: &'a Site,
    pub(super) sources: &'a RenderedSources,
    pub(super) templates: &'a Templates,
    /// Per language, the objectives in order.
    pub(super) objectives: BTreeMap<&'a LangCode, Vec<&'a Page>>,
    /// Per page key, the URL of that page in each language, for the language switcher.
    pub(super) alternates: BTreeMap<&'a str, Vec<(&'a LangCode, &'a UrlPath)>>,
}

impl<'a> Renderer<'a> {
    pub(crate) fn new(site: &'a Site, sources: &'a RenderedSources, templates: &'a Templates) -> Self {
        let objectives = site.languages.iter().map(|l| (&l.code, site.objectives_in(&l.code))).collect();
        let mut alternates: BTreeMap<&str, Vec<(&LangCode, &UrlPath)>> = BTreeMap::new();
        for page in &site.pages {
            alternates.entry(page.key.as_str()).or_default().push((&page.lang, &page.url));
        }
        Self { site, sources, templates, objectives, alternates }
    }

    pub(super) fn link(&self, url: &UrlPath) -> String {
        self.site.base_url.link(url.as_str())
    }

    pub(super) fn objective_view(&self, page: &Page) -> ObjectiveView {
        let front = &self.site.source(page).front;
        let source_lang = &self.site.source(page).lang;
        ObjectiveView {
            number: front.objective.map_or(0, |n| n.get()),
            content_lang: (source_lang != &page.lang).then(|| source_lang.to_string()),
            short_label: front.short_label.clone().unwrap_or_default(),
            title: markdown::inline_text(&front.title),
            url: self.link(&page.url),
            question_count: front.questions.len(),
        }
    }

    pub(super) fn questions(&self, page: &Page) -> Vec<QuestionView> {
        let page_url = self.link(&page.url);
        self.site
            .source(page)
            .front
            .questions
            .iter()
            .map(|q| QuestionView {
                id: q.id.clone(),
                html: markdown::render_inline(&q.text, self.site.config.unsafe_html),
                text: markdown::inline_text(&q.text),
                url: format!("{page_url}#{}", q.id),
            })
            .collect()
    }

    pub(super) fn common(&self, language: &'a Language, key: Option<&str>) -> Common<'a> {
        let lang_home = |code: &LangCode| UrlPath::page([code.as_str()]);
        let same_page: BTreeMap<&LangCode, &UrlPath> =
            key.and_then(|k| self.alternates.get(k)).map(|v| v.iter().copied().collect()).unwrap_or_default();
        let languages = self
            .site
            .languages
            .iter()
            .map(|other| {
                let url = same_page.get(&other.code).map(|u| (*u).clone()).unwrap_or_else(|| lang_home(&other.code));
                AlternateView {
                    code: other.code.as_str(),
                    name: &other.name,
                    url: self.link(&url),
                    absolute_url: self.site.base_url.absolute(url.as_str()),
                    current: other.code == language.code,
                    // Generated pages (no key) exist in every language.
                    exists: key.is_none() || same_page.contains_key(&other.code),
                }
            })
            .collect();
        let objectives =
            self.objectives.get(&language.code).map(|pages| pages.iter().map(|p| self.objective_view(p)).collect());
        Common {
            lang: LangView::of(language),
            default_lang: self.site.default_language.as_str(),
            is_translation: language.code != self.site.default_language,
            languages,
            objectives: objectives.unwrap_or_default(),
            home_url: self.link(&lang_home(&language.code)),
            search_url: self.link(&UrlPath::page([language.code.as_str(), "search"])),
            site_title: language.get("site_title").unwrap_or(&self.site.config.title),
        }
    }

    /// Renders `template` into the output file `path` of the page at `url`.
    pub(super) fn render_template(
        &self,
        template: &str,
        context: &Value,
        path: String,
        url: &str,
    ) -> Result<(OutputFile, AssetLinks), RenderError> {
        self.templates
            .render(template, context)
            .map(|(html, assets)| (OutputFile::new(path, html), assets))
            .map_err(|source| RenderError::Template { page: url.to_string(), source })
    }

    pub(super) fn language(&self, code: &LangCode) -> &'a Language {
        self.site.language(code).unwrap_or(self.site.default_lang())
    }
}
