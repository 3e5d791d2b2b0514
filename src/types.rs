//! Small value types that carry meaning through the pipeline: a language code, an
//! objective number, a site-relative URL path. Each validates on construction, so the
//! rest of the code can rely on the invariant without re-checking.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A BCP 47 language tag in its canonical case, restricted to the shapes a site uses:
/// `language[-Script][-REGION]`, for example `en`, `zh-Hant`, `pt-BR`, `es-419`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct LangCode(String);

impl LangCode {
    /// Parses a tag, accepting any letter case and returning it in canonical case
    /// (`ZH-hant` becomes `zh-Hant`). Returns a description of the problem otherwise.
    pub fn parse(tag: &str) -> Result<Self, String> {
        let mut parts = tag.split('-');
        let language = parts.next().unwrap_or_default();
        if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "`{tag}` is not a language code: it must start with a 2 or 3 letter language (BCP 47, e.g. `en`, `zh-Hant`, `pt-BR`)"
            ));
        }
        let mut canonical = language.to_ascii_lowercase();
        let mut seen_script = false;
        let mut seen_region = false;
        for part in parts {
            let is_script = part.len() == 4 && part.chars().all(|c| c.is_ascii_alphabetic());
            let is_region = (part.len() == 2 && part.chars().all(|c| c.is_ascii_alphabetic()))
                || (part.len() == 3 && part.chars().all(|c| c.is_ascii_digit()));
            if is_script && !seen_script && !seen_region {
                seen_script = true;
                canonical.push('-');
                canonical.push_str(&part[..1].to_ascii_uppercase());
                canonical.push_str(&part[1..].to_ascii_lowercase());
            } else if is_region && !seen_region {
                seen_region = true;
                canonical.push('-');
                canonical.push_str(&part.to_ascii_uppercase());
            } else {
                return Err(format!(
                    "`{tag}` is not a supported language code: `{part}` is neither a script (4 letters, e.g. `Hant`) nor a region (2 letters or 3 digits, e.g. `BR`, `419`)"
                ));
            }
        }
        Ok(Self(canonical))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag (`pt` for `pt-BR`), used for language-specific text
    /// processing such as plural rules and stemming.
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

/// A code is its canonical text: maps keyed by `LangCode` can be searched with a `&str`
/// (the derived `Eq`, `Ord` and `Hash` are those of the text).
impl std::borrow::Borrow<str> for LangCode {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LangCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LangCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        LangCode::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The number of a GCM objective: the Compact has 23.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectiveNumber(u8);

impl ObjectiveNumber {
    pub const MAX: u8 = 23;

    pub fn new(number: i64) -> Result<Self, String> {
        match u8::try_from(number) {
            Ok(n) if (1..=Self::MAX).contains(&n) => Ok(Self(n)),
            _ => Err(format!("objective {number} does not exist: GCM objectives are numbered 1 to {}", Self::MAX)),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for ObjectiveNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Written as the whole number it is read as (`i64`): an encoding that is not
/// self-describing, such as the build cache's, reads back only what was written.
impl Serialize for ObjectiveNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(i64::from(self.0))
    }
}

impl<'de> Deserialize<'de> for ObjectiveNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = i64::deserialize(deserializer)?;
        ObjectiveNumber::new(raw).map_err(serde::de::Error::custom)
    }
}

/// A path from the site's root, always starting and ending with `/` for pages
/// (`/en/objective-14/`) or naming a file (`/sitemap.xml`). It never holds the base
/// URL's own path: that prefix is added when a link is written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct UrlPath(String);

impl UrlPath {
    /// A directory-style page URL made of the given segments: `["en", "objective-14"]`
    /// gives `/en/objective-14/`.
    pub fn page<'a>(segments: impl IntoIterator<Item = &'a str>) -> Self {
        let mut path = String::from("/");
        for segment in segments {
            if segment.is_empty() {
                continue;
            }
            path.push_str(segment);
            path.push('/');
        }
        Self(path)
    }

    /// A file at the given path from the site root (`sitemap.xml` gives `/sitemap.xml`).
    pub fn file(path: &str) -> Self {
        Self(format!("/{}", path.trim_start_matches('/')))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where this URL's file lives inside the output directory: `en/objective-14/index.html`.
    pub fn output_file(&self) -> String {
        let trimmed = self.0.trim_start_matches('/');
        if trimmed.is_empty() || trimmed.ends_with('/') { format!("{trimmed}index.html") } else { trimmed.to_string() }
    }
}

impl fmt::Display for UrlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes_are_canonicalised() {
        for (raw, canonical) in [
            ("en", "en"),
            ("EN", "en"),
            ("zh-hant", "zh-Hant"),
            ("pt-br", "pt-BR"),
            ("es-419", "es-419"),
            ("sr-latn-rs", "sr-Latn-RS"),
        ] {
            assert_eq!(LangCode::parse(raw).map(|c| c.0), Ok(canonical.to_string()));
        }
    }

    #[test]
    fn malformed_language_codes_are_rejected() {
        for raw in ["", "e", "english", "en_US", "en-", "en-USA1", "en-US-GB", "1a", "fr-Latn-Latn"] {
            assert!(LangCode::parse(raw).is_err(), "{raw} should be rejected");
        }
    }

    #[test]
    fn objective_numbers_are_bounded() {
        assert!(ObjectiveNumber::new(0).is_err());
        assert!(ObjectiveNumber::new(24).is_err());
        assert_eq!(ObjectiveNumber::new(23).map(|n| n.get()), Ok(23));
    }

    #[test]
    fn url_paths_map_to_output_files() {
        assert_eq!(UrlPath::page(["en", "objective-14"]).as_str(), "/en/objective-14/");
        assert_eq!(UrlPath::page(["en", "objective-14"]).output_file(), "en/objective-14/index.html");
        assert_eq!(UrlPath::page([]).output_file(), "index.html");
        assert_eq!(UrlPath::file("sitemap.xml").output_file(), "sitemap.xml");
    }
}
