//! The client-side search index: for each language, a small manifest, term shards and
//! document chunks under `/<lang>/search/`, which `themes/default/js/search.js` fetches
//! only as a query needs them. Owns what is indexed (every published page's sections,
//! guiding questions and footnotes, each with its anchor), the ranking scores (BM25F,
//! computed here so the client only adds numbers) and the file layout. The text
//! processing both sides share is in `text`.
//!
//! Layout under `<lang>/search/` (`search.js` reads the same):
//! - `index.json`: the text processing to apply to queries, the first separator (below)
//!   of each group of `DIR_SHARDS` term shards, the number of documents, the UI strings and plural forms, and `v`, a hash of
//!   every file below, appended to their URLs so caches never mix two builds.
//! - `s/<n>.json`: a contiguous range of keys in UTF-16 order (JavaScript's string order):
//!   `{"t": [[term, df, postings], ...], "a": [[word, stem], ...]}`. Postings are a string
//!   of base-64 varints, pairs of (document id minus the previous one, score), by id; a
//!   document's id is `chunk * 32 + index in chunk`. A term found in more than
//!   `HEAD_POSTINGS` documents keeps only its best there, and the rest in `t/<n>.json`
//!   (a JSON string, same encoding), named by a fourth element.
//! - `s/dir-<k>.json`: the separators of shards `k * DIR_SHARDS` onwards: for each, the
//!   shortest prefix of its first key that sorts after the previous shard's last key. Two
//!   levels keep the manifest small when a large site has thousands of shards.
//!   `a` maps each indexed word to its stem, so that a prefix the reader is still typing
//!   (`migratio`) reaches the stem (`migrat`) of the words it begins.
//! - `d/<n>.json`: a chunk of documents: `[[url, title, heading, text, lang], ...]`
//!   (`lang` only when the text is not in the index's language). Chunks stay small, so a
//!   first page of results fetches little even on a large site.

pub mod text;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::content::PageKind;
use crate::i18n::Language;
use crate::markdown;
use crate::output::OutputFile;
use crate::render::RenderedSources;
use crate::site::{Page, Site};
use text::TextProcessor;

/// Bumped when the file layout changes, so a cached client never misreads an index.
const FORMAT: u32 = 1;
/// A term shard is closed once its JSON passes this many bytes.
const SHARD_BYTES: usize = 12 * 1024;
/// Shards per directory file.
const DIR_SHARDS: usize = 64;
/// A document chunk is closed once its JSON passes this many bytes.
const CHUNK_BYTES: usize = 2 * 1024;
/// Documents per chunk at most: ids are `chunk * CHUNK_DOCS + index`.
const CHUNK_DOCS: usize = 32;
/// Postings kept in the shard; the rest wait in a tail file until the reader asks for more.
pub const HEAD_POSTINGS: usize = 1000;
/// BM25 saturation and length normalization.
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// How much a word counts in the page title and the section heading, against the text.
const TITLE_WEIGHT: f64 = 3.0;
const HEADING_WEIGHT: f64 = 2.0;
/// Scores are written as integers: tenths.
const SCORE_SCALE: f64 = 10.0;
/// The digits of the postings' varints (URL-safe base 64): 5 bits of value per digit,
/// digits from the upper half continuing the number.
const DIGITS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// UI strings the client shows, by their i18n keys.
const CLIENT_STRINGS: [&str; 6] =
    ["search_no_results", "search_prompt", "search_error", "search_loading", "search_more", "search_all_results"];

/// One searchable stretch of a page: a section, a guiding question or a footnote.
struct Doc {
    url: String,
    title: String,
    heading: String,
    text: String,
    /// The text's language when it is not the index's (a page shown untranslated).
    lang: Option<String>,
}

/// The index files of every language, to add to the site's output: one list per
/// language, in `site.languages` order. A language's files come from `reuse` when it
/// has them: watch mode (`build::Rebuilder`) answers from its memo of earlier builds,
/// keyed by everything an index reads; a clean build answers `None`.
pub fn build(
    site: &Site,
    sources: &RenderedSources,
    assets: &BTreeMap<String, String>,
    reuse: &dyn Fn(&Language) -> Option<Vec<OutputFile>>,
) -> Vec<Vec<OutputFile>> {
    site.languages
        .iter()
        .map(|language| reuse(language).unwrap_or_else(|| build_language(site, sources, assets, language)))
        .collect()
}

