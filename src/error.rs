//! The top-level error of a build: one variant per stage, each wrapping that stage's
//! own error enum (`ConfigError`, `ContentError`, ...), so that `main` can print one
//! chain and choose the exit code. Only this module and the commands that run whole
//! builds import it; stages import `diagnostic` instead.

use crate::diagnostic::join_lines;

/// Everything that can stop a build, one variant per stage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Load(#[from] crate::site::LoadError),
    #[error(transparent)]
    Theme(#[from] crate::templates::TemplateError),
    #[error(transparent)]
    Assets(#[from] crate::assets::AssetError),
    #[error("{}", join_lines(.0))]
    Render(Vec<crate::render::RenderError>),
    #[error(transparent)]
    Pdf(#[from] crate::pdf::PdfError),
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
}
