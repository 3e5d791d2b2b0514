//! The theme's assets: each top-level stylesheet in `css/` bundled (its `@import`s
//! inlined) and minified by lightningcss, each script in `js/`, both published under
//! content-hashed names so browsers can cache them forever; and `static/` copied as is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lightningcss::bundler::{Bundler, ResolveResult, SourceProvider};
use lightningcss::stylesheet::{MinifyOptions, ParserOptions, PrinterOptions};

use crate::diagnostic::Location;
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
    let css_dir = theme_dir.join("css");
    let stylesheets = Stylesheets::load(&files_in(&css_dir, theme_dir, true)?)?;
    for path in files_in(&css_dir, theme_dir, false)? {
        let name = file_name(&path);
        if name.starts_with('_') || !name.ends_with(".css") {
            continue;
        }
        let css = bundle_css(&stylesheets, &path)?;
        assets.add_hashed(&name, css.into_bytes());
    }
    for path in files_in(&theme_dir.join("js"), theme_dir, false)? {
        let bytes = crate::files::read(&path).map_err(|source| AssetError::Read { path: path.clone(), source })?;
        assets.add_hashed(&file_name(&path), bytes);
    }
    let static_dir = theme_dir.join("static");
    for path in files_in(&static_dir, theme_dir, true)? {
        let bytes = crate::files::read(&path).map_err(|source| AssetError::Read { path: path.clone(), source })?;
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

/// Deeper nesting of blocks, parentheses or brackets than this is refused before
/// lightningcss sees it: its parser recurses, and a few hundred levels overflow the stack.
pub const MAX_CSS_NESTING: usize = 32;

/// Every stylesheet of the theme, read up front: the bundler may `@import` only these,
/// so an import cannot reach outside the theme's `css/` folder.
pub struct Stylesheets {
    /// By canonical path.
    texts: BTreeMap<PathBuf, String>,
}

impl Stylesheets {
    pub fn load(paths: &[PathBuf]) -> Result<Self, AssetError> {
        let mut texts = BTreeMap::new();
        for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "css")) {
            let read = |source| AssetError::Read { path: path.clone(), source };
            let text = crate::files::read_to_string(path).map_err(read)?;
            if let Some(offset) = too_deep(&text) {
                return Err(AssetError::Css {
                    location: Location::of_offset(path, &text, offset, 1),
                    message: format!(
                        "blocks, parentheses or brackets nested more than {MAX_CSS_NESTING} deep; flatten the stylesheet"
                    ),
                });
            }
            texts.insert(path.canonicalize().map_err(read)?, text);
        }
        Ok(Self { texts })
    }
}

impl SourceProvider for Stylesheets {
    type Error = std::io::Error;

    fn read<'a>(&'a self, file: &Path) -> Result<&'a str, Self::Error> {
        let canonical = file.canonicalize()?;
        self.texts.get(&canonical).map(String::as_str).ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{} is not a stylesheet in the theme's css/ folder", file.display()),
            )
        })
    }

    fn resolve(&self, specifier: &str, originating_file: &Path) -> Result<ResolveResult, Self::Error> {
        Ok(originating_file.with_file_name(specifier).into())
    }
}

/// The byte offset where `css` first opens more than [`MAX_CSS_NESTING`] nested
/// blocks, parentheses or brackets (outside comments and strings), if it does.
fn too_deep(css: &str) -> Option<usize> {
    let bytes = css.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = css[i + 2..].find("*/").map_or(bytes.len(), |end| i + 2 + end + 2);
                continue;
            }
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\\' => i += 1,
            b'{' | b'(' | b'[' => {
                depth += 1;
                if depth > MAX_CSS_NESTING {
                    return Some(i);
                }
            }
            b'}' | b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Bundles and minifies one stylesheet.
pub fn bundle_css(stylesheets: &Stylesheets, path: &Path) -> Result<String, AssetError> {
    let mut bundler = Bundler::new(stylesheets, None, ParserOptions::default());
    let mut stylesheet = bundler.bundle(path).map_err(|error| css_error(path, &error.kind.to_string(), error.loc))?;
    stylesheet.minify(MinifyOptions::default()).map_err(|error| css_error(path, &error.kind.to_string(), error.loc))?;
    let printed = stylesheet
        .to_css(PrinterOptions { minify: true, ..PrinterOptions::default() })
        .map_err(|error| css_error(path, &error.kind.to_string(), error.loc))?;
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
/// Symbolic links must stay inside the theme (see [`crate::files::walk`]).
fn files_in(dir: &Path, theme_dir: &Path, recursive: bool) -> Result<Vec<PathBuf>, AssetError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    crate::files::walk(dir, theme_dir, recursive)
        .map_err(|unreadable| AssetError::Read { path: unreadable.path, source: unreadable.source })
}