fn build_language(
    site: &Site,
    sources: &RenderedSources,
    assets: &BTreeMap<String, String>,
    language: &Language,
) -> Vec<OutputFile> {
    let processor = TextProcessor::for_language(language.code.primary());
    let docs: Vec<Doc> =
        site.pages_in(&language.code).flat_map(|page| page_docs(site, sources, language, page)).collect();
    let chunks = chunk_docs(&docs);
    let index = Index::build(&processor, &docs, &chunks);
    let mut files: Vec<(String, String)> = Vec::new();
    for (n, chunk) in chunks.iter().enumerate() {
        let rows: Vec<Value> = chunk.iter().map(|&d| doc_json(&docs[d])).collect();
        files.push((format!("d/{n}.json"), Value::Array(rows).to_string()));
    }
    let (shards, separators, tails) = index.shards();
    files.extend(shards.into_iter().enumerate().map(|(n, shard)| (format!("s/{n}.json"), shard)));
    let dirs: Vec<&[String]> = separators.chunks(DIR_SHARDS).collect();
    let first_keys: Vec<&str> = dirs.iter().map(|dir| dir[0].as_str()).collect();
    files.extend(dirs.iter().enumerate().map(|(k, dir)| (format!("s/dir-{k}.json"), json!(dir).to_string())));
    files.extend(tails.into_iter().enumerate().map(|(n, tail)| (format!("t/{n}.json"), tail)));
    let mut hasher = blake3::Hasher::new();
    for (path, body) in &files {
        hasher.update(path.as_bytes());
        hasher.update(body.as_bytes());
    }
    let version = hasher.finalize().to_hex()[..10].to_string();
    let manifest = manifest(site, assets, language, &processor, docs.len(), first_keys, version);
    files.push(("index.json".to_string(), manifest.to_string()));
    let base = format!("{}/search", language.code);
    files.into_iter().map(|(path, body)| OutputFile::new(format!("{base}/{path}"), body)).collect()
}

fn manifest(
    site: &Site,
    assets: &BTreeMap<String, String>,
    language: &Language,
    processor: &TextProcessor,
    docs: usize,
    first_keys: Vec<&str>,
    version: String,
) -> Value {
    let stemmer = processor.stemmer_name().map(|name| {
        let url = assets.get(&format!("stem-{name}.js")).map(|path| site.base_url.link(path));
        json!({ "name": name, "url": url })
    });
    let strings: BTreeMap<&str, &str> =
        CLIENT_STRINGS.iter().map(|key| (*key, language.get(key).unwrap_or_default())).collect();
    let plurals = language.plural_tables().remove("search_results").unwrap_or_default();
    json!({
        "format": FORMAT,
        "v": version,
        "lang": language.code.as_str(),
        "text": { "stemmer": stemmer, "foldLatin": processor.folds_latin(), "foldYo": processor.folds_yo() },
        "docs": docs,
        "dirs": first_keys,
        "dirShards": DIR_SHARDS,
        "strings": strings,
        "results": plurals,
    })
}

/// The documents of one published page, in reading order.
fn page_docs(site: &Site, sources: &RenderedSources, language: &Language, page: &Page) -> Vec<Doc> {
    let source = site.source(page);
    let rendered = sources.get(page.source);
    let page_url = site.base_url.link(page.url.as_str());
    let title = markdown::inline_text(&source.front.title);
    let lang = (source.lang != page.lang).then(|| source.lang.to_string());
    let objective = source.front.kind == PageKind::Objective;
    let doc = |anchor: Option<&str>, heading: String, text: String| Doc {
        url: match anchor {
            Some(id) => format!("{page_url}#{id}"),
            None => page_url.clone(),
        },
        title: title.clone(),
        heading,
        text,
        lang: lang.clone(),
    };
    let mut docs = Vec::new();
    for section in &rendered.sections {
        if section.text.trim().is_empty() && section.heading.is_none() {
            continue;
        }
        let (anchor, heading) = match (&section.id, &section.heading) {
            (Some(id), Some(heading)) => (Some(id.as_str()), heading.clone()),
            // The text before the first heading sits under the objective page's
            // "Overview of progress" heading; on other pages it opens the page.
            _ if objective => (Some("overview"), language.get("overview_of_progress").unwrap_or_default().to_string()),
            _ => (None, String::new()),
        };
        docs.push(doc(anchor, heading, section.text.clone()));
    }
    let questions_heading = language.get("guiding_questions").unwrap_or_default();
    for question in &source.front.questions {
        docs.push(doc(Some(&question.id), questions_heading.to_string(), markdown::inline_text(&question.text)));
    }
    let note = language.get("footnote_reference").unwrap_or_default();
    for footnote in &rendered.footnotes {
        let heading = note.replace("{number}", &footnote.number.to_string());
        docs.push(doc(Some(&footnote.id), heading, footnote.text.clone()));
    }
    docs
}

fn doc_json(doc: &Doc) -> Value {
    let mut row = vec![json!(doc.url), json!(doc.title), json!(doc.heading), json!(doc.text)];
    if let Some(lang) = &doc.lang {
        row.push(json!(lang));
    }
    Value::Array(row)
}

