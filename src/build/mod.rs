//! Runs the pipeline: load the site, render Markdown, load the theme, build assets,
//! render pages, and (for `build`) write the output. `check` runs the same steps
//! without the write (`render`), so the two cannot drift apart. Watch mode (`Rebuilder`)
//! runs the same steps too, remembering each stage's results by a hash of its inputs and
//! reusing them when a rebuild finds the inputs unchanged.
//!
//! The files, each below the ones it uses:
//! - `stages`: the options and the steps every build shares (`prepare`, link messages);
//! - `clean`: `build`, the one-shot build written batch by batch to the staging directory;
//! - `indexes`: `build`'s search indexes, reused, updated from the cache's, or made;
//! - `keys`: watch mode's memo keys, the hashes of each stage's inputs;
//! - `memo`: what watch mode remembers between builds, and `SharedFile`;
//! - `pdfs`: each language's PDF, and the downloads pages link to (with a memo of its own);
//! - `checks`: `build`'s alignment and glossary checks, each file's kept in the build cache;
//! - `link_checks`: `build`'s link and alternates checks, and what they read of each file;
//! - `remembered`: what `build` keeps in the build cache on disk, and reuses from it;
//! - `parts`: its large maps, saved in parts so that a build writes the parts it changed;
//! - `incremental`: `Rebuilder`, watch mode's two-phase builds over the memo;
//! - here: `render`, the whole site in memory for `check`.

mod checks;
mod clean;
mod incremental;
mod indexes;
mod keys;
mod known;
mod link_checks;
mod memo;
mod parts;
mod pdfs;
mod recalled;
mod remembered;
mod stages;

pub use clean::{BuildReport, build};
pub use incremental::{EarlyPages, Rebuilder, WatchedSite};
pub use memo::SharedFile;
pub use stages::{BuildOptions, Cache};

use incremental::{Terms, complete, render_loaded};
use memo::Memo;

use crate::diagnostic::Warning;
use crate::error::Error;
use crate::output::OutputFile;
use crate::site::{Site, SitePaths};

/// The site rendered in memory, ready to write.
pub struct RenderedSite {
    pub site: Site,
    pub files: Vec<OutputFile>,
    pub warnings: Vec<Warning>,
    /// Internal links that lead nowhere, and language alternates that lead nowhere or are
    /// not listed back: warnings for `build`, errors for `check`.
    pub link_problems: Vec<String>,
}

/// Loads and renders the whole site without writing anything: the site read from disk,
/// then watch mode's two phases with nothing remembered before.
pub fn render(options: &BuildOptions) -> Result<RenderedSite, Error> {
    let (site, warnings) = Site::load(SitePaths::new(&options.root), options.base_url.as_deref())?;
    let mut memo = Memo::default();
    let (pages, _) = render_loaded(site, warnings, &mut memo, &mut |_| {})?;
    let WatchedSite { site, files, warnings, link_problems } = complete(pages, &mut memo, Terms::Forget).check();
    // Without the memo's share of the files, their bytes move out without a copy.
    drop(memo);
    let mut files: Vec<OutputFile> =
        files.into_iter().map(|file| OutputFile { path: file.path.to_string(), bytes: file.bytes }).collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(RenderedSite { site, files, warnings, link_problems })
}
