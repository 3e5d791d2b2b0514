//! The Typst source of one language's PDF: the theme's `note` function called with the
//! language's words (title, the unofficial-translation notice, what the publisher and
//! URL are), then the whole note in reading order: the home page's text with the
//! contents after its opening, each objective, any other page, and the guiding questions
//! grouped by objective. A page shown untranslated is set in its own language, under the
//! same notice the site shows. Reads the `Site`; typesets nothing.

use super::markup::{MarkupOptions, body_markup, escaped, inline_markup, push_string};
use crate::content::PageKind;
use crate::i18n::Language;
use crate::site::{Page, Site, Translation};
use crate::types::{LangCode, UrlPath};

/// The theme's file that defines how the PDF looks; the generated note imports it.
pub(super) const TEMPLATE: &str = "note.typ";

/// The Typst source of `language`'s PDF.
pub(super) fn note_source(site: &Site, language: &Language) -> String {
    let code = &language.code;
    let home = site.pages_in(code).find(|page| site.source(page).front.kind == PageKind::Home);
    let mut out = format!("#import \"{TEMPLATE}\": note, contents, untranslated\n#show: note.with(\n");
    let title = home.map(|page| site.source(page).front.title.as_str()).unwrap_or(ui(language, "site_title"));
    let is_translation = *code != site.default_language;
    let citation = site.config.citation.as_ref();
    let year = citation.map(|c| language.numbers.digits_only(u64::from(c.year.get())));
    let home_url = site.base_url.absolute(UrlPath::page([code.as_str()]).as_str());
    let arguments = [
        ("lang", Some(typst_lang(code))),
        ("title", Some(title)),
        ("subtitle", Some(ui(language, "site_subtitle"))),
        ("description", Some(ui(language, "footer_text"))),
        ("notice", is_translation.then(|| ui(language, "unofficial_translation"))),
        ("publisher", citation.map(|c| c.author.as_str())),
        ("year", year.as_deref()),
        ("url", Some(home_url.as_str())),
    ];
    for (name, value) in arguments {
        out.push_str(&format!("  {name}: "));
        match value {
            Some(value) => push_string(&mut out, value),
            None => out.push_str("none"),
        }
        out.push_str(",\n");
    }
    out.push_str(")\n\n");

    let mut contents = String::from("\n#contents(");
    push_string(&mut contents, ui(language, "contents"));
    contents.push_str(")\n");
    match home {
        Some(home) => push_page(&mut out, site, language, home, PageHeading::Home { contents: &contents }),
        None => out.push_str(&contents),
    }
    let objectives = site.objectives_in(code);
    for page in &objectives {
        let number = site.source(page).front.objective.map_or(0, |n| n.get());
        let label = format!("{}{}", objective_label(language, number), ui(language, "title_separator"));
        push_page(&mut out, site, language, page, PageHeading::Titled { label });
    }
    let mut others: Vec<&Page> =
        site.pages_in(code).filter(|page| site.source(page).front.kind == PageKind::Page).collect();
    others.sort_by_key(|page| (site.source(page).front.weight.unwrap_or(i64::MAX), page.key.as_str()));
    for page in others {
        push_page(&mut out, site, language, page, PageHeading::Titled { label: String::new() });
    }
    push_guiding_questions(&mut out, site, language, &objectives);
    out
}

/// A UI string; a key no language has shows as itself rather than as English.
fn ui<'a>(language: &'a Language, key: &'a str) -> &'a str {
    language.get(key).unwrap_or(key)
}

/// Typst's `lang` takes the primary language subtag only (`zh` of `zh-Hant`).
fn typst_lang(code: &LangCode) -> &str {
    code.primary()
}

/// "Objective 14", the language's way.
fn objective_label(language: &Language, number: u8) -> String {
    ui(language, "objective_number").replace("{number}", &language.numbers.format(u64::from(number)))
}

/// How a page opens in the PDF.
enum PageHeading<'a> {
    /// The home page has no heading: its text opens the note, its `##` sections are
    /// the note's first chapters, and the contents follow its opening paragraphs.
    Home { contents: &'a str },
    /// Other pages open with their title after `label` ("Objective 14: "), their
    /// sections below it.
    Titled { label: String },
}

