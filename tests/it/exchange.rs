//! Translations exchanged with CAT tools: `translation export LANG [--format po|xliff]`
//! and `translation import LANG FILE...`. An unchanged export imports as no change at
//! all; the files pass the real tools (msgfmt, xmllint); a translator's edit lands in
//! its block only; an original edited after stamping comes out fuzzy; a new page is
//! written once complete; and every file a translator may get wrong is refused with its
//! file and line, writing nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{Run, SiteTest, snapshot_tree};

/// The translations of the bundled site.
const LANGUAGES: [&str; 5] = ["ar", "es", "fr", "ru", "zh"];

const NOTHING_CHANGED: &str = "Nothing changed: every translation in the file(s) is already in the site\n";

// --- Real tools: skip loudly without them, fail without them in CI ---------------------

/// True when CI=true (or another non-empty value but 0 and false).
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
}

/// Whether the program `name` runs (with `--version`); skips loudly without it, and fails
/// in CI.
fn tool_available(name: &str) -> bool {
    let runs = Command::new(name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !runs {
        assert!(!in_ci(), "{name} is missing and CI is set: .ci/run installs it");
        eprintln!("SKIPPED: {name} is missing, so this test did not run (.ci/run installs it)");
    }
    runs
}

// --- The site's files -------------------------------------------------------------------

/// Every file under site/ and i18n/ with its bytes.
fn sources(site: &SiteTest) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for part in ["site", "i18n"] {
        for (path, bytes) in snapshot_tree(&site.root().join(part)) {
            files.push((format!("{part}/{path}"), bytes));
        }
    }
    files
}

/// The paths that differ between two snapshots (changed, added or removed).
fn changed_files(before: &[(String, Vec<u8>)], after: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut paths: Vec<String> = before.iter().chain(after).map(|(path, _)| path.clone()).collect();
    paths.sort();
    paths.dedup();
    let bytes = |files: &[(String, Vec<u8>)], path: &str| files.iter().find(|(p, _)| p == path).map(|(_, b)| b.clone());
    paths.into_iter().filter(|path| bytes(before, path) != bytes(after, path)).collect()
}

/// A path of the temporary site as the binary prints it.
fn shown(site: &SiteTest, path: &str) -> String {
    site.root().join(path).display().to_string()
}

/// `status --format json`, one language's entry.
fn status_of(site: &SiteTest, code: &str) -> serde_json::Value {
    let report: serde_json::Value = serde_json::from_str(&site.run(&["status", "--format", "json"]).ok()).unwrap();
    report.as_array().unwrap().iter().find(|language| language["code"] == code).unwrap().clone()
}

/// Asserts that `lang` follows its original on every page: nothing outdated, unstamped
/// or missing.
#[track_caller]
fn assert_current(site: &SiteTest, lang: &str) {
    let status = status_of(site, lang);
    for list in ["missing", "outdated", "unstamped"] {
        assert_eq!(status[list], serde_json::json!([]), "{lang} {list}: {status}");
    }
}

// --- Export and import ------------------------------------------------------------------

/// Exports `lang` in `format` into `<root>/translations/<lang>/`; returns the summary
/// line and the files written, checking that the "wrote" lines list them.
#[track_caller]
fn export(site: &SiteTest, lang: &str, format: &str) -> (String, Vec<PathBuf>) {
    let out = site.run(&["translation", "export", lang, "--format", format]).ok();
    let (summary, wrote) =
        out.trim_end().lines().collect::<Vec<_>>().split_last().map(|(s, w)| (*s, w.to_vec())).unwrap();
    assert!(summary.starts_with("Exported "), "{out}");
    let files: Vec<PathBuf> = wrote
        .iter()
        .map(|line| PathBuf::from(line.strip_prefix("wrote ").unwrap_or_else(|| panic!("unexpected line {line:?}"))))
        .collect();
    let folder = site.root().join("translations").join(lang);
    let extension = if format == "po" { "po" } else { "xlf" };
    for file in &files {
        assert_eq!(file.parent(), Some(folder.as_path()), "{}", file.display());
        assert_eq!(file.extension().and_then(|e| e.to_str()), Some(extension), "{}", file.display());
        assert!(file.is_file(), "{}", file.display());
    }
    (summary.to_string(), files)
}

