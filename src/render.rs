//! Renders the `Site` into output files: each page's Markdown once (in parallel), then
//! every page of every language through its template (in parallel), plus the root
//! language picker, the 404 page, the sitemap and robots.txt. Pure: returns bytes and
//! paths, writes nothing. Template contexts are view structs made for templates, so the
//! model can change without breaking themes.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use minijinja::Value;
use rayon::prelude::*;
use serde::Serialize;

use crate::content::{PageKind, SourcePage};
use crate::diagnostic::{Location, Warning};
use crate::i18n::Language;
use crate::markdown::{self, Footnote, Heading, MarkdownContext, MarkdownStrings, Rendered};
use crate::output::OutputFile;
use crate::site::{Page, Site, Translation};
use crate::templates::{AssetLinks, LANGUAGE_PICKER_TEMPLATE, TemplateError, Templates};
use crate::types::{LangCode, UrlPath};

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{location}: {message}")]
    Markdown { location: Location, message: String },
    #[error("{source} (while making the page {page})")]
    Template { page: String, source: TemplateError },
}

/// Ids the templates put on every page; Markdown headings never take them.
const RESERVED_IDS: [&str; 8] = [
    "main-content",
    "page-toc",
    "overview",
    "footnotes-heading",
    "guiding-questions",
    "objectives-heading",
    "site-search",
    "search-results",
];

/// Every source page's Markdown, rendered once: a fallback page reuses the original's.
/// Shared, so that watch mode's memo keeps it without a copy.
pub struct RenderedSources(Vec<Arc<Rendered>>);

/// Renders the Markdown of every source page, in parallel, collecting every error.
/// A source's result comes from `reuse` when it has one: watch mode (`build::Rebuilder`)
/// answers from its memo of earlier builds, keyed by everything the rendering reads (the
/// source, the UI strings, the base URL and the config); a clean build answers `None`.
pub fn render_markdown(
    site: &Site,
    reuse: &(dyn Fn(usize) -> Option<Arc<Rendered>> + Sync),
) -> Result<RenderedSources, Vec<RenderError>> {
    let base_path = site.base_url.path.clone();
    let results: Vec<Result<Arc<Rendered>, RenderError>> = site
        .sources
        .par_iter()
        .enumerate()
        .map(|(index, source)| {
            if let Some(rendered) = reuse(index) {
                return Ok(rendered);
            }
            let language = site.language(&source.lang).unwrap_or(site.default_lang());
            let strings = markdown_strings(language);
            let block_prefix = crate::blocks::block_prefix(&source.front, &source.key);
            let context = MarkdownContext {
                strings: &strings,
                base_path: &base_path,
                site_origin: &site.base_url.origin,
                reserved_ids: &RESERVED_IDS,
                block_prefix: &block_prefix,
                trust_raw_html: site.config.unsafe_html,
            };
            markdown::render(&source.body, &context).map(Arc::new).map_err(|error| RenderError::Markdown {
                location: Location::of_offset(&source.path, &source.body, error.offset(), source.body_line),
                message: error.to_string(),
            })
        })
        .collect();
    every_one(results).map(RenderedSources)
}

/// Every result, or every error among them.
fn every_one<T>(results: Vec<Result<T, RenderError>>) -> Result<Vec<T>, Vec<RenderError>> {
    let mut done = Vec::with_capacity(results.len());
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok(value) => done.push(value),
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() { Ok(done) } else { Err(errors) }
}

fn markdown_strings(language: &Language) -> MarkdownStrings {
    let get = |key: &str| language.get(key).unwrap_or_default().to_string();
    MarkdownStrings {
        external_link: get("external_link"),
        footnote_reference: get("footnote_reference"),
        back_to_reference: get("back_to_reference"),
    }
}

impl RenderedSources {
    pub fn get(&self, index: usize) -> &Rendered {
        &self.0[index]
    }

    /// The same as `get`, shared.
    pub fn shared(&self, index: usize) -> Arc<Rendered> {
        Arc::clone(&self.0[index])
    }

