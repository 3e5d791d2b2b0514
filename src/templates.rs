//! Loads a theme's minijinja templates and defines the functions they call: `t` and
//! `plural` for UI strings in the page's language, `url` for links under the base path,
//! `asset` for content-hashed asset names. Autoescape is on and undefined variables are
//! errors, so a template typo fails the build instead of printing nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::Kwargs;
use minijinja::{Environment, ErrorKind, State, UndefinedBehavior, Value};

use crate::i18n::Language;
use crate::markdown::escape_html;
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
    #[error("{}", describe(.dir, .source))]
    Template { dir: PathBuf, source: Box<minijinja::Error> },
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
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message.push_str(&format!(" ({inner})"));
        source = inner.source();
    }
    message
}

impl TemplateError {
    pub fn from_minijinja(dir: &Path, error: minijinja::Error) -> Self {
        TemplateError::Template { dir: dir.to_path_buf(), source: Box::new(error) }
    }
}

/// What template functions need to know about the site.
pub struct TemplateGlobals {
    pub languages: BTreeMap<LangCode, Language>,
    pub base_path: String,
    /// Logical asset name (`main.css`) to its published path (`/assets/main.1a2b3c.css`).
    pub assets: BTreeMap<String, String>,
}

pub struct Templates {
    env: Environment<'static>,
    dir: PathBuf,
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
        register_functions(&mut env, Arc::new(globals));
        Ok(Self { env, dir: dir.to_path_buf() })
    }

    pub fn render(&self, name: &str, context: &Value) -> Result<String, TemplateError> {
        let template = self.env.get_template(name).map_err(|e| TemplateError::from_minijinja(&self.dir, e))?;
        template.render(context).map_err(|e| TemplateError::from_minijinja(&self.dir, e))
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
    let for_url = Arc::clone(&globals);
    env.add_function("url", move |path: &str| format!("{}{}", for_url.base_path, path.trim_start_matches('/')));
    let for_asset = globals;
    env.add_function("asset", move |name: &str| -> Result<String, minijinja::Error> {
        let path = for_asset.assets.get(name).ok_or_else(|| {
            minijinja::Error::new(ErrorKind::UndefinedError, format!("the theme has no asset `{name}`"))
        })?;
        Ok(format!("{}{}", for_asset.base_path, path.trim_start_matches('/')))
    });
}

fn current_language<'a>(globals: &'a TemplateGlobals, state: &State) -> Result<&'a Language, minijinja::Error> {
    let code = state
        .lookup("lang")
        .and_then(|lang| lang.get_attr("code").ok())
        .and_then(|code| code.as_str().and_then(|c| LangCode::parse(c).ok()))
        .ok_or_else(|| minijinja::Error::new(ErrorKind::UndefinedError, "the template context has no `lang.code`"))?;
    globals
        .languages
        .get(&code)
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
