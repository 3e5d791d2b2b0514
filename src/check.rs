//! Checks the rendered site without writing it: every internal link and `#anchor` must
//! point at a page and an element that exist, and every image or script (`src`) at a
//! file that exists. `build` reports these as warnings (the
//! site still works, bar one link), `check` as errors. Reads only the rendered files.

use std::borrow::{Borrow, Cow};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::Hash;

use rayon::prelude::*;

use crate::output::OutputFile;

/// A link in a rendered page that leads nowhere.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct BrokenLink {
    /// The output file the link is in (`en/index.html`).
    pub page: String,
    pub href: String,
    pub reason: &'static str,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: link to {} {}", self.page, self.href, self.reason)
    }
}

/// What a link's target is: what to say when it is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Target {
    Page,
    File,
}

impl Target {
    fn missing(self) -> &'static str {
        match self {
            Target::Page => "points to no page",
            Target::File => "points to no file (an image or script)",
        }
    }
}

/// What one HTML page links to and which anchors it offers: borrowed from the page
/// (`Scan<&str>`), or owned (`PageLinks`) to outlive it when pages are written as they
/// are made.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(bound(deserialize = "S: serde::Deserialize<'de> + Eq + Hash"))]
pub struct Scan<S> {
    page: S,
    /// Each `href` and `src` value, with what it points to.
    links: Vec<(S, Target)>,
    ids: HashSet<S>,
}

/// A page's links and anchors, kept after the page itself is written and dropped.
pub type PageLinks = Scan<Box<str>>;

impl PageLinks {
    /// The page's path inside the output directory.
    pub fn page(&self) -> &str {
        &self.page
    }

    /// The links and anchors of an output file; `None` unless it is an HTML page.
    pub fn of(file: &OutputFile) -> Option<PageLinks> {
        let scan = scan_file(file)?;
        Some(Scan {
            page: scan.page.into(),
            links: scan.links.into_iter().map(|(href, reason)| (href.into(), reason)).collect(),
            ids: scan.ids.into_iter().map(Box::from).collect(),
        })
    }
}

/// An output file as the link check reads it.
pub trait HtmlFile {
    /// Path inside the output directory, with `/` separators.
    fn path(&self) -> &str;
    fn bytes(&self) -> &[u8];
}

impl HtmlFile for OutputFile {
    fn path(&self) -> &str {
        &self.path
    }
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Every internal link (under `base_path`) of every HTML file that points at a missing
/// file or anchor, sorted and de-duplicated. Pages are scanned once each, in parallel;
/// targets are found by hash lookups of their folder form (`en/a/` for `en/a/index.html`),
/// so links cost no allocation but for relative paths.
pub fn broken_links<F: HtmlFile + Sync>(files: &[F], base_path: &str) -> Vec<BrokenLink> {
    let scans: Vec<Scan<&str>> = files.par_iter().filter_map(scan_file).collect();
    broken_links_among(&scans, files.iter().map(HtmlFile::path), base_path)
}

/// `broken_links` for pages scanned earlier, given the paths of every file of the site.
pub fn broken_links_among<'p, S>(
    scans: &[Scan<S>],
    paths: impl Iterator<Item = &'p str>,
    base_path: &str,
) -> Vec<BrokenLink>
where
    S: AsRef<str> + Borrow<str> + Eq + Hash + Sync,
{
    let all_paths: HashSet<&str> = paths.map(folder_form).collect();
    let ids: HashMap<&str, &HashSet<S>> = scans.iter().map(|s| (folder_form(s.page.as_ref()), &s.ids)).collect();
    let broken: Vec<BrokenLink> = scans
        .par_iter()
        .flat_map_iter(|scan| {
            let page = scan.page.as_ref();
            scan.links.iter().filter_map(|(href, missing)| {
                let href = href.as_ref();
                let (target, fragment) = resolve(page, href, base_path)?;
                let reason = match target {
                    None => Some("leads outside the site"),
                    Some(target) if !all_paths.contains(target.as_ref()) => Some(missing.missing()),
                    Some(target) => match (fragment, ids.get(target.as_ref())) {
                        (Some(fragment), Some(ids)) => {
                            (!fragment.is_empty() && !ids.contains(fragment)).then_some("points to a missing anchor")
                        }
                        _ => None,
                    },
                };
                reason.map(|reason| BrokenLink { page: page.to_string(), href: href.to_string(), reason })
            })
        })
        .collect();
    broken.into_iter().collect::<BTreeSet<_>>().into_iter().collect()
}

fn scan_file(file: &impl HtmlFile) -> Option<Scan<&str>> {
    if !file.path().ends_with(".html") {
        return None;
    }
    Some(scan(file.path(), file.bytes()))
}

/// An output path as links name it: `en/a/index.html` is `en/a/`, `index.html` is ``.
pub(crate) fn folder_form(path: &str) -> &str {
    match path.strip_suffix("index.html") {
        Some(folder) if folder.is_empty() || folder.ends_with('/') => folder,
        _ => path,
    }
}

