//! The index updated by random edits, and made afresh, file by file.

use std::borrow::Cow;

use proptest::prelude::*;

use super::*;
use crate::search::documents::{chunk_docs, chunk_files};
use crate::search::format::NamedFile;

/// What pages are made of: words that share a stem, words that are their own, Han.
const WORDS: [&str; 16] = [
    "migrants",
    "migrant",
    "migration",
    "remittances",
    "remittance",
    "consular",
    "protection",
    "protections",
    "children",
    "child",
    "汇款",
    "移民",
    "领事保护",
    "costs",
    "cost",
    "inclusion",
];

/// Pages of documents, each document a list of words (by place in `WORDS`).
type Pages = Vec<Vec<Vec<usize>>>;

fn texts(pages: &Pages) -> Vec<Vec<String>> {
    pages
        .iter()
        .map(|page| page.iter().map(|doc| doc.iter().map(|&w| WORDS[w]).collect::<Vec<_>>().join(" ")).collect())
        .collect()
}

/// The documents of `pages` one after the other, and each page's range.
fn page_documents(texts: &[Vec<String>]) -> (Vec<Doc<'_>>, Vec<Range<usize>>) {
    let mut docs = Vec::new();
    let mut ranges = Vec::new();
    for (p, page) in texts.iter().enumerate() {
        let start = docs.len();
        for (d, text) in page.iter().enumerate() {
            let url = format!("/en/page-{p}/#s{d}");
            docs.push(Doc {
                url,
                title: "Page",
                heading: Cow::Borrowed("Section"),
                text: Cow::Borrowed(text),
                lang: None,
            });
        }
        ranges.push(start..docs.len());
    }
    (docs, ranges)
}

/// The index's document chunks and shard files, made with the memo, and afresh.
type Files = (Vec<(String, Bytes)>, ShardFiles);

fn both(memo: &mut TermsMemo, language: &str, pages: &Pages) -> (Files, Files) {
    let texts = texts(pages);
    let (docs, ranges) = page_documents(&texts);
    let chunks = chunk_docs(&docs);
    let processor = TextProcessor::for_language(language);
    let kept = (memo.chunk_files(&docs, &chunks), memo.index(&processor, &docs, &ranges, &chunks));
    let (fresh, _) = Index::build(&processor, &docs, &ranges, &chunks, None);
    (kept, (chunk_files(&docs, &chunks), fresh.shards()))
}

fn page() -> impl Strategy<Value = Vec<Vec<usize>>> {
    prop::collection::vec(prop::collection::vec(0..WORDS.len(), 0..10), 1..4)
}

/// An edit of `pages`: a page (any number, taken modulo), a document of it, words,
/// and what to do with them.
type Edit = (usize, usize, Vec<usize>, u8);

