//! Walks `site/content/<lang>/`, splits each Markdown file into TOML front matter and a
//! body, and checks the front matter. Owns the discovery of languages (a language is a
//! folder) and the `SourcePage` type; knows nothing of rendering.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::diagnostic::Location;
use crate::diagnostic::toml_problem;
use crate::files::Stamp;
use crate::types::{LangCode, ObjectiveNumber};

/// What a page is, which decides its template and where it appears.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PageKind {
    /// A language's home page (`_index.md`).
    Home,
    /// One GCM objective: listed on the home page, in navigation and in references.
    Objective,
    /// Any other page.
    #[default]
    Page,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GuidingQuestion {
    /// The anchor, the same in every language (`q-15-2`).
    pub id: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub title: String,
    #[serde(default)]
    pub kind: PageKind,
    pub objective: Option<ObjectiveNumber>,
    pub short_label: Option<String>,
    /// Sort order among siblings (objectives: their order on the home page).
    pub weight: Option<i64>,
    pub description: Option<String>,
    /// When the page was published: a TOML date such as `2022-05-17`.
    pub date: Option<PageDate>,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub questions: Vec<GuidingQuestion>,
    /// For a translation: the hash of the default-language source it translates,
    /// stamped by `imrf-site status --stamp`, never by hand.
    pub source_hash: Option<String>,
}

/// A page's publication date, a TOML date. The build cache's encoding (postcard) has no
/// TOML date, so there it is kept as the date's text, which reads back as the same date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageDate(pub toml::value::Datetime);

impl Serialize for PageDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            self.0.serialize(serializer)
        } else {
            serializer.serialize_str(&self.0.to_string())
        }
    }
}

impl<'de> Deserialize<'de> for PageDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            toml::value::Datetime::deserialize(deserializer).map(PageDate)
        } else {
            let text = String::deserialize(deserializer)?;
            text.parse().map(PageDate).map_err(serde::de::Error::custom)
        }
    }
}

/// A Markdown file as read from disk.
#[derive(Debug, Clone)]
pub struct SourcePage {
    pub lang: LangCode,
    /// Path inside the language folder with `/` separators: `objective-14.md`. Pages in
    /// different languages with the same key are translations of each other.
    pub key: String,
    pub path: PathBuf,
    pub front: FrontMatter,
    text: PageText,
    /// The file line on which the body starts, for error locations.
    pub body_line: usize,
    /// The file's stamp just before it was read; none for a page not read from a file.
    pub stamp: Option<Stamp>,
    /// The hash a translation of this page records in `source_hash`, made when first
    /// asked for (`blocks::content_hash`, which owns the rule): only originals with
    /// stamped translations need it.
    content_hash: OnceLock<String>,
}

/// A page's text: its front matter as written and its body.
#[derive(Debug, Clone)]
enum PageText {
    /// Read with the page; the hash of the text as written made when first asked for
    /// (the cache keys, the checks and the record the build keeps all read it).
    Read { front_text: String, body: String, written: OnceLock<[u8; 32]> },
    /// Not read: the build cache knew the file unchanged (`SourcePage::known`). Read
    /// when first asked for, and checked against the hash of the text the cache knew
    /// (`written`); a file that no longer has that text reads as empty, and says so
    /// (`SourcePage::text_problem`). Each read counts in `reads`.
    OnDemand { written: [u8; 32], read: OnceLock<Result<(String, String), String>>, reads: Arc<AtomicUsize> },
    /// Freed once nothing reads it (`SourcePage::release_text`).
    Released,
}

/// What the build cache keeps of a page it read, to publish the page again without
/// reading its file while the file keeps its stamp.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KnownPage {
    pub front: FrontMatter,
    pub body_line: usize,
    /// `SourcePage::written_hash`.
    pub written: [u8; 32],
    pub content_hash: Option<String>,
}

