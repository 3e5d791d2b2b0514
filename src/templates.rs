//! Loads a theme's minijinja templates and defines the functions they call: `t` and
//! `plural` for UI strings in the page's language, `url` for links under the base path,
//! `asset` for content-hashed asset names. Autoescape is on and undefined variables are
//! errors, so a template typo fails the build instead of printing nothing. A rendering
//! reports the asset URLs it wrote (`AssetLinks`), so that watch mode can bring a page
//! up to date with new asset names without rendering it again (`Templates::rebind`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use minijinja::value::{Kwargs, Object};
use minijinja::{Environment, ErrorKind, State, UndefinedBehavior, Value};

use crate::citation::{CitationConfig, CitationFormat, CitedPage};
use crate::html::escape_html;
use crate::i18n::Language;
use crate::types::LangCode;

/// Templates every theme must have, one per kind of page.
pub const REQUIRED_TEMPLATES: [&str; 8] = [
    "base.html",
    "home.html",
    "objective.html",
    "page.html",
    "guiding-questions.html",
    "references.html",
    "search.html",
    "404.html",
];

/// The root page that sends readers to their language.
pub const LANGUAGE_PICKER_TEMPLATE: &str = "language-picker.html";

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{path}: cannot read: {source}", path = .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: the theme has no template `{name}`", path = .dir.join(.name).display())]
    Missing { dir: PathBuf, name: String },
    // Not a `source`: `describe` already says everything minijinja's error would.
    #[error("{}", describe(.dir, .error))]
    Template { dir: PathBuf, error: Box<minijinja::Error> },
}

/// A minijinja error as `themes/x/templates/name.html:line: message`.
fn describe(dir: &Path, error: &minijinja::Error) -> String {
    let place = match (error.name(), error.line()) {
        (Some(name), Some(line)) => format!("{}:{line}", dir.join(name).display()),
        (Some(name), None) => dir.join(name).display().to_string(),
        _ => dir.display().to_string(),
    };
    let mut message = format!("{place}: {}", error.kind());
    if let Some(detail) = error.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    // An include nested fifty deep has fifty causes saying the same; the last one is
    // what went wrong.
    let mut root_cause = None;
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        root_cause = Some(inner);
        source = inner.source();
    }
    if let Some(cause) = root_cause {
        message.push_str(&format!(" ({cause})"));
    }
    message
}

impl TemplateError {
    pub fn from_minijinja(dir: &Path, error: minijinja::Error) -> Self {
        TemplateError::Template { dir: dir.to_path_buf(), error: Box::new(error) }
    }
}

/// What template functions need to know about the site.
pub struct TemplateGlobals {
    pub languages: BTreeMap<LangCode, Language>,
    pub base_path: String,
    /// Logical asset name (`main.css`) to its published path (`/assets/main.1a2b3c.css`).
    pub assets: BTreeMap<String, String>,
    /// `[citation]` of the site's config: the `citation` global, and what `cite` writes.
    pub citation: Option<CitationConfig>,
    /// `offline` of the site's config: whether pages offer to be read offline.
    pub offline: bool,
    /// Each language's downloads: the `downloads` global, by language code.
    pub downloads: BTreeMap<LangCode, Downloads>,
}

/// What a language offers to download, for the `downloads` global.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Downloads {
    /// The whole note as a PDF, when the site makes one.
    pub pdf: Option<Download>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Download {
    /// The link, under the base path.
    pub url: String,
    /// The absolute URL, for `citation_pdf_url`.
    pub absolute_url: String,
    /// The size in kilobytes (1,000 bytes), rounded up: what the link says.
    pub kilobytes: u64,
}

pub struct Templates {
    env: Environment<'static>,
    dir: PathBuf,
    globals: Arc<TemplateGlobals>,
    /// Whether `render` finds the asset URLs in its output (`AssetLinks`).
    find_asset_links: bool,
}

/// The asset URLs a rendering wrote, and where. Through `asset` is the only way a
/// template reads the asset names, so this is all a page's output depends on from them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetLinks {
    /// Each logical name the rendering passed to `asset`, by name, with the URL it got.
    urls: Vec<(String, String)>,
    /// Where the output holds the URLs `asset` returned: byte offset and place in `urls`,
    /// in order. `None` when they cannot be told from the rest of the output: a URL
    /// occurs more or fewer times than `asset` returned it (the page's text holds it too,
    /// or a template transformed it, or only tested it), or two occurrences overlap.
    places: Option<Vec<(usize, usize)>>,
}

