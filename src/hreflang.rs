//! Checks the language alternates of the rendered pages: every
//! `<link rel="alternate" hreflang>` must lead to a page of the site, and that page must
//! list the first one back (search engines ignore a cluster that is not reciprocal). Reads
//! only the rendered files' heads; `build` reports problems as warnings, `check` as
//! errors, like broken links.

use std::collections::{BTreeMap, BTreeSet};

use crate::check::{HtmlFile, folder_form};

/// One page's alternate that breaks the cluster.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HreflangProblem {
    /// The output file whose head lists the alternate (`fr/index.html`).
    pub page: String,
    pub hreflang: String,
    pub href: String,
    pub kind: HreflangProblemKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HreflangProblemKind {
    /// The alternate is not a page of this site.
    NoPage,
    /// The alternate does not list this page back.
    NotReciprocal,
}

impl HreflangProblem {
    /// What is wrong, without the page it is in.
    pub fn what(&self) -> String {
        let Self { hreflang, href, .. } = self;
        match self.kind {
            HreflangProblemKind::NoPage => {
                format!("its hreflang=\"{hreflang}\" alternate {href} is not a page of the site")
            }
            HreflangProblemKind::NotReciprocal => format!(
                "lists {href} as its hreflang=\"{hreflang}\" alternate, but that page does not list it back \
                 (search engines ignore alternates that are not reciprocal)"
            ),
        }
    }
}

impl std::fmt::Display for HreflangProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.page, self.what())
    }
}

/// One HTML page's alternates, kept after the page itself is written and dropped.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageAlternates {
    /// Path inside the output directory (`fr/index.html`).
    page: String,
    /// (hreflang, absolute URL) pairs, in the page's order.
    alternates: Vec<(String, String)>,
}

impl PageAlternates {
    /// The page's path inside the output directory.
    pub fn page(&self) -> &str {
        &self.page
    }

    /// The alternates a page lists; `None` unless it is an HTML page that lists some.
    pub fn of(file: &impl HtmlFile) -> Option<Self> {
        if !file.path().ends_with(".html") {
            return None;
        }
        let alternates: Vec<(String, String)> =
            alternates_in(file.bytes()).into_iter().map(|(code, href)| (code.to_string(), href.to_string())).collect();
        (!alternates.is_empty()).then(|| Self { page: file.path().to_string(), alternates })
    }
}

/// The alternates of every HTML page that lead nowhere or are not listed back, sorted.
pub fn hreflang_problems<F: HtmlFile>(files: &[F], base_url: &str) -> Vec<HreflangProblem> {
    let pages: Vec<PageAlternates> = files.iter().filter_map(PageAlternates::of).collect();
    problems_among(&pages, files.iter().map(HtmlFile::path), base_url)
}

/// `hreflang_problems` for pages read earlier, given the paths of every file of the site.
/// `base_url` is the site's absolute URL (`https://example.org/imrf/`), which every
/// alternate starts with.
pub fn problems_among<'p>(
    pages: &[PageAlternates],
    paths: impl Iterator<Item = &'p str>,
    base_url: &str,
) -> Vec<HreflangProblem> {
    let base_url = base_url.trim_end_matches('/');
    let all_paths: BTreeSet<&str> = paths.map(folder_form).collect();
    let listed: BTreeMap<&str, &PageAlternates> = pages.iter().map(|page| (folder_form(&page.page), page)).collect();
    let mut problems = Vec::new();
    for (&folder, page) in &listed {
        for (hreflang, href) in &page.alternates {
            let kind = match page_at(href, base_url) {
                Some(target) if target == folder => continue,
                Some(target) if all_paths.contains(target) => {
                    let lists_back = listed.get(target).is_some_and(|back| {
                        back.alternates.iter().any(|(_, back)| page_at(back, base_url) == Some(folder))
                    });
                    if lists_back {
                        continue;
                    }
                    HreflangProblemKind::NotReciprocal
                }
                _ => HreflangProblemKind::NoPage,
            };
            problems.push(HreflangProblem {
                page: page.page.clone(),
                hreflang: hreflang.clone(),
                href: href.clone(),
                kind,
            });
        }
    }
    problems.sort();
    problems
}