    /// Frees the HTML (of the text and of its footnotes) once every page is rendered:
    /// what is left, the text, is all the search index reads. A rendering shared with
    /// watch mode's memo is left whole.
    pub fn release_html(&mut self) {
        for rendered in self.0.iter_mut().filter_map(Arc::get_mut) {
            rendered.html = String::new();
            for footnote in &mut rendered.footnotes {
                footnote.html = String::new();
                footnote.content_html = String::new();
            }
        }
    }

    /// Frees the text (sections, headings, footnotes) of the sources for which `done`
    /// (given a source index) says no search index still reads it. A rendering shared
    /// with watch mode's memo is left whole.
    pub fn release_text(&mut self, done: impl Fn(usize) -> bool) {
        for (index, rendered) in self.0.iter_mut().enumerate() {
            if let Some(rendered) = Arc::get_mut(rendered).filter(|_| done(index)) {
                rendered.sections = Vec::new();
                rendered.headings = Vec::new();
                rendered.footnotes = Vec::new();
            }
        }
    }

    /// One warning for each piece of markup the HTML sanitizer removed, where it was written.
    pub fn warnings(&self, site: &Site) -> Vec<Warning> {
        let mut warnings = Vec::new();
        for (source, rendered) in site.sources.iter().zip(&self.0) {
            for removed in &rendered.sanitized {
                let location = Location::of_offset(&source.path, &source.body, removed.offset, source.body_line);
                warnings.push(Warning {
                    message: format!(
                        "{location}: {} was removed by the HTML sanitizer (to publish raw HTML as written, set unsafe_html = true in site/config.toml)",
                        removed.what
                    ),
                });
            }
        }
        warnings
    }
}

// ---------------------------------------------------------------- views

#[derive(Serialize)]
struct LangView<'a> {
    code: &'a str,
    name: &'a str,
    dir: &'a str,
}

impl<'a> LangView<'a> {
    fn of(language: &'a Language) -> Self {
        Self { code: language.code.as_str(), name: &language.name, dir: language.dir.as_str() }
    }
}

#[derive(Serialize, Clone)]
struct LinkView {
    title: String,
    url: String,
}

#[derive(Serialize)]
struct ObjectiveView {
    number: u8,
    /// The language of the label and title when the page is shown untranslated.
    content_lang: Option<String>,
    short_label: String,
    title: String,
    url: String,
    question_count: usize,
}

#[derive(Serialize)]
struct QuestionView {
    id: String,
    html: String,
    text: String,
    /// The question's place on its objective page.
    url: String,
}

#[derive(Serialize)]
struct AlternateView<'a> {
    code: &'a str,
    name: &'a str,
    url: String,
    absolute_url: String,
    current: bool,
}

#[derive(Serialize)]
struct PageView<'a> {
    kind: &'a str,
    title: String,
    description: Option<String>,
    url: String,
    canonical_url: String,
    content_html: &'a str,
    toc: Vec<&'a Heading>,
    footnotes: &'a [Footnote],
    objective: Option<ObjectiveView>,
    questions: Vec<QuestionView>,
    /// The language of the text shown, when it differs from the page's (a fallback).
    content_lang: Option<LangView<'a>>,
    translation: Translation,
    date: Option<DateView>,
    breadcrumbs: Vec<LinkView>,
    previous: Option<ObjectiveView>,
    next: Option<ObjectiveView>,
}

#[derive(Serialize)]
struct DateView {
    /// For `<time datetime>`.
    iso: String,
    /// Written the page language's way.
    text: String,
}

#[derive(Serialize)]
struct QuestionGroupView {
    objective: ObjectiveView,
    questions: Vec<QuestionView>,
}

#[derive(Serialize)]
struct CitationView {
    title: String,
    url: String,
    number: usize,
}

#[derive(Serialize)]
struct ReferenceView {
    html: String,
    url: Option<String>,
    citations: Vec<CitationView>,
}

