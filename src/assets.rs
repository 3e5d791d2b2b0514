//! The theme's assets: each top-level stylesheet in `css/` bundled (its `@import`s
//! inlined) and minified by lightningcss, each script in `js/`, both published under
//! content-hashed names so browsers can cache them forever; and `static/` copied as is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lightningcss::bundler::{Bundler, FileProvider};
use lightningcss::stylesheet::{MinifyOptions, ParserOptions, PrinterOptions};

use crate::error::Location;
use crate::output::OutputFile;

#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("{path}: cannot read: {source}", path = .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{location}: {message}")]
    Css { location: Location, message: String },
}

/// The published asset files and the map from logical name (`main.css`) to URL path.
#[derive(Debug, Default)]
pub struct Assets {
    pub files: Vec<OutputFile>,
    pub names: BTreeMap<String, String>,
}

pub fn build(theme_dir: &Path) -> Result<Assets, AssetError> {
    let mut assets = Assets::default();
    for path in files_in(&theme_dir.join("css"), false)? {
        let name = file_name(&path);
        if name.starts_with('_') || !name.ends_with(".css") {
            continue;
        }
        let css = bundle_css(&path)?;
        assets.add_hashed(&name, css.into_bytes());
    }
    for path in files_in(&theme_dir.join("js"), false)? {
        let bytes = std::fs::read(&path).map_err(|source| AssetError::Read { path: path.clone(), source })?;
        assets.add_hashed(&file_name(&path), bytes);
    }
    let static_dir = theme_dir.join("static");
    for path in files_in(&static_dir, true)? {
        let bytes = std::fs::read(&path).map_err(|source| AssetError::Read { path: path.clone(), source })?;
        let relative = path.strip_prefix(&static_dir).unwrap_or(&path);
        let relative = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        assets.names.insert(relative.clone(), format!("/{relative}"));
        assets.files.push(OutputFile::new(relative, bytes));
    }
    Ok(assets)
}

impl Assets {
    fn add_hashed(&mut self, name: &str, bytes: Vec<u8>) {
        let hash = &blake3::hash(&bytes).to_hex()[..10];
        let (stem, extension) = name.rsplit_once('.').unwrap_or((name, ""));
        let published = format!("assets/{stem}.{hash}.{extension}");
        self.names.insert(name.to_string(), format!("/{published}"));
        self.files.push(OutputFile::new(published, bytes));
    }
}

/// Bundles and minifies one stylesheet.
pub fn bundle_css(path: &Path) -> Result<String, AssetError> {
    let provider = FileProvider::new();
    let mut bundler = Bundler::new(&provider, None, ParserOptions::default());
    let mut stylesheet = bundler.bundle(path).map_err(|error| css_error(path, &error.to_string(), error.loc))?;
    stylesheet.minify(MinifyOptions::default()).map_err(|error| css_error(path, &error.to_string(), error.loc))?;
    let printed = stylesheet
        .to_css(PrinterOptions { minify: true, ..PrinterOptions::default() })
        .map_err(|error| css_error(path, &error.to_string(), error.loc))?;
    Ok(printed.code)
}

fn css_error(path: &Path, message: &str, location: Option<lightningcss::error::ErrorLocation>) -> AssetError {
    let location = match location {
        // lightningcss counts lines from 0 and columns from 1.
        Some(at) => Location::at(Path::new(&at.filename), at.line as usize + 1, at.column as usize),
        None => Location::file(path),
    };
    AssetError::Css { location, message: message.to_string() }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The files in `dir` (recursively if asked), sorted; none if `dir` does not exist.
fn files_in(dir: &Path, recursive: bool) -> Result<Vec<PathBuf>, AssetError> {
    let mut found = Vec::new();
    if !dir.is_dir() {
        return Ok(found);
    }
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries =
            std::fs::read_dir(&current).map_err(|source| AssetError::Read { path: current.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| AssetError::Read { path: current.clone(), source })?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if path.is_dir() {
                if recursive {
                    pending.push(path);
                }
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}
