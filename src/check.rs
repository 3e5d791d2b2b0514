//! Checks the rendered site without writing it: every internal link and `#anchor` must
//! point at a page and an element that exist, and every image or script (`src`) at a
//! file that exists. `build` reports these as warnings (the
//! site still works, bar one link), `check` as errors. Reads only the rendered files.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};

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

/// What one HTML page links to and which anchors it offers, kept after the page itself
/// is written and dropped, until the check at the end of the build. Packed into a few
/// flat lists: a large site has hundreds of thousands of links and ids, and a string
/// allocated for each held over twice the memory (and made the build cache, which keeps
/// them, slower to read).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageLinks {
    /// The page's path inside the output directory.
    page: Box<str>,
    /// The `href` and `src` values, then the ids, one after another.
    texts: Box<str>,
    /// Where each link ends in `texts`, and what it points to.
    links: Box<[(u32, Target)]>,
    /// Where each id ends in `texts`: the ids sorted, each once.
    ids: Box<[u32]>,
}

/// A place in one page's text in 32 bits.
fn text_end(texts: &str) -> u32 {
    // Invariant: a page's links and ids are far shorter than 4 GiB.
    u32::try_from(texts.len()).unwrap_or(u32::MAX)
}

impl PageLinks {
    /// The links and anchors of an output file; `None` unless it is an HTML page.
    pub fn of(file: &impl HtmlFile) -> Option<PageLinks> {
        if !file.path().ends_with(".html") {
            return None;
        }
        let (links, mut ids) = scan(file.bytes());
        ids.sort_unstable();
        ids.dedup();
        let mut texts =
            String::with_capacity(links.iter().map(|(href, _)| href.len()).chain(ids.iter().map(|id| id.len())).sum());
        let mut ends = |text: &str| {
            texts.push_str(text);
            text_end(&texts)
        };
        let links = links.into_iter().map(|(href, target)| (ends(href), target)).collect();
        let ids = ids.into_iter().map(ends).collect();
        Some(PageLinks { page: file.path().into(), texts: texts.into(), links, ids })
    }

    /// The page's path inside the output directory.
    pub fn page(&self) -> &str {
        &self.page
    }

    /// Each `href` and `src` value, in the page's order, with what it points to.
    fn links(&self) -> impl Iterator<Item = (&str, Target)> {
        let starts = std::iter::once(0).chain(self.links.iter().map(|&(end, _)| end));
        starts.zip(self.links.iter()).map(|(start, &(end, target))| (self.text(start, end), target))
    }

    /// `texts` from `start` to `end`; nothing if they do not fit it (lists read back from
    /// a damaged build cache must not panic the build).
    fn text(&self, start: u32, end: u32) -> &str {
        self.texts.get(start as usize..end as usize).unwrap_or_default()
    }

    /// The id at `index` in the sorted list.
    fn id(&self, index: usize) -> &str {
        let start = match index.checked_sub(1) {
            Some(previous) => self.ids[previous],
            None => self.links.last().map_or(0, |&(end, _)| end),
        };
        self.text(start, self.ids[index])
    }

