//! Loads `site/config.toml` into a typed `Config`. Unknown keys are errors, so a typo
//! never silently does nothing. Owns nothing else: languages are discovered by the
//! content and i18n loaders.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::citation::CitationConfig;
use crate::diagnostic::{Location, toml_problem};
use crate::types::LangCode;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The site's name in the default language (the root language picker's title).
    pub title: String,
    /// Where the site is published, e.g. `https://example.org/imrf/`.
    pub base_url: String,
    pub default_language: LangCode,
    /// A folder name under `themes/`.
    pub theme: String,
    /// Publish raw HTML in Markdown as written, scripts and all. Off by default: raw
    /// HTML goes through an allowlist sanitizer, so a page cannot run scripts.
    #[serde(default)]
    pub unsafe_html: bool,
    /// Publish the note as open data: `/<lang>/note.json` and its JSON Schema.
    #[serde(default)]
    pub open_data: bool,
    /// Offer readers a "Read offline" button: each language gets a service worker,
    /// `/<lang>/sw.js`, that keeps its pages for reading without a connection.
    #[serde(default)]
    pub offline: bool,
    /// How the pages are cited (`[citation]`); without it, pages carry no citation.
    #[serde(default)]
    pub citation: Option<CitationConfig>,
    /// The note as a PDF in each language (`[pdf]`); without it, no PDF is made.
    #[serde(default)]
    pub pdf: Option<PdfConfig>,
}

/// `[pdf]`: the PDF each language publishes at `/<lang>/<name>-<lang>.pdf`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PdfConfig {
    /// The file name before `-<lang>.pdf`: what a reader's download is called.
    #[serde(default = "default_pdf_name", deserialize_with = "file_name")]
    pub name: String,
    /// Folders searched for fonts, after the theme's own `fonts/` (relative to the root,
    /// or absolute). Debian's fonts live in `/usr/share/fonts`.
    #[serde(default = "default_font_dirs")]
    pub font_dirs: Vec<PathBuf>,
}

fn default_pdf_name() -> String {
    "note".to_string()
}

fn default_font_dirs() -> Vec<PathBuf> {
    vec![PathBuf::from("/usr/share/fonts")]
}

fn file_name<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let name = String::deserialize(deserializer)?;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if !name.is_empty() && name.chars().all(allowed) && !name.starts_with('.') {
        Ok(name)
    } else {
        Err(serde::de::Error::custom(format!(
            "`name` is the start of the PDF's file name, so it may hold only letters, digits, `-`, `_` and `.` (found \"{name}\")"
        )))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the site configuration: {source}", path = .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("{path}: base_url `{url}` must be an absolute http(s) URL such as https://example.org/ or https://example.org/imrf/", path = .path.display())]
    BaseUrl { path: PathBuf, url: String },
}

/// The base URL split into the origin and the path prefix every link starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `https://example.org` (no trailing slash).
    pub origin: String,
    /// `/` or `/imrf/`: always starts and ends with a slash.
    pub path: String,
}

impl BaseUrl {
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
        let scheme_len = url.len() - rest.len();
        let host_end = rest.find('/').unwrap_or(rest.len());
        if host_end == 0 || rest.contains(['?', '#', ' ']) {
            return None;
        }
        let origin = url[..scheme_len + host_end].to_string();
        let path = rest[host_end..].trim_matches('/');
        let path = if path.is_empty() { "/".to_string() } else { format!("/{path}/") };
        Some(Self { origin, path })
    }

    /// A link to `url` as written in pages: the base path followed by the site path.
    pub fn link(&self, url: &str) -> String {
        format!("{}{}", self.path, url.trim_start_matches('/'))
    }

    /// The absolute form of a site path, for the sitemap and canonical links.
    pub fn absolute(&self, url: &str) -> String {
        format!("{}{}", self.origin, self.link(url))
    }
}

impl Config {
    pub fn load(site_dir: &Path) -> Result<Self, ConfigError> {
        let path = site_dir.join("config.toml");
        let text =
            crate::files::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
        Self::parse(&text, &path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|error| {
            let (location, message) = toml_problem(path, text, &error, 1);
            ConfigError::Invalid { location, message }
        })?;
        config.base_url(path)?;
        config.check_theme(text, path)?;
        Ok(config)
    }

    /// The theme is a folder name under `themes/`: a path (`../x`, `/x`) could make the
    /// build read templates from anywhere.
    fn check_theme(&self, text: &str, path: &Path) -> Result<(), ConfigError> {
        let name = self.theme.as_str();
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains(['/', '\\'])
            && std::path::Path::new(name).components().count() == 1;
        if plain {
            return Ok(());
        }
        Err(ConfigError::Invalid {
            location: Location::of_offset(path, text, value_offset(text, "theme").unwrap_or(0), 1),
            message: format!("theme `{name}` must be the name of a folder in themes/, not a path"),
        })
    }

    pub fn base_url(&self, path: &Path) -> Result<BaseUrl, ConfigError> {
        BaseUrl::parse(&self.base_url)
            .ok_or_else(|| ConfigError::BaseUrl { path: path.to_path_buf(), url: self.base_url.clone() })
    }
}

/// The byte offset of the value of the top-level `key = value` line in `text`.
fn value_offset(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix(key).map(str::trim_start).and_then(|r| r.strip_prefix('=')) {
            let value = rest.trim_start();
            return Some(offset + line.len() - value.len());
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_split_into_origin_and_path() {
        let root = BaseUrl::parse("https://example.org").unwrap();
        assert_eq!((root.origin.as_str(), root.path.as_str()), ("https://example.org", "/"));
        let sub = BaseUrl::parse("https://example.org/imrf").unwrap();
        assert_eq!(sub.path, "/imrf/");
        assert_eq!(sub.link("/en/"), "/imrf/en/");
        assert_eq!(sub.absolute("/en/"), "https://example.org/imrf/en/");
        assert!(BaseUrl::parse("example.org").is_none());
        assert!(BaseUrl::parse("https:///x").is_none());
    }

    #[test]
    fn theme_must_be_a_folder_name() {
        let path = Path::new("site/config.toml");
        for theme in ["../../elsewhere", "/etc", "a/b", "..", "", "a\\\\b"] {
            let text = format!(
                "title = \"t\"\nbase_url = \"https://x.org/\"\ndefault_language = \"en\"\ntheme = \"{theme}\"\n"
            );
            let message = Config::parse(&text, path).unwrap_err().to_string();
            assert!(message.starts_with("site/config.toml:4:9: theme"), "{theme}: {message}");
        }
    }

    #[test]
    fn missing_and_unknown_keys_are_named() {
        let path = Path::new("site/config.toml");
        let missing = Config::parse("title = \"t\"\nbase_url = \"https://x.org/\"\ndefault_language = \"en\"\n", path);
        assert!(missing.unwrap_err().to_string().contains("`theme` is missing"));
        let unknown = Config::parse(
            "title = \"t\"\nbase_url = \"https://x.org/\"\ndefault_language = \"en\"\ntheme = \"default\"\ntheme_color = 1\n",
            path,
        );
        let message = unknown.unwrap_err().to_string();
        assert!(message.starts_with("site/config.toml:5:1"), "{message}");
        assert!(message.contains("theme_color"), "{message}");
    }
}