impl SourcePage {
    /// A page the build cache knew, as it knew it; its text is read only if asked for,
    /// and counted in `reads` then.
    pub fn known(
        lang: &LangCode,
        key: &str,
        path: &Path,
        stamp: Stamp,
        known: &KnownPage,
        reads: &Arc<AtomicUsize>,
    ) -> Self {
        let content_hash = OnceLock::new();
        if let Some(hash) = &known.content_hash {
            let _ = content_hash.set(hash.clone());
        }
        Self {
            lang: lang.clone(),
            key: key.to_string(),
            path: path.to_path_buf(),
            front: known.front.clone(),
            text: PageText::OnDemand { written: known.written, read: OnceLock::new(), reads: Arc::clone(reads) },
            body_line: known.body_line,
            stamp: Some(stamp),
            content_hash,
        }
    }

    /// What the build cache keeps of the page; `None` once its text is released, or
    /// when it could not be read as the cache knew it.
    pub fn to_known(&self) -> Option<KnownPage> {
        if self.text_problem().is_some() {
            return None;
        }
        Some(KnownPage {
            front: self.front.clone(),
            body_line: self.body_line,
            written: self.written_hash()?,
            content_hash: self.content_hash.get().cloned(),
        })
    }

    /// The Markdown after the front matter.
    pub fn body(&self) -> &str {
        self.text().map_or("", |(_, body)| body)
    }

    /// The front matter as written (the TOML between the `+++` lines, from the file's
    /// second line), for the checks that read the file as a person wrote it.
    pub fn front_text(&self) -> &str {
        self.text().map_or("", |(front_text, _)| front_text)
    }

    fn text(&self) -> Option<(&str, &str)> {
        match &self.text {
            PageText::Read { front_text, body, .. } => Some((front_text, body)),
            PageText::OnDemand { written, read, reads } => {
                let read = read.get_or_init(|| {
                    reads.fetch_add(1, Ordering::Relaxed);
                    read_known_text(&self.path, written)
                });
                read.as_ref().ok().map(|(front_text, body)| (front_text.as_str(), body.as_str()))
            }
            PageText::Released => None,
        }
    }

    /// A hash of the text as written (front matter and body), or `None` once released.
    /// A page the build cache knew answers without reading its file.
    pub fn written_hash(&self) -> Option<[u8; 32]> {
        match &self.text {
            PageText::Read { front_text, body, written } => {
                Some(*written.get_or_init(|| written_hash(front_text, body)))
            }
            PageText::OnDemand { written, .. } => Some(*written),
            PageText::Released => None,
        }
    }

    /// Why the text of a page the build cache knew could not be read as it knew it (the
    /// file changed or went away after the build found it unchanged), once it was asked
    /// for: its text then read as empty, so the build must fail.
    pub fn text_problem(&self) -> Option<ContentError> {
        let PageText::OnDemand { read, .. } = &self.text else { return None };
        let problem = read.get()?.as_ref().err()?;
        Some(invalid(Location::file(&self.path), problem.clone()))
    }

    /// Frees the text once nothing reads it (see `Site::release_source_text`). A text
    /// that could not be read as the cache knew it holds none, and stays, so that the
    /// build still finds its problem.
    pub fn release_text(&mut self) {
        if self.text_problem().is_none() {
            self.text = PageText::Released;
        }
    }

    /// Where the page's content hash is kept once made.
    pub fn content_hash_slot(&self) -> &OnceLock<String> {
        &self.content_hash
    }
}

/// The hash of a page's text as written (`KnownPage::written`): what a page read on
/// demand must still be.
fn written_hash(front_text: &str, body: &str) -> [u8; 32] {
    crate::hashes::hash_parts(&[front_text.as_bytes(), body.as_bytes()])
}

/// The text of a page the build cache knew, read now: the front matter as written and
/// the body, if the file still has the text whose hash is `written`.
fn read_known_text(path: &Path, written: &[u8; 32]) -> Result<(String, String), String> {
    let changed =
        "the file changed while imrf-site was building (after the build cache found it unchanged); build again";
    let bytes = crate::files::read(path).map_err(|error| format!("cannot read: {error}"))?;
    let text = String::from_utf8(bytes).map_err(|_| changed.to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let (front_text, body, _) = split_front_matter(text).ok_or_else(|| changed.to_string())?;
    if written_hash(front_text, body) != *written {
        return Err(changed.to_string());
    }
    Ok((front_text.to_string(), body.to_string()))
}

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("{path}: cannot read: {source}", path = .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("{first} and {second} would both be published at {url}", first = .first.display(), second = .second.display())]
    DuplicateUrl { url: String, first: PathBuf, second: PathBuf },
}