/// The output file (in its folder form) and fragment an href leads to, or `None` for
/// links that leave the site (another origin or scheme, or a path outside the base
/// path). A relative path that climbs above the site's root gives `Some((None, _))`.
fn resolve<'a>(page: &'a str, href: &'a str, base_path: &str) -> Option<(Option<Cow<'a, str>>, Option<&'a str>)> {
    let (path, fragment) = match href.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (href, None),
    };
    let path = path.split('?').next().unwrap_or(path);
    let has_scheme = path.split('/').next().is_some_and(|first| first.contains(':'));
    let target = if path.is_empty() {
        Cow::Borrowed(folder_form(page))
    } else if path.starts_with("//") || has_scheme {
        return None;
    } else if let Some(inside) = path.strip_prefix(base_path) {
        Cow::Borrowed(folder_form(inside))
    } else if path.starts_with('/') {
        return None;
    } else {
        // Relative to the page's folder.
        let folder = page.rsplit_once('/').map_or("", |(folder, _)| folder);
        let mut segments: Vec<&str> = folder.split('/').filter(|s| !s.is_empty()).collect();
        for segment in path.split('/') {
            match segment {
                "." | "" => {}
                ".." => {
                    if segments.pop().is_none() {
                        return Some((None, fragment));
                    }
                }
                other => segments.push(other),
            }
        }
        let mut joined = segments.join("/");
        if path.ends_with('/') && !joined.is_empty() {
            joined.push('/');
        }
        // The folder form is a prefix of the path.
        let length = folder_form(&joined).len();
        joined.truncate(length);
        Cow::Owned(joined)
    };
    Some((Some(target), fragment))
}

/// The `href`, `src` and `id` values of a page, in one pass over it: each `="` is looked
/// at once (as the theme and Markdown renderer write attributes: double quotes, no
/// spaces around `=`, a space before the name). The page is read as bytes, and only the
/// values as text: checking the whole page's UTF-8 would cost more than the scan.
fn scan<'a>(page: &'a str, html: &'a [u8]) -> Scan<&'a str> {
    let mut links = Vec::new();
    let mut ids = HashSet::new();
    // Per attribute name, where its last value ended: a match starting inside it is part
    // of that value, not an attribute (as when each name is searched for on its own).
    let mut resume = [0usize; 3];
    for equals in memchr::memchr_iter(b'=', html) {
        if html.get(equals + 1) != Some(&b'"') {
            continue;
        }
        let before = &html[..equals];
        let name = if before.ends_with(b" href") {
            0
        } else if before.ends_with(b" src") {
            1
        } else if before.ends_with(b" id") {
            2
        } else {
            continue;
        };
        let name_start = equals - [5, 4, 3][name];
        if name_start < resume[name] {
            continue;
        }
        let start = equals + 2;
        let Some(length) = memchr::memchr(b'"', &html[start..]) else { continue };
        let Ok(value) = std::str::from_utf8(&html[start..start + length]) else { continue };
        resume[name] = start + length;
        match name {
            0 => links.push((value, Target::Page)),
            1 => links.push((value, Target::File)),
            _ => {
                ids.insert(value);
            }
        }
    }
    Scan { page, links, ids }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> OutputFile {
        OutputFile::new(path, text.to_string())
    }

    #[test]
    fn finds_missing_pages_and_anchors_only() {
        let files = [
            file(
                "en/index.html",
                r##"<a href="/en/a/">ok</a><a href="/en/a/#x">ok</a><a href="/en/a/#y">bad anchor</a><a href="/en/b/">bad page</a><a href="https://un.org/">out</a><a href="#top">bad local</a><p id="here"></p><a href="#here">ok</a>"##,
            ),
            file("en/a/index.html", r#"<h2 id="x">X</h2>"#),
        ];
        let broken: Vec<String> = broken_links(&files, "/").iter().map(ToString::to_string).collect();
        assert_eq!(
            broken,
            [
                "en/index.html: link to #top points to a missing anchor",
                "en/index.html: link to /en/a/#y points to a missing anchor",
                "en/index.html: link to /en/b/ points to no page",
            ]
        );
        // Scanned as pages are written, kept after they are dropped: the same findings.
        let kept: Vec<PageLinks> = files.iter().filter_map(PageLinks::of).collect();
        let paths = files.iter().map(|f| f.path.as_str());
        assert_eq!(broken_links_among(&kept, paths, "/"), broken_links(&files, "/"));
    }

    #[test]
    fn checks_images_and_relative_links() {
        let files = [
            file(
                "en/a/index.html",
                r#"<img src="/img/map.png" alt=""><img src="/img/gone.png" alt=""><a href="../b/">up</a><a href="../../../x/">out</a><a href="c/">down</a><img src="data:image/png;base64,AA" alt=""><a href="mailto:a@b.org">mail</a>"#,
            ),
            file("en/b/index.html", ""),
            file("img/map.png", ""),
        ];
        let broken: Vec<String> = broken_links(&files, "/").iter().map(ToString::to_string).collect();
        assert_eq!(
            broken,
            [
                "en/a/index.html: link to ../../../x/ leads outside the site",
                "en/a/index.html: link to /img/gone.png points to no file (an image or script)",
                "en/a/index.html: link to c/ points to no page",
            ]
        );
    }

    #[test]
    fn index_files_are_found_by_folder_or_by_name() {
        let files = [
            file(
                "en/index.html",
                r##"<a href="/en/a/index.html#x">ok</a><a href="a/index.html#z">bad anchor</a><a href="/en/a">no slash</a><a href="./a/#x">ok</a><a href="/">root</a><a href="index.html#top">self</a><b id="top"></b>"##,
            ),
            file("en/a/index.html", r#"<h2 id="x">X</h2>"#),
            file("index.html", ""),
        ];
        let broken: Vec<String> = broken_links(&files, "/").iter().map(ToString::to_string).collect();
        assert_eq!(
            broken,
            [
                "en/index.html: link to /en/a points to no page",
                "en/index.html: link to a/index.html#z points to a missing anchor"
            ]
        );
    }

    #[test]
    fn respects_the_base_path() {
        let files = [file("en/index.html", r#"<a href="/imrf/en/">self</a><a href="/other/">elsewhere</a>"#)];
        assert!(broken_links(&files, "/imrf/").is_empty());
    }
}