/// One page: its heading, the notice the site shows where its translation is missing
/// or out of date, and its body, in its own language when that is not the PDF's.
fn push_page(out: &mut String, site: &Site, language: &Language, page: &Page, heading: PageHeading) {
    let source = site.source(page);
    let absolute = |url: &str| absolute_url(site, &page.url, url);
    let options = MarkupOptions {
        heading_offset: if matches!(heading, PageHeading::Home { .. }) { -1 } else { 0 },
        absolute: &absolute,
        right_to_left: language.dir.as_str() == "rtl",
        before_first_heading: match &heading {
            PageHeading::Home { contents } => Some(*contents),
            PageHeading::Titled { .. } => None,
        },
    };
    let other_language = (source.lang != page.lang).then(|| typst_lang(&source.lang));
    if let PageHeading::Titled { label } = &heading {
        let title = format!("\n= {}{}\n\n", escaped(label), inline_markup(&source.front.title, &options));
        push_in_language(out, other_language, &title);
    }
    let notice = match page.translation {
        Translation::Missing => Some(ui(language, "fallback_notice")),
        Translation::Outdated => Some(ui(language, "outdated_notice")),
        _ => None,
    };
    let body = body_markup(source.body(), &options);
    if notice.is_none() && other_language.is_none() {
        out.push_str(&body);
    } else {
        out.push_str("#untranslated(");
        match other_language {
            Some(lang) => push_string(out, lang),
            None => out.push_str("none"),
        }
        out.push_str(", ");
        push_string(out, notice.unwrap_or_default());
        out.push_str(&format!(")[\n{body}\n]"));
    }
    out.push_str("\n\n");
}

/// `markup`, set in `lang` when it is given.
fn push_in_language(out: &mut String, lang: Option<&str>, markup: &str) {
    match lang {
        Some(lang) => {
            out.push_str("#text(lang: ");
            push_string(out, lang);
            out.push_str(&format!(")[{markup}]"));
        }
        None => out.push_str(markup),
    }
}

/// A link of the page at `page` as an absolute URL: the PDF is read away from the site.
fn absolute_url(site: &Site, page: &UrlPath, url: &str) -> String {
    match site_path(page.as_str(), url) {
        Some(path) => site.base_url.absolute(&path),
        None => url.to_string(),
    }
}

/// The site path a link of the page at `page` leads to, resolved as a browser would
/// (`../objective-15/` from `/en/objective-14/` is `/en/objective-15/`); `None` for a
/// URL with a scheme, which is absolute already.
fn site_path(page: &str, url: &str) -> Option<String> {
    let has_scheme = url.find(':').is_some_and(|colon| !url[..colon].contains(['/', '?', '#']));
    if has_scheme {
        return None;
    }
    if url.starts_with('/') {
        return Some(url.to_string());
    }
    let mut segments: Vec<&str> = page.split('/').filter(|s| !s.is_empty()).collect();
    if !page.ends_with('/') {
        segments.pop();
    }
    let (path, rest) = url.find(['?', '#']).map_or((url, ""), |at| url.split_at(at));
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let trailing = if (path.ends_with('/') || path.is_empty()) && !segments.is_empty() { "/" } else { "" };
    Some(format!("/{}{trailing}{rest}", segments.join("/")))
}

/// The guiding questions, grouped by objective and numbered through, as the note has them.
fn push_guiding_questions(out: &mut String, site: &Site, language: &Language, objectives: &[&Page]) {
    let mut number = 1;
    let mut section = String::new();
    for page in objectives {
        let source = site.source(page);
        let questions = &source.front.questions;
        if questions.is_empty() {
            continue;
        }
        let absolute = |url: &str| absolute_url(site, &page.url, url);
        let options = MarkupOptions {
            heading_offset: 0,
            absolute: &absolute,
            right_to_left: language.dir.as_str() == "rtl",
            before_first_heading: None,
        };
        let label = objective_label(language, source.front.objective.map_or(0, |n| n.get()));
        let short = source.front.short_label.as_deref().unwrap_or(&source.front.title);
        let separator = escaped(ui(language, "title_separator"));
        section.push_str(&format!("\n== {}{separator}{}\n\n", escaped(&label), inline_markup(short, &options)));
        let mut list = format!("#enum(start: {number}, ");
        for question in questions {
            list.push_str(&format!("[{}], ", inline_markup(&question.text, &options)));
        }
        list.push(')');
        push_in_language(&mut section, (source.lang != page.lang).then(|| typst_lang(&source.lang)), &list);
        section.push_str("\n\n");
        number += questions.len();
    }
    if !section.is_empty() {
        out.push_str(&format!("\n= {}\n\n{section}", escaped(ui(language, "guiding_questions"))));
    }
}

#[cfg(test)]
mod tests {
    use super::site_path;

    #[test]
    fn links_resolve_from_the_page_as_a_browser_resolves_them() {
        let from = "/en/objective-14/";
        assert_eq!(site_path(from, "../objective-15/").as_deref(), Some("/en/objective-15/"));
        assert_eq!(site_path(from, "notes.pdf#p2").as_deref(), Some("/en/objective-14/notes.pdf#p2"));
        assert_eq!(site_path(from, "../../fr/?q=a").as_deref(), Some("/fr/?q=a"));
        assert_eq!(site_path(from, "/es/").as_deref(), Some("/es/"));
        assert_eq!(site_path(from, "../../../../").as_deref(), Some("/"));
        assert_eq!(site_path(from, "https://example.org/a"), None);
        assert_eq!(site_path(from, "mailto:a@b.org"), None);
    }
}