/// Groups consecutive documents into chunks of about `CHUNK_BYTES`.
fn chunk_docs(docs: &[Doc]) -> Vec<Vec<usize>> {
    let mut chunks: Vec<Vec<usize>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for (d, doc) in docs.iter().enumerate() {
        let size = doc.url.len() + doc.title.len() + doc.heading.len() + doc.text.len();
        if !current.is_empty() && (bytes + size > CHUNK_BYTES || current.len() == CHUNK_DOCS) {
            chunks.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(d);
        bytes += size;
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// A document's id: `chunk * CHUNK_DOCS + index in chunk`.
type DocRef = usize;

struct Posting {
    doc: DocRef,
    score: u32,
}

struct Index {
    /// Term to postings, best first.
    terms: BTreeMap<String, Vec<Posting>>,
    /// Word to stem, where they differ.
    aliases: BTreeMap<String, String>,
}

/// How often a term occurs in each field of one document.
#[derive(Default, Clone, Copy)]
struct FieldCounts {
    title: u32,
    heading: u32,
    body: u32,
}

impl Index {
    fn build(processor: &TextProcessor, docs: &[Doc], chunks: &[Vec<usize>]) -> Index {
        let mut aliases = BTreeMap::new();
        let mut counts: BTreeMap<String, Vec<(DocRef, FieldCounts, u32)>> = BTreeMap::new();
        let mut lengths = Vec::with_capacity(docs.len());
        let mut titles: BTreeMap<&str, Vec<text::Token>> = BTreeMap::new();
        for (c, chunk) in chunks.iter().enumerate() {
            for (i, &d) in chunk.iter().enumerate() {
                let doc = &docs[d];
                let title = titles.entry(&doc.title).or_insert_with(|| processor.tokens(&doc.title)).clone();
                let heading = processor.tokens(&doc.heading);
                let body = processor.tokens(&doc.text);
                let length = u32::try_from(body.len()).unwrap_or(u32::MAX);
                lengths.push(length);
                let mut fields: BTreeMap<&str, FieldCounts> = BTreeMap::new();
                for (tokens, field) in [(&title, 0), (&heading, 1), (&body, 2)] {
                    for token in tokens.iter() {
                        let entry = fields.entry(&token.term).or_default();
                        match field {
                            0 => entry.title += 1,
                            1 => entry.heading += 1,
                            _ => entry.body += 1,
                        }
                        if token.word != token.term {
                            aliases.insert(token.word.clone(), token.term.clone());
                        }
                    }
                }
                for (term, field_counts) in fields {
                    counts.entry(term.to_string()).or_default().push((c * CHUNK_DOCS + i, field_counts, length));
                }
            }
        }
        let n = docs.len() as f64;
        let average = if lengths.is_empty() { 1.0 } else { lengths.iter().map(|&l| f64::from(l)).sum::<f64>() / n };
        let average = average.max(1.0);
        let terms = counts
            .into_iter()
            .map(|(term, found)| {
                let df = found.len() as f64;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                let mut postings: Vec<Posting> = found
                    .into_iter()
                    .map(|(doc, f, length)| Posting { doc, score: score(idf, f, f64::from(length) / average) })
                    .collect();
                postings.sort_by(|a, b| b.score.cmp(&a.score).then(a.doc.cmp(&b.doc)));
                (term, postings)
            })
            .collect();
        Index { terms, aliases }
    }

    /// The term shards (JSON), the first key of each, and the tail files.
    fn shards(&self) -> (Vec<String>, Vec<String>, Vec<String>) {
        enum Entry<'a> {
            Term(&'a str, &'a [Posting]),
            Alias(&'a str, &'a str),
        }
        let mut entries: Vec<(&str, Entry)> = self
            .terms
            .iter()
            .map(|(term, postings)| (term.as_str(), Entry::Term(term, postings)))
            .chain(self.aliases.iter().map(|(word, stem)| (word.as_str(), Entry::Alias(word, stem))))
            .collect();
        entries.sort_by(|(a, _), (b, _)| a.encode_utf16().cmp(b.encode_utf16()));

        let mut shards = Vec::new();
        let mut first_keys = Vec::new();
        let mut tails = Vec::new();
        let mut terms: Vec<Value> = Vec::new();
        let mut aliases: Vec<Value> = Vec::new();
        let mut bytes = 0;
        let mut last_key = "";
        for (key, entry) in entries {
            if terms.is_empty() && aliases.is_empty() {
                first_keys.push(separator(last_key, key));
            }
            last_key = key;
            match entry {
                Entry::Term(term, postings) => {
                    let head = postings.len().min(HEAD_POSTINGS);
                    let mut row = vec![json!(term), json!(postings.len()), json!(encode(&postings[..head]))];
                    if head < postings.len() {
                        row.push(json!(tails.len()));
                        tails.push(json!(encode(&postings[head..])).to_string());
                    }
                    bytes += Value::Array(row.clone()).to_string().len() + 1;
                    terms.push(Value::Array(row));
                }
                Entry::Alias(word, stem) => {
                    let row = json!([word, stem]);
                    bytes += row.to_string().len() + 1;
                    aliases.push(row);
                }
            };
            if bytes >= SHARD_BYTES {
                shards.push(json!({ "t": std::mem::take(&mut terms), "a": std::mem::take(&mut aliases) }).to_string());
                bytes = 0;
            }
        }
        // The last, partly filled shard; an empty index still gets one (empty) shard.
        if !terms.is_empty() || !aliases.is_empty() || shards.is_empty() {
            if first_keys.len() == shards.len() {
                first_keys.push(String::new());
            }
            shards.push(json!({ "t": terms, "a": aliases }).to_string());
        }
        (shards, first_keys, tails)
    }
}

/// The shortest prefix of `key` that sorts after `previous` (UTF-16 order): enough to
/// tell which shard a key belongs to.
fn separator(previous: &str, key: &str) -> String {
    let mut prefix = String::new();
    for c in key.chars() {
        prefix.push(c);
        if prefix.encode_utf16().cmp(previous.encode_utf16()) == std::cmp::Ordering::Greater {
            break;
        }
    }
    prefix
}

/// Postings as base-64 varints: (id minus the previous id, score) pairs, by id.
fn encode(postings: &[Posting]) -> String {
    let mut sorted: Vec<&Posting> = postings.iter().collect();
    sorted.sort_by_key(|p| p.doc);
    let mut out = String::with_capacity(sorted.len() * 4);
    let mut previous = 0;
    for posting in sorted {
        varint(posting.doc - previous, &mut out);
        varint(posting.score as usize, &mut out);
        previous = posting.doc;
    }
    out
}

fn varint(mut value: usize, out: &mut String) {
    while value >= 32 {
        out.push(char::from(DIGITS[32 + (value & 31)]));
        value >>= 5;
    }
    out.push(char::from(DIGITS[value]));
}

/// BM25F: the fields' counts weighted (the text's normalized by its length) and saturated.
fn score(idf: f64, counts: FieldCounts, relative_length: f64) -> u32 {
    let body = f64::from(counts.body) / (1.0 - B + B * relative_length);
    let weighted = TITLE_WEIGHT * f64::from(counts.title) + HEADING_WEIGHT * f64::from(counts.heading) + body;
    let value = idf * weighted * (K1 + 1.0) / (K1 + weighted);
    // Rounded to hundredths, at least 1 so that every match counts.
    (value * SCORE_SCALE).round().clamp(1.0, f64::from(u32::MAX)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str, heading: &str, text: &str) -> Doc {
        Doc { url: String::new(), title: title.into(), heading: heading.into(), text: text.into(), lang: None }
    }

    /// The documents holding `term`, best score first (ties by id, as the client sorts).
    fn ranking(docs: &[Doc], term: &str) -> Vec<usize> {
        let chunks: Vec<Vec<usize>> = (0..docs.len()).map(|d| vec![d]).collect();
        let index = Index::build(&TextProcessor::for_language("en"), docs, &chunks);
        index.terms[term].iter().map(|p| p.doc / CHUNK_DOCS).collect()
    }

    #[test]
    fn title_and_heading_matches_outrank_the_text() {
        let filler = "migrants send money home to families in countries of origin";
        let docs = [
            doc("Health services", "Access", &format!("{filler} remittances")),
            doc("Remittances and inclusion", "Overview", filler),
            doc("Health services", "Remittance costs", filler),
            doc("Health services", "Access", filler),
        ];
        assert_eq!(ranking(&docs, "remitt"), [1, 2, 0]);
    }

    #[test]
    fn shorter_texts_and_more_occurrences_rank_higher() {
        let long = "other words ".repeat(40);
        let docs = [
            doc("A", "", &format!("consular {long}")),
            doc("A", "", "consular protection"),
            doc("A", "", &format!("consular consular consular {long}")),
        ];
        assert_eq!(ranking(&docs, "consular"), [1, 2, 0]);
    }

    #[test]
    fn postings_are_written_as_base64_varints_by_id() {
        let postings = [Posting { doc: 70, score: 5 }, Posting { doc: 3, score: 1200 }, Posting { doc: 31, score: 32 }];
        // By id: (3, 1200), (+28, 32), (+39, 5). 1200 = 0b1_00101_10000 takes three digits,
        // lowest five bits first, each but the last from the upper half: w l B.
        assert_eq!(encode(&postings), ["D", "wlB", "c", "gB", "nB", "F"].concat());
        assert_eq!(separator("remitt", "remo"), "remo");
        assert_eq!(separator("remitt", "rent"), "ren");
        assert_eq!(separator("", "zeta"), "z");
    }
}