/// The temp (per rendering, shared with included templates and macros) where `asset`
/// counts its calls.
const ASSET_CALLS: &str = "imrf-site.asset-calls";

/// Calls to `asset` during one rendering, by logical name.
#[derive(Debug, Default)]
struct AssetCalls(Mutex<BTreeMap<String, usize>>);

impl Object for AssetCalls {}

impl AssetCalls {
    fn record(&self, name: &str) {
        // A panic while holding the lock leaves a map that is still valid.
        let mut calls = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *calls.entry(name.to_string()).or_default() += 1;
    }

    /// The URLs `asset` returned, and where `html` holds them.
    fn links(&self, globals: &TemplateGlobals, html: &str) -> AssetLinks {
        let calls = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let urls: Vec<(String, String)> =
            calls.keys().filter_map(|name| Some((name.clone(), asset_url(globals, name)?))).collect();
        let counts: Vec<usize> = calls.values().copied().collect();
        let places = find_places(html, &urls, &counts);
        AssetLinks { urls, places }
    }
}

/// Where `html` holds each of `urls`, if each occurs exactly `counts` times and no two
/// occurrences overlap.
fn find_places(html: &str, urls: &[(String, String)], counts: &[usize]) -> Option<Vec<(usize, usize)>> {
    let mut places = Vec::new();
    for (index, ((_, url), count)) in urls.iter().zip(counts).enumerate() {
        let before = places.len();
        places.extend(html.match_indices(url.as_str()).map(|(at, _)| (at, index)));
        if places.len() - before != *count {
            return None;
        }
    }
    places.sort_unstable();
    let apart = places.windows(2).all(|pair| pair[0].0 + urls[pair[0].1].1.len() <= pair[1].0);
    apart.then_some(places)
}

impl Templates {
    /// Reads and compiles every template in `dir` once.
    pub fn load(dir: &Path, globals: TemplateGlobals) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".xml") {
                minijinja::AutoEscape::Html
            } else {
                minijinja::AutoEscape::None
            }
        });
        env.set_keep_trailing_newline(true);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        // minijinja's default escaper also turns `/` into `&#x2f;`; URLs read better without.
        env.set_formatter(|out, state, value| match (state.auto_escape(), value.as_str()) {
            (minijinja::AutoEscape::Html, Some(text)) if !value.is_safe() => {
                out.write_str(&escape_html(text)).map_err(minijinja::Error::from)
            }
            _ => minijinja::escape_formatter(out, state, value),
        });
        for (name, text) in read_templates(dir)? {
            env.add_template_owned(name, text).map_err(|e| TemplateError::from_minijinja(dir, e))?;
        }
        for name in REQUIRED_TEMPLATES.iter().chain([&LANGUAGE_PICKER_TEMPLATE]) {
            if env.get_template(name).is_err() {
                return Err(TemplateError::Missing { dir: dir.to_path_buf(), name: (*name).to_string() });
            }
        }
        let globals = Arc::new(globals);
        register_functions(&mut env, Arc::clone(&globals));
        Ok(Self { env, dir: dir.to_path_buf(), globals, find_asset_links: true })
    }

    /// These templates' `render` without `AssetLinks` (always the default, unknown):
    /// for a build that never rewrites its pages, finding them is a needless search of
    /// every page.
    pub fn without_asset_links(self) -> Self {
        Self { find_asset_links: false, ..self }
    }

    /// Renders, and tells which asset URLs the output holds.
    pub fn render(&self, name: &str, context: &Value) -> Result<(String, AssetLinks), TemplateError> {
        let error = |e| TemplateError::from_minijinja(&self.dir, e);
        let template = self.env.get_template(name).map_err(error)?;
        let captured = template.render_captured(context).map_err(error)?;
        let calls = captured.state().get_temp(ASSET_CALLS).and_then(|calls| calls.downcast_object::<AssetCalls>());
        let html = captured.into_output();
        let links =
            calls.filter(|_| self.find_asset_links).map(|calls| calls.links(&self.globals, &html)).unwrap_or_default();
        Ok((html, links))
    }

    /// Turns `html`, rendered when the assets had the URLs in `links`, into what
    /// rendering it with today's asset names gives, and updates `links`: the URLs that
    /// changed are replaced where `asset` wrote them. False, with nothing changed, when
    /// it cannot: an asset is gone, or a changed URL's places are not known (see
    /// `AssetLinks`); the page must be rendered again.
    pub fn rebind(&self, html: &mut Vec<u8>, links: &mut AssetLinks) -> bool {
        let mut now = Vec::with_capacity(links.urls.len());
        for (name, _) in &links.urls {
            match asset_url(&self.globals, name) {
                Some(url) => now.push(url),
                None => return false,
            }
        }
        if links.urls.iter().zip(&now).all(|((_, old), new)| old == new) {
            return true;
        }
        let Some(places) = &links.places else { return false };
        let mut rebound = Vec::with_capacity(html.len());
        let mut moved = Vec::with_capacity(places.len());
        let mut end = 0;
        for &(at, index) in places {
            let (Some(before), Some((_, old)), Some(new)) = (html.get(end..at), links.urls.get(index), now.get(index))
            else {
                return false;
            };
            rebound.extend_from_slice(before);
            moved.push((rebound.len(), index));
            rebound.extend_from_slice(new.as_bytes());
            end = at + old.len();
        }
        let Some(rest) = html.get(end..) else { return false };
        rebound.extend_from_slice(rest);
        *html = rebound;
        for ((_, url), new) in links.urls.iter_mut().zip(now) {
            *url = new;
        }
        links.places = Some(moved);
        true
    }
}

