//! How a page is cited: the bibliographic fields a site gives in `site/config.toml`
//! (`[citation]`: the author, an organisation; the year; the publisher) and the three
//! formats reference managers read, made for one page: BibTeX, RIS and CSL-JSON. Pure:
//! the theme decides which pages carry a citation and shows it (the `cite` template
//! function); the plain-text citation is a UI string, written each language's way.

use serde::{Deserialize, Deserializer, Serialize};

/// `[citation]` in `site/config.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CitationConfig {
    /// Who wrote the note, as reference managers list it: an organisation, never split
    /// into a given and a family name.
    pub author: String,
    /// The year the note was issued.
    pub year: PublicationYear,
    /// Who published it, when not the author.
    #[serde(default)]
    pub publisher: Option<String>,
}

/// A year of publication: four digits, from 1900 to 2100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PublicationYear(u16);

impl PublicationYear {
    pub fn get(self) -> u16 {
        self.0
    }
}

impl<'de> Deserialize<'de> for PublicationYear {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let year = i64::deserialize(deserializer)?;
        match u16::try_from(year) {
            Ok(year) if (1900..=2100).contains(&year) => Ok(Self(year)),
            _ => Err(serde::de::Error::custom(format!("`year` must be a year such as 2022, not {year}"))),
        }
    }
}

/// One page to cite.
#[derive(Debug, Clone, Copy)]
pub struct CitedPage<'a> {
    pub config: &'a CitationConfig,
    /// The page's title as cited (`Objective 14: Enhance consular protection …`).
    pub title: &'a str,
    /// The whole note's title when the page is part of it; `None` for the note itself.
    pub container: Option<&'a str>,
    /// The page's absolute URL.
    pub url: &'a str,
    /// The language the page is written in (BCP 47).
    pub lang: &'a str,
    /// An identifier for reference managers, unique in the site (`imrf-en-objective-14`).
    pub key: &'a str,
}

/// The formats `cite` makes, by the name the theme asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CitationFormat {
    BibTex,
    Ris,
    CslJson,
}

impl CitationFormat {
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "bibtex" => Some(Self::BibTex),
            "ris" => Some(Self::Ris),
            "csl-json" => Some(Self::CslJson),
            _ => None,
        }
    }

    pub fn write(self, page: &CitedPage) -> String {
        match self {
            Self::BibTex => bibtex(page),
            Self::Ris => ris(page),
            Self::CslJson => csl_json(page),
        }
    }
}

/// A BibTeX `@misc` (the note itself: `@techreport`), every field braced; the author
/// in double braces, so that BibTeX keeps an organisation's name whole.
fn bibtex(page: &CitedPage) -> String {
    let CitedPage { config, title, container, url, lang, key } = *page;
    let mut fields =
        vec![("author", format!("{{{}}}", escape_bibtex(&config.author))), ("title", escape_bibtex(title))];
    let kind = match container {
        Some(container) => {
            fields.push(("howpublished", escape_bibtex(container)));
            fields.extend(config.publisher.as_deref().map(|publisher| ("publisher", escape_bibtex(publisher))));
            "misc"
        }
        None => {
            fields.push(("institution", escape_bibtex(config.publisher.as_deref().unwrap_or(&config.author))));
            "techreport"
        }
    };
    fields.push(("year", config.year.get().to_string()));
    fields.push(("url", url.to_string()));
    fields.push(("language", lang.to_string()));
    let body: Vec<String> = fields.iter().map(|(name, value)| format!("  {name} = {{{value}}}")).collect();
    format!("@{kind}{{{key},\n{}\n}}\n", body.join(",\n"))
}

