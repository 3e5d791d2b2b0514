//! How the command line shows what went wrong: for people, each error and warning with
//! the offending line and a caret under its column (annotate-snippets, as rustc does),
//! coloured only on a terminal and never when `NO_COLOR` is set; for editors and CI,
//! one JSON object per line (`--message-format json`). Owns the shape of a
//! `Diagnostic` taken from an error or warning; decides nothing about what is wrong.

use std::cell::Cell;
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
use serde::Serialize;

use crate::diagnostic::{Location, Warning};
use crate::error::Error;
use crate::site::LoadError;

/// At most this many errors are shown from one run; the rest are counted.
pub const MAX_ERRORS_SHOWN: usize = 50;

/// At most this many messages of one run quote their line: a site with hundreds of
/// warnings reads better, and builds faster, with the rest on one line each.
pub const MAX_SNIPPETS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One thing to tell: how bad, where (when a file is to blame) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub location: Option<Location>,
    pub message: String,
}

impl Diagnostic {
    /// Reads `shown`, a message as the stages write it (`path:line:column: what`), back
    /// into its location and its words. Every stage puts a message's location first, so
    /// this is the one place that needs to know how a location is written.
    pub fn parse(severity: Severity, shown: &str) -> Self {
        for (at, _) in shown.match_indices(": ") {
            if let Some(location) = parse_location(&shown[..at]) {
                return Self { severity, location: Some(location), message: shown[at + 2..].to_string() };
            }
        }
        Self { severity, location: None, message: shown.to_string() }
    }

    pub fn of_warning(warning: &Warning) -> Self {
        Self::parse(Severity::Warning, &warning.message)
    }
}

/// `path:line:column`, `path:line`, or a path to a file or folder that exists.
fn parse_location(text: &str) -> Option<Location> {
    if text.contains(": ") || text.contains('\n') {
        return None;
    }
    let number = |s: &str| s.parse::<usize>().ok().filter(|n| *n > 0);
    if let Some((rest, last)) = text.rsplit_once(':').filter(|(rest, _)| !rest.is_empty()) {
        if let Some(last) = number(last) {
            return Some(match rest.rsplit_once(':').filter(|(path, _)| !path.is_empty()) {
                Some((path, line)) if number(line).is_some() => Location::at(Path::new(path), number(line)?, last),
                _ => Location { path: PathBuf::from(rest), line: Some(last), column: None },
            });
        }
    }
    existing(text)
}

fn existing(text: &str) -> Option<Location> {
    let path = PathBuf::from(text);
    (!text.is_empty() && !text.contains('\n') && path.exists()).then(|| Location::file(&path))
}

/// The diagnostics an error stands for: one per bad page or footnote when a stage
/// collected several, else one.
pub fn diagnostics_of(error: &anyhow::Error) -> Vec<Diagnostic> {
    let many: Option<Vec<String>> = if let Some(error) = error.downcast_ref::<Error>() {
        match error {
            Error::Load(LoadError::Content(errors)) => Some(errors.iter().map(ToString::to_string).collect()),
            Error::Render(errors) => Some(errors.iter().map(ToString::to_string).collect()),
            _ => None,
        }
    } else if let Some(LoadError::Content(errors)) = error.downcast_ref::<LoadError>() {
        Some(errors.iter().map(ToString::to_string).collect())
    } else {
        None
    };
    match many {
        Some(messages) => messages.iter().map(|m| Diagnostic::parse(Severity::Error, m)).collect(),
        None => vec![Diagnostic::parse(Severity::Error, &with_causes(error))],
    }
}

/// The error and its causes, each cause only when the message does not already say it
/// (most of our errors print their I/O cause themselves).
fn with_causes(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !message.contains(&cause) {
            message.push_str(": ");
            message.push_str(&cause);
        }
    }
    message
}

/// `--message-format`: for people, or one JSON object per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MessageFormat {
    #[default]
    Human,
    Json,
}

/// Writes diagnostics to standard error in the chosen format.
pub struct Reporter {
    format: MessageFormat,
    renderer: Renderer,
    snippets_left: Cell<usize>,
}

impl Reporter {
    pub fn new(format: MessageFormat) -> Self {
        let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let renderer = if colour { Renderer::styled() } else { Renderer::plain() };
        Self { format, renderer, snippets_left: Cell::new(MAX_SNIPPETS) }
    }

    pub fn warning(&self, warning: &Warning) {
        self.warnings(std::slice::from_ref(warning));
    }

    /// Every one of `warnings`, in order, written at once: standard error is not
    /// buffered, and a large site's thousands of warnings took a write each.
    pub fn warnings(&self, warnings: &[Warning]) {
        let shown: String =
            warnings.iter().map(|warning| format!("{}\n", self.render(&Diagnostic::of_warning(warning)))).collect();
        eprint!("{shown}");
    }