/// The templates in `dir`, sorted by name. Symbolic links must stay inside the theme.
fn read_templates(dir: &Path) -> Result<Vec<(String, String)>, TemplateError> {
    let theme_dir = dir.parent().unwrap_or(dir);
    let paths = crate::files::walk(dir, theme_dir, false)
        .map_err(|unreadable| TemplateError::Read { path: unreadable.path, source: unreadable.source })?;
    let mut templates = Vec::new();
    for path in paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if !(name.ends_with(".html") || name.ends_with(".xml") || name.ends_with(".txt")) {
            continue;
        }
        let text =
            crate::files::read_to_string(&path).map_err(|source| TemplateError::Read { path: path.clone(), source })?;
        templates.push((name, text));
    }
    templates.sort();
    Ok(templates)
}

fn register_functions(env: &mut Environment<'static>, globals: Arc<TemplateGlobals>) {
    let for_t = Arc::clone(&globals);
    env.add_function("t", move |state: &State, key: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
        let language = current_language(&for_t, state)?;
        let text = language
            .get(key)
            .ok_or_else(|| minijinja::Error::new(ErrorKind::UndefinedError, format!("no UI string `{key}` in i18n")))?;
        fill(text, &kwargs, language)
    });
    let for_plural = Arc::clone(&globals);
    env.add_function("plural", move |state: &State, key: &str, count: u64| -> Result<String, minijinja::Error> {
        let language = current_language(&for_plural, state)?;
        language
            .plural(key, count)
            .ok_or_else(|| minijinja::Error::new(ErrorKind::UndefinedError, format!("no plural `{key}` in i18n")))
    });
    let for_number = Arc::clone(&globals);
    env.add_function("number", move |state: &State, number: u64| -> Result<String, minijinja::Error> {
        Ok(current_language(&for_number, state)?.numbers.format(number))
    });
    env.add_global("citation", Value::from_serialize(&globals.citation));
    env.add_global("downloads", Value::from_serialize(&globals.downloads));
    env.add_global("offline", globals.offline);
    let for_cite = Arc::clone(&globals);
    env.add_function("cite", move |state: &State, format: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
        cite(&for_cite, state, format, &kwargs)
    });
    let for_url = Arc::clone(&globals);
    env.add_function("url", move |path: &str| under_base_path(&for_url, path));
    let for_asset = globals;
    env.add_function("asset", move |state: &State, name: &str| -> Result<String, minijinja::Error> {
        let url = asset_url(&for_asset, name).ok_or_else(|| {
            minijinja::Error::new(ErrorKind::UndefinedError, format!("the theme has no asset `{name}`"))
        })?;
        state.get_or_set_temp_object(ASSET_CALLS, AssetCalls::default).record(name);
        Ok(url)
    });
}

