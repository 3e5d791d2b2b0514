//! The build cache (`build` without `--no-cache`): a build that reuses pages and search
//! indexes from the cache, and files from the output before last kept beside the
//! output, must write exactly what a build without the cache writes, warn exactly as it
//! does, and never publish bytes it did not make itself: after random edits, with a
//! damaged cache file, with the kept output or the output tampered with, and with two
//! builds at once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{Rng, Run, SiteTest, copy_dir, counted, snapshot_tree};

type Tree = Vec<(String, Vec<u8>)>;

const CACHE: &str = ".imrf-site-cache";
const KEPT: &str = ".public.imrf-site-previous";
/// Longer than the margin within which the cache does not trust a file's stamp
/// (`files::Stamp::settled_before`): files older than this are known without reading.
const SETTLED: std::time::Duration = std::time::Duration::from_millis(3200);

/// The rounds of random edits: `IMRF_CACHE_ROUNDS` for a longer run.
fn rounds() -> usize {
    std::env::var("IMRF_CACHE_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(25)
}

fn seed() -> u64 {
    std::env::var("IMRF_CACHE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0xcac4_e5ee_d001_u64)
}

/// What a build with the cache says it took from it: its second summary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reused {
    pages: usize,
    of_pages: usize,
    indexes: usize,
    of_indexes: usize,
    /// Source files read from disk, of those found.
    sources_read: usize,
    of_sources: usize,
    /// Whether the link checks' problems were the last build's.
    link_checks: bool,
}

impl Reused {
    /// Parses `Reused X of Y pages and A of B search indexes from the build cache (...);
    /// read C of D source files`, or `Reused X of Y pages, A of B search indexes and the
    /// link checks from the build cache (...); ...`.
    #[track_caller]
    fn of(run: &Run) -> Self {
        Self::parse(&run.ok()).unwrap_or_else(|| panic!("no cache line in:\n{}", run.stdout()))
    }

    fn parse(stdout: &str) -> Option<Self> {
        let line = stdout.lines().find(|line| line.starts_with("Reused "))?;
        let link_checks = line.contains(" search indexes and the link checks from the build cache (");
        assert!(link_checks || line.contains(" search indexes from the build cache ("), "{line}");
        let counted = |noun: &str| counted(line, noun).unwrap_or_else(|| panic!("no `X of Y {noun}` in: {line}"));
        let ((pages, of_pages), (indexes, of_indexes)) = (counted("pages"), counted("search"));
        let (sources_read, of_sources) = counted("source");
        Some(Self { pages, of_pages, indexes, of_indexes, sources_read, of_sources, link_checks })
    }
}

/// The warnings and errors a run printed, one line each (`Run::messages` without
/// anything else written to stderr).
fn warnings(run: &Run) -> Vec<String> {
    run.messages().into_iter().filter(|m| m.starts_with("warning") || m.starts_with("error")).collect()
}

/// A build without the cache into `<root>/cold`: its files and its warnings.
#[track_caller]
fn cold_build(site: &SiteTest) -> (Tree, Vec<String>) {
    cold_build_with(site, &[])
}

/// `cold_build` with more arguments (`--base-url`).
#[track_caller]
fn cold_build_with(site: &SiteTest, more: &[&str]) -> (Tree, Vec<String>) {
    let cold = site.root().join("cold");
    let mut args = vec!["build", "--no-cache", "--output", cold.to_str().unwrap()];
    args.extend(more);
    let run = site.run(&args);
    let stdout = run.ok();
    assert!(!stdout.contains("Reused "), "a build without the cache reports no reuse: {stdout}");
    (snapshot_tree(&cold), warnings(&run))
}

/// Where two trees differ, one line per file, with the first differing line of a text.
fn differences(cached: &Tree, cold: &Tree) -> Vec<String> {
    let mut found = Vec::new();
    let (mut left, mut right) = (cached.iter().peekable(), cold.iter().peekable());
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some((path, _)), None) => {
                found.push(format!("{path}: only in the cached build"));
                left.next();
            }
            (None, Some((path, _))) => {
                found.push(format!("{path}: missing from the cached build"));
                right.next();
            }
            (Some((a, _)), Some((b, _))) if a < b => {
                found.push(format!("{a}: only in the cached build"));
                left.next();
            }
            (Some((a, _)), Some((b, _))) if a > b => {
                found.push(format!("{b}: missing from the cached build"));
                right.next();
            }
            (Some((path, x)), Some((_, y))) => {
                if x != y {
                    let (x, y) = (String::from_utf8_lossy(x), String::from_utf8_lossy(y));
                    let first = x.lines().zip(y.lines()).find(|(a, b)| a != b);
                    let shown = match first {
                        Some((a, b)) => format!("cached {:?}\n      clean  {:?}", clip(a), clip(b)),
                        None => format!("{} bytes, clean build {} bytes", x.len(), y.len()),
                    };
                    found.push(format!("{path}: differs: {shown}"));
                }
                left.next();
                right.next();
            }
        }
    }
    found
}

fn clip(line: &str) -> String {
    line.chars().take(300).collect()
}

/// Asserts that the cached build's output (`public`) and messages are a clean build's.
#[track_caller]
fn assert_equals_a_clean_build(site: &SiteTest, cached: &Run, context: &dyn Fn() -> String) {
    assert_equals_a_clean_build_with(site, cached, &[], context);
}

/// `assert_equals_a_clean_build` for a build run with more arguments (`--base-url`).
#[track_caller]
fn assert_equals_a_clean_build_with(site: &SiteTest, cached: &Run, more: &[&str], context: &dyn Fn() -> String) {
    let (cold, cold_messages) = cold_build_with(site, more);
    let public = snapshot_tree(&site.public());
    let different = differences(&public, &cold);
    assert!(
        different.is_empty(),
        "the cached build differs from a clean build:\n{}\n{}",
        different.join("\n"),
        context()
    );
    assert_eq!(
        warnings(cached),
        cold_messages,
        "the cached build's warnings differ from a clean build's\n{}",
        context()
    );
}

fn page(title: &str, body: &str) -> String {
    format!("+++\ntitle = \"{title}\"\n+++\n\n{body}\n")
}