fn invalid(location: Location, message: impl Into<String>) -> ContentError {
    ContentError::Invalid { location, message: message.into() }
}

/// The language folders under `content_dir`, sorted, each validated as a language code.
pub fn discover_languages(content_dir: &Path) -> Result<Vec<LangCode>, Vec<ContentError>> {
    let entries = std::fs::read_dir(content_dir)
        .map_err(|source| vec![ContentError::Read { path: content_dir.to_path_buf(), source }])?;
    let mut codes = Vec::new();
    let mut errors = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| vec![ContentError::Read { path: content_dir.to_path_buf(), source }])?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !path.is_dir() || name.starts_with('.') {
            continue;
        }
        match LangCode::parse(&name) {
            Ok(code) if code.as_str() == name => codes.push(code),
            Ok(code) => errors.push(invalid(
                Location::file(&path),
                format!("language folder `{name}` should be spelled `{code}` (BCP 47 canonical case)"),
            )),
            Err(message) => errors.push(invalid(Location::file(&path), message)),
        }
    }
    if errors.is_empty() {
        codes.sort();
        Ok(codes)
    } else {
        Err(errors)
    }
}

/// Every Markdown file under `lang_dir`, sorted by key so that the result does not
/// depend on the file system's order. Symbolic links are followed only inside `root`
/// (see [`crate::files::walk`]).
pub fn markdown_files(lang_dir: &Path, root: &Path) -> Result<Vec<(String, PathBuf)>, ContentError> {
    let paths = crate::files::walk(lang_dir, root, true)
        .map_err(|unreadable| ContentError::Read { path: unreadable.path, source: unreadable.source })?;
    let mut found = Vec::new();
    for path in paths {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.ends_with('~') || !name.ends_with(".md") {
            continue;
        }
        let relative = path.strip_prefix(lang_dir).unwrap_or(&path);
        let key = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        found.push((key, path));
    }
    found.sort();
    Ok(found)
}

/// Reads and parses one page.
pub fn load_page(lang: &LangCode, key: &str, path: &Path) -> Result<SourcePage, ContentError> {
    let (bytes, stamp) =
        crate::files::read_stamped(path).map_err(|source| ContentError::Read { path: path.to_path_buf(), source })?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let offset = error.utf8_error().valid_up_to();
        let valid = String::from_utf8_lossy(&error.as_bytes()[..offset]).into_owned();
        invalid(Location::of_offset(path, &valid, offset, 1), "the file is not valid UTF-8 (save it as UTF-8)")
    })?;
    let mut page = parse_page(lang, key, path, &text)?;
    page.stamp = Some(stamp);
    Ok(page)
}

/// Parses a page's text: `+++` front matter `+++`, then Markdown.
pub fn parse_page(lang: &LangCode, key: &str, path: &Path, text: &str) -> Result<SourcePage, ContentError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (front_text, body, body_line) = split_front_matter(text).ok_or_else(|| {
        let opened = text.lines().next().is_some_and(|line| line.trim_end() == "+++");
        let message = if opened {
            "the front matter opened here is never closed: add a line `+++` after its last key"
        } else {
            "a page must start with TOML front matter between two `+++` lines"
        };
        invalid(Location::at(path, 1, 1), message)
    })?;
    let front: FrontMatter = toml::from_str(front_text).map_err(|error| {
        let (location, message) = toml_problem(path, front_text, &error, 2);
        ContentError::Invalid { location, message }
    })?;
    check_front_matter(path, key, &front)?;
    Ok(SourcePage {
        lang: lang.clone(),
        key: key.to_string(),
        path: path.to_path_buf(),
        front,
        text: PageText::Read { front_text: front_text.to_string(), body: body.to_string(), written: OnceLock::new() },
        body_line,
        stamp: None,
        content_hash: OnceLock::new(),
    })
}

/// Splits `+++\n<toml>\n+++\n<body>`; returns the TOML, the body and the body's first line.
fn split_front_matter(text: &str) -> Option<(&str, &str, usize)> {
    let rest = text.strip_prefix("+++\r\n").or_else(|| text.strip_prefix("+++\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            let body_line = 3 + front.matches('\n').count();
            return Some((front, body, body_line));
        }
        offset += line.len();
    }
    None
}

