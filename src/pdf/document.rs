//! The Typst source of one language's PDF: the theme's `note` function called with the
//! language's words (title, the unofficial-translation notice, what the publisher and
//! URL are), then the whole note in reading order: the home page's text, each objective,
//! any other page, and the guiding questions grouped by objective. A page shown
//! untranslated is set in its own language, under the same notice the site shows.
//! Reads the `Site`; typesets nothing.

use super::markup::{MarkupOptions, body_markup, escaped, inline_markup, push_string};
use crate::content::PageKind;
use crate::i18n::Language;
use crate::site::{Page, Site, Translation};
use crate::types::UrlPath;

/// The theme's file that defines how the PDF looks; the generated note imports it.
pub(super) const TEMPLATE: &str = "note.typ";

/// The Typst source of `language`'s PDF.
pub(super) fn note_source(site: &Site, language: &Language) -> String {
    let code = &language.code;
    let absolute = |url: &str| {
        if url.starts_with('/') { site.base_url.absolute(url) } else { url.to_string() }
    };
    let home = site.pages_in(code).find(|page| site.source(page).front.kind == PageKind::Home);
    let mut out = format!("#import \"{TEMPLATE}\": note, contents, untranslated\n#show: note.with(\n");
    let title = home.map(|page| site.source(page).front.title.as_str()).or(language.get("site_title"));
    let mut argument = |name: &str, value: Option<&str>| {
        out.push_str(&format!("  {name}: "));
        match value {
            Some(value) => push_string(&mut out, value),
            None => out.push_str("none"),
        }
        out.push_str(",\n");
    };
    argument("lang", Some(code.as_str()));
    argument("title", title);
    argument("subtitle", language.get("site_subtitle"));
    argument("description", language.get("footer_text"));
    let is_translation = *code != site.default_language;
    argument("notice", if is_translation { language.get("unofficial_translation") } else { None });
    let citation = site.config.citation.as_ref();
    argument("publisher", citation.map(|c| c.author.as_str()));
    let year = citation.map(|c| language.numbers.digits_only(u64::from(c.year.get())));
    argument("year", year.as_deref());
    argument("url", Some(&site.base_url.absolute(UrlPath::page([code.as_str()]).as_str())));
    out.push_str(")\n\n");

    match home {
        Some(home) => push_page(&mut out, site, language, home, None, &absolute),
        None => out.push_str("#contents()\n\n"),
    }
    let objectives = site.objectives_in(code);
    for page in &objectives {
        let front = &site.source(page).front;
        let number = front.objective.map_or(0, |n| n.get());
        let heading =
            format!("{}{}", objective_label(language, number), language.get("title_separator").unwrap_or(": "));
        push_page(&mut out, site, language, page, Some((heading, &front.title)), &absolute);
    }
    let mut others: Vec<&Page> =
        site.pages_in(code).filter(|page| site.source(page).front.kind == PageKind::Page).collect();
    others.sort_by_key(|page| (site.source(page).front.weight.unwrap_or(i64::MAX), page.key.as_str()));
    for page in others {
        push_page(&mut out, site, language, page, Some((String::new(), &site.source(page).front.title)), &absolute);
    }
    push_guiding_questions(&mut out, site, language, &objectives, &absolute);
    out
}

/// "Objective 14", the language's way.
fn objective_label(language: &Language, number: u8) -> String {
    let pattern = language.get("objective_number").unwrap_or("Objective {number}");
    pattern.replace("{number}", &language.numbers.format(u64::from(number)))
}

/// One page: its heading (none for the home page, whose text opens the note), any
/// notice about its translation, and its body.
fn push_page(
    out: &mut String,
    site: &Site,
    language: &Language,
    page: &Page,
    heading: Option<(String, &str)>,
    absolute: &dyn Fn(&str) -> String,
) {
    let source = site.source(page);
    // The home page's `##` sections are the note's first chapters; an objective's
    // sections sit under its title.
    let heading_offset = if heading.is_some() { 0 } else { -1 };
    let is_home = heading.is_none();
    let options = MarkupOptions {
        heading_offset,
        absolute,
        right_to_left: language.dir.as_str() == "rtl",
        before_first_heading: is_home.then_some("\n#contents()\n"),
    };
    let notice = match page.translation {
        Translation::Missing => language.get("fallback_notice"),
        Translation::Outdated => language.get("outdated_notice"),
        _ => None,
    };
    let shown_in_other_language = source.lang != page.lang;
    if shown_in_other_language {
        out.push_str("#untranslated(");
        push_string(out, source.lang.as_str());
        out.push_str(", ");
        push_string(out, notice.unwrap_or_default());
        out.push_str(")[\n");
    } else if let Some(notice) = notice {
        out.push_str("#untranslated(none, ");
        push_string(out, notice);
        out.push_str(")[\n");
    }
    if let Some((prefix, title)) = heading {
        out.push_str("\n= ");
        out.push_str(&escaped(&prefix));
        out.push_str(&inline_markup(title, &options));
        out.push_str("\n\n");
    }
    out.push_str(&body_markup(&source.body, &options));
    out.push_str("\n\n");
    if shown_in_other_language || notice.is_some() {
        out.push_str("]\n\n");
    }
}

/// The guiding questions, grouped by objective and numbered through, as the note has them.
fn push_guiding_questions(
    out: &mut String,
    site: &Site,
    language: &Language,
    objectives: &[&Page],
    absolute: &dyn Fn(&str) -> String,
) {
    let options = MarkupOptions {
        heading_offset: 0,
        absolute,
        right_to_left: language.dir.as_str() == "rtl",
        before_first_heading: None,
    };
    let mut number = 1;
    let mut section = String::new();
    for page in objectives {
        let source = site.source(page);
        let questions = &source.front.questions;
        if questions.is_empty() {
            continue;
        }
        let label = objective_label(language, source.front.objective.map_or(0, |n| n.get()));
        let short = source.front.short_label.as_deref().unwrap_or(&source.front.title);
        let separator = escaped(language.get("title_separator").unwrap_or(": "));
        section.push_str(&format!("\n== {}{separator}{}\n\n", escaped(&label), inline_markup(short, &options)));
        let lang_open = source.lang != page.lang;
        if lang_open {
            section.push_str("#text(lang: ");
            push_string(&mut section, source.lang.as_str());
            section.push_str(")[");
        }
        section.push_str(&format!("#enum(start: {number}, "));
        for question in questions {
            section.push('[');
            section.push_str(&inline_markup(&question.text, &options));
            section.push_str("], ");
        }
        section.push(')');
        if lang_open {
            section.push(']');
        }
        section.push_str("\n\n");
        number += questions.len();
    }
    if !section.is_empty() {
        out.push_str("\n= ");
        out.push_str(&escaped(language.get("guiding_questions").unwrap_or("Guiding questions")));
        out.push_str("\n\n");
        out.push_str(&section);
    }
}
