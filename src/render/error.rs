//! What rendering reports when it fails (`RenderError`), and how a parallel run collects
//! every error instead of stopping at the first (`every_one`). Renders nothing itself.

use crate::diagnostic::Location;
use crate::templates::TemplateError;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{location}: {message}")]
    Markdown { location: Location, message: String },
    #[error("{source} (while making the page {page})")]
    Template { page: String, source: TemplateError },
}

/// Every result, or every error among them.
pub(super) fn every_one<T>(results: Vec<Result<T, RenderError>>) -> Result<Vec<T>, Vec<RenderError>> {
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