fn apply(pages: &mut Pages, (p, d, words, kind): Edit) {
    let p = p % pages.len();
    let d = d % pages[p].len();
    match kind {
        // A document's words replaced by as many others: the delta's case.
        0..=4 => {
            let length = pages[p][d].len();
            pages[p][d] = words.iter().cycle().take(length).copied().collect();
        }
        5 => pages[p][d] = words,
        6 => pages[p].push(words),
        _ => pages.insert(p, vec![words]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn an_index_updated_by_edits_equals_one_made_afresh(
        mut pages in prop::collection::vec(page(), 12..20),
        edits in prop::collection::vec((0..20usize, 0..4usize, prop::collection::vec(0..WORDS.len(), 0..10), 0..8u8), 1..12),
    ) {
        let mut memo = TermsMemo::default();
        let (kept, fresh) = both(&mut memo, "en", &pages);
        prop_assert_eq!(kept, fresh);
        for edit in edits {
            apply(&mut pages, edit);
            let (kept, fresh) = both(&mut memo, "en", &pages);
            prop_assert_eq!(kept, fresh);
        }
    }
}

/// Sixteen pages of two sections each, and a memo holding their index.
fn indexed_pages() -> (Pages, TermsMemo) {
    let pages: Pages = (0..16).map(|p| vec![vec![p % 16, 1, 2, 3, 4], vec![5, 6, 10, 11, 7]]).collect();
    let mut memo = TermsMemo::default();
    both(&mut memo, "en", &pages);
    assert!(!memo.updated, "the first index is made afresh");
    (pages, memo)
}

#[test]
fn a_one_word_edit_updates_the_last_index() {
    let (mut pages, mut memo) = indexed_pages();
    // A word for another: a term and an alias gone, a Han gram added.
    pages[3][1] = vec![5, 6, 10, 12, 8];
    let (kept, fresh) = both(&mut memo, "en", &pages);
    assert!(memo.updated, "one page edited updates the index");
    assert_eq!(kept, fresh);
}

#[test]
fn long_terms_keep_their_tails_through_an_update() {
    // "migrants" in more documents than a shard keeps postings for: a tail file.
    let mut pages: Pages = (0..1100).map(|p| vec![vec![0, 5 + p % 3, 8 + p % 2]]).collect();
    let mut memo = TermsMemo::default();
    let (_, (_, fresh)) = both(&mut memo, "en", &pages);
    assert!(!fresh.tails.is_empty());
    pages[7][0] = vec![0, 0, 6];
    let (kept, fresh) = both(&mut memo, "en", &pages);
    assert!(memo.updated);
    assert_eq!(kept, fresh);
    // The long term gone from one document: its tail is written again.
    pages[9][0] = vec![7, 5, 8];
    let (kept, fresh) = both(&mut memo, "en", &pages);
    assert!(memo.updated);
    assert_eq!(kept, fresh);
}

#[test]
fn a_section_added_makes_the_index_afresh() {
    let (mut pages, mut memo) = indexed_pages();
    // A document added changes every later id: made afresh, and the same again.
    pages[3].push(vec![0]);
    let (kept, fresh) = both(&mut memo, "en", &pages);
    assert!(!memo.updated);
    assert_eq!(kept, fresh);
}

/// The files a language's index left in the output, by path: what `kept::update`
/// hands on without bytes is taken from there.
type Output = std::collections::BTreeMap<String, Bytes>;

/// The index kept in `store` and updated for `pages` (made and kept afresh when it
/// cannot be), put in `output`, against one made afresh: the same files. Returns the
/// new meta, and whether it was an update.
fn kept_round(
    store: &crate::cache::ContentStore,
    meta: Option<kept::KeptMeta>,
    pages: &Pages,
    output: &mut Output,
) -> (kept::KeptMeta, bool) {
    kept_round_of(store, meta, texts(pages), output)
}

/// `kept_round`, for pages given as their documents' texts.
fn kept_round_of(
    store: &crate::cache::ContentStore,
    meta: Option<kept::KeptMeta>,
    texts: Vec<Vec<String>>,
    output: &mut Output,
) -> (kept::KeptMeta, bool) {
    let (docs, ranges) = page_documents(&texts);
    let chunks = chunk_docs(&docs);
    let processor = TextProcessor::for_language("en");
    let page_keys: Vec<kept::InputKey> =
        texts.iter().map(|page| *blake3::hash(format!("{page:?}").as_bytes()).as_bytes()).collect();
    let docs_of = |p: usize| -> Vec<Doc> { page_documents(&texts).0.drain(ranges[p].clone()).collect() };
    let updated = meta
        .filter(|meta| meta.fits(&[0; 32], page_keys.len()))
        .and_then(|meta| kept::update(&processor, &meta, store, page_keys.clone(), &docs_of));
    let was_update = updated.is_some();
    let (files, meta) = match updated {
        Some(update) => update,
        None => {
            let documents = kept::Documents { docs: &docs, pages: &ranges, chunks: &chunks };
            let (files, meta) = kept::make_and_keep(&processor, &documents, [0; 32], page_keys, store);
            (files, meta.expect("the index is kept"))
        }
    };
    store.keep_only(meta.names());
    let mut read = |files: &[kept::IndexFile]| -> Vec<(String, Bytes)> {
        files
            .iter()
            .map(|file| {
                if let Some(body) = &file.body {
                    output.insert(file.path.clone(), body.clone());
                }
                let body = output.get(&file.path).expect("a file not written is in the output").clone();
                assert_eq!(file.hash.version, kept::file_hash(&file.path, &body), "{}", file.path);
                assert_eq!(file.hash.content, xxhash_rust::xxh3::xxh3_128(&body), "{}", file.path);
                (file.path.clone(), body)
            })
            .collect()
    };
    let (chunk_bodies, shard_bodies, tail_bodies) = (read(&files.chunks), read(&files.shards), read(&files.tails));
    let (fresh, _) = Index::build(&processor, &docs, &ranges, &chunks, None);
    let fresh = fresh.shards();
    assert_eq!(chunk_bodies, chunk_files(&docs, &chunks));
    let named = |files: &[NamedFile], folder: &str| -> Vec<(String, Bytes)> {
        files.iter().map(|file| (format!("{folder}/{}.json", file.name), Bytes::from(file.body.clone()))).collect()
    };
    assert_eq!(shard_bodies, named(&fresh.shards, "s"));
    assert_eq!(files.separators, fresh.separators);
    assert_eq!(tail_bodies, named(&fresh.tails, "t"));
    assert_eq!(files.documents, docs.len());
    (meta, was_update)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn an_index_kept_on_disk_and_updated_by_edits_equals_one_made_afresh(
        mut pages in prop::collection::vec(page(), 12..40),
        edits in prop::collection::vec((0..40usize, 0..4usize, prop::collection::vec(0..WORDS.len(), 0..10), 0..8u8), 1..12),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::cache::ContentStore::new(dir.path());
        let mut output = Output::new();
        let (mut meta, _) = kept_round(&store, None, &pages, &mut output);
        for edit in edits {
            apply(&mut pages, edit);
            meta = kept_round(&store, Some(meta), &pages, &mut output).0;
        }
    }
}

#[test]
fn a_kept_index_is_updated_through_a_tail_and_made_afresh_when_a_stored_file_is_gone() {
    let mut pages: Pages = (0..1100).map(|p| vec![vec![0, 5 + p % 3, 8 + p % 2]]).collect();
    let dir = tempfile::tempdir().unwrap();
    let store = crate::cache::ContentStore::new(dir.path());
    let mut output = Output::new();
    let (meta, updated) = kept_round(&store, None, &pages, &mut output);
    assert!(!updated);
    pages[7][0] = vec![0, 0, 6];
    let (meta, updated) = kept_round(&store, Some(meta), &pages, &mut output);
    assert!(updated, "one page edited updates the kept index");
    pages[9][0] = vec![7, 5, 8];
    let (meta, updated) = kept_round(&store, Some(meta), &pages, &mut output);
    assert!(updated);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"damaged").unwrap();
    }
    pages[11][0] = vec![1, 5, 8];
    let (_, updated) = kept_round(&store, Some(meta), &pages, &mut output);
    assert!(!updated, "damaged files make the index afresh");
}

