//! The default theme's output without a browser: valid HTML (the Nu HTML checker), the
//! metadata every page carries (description, canonical URL, Open Graph, JSON-LD, favicon)
//! and the weight of a first visit.

use std::io::Write;
use std::path::Path;
use std::process::Command;

use crate::browser_support::{require_program, require_tool, site_pages};
use crate::support::SiteTest;

fn built_site() -> SiteTest {
    let site = SiteTest::bundled();
    site.build().ok();
    site
}

/// The value of `attribute` in the first tag of `html` that contains `marker`.
fn attribute(html: &str, marker: &str, attribute: &str) -> Option<String> {
    let start = html.find(marker)?;
    let tag_start = html[..start].rfind('<')?;
    let tag_end = start + html[start..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let needle = format!("{attribute}=\"");
    let value_start = tag.find(&needle)? + needle.len();
    let value_end = value_start + tag[value_start..].find('"')?;
    Some(tag[value_start..value_end].replace("&amp;", "&").replace("&quot;", "\""))
}

#[test]
fn nu_html_checker_reports_no_error_on_the_bundled_site() {
    let test = "nu_html_checker_reports_no_error_on_the_bundled_site";
    let Some(jar) = require_tool(test, "vnu-jar/build/dist/vnu.jar") else { return };
    if !require_program(test, "java", "apt-get install default-jre-headless") {
        return;
    }
    let site = built_site();
    // A page with known errors, checked in the same run, shows the checker does report.
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(broken.path().join("broken.html"), "<!DOCTYPE html><html lang=en><title>x</title><p><div></p>")
        .unwrap();
    let output = Command::new("java")
        .arg("-jar")
        .arg(&jar)
        .args(["--errors-only", "--skip-non-html", "--format", "gnu"])
        .arg(site.public())
        .arg(broken.path())
        .output()
        .expect("run the Nu HTML checker");
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = report.lines().filter(|line| !line.trim().is_empty()).collect();
    assert!(
        lines.iter().any(|line| line.contains("broken.html")),
        "the checker found nothing in a broken page:\n{report}"
    );
    let site_errors: Vec<&&str> = lines.iter().filter(|line| !line.contains("broken.html")).collect();
    assert!(site_errors.is_empty(), "the Nu HTML checker reports errors:\n{}", report);
}

#[test]
fn every_page_has_title_description_canonical_open_graph_and_favicon() {
    let site = built_site();
    let public = site.public();
    let mut checked = 0;
    for page in site_pages(&public) {
        let file = if page.ends_with('/') { format!("{page}index.html") } else { page.clone() };
        let html = site.read(file.trim_start_matches('/'));
        let title = html.split("<title>").nth(1).and_then(|rest| rest.split("</title>").next()).unwrap_or_default();
        assert!(!title.trim().is_empty(), "{page}: no title");
        assert!(html.contains("rel=\"icon\""), "{page}: no favicon");
        if page == "/" {
            continue; // the language picker only sends readers on
        }
        let description = attribute(&html, "name=\"description\"", "content").unwrap_or_default();
        assert!(description.len() > 30, "{page}: no useful description: {description:?}");
        if page.ends_with("404.html") {
            assert!(
                html.contains("<meta name=\"robots\" content=\"noindex\">"),
                "{page}: a 404 page must not be indexed"
            );
            continue;
        }
        let canonical = attribute(&html, "rel=\"canonical\"", "href").unwrap_or_default();
        assert_eq!(canonical, format!("https://example.org{page}"), "{page}: canonical URL");
        assert_eq!(attribute(&html, "property=\"og:url\"", "content").as_deref(), Some(canonical.as_str()));
        for property in ["og:title", "og:description", "og:type", "og:site_name", "og:locale"] {
            let value = attribute(&html, &format!("property=\"{property}\""), "content").unwrap_or_default();
            assert!(!value.is_empty(), "{page}: no {property}");
        }
        assert_eq!(html.matches("property=\"og:locale:alternate\"").count(), 5, "{page}: og:locale:alternate");
        checked += 1;
    }
    assert_eq!(checked, 6 * 10, "home, six objectives, guiding questions, references and search in six languages");
}

/// The JSON-LD blocks of a page, parsed.
fn structured_data(html: &str) -> Vec<serde_json::Value> {
    html.split("<script type=\"application/ld+json\">")
        .skip(1)
        .map(|rest| {
            let json = rest.split("</script>").next().unwrap();
            serde_json::from_str(json).unwrap_or_else(|e| panic!("invalid JSON-LD ({e}): {json}"))
        })
        .collect()
}

#[test]
fn the_note_is_described_as_a_schema_org_report() {
    let site = built_site();
    for lang in ["en", "fr", "es", "ar", "zh", "ru"] {
        let home = structured_data(&site.read(&format!("{lang}/index.html")));
        assert_eq!(home.len(), 1, "{lang}: one JSON-LD block on the home page");
        let report = &home[0];
        assert_eq!(report["@context"], "https://schema.org");
        assert_eq!(report["@type"], "Report");
        assert_eq!(report["inLanguage"], lang);
        assert_eq!(report["url"], format!("https://example.org/{lang}/"));
        assert_eq!(report["@id"], format!("https://example.org/{lang}/#report"));
        assert!(report["name"].as_str().is_some_and(|n| !n.is_empty()));
        let parts = report["hasPart"].as_array().unwrap();
        assert_eq!(parts.len(), 6, "{lang}: the six objectives are parts of the report");
        assert_eq!(parts[0]["url"], format!("https://example.org/{lang}/objective-14/"));
        if lang == "en" {
            assert!(report.get("translationOfWork").is_none());
        } else {
            assert_eq!(report["translationOfWork"]["@id"], "https://example.org/en/#report");
        }

        let objective = structured_data(&site.read(&format!("{lang}/objective-20/index.html")));
        assert_eq!(objective.len(), 1);
        assert_eq!(objective[0]["isPartOf"]["@type"], "Report");
        assert_eq!(objective[0]["isPartOf"]["@id"], format!("https://example.org/{lang}/#report"));
        assert_eq!(objective[0]["url"], format!("https://example.org/{lang}/objective-20/"));
    }
}

fn gzipped_size(bytes: &[u8]) -> usize {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap().len()
}

/// Every stylesheet and script a page loads (`href`/`src` of `<link rel="stylesheet">`
/// and `<script src>`), as paths below the site root.
fn page_assets(html: &str) -> Vec<String> {
    let mut assets = Vec::new();
    for tag in html.split('<').filter(|t| t.starts_with("link ") || t.starts_with("script ")) {
        let tag = tag.split('>').next().unwrap_or_default();
        if tag.starts_with("link ") && !tag.contains("rel=\"stylesheet\"") {
            continue;
        }
        let key = if tag.starts_with("link ") { "href=\"" } else { "src=\"" };
        if let Some(start) = tag.find(key) {
            let value = &tag[start + key.len()..];
            assets.push(value[..value.find('"').unwrap()].trim_start_matches('/').to_string());
        }
    }
    assets
}

#[test]
fn a_first_visit_to_any_page_weighs_at_most_40_kb_gzipped() {
    const BUDGET: usize = 40 * 1024;
    let site = built_site();
    let public = site.public();
    let mut heaviest = (0, String::new());
    for page in site_pages(&public) {
        let file = if page.ends_with('/') { format!("{page}index.html") } else { page.clone() };
        let html = std::fs::read(public.join(file.trim_start_matches('/'))).unwrap();
        let assets = page_assets(&String::from_utf8_lossy(&html));
        assert!(!assets.is_empty(), "{page}: no stylesheet found");
        let mut total = gzipped_size(&html);
        for asset in &assets {
            let bytes = std::fs::read(public.join(asset)).unwrap_or_else(|e| panic!("{page}: {asset}: {e}"));
            total += gzipped_size(&bytes);
        }
        assert!(total <= BUDGET, "{page}: {total} bytes gzipped (HTML + {assets:?}), over {BUDGET}");
        if total > heaviest.0 {
            heaviest = (total, page);
        }
    }
    println!("heaviest first visit: {} ({} bytes gzipped)", heaviest.1, heaviest.0);
    assert!(heaviest.0 > 0 && Path::new(&public).is_dir());
}

/// The text of the element after `marker` (its first `>` to the next `</`), unescaped.
fn element_text(html: &str, marker: &str) -> Option<String> {
    let start = html.find(marker)?;
    let open_end = start + html[start..].find('>')? + 1;
    let text = html[open_end..].strip_prefix("<code>").unwrap_or(&html[open_end..]);
    let end = text.find("</")?;
    Some(
        text[..end]
            .replace("&quot;", "\"")
            .replace("&#x27;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// Every page but search and 404 can be cited: `citation_*` tags for Google Scholar and
/// reference managers, and a block with the text in the page language's conventions,
/// BibTeX, RIS and CSL-JSON, all naming the page, its language and the site's
/// `[citation]`; a site without `[citation]` publishes none.
#[test]
fn every_page_can_be_cited_in_four_formats() {
    let site = built_site();
    let mut cited = 0;
    for page in site_pages(&site.public()) {
        if page == "/" || page.ends_with("/search/") || page.ends_with("404.html") {
            continue;
        }
        let html = site.read(&format!("{}index.html", page.trim_start_matches('/')));
        let lang = page.split('/').nth(1).unwrap();
        let meta = |name: &str| attribute(&html, &format!("name=\"{name}\""), "content");
        let title = meta("citation_title").unwrap_or_else(|| panic!("{page}: no citation_title"));
        assert_eq!(meta("citation_author").as_deref(), Some("United Nations Network on Migration"), "{page}");
        assert_eq!(meta("citation_publication_date").as_deref(), Some("2022"), "{page}");
        assert_eq!(meta("citation_language").as_deref(), Some(lang), "{page}");
        let url = format!("https://example.org{page}");

        let text =
            element_text(&html, "data-cite-format=\"text\"").unwrap_or_else(|| panic!("{page}: no citation text"));
        assert!(text.contains(&title) && text.contains("2022") && text.ends_with(&url), "{page}: {text}");
        let bibtex = element_text(&html, "data-cite-format=\"bibtex\"").unwrap();
        assert!(bibtex.starts_with("@misc{") || bibtex.starts_with("@techreport{"), "{page}: {bibtex}");
        assert!(bibtex.contains("  author = {{United Nations Network on Migration}},\n"), "{page}: {bibtex}");
        assert!(bibtex.contains(&format!("  url = {{{url}}},\n  language = {{{lang}}}\n}}")), "{page}: {bibtex}");
        assert_eq!(bibtex.matches('{').count(), bibtex.matches('}').count(), "{page}: unbalanced braces");
        let ris = element_text(&html, "data-cite-format=\"ris\"").unwrap();
        assert!(ris.starts_with("TY  - RPRT\n") && ris.ends_with("ER  -\n"), "{page}: {ris}");
        assert!(ris.lines().all(|line| line.len() >= 5 && &line[2..5] == "  -"), "{page}: {ris}");
        assert!(ris.contains(&format!("\nUR  - {url}\n")) && ris.contains(&format!("\nLA  - {lang}\n")), "{page}");
        let csl: serde_json::Value =
            serde_json::from_str(&element_text(&html, "data-cite-format=\"csl-json\"").unwrap()).unwrap();
        assert_eq!(csl[0]["title"], serde_json::json!(title), "{page}");
        assert_eq!(csl[0]["URL"], serde_json::json!(url), "{page}");
        assert_eq!(csl[0]["issued"], serde_json::json!({"date-parts": [[2022]]}), "{page}");
        assert_eq!(csl[0]["container-title"].is_null(), page.matches('/').count() == 2, "{page}: a home is the note");
        cited += 1;
    }
    assert_eq!(cited, 6 * 9, "six languages, nine pages each");

    let french = site.read("fr/objective-14/index.html");
    let text = element_text(&french, "data-cite-format=\"text\"").unwrap();
    assert!(text.contains("2022. « Objectif 14\u{a0}: ") && text.contains(" ». Dans "), "French conventions: {text}");

    let without = SiteTest::fixture("basic");
    without.build().ok();
    let html = without.read("en/objective-2/index.html");
    assert!(!html.contains("citation_title") && !html.contains("cite-this"), "no [citation], no citation");
}