/// The numbers of "Exported N units in M files: T translated, O outdated (fuzzy), W new".
fn counts(summary: &str) -> [usize; 5] {
    let numbers: Vec<usize> = summary.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
    assert_eq!(numbers.len(), 5, "{summary}");
    [numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]]
}

/// The exported file of one page (`objective-14` -> `.../objective-14.po`).
fn exported(site: &SiteTest, lang: &str, stem: &str, extension: &str) -> PathBuf {
    site.root().join("translations").join(lang).join(format!("{stem}.{extension}"))
}

fn import(site: &SiteTest, lang: &str, files: &[PathBuf]) -> Run {
    let mut args: Vec<String> = vec!["translation".into(), "import".into(), lang.into()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    site.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

// --- A CAT tool, minimal: PO entries as the exporter writes them -------------------------

fn po_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").replace('\t', "\\t")
}

fn po_unescape(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// The file's entries: the exporter separates them with one blank line, so joining them
/// with one gives the same bytes back.
fn entries(po: &str) -> Vec<String> {
    po.split("\n\n").map(String::from).collect()
}

fn join(entries: &[String]) -> String {
    entries.join("\n\n")
}

/// The value of `keyword` (`msgctxt`, `msgid`, `msgstr`) in an entry, continuation
/// lines included; `#|` lines are not the entry's own.
fn value(entry: &str, keyword: &str) -> Option<String> {
    let mut lines = entry.lines().skip_while(|line| !line.starts_with(&format!("{keyword} \"")));
    let first = lines.next()?;
    let mut text = po_unescape(&first[keyword.len() + 2..first.len() - 1]);
    for line in lines.take_while(|line| line.starts_with('"')) {
        text.push_str(&po_unescape(&line[1..line.len() - 1]));
    }
    Some(text)
}

/// The entry with its msgstr (and its continuation lines) replaced by `text`.
fn with_msgstr(entry: &str, text: &str) -> String {
    let mut out = Vec::new();
    let mut in_msgstr = false;
    for line in entry.split('\n') {
        if line.starts_with("msgstr ") {
            in_msgstr = true;
            out.push(format!("msgstr \"{}\"", po_escape(text)));
        } else if in_msgstr && line.starts_with('"') {
            continue;
        } else {
            in_msgstr = false;
            out.push(line.to_string());
        }
    }
    out.join("\n")
}

fn is_fuzzy(entry: &str) -> bool {
    entry.lines().any(|line| line == "#, fuzzy")
}

/// What a translator does in a CAT tool: replaces the translation of each unit in
/// `edits`, and confirms the first fuzzy entry (if any) with `confirmed` as its
/// translation, clearing its fuzzy flag. Returns the id of the entry it confirmed.
fn cat_tool(po: &str, edits: &[(&str, &str)], confirmed: &str) -> (String, Option<String>) {
    let mut entries = entries(po);
    for (id, text) in edits {
        let entry = entries
            .iter_mut()
            .find(|entry| value(entry, "msgctxt").as_deref() == Some(*id))
            .unwrap_or_else(|| panic!("no entry with msgctxt {id:?}"));
        *entry = with_msgstr(entry, text);
    }
    let mut cleared = None;
    if let Some(entry) = entries.iter_mut().find(|entry| is_fuzzy(entry)) {
        cleared = value(entry, "msgctxt");
        let kept: Vec<&str> = entry.split('\n').filter(|line| *line != "#, fuzzy").collect();
        *entry = with_msgstr(&kept.join("\n"), confirmed);
    }
    (join(&entries), cleared)
}

/// The entry of unit `id` in a PO file.
#[track_caller]
fn entry_of(po: &str, id: &str) -> String {
    entries(po)
        .into_iter()
        .find(|entry| value(entry, "msgctxt").as_deref() == Some(id))
        .unwrap_or_else(|| panic!("no entry {id}"))
}

/// The 1-based number of the first line of `text` equal to `line`.
#[track_caller]
fn line_of(text: &str, line: &str) -> usize {
    text.lines().position(|l| l == line).unwrap_or_else(|| panic!("no line {line:?}")) + 1
}

/// Runs an import that must be refused: non-zero exit, nothing under site/ or i18n/
/// changed. Returns stderr.
#[track_caller]
fn refused(site: &SiteTest, lang: &str, files: &[PathBuf]) -> String {
    let before = sources(site);
    let run = import(site, lang, files);
    let stderr = run.err();
    assert_eq!(run.stdout(), "", "a refused import reports no write");
    assert_eq!(changed_files(&before, &sources(site)), Vec::<String>::new(), "a refused import wrote: {stderr}");
    run.messages().iter().map(|message| format!("{message}\n")).collect()
}

// --- 1. Round trip ----------------------------------------------------------------------

#[test]
fn importing_every_unchanged_export_of_the_bundled_site_changes_no_byte() {
    let site = SiteTest::bundled();
    let pages = std::fs::read_dir(site.root().join("site/content/en"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "md"))
        .count();
    let before = sources(&site);
    for lang in LANGUAGES {
        let mut summaries = Vec::new();
        for format in ["po", "xliff"] {
            let (summary, files) = export(&site, lang, format);
            eprintln!("{lang} {format}: {summary}");
            let [units, file_count, translated, outdated, new] = counts(&summary);
            assert_eq!(file_count, files.len(), "{summary}");
            assert_eq!(file_count, pages + 1, "one file per page and one for the UI strings: {summary}");
            assert_eq!(units, translated + outdated + new, "{summary}");
            assert_eq!((outdated, new), (0, 0), "the bundled site is fully translated and stamped: {summary}");
            let run = import(&site, lang, &files);
            assert_eq!(run.ok(), NOTHING_CHANGED, "{lang} {format}");
            assert_eq!(run.stderr(), "", "{lang} {format}");
            summaries.push(summary);
        }
        assert_eq!(summaries[0], summaries[1], "{lang}: PO and XLIFF hold the same units");
    }
    let changed = changed_files(&before, &sources(&site));
    eprintln!("round trip: {} file(s) under site/ and i18n/ differ", changed.len());
    assert_eq!(changed, Vec::<String>::new(), "export and import of unchanged files changed these");
}

// --- 2. Real tools ----------------------------------------------------------------------

#[test]
fn every_exported_po_file_passes_msgfmt() {
    if !tool_available("msgfmt") {
        return;
    }
    let site = SiteTest::bundled();
    let mut checked = 0;
    for lang in LANGUAGES {
        for file in export(&site, lang, "po").1 {
            let output =
                Command::new("msgfmt").args(["--check-format", "-c", "-o", "/dev/null"]).arg(&file).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "msgfmt refuses {}:\n{stderr}", file.display());
            assert_eq!(stderr, "", "msgfmt warns about {}", file.display());
            checked += 1;
        }
    }
    eprintln!("msgfmt: {checked} PO file(s) pass");
}

#[test]
fn every_exported_xliff_file_is_well_formed() {
    if !tool_available("xmllint") {
        return;
    }
    let site = SiteTest::bundled();
    let mut checked = 0;
    for lang in LANGUAGES {
        for file in export(&site, lang, "xliff").1 {
            let output = Command::new("xmllint").arg("--noout").arg(&file).output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "xmllint: {} is not well-formed:\n{stderr}", file.display());
            assert_eq!(stderr, "", "xmllint warns about {}", file.display());
            checked += 1;
        }
    }
    eprintln!("xmllint: {checked} XLIFF file(s) are well-formed");
}