fn check_front_matter(path: &Path, key: &str, front: &FrontMatter) -> Result<(), ContentError> {
    let here = Location::file(path);
    match front.kind {
        PageKind::Objective => {
            let Some(number) = front.objective else {
                return Err(invalid(here, "an objective page needs `objective = <number>` in its front matter"));
            };
            if front.short_label.is_none() {
                return Err(invalid(here, "an objective page needs a `short_label` for cards and navigation"));
            }
            let prefix = format!("q-{number}-");
            if let Some(bad) = front.questions.iter().find(|q| !is_question_id(&q.id, &prefix)) {
                return Err(invalid(
                    here,
                    format!(
                        "guiding question id `{}` should look like `{prefix}1` (objective number, then position)",
                        bad.id
                    ),
                ));
            }
            let mut ids: Vec<&str> = front.questions.iter().map(|q| q.id.as_str()).collect();
            ids.sort_unstable();
            if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
                return Err(invalid(here, format!("guiding question id `{}` is used twice", pair[0])));
            }
        }
        PageKind::Home if key != "_index.md" => {
            return Err(invalid(here, "only `_index.md` can be a language's home page (kind = \"home\")"));
        }
        _ => {
            if front.objective.is_some() || !front.questions.is_empty() {
                return Err(invalid(here, "`objective` and `questions` belong to pages with kind = \"objective\""));
            }
        }
    }
    Ok(())
}

fn is_question_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn en() -> LangCode {
        LangCode::parse("en").unwrap()
    }

    #[test]
    fn splits_front_matter_and_body() {
        let page = parse_page(&en(), "a.md", Path::new("a.md"), "+++\ntitle = \"A\"\n+++\n\nBody\n").unwrap();
        assert_eq!(page.front.title, "A");
        assert_eq!(page.body(), "\nBody\n");
        assert_eq!(page.body_line, 4);
    }

    #[test]
    fn front_matter_reads_back_the_same_from_the_build_cache() {
        let objective = "kind = \"objective\"\nobjective = 14\nshort_label = \"S\"\nweight = -3";
        for date in
            ["2022-05-17", "2022-05-17T10:30:00", "2022-05-17T10:30:00.250Z", "2022-05-17T10:30:00+02:00", "10:30:00"]
        {
            let text = format!("+++\ntitle = \"A\"\n{objective}\ndate = {date}\n+++\n");
            let page = parse_page(&en(), "a.md", Path::new("a.md"), &text).unwrap();
            let kept: FrontMatter = postcard::from_bytes(&postcard::to_stdvec(&page.front).unwrap()).unwrap();
            assert!(kept.date.is_some());
            assert_eq!(kept, page.front, "{date}");
        }
    }

    #[test]
    fn front_matter_errors_have_file_line_and_column() {
        let error = parse_page(&en(), "a.md", Path::new("a.md"), "+++\ntitle = \"A\"\ncolour = 3\n+++\n").unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("a.md:3:1: unknown key `colour`"), "{message}");
        let error = parse_page(&en(), "a.md", Path::new("a.md"), "+++\ntitle = \"A\nweight = 2\n+++\n").unwrap_err();
        assert!(error.to_string().starts_with("a.md:2:"), "{error}");
        let error = parse_page(&en(), "a.md", Path::new("a.md"), "no front matter").unwrap_err();
        assert!(error.to_string().starts_with("a.md:1:1"), "{error}");
    }

    #[test]
    fn objective_pages_are_checked() {
        let text = "+++\ntitle = \"T\"\nkind = \"objective\"\nobjective = 14\nshort_label = \"S\"\n[[questions]]\nid = \"q-15-1\"\ntext = \"Q\"\n+++\n";
        let error = parse_page(&en(), "o.md", Path::new("o.md"), text).unwrap_err();
        assert!(error.to_string().contains("q-14-1"), "{error}");
        let text = "+++\ntitle = \"T\"\nkind = \"objective\"\nobjective = 30\n+++\n";
        let error = parse_page(&en(), "o.md", Path::new("o.md"), text).unwrap_err();
        assert!(error.to_string().contains("numbered 1 to 23"), "{error}");
    }
}
