//! `build`'s last step: the link and language-alternate checks over every file it
//! published. What they read of each file (`FileFacts`: its links, ids and alternates,
//! and the offline workers' fingerprint) is kept as the batches are written
//! (`StagedWriter`), and kept in the build cache for the files the next build reuses.
//! The checks are a pass over every link of every page. They are not run when nothing
//! they read changed (`unchanged`): the build publishes the same files at the same base
//! URL as the last one, and every file it wrote holds the links, ids and alternates the
//! last one's held. Then the problems are the last build's (`CheckedLinks`, in the
//! cache), said again with this build's source paths. A reused page's links and
//! alternates are decoded from its facts only when the checks run (`all_links`): a
//! build that takes the last build's problems never decodes them. Facts that do not
//! decode are replaced by what the page's file holds, read from the output.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::Path;

use bytes::Bytes;
use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use super::stages::{PageProblem, page_problems};
use crate::check::{self, PageLinks, folder_form};
use crate::error::Error;
use crate::hreflang::{self, PageAlternates};
use crate::offline::{Fingerprint, Precache};
use crate::output::{OutputFile, Staging};
use crate::site::Site;

/// What the final checks and the offline workers read of one file. The fingerprint
/// comes first: a file reused as it is needs only it (`FileFacts::decode_fingerprint`).
#[derive(Default, Serialize, Deserialize)]
pub(super) struct FileFacts {
    pub(super) fingerprint: Option<Fingerprint>,
    pub(super) links: Option<PageLinks>,
    pub(super) alternates: Option<PageAlternates>,
}

impl FileFacts {
    /// Facts as `facts_of` encoded them; `None` when they do not decode.
    pub(super) fn decode(bytes: &[u8]) -> Option<Self> {
        postcard::from_bytes(bytes).ok()
    }

    /// The offline workers' fingerprint alone, from the start of the facts `facts_of`
    /// encoded (postcard reads a value's fields in order and leaves the rest); `None`
    /// when it does not decode.
    pub(super) fn decode_fingerprint(bytes: &[u8]) -> Option<Option<Fingerprint>> {
        postcard::from_bytes(bytes).ok()
    }
}

/// What the checks found, as the build cache keeps it for the next build.
#[derive(Default, Serialize, Deserialize)]
pub(super) struct CheckedLinks {
    /// The site's absolute URL, which the alternates are read against.
    base_url: String,
    problems: Vec<PageProblem>,
    /// Every file a link or alternate leads to, by `check::target_hash` of its folder
    /// form, sorted: a file added or removed that none leads to changes no problem.
    targets: Vec<u64>,
}

impl CheckedLinks {
    pub(super) fn problems(&self) -> &[PageProblem] {
        &self.problems
    }
}

/// What the last build checked, as this build recalls it.
pub(super) struct LastChecked<'r> {
    pub(super) checked: &'r CheckedLinks,
    /// Every file it published, with its content's hash.
    pub(super) published: &'r FxHashMap<String, u128>,
    /// Each file's facts, encoded (`facts_of`).
    pub(super) facts: &'r FxHashMap<String, Bytes>,
}

/// What the checks read of this build's files.
pub(super) struct Published<'b> {
    /// Every file published (the manifest).
    pub(super) paths: &'b BTreeSet<String>,
    /// Each page's links and ids, as written (a reused page's are in its facts).
    pub(super) links: &'b [PageLinks],
    /// Each page's alternates, as written.
    pub(super) alternates: &'b [PageAlternates],
    /// The files taken as the last build wrote them, facts and all.
    pub(super) reused: &'b FxHashSet<&'b str>,
    /// Where they were published: a reused file whose facts do not decode is read there.
    pub(super) output: &'b Path,
}

/// The problems the checks find in `published`: the last build's (`last`) when nothing
/// they read changed since, or found again; and whether they were the last build's.
pub(super) fn checked_links(site: &Site, published: &Published, last: Option<LastChecked>) -> (CheckedLinks, bool) {
    let base_url = site.base_url.absolute("/");
    if let Some(last) = last.as_ref().filter(|last| unchanged(published, last, &base_url)) {
        let CheckedLinks { problems, targets, .. } = last.checked;
        return (CheckedLinks { base_url, problems: problems.clone(), targets: targets.clone() }, true);
    }
    (check_again(published, last.map(|last| last.facts), &site.base_url.path, base_url), false)
}