// --- 3. A translator's pass -------------------------------------------------------------

const FR_PAGE: &str = "site/content/fr/objective-14.md";
const EN_PAGE: &str = "site/content/en/objective-14.md";

/// The text of the block `id` in a built page: from `<p id="ID">` to `</p>`.
#[track_caller]
fn block_html<'a>(html: &'a str, id: &str) -> &'a str {
    let open = format!("<p id=\"{id}\">");
    let start = html.find(&open).unwrap_or_else(|| panic!("no {open}")) + open.len();
    &html[start..start + html[start..].find("</p>").unwrap()]
}

#[test]
fn a_cat_tool_s_edit_of_one_paragraph_changes_that_line_only() {
    let site = SiteTest::bundled();
    let (_, files) = export(&site, "fr", "po");
    let po_path = exported(&site, "fr", "objective-14", "po");
    assert!(files.contains(&po_path));
    let po = std::fs::read_to_string(&po_path).unwrap();
    let old_french = value(&entry_of(&po, "p-14-3"), "msgstr").unwrap();
    let new_french = "Depuis l’adoption du Pacte mondial, des lacunes demeurent : l’assistance à distance, « l’information » consulaire et la fracture numérique.";
    let (edited, confirmed) = cat_tool(&po, &[("p-14-3", new_french)], "Traduction confirmée.");
    assert_eq!(confirmed, None, "the bundled French is stamped: nothing is fuzzy");
    assert_ne!(edited, po);
    std::fs::write(&po_path, edited).unwrap();

    let before = sources(&site);
    let page_before = site.source(FR_PAGE);
    let run = import(&site, "fr", &[po_path]);
    assert_eq!(
        run.ok(),
        format!(
            "wrote {} (1 unit(s) changed)\nstamped fr/objective-14.md: it follows the current original\n",
            shown(&site, FR_PAGE)
        )
    );
    assert_eq!(run.stderr(), "");
    assert_eq!(changed_files(&before, &sources(&site)), [FR_PAGE], "only the page is written (its stamp is the same)");

    let page_after = site.source(FR_PAGE);
    let (old_lines, new_lines): (Vec<&str>, Vec<&str>) = (page_before.lines().collect(), page_after.lines().collect());
    assert_eq!(old_lines.len(), new_lines.len());
    let differing: Vec<usize> = (0..old_lines.len()).filter(|&i| old_lines[i] != new_lines[i]).collect();
    assert_eq!(differing.len(), 1, "one line changed");
    assert_eq!(old_lines[differing[0]], old_french);
    assert_eq!(new_lines[differing[0]], new_french);
    assert_eq!(page_before.ends_with('\n'), page_after.ends_with('\n'));

    assert_current(&site, "fr");
    site.build().ok();
    let html = site.read("fr/objective-14/index.html");
    assert!(block_html(&html, "p-14-3").starts_with(new_french), "{}", block_html(&html, "p-14-3"));
}

