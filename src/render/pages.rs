//! A source page through its template (`home.html`, `objective.html`, `page.html`):
//! its `PageView`, with breadcrumbs and the previous and next objectives.

use minijinja::Value;

use super::error::RenderError;
use super::renderer::Renderer;
use super::views::{DateView, LangView, LinkView, ObjectiveView, PageView};
use crate::content::{PageKind, SourcePage};
use crate::i18n::Language;
use crate::markdown;
use crate::output::OutputFile;
use crate::site::Page;
use crate::templates::AssetLinks;
use crate::types::UrlPath;

impl<'a> Renderer<'a> {
    pub(super) fn render_page(&self, page: &'a Page) -> Result<(OutputFile, AssetLinks), RenderError> {
        let language = self.language(&page.lang);
        let source = self.site.source(page);
        let rendered = self.sources.get(page.source);
        let kind = source.front.kind;
        let (previous, next) = self.neighbours(page);
        let content_lang = (source.lang != page.lang).then(|| LangView::of(self.language(&source.lang)));
        let view = PageView {
            kind: kind_name(kind),
            title: markdown::inline_text(&source.front.title),
            description: source.front.description.clone(),
            url: self.link(&page.url),
            canonical_url: self.site.base_url.absolute(page.url.as_str()),
            content_html: &rendered.html,
            toc: rendered.headings.iter().filter(|h| h.level <= 3).collect(),
            footnotes: &rendered.footnotes,
            objective: (kind == PageKind::Objective).then(|| self.objective_view(page)),
            questions: self.questions(page),
            content_lang,
            translation: page.translation,
            date: source.front.date.and_then(|d| d.0.date).map(|d| DateView {
                iso: format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
                text: language.format_date(d.year, d.month, d.day),
            }),
            breadcrumbs: self.breadcrumbs(language, page, source),
            previous,
            next,
        };
        let template = match kind {
            PageKind::Home => "home.html",
            PageKind::Objective => "objective.html",
            PageKind::Page => "page.html",
        };
        let context = minijinja::context! { page => Value::from_serialize(&view), ..Value::from_serialize(self.common(language, Some(&page.key))) };
        self.render_template(template, &context, page.url.output_file(), page.url.as_str())
    }

    fn breadcrumbs(&self, language: &Language, page: &Page, source: &SourcePage) -> Vec<LinkView> {
        if source.front.kind == PageKind::Home {
            return Vec::new();
        }
        let home = LinkView {
            title: language.get("home").unwrap_or("Home").to_string(),
            url: self.link(&UrlPath::page([page.lang.as_str()])),
        };
        vec![home]
    }

    fn neighbours(&self, page: &Page) -> (Option<ObjectiveView>, Option<ObjectiveView>) {
        let Some(objectives) = self.objectives.get(&page.lang) else { return (None, None) };
        let Some(index) = objectives.iter().position(|p| p.key == page.key) else { return (None, None) };
        let previous = index.checked_sub(1).and_then(|i| objectives.get(i)).map(|p| self.objective_view(p));
        let next = objectives.get(index + 1).map(|p| self.objective_view(p));
        (previous, next)
    }
}

/// The kind as templates and `note.json` name it.
pub(super) fn kind_name(kind: PageKind) -> &'static str {
    match kind {
        PageKind::Home => "home",
        PageKind::Objective => "objective",
        PageKind::Page => "page",
    }
}