    /// Whether the page has an element with this id.
    fn has_id(&self, id: &str) -> bool {
        let (mut low, mut high) = (0, self.ids.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.id(middle).cmp(id) {
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
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
/// so links cost no allocation but for relative paths (each page's values are copied
/// once, into its `PageLinks`).
pub fn broken_links<F: HtmlFile + Sync>(files: &[F], base_path: &str) -> Vec<BrokenLink> {
    let scans: Vec<PageLinks> = files.par_iter().filter_map(PageLinks::of).collect();
    broken_links_among(&scans, files.iter().map(HtmlFile::path), base_path)
}

/// `broken_links` for pages scanned earlier, given the paths of every file of the site.
pub fn broken_links_among<'p>(
    scans: &[PageLinks],
    paths: impl Iterator<Item = &'p str>,
    base_path: &str,
) -> Vec<BrokenLink> {
    links_checked(scans, paths, base_path, false).broken
}

/// What `checked_links_among` found.
pub struct LinkCheck {
    /// `broken_links`.
    pub broken: Vec<BrokenLink>,
    /// Every file inside the site that a link leads to, in its folder form, by its
    /// `target_hash` (in no order, with repeats), so that a later build can tell
    /// whether a file it adds or removes changes what the check finds.
    pub targets: Vec<u64>,
}

/// A target's hash in `LinkCheck::targets`.
pub fn target_hash(folder_form: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(folder_form.as_bytes())
}

/// `broken_links_among`, and every target its links lead to.
pub fn checked_links_among<'p>(
    scans: &[PageLinks],
    paths: impl Iterator<Item = &'p str>,
    base_path: &str,
) -> LinkCheck {
    links_checked(scans, paths, base_path, true)
}

/// The check, with the targets' hashes only when `with_targets`: watch mode, which
/// checks after every save, has no use for them.
fn links_checked<'p>(
    scans: &[PageLinks],
    paths: impl Iterator<Item = &'p str>,
    base_path: &str,
    with_targets: bool,
) -> LinkCheck {
    let all_paths: HashSet<&str> = paths.map(folder_form).collect();
    let pages: HashMap<&str, &PageLinks> = scans.iter().map(|scan| (folder_form(scan.page()), scan)).collect();
    let checked: Vec<(Vec<BrokenLink>, Vec<u64>)> = scans
        .par_iter()
        .map(|scan| {
            let page = scan.page();
            let mut targets = Vec::new();
            let broken = scan
                .links()
                .filter_map(|(href, missing)| {
                    let (target, fragment) = resolve(page, href, base_path)?;
                    targets.extend(target.as_deref().filter(|_| with_targets).map(target_hash));
                    let reason = match target {
                        None => Some("leads outside the site"),
                        Some(target) if !all_paths.contains(target.as_ref()) => Some(missing.missing()),
                        Some(target) => match (fragment, pages.get(target.as_ref())) {
                            (Some(fragment), Some(linked)) => (!fragment.is_empty() && !linked.has_id(fragment))
                                .then_some("points to a missing anchor"),
                            _ => None,
                        },
                    };
                    reason.map(|reason| BrokenLink { page: page.to_string(), href: href.to_string(), reason })
                })
                .collect();
            (broken, targets)
        })
        .collect();
    let mut broken = BTreeSet::new();
    let mut targets = Vec::new();
    for (page_broken, page_targets) in checked {
        broken.extend(page_broken);
        targets.extend(page_targets);
    }
    LinkCheck { broken: broken.into_iter().collect(), targets }
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
fn scan(html: &[u8]) -> (Vec<(&str, Target)>, Vec<&str>) {
    let mut links = Vec::new();
    let mut ids = Vec::new();
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
            _ => ids.push(value),
        }
    }
    (links, ids)
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
        // Kept in the build cache and read back by the next build: the same findings.
        let kept: Vec<PageLinks> = files.iter().filter_map(PageLinks::of).collect();
        let encoded = postcard::to_stdvec(&kept).expect("links encode");
        let decoded: Vec<PageLinks> = postcard::from_bytes(&encoded).expect("links decode");
        let paths = files.iter().map(|f| f.path.as_str());
        assert_eq!(broken_links_among(&decoded, paths, "/"), broken_links(&files, "/"));
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
    fn every_anchor_of_a_page_is_found_whatever_its_order_or_repeats() {
        let ids = ["zeta", "a", "fn-1", "a", "p-12", "p-2", "", "fnref-1-2", "ü"];
        let targets: String = ids.iter().map(|id| format!(r#"<b id="{id}"></b>"#)).collect();
        let links: String = ["fn-1", "p-1", "zet", "zetas", "A", "ü", "p-12"]
            .iter()
            .map(|id| format!(r##"<a href="/en/a/#{id}">x</a>"##))
            .collect();
        let files = [file("en/index.html", &links), file("en/a/index.html", &targets)];
        let broken: Vec<String> = broken_links(&files, "/").iter().map(|b| b.href.clone()).collect();
        assert_eq!(broken, ["/en/a/#A", "/en/a/#p-1", "/en/a/#zet", "/en/a/#zetas"]);
    }

    #[test]
    fn links_that_do_not_fit_their_text_are_read_as_empty_not_a_panic() {
        let page = file("en/index.html", r##"<a href="#x">x</a><b id="x"></b>"##);
        let mut damaged = PageLinks::of(&page).expect("an HTML page");
        // The first link still reads `#x`, so the damaged ids are searched for it.
        damaged.links = Box::new([(2, Target::Page), (99, Target::Page)]);
        damaged.ids = Box::new([0, 200]);
        let broken = broken_links_among(&[damaged], ["en/index.html"].into_iter(), "/");
        let found: Vec<(&str, &str)> = broken.iter().map(|b| (b.href.as_str(), b.reason)).collect();
        assert_eq!(found, [("#x", "points to a missing anchor")]);
    }

    #[test]
    fn respects_the_base_path() {
        let files = [file("en/index.html", r#"<a href="/imrf/en/">self</a><a href="/other/">elsewhere</a>"#)];
        assert!(broken_links(&files, "/imrf/").is_empty());
    }
}