#[test]
fn an_edited_original_is_fuzzy_in_every_export_until_the_translator_confirms_it() {
    let site = SiteTest::bundled();
    let old_english = "Since the adoption of the GCM, although many improvements have been made, gaps still exist. These include remote assistance for migrants with lessened access to consular assistance during emergency situations; effective communication of accurate and timely consular information to migrants; and challenges posed by the impact of the digital divide on migrants.";
    let new_english = old_english.replace("the impact of the digital divide on migrants.", "the digital divide.");
    site.edit(EN_PAGE, old_english, &new_english);

    for lang in LANGUAGES {
        let (summary, _) = export(&site, lang, "po");
        let [units, _, translated, outdated, new] = counts(&summary);
        assert_eq!((outdated, new, translated), (1, 0, units - 1), "{lang}: {summary}");
        let po = std::fs::read_to_string(exported(&site, lang, "objective-14", "po")).unwrap();
        let entry = entry_of(&po, "p-14-3");
        let expected = format!(
            "#, fuzzy\n#| msgctxt \"p-14-3\"\n#| msgid \"{}\"\nmsgctxt \"p-14-3\"\nmsgid \"{}\"\nmsgstr \"",
            po_escape(old_english),
            po_escape(&new_english)
        );
        assert!(entry.contains(&expected), "{lang}: {entry}");
        assert!(!value(&entry, "msgstr").unwrap().is_empty(), "{lang}: the old translation is offered");
        assert_eq!(entries(&po).iter().filter(|e| is_fuzzy(e)).count(), 1, "{lang}: only that unit is fuzzy");
    }

    // Still fuzzy: not imported, and said so.
    let po_path = exported(&site, "fr", "objective-14", "po");
    let before = sources(&site);
    let run = import(&site, "fr", std::slice::from_ref(&po_path));
    assert_eq!(run.ok(), "", "a fuzzy unit left out is a change left to make, not nothing");
    assert_eq!(
        run.stderr(),
        format!("warning: {}: 1 unit(s) still marked fuzzy (to review) were not imported: p-14-3\n", po_path.display())
    );
    assert_eq!(changed_files(&before, &sources(&site)), Vec::<String>::new());

    // Reviewed: the translator updates the translation and clears the flag.
    let po = std::fs::read_to_string(&po_path).unwrap();
    let reviewed = "Bien que de nombreuses améliorations aient été apportées, des lacunes subsistent, notamment la fracture numérique.";
    let (edited, confirmed) = cat_tool(&po, &[], reviewed);
    assert_eq!(confirmed.as_deref(), Some("p-14-3"));
    std::fs::write(&po_path, edited).unwrap();
    let run = import(&site, "fr", &[po_path]);
    assert_eq!(
        run.ok(),
        format!(
            "wrote {} (1 unit(s) changed)\nstamped fr/objective-14.md: it follows the current original\n",
            shown(&site, FR_PAGE)
        )
    );
    assert_eq!(run.stderr(), "");
    assert!(site.source(FR_PAGE).lines().any(|line| line == reviewed), "{}", site.source(FR_PAGE));
    assert_current(&site, "fr");
    assert_eq!(status_of(&site, "es")["outdated"], serde_json::json!(["objective-14.md"]), "the others still to do");
    let (summary, _) = export(&site, "fr", "po");
    assert_eq!(counts(&summary)[3], 0, "nothing fuzzy left in French: {summary}");
}