/// The checks of `published`, run, the reused files' facts taken from `facts` (the
/// last build's): `base_path` is the path links lead into the site by, `base_url` the
/// site's absolute URL.
fn check_again(
    published: &Published,
    facts: Option<&FxHashMap<String, Bytes>>,
    base_path: &str,
    base_url: String,
) -> CheckedLinks {
    let (links, alternates) = all_links(published, facts);
    let paths = || published.paths.iter().map(String::as_str);
    let links_checked = check::checked_links_among(&links, paths(), base_path);
    let clusters = hreflang::problems_among(&alternates, paths(), &base_url);
    let mut targets = links_checked.targets;
    targets.extend(hreflang::targets(&alternates, &base_url).map(check::target_hash));
    targets.sort_unstable();
    targets.dedup();
    CheckedLinks { problems: page_problems(&links_checked.broken, &clusters), base_url, targets }
}

/// The links and alternates of every page published: those written, and the reused
/// pages', decoded from their facts (`facts`) or, where they do not decode, read from
/// the file. A page with no facts has neither. Only an HTML file has either (`PageLinks::of`):
/// the reused search index files are passed over.
fn all_links<'p>(
    published: &'p Published,
    facts: Option<&FxHashMap<String, Bytes>>,
) -> (Cow<'p, [PageLinks]>, Cow<'p, [PageAlternates]>) {
    debug_assert!(facts.is_some() || published.reused.is_empty(), "a build reuses files only with the cache");
    let mut reused: Vec<&str> = published.reused.iter().copied().filter(|path| path.ends_with(".html")).collect();
    if reused.is_empty() {
        return (Cow::Borrowed(published.links), Cow::Borrowed(published.alternates));
    }
    reused.sort_unstable();
    let decoded: Vec<FileFacts> = reused
        .par_iter()
        .map(|path| match facts.and_then(|facts| facts.get(*path)) {
            Some(bytes) => FileFacts::decode(bytes).unwrap_or_else(|| read_facts(published.output, path)),
            None => FileFacts::default(),
        })
        .collect();
    let mut links = published.links.to_vec();
    let mut alternates = published.alternates.to_vec();
    for FileFacts { links: page_links, alternates: page_alternates, .. } in decoded {
        links.extend(page_links);
        alternates.extend(page_alternates);
    }
    (Cow::Owned(links), Cow::Owned(alternates))
}

/// The links and alternates of the file at `path` in `output`, read from it (none when
/// it cannot be read).
fn read_facts(output: &Path, path: &str) -> FileFacts {
    let Ok(bytes) = std::fs::read(output.join(path)) else { return FileFacts::default() };
    let file = OutputFile::new(path, bytes);
    FileFacts { fingerprint: None, links: PageLinks::of(&file), alternates: PageAlternates::of(&file) }
}

/// Whether the checks would find what they found in the last build: at the same base
/// URL, every page written since (not reused) with the links, ids and alternates the
/// last build's page at its path had (a reused page's are the last build's by
/// definition), and the same files published, but for files no link or alternate
/// leads to (a search index's shards, named by their content). A page added or gone
/// has links of its own: the links are checked again.
fn unchanged(published: &Published, last: &LastChecked, base_url: &str) -> bool {
    if last.checked.base_url != base_url {
        return false;
    }
    let linked = |path: &String| {
        path.ends_with(".html") || last.checked.targets.binary_search(&check::target_hash(folder_form(path))).is_ok()
    };
    let added: Vec<&String> = published.paths.iter().filter(|path| !last.published.contains_key(*path)).collect();
    if added.iter().any(|path| linked(path)) {
        return false;
    }
    // The files published both times count on both sides: the last build's other files
    // are gone. Looked for only when there are some.
    let some_gone = last.published.len() + added.len() > published.paths.len();
    if some_gone && last.published.keys().filter(|path| !published.paths.contains(*path)).any(linked) {
        return false;
    }
    // A page with alternates is an HTML page, which has links and ids too (`PageLinks`
    // is made for every HTML file): each written page's alternates are compared below.
    let alternates: FxHashMap<&str, &PageAlternates> =
        published.alternates.iter().map(|page| (page.page(), page)).collect();
    published.links.par_iter().all(|links| {
        let Some(was) = last.facts.get(links.page()).and_then(|bytes| FileFacts::decode(bytes)) else { return false };
        was.links.as_ref() == Some(links) && was.alternates.as_ref() == alternates.get(links.page()).copied()
    })
}

