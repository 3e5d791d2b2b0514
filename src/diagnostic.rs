//! The shared vocabulary of diagnostics, below every stage: where in a source file a
//! problem is (`Location`) and what a build tells without stopping (`Warning`). Each
//! stage's own error type carries these; `error` gathers the stages' errors for `main`.
//! Imports nothing of the crate, so any stage can use it.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in a source file a problem is: the file, and the line and column when the
/// parser that found it knows them (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    pub fn file(path: &Path) -> Self {
        Self { path: path.to_path_buf(), line: None, column: None }
    }

    pub fn at(path: &Path, line: usize, column: usize) -> Self {
        Self { path: path.to_path_buf(), line: Some(line), column: Some(column) }
    }

    /// The location of byte `offset` in `text`, where `text` itself starts at
    /// `first_line` of the file (for a body that follows front matter).
    pub fn of_offset(path: &Path, text: &str, offset: usize, first_line: usize) -> Self {
        let before = &text[..floor_char_boundary(text, offset)];
        let line = first_line + before.matches('\n').count();
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Self::at(path, line, column)
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

/// Something worth telling the user that does not stop the build, such as a missing
/// translation. Kept sorted so that output is stable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "warning: {}", self.message)
    }
}

/// Where a TOML error is, and what it means for the person who wrote the file: the
/// parser's own words ("invalid type: string \"a\", expected i64") are for
/// programmers, so the common ones are said again with the key they are about.
pub fn toml_problem(path: &Path, text: &str, error: &toml::de::Error, first_line: usize) -> (Location, String) {
    // A missing key has no place in the file: the parser's span is the whole table.
    let missing = error.message().starts_with("missing field");
    let location = match error.span().filter(|_| !missing) {
        Some(span) => Location::of_offset(path, text, span.start, first_line),
        None => Location::file(path),
    };
    let key = error.span().and_then(|span| key_at(text, span.start));
    (location, explain_toml(error.message().trim(), key.as_deref()))
}

/// The key a TOML line sets, for the error at byte `offset` (`weight` in `weight = "x"`).
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text[..floor_char_boundary(text, offset)].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.rsplit('.').next().unwrap_or(key).trim().to_string())
}

fn explain_toml(message: &str, key: Option<&str>) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        return unknown_key(rest);
    }
    if message.starts_with("invalid basic string") {
        return "this text in double quotes has no closing `\"` on its line".to_string();
    }
    if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`')) {
        return format!("`{field}` is missing: it is required here, so add a line `{field} = ...`");
    }
    if let (Some(rest), Some(key)) = (message.strip_prefix("invalid type: "), key) {
        if let Some((found, expected)) = rest.split_once(", expected ") {
            if let Some(wanted) = wanted_kind(expected, key) {
                return format!("`{key}` must be {wanted} (found {found})");
            }
        }
    }
    message.to_string()
}

/// What a serde type name asks of the person writing the value.
fn wanted_kind(expected: &str, key: &str) -> Option<String> {
    let integer = ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize", "an integer"];
    if integer.contains(&expected) {
        Some(format!("a whole number, like `{key} = 3`"))
    } else if expected == "a boolean" {
        Some(format!("`true` or `false`, like `{key} = true`"))
    } else if expected == "a string" {
        Some(format!("text in double quotes, like `{key} = \"...\"`"))
    } else if expected == "a sequence" {
        Some(format!("a list in square brackets, like `{key} = [\"...\"]`"))
    } else {
        None
    }
}

/// "unknown field `titre`, expected one of `title`, `kind`" (after its first backquote),
/// said with the nearest known key.
fn unknown_key(rest: &str) -> String {
    let (key, known) = rest.split_once('`').map_or((rest, ""), |(key, after)| (key, after));
    let known: Vec<&str> = known.split('`').skip(1).step_by(2).collect();
    let nearest = known
        .iter()
        .map(|candidate| (strsim::damerau_levenshtein(key, candidate), *candidate))
        .filter(|&(distance, candidate)| distance <= 2.max(candidate.chars().count() / 3))
        .min();
    match nearest {
        Some((_, candidate)) => format!("unknown key `{key}`: did you mean `{candidate}`?"),
        None if known.is_empty() => format!("unknown key `{key}`"),
        None => format!(
            "unknown key `{key}`: the keys allowed here are {}",
            known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// One message per line, for the errors a stage collects before it stops.
pub fn join_lines<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_lines_and_columns() {
        let text = "first\nsecond line\nthird";
        let path = Path::new("a.md");
        assert_eq!(Location::of_offset(path, text, 0, 5).to_string(), "a.md:5:1");
        assert_eq!(Location::of_offset(path, text, 13, 5).to_string(), "a.md:6:8");
        assert_eq!(Location::of_offset(path, text, 18, 1).to_string(), "a.md:3:1");
    }

    fn problem(text: &str) -> String {
        let error = toml::from_str::<Sample>(text).unwrap_err();
        let (location, message) = toml_problem(Path::new("a.toml"), text, &error, 1);
        format!("{location}: {message}")
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        title: String,
        weight: Option<i64>,
        draft: Option<bool>,
        short_label: Option<String>,
    }

    #[test]
    fn toml_errors_are_said_for_people() {
        assert_eq!(
            problem("title = \"A\"\nweight = \"heavy\"\n"),
            "a.toml:2:10: `weight` must be a whole number, like `weight = 3` (found string \"heavy\")"
        );
        assert_eq!(
            problem("title = \"A\"\ndraft = 1\n"),
            "a.toml:2:9: `draft` must be `true` or `false`, like `draft = true` (found integer `1`)"
        );
        assert_eq!(
            problem("title = 3\n"),
            "a.toml:1:9: `title` must be text in double quotes, like `title = \"...\"` (found integer `3`)"
        );
        assert_eq!(problem("titre = \"A\"\n"), "a.toml:1:1: unknown key `titre`: did you mean `title`?");
        assert_eq!(
            problem("title = \"A\"\nshort_lable = \"S\"\n"),
            "a.toml:2:1: unknown key `short_lable`: did you mean `short_label`?"
        );
        assert_eq!(
            problem("title = \"A\"\ncolour = 1\n"),
            "a.toml:2:1: unknown key `colour`: the keys allowed here are `title`, `weight`, `draft`, `short_label`"
        );
        assert_eq!(
            problem("weight = 3\n"),
            "a.toml: `title` is missing: it is required here, so add a line `title = ...`"
        );
    }
}