// --- 4. A new page ----------------------------------------------------------------------

/// `second.md` of the basic fixture, which French lacks, exported and translated: every
/// msgstr is "FR " and its msgid (tags kept), but `untranslated` left empty.
fn french_second_page(site: &SiteTest, untranslated: Option<&str>) -> PathBuf {
    assert!(!site.root().join("site/content/fr/second.md").exists());
    let (_, files) = export(site, "fr", "po");
    let po_path = exported(site, "fr", "second", "po");
    assert!(files.contains(&po_path));
    let po = std::fs::read_to_string(&po_path).unwrap();
    let mut entries = entries(&po);
    for entry in entries.iter_mut().skip(1) {
        let id = value(entry, "msgctxt").unwrap();
        assert_eq!(value(entry, "msgstr").as_deref(), Some(""), "{id} is not translated yet");
        if Some(id.as_str()) != untranslated {
            *entry = with_msgstr(entry, &format!("FR {}", value(entry, "msgid").unwrap()));
        }
    }
    std::fs::write(&po_path, join(&entries)).unwrap();
    po_path
}

#[test]
fn an_import_creates_a_missing_page_with_the_original_s_front_matter() {
    let site = SiteTest::fixture("basic");
    let po_path = french_second_page(&site, None);
    let before = sources(&site);
    let run = import(&site, "fr", &[po_path]);
    assert_eq!(
        run.ok(),
        format!(
            "wrote {} (5 unit(s) changed)\nstamped fr/second.md: it follows the current original\n",
            shown(&site, "site/content/fr/second.md")
        )
    );
    assert_eq!(run.stderr(), "");
    assert_eq!(
        changed_files(&before, &sources(&site)),
        ["site/content/fr/second.md", "site/content/fr/second.stamp.toml"]
    );
    let page = site.source("site/content/fr/second.md");
    let (hash, rest) = page.strip_prefix("+++\nsource_hash = \"").and_then(|p| p.split_once("\"\n")).expect(&page);
    assert!(hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{page}");
    assert_eq!(
        rest,
        "title = \"FR The second objective\"\nkind = \"objective\"\nobjective = 5\nshort_label = \"FR Second\"\nweight = 2\n\n[[questions]]\nid = \"q-5-1\"\ntext = \"FR A question on the second?\"\n+++\n\nFR Text citing the same source again[^same].\n\n[^same]: FR <https://source.example/declaration/>\n"
    );
    let status = status_of(&site, "fr");
    assert_eq!(status["translated"], serde_json::json!(["second.md"]), "{status}");
    assert_eq!(status["outdated"], serde_json::json!([]), "{status}");

    site.build().ok();
    let html = site.read("fr/objective-5/index.html");
    assert!(html.contains("FR Text citing the same source again"));
    assert!(!html.contains(r#"class="notice""#), "no longer shown as untranslated");
}

#[test]
fn a_new_page_with_an_untranslated_unit_is_not_written() {
    let site = SiteTest::fixture("basic");
    let po_path = french_second_page(&site, Some("p-5-1"));
    let before = sources(&site);
    let run = import(&site, "fr", &[po_path]);
    run.ok();
    assert_eq!(
        run.stderr(),
        format!(
            "warning: {}: not written: a new page is written once every unit is translated; untranslated: p-5-1\n",
            shown(&site, "site/content/fr/second.md")
        )
    );
    assert!(!run.stdout().contains("wrote"), "{}", run.stdout());
    assert!(!run.stdout().contains("stamped"), "{}", run.stdout());
    assert_eq!(changed_files(&before, &sources(&site)), Vec::<String>::new());
}

// --- 5. Refused imports -----------------------------------------------------------------

/// The basic fixture's French `first.md` exported as PO, edited by `change`.
fn french_first(site: &SiteTest, change: impl FnOnce(&str) -> String) -> PathBuf {
    export(site, "fr", "po");
    let path = exported(site, "fr", "first", "po");
    let po = std::fs::read_to_string(&path).unwrap();
    let changed = change(&po);
    assert_ne!(changed, po, "the change applies");
    std::fs::write(&path, changed).unwrap();
    path
}

#[test]
fn a_malformed_po_file_is_refused_with_its_line() {
    let site = SiteTest::fixture("basic");
    let path = french_first(&site, |po| po.replace("msgstr \"Plus de texte.\"\n", "msgstr \"Plus de texte.\n"));
    let line = line_of(&std::fs::read_to_string(&path).unwrap(), "msgstr \"Plus de texte.");
    assert_eq!(
        refused(&site, "fr", std::slice::from_ref(&path)),
        format!(
            "error: {}:{line}:8: unterminated string: the quote opened here is not closed on this line (a string goes on to the next line only in a new pair of quotes)\n",
            path.display()
        )
    );
}

#[test]
fn a_unit_that_does_not_exist_is_refused() {
    let site = SiteTest::fixture("basic");
    let path = french_first(&site, |po| po.replace("msgctxt \"p-2-3\"", "msgctxt \"p-2-9\""));
    let line = line_of(&std::fs::read_to_string(&path).unwrap(), "msgctxt \"p-2-9\"");
    assert_eq!(
        refused(&site, "fr", std::slice::from_ref(&path)),
        format!(
            "error: {}:{line}:1: unit(s) p-2-9 do not exist in the original first.md: export again\n",
            path.display()
        )
    );
}

#[test]
fn a_placeholder_removed_or_added_is_refused() {
    let site = SiteTest::fixture("basic");
    let removed = french_first(&site, |po| {
        po.replace("msgstr \"Un texte qui cite une source<x1/> et", "msgstr \"Un texte qui cite une source et")
    });
    let line = line_of(&std::fs::read_to_string(&removed).unwrap(), "msgctxt \"p-2-1\"");
    assert_eq!(
        refused(&site, "fr", std::slice::from_ref(&removed)),
        format!(
            "error: {}:{line}:1: unit p-2-1: the tag <x1/> (footnote [^src]) is missing: keep every tag of the source in the translation\n",
            removed.display()
        )
    );

    let added = french_first(&site, |po| po.replace("msgstr \"Plus de texte.\"", "msgstr \"Plus de texte<x9/>.\""));
    let line = line_of(&std::fs::read_to_string(&added).unwrap(), "msgctxt \"p-2-3\"");
    assert_eq!(
        refused(&site, "fr", std::slice::from_ref(&added)),
        format!(
            "error: {}:{line}:1: unit p-2-3: the tag <x9/> is not in the source: remove it, or use one of the source's tags\n",
            added.display()
        )
    );

    // The same in XLIFF: the line is the trans-unit's.
    export(&site, "fr", "xliff");
    let xliff = exported(&site, "fr", "first", "xlf");
    let text = std::fs::read_to_string(&xliff).unwrap();
    let target = "<target state=\"translated\">Un texte qui cite une source<x id=\"1\"/> et";
    assert!(text.contains(target), "{text}");
    std::fs::write(&xliff, text.replace(target, "<target state=\"translated\">Un texte qui cite une source et"))
        .unwrap();
    let line = line_of(&text, "      <trans-unit id=\"p-2-1\" resname=\"p-2-1\" xml:space=\"preserve\">");
    assert_eq!(
        refused(&site, "fr", std::slice::from_ref(&xliff)),
        format!(
            "error: {}:{line}:1: unit p-2-1: the tag <x1/> (footnote [^src]) is missing: keep every tag of the source in the translation\n",
            xliff.display()
        )
    );
}

#[test]
fn a_language_without_a_folder_is_refused() {
    let site = SiteTest::fixture("basic");
    let (_, files) = export(&site, "fr", "po");
    let stderr = refused(&site, "pt", &files);
    assert_eq!(
        stderr,
        format!(
            "error: `pt`: the site has no such language: there is no folder {} (run `imrf-site new-language pt` first)\n",
            shown(&site, "site/content/pt")
        )
    );
    assert!(!site.root().join("site/content/pt").exists());
}

#[test]
fn a_file_for_another_language_is_refused() {
    let site = SiteTest::bundled();
    export(&site, "es", "po");
    let spanish = exported(&site, "es", "objective-14", "po");
    assert_eq!(
        refused(&site, "fr", std::slice::from_ref(&spanish)),
        format!("error: {}: this file holds es translations, not fr\n", spanish.display())
    );
    export(&site, "es", "xliff");
    let spanish = exported(&site, "es", "objective-14", "xlf");
    assert_eq!(
        refused(&site, "fr", std::slice::from_ref(&spanish)),
        format!("error: {}: this file holds es translations, not fr\n", spanish.display())
    );
}

#[test]
fn a_file_exported_before_the_original_changed_is_refused() {
    let site = SiteTest::bundled();
    export(&site, "fr", "po");
    export(&site, "fr", "xliff");
    site.edit(EN_PAGE, "the digital divide on migrants.", "the digital divide on migrants, revised.");
    let po = exported(&site, "fr", "objective-14", "po");
    let line = line_of(&std::fs::read_to_string(&po).unwrap(), "msgctxt \"p-14-3\"");
    let message = |path: &Path, line: usize| {
        format!(
            "error: {}:{line}:1: this file no longer matches objective-14.md: the original's text of p-14-3 changed since it was exported; export again and let your tool carry the translations over\n",
            path.display()
        )
    };
    assert_eq!(refused(&site, "fr", std::slice::from_ref(&po)), message(&po, line));
    let xliff = exported(&site, "fr", "objective-14", "xlf");
    let line = line_of(
        &std::fs::read_to_string(&xliff).unwrap(),
        "      <trans-unit id=\"p-14-3\" resname=\"p-14-3\" xml:space=\"preserve\">",
    );
    assert_eq!(refused(&site, "fr", std::slice::from_ref(&xliff)), message(&xliff, line));
    // Several files: one stale file stops them all, a good one with a change included.
    let ui = exported(&site, "fr", "i18n", "po");
    let (edited, _) = cat_tool(&std::fs::read_to_string(&ui).unwrap(), &[("ui:breadcrumb", "Fil d’Ariane révisé")], "");
    std::fs::write(&ui, edited).unwrap();
    let line = line_of(&std::fs::read_to_string(&po).unwrap(), "msgctxt \"p-14-3\"");
    assert_eq!(refused(&site, "fr", &[ui, po.clone()]), message(&po, line));
}