/// `FileFacts` as this build encodes them, borrowed from what it kept (the same
/// encoding: a reference encodes as what it refers to).
#[derive(Default, Serialize)]
struct FactsOf<'f> {
    fingerprint: Option<&'f Fingerprint>,
    links: Option<&'f PageLinks>,
    alternates: Option<&'f PageAlternates>,
}

/// The facts of every file this build wrote, from its link scans and alternates (of the
/// files it wrote) and offline fingerprints (of every file), each encoded; the `reused`
/// files' are the last build's (`Recalled::facts_of_reused`).
pub(super) fn facts_of(
    links: &[PageLinks],
    alternates: &[PageAlternates],
    fingerprints: &[Fingerprint],
    reused: &FxHashSet<&str>,
) -> FxHashMap<String, Bytes> {
    let mut facts: FxHashMap<&str, FactsOf> = FxHashMap::default();
    for scan in links {
        facts.entry(scan.page()).or_default().links = Some(scan);
    }
    for page in alternates {
        facts.entry(page.page()).or_default().alternates = Some(page);
    }
    // The offline workers remember the reused files' fingerprints too.
    for fingerprint in fingerprints.iter().filter(|fingerprint| !reused.contains(fingerprint.path())) {
        facts.entry(fingerprint.path()).or_default().fingerprint = Some(fingerprint);
    }
    facts
        .into_par_iter()
        // Facts that could not be encoded are left empty, which the next build cannot
        // decode: it makes the file again.
        .map(|(path, facts)| (path.to_string(), Bytes::from(postcard::to_stdvec(&facts).unwrap_or_default())))
        .collect()
}

/// Writes `build`'s batches, keeping what the link and alternates checks need of them,
/// and what the offline workers need (`Precache`), when the site offers them.
pub(super) struct StagedWriter<'s> {
    staging: &'s Staging,
    pub(super) links: Vec<PageLinks>,
    pub(super) alternates: Vec<PageAlternates>,
    precache: Option<&'s Precache>,
}

impl<'s> StagedWriter<'s> {
    pub(super) fn new(staging: &'s Staging, precache: Option<&'s Precache>) -> Self {
        Self { staging, links: Vec::new(), alternates: Vec::new(), precache }
    }

    /// Keeps what the offline workers read of a file reused as it is. The checks read
    /// its links and alternates from its facts, if they run (`all_links`).
    pub(super) fn reuse(&mut self, fingerprint: Option<Fingerprint>) {
        if let Some(precache) = self.precache {
            precache.remember(fingerprint);
        }
    }