/// `cite(format, title=, url=, key=, container=, lang=)`: the page as BibTeX (`bibtex`),
/// RIS (`ris`) or CSL-JSON (`csl-json`); `container` is the note a page is part of, left
/// out for the note itself; `lang`, the language of the text, is the context's unless
/// given.
fn cite(globals: &TemplateGlobals, state: &State, format: &str, kwargs: &Kwargs) -> Result<String, minijinja::Error> {
    let invalid = |message: String| minijinja::Error::new(ErrorKind::InvalidOperation, message);
    let config = globals.citation.as_ref().ok_or_else(|| {
        invalid("`cite` needs a [citation] table in site/config.toml (test `citation` before calling it)".into())
    })?;
    let format = CitationFormat::named(format)
        .ok_or_else(|| invalid(format!("`cite` knows the formats bibtex, ris and csl-json, not `{format}`")))?;
    let title: String = kwargs.get("title")?;
    let url: String = kwargs.get("url")?;
    let key: String = kwargs.get("key")?;
    let container: Option<String> = kwargs.get("container")?;
    let lang: Option<String> = kwargs.get("lang")?;
    kwargs.assert_all_used()?;
    let lang = match &lang {
        Some(lang) => lang.as_str(),
        None => current_language(globals, state)?.code.as_str(),
    };
    let page = CitedPage { config, title: &title, container: container.as_deref(), url: &url, lang, key: &key };
    Ok(format.write(&page))
}

/// What `asset(name)` writes: the published path under the base path.
fn asset_url(globals: &TemplateGlobals, name: &str) -> Option<String> {
    globals.assets.get(name).map(|path| under_base_path(globals, path))
}

/// A site path (`/en/`) under the base path (`/docs/en/`).
fn under_base_path(globals: &TemplateGlobals, path: &str) -> String {
    format!("{}{}", globals.base_path, path.trim_start_matches('/'))
}

fn current_language<'a>(globals: &'a TemplateGlobals, state: &State) -> Result<&'a Language, minijinja::Error> {
    // The context's code was written from a `LangCode`, so it is canonical already: it is
    // looked up as it is, not parsed again on every call.
    let code = state
        .lookup("lang")
        .and_then(|lang| lang.get_attr("code").ok())
        .ok_or_else(|| minijinja::Error::new(ErrorKind::UndefinedError, "the template context has no `lang.code`"))?;
    code.as_str()
        .and_then(|code| globals.languages.get(code))
        .ok_or_else(|| minijinja::Error::new(ErrorKind::UndefinedError, format!("unknown language `{code}`")))
}