/// The URL of a page of `site/content/` (`en/folder-3/page.md` is `/en/folder-3/page/`).
fn url_of(name: &str) -> String {
    format!("/{}/", name.trim_end_matches(".md").trim_end_matches("/_index"))
}

/// Sets the first line `key = ...` of a TOML source to `key = value`.
#[track_caller]
fn set_toml(site: &SiteTest, path: &str, key: &str, value: &str) {
    let prefix = format!("{key} = ");
    let mut found = false;
    let text: String = site
        .source(path)
        .lines()
        .map(|line| {
            if line.starts_with(&prefix) && !found {
                found = true;
                format!("{prefix}{value}\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    assert!(found, "{path} has no {key}");
    site.write(path, text);
}

fn append(site: &SiteTest, path: &str, text: &str) {
    let old = site.source(path);
    site.write(path, format!("{old}{text}"));
}

/// The HTML files the clean build wrote under `folder/`.
fn html_under(site: &SiteTest, folder: &str) -> usize {
    snapshot_tree(&site.root().join("cold").join(folder)).iter().filter(|(path, _)| path.ends_with(".html")).count()
}

/// The pages of the `serve` fixture (`fr/notes.md`, a translation, comes and goes).
const FIXTURE_PAGES: [&str; 5] = ["en/_index.md", "en/notes.md", "en/objective-14.md", "fr/_index.md", "fr/notes.md"];

/// Random edits of a site's sources, remembering the pages they created.
struct Editor<'s> {
    site: &'s SiteTest,
    rng: Rng,
    created: Vec<String>,
    /// The French translation of the notes while it is removed.
    removed_translation: Option<String>,
    /// The `--base-url` the builds are given, if any.
    base_url: Option<&'static str>,
}

/// What one edit did, for the assertion messages, and whether it only changed the text
/// of one page (in which language).
struct Edit {
    what: String,
    text_only: Option<&'static str>,
}

impl<'s> Editor<'s> {
    /// Edits `site`, whose configuration gets every option it toggles.
    fn new(site: &'s SiteTest, seed: u64) -> Self {
        append(site, "site/config.toml", "open_data = false\n");
        Self { site, rng: Rng(seed), created: Vec::new(), removed_translation: None, base_url: None }
    }

    /// The pages there are now.
    fn pages(&self) -> Vec<String> {
        let content = self.site.root().join("site/content");
        FIXTURE_PAGES
            .iter()
            .map(|p| p.to_string())
            .chain(self.created.iter().cloned())
            .filter(|page| content.join(page).exists())
            .collect()
    }

    /// A link to a page that exists now (and may not later: a broken link warns).
    fn some_link(&mut self) -> String {
        let pages = self.pages();
        let target = &pages[self.rng.below(pages.len())];
        format!("[see also]({})", url_of(target))
    }

    /// Sets a boolean of `site/config.toml` to the other value.
    fn toggle(&self, key: &str) -> String {
        let text = self.site.source("site/config.toml");
        let on = text.lines().any(|line| line == format!("{key} = true"));
        set_toml(self.site, "site/config.toml", key, if on { "false" } else { "true" });
        format!("site/config.toml: {key} = {}", !on)
    }

    fn edit(&mut self, round: usize, n: usize) -> Edit {
        let site = self.site;
        let pages = self.pages();
        let target = pages[self.rng.below(pages.len())].clone();
        let content = format!("site/content/{target}");
        let tag = format!("r{round}e{n}");
        let what = match self.rng.below(23) {
            0..=4 => {
                let link = if self.rng.below(3) == 0 { format!(" {}", self.some_link()) } else { String::new() };
                if self.rng.below(2) == 0 {
                    append(site, &content, &format!("\nParagraph {tag}{link}.[^{tag}]\n\n[^{tag}]: Source {tag}.\n"));
                    format!("text of {target} (with footnote {tag}{link})")
                } else {
                    append(site, &content, &format!("\nParagraph {tag}{link}.\n"));
                    let language = if target.starts_with("fr/") { "fr" } else { "en" };
                    return Edit { what: format!("text of {target}{link}"), text_only: Some(language) };
                }
            }
            5 => {
                set_toml(site, &content, "title", &format!("\"Title {tag}\""));
                format!("title of {target}")
            }
            6 | 7 => {
                let language = ["en", "fr"][self.rng.below(2)];
                let name = if self.rng.below(3) == 0 {
                    format!("{language}/folder-{tag}/page.md")
                } else {
                    format!("{language}/extra-{tag}.md")
                };
                let link = self.some_link();
                site.write(&format!("site/content/{name}"), page(&format!("Extra {tag}"), &format!("A page. {link}")));
                self.created.push(name.clone());
                format!("new page {name}")
            }
            8 if !self.created.is_empty() => {
                let name = self.created.remove(self.rng.below(self.created.len()));
                site.remove(&format!("site/content/{name}"));
                if let Some((folder, _)) = name.rsplit_once('/').filter(|(folder, _)| folder.contains('/')) {
                    site.remove(&format!("site/content/{folder}"));
                }
                format!("removed {name}")
            }
            9 if !self.created.is_empty() => {
                let index = self.rng.below(self.created.len());
                let old = self.created[index].clone();
                // A page in its own folder: the folder is renamed.
                let (from, to) = match old.rsplit_once('/').filter(|(folder, _)| folder.contains('/')) {
                    Some((folder, _)) => (folder.to_string(), format!("{folder}-{tag}")),
                    None => (old.clone(), old.replace(".md", &format!("-{tag}.md"))),
                };
                let root = site.root().join("site/content");
                std::fs::rename(root.join(&from), root.join(&to)).unwrap();
                self.created[index] = old.replacen(&from, &to, 1);
                format!("renamed {from} to {to}")
            }
            10 if !self.created.is_empty() => {
                // A draft is not published: links to it break.
                let name = self.created[self.rng.below(self.created.len())].clone();
                let path = format!("site/content/{name}");
                let text = site.source(&path);
                match text.strip_prefix("+++\ndraft = true\n") {
                    Some(rest) => site.write(&path, format!("+++\n{rest}")),
                    None => site.write(&path, text.replacen("+++\n", "+++\ndraft = true\n", 1)),
                }
                format!("draft toggled on {name}")
            }
            11 => {
                let path = "site/content/fr/notes.md";
                match self.removed_translation.take() {
                    Some(text) => {
                        site.write(path, text);
                        format!("{path} restored")
                    }
                    None => {
                        self.removed_translation = Some(site.source(path));
                        site.remove(path);
                        format!("{path} removed (shown in English)")
                    }
                }
            }
            12 => {
                let (template, anchor) = match self.rng.below(4) {
                    0 => ("page.html", "</article>"),
                    1 => ("base.html", "</footer>"),
                    2 => ("notices.html", "{% endif %}"),
                    _ => ("footnotes.html", "{%"),
                };
                let template = format!("themes/default/templates/{template}");
                site.edit(&template, anchor, &format!("<span class=\"{tag}\"></span>{anchor}"));
                format!("edit of {template}")
            }
            13 => {
                let (path, text) = match self.rng.below(4) {
                    0 => (
                        "themes/default/css/main.css",
                        format!("\n.{tag} {{ color: #{:06x}; }}\n", self.rng.below(0xffffff)),
                    ),
                    1 => (
                        "themes/default/css/_tokens.css",
                        format!("\n:root {{ --{tag}: {}px; }}\n", self.rng.below(100)),
                    ),
                    2 => ("themes/default/js/site.js", format!("\n// {tag}\n")),
                    _ => ("themes/default/static/favicon.svg", format!("<!-- {tag} -->\n")),
                };
                append(site, path, &text);
                format!("edit of {path}")
            }
            14 | 15 => {
                let language = ["fr", "fr", "en"][self.rng.below(3)];
                let path = format!("i18n/{language}.toml");
                let (key, value) = match self.rng.below(5) {
                    0 => ("name", format!("\"Language {tag}\"")),
                    1 => ("home", format!("\"Home {tag}\"")),
                    2 => ("footer_text", format!("\"Footer {tag}.\"")),
                    // Without its placeholder: the build warns.
                    3 => ("footnote_reference", "\"Note\"".to_string()),
                    _ => ("footnote_reference", "\"Note {number}\"".to_string()),
                };
                set_toml(site, &path, key, &value);
                format!("{path}: {key} = {value}")
            }
            16 => {
                set_toml(site, "site/config.toml", "title", &format!("\"Site {tag}\""));
                "title of site/config.toml".to_string()
            }
            17 => match self.rng.below(3) {
                0 => self.toggle("offline"),
                1 => self.toggle("open_data"),
                _ => {
                    let text = site.source("site/config.toml");
                    match text.split_once("\n[citation]\n") {
                        Some((before, _)) => {
                            site.write("site/config.toml", format!("{before}\n"));
                            "site/config.toml: [citation] removed".to_string()
                        }
                        None => {
                            append(site, "site/config.toml", "\n[citation]\nauthor = \"Someone\"\nyear = 2022\n");
                            "site/config.toml: [citation] added".to_string()
                        }
                    }
                }
            },
            18 => {
                self.base_url = match self.base_url {
                    Some(_) => None,
                    None => Some("https://mirror.example/imrf/"),
                };
                format!("builds with --base-url {:?}", self.base_url)
            }
            19 => {
                // The French glossary avoids "Paragraph" or stops avoiding it: pages with
                // it warn, or no longer do.
                let path = "i18n/fr.glossary.toml";
                let avoided = site.source(path).contains("\"Paragraph\"");
                let value = if avoided {
                    r#"["IMRF", "Forum international d’examen des migrations"]"#
                } else {
                    r#"["IMRF", "Paragraph"]"#
                };
                set_toml(site, path, "avoid", value);
                format!("{path}: avoid = {value}")
            }
            20 => {
                append(site, &content, &format!("\nThe IMRF met ({tag}).\n"));
                format!("text of {target} with a wording the French glossary avoids")
            }
            _ => {
                let link = self.some_link();
                append(site, &content, &format!("\nParagraph {tag} {link}.\n"));
                format!("text of {target} with {link}")
            }
        };
        Edit { what, text_only: None }
    }
}

#[test]
fn cached_builds_equal_clean_builds_after_random_edits() {
    let seed = seed();
    let site = SiteTest::fixture("serve");
    let mut editor = Editor::new(&site, seed);
    let first = site.build();
    assert_equals_a_clean_build(&site, &first, &|| "the first build".into());
    let all_read = Reused::of(&first);
    assert_eq!(all_read.sources_read, all_read.of_sources, "the first build reads every source");
    // Past the margin within which a file's stamp is not trusted: from the next build
    // on, the files the rounds do not touch are known unchanged, and not read.
    std::thread::sleep(SETTLED);
    let mut history: Vec<String> = Vec::new();
    let mut reused_pages = 0;
    let rounds = rounds();
    for round in 0..rounds {
        let count = 1 + editor.rng.below(3);
        let edits: Vec<Edit> = (0..count).map(|n| editor.edit(round, n)).collect();
        history.extend(edits.iter().map(|edit| format!("round {round}: {}", edit.what)));
        let context =
            || format!("seed {seed} (IMRF_CACHE_SEED), after round {round}; the edits:\n{}", history.join("\n"));
        let more: Vec<&str> = editor.base_url.iter().flat_map(|url| ["--base-url", url]).collect();
        let cached = site.run(&[&["build"], &more[..]].concat());
        let reused = Reused::of(&cached);
        assert_equals_a_clean_build_with(&site, &cached, &more, &context);
        reused_pages += reused.pages;
        // One page's text in French: every page of the other languages is reused.
        if let [Edit { text_only: Some("fr"), .. }] = edits[..] {
            let french = html_under(&site, "fr");
            assert!(
                reused.pages + french >= reused.of_pages,
                "{reused:?} after a French text edit ({french} French pages)\n{}",
                context()
            );
            assert!(reused.indexes >= reused.of_indexes - 1, "{reused:?}\n{}", context());
        }
    }
    assert!(reused_pages > 0, "seed {seed}: no build reused a page");
    // The last phases build without --base-url: once to come back to it.
    if editor.base_url.take().is_some() {
        let run = site.build();
        assert_equals_a_clean_build(&site, &run, &|| format!("seed {seed}: without --base-url at the end"));
    }
    if let Some(text) = editor.removed_translation.take() {
        site.write("site/content/fr/notes.md", text);
        let run = site.build();
        assert_equals_a_clean_build(&site, &run, &|| format!("seed {seed}: fr/notes.md restored at the end"));
    }

    // Nothing changed: everything is reused, and no source read once its file settled.
    std::thread::sleep(SETTLED);
    let settled = site.build();
    assert_equals_a_clean_build(&site, &settled, &|| format!("seed {seed}: a build with nothing changed"));
    let again = site.build();
    let reused = Reused::of(&again);
    assert_eq!((reused.pages, reused.indexes), (reused.of_pages, reused.of_indexes), "seed {seed}: nothing changed");
    assert_eq!(reused.sources_read, 0, "seed {seed}: nothing changed: {reused:?}");
    assert!(reused.link_checks, "seed {seed}: nothing changed: {reused:?}");
    assert_equals_a_clean_build(&site, &again, &|| format!("seed {seed}: a build with nothing changed"));

    // One page's text (both have their page in the other language): that page alone is
    // made again, and the other language's search index is reused.
    for (edited_before, path) in ["fr/notes.md", "en/notes.md"].into_iter().enumerate() {
        append(&site, &format!("site/content/{path}"), "\nOne more paragraph.\n");
        let run = site.build();
        let reused = Reused::of(&run);
        assert_equals_a_clean_build(&site, &run, &|| format!("seed {seed}: a text edit of {path}"));
        assert_eq!(reused.of_pages - reused.pages, 1, "seed {seed}: a text edit of {path}: {reused:?}");
        // This file, the one edited in the round before (too recently to be trusted),
        // and those whose text the checks read again for their warnings' lines; not all.
        let read = reused.sources_read;
        assert!(read > edited_before && read < reused.of_sources, "seed {seed}: a text edit of {path}: {reused:?}");
        assert_eq!(reused.indexes + 1, reused.of_indexes, "seed {seed}: a text edit of {path}: {reused:?}");
    }
    eprintln!("seed {seed}: {} edits in {rounds} rounds, {reused_pages} pages reused in all", history.len());
}

/// The build cache file of a site built with the default cache folder.
fn cache_file(site: &SiteTest) -> PathBuf {
    site.root().join(CACHE).join("build.cache")
}

#[test]
fn a_damaged_cache_is_set_aside_with_a_warning_and_the_output_is_still_right() {
    let site = SiteTest::fixture("serve");
    site.build().ok();
    // Kept whole for the last case: a cache older than the output, the file and its parts.
    let stale = tempfile::tempdir().unwrap();
    copy_dir(&site.root().join(CACHE), stale.path());
    site.build().ok();
    let mut rng = Rng(seed());
    let garbage: Vec<u8> = (0..4096).map(|_| rng.below(256) as u8).collect();
    type Damage = fn(&[u8], &[u8]) -> Vec<u8>;
    let damages: [(&str, Damage); 4] = [
        ("cut in half", |whole, _| whole[..whole.len() / 2].to_vec()),
        ("a byte flipped in the middle", |whole, _| {
            let mut flipped = whole.to_vec();
            flipped[whole.len() / 2] ^= 0x5a;
            flipped
        }),
        ("replaced with garbage", |_, garbage| garbage.to_vec()),
        ("emptied", |_, _| Vec::new()),
    ];
    for (step, (what, damage)) in damages.into_iter().enumerate() {
        let path = cache_file(&site);
        let whole = std::fs::read(&path).unwrap();
        std::fs::write(&path, damage(&whole, &garbage)).unwrap();
        append(&site, "site/content/en/notes.md", &format!("\nParagraph {step}.\n"));
        let run = site.build();
        let reused = Reused::of(&run);
        let about_cache: Vec<String> = warnings(&run).into_iter().filter(|m| m.contains("build cache")).collect();
        assert_eq!(about_cache.len(), 1, "{what}: one warning about the cache: {:?}", run.messages());
        assert!(
            about_cache[0].starts_with("warning: ") && about_cache[0].contains("the build cache was not used"),
            "{what}: {about_cache:?}"
        );
        assert_eq!(reused.pages, 0, "{what}: nothing is taken from a damaged cache");
        // The clean build has no cache warning; the rest must be the same.
        let (cold, cold_messages) = cold_build(&site);
        let different = differences(&snapshot_tree(&site.public()), &cold);
        assert!(different.is_empty(), "{what}: {}", different.join("\n"));
        let other: Vec<String> = warnings(&run).into_iter().filter(|m| !m.contains("build cache")).collect();
        assert_eq!(other, cold_messages, "{what}");

        // Saved again whole: the next build uses it without a word.
        append(&site, "site/content/fr/notes.md", &format!("\nParagraphe {step}.\n"));
        let next = site.build();
        let reused = Reused::of(&next);
        assert!(reused.pages > 0, "{what}: the build after reuses nothing: {reused:?}");
        assert_equals_a_clean_build(&site, &next, &|| format!("the build after a cache {what}"));
    }

    // Each part of the cache file damaged in turn: the same, one warning and nothing
    // reused. The cache file and its parts are put back as they were before each, its
    // other parts whole.
    append(&site, "site/content/en/notes.md", "\nA damaged part.\n");
    site.build().ok();
    let (cold, cold_messages) = cold_build(&site);
    let whole_parts = tempfile::tempdir().unwrap();
    let parts = site.root().join(CACHE).join("parts");
    copy_dir(&parts, whole_parts.path());
    let whole_file = std::fs::read(cache_file(&site)).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(whole_parts.path())
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() > 20, "the cache's maps are saved in parts: {names:?}");
    for name in names {
        std::fs::remove_dir_all(&parts).unwrap();
        copy_dir(whole_parts.path(), &parts);
        std::fs::write(cache_file(&site), &whole_file).unwrap();
        let part = parts.join(&name);
        let mut bytes = std::fs::read(&part).unwrap();
        bytes[0] ^= 0x5a;
        std::fs::write(&part, bytes).unwrap();
        let run = site.build();
        let about_cache: Vec<String> = warnings(&run).into_iter().filter(|m| m.contains("build cache")).collect();
        assert_eq!(about_cache.len(), 1, "part {name} damaged: one warning about the cache: {:?}", run.messages());
        assert!(about_cache[0].contains("a part of it is missing or damaged"), "{name}: {about_cache:?}");
        assert_eq!(Reused::of(&run).pages, 0, "nothing is taken from a cache with part {name} damaged");
        let different = differences(&snapshot_tree(&site.public()), &cold);
        assert!(different.is_empty(), "part {name} damaged: {}", different.join("\n"));
        let other: Vec<String> = warnings(&run).into_iter().filter(|m| !m.contains("build cache")).collect();
        assert_eq!(other, cold_messages, "part {name} damaged");
    }
    // Saved again whole: the next build uses it silently.
    append(&site, "site/content/fr/notes.md", "\nUne partie abîmée.\n");
    let next = site.build();
    assert!(Reused::of(&next).pages > 0, "the build after a damaged part reuses nothing");
    assert_equals_a_clean_build(&site, &next, &|| "the build after a damaged part".into());

    // A whole cache, but from before the last builds: its records no longer match the
    // output directories, whose files are checked before they are reused.
    std::fs::remove_dir_all(&parts).unwrap();
    copy_dir(stale.path(), &site.root().join(CACHE));
    append(&site, "site/content/en/objective-14.md", "\nA stale cache.\n");
    let run = site.build();
    Reused::of(&run);
    assert_equals_a_clean_build(&site, &run, &|| "a build with a cache file from before the last builds".into());
}

#[test]
fn kept_checks_follow_the_glossary_and_the_front_matter_as_written() {
    let site = SiteTest::fixture("serve");
    append(&site, "site/content/fr/notes.md", "\nParagraph et IMRF.\n");
    site.build().ok();
    let expect_warning = |what: &str, wording: &str| {
        let run = site.build();
        assert!(Reused::of(&run).pages > 0, "{what}: the build reused nothing");
        let found = warnings(&run).iter().any(|m| m.contains(&format!("\"{wording}\" is not the official wording")));
        assert!(found, "{what}: no warning about \"{wording}\": {:?}", run.messages());
        assert_equals_a_clean_build(&site, &run, &|| what.to_string());
    };
    // The glossary changes, the page does not: its kept warnings are not reused.
    set_toml(&site, "i18n/fr.glossary.toml", "avoid", r#"["IMRF", "Paragraph"]"#);
    expect_warning("the French glossary avoids \"Paragraph\"", "Paragraph");
    // The front matter as written changes, not as read: a comment, on the same line.
    let text = site.source("site/content/fr/notes.md").replace("title = \"Notes\"", "title = \"Notes\" # GCM");
    site.write("site/content/fr/notes.md", text);
    expect_warning("a comment in the front matter", "GCM");
}

#[test]
fn kept_link_checks_stand_until_what_they_read_changes() {
    let site = SiteTest::fixture("serve");
    append(&site, "site/content/en/notes.md", "\nSee [a page](/en/later/) and [a place](/en/objective-14/#nowhere).\n");
    let first = site.build();
    assert!(!Reused::of(&first).link_checks, "the first build checks the links");
    let broken =
        |run: &Run, href: &str| warnings(run).iter().any(|m| m.contains(&format!(": link to {href} points to")));
    assert!(broken(&first, "/en/later/") && broken(&first, "/en/objective-14/#nowhere"), "{:?}", first.messages());
    let builds = [
        ("nothing changed", None, true),
        // Every page is made again (the title is in every page's menu), with the same links.
        ("a title", Some(("site/content/en/objective-14.md", "title", "\"Objective fourteen\"")), true),
        // The page a link leads to comes: the files published differ.
        ("a new page", None, false),
    ];
    for (what, title, kept) in builds {
        if let Some((path, key, value)) = title {
            set_toml(&site, path, key, value);
        }
        if what == "a new page" {
            site.write("site/content/en/later.md", page("Later", "A page."));
        }
        let run = site.build();
        let reused = Reused::of(&run);
        assert_eq!(reused.link_checks, kept, "{what}: {reused:?}");
        if title.is_some() {
            assert_eq!(reused.pages, 0, "{what}: every page is made again: {reused:?}");
        }
        assert_equals_a_clean_build(&site, &run, &|| what.to_string());
    }
    let run = site.build();
    assert!(!broken(&run, "/en/later/"), "the link leads to a page now: {:?}", run.messages());
    assert!(broken(&run, "/en/objective-14/#nowhere"), "{:?}", run.messages());
    // The page with the anchor changes its ids (and its text: the unit tests of
    // `link_checks` tell ids from text): the links are checked again.
    append(&site, "site/content/en/objective-14.md", "\nOne more paragraph.\n");
    let run = site.build();
    assert!(!Reused::of(&run).link_checks, "an id added");
    assert_equals_a_clean_build(&site, &run, &|| "an id added".to_string());
}

/// Overwrites the bytes of a built file in place, keeping its size and inode.
fn overwrite_in_place(path: &Path) {
    use std::io::{Seek, Write};
    let bytes = std::fs::read(path).unwrap();
    let position = bytes.iter().position(|&b| b == b'<').unwrap_or(0) + bytes.len() / 2;
    let position = position.min(bytes.len() - 1);
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(std::io::SeekFrom::Start(position as u64)).unwrap();
    file.write_all(&[if bytes[position] == b'X' { b'Y' } else { b'X' }]).unwrap();
}

/// Replaces a built file with a new file (another inode) of the same size.
fn replace_with_same_size(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'X' { b'Y' } else { b'X' };
    let temporary = path.with_file_name(".tampered");
    std::fs::write(&temporary, &bytes).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

/// Calls `f` on every file below `dir` but the manifest.
fn for_every_file(dir: &Path, f: fn(&Path)) {
    for (path, _) in snapshot_tree(dir) {
        if path != ".imrf-site-manifest" {
            f(&dir.join(path));
        }
    }
}

#[test]
fn a_text_edit_updates_the_kept_search_index_and_a_damaged_one_is_made_afresh() {
    let site = SiteTest::fixture("serve");
    // One word for another: the page keeps its length, and so the index its mean length.
    let say = |from: &str, to: &str| {
        let text = site.source("site/content/en/notes.md");
        assert!(text.contains(from));
        site.write("site/content/en/notes.md", text.replace(from, to));
        site.build()
    };
    let first = site.build().ok();
    assert!(!first.contains("updated"), "nothing kept yet: {first}");
    assert!(!site.root().join(CACHE).join("search").exists(), "the first build keeps no index");
    // The first build that changes the English index makes it afresh and keeps it.
    let run = say("point back", "lead back");
    assert!(!run.ok().contains("updated"), "{}", run.stdout());
    assert!(site.root().join(CACHE).join("search").join("en").exists(), "the English index is kept");
    assert_equals_a_clean_build(&site, &run, &|| "a text edit, the search index kept".into());
    let run = say("lead back", "refer back");
    assert!(run.ok().contains(", and updated 1 search index"), "{}", run.stdout());
    assert_equals_a_clean_build(&site, &run, &|| "a text edit, the search index updated".into());
    // Every file the kept index is stored in damaged: the index is made afresh, and right.
    for_every_file(&site.root().join(CACHE).join("search"), overwrite_in_place);
    let run = say("refer back", "link back");
    assert!(!run.ok().contains("updated"), "{}", run.stdout());
    assert_equals_a_clean_build(&site, &run, &|| "a text edit, the kept index damaged".into());
    let run = say("link back", "point back");
    assert!(run.ok().contains(", and updated 1 search index"), "kept again: {}", run.stdout());
    assert_equals_a_clean_build(&site, &run, &|| "a text edit after the index was made afresh".into());
    // The kept index's own cache file damaged: said once, and the index made afresh.
    std::fs::write(site.root().join(CACHE).join("search-en"), b"damaged").unwrap();
    let run = say("point back", "lead back");
    assert!(!run.ok().contains("updated"), "{}", run.stdout());
    let about_cache: Vec<String> = warnings(&run).into_iter().filter(|m| m.contains("build cache")).collect();
    assert_eq!(about_cache.len(), 1, "{:?}", run.messages());
    assert!(about_cache[0].contains("this build makes the search index of en again"), "{about_cache:?}");
    let (cold, cold_messages) = cold_build(&site);
    assert!(differences(&snapshot_tree(&site.public()), &cold).is_empty(), "the kept meta damaged");
    let other: Vec<String> = warnings(&run).into_iter().filter(|m| !m.contains("build cache")).collect();
    assert_eq!(other, cold_messages);
}

const SECOND_EDIT: &str = "\nA second build.\n";

/// A site built twice with the cache, so that the output before last is kept.
fn built_twice() -> SiteTest {
    let site = SiteTest::fixture("serve");
    site.build().ok();
    append(&site, "site/content/en/notes.md", SECOND_EDIT);
    site.build().ok();
    assert!(site.root().join(KEPT).join(".imrf-site-manifest").exists(), "the output before last is kept");
    site
}

/// Takes back the edit before `built_twice`'s second build: the page it changed is
/// again what the kept output holds.
fn undo_second_edit(site: &SiteTest) {
    let text = site.source("site/content/en/notes.md");
    site.write("site/content/en/notes.md", text.strip_suffix(SECOND_EDIT).unwrap());
}

#[test]
fn the_kept_output_is_never_trusted_blindly() {
    let kept = |site: &SiteTest, path: &str| site.root().join(KEPT).join(path);
    type Tamper = fn(&SiteTest, &Path);
    let cases: [(&str, Tamper); 11] = [
        ("a kept page overwritten in place", |_, kept| overwrite_in_place(&kept.join("en/objective-14/index.html"))),
        // The kept page differs from the published one, and the build wants it back.
        ("a kept page the build wants back, overwritten in place", |site, kept| {
            overwrite_in_place(&kept.join("en/notes/index.html"));
            undo_second_edit(site);
        }),
        ("a kept page the build wants back, replaced by another file", |site, kept| {
            replace_with_same_size(&kept.join("en/notes/index.html"));
            undo_second_edit(site);
        }),
        ("every kept file overwritten in place", |_, kept| for_every_file(kept, overwrite_in_place)),
        ("every published file overwritten in place", |site, _| for_every_file(&site.public(), overwrite_in_place)),
        ("a kept page replaced by another file", |_, kept| {
            replace_with_same_size(&kept.join("en/objective-14/index.html"))
        }),
        ("a published page overwritten in place", |site, _| overwrite_in_place(&site.public().join("en/index.html"))),
        ("a published page replaced by another file", |site, _| {
            replace_with_same_size(&site.public().join("en/index.html"))
        }),
        // robots.txt is taken as it was, the sitemap made again.
        ("the sitemap removed from both outputs", |site, kept| {
            std::fs::remove_file(kept.join("sitemap.xml")).unwrap();
            std::fs::remove_file(site.public().join("sitemap.xml")).unwrap();
        }),
        ("the kept output removed", |_, kept| std::fs::remove_dir_all(kept).unwrap()),
        ("the output removed", |site, _| std::fs::remove_dir_all(site.public()).unwrap()),
    ];
    for (what, tamper) in cases {
        let site = built_twice();
        tamper(&site, &kept(&site, ""));
        // An edit elsewhere: the tampered page is not made again by its own sources.
        append(&site, "site/content/fr/notes.md", "\nUne modification ailleurs.\n");
        let run = site.build();
        let reused = Reused::of(&run);
        // Pages are reused unless every one was tampered with.
        assert!(reused.pages > 0 || what.starts_with("every published"), "{what}: {reused:?}");
        assert_equals_a_clean_build(&site, &run, &|| format!("after {what}"));
        // And the build after that, from what this one kept.
        append(&site, "site/content/en/_index.md", "\nAnd one more.\n");
        let next = site.build();
        assert_equals_a_clean_build(&site, &next, &|| format!("the build after {what}"));
    }
}

/// The site maps read the site's outline only: after an edit of a page's text, they are
/// taken from the output, not made again. Without them in the kept output, the output's
/// are linked (a file made again would be a new one).
#[test]
fn the_site_maps_are_reused_while_the_outline_is_the_same() {
    use std::os::unix::fs::MetadataExt;
    const SITE_MAPS: [&str; 2] = ["sitemap.xml", "robots.txt"];
    let site = built_twice();
    let inodes = || SITE_MAPS.map(|file| std::fs::metadata(site.public().join(file)).unwrap().ino());
    let published = inodes();
    for file in SITE_MAPS {
        std::fs::remove_file(site.root().join(KEPT).join(file)).unwrap();
    }
    append(&site, "site/content/fr/notes.md", "\nUne modification du texte.\n");
    let run = site.build();
    assert_equals_a_clean_build(&site, &run, &|| "after a text edit".to_string());
    assert_eq!(inodes(), published, "linked from the output, not made again");
}

/// A build that fails before it writes anything (a mistake in a page's front matter)
/// leaves the output before last beside the output, untouched, and the build after the
/// fix starts from it.
#[test]
fn a_build_that_fails_on_a_typo_keeps_the_output_before_last() {
    use std::os::unix::fs::MetadataExt;
    let site = built_twice();
    // The page as the first build made it: the kept output holds it, the output does not.
    let page = "en/notes/index.html";
    let inode = |path: PathBuf| std::fs::metadata(path).ok().map(|metadata| metadata.ino());
    let kept_page = inode(site.root().join(KEPT).join(page));
    assert!(kept_page.is_some() && kept_page != inode(site.public().join(page)), "the kept page differs");
    let notes = site.source("site/content/en/notes.md");
    site.write("site/content/en/notes.md", notes.replacen("title = \"Notes\"", "title = ", 1));
    let failed = site.build();
    assert!(!failed.success(), "the typo fails the build");
    assert!(failed.stderr().contains("notes.md"), "{}", failed.stderr());
    assert_eq!(inode(site.root().join(KEPT).join(page)), kept_page, "the kept output is where it was");
    assert!(!site.root().join(".public.imrf-site-staging").exists(), "no staging folder is left");
    // Fixed, and the second build's edit taken back: only the kept page has these bytes.
    site.write("site/content/en/notes.md", &notes);
    undo_second_edit(&site);
    let fixed = site.build();
    assert_equals_a_clean_build(&site, &fixed, &|| "after the typo was fixed".to_string());
    assert_eq!(inode(site.public().join(page)), kept_page, "the build after the fix started from the kept output");
}

/// Files the kept output holds that its manifest does not list (put there by hand, or
/// by a tool: a `.DS_Store`) were not made by imrf-site: they are never published, and
/// the builds after go on.
#[test]
fn a_file_added_to_the_kept_output_is_never_published() {
    let site = built_twice();
    let kept = site.root().join(KEPT);
    std::fs::write(kept.join("stray.html"), "<p>not made by imrf-site</p>").unwrap();
    std::fs::create_dir_all(kept.join("en/stray")).unwrap();
    std::fs::write(kept.join("en/stray/index.html"), "<p>not made by imrf-site</p>").unwrap();
    for (step, page) in ["site/content/fr/notes.md", "site/content/en/_index.md"].into_iter().enumerate() {
        append(&site, page, "\nOne more paragraph.\n");
        let run = site.build();
        assert!(run.success(), "{}", run.stderr());
        let (cold, cold_messages) = cold_build_with(&site, &[]);
        let different = differences(&snapshot_tree(&site.public()), &cold);
        assert!(different.is_empty(), "build {step}: the stray files were published:\n{}", different.join("\n"));
        // Neither published nor deleted: the kept folder is left as it is, and said so.
        let (notices, rest): (Vec<String>, Vec<String>) =
            warnings(&run).into_iter().partition(|w| w.contains("imrf-site did not write"));
        assert_eq!(rest, cold_messages, "build {step}: the other warnings are a clean build's");
        assert!(
            notices.len() == 1 && notices[0].contains("stray.html") && notices[0].contains(KEPT),
            "build {step}: {notices:?}"
        );
        assert!(kept.join("stray.html").exists() && kept.join("en/stray/index.html").exists(), "build {step}");
    }
    // Once they are gone, builds keep the output again and start from it.
    std::fs::remove_file(kept.join("stray.html")).unwrap();
    std::fs::remove_dir_all(kept.join("en/stray")).unwrap();
    for step in 0..2 {
        append(&site, "site/content/fr/notes.md", &format!("\nParagraph {step}.\n"));
        let run = site.build();
        assert_equals_a_clean_build(&site, &run, &|| format!("build {step} after the stray files went"));
    }
    assert!(kept.join(".imrf-site-manifest").exists(), "the output is kept again");
}

/// A build lists only the output folders that changed since the cache stamped them
/// (`output::folders`); a folder's stamp is trusted once it is older than the clock's
/// margin, so this test waits that long. A file added to such a folder, in the output
/// or the output before last, is still found.
#[test]
fn a_file_added_to_a_folder_the_cache_stamped_is_found() {
    let (published, kept) = (built_twice(), built_twice());
    std::thread::sleep(std::time::Duration::from_millis(3300));
    for site in [&published, &kept] {
        append(site, "site/content/fr/notes.md", "\nAfter a while.\n");
        let run = site.build();
        assert_equals_a_clean_build(site, &run, &|| "the build that stamps the folders".to_string());
    }
    // Folders neither build changed: their stamps are trusted.
    let stray = "en/objective-14/stray.html";
    std::fs::write(published.public().join(stray), "<p>not made by imrf-site</p>").unwrap();
    let message = published.build().err();
    assert!(message.contains("stray.html") && message.contains("did not write"), "{message}");
    assert!(published.public().join(stray).exists());

    std::fs::write(kept.root().join(KEPT).join(stray), "<p>not made by imrf-site</p>").unwrap();
    append(&kept, "site/content/fr/notes.md", "\nOne more.\n");
    let run = kept.build();
    let notices: Vec<String> = warnings(&run).into_iter().filter(|w| w.contains("imrf-site did not write")).collect();
    assert!(notices.len() == 1 && notices[0].contains("stray.html"), "{notices:?}");
    let different = differences(&snapshot_tree(&kept.public()), &cold_build_with(&kept, &[]).0);
    assert!(different.is_empty(), "the stray file was published:\n{}", different.join("\n"));
    assert!(kept.root().join(KEPT).join(stray).exists(), "nor deleted");
}

/// Spawns `imrf-site build --root <root> --output <output>` with its output captured.
fn spawn_build(root: &Path, output: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_imrf-site"))
        .args(["build", "--root"])
        .arg(root)
        .arg("--output")
        .arg(output)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start imrf-site build")
}

#[test]
fn two_builds_at_once_share_the_cache_safely() {
    let site = SiteTest::fixture("serve");
    let outputs = [site.root().join("out-a"), site.root().join("out-b")];
    let mut locked_out = 0;
    // Until one build found the cache taken (a debug build of this site takes tens of
    // milliseconds: two started at once nearly always overlap).
    for attempt in 0..10 {
        if locked_out > 0 && attempt >= 3 {
            break;
        }
        append(&site, "site/content/en/notes.md", &format!("\nAttempt {attempt}.\n"));
        let children: Vec<_> = outputs.iter().map(|output| spawn_build(site.root(), output)).collect();
        let runs: Vec<Run> =
            children.into_iter().map(|child| Run { output: child.wait_with_output().unwrap() }).collect();
        let (cold, cold_messages) = cold_build(&site);
        let mut waiting = 0;
        for (run, output) in runs.iter().zip(&outputs) {
            let stdout = run.ok();
            let lock = "another imrf-site build is using it";
            let messages = warnings(run);
            if messages.iter().any(|m| m.contains(lock)) {
                waiting += 1;
                assert!(Reused::parse(&stdout).is_none(), "a build without the cache reports no reuse: {stdout}");
            } else {
                assert!(Reused::parse(&stdout).is_some(), "{stdout}");
            }
            let others: Vec<String> = messages.into_iter().filter(|m| !m.contains(lock)).collect();
            assert_eq!(others, cold_messages, "attempt {attempt}");
            let different = differences(&snapshot_tree(output), &cold);
            assert!(different.is_empty(), "attempt {attempt}: {}:\n{}", output.display(), different.join("\n"));
        }
        assert!(waiting <= 1, "attempt {attempt}: both builds were kept from the cache");
        locked_out += waiting;
    }
    assert!(locked_out > 0, "two builds started at once never found the cache taken");

    // The cache is whole and free: a build uses it, and the one after reuses pages.
    site.build().ok();
    append(&site, "site/content/fr/notes.md", "\nAprès les builds simultanés.\n");
    let run = site.build();
    let reused = Reused::of(&run);
    assert!(reused.pages > 0, "{reused:?}");
    assert!(warnings(&run).iter().all(|m| !m.contains("build cache")), "{:?}", run.messages());
    assert_equals_a_clean_build(&site, &run, &|| "after two builds at once".into());
}

/// The names in `dir` that imrf-site's cache or kept output use.
fn cache_leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name == CACHE || name.ends_with(".imrf-site-previous"))
        .collect()
}

#[test]
fn no_cache_leaves_no_cache() {
    let site = SiteTest::fixture("serve");
    for _ in 0..2 {
        let stdout = site.run(&["build", "--no-cache"]).ok();
        assert!(!stdout.contains("Reused"), "{stdout}");
        assert!(site.public().join("en/index.html").exists());
        assert_eq!(cache_leftovers(site.root()), Vec::<String>::new(), "--no-cache writes no cache");
    }

    // Elsewhere: the cache is there, not in the root.
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = elsewhere.path().join("cache");
    for round in 0..2 {
        append(&site, "site/content/fr/notes.md", &format!("\nTour {round}.\n"));
        let run = site.run(&["build", "--cache-dir", dir.to_str().unwrap()]);
        let reused = Reused::of(&run);
        assert!(run.stdout().contains(&format!("({}, ", dir.display())), "{}", run.stdout());
        assert!(dir.join("build.cache").is_file(), "the cache is in --cache-dir");
        assert!(!site.root().join(CACHE).exists(), "and not in the root");
        if round == 1 {
            assert!(reused.pages > 0, "the cache in --cache-dir is used: {reused:?}");
        }
        assert_equals_a_clean_build(&site, &run, &|| format!("--cache-dir, build {round}"));
    }

    // A build without the cache between two with it: the next one is still right.
    site.run(&["build", "--cache-dir", dir.to_str().unwrap()]).ok();
    append(&site, "site/content/en/notes.md", "\nWithout the cache.\n");
    site.run(&["build", "--no-cache"]).ok();
    assert!(!site.root().join(KEPT).exists(), "a build without the cache keeps no output");
    append(&site, "site/content/fr/notes.md", "\nWith the cache again.\n");
    let run = site.run(&["build", "--cache-dir", dir.to_str().unwrap()]);
    Reused::of(&run);
    assert_equals_a_clean_build(&site, &run, &|| "a cached build after one without the cache".into());
}

/// A CI run restores the output folders from its cache: every file comes back with a new
/// inode and date. The build reads and hashes them, reuses what is unchanged, and still
/// equals a clean build.
#[test]
fn output_folders_restored_as_copies_are_reused_once_their_bytes_are_checked() {
    let site = built_twice();
    for folder in [site.public(), site.root().join(KEPT)] {
        let copy = site.root().join("restored");
        crate::support::copy_dir(&folder, &copy);
        std::fs::remove_dir_all(&folder).unwrap();
        std::fs::rename(&copy, &folder).unwrap();
    }
    // One file restored with other bytes of the same size is not reused.
    let page = site.public().join("en/objective-14/index.html");
    let mut bytes = std::fs::read(&page).unwrap();
    let at = bytes.len() / 2;
    bytes[at] = if bytes[at] == b'x' { b'y' } else { b'x' };
    std::fs::write(&page, bytes).unwrap();
    append(&site, "site/content/fr/notes.md", "\nRestored, then edited.\n");
    let run = site.build();
    let reused = Reused::of(&run);
    assert!(reused.pages + 3 >= reused.of_pages, "only the edited pages are rendered again: {reused:?}");
    assert_equals_a_clean_build(&site, &run, &|| "after the output folders were restored as copies".into());
}