    pub(super) fn write(&mut self, files: Vec<OutputFile>) -> Result<(), Error> {
        self.staging.write(&files)?;
        if let Some(precache) = self.precache {
            precache.record_files(&files);
        }
        self.links.par_extend(files.par_iter().filter_map(PageLinks::of));
        self.alternates.par_extend(files.par_iter().filter_map(PageAlternates::of));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE_URL: &str = "https://example.org/";

    fn page(path: &str, body: &str) -> OutputFile {
        let head = r#"<head><link rel="alternate" hreflang="fr" href="https://example.org/fr/"></head>"#;
        OutputFile::new(path, format!("{head}{body}"))
    }

    /// The facts of `files`, the published paths, and the problems found, as a build
    /// leaves them.
    struct Built {
        paths: BTreeSet<String>,
        facts: FxHashMap<String, Bytes>,
        hashes: FxHashMap<String, u128>,
        checked: CheckedLinks,
    }

    fn built(files: &[OutputFile]) -> Built {
        let links: Vec<PageLinks> = files.iter().filter_map(PageLinks::of).collect();
        let alternates: Vec<PageAlternates> = files.iter().filter_map(PageAlternates::of).collect();
        let facts = facts_of(&links, &alternates, &[], &FxHashSet::default());
        let paths: BTreeSet<String> = files.iter().map(|file| file.path.clone()).collect();
        let hashes = paths.iter().map(|path| (path.clone(), 0)).collect();
        let reused = FxHashSet::default();
        let output = Path::new("/nowhere");
        let published = Published { paths: &paths, links: &links, alternates: &alternates, reused: &reused, output };
        let checked = check_again(&published, None, "/", BASE_URL.into());
        Built { paths, facts, hashes, checked }
    }

    /// Whether the checks of `now`'s files could take `last`'s problems, `reused` taken
    /// as the last build wrote them.
    fn unchanged_since(last: &Built, now: &[OutputFile], reused: &[&str], base_url: &str) -> bool {
        let paths = built(now).paths;
        let reused: FxHashSet<&str> = reused.iter().copied().collect();
        // A build keeps the links and alternates of the files it writes only.
        let written = || now.iter().filter(|file| !reused.contains(file.path.as_str()));
        let links: Vec<PageLinks> = written().filter_map(PageLinks::of).collect();
        let alternates: Vec<PageAlternates> = written().filter_map(PageAlternates::of).collect();
        let output = Path::new("/nowhere");
        let published = Published { paths: &paths, links: &links, alternates: &alternates, reused: &reused, output };
        let last = LastChecked { checked: &last.checked, published: &last.hashes, facts: &last.facts };
        unchanged(&published, &last, base_url)
    }

    #[test]
    fn the_last_problems_stand_only_while_every_written_page_links_and_names_what_it_did() {
        let files = [
            page("en/index.html", r#"<link href="/en/style.css"><a href="/en/a/#x">a</a><p id="top">"#),
            page("en/a/index.html", r#"<p id="x">"#),
            OutputFile::new("en/style.css", "p {}"),
        ];
        let last = built(&files);
        let all_reused = ["en/index.html", "en/a/index.html"];
        assert!(unchanged_since(&last, &files, &all_reused, BASE_URL));
        assert!(unchanged_since(&last, &files, &[], BASE_URL), "written again, the same");
        assert!(!unchanged_since(&last, &files, &[], "https://example.org/imrf/"), "another base URL");

        let mut edited = files.clone();
        edited[1] = page("en/a/index.html", r#"<p id="y">"#);
        assert!(!unchanged_since(&last, &edited, &["en/index.html"], BASE_URL), "an id gone");
        edited[1] = page("en/a/index.html", r#"<p id="x">Other words, the same id"#);
        assert!(unchanged_since(&last, &edited, &["en/index.html"], BASE_URL));
        edited[1] = page("en/a/index.html", r#"<a href="/en/b/">b</a><p id="x">"#);
        assert!(!unchanged_since(&last, &edited, &["en/index.html"], BASE_URL), "a link added");
        edited[1] = OutputFile::new("en/a/index.html", r#"<p id="x">"#);
        assert!(!unchanged_since(&last, &edited, &["en/index.html"], BASE_URL), "its alternate gone");

        let mut more = files.to_vec();
        more.push(page("en/b/index.html", ""));
        assert!(!unchanged_since(&last, &more, &all_reused, BASE_URL), "a page added");
        assert!(!unchanged_since(&last, &files[..2], &all_reused, BASE_URL), "a file a link leads to gone");
        let mut renamed = files.clone();
        renamed[2] = OutputFile::new("en/site.css", "p {}");
        assert!(!unchanged_since(&last, &renamed, &all_reused, BASE_URL), "a file a link leads to renamed");
        // Nothing leads to a search index's shards, named by their content.
        let mut shard = files.to_vec();
        shard.push(OutputFile::new("en/search/t/1f2e.json", "{}"));
        let last_with_shard = built(&shard);
        assert!(unchanged_since(&last, &shard, &all_reused, BASE_URL), "a file no link leads to added");
        assert!(unchanged_since(&last_with_shard, &files, &all_reused, BASE_URL), "a file no link leads to gone");
        // A file a link or an alternate leads to (missing then), added.
        let mut linking = files.to_vec();
        linking[1] = page("en/a/index.html", r#"<img src="/en/late.png"><p id="x">"#);
        let with_alternate =
            r#"<head><link rel="alternate" hreflang="fr" href="https://example.org/fr/notes.pdf"></head>"#;
        linking.push(OutputFile::new("en/b/index.html", with_alternate));
        let last_linking = built(&linking);
        assert!(unchanged_since(&last_linking, &linking, &[], BASE_URL));
        for (added, what) in
            [("en/late.png", "an image a link leads to"), ("fr/notes.pdf", "a file an alternate leads to")]
        {
            let mut now = linking.clone();
            now.push(OutputFile::new(added, "bytes"));
            assert!(!unchanged_since(&last_linking, &now, &[], BASE_URL), "{what}, added");
        }
        // A page no link leads to, gone: its own links' problems go with it.
        let mut orphan = files.to_vec();
        orphan.push(page("en/orphan/index.html", r#"<a href="/en/nowhere/">x</a>"#));
        assert!(!unchanged_since(&built(&orphan), &files, &all_reused, BASE_URL), "a page gone");
    }

    #[test]
    fn a_reused_page_is_checked_by_its_facts_or_where_they_do_not_decode_by_its_file() {
        let files = [
            page("en/index.html", r#"<a href="/en/gone/">gone</a><a href="/en/a/#x">a</a>"#),
            page("en/a/index.html", r#"<p id="x"><a href="/en/b/">b</a>"#),
        ];
        let last = built(&files);
        let problems = |checked: &CheckedLinks| -> Vec<String> {
            checked.problems().iter().map(|problem| format!("{problem:?}")).collect()
        };
        let found = problems(&last.checked);
        // Each page's broken link, then each page's alternate, which leads to no page.
        assert!(found.len() == 4 && found[0].contains("/en/b/") && found[1].contains("/en/gone/"), "{found:?}");
        let output = tempfile::tempdir().unwrap();
        // The page written this time only: the other's links are in its facts.
        let written = [files[1].clone()];
        let links: Vec<PageLinks> = written.iter().filter_map(PageLinks::of).collect();
        let alternates: Vec<PageAlternates> = written.iter().filter_map(PageAlternates::of).collect();
        let reused = FxHashSet::from_iter(["en/index.html"]);
        let published = Published {
            paths: &last.paths,
            links: &links,
            alternates: &alternates,
            reused: &reused,
            output: output.path(),
        };
        let checked = check_again(&published, Some(&last.facts), "/", BASE_URL.into());
        assert_eq!(problems(&checked), problems(&last.checked), "the reused page's links, from its facts");
        assert_eq!(checked.targets, last.checked.targets);

        // Facts that do not decode: the page is read where it was published.
        let mut damaged = last.facts.clone();
        damaged.insert("en/index.html".into(), Bytes::from_static(b"\x00\x01\xff"));
        let checked = check_again(&published, Some(&damaged), "/", BASE_URL.into());
        assert_eq!(problems(&checked), [found[0].clone(), found[2].clone()], "the page is not there");
        std::fs::create_dir_all(output.path().join("en")).unwrap();
        std::fs::write(output.path().join("en/index.html"), &files[0].bytes).unwrap();
        let checked = check_again(&published, Some(&damaged), "/", BASE_URL.into());
        assert_eq!(problems(&checked), problems(&last.checked), "read from the file");
    }

    #[test]
    fn facts_encoded_from_what_a_build_kept_decode_as_file_facts() {
        let page = OutputFile::new(
            "en/a/index.html",
            r#"<head><link rel="alternate" hreflang="fr" href="https://example.org/fr/a/"></head><a href="/en/b/#x">b</a><p id="y"><p id="a">"#,
        );
        let (links, alternates) = (PageLinks::of(&page).unwrap(), PageAlternates::of(&page).unwrap());
        let precache = Precache::new("/", ["en"], []);
        precache.record_files(&[page.clone(), OutputFile::new("en/reused/index.html", "<p>")]);
        let fingerprints = precache.recorded();
        let reused = FxHashSet::from_iter(["en/reused/index.html"]);
        let encoded = facts_of(std::slice::from_ref(&links), std::slice::from_ref(&alternates), &fingerprints, &reused);
        assert_eq!(encoded.len(), 1, "a reused file's facts are the last build's, not encoded again");
        let decoded = FileFacts::decode(&encoded["en/a/index.html"]).unwrap();
        assert_eq!(decoded.links.as_ref(), Some(&links));
        assert_eq!(decoded.alternates.as_ref(), Some(&alternates));
        let fingerprint = FileFacts::decode_fingerprint(&encoded["en/a/index.html"]).unwrap().unwrap();
        assert_eq!(fingerprint.path(), "en/a/index.html", "read alone, from the start of the facts");
        assert!(FileFacts::decode_fingerprint(&[]).is_none(), "facts that could not be encoded");
        let whole = FileFacts { fingerprint: decoded.fingerprint, links: Some(links), alternates: Some(alternates) };
        assert_eq!(postcard::to_stdvec(&whole).unwrap(), encoded["en/a/index.html"].to_vec());
    }
}
