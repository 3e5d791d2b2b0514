//! Checks the rendered site without writing it: every internal link and `#anchor` must
//! point at a page and an element that exist, and every image or script (`src`) at a
//! file that exists. `build` reports these as warnings (the
//! site still works, bar one link), `check` as errors. Reads only the rendered files.

use std::collections::{BTreeMap, BTreeSet};

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

/// Every internal link (under `base_path`) of every HTML file that points at a missing
/// file or anchor, sorted and de-duplicated.
pub fn broken_links(files: &[OutputFile], base_path: &str) -> Vec<BrokenLink> {
    let html: BTreeMap<&str, &str> = files
        .iter()
        .filter(|f| f.path.ends_with(".html"))
        .filter_map(|f| std::str::from_utf8(&f.bytes).ok().map(|text| (f.path.as_str(), text)))
        .collect();
    let all_paths: BTreeSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
    let mut ids_cache: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut broken = BTreeSet::new();
    for (page, text) in &html {
        let links = attribute_values(text, "href").map(|href| (href, "points to no page"));
        let sources = attribute_values(text, "src").map(|src| (src, "points to no file (an image or script)"));
        for (href, missing) in links.chain(sources) {
            let Some((target, fragment)) = resolve(page, href, base_path) else { continue };
            let reason = if target.is_none() {
                Some("leads outside the site")
            } else if !all_paths.contains(target.as_deref().unwrap_or_default()) {
                Some(missing)
            } else if let (Some(fragment), Some((key, target_text))) =
                (fragment, target.as_deref().and_then(|t| html.get_key_value(t)))
            {
                let ids = ids_cache.entry(key).or_insert_with(|| attribute_values(target_text, "id").collect());
                (!fragment.is_empty() && !ids.contains(fragment)).then_some("points to a missing anchor")
            } else {
                None
            };
            if let Some(reason) = reason {
                broken.insert(BrokenLink { page: (*page).to_string(), href: href.to_string(), reason });
            }
        }
    }
    broken.into_iter().collect()
}

/// The output file and fragment an href leads to, or `None` for links that leave the
/// site (another origin or scheme, or a path outside the base path). A relative path
/// that climbs above the site's root gives `Some((None, _))`.
fn resolve<'a>(page: &str, href: &'a str, base_path: &str) -> Option<(Option<String>, Option<&'a str>)> {
    let (path, fragment) = match href.split_once('#') {
        Some((path, fragment)) => (path, Some(fragment)),
        None => (href, None),
    };
    let path = path.split('?').next().unwrap_or(path);
    let has_scheme = path.split('/').next().is_some_and(|first| first.contains(':'));
    let target = if path.is_empty() {
        page.to_string()
    } else if path.starts_with("//") || has_scheme {
        return None;
    } else if let Some(inside) = path.strip_prefix(base_path) {
        inside.to_string()
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
        joined
    };
    let target = if target.is_empty() || target.ends_with('/') { format!("{target}index.html") } else { target };
    Some((Some(target), fragment))
}

/// The values of every `name="..."` attribute in `html` (as the theme and Markdown
/// renderer write them: double quotes, no spaces around `=`).
fn attribute_values<'a>(html: &'a str, name: &str) -> impl Iterator<Item = &'a str> + 'a {
    let needle = format!(" {name}=\"");
    let mut rest = html;
    std::iter::from_fn(move || {
        let start = rest.find(&needle)? + needle.len();
        let end = rest[start..].find('"')? + start;
        let value = &rest[start..end];
        rest = &rest[end..];
        Some(value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> OutputFile {
        OutputFile::new(path, text)
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
    fn respects_the_base_path() {
        let files = [file("en/index.html", r#"<a href="/imrf/en/">self</a><a href="/other/">elsewhere</a>"#)];
        assert!(broken_links(&files, "/imrf/").is_empty());
    }
}