/// The page (in its folder form) each alternate of `pages` leads to, where it leads
/// inside the site at `base_url`.
pub fn targets<'a>(pages: &'a [PageAlternates], base_url: &'a str) -> impl Iterator<Item = &'a str> {
    let base_url = base_url.trim_end_matches('/');
    pages.iter().flat_map(|page| &page.alternates).filter_map(move |(_, href)| page_at(href, base_url))
}

/// The page (in its folder form) an absolute URL of the site leads to.
fn page_at<'u>(url: &'u str, base_url: &str) -> Option<&'u str> {
    url.strip_prefix(base_url)?.strip_prefix('/').map(folder_form)
}

/// The (hreflang, href) pairs of a page's `<link rel="alternate" hreflang="..."
/// href="...">` elements, as the theme writes them, in its head.
fn alternates_in(html: &[u8]) -> Vec<(&str, &str)> {
    const LINK: &[u8] = b"<link rel=\"alternate\" hreflang=\"";
    let head_end = memchr::memmem::find(html, b"</head>").unwrap_or(html.len());
    let head = &html[..head_end];
    memchr::memmem::find_iter(head, LINK)
        .filter_map(|start| {
            let rest = &head[start + LINK.len()..];
            let (hreflang, rest) = quoted(rest)?;
            let rest = rest.strip_prefix(b" href=\"")?;
            let (href, _) = quoted(rest)?;
            Some((hreflang, href))
        })
        .collect()
}

/// The text up to the next `"`, and what follows that quote.
fn quoted(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let end = memchr::memchr(b'"', bytes)?;
    Some((std::str::from_utf8(&bytes[..end]).ok()?, &bytes[end + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::OutputFile;

    fn page(path: &str, alternates: &[(&str, &str)]) -> OutputFile {
        let links: String = alternates
            .iter()
            .map(|(code, href)| {
                format!("<link rel=\"alternate\" hreflang=\"{code}\" href=\"https://example.org/imrf/{href}\">\n")
            })
            .collect();
        OutputFile { path: path.to_string(), bytes: format!("<html><head>\n{links}</head><body></body></html>").into() }
    }

    #[test]
    fn a_reciprocal_cluster_with_an_x_default_picker_has_no_problem() {
        let homes = [("en", "en/"), ("fr", "fr/"), ("x-default", "")];
        let files = [
            page("index.html", &[("en", "en/"), ("fr", "fr/"), ("x-default", "")]),
            page("en/index.html", &homes),
            page("fr/index.html", &homes),
            page("en/a/index.html", &[("en", "en/a/"), ("x-default", "en/a/"), ("fr", "fr/a/")]),
            page("fr/a/index.html", &[("en", "en/a/"), ("x-default", "en/a/"), ("fr", "fr/a/")]),
            page("404.html", &[]),
        ];
        assert_eq!(hreflang_problems(&files, "https://example.org/imrf/"), []);
    }

    #[test]
    fn an_alternate_not_listed_back_or_leading_nowhere_is_a_problem() {
        let files = [
            page("index.html", &[("en", "en/"), ("fr", "fr/"), ("x-default", "")]),
            page("en/index.html", &[("en", "en/"), ("fr", "fr/")]),
            page("fr/index.html", &[("en", "en/"), ("fr", "fr/"), ("de", "de/")]),
        ];
        let problems: Vec<String> =
            hreflang_problems(&files, "https://example.org/imrf").iter().map(ToString::to_string).collect();
        assert_eq!(
            problems,
            [
                "fr/index.html: its hreflang=\"de\" alternate https://example.org/imrf/de/ is not a page of the site",
                "index.html: lists https://example.org/imrf/en/ as its hreflang=\"en\" alternate, but that page does not list it back \
                 (search engines ignore alternates that are not reciprocal)",
                "index.html: lists https://example.org/imrf/fr/ as its hreflang=\"fr\" alternate, but that page does not list it back \
                 (search engines ignore alternates that are not reciprocal)",
            ]
        );
    }
}