/// BibTeX's special characters, escaped the LaTeX way; the rest of Unicode is left to
/// biber and BibTeX's UTF-8 support.
fn escape_bibtex(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '\\' => escaped.push_str("\\textbackslash{}"),
            '{' | '}' | '&' | '%' | '$' | '#' | '_' => {
                escaped.push('\\');
                escaped.push(character);
            }
            '~' => escaped.push_str("\\textasciitilde{}"),
            '^' => escaped.push_str("\\textasciicircum{}"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// An RIS record: a report (`RPRT`), the note it is part of as its secondary title; the
/// author ends with a comma, RIS's way of naming an organisation.
fn ris(page: &CitedPage) -> String {
    let CitedPage { config, title, container, url, lang, key } = *page;
    let mut lines = vec![("TY", "RPRT".to_string()), ("ID", key.to_string())];
    lines.push(("AU", format!("{},", one_line(&config.author))));
    lines.push(("TI", one_line(title)));
    if let Some(container) = container {
        lines.push(("T2", one_line(container)));
    }
    lines.push(("PY", config.year.get().to_string()));
    if let Some(publisher) = &config.publisher {
        lines.push(("PB", one_line(publisher)));
    }
    lines.push(("LA", lang.to_string()));
    lines.push(("UR", url.to_string()));
    lines.push(("ER", String::new()));
    lines.iter().map(|(tag, value)| format!("{tag}  - {value}").trim_end().to_string() + "\n").collect()
}

/// RIS fields are one line each.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A CSL-JSON array of one item, as Zotero, Mendeley and citeproc read it.
fn csl_json(page: &CitedPage) -> String {
    let CitedPage { config, title, container, url, lang, key } = *page;
    let mut item = serde_json::json!({
        "id": key,
        "type": "report",
        "title": title,
        "author": [{ "literal": config.author }],
        "issued": { "date-parts": [[config.year.get()]] },
        "language": lang,
        "URL": url,
    });
    if let Some(container) = container {
        item["container-title"] = container.into();
    }
    if let Some(publisher) = &config.publisher {
        item["publisher"] = publisher.as_str().into();
    }
    // Serializing a `Value` cannot fail: every key is a string.
    serde_json::to_string(&[item]).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(publisher: Option<&str>) -> CitationConfig {
        CitationConfig {
            author: "United Nations Network on Migration".into(),
            year: PublicationYear(2022),
            publisher: publisher.map(Into::into),
        }
    }

    fn objective<'a>(config: &'a CitationConfig, title: &'a str) -> CitedPage<'a> {
        CitedPage {
            config,
            title,
            container: Some("IMRF Round table three Background Note"),
            url: "https://example.org/en/objective-20/",
            lang: "en",
            key: "imrf-en-objective-20",
        }
    }

    #[test]
    fn bibtex_braces_the_organisation_and_escapes_specials() {
        let config = config(None);
        let page = objective(&config, "Objective 20: Remittances & 100% of {fees}");
        assert_eq!(
            CitationFormat::BibTex.write(&page),
            "@misc{imrf-en-objective-20,\n  author = {{United Nations Network on Migration}},\n  \
             title = {Objective 20: Remittances \\& 100\\% of \\{fees\\}},\n  \
             howpublished = {IMRF Round table three Background Note},\n  year = {2022},\n  \
             url = {https://example.org/en/objective-20/},\n  language = {en}\n}\n"
        );
        let whole = CitedPage { container: None, key: "imrf-en", ..page };
        let note = CitationFormat::BibTex.write(&whole);
        assert!(note.starts_with("@techreport{imrf-en,\n"), "{note}");
        assert!(note.contains("  institution = {United Nations Network on Migration},\n"), "{note}");
    }

    #[test]
    fn ris_is_one_tagged_line_per_field() {
        let config = config(Some("IOM"));
        let page = objective(&config, "Objective 20:\n  Remittances");
        assert_eq!(
            CitationFormat::Ris.write(&page),
            "TY  - RPRT\nID  - imrf-en-objective-20\nAU  - United Nations Network on Migration,\n\
             TI  - Objective 20: Remittances\nT2  - IMRF Round table three Background Note\nPY  - 2022\n\
             PB  - IOM\nLA  - en\nUR  - https://example.org/en/objective-20/\nER  -\n"
        );
    }

    #[test]
    fn csl_json_is_an_array_of_one_report() {
        let config = config(None);
        let page = objective(&config, "Objective 20: \"Remittances\"");
        let parsed: serde_json::Value = serde_json::from_str(&CitationFormat::CslJson.write(&page)).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!([{
                "id": "imrf-en-objective-20",
                "type": "report",
                "title": "Objective 20: \"Remittances\"",
                "container-title": "IMRF Round table three Background Note",
                "author": [{ "literal": "United Nations Network on Migration" }],
                "issued": { "date-parts": [[2022]] },
                "language": "en",
                "URL": "https://example.org/en/objective-20/",
            }])
        );
    }

    #[test]
    fn a_year_is_four_digits_from_1900_to_2100() {
        let parse = |text: &str| toml::from_str::<CitationConfig>(text).map_err(|e| e.message().to_string());
        assert_eq!(parse("author = \"A\"\nyear = 2022\n").map(|c| c.year.get()), Ok(2022));
        assert_eq!(
            parse("author = \"A\"\nyear = 22\n").err().as_deref(),
            Some("`year` must be a year such as 2022, not 22")
        );
        assert!(parse("author = \"A\"\nyear = \"2022\"\n").is_err());
        assert_eq!(CitationFormat::named("endnote"), None);
    }
}
