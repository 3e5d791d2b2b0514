//! `sitemap.xml` (every page and its alternates in the other languages) and
//! `robots.txt`: files made without a template, from the site's outline only.

use std::collections::BTreeMap;

use super::generated::GeneratedKind;
use super::renderer::Renderer;
use crate::output::OutputFile;
use crate::types::UrlPath;

/// The paths of the files `Renderer::site_maps` makes, in its order.
pub(crate) const SITE_MAP_PATHS: [&str; 2] = ["sitemap.xml", "robots.txt"];

impl Renderer<'_> {
    /// The sitemap and robots.txt (`SITE_MAP_PATHS`), which read the site's outline only.
    pub(crate) fn site_maps(&self) -> Vec<OutputFile> {
        let [sitemap, robots] = SITE_MAP_PATHS;
        vec![OutputFile::new(sitemap, self.sitemap()), OutputFile::new(robots, self.robots())]
    }

    fn sitemap(&self) -> String {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
        );
        let mut entries: Vec<(String, &UrlPath)> = self.site.pages.iter().map(|p| (p.key.clone(), &p.url)).collect();
        let generated: Vec<(String, UrlPath)> = self
            .site
            .languages
            .iter()
            .flat_map(|l| {
                [GeneratedKind::GuidingQuestions, GeneratedKind::References]
                    .map(|k| (format!("\0{}", k.slug()), UrlPath::page([l.code.as_str(), k.slug()])))
            })
            .collect();
        entries.extend(generated.iter().map(|(k, u)| (k.clone(), u)));
        let mut groups: BTreeMap<&str, Vec<&UrlPath>> = BTreeMap::new();
        for (key, url) in &entries {
            groups.entry(key.as_str()).or_default().push(url);
        }
        // The language picker at `/` is the homes' x-default, as the pages' heads say.
        let root = UrlPath::page([]);
        let homes: Vec<&UrlPath> = entries.iter().map(|(_, url)| *url).filter(|url| is_language_home(url)).collect();
        let picker = (String::from("\0picker"), &root);
        for (key, url) in entries.iter().chain([&picker]) {
            let alternates: &[&UrlPath] =
                if *url == &root { &homes } else { groups.get(key.as_str()).map(Vec::as_slice).unwrap_or_default() };
            let x_default = if *url == &root || is_language_home(url) {
                Some(&root)
            } else {
                alternates
                    .iter()
                    .copied()
                    .find(|alternate| language_of(alternate) == self.site.default_language.as_str())
            };
            xml.push_str(&format!(
                "  <url>\n    <loc>{}</loc>\n",
                xml_escape(&self.site.base_url.absolute(url.as_str()))
            ));
            let links = alternates.iter().map(|alternate| (language_of(alternate), *alternate));
            for (lang, alternate) in links.chain(x_default.map(|url| ("x-default", url))) {
                xml.push_str(&format!(
                    "    <xhtml:link rel=\"alternate\" hreflang=\"{lang}\" href=\"{}\"/>\n",
                    xml_escape(&self.site.base_url.absolute(alternate.as_str()))
                ));
            }
            xml.push_str("  </url>\n");
        }
        xml.push_str("</urlset>\n");
        xml
    }

    fn robots(&self) -> String {
        format!("User-agent: *\nAllow: /\n\nSitemap: {}\n", self.site.base_url.absolute("/sitemap.xml"))
    }
}

/// The language of a page's URL (`fr` of `/fr/objective-14/`).
fn language_of(url: &UrlPath) -> &str {
    url.as_str().trim_start_matches('/').split('/').next().unwrap_or_default()
}

/// Whether the URL is a language's home (`/fr/`).
fn is_language_home(url: &UrlPath) -> bool {
    let path = url.as_str().trim_matches('/');
    !path.is_empty() && !path.contains('/')
}

fn xml_escape(text: &str) -> String {
    crate::html::escape_html(text)
}