    /// Every diagnostic the error stands for, up to `MAX_ERRORS_SHOWN`, then how many
    /// more there were.
    pub fn error(&self, error: &anyhow::Error) {
        let diagnostics = diagnostics_of(error);
        // Editors and CI get every one; people the first ones, then a count.
        let shown = if self.format == MessageFormat::Json { diagnostics.len() } else { MAX_ERRORS_SHOWN };
        for diagnostic in diagnostics.iter().take(shown) {
            eprintln!("{}", self.render(diagnostic));
        }
        if diagnostics.len() > shown {
            let more = Diagnostic {
                severity: Severity::Error,
                location: None,
                message: format!("{} more errors not shown; fix these first", diagnostics.len() - MAX_ERRORS_SHOWN),
            };
            eprintln!("{}", self.render(&more));
        }
    }

    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        match self.format {
            MessageFormat::Human => {
                let left = self.snippets_left.get();
                let (shown, quoted) = human(&self.renderer, diagnostic, left > 0);
                if quoted {
                    self.snippets_left.set(left - 1);
                }
                shown
            }
            MessageFormat::Json => json(diagnostic),
        }
    }
}

/// `error: what`, then the line with a caret when the location has a line the file
/// still has and `quote` allows it; otherwise the location stays in front of the message.
/// Also says whether the line was quoted.
fn human(renderer: &Renderer, diagnostic: &Diagnostic, quote: bool) -> (String, bool) {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let Some(location) = &diagnostic.location else {
        return (format!("{}: {}", diagnostic.severity, diagnostic.message), false);
    };
    let Some((line, source)) = quote.then(|| source_line(location)).flatten() else {
        return (format!("{}: {location}: {}", diagnostic.severity, diagnostic.message), false);
    };
    let column = location.column.unwrap_or(1);
    let start = source.char_indices().nth(column.saturating_sub(1)).map_or(source.len(), |(i, _)| i);
    let end = source[start..].chars().next().map_or(start, |c| start + c.len_utf8());
    let path = location.path.display().to_string();
    let report = [level.primary_title(diagnostic.message.as_str()).element(
        Snippet::source(source.as_str())
            .line_start(line)
            .path(path.as_str())
            .annotation(AnnotationKind::Primary.span(start..end)),
    )];
    (renderer.render(&report).to_string(), true)
}

/// The text of the location's line, read from its file now.
fn source_line(location: &Location) -> Option<(usize, String)> {
    let line = location.line?;
    let bytes = std::fs::read(&location.path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let source = text.lines().nth(line - 1)?;
    Some((line, source.to_string()))
}

/// One line of JSON; its keys in alphabetical order.
fn json(diagnostic: &Diagnostic) -> String {
    let location = diagnostic.location.as_ref();
    serde_json::json!({
        "severity": diagnostic.severity,
        "message": diagnostic.message,
        "file": location.map(|l| l.path.display().to_string()),
        "line": location.and_then(|l| l.line),
        "column": location.and_then(|l| l.column),
    })
    .to_string()
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_read_back_into_location_and_words() {
        let d = Diagnostic::parse(Severity::Error, "site/content/en/a.md:3:10: `weight` must be a whole number");
        assert_eq!(d.location, Some(Location::at(std::path::Path::new("site/content/en/a.md"), 3, 10)));
        assert_eq!(d.message, "`weight` must be a whole number");
        let d = Diagnostic::parse(Severity::Warning, "fr: 2 translation(s) record no source version");
        assert_eq!((d.location, d.message.as_str()), (None, "fr: 2 translation(s) record no source version"));
        let d = Diagnostic::parse(Severity::Error, "Cargo.toml: cannot read: denied");
        assert_eq!(d.location, Some(Location::file(std::path::Path::new("Cargo.toml"))));
    }

    #[test]
    fn only_the_first_messages_quote_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("a.md");
        std::fs::write(&page, "+++\ntitle = 3\n+++\n").unwrap();
        let reporter = Reporter { snippets_left: Cell::new(1), ..Reporter::new(MessageFormat::Human) };
        let diagnostic = Diagnostic::parse(Severity::Warning, &format!("{}:2:9: odd", page.display()));
        let first = reporter.render(&diagnostic);
        assert!(first.contains("2 | title = 3"), "{first}");
        assert_eq!(reporter.render(&diagnostic), format!("warning: {}:2:9: odd", page.display()));
    }

    #[test]
    fn json_has_the_location_apart() {
        let d = Diagnostic::parse(Severity::Error, "a.md:3:10: bad: really");
        assert_eq!(json(&d), r#"{"column":10,"file":"a.md","line":3,"message":"bad: really","severity":"error"}"#);
        let d = Diagnostic::parse(Severity::Warning, "no file here");
        assert_eq!(
            json(&d),
            r#"{"column":null,"file":null,"line":null,"message":"no file here","severity":"warning"}"#
        );
    }
}