/// What every template gets besides the page itself.
#[derive(Serialize)]
struct Common<'a> {
    lang: LangView<'a>,
    default_lang: &'a str,
    is_translation: bool,
    languages: Vec<AlternateView<'a>>,
    objectives: Vec<ObjectiveView>,
    home_url: String,
    search_url: String,
    site_title: &'a str,
}

// ---------------------------------------------------------------- rendering

/// Renders the site's files; made once per build, as it maps every page.
pub struct Renderer<'a> {
    site: &'a Site,
    sources: &'a RenderedSources,
    templates: &'a Templates,
    /// Per language, the objectives in order.
    objectives: BTreeMap<&'a LangCode, Vec<&'a Page>>,
    /// Per page key, the URL of that page in each language, for the language switcher.
    alternates: BTreeMap<&'a str, Vec<(&'a LangCode, &'a UrlPath)>>,
}

/// A file `Renderer::files` makes through a template.
#[derive(Clone, Copy)]
pub enum Rendering<'a> {
    /// A page, and its index in `Site::pages`.
    Page(usize, &'a Page),
    /// One of a language's generated pages.
    Generated(&'a Language, GeneratedKind),
    /// The root page that sends readers to their language.
    LanguagePicker,
    /// The root 404 page static hosts serve: the default language's.
    RootNotFound,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum GeneratedKind {
    GuidingQuestions,
    References,
    Search,
    NotFound,
}

/// Every file of the site that `Renderer::files` makes through a template, in a stable order.
pub fn renderings(site: &Site) -> Vec<Rendering<'_>> {
    let mut renderings: Vec<Rendering> =
        site.pages.iter().enumerate().map(|(index, page)| Rendering::Page(index, page)).collect();
    for language in &site.languages {
        for kind in
            [GeneratedKind::GuidingQuestions, GeneratedKind::References, GeneratedKind::Search, GeneratedKind::NotFound]
        {
            renderings.push(Rendering::Generated(language, kind));
        }
    }
    renderings.push(Rendering::LanguagePicker);
    renderings.push(Rendering::RootNotFound);
    renderings
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
    pub fn slug(self) -> &'static str {
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
    pub fn new(site: &'a Site, sources: &'a RenderedSources, templates: &'a Templates) -> Self {
        let objectives = site.languages.iter().map(|l| (&l.code, site.objectives_in(&l.code))).collect();
        let mut alternates: BTreeMap<&str, Vec<(&LangCode, &UrlPath)>> = BTreeMap::new();
        for page in &site.pages {
            alternates.entry(page.key.as_str()).or_default().push((&page.lang, &page.url));
        }
        Self { site, sources, templates, objectives, alternates }
    }

    /// Renders the files of `wanted` in parallel, collecting every error: one per
    /// rendering, in the same order, with the asset URLs it holds (which watch mode
    /// rewrites when asset names change). A clean build wants all of `renderings(site)`;
    /// watch mode (`build::Rebuilder`) only those it has not kept from an earlier build,
    /// and relies on this contract: a rendering's output depends on the site's outline
    /// (every page's front matter, URL and translation state, the UI strings, config,
    /// templates), on asset names only through the URLs the templates' `asset` wrote
    /// (`AssetLinks`), and on Markdown only as follows: a page on its own source's, a
    /// language's references page on its pages' (their footnotes). Never on another
    /// page's text otherwise.
    pub fn files(&self, wanted: &[Rendering]) -> Result<Vec<(OutputFile, AssetLinks)>, Vec<RenderError>> {
        every_one(wanted.par_iter().map(|rendering| self.render(rendering)).collect())
    }

    /// The sitemap and robots.txt, which read the site's outline only.
    pub fn site_maps(&self) -> Vec<OutputFile> {
        vec![OutputFile::new("sitemap.xml", self.sitemap()), OutputFile::new("robots.txt", self.robots())]
    }

    fn render(&self, rendering: &Rendering) -> Result<(OutputFile, AssetLinks), RenderError> {
        match rendering {
            Rendering::Page(_, page) => self.render_page(page),
            Rendering::Generated(language, kind) => self.render_generated(language, *kind),
            Rendering::LanguagePicker => self.render_language_picker(),
            Rendering::RootNotFound => self
                .render_generated(self.site.default_lang(), GeneratedKind::NotFound)
                .map(|(file, assets)| (OutputFile::new("404.html", file.bytes), assets)),
        }
    }

    fn link(&self, url: &UrlPath) -> String {
        self.site.base_url.link(url.as_str())
    }

    fn objective_view(&self, page: &Page) -> ObjectiveView {
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

    fn questions(&self, page: &Page) -> Vec<QuestionView> {
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

    fn common(&self, language: &'a Language, key: Option<&str>) -> Common<'a> {
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
    fn render_template(
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

    fn render_page(&self, page: &'a Page) -> Result<(OutputFile, AssetLinks), RenderError> {
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
            date: source.front.date.and_then(|d| d.date).map(|d| DateView {
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

    fn language(&self, code: &LangCode) -> &'a Language {
        self.site.language(code).unwrap_or(self.site.default_lang())
    }

    fn render_generated(
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
        let mut by_url: HashMap<&str, usize> = HashMap::new();
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
            for footnote in &self.sources.get(page.source).footnotes {
                let citations = footnote.reference_ids.iter().map(|id| CitationView {
                    title: title.clone(),
                    url: format!("{}#{id}", self.link(&page.url)),
                    number: footnote.number,
                });
                let existing = footnote.url.as_deref().and_then(|url| by_url.get(url).copied());
                match existing {
                    Some(index) => references[index].citations.extend(citations),
                    None => {
                        if let Some(url) = footnote.url.as_deref() {
                            by_url.insert(url, references.len());
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

    fn render_language_picker(&self) -> Result<(OutputFile, AssetLinks), RenderError> {
        let default = self.site.default_lang();
        let context = minijinja::context! {
            title => self.site.config.title,
            default_lang => default.code.as_str(),
            base_path => self.site.base_url.path,
            ..Value::from_serialize(self.common(default, None))
        };
        self.render_template(LANGUAGE_PICKER_TEMPLATE, &context, "index.html".into(), "/")
    }

    fn sitemap(&self) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
        );
        let mut entries: Vec<(String, &UrlPath)> = self.site.pages.iter().map(|p| (p.key.clone(), &p.url)).collect();
        let generated: Vec<(String, UrlPath)> = self
            .site
            .languages
            .iter()
            .flat_map(|l| {
                [GeneratedKind::GuidingQuestions, GeneratedKind::References]
                    .map(|k| (format!("\0{}", k.slug()), UrlPath::page([l.code.as_str(), k.slug()])))
            })
            .collect();
        entries.extend(generated.iter().map(|(k, u)| (k.clone(), u)));
        let mut groups: BTreeMap<&str, Vec<&UrlPath>> = BTreeMap::new();
        for (key, url) in &entries {
            groups.entry(key.as_str()).or_default().push(url);
        }
        for (key, url) in &entries {
            xml.push_str(&format!(
                "  <url>\n    <loc>{}</loc>\n",
                xml_escape(&self.site.base_url.absolute(url.as_str()))
            ));
            for alternate in groups.get(key.as_str()).map(Vec::as_slice).unwrap_or_default() {
                let lang = alternate.as_str().trim_start_matches('/').split('/').next().unwrap_or_default();
                xml.push_str(&format!(
                    "    <xhtml:link rel=\"alternate\" hreflang=\"{lang}\" href=\"{}\"/>\n",
                    xml_escape(&self.site.base_url.absolute(alternate.as_str()))
                ));
            }
            xml.push_str("  </url>\n");
        }
        xml.push_str("</urlset>\n");
        xml
    }

    fn robots(&self) -> String {
        format!("User-agent: *\nAllow: /\n\nSitemap: {}\n", self.site.base_url.absolute("/sitemap.xml"))
    }
}

fn kind_name(kind: PageKind) -> &'static str {
    match kind {
        PageKind::Home => "home",
        PageKind::Objective => "objective",
        PageKind::Page => "page",
    }
}

fn xml_escape(text: &str) -> String {
    crate::html::escape_html(text)
}
