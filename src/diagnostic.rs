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

/// The location of a TOML error whose text starts at `first_line` of `path`.
pub fn toml_location(path: &Path, text: &str, error: &toml::de::Error, first_line: usize) -> Location {
    match error.span() {
        Some(span) => Location::of_offset(path, text, span.start, first_line),
        None => Location::file(path),
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
}