/// Replaces `{name}` placeholders with the keyword arguments given to `t`; whole
/// numbers are written the language's way (digits, grouping).
fn fill(text: &str, kwargs: &Kwargs, language: &Language) -> Result<String, minijinja::Error> {
    let mut filled = text.to_string();
    for name in kwargs.args() {
        let value: Value = kwargs.get(name)?;
        let shown = match u64::try_from(value.clone()) {
            Ok(number) if value.is_integer() => language.numbers.format(number),
            _ => value.to_string(),
        };
        filled = filled.replace(&format!("{{{name}}}"), &shown);
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Templates whose every page is `page`, with `main.css` published at `css` (or not
    /// at all), and a `part.txt` to include.
    fn templates(dir: &Path, page: &str, css: Option<&str>) -> Templates {
        for name in REQUIRED_TEMPLATES.iter().chain([&LANGUAGE_PICKER_TEMPLATE]) {
            std::fs::write(dir.join(name), page).unwrap();
        }
        std::fs::write(dir.join("part.txt"), "[{{ asset('main.css') }}]").unwrap();
        let mut assets = BTreeMap::from([("site.js".to_string(), "/assets/site.1111111111.js".to_string())]);
        assets.extend(css.map(|css| ("main.css".to_string(), css.to_string())));
        Templates::load(
            dir,
            TemplateGlobals {
                languages: BTreeMap::new(),
                base_path: "/base/".into(),
                assets,
                citation: None,
                downloads: BTreeMap::new(),
                offline: false,
            },
        )
        .unwrap()
    }

    const OLD: &str = "/assets/main.aaaaaaaaaa.css";
    const NEW: &str = "/assets/main.bbbbbbbbbb.css";

    /// Renders `page` with `text` in its context under the old URL of `main.css`, then
    /// rebinds it to the new one: the rebound page, or `None`, and the page rendered anew.
    fn rebound(page: &str, text: &str) -> (Option<String>, String) {
        let dir = tempfile::tempdir().unwrap();
        let context = minijinja::context! { text => text };
        let (html, mut links) = templates(dir.path(), page, Some(OLD)).render("page.html", &context).unwrap();
        let new = templates(dir.path(), page, Some(NEW));
        let mut bytes = html.into_bytes();
        let rebound = new.rebind(&mut bytes, &mut links).then(|| String::from_utf8(bytes).unwrap());
        let (fresh, fresh_links) = new.render("page.html", &context).unwrap();
        if rebound.is_some() {
            assert_eq!(links, fresh_links);
        }
        (rebound, fresh)
    }

    #[test]
    fn rebinding_rewrites_the_asset_urls_a_page_wrote() {
        let page = "<link href=\"{{ asset('main.css') }}\"><script src=\"{{ asset('site.js') }}\"></script>\
                    {% include 'part.txt' %}{{ text }}";
        let (rebound, fresh) = rebound(page, "text");
        assert_eq!(rebound.as_deref(), Some(fresh.as_str()));
        assert!(fresh.contains("/base/assets/main.bbbbbbbbbb.css"), "{fresh}");
    }

    #[test]
    fn rebinding_refuses_a_url_the_template_did_not_write_as_it_was() {
        for (page, text) in [
            // The page's text holds the old URL too.
            ("{{ asset('main.css') }} {{ text }}", "/base/assets/main.aaaaaaaaaa.css"),
            // A template that transforms the URL, or only tests it.
            ("{{ asset('main.css') | upper }}", ""),
            ("{% if 'aaaa' in asset('main.css') %}old{% endif %}", ""),
        ] {
            let (rebound, _) = rebound(page, text);
            assert_eq!(rebound, None, "{page}");
        }
    }

    #[test]
    fn rebinding_refuses_a_page_using_an_asset_that_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let page = "{{ asset('main.css') }}";
        let (html, mut links) =
            templates(dir.path(), page, Some(OLD)).render("page.html", &minijinja::context! {}).unwrap();
        let mut bytes = html.clone().into_bytes();
        assert!(!templates(dir.path(), page, None).rebind(&mut bytes, &mut links));
        assert_eq!(bytes, html.into_bytes(), "left as it was");
    }

    #[test]
    fn rebinding_again_finds_urls_that_moved() {
        let dir = tempfile::tempdir().unwrap();
        let page = "<link href=\"{{ asset('main.css') }}\"> {{ asset('site.js') }} {% include 'part.txt' %}";
        let context = minijinja::context! {};
        let render = |css| templates(dir.path(), page, Some(css)).render("page.html", &context).unwrap();
        let (html, mut links) = render(OLD);
        let mut bytes = html.into_bytes();
        for css in ["/main.css", NEW, "/a/much/longer/path/main.css", OLD] {
            assert!(templates(dir.path(), page, Some(css)).rebind(&mut bytes, &mut links), "{css}");
            let (fresh, fresh_links) = render(css);
            assert_eq!((String::from_utf8(bytes.clone()).unwrap(), &links), (fresh, &fresh_links), "{css}");
        }
    }

    #[test]
    fn rebinding_leaves_a_page_with_unchanged_urls_alone() {
        let (rebound, fresh) = rebound("{{ asset('site.js') }} {{ text }}", "/base/assets/main.aaaaaaaaaa.css");
        assert_eq!(rebound.as_deref(), Some(fresh.as_str()));
    }

    #[test]
    fn places_are_known_only_where_each_url_occurs_as_often_as_it_was_written() {
        let urls = |names: &[&str]| names.iter().map(|n| (n.to_string(), n.to_string())).collect::<Vec<_>>();
        assert_eq!(find_places("a b a", &urls(&["a", "b"]), &[2, 1]), Some(vec![(0, 0), (2, 1), (4, 0)]));
        assert_eq!(find_places("a b a", &urls(&["a"]), &[1]), None);
        assert_eq!(find_places("abc", &urls(&["ab", "bc"]), &[1, 1]), None, "overlapping");
    }
}