/// A word of a large vocabulary: `n / 3` spelled in letters, bare or with a suffix its
/// stem drops, so that many words share a stem (aliases) and an index of a few thousand
/// words has dozens of shards.
fn many_words(n: usize) -> String {
    let mut stem = String::from("b");
    let mut rest = n / 3;
    loop {
        stem.push(char::from(b'a' + (rest % 26) as u8));
        rest /= 26;
        if rest == 0 {
            break;
        }
    }
    stem.push_str("ok");
    match n % 3 {
        0 => stem,
        1 => format!("{stem}ing"),
        _ => format!("{stem}s"),
    }
}

/// Words in a large vocabulary (`many_words`), forty to a document, each word on one page.
const MANY_WORDS: usize = 9000;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn a_kept_index_of_many_shards_updated_by_edits_equals_one_made_afresh(
        edits in prop::collection::vec((0..usize::MAX, prop::collection::vec(0..2 * MANY_WORDS, 40), 0..3u8), 1..8),
    ) {
        let mut pages: Vec<Vec<usize>> = (0..MANY_WORDS).collect::<Vec<_>>().chunks(40).map(<[usize]>::to_vec).collect();
        let texts = |pages: &Vec<Vec<usize>>| -> Vec<Vec<String>> {
            let text = |doc: &Vec<usize>| doc.iter().map(|&w| many_words(w)).collect::<Vec<_>>().join(" ");
            pages.iter().map(|doc| vec![text(doc)]).collect()
        };
        let dir = tempfile::tempdir().unwrap();
        let store = crate::cache::ContentStore::new(dir.path());
        let mut output = Output::new();
        let (mut meta, _) = kept_round_of(&store, None, texts(&pages), &mut output);
        prop_assert!(meta.shard_count() > 10, "{} shards", meta.shard_count());
        for (p, words, kind) in edits {
            let p = p % pages.len();
            let length = pages[p].len();
            pages[p] = match kind {
                // Its first word over and over: every other key of the page gone.
                0 => vec![pages[p][0]; length],
                // Words of other pages, and new ones (from `MANY_WORDS` on).
                _ => words.into_iter().take(length).collect(),
            };
            meta = kept_round_of(&store, Some(meta), texts(&pages), &mut output).0;
        }
    }
}
