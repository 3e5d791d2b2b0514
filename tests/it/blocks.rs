//! Blocks as the unit of translation: a translation keeps its original's blocks (the
//! build warns when it does not), the block anchors are the same in every language, and
//! `status` says block by block what changed in an original since its translation was
//! stamped (re-wrapping and typography are no change). Uses `tests/fixtures/aligned/`:
//! an English objective (a heading, three paragraphs, a three-item list, a footnote and
//! a guiding question) and its French translation, block for block.

use serde_json::json;

use crate::support::{Run, SiteTest};

const EN_PAGE: &str = "site/content/en/objective-7.md";
const FR_PAGE: &str = "site/content/fr/objective-7.md";

/// The ids of the aligned objective's blocks, in every language.
const OBJECTIVE_IDS: [&str; 7] = ["p-7-1", "p-7-2", "p-7-3", "p-7-4", "p-7-5", "p-7-6", "p-7-7"];

/// The French outdated notice, as `i18n/fr.toml` words it.
const FR_OUTDATED_NOTICE: &str = "<p class=\"notice\" role=\"note\">L’original de cette page a été modifié depuis la réalisation de cette traduction\u{202f}; la traduction n’est peut-être plus à jour.</p>";

/// The block ids (`id="p-..."`) of an HTML page, in order.
fn block_ids(html: &str) -> Vec<String> {
    html.split("id=\"p-").skip(1).map(|rest| format!("p-{}", &rest[..rest.find('"').expect("closing quote")])).collect()
}

/// The `blocks differ` warnings a run printed.
fn alignment_warnings(run: &Run) -> Vec<String> {
    run.messages().into_iter().filter(|line| line.contains("blocks differ")).collect()
}

/// A path of the site's sources as the binary prints it.
fn shown(site: &SiteTest, path: &str) -> String {
    site.root().join(path).display().to_string()
}

/// `status --format json`, one language's entry.
fn status_of(site: &SiteTest, code: &str) -> serde_json::Value {
    let report: serde_json::Value = serde_json::from_str(&site.run(&["status", "--format", "json"]).ok()).unwrap();
    report.as_array().unwrap().iter().find(|language| language["code"] == code).unwrap().clone()
}

/// Stamps all of French and checks what was written.
fn stamp_french(site: &SiteTest) {
    let out = site.run(&["status", "--stamp", "fr"]).ok();
    assert_eq!(
        out,
        format!(
            "Stamped 4 file(s)\n  {}\n  {}\n  {}\n  {}\n",
            shown(site, "site/content/fr/_index.stamp.toml"),
            shown(site, "site/content/fr/_index.md"),
            shown(site, "site/content/fr/objective-7.stamp.toml"),
            shown(site, FR_PAGE),
        )
    );
}

/// The status table's first lines when French has `translated` current pages and
/// `outdated` outdated ones.
fn status_table(translated: usize, outdated: usize) -> String {
    format!(
        "language   name          pages  translated  missing  outdated  unstamped  UI missing\n\
         en *       English           2           2        0         0          0           0\n\
         fr         Français          2 {translated:>11}        0 {outdated:>9}          0           0\n"
    )
}

#[test]
fn an_aligned_translation_has_the_originals_block_ids() {
    let site = SiteTest::fixture("aligned");
    let run = site.build();
    run.ok();
    assert_eq!(alignment_warnings(&run), Vec::<String>::new(), "{}", run.stderr());
    assert_eq!(
        run.messages(),
        [
            "warning: fr: 2 translation(s) record no source version, so changes to the original cannot be detected: _index.md, objective-7.md (run `imrf-site status --stamp fr` once they are up to date)"
        ],
        "the only warning is that French is not stamped yet"
    );

    let english = block_ids(&site.read("en/objective-7/index.html"));
    let french = block_ids(&site.read("fr/objective-7/index.html"));
    assert_eq!(english, OBJECTIVE_IDS);
    assert_eq!(french, english);
    assert_eq!(block_ids(&site.read("en/index.html")), ["p-home-1"]);
    assert_eq!(block_ids(&site.read("fr/index.html")), ["p-home-1"]);
    // The anchors are on the translated text, in the same kinds of element.
    let page = site.read("fr/objective-7/index.html");
    for expected in [
        "<h2 id=\"p-7-1\">Contexte",
        "<p id=\"p-7-4\">Le troisième paragraphe clôt la section.</p>",
        "<li id=\"p-7-6\">Un deuxième élément.</li>",
    ] {
        assert!(page.contains(expected), "missing {expected}");
    }

    let check = site.run(&["check"]);
    check.ok();
    assert_eq!(alignment_warnings(&check), Vec::<String>::new(), "{}", check.stderr());
}

#[test]
fn merging_two_paragraphs_in_a_translation_warns_with_both_files_and_lines() {
    let site = SiteTest::fixture("aligned");
    // The second and third French paragraphs become one: the list now starts at block 4.
    site.edit(FR_PAGE, "mobiles ».\n\nLe troisième", "mobiles ». Le troisième");
    let expected = format!(
        "warning: {fr}:19:1: blocks differ from the original: block p-7-4 is a list item here but a paragraph in the original ({en}:19:1); \
         this translation has 6 blocks, the original 7. Links to its paragraphs land on different text in the two languages: \
         keep the original's headings, paragraphs and list items, in its order",
        fr = shown(&site, FR_PAGE),
        en = shown(&site, EN_PAGE),
    );

    let run = site.build();
    assert!(run.success(), "a misaligned translation still builds: {}", run.stderr());
    assert_eq!(alignment_warnings(&run), [expected.as_str()]);
    assert_eq!(block_ids(&site.read("fr/objective-7/index.html")), OBJECTIVE_IDS[..6]);

    let check = site.run(&["check"]);
    assert!(check.success(), "a misaligned translation is a warning for check too: {}", check.stderr());
    assert_eq!(alignment_warnings(&check), [expected]);
}

#[test]
fn dropping_a_list_item_in_a_translation_warns_that_the_originals_block_is_missing() {
    let site = SiteTest::fixture("aligned");
    site.edit(FR_PAGE, "- Un deuxième élément.\n", "");
    // Blocks are compared by kind, so the block found missing is the last list item: the
    // French page has no seventh block (hence no line to give on its side).
    let expected = format!(
        "warning: {fr}: blocks differ from the original: block p-7-7 of the original (a list item, {en}:23:1) is missing here; \
         this translation has 6 blocks, the original 7. Links to its paragraphs land on different text in the two languages: \
         keep the original's headings, paragraphs and list items, in its order",
        fr = shown(&site, FR_PAGE),
        en = shown(&site, EN_PAGE),
    );

    let run = site.build();
    assert!(run.success(), "a misaligned translation still builds: {}", run.stderr());
    assert_eq!(alignment_warnings(&run), [expected.as_str()]);

    let check = site.run(&["check"]);
    assert!(check.success(), "{}", check.stderr());
    assert_eq!(alignment_warnings(&check), [expected]);
}

#[test]
fn an_edited_paragraph_is_the_one_change_status_reports() {
    let site = SiteTest::fixture("aligned");
    stamp_french(&site);
    let stamp = site.source("site/content/fr/objective-7.stamp.toml");
    let record: toml::Value = toml::from_str(&stamp).unwrap();
    assert_eq!(record["original"].as_str(), Some("en/objective-7.md"));
    let ids: Vec<&str> = record["unit"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["title", "short_label", "q-7-1", "p-7-1", "p-7-2", "p-7-3", "p-7-4", "p-7-5", "p-7-6", "p-7-7", "fn:src"]
    );
    assert_eq!(record["unit"][6]["text"].as_str(), Some("The third paragraph closes the section."));
    assert_eq!(site.run(&["status"]).ok(), format!("{}* the default language (the original)\n", status_table(2, 0)));
    let fr = status_of(&site, "fr");
    assert_eq!(fr["outdated"], json!([]));
    assert_eq!(fr["changes"], json!([]));

    site.edit(EN_PAGE, "closes the section.", "closes the whole section.");
    let (fr_path, en_path) = (shown(&site, FR_PAGE), shown(&site, EN_PAGE));
    assert_eq!(
        site.run(&["status"]).ok(),
        format!(
            "{}fr outdated: objective-7.md\n\
             {fr_path}: 1 change(s) in {en_path} since it was stamped\n  \
             p-7-4 ({en_path}:19) changed:\n    \
             The third paragraph closes the {{+whole+}} section.\n\
             * the default language (the original)\n",
            status_table(1, 1)
        )
    );
    let fr = status_of(&site, "fr");
    assert_eq!(fr["outdated"], json!(["objective-7.md"]));
    let changes = fr["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["page"], "objective-7.md");
    assert_eq!(changes[0]["translation"], fr_path.as_str());
    assert_eq!(changes[0]["original"], en_path.as_str());
    assert_eq!(changes[0]["recorded"], true);
    let units = changes[0]["units"].as_array().unwrap();
    assert_eq!(units.len(), 1, "{units:?}");
    assert_eq!(
        units[0],
        json!({
            "change": "changed",
            "id": "p-7-4",
            "old": "The third paragraph closes the section.",
            "new": "The third paragraph closes the whole section.",
            "line": 19,
            "diff": "The third paragraph closes the {+whole+} section.",
        })
    );

    let run = site.build();
    run.ok();
    assert_eq!(
        run.messages(),
        [format!(
            "warning: {fr_path}: outdated translation: the en original changed since it was translated (`imrf-site status` shows which blocks, word by word); update them, then run `imrf-site status --stamp fr/objective-7.md`"
        )]
    );
    assert!(site.read("fr/objective-7/index.html").contains(FR_OUTDATED_NOTICE), "the French page says it is outdated");
    assert!(!site.read("fr/index.html").contains("class=\"notice\""), "the current page says nothing");
}

#[test]
fn rewrapping_and_curly_quotes_leave_the_translation_current() {
    let site = SiteTest::fixture("aligned");
    stamp_french(&site);
    site.edit(
        EN_PAGE,
        "The second paragraph cites a source[^src] on \"mobile consulates\".",
        "The second paragraph cites\na source[^src]   on \u{201c}mobile consulates\u{201d}.",
    );
    site.edit(EN_PAGE, "keep the original's blocks?", "keep the original\u{2019}s blocks?");

    assert_eq!(site.run(&["status"]).ok(), format!("{}* the default language (the original)\n", status_table(2, 0)));
    let report: serde_json::Value = serde_json::from_str(&site.run(&["status", "--format", "json"]).ok()).unwrap();
    for language in report.as_array().unwrap() {
        assert_eq!(language["outdated"], json!([]), "{}", language["code"]);
        assert_eq!(language["changes"], json!([]), "{}", language["code"]);
    }
    assert_eq!(status_of(&site, "fr")["translated"], json!(["_index.md", "objective-7.md"]));

    let run = site.build();
    run.ok();
    assert_eq!(run.stderr(), "", "no outdated (or any other) warning");
    assert!(!site.read("fr/objective-7/index.html").contains("class=\"notice\""));
}

#[test]
fn an_inserted_block_is_new_and_renumbers_the_blocks_after_it() {
    let site = SiteTest::fixture("aligned");
    stamp_french(&site);
    site.edit(EN_PAGE, "The third paragraph", "An inserted paragraph.\n\nThe third paragraph");
    let (fr_path, en_path) = (shown(&site, FR_PAGE), shown(&site, EN_PAGE));

    let renumbered = |from: usize| {
        format!("  p-7-{from} is unchanged but is now p-7-{} (a block was added or removed before it)\n", from + 1)
    };
    assert_eq!(
        site.run(&["status"]).ok(),
        format!(
            "{}fr outdated: objective-7.md\n\
             {fr_path}: 5 change(s) in {en_path} since it was stamped\n  \
             p-7-4 ({en_path}:19) is new:\n    \
             {{+An inserted paragraph.+}}\n\
             {}{}{}{}\
             * the default language (the original)\n",
            status_table(1, 1),
            renumbered(4),
            renumbered(5),
            renumbered(6),
            renumbered(7),
        )
    );
    let units = status_of(&site, "fr")["changes"][0]["units"].clone();
    assert_eq!(
        units,
        json!([
            {"change": "added", "id": "p-7-4", "new": "An inserted paragraph.", "line": 19},
            {"change": "renumbered", "from": "p-7-4", "to": "p-7-5"},
            {"change": "renumbered", "from": "p-7-5", "to": "p-7-6"},
            {"change": "renumbered", "from": "p-7-6", "to": "p-7-7"},
            {"change": "renumbered", "from": "p-7-7", "to": "p-7-8"},
        ])
    );

    let run = site.build();
    run.ok();
    // The stamp added a `source_hash` line, so the French list starts on line 22.
    assert_eq!(
        alignment_warnings(&run),
        [format!(
            "warning: {fr_path}:22:1: blocks differ from the original: block p-7-5 is a list item here but a paragraph in the original ({en_path}:21:1); \
             this translation has 7 blocks, the original 8. Links to its paragraphs land on different text in the two languages: \
             keep the original's headings, paragraphs and list items, in its order"
        )]
    );
    assert!(run.stderr().contains(&format!("warning: {fr_path}: outdated translation:")), "{}", run.stderr());
    let english = block_ids(&site.read("en/objective-7/index.html"));
    let french = block_ids(&site.read("fr/objective-7/index.html"));
    assert_eq!(english.len(), 8);
    assert_eq!(french, OBJECTIVE_IDS, "the French page has one block fewer");
}

#[test]
fn every_translation_of_the_bundled_site_is_aligned_and_current() {
    let site = SiteTest::bundled();
    let run = site.build();
    run.ok();
    assert_eq!(alignment_warnings(&run), Vec::<String>::new(), "{}", run.stderr());
    assert!(!run.stderr().contains("outdated translation"), "{}", run.stderr());

    let report: serde_json::Value = serde_json::from_str(&site.run(&["status", "--format", "json"]).ok()).unwrap();
    let languages = report.as_array().unwrap();
    assert_eq!(languages.len(), 6);
    for language in languages {
        let code = &language["code"];
        for state in ["missing", "outdated", "unstamped", "orphans"] {
            assert_eq!(language[state], json!([]), "{code} {state}");
        }
        assert_eq!(language["changes"], json!([]), "{code}");
        assert_eq!(language["translated"].as_array().unwrap().len(), language["pages"].as_u64().unwrap() as usize);
    }

    // Every page's block ids, per language: the same page has the same ids in all six.
    let ids_of = |lang: &str| -> Vec<(String, Vec<String>)> {
        let mut pages = Vec::new();
        let mut pending = vec![site.public().join(lang)];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "html") {
                    let relative = path.strip_prefix(site.public().join(lang)).unwrap().display().to_string();
                    pages.push((relative, block_ids(&std::fs::read_to_string(&path).unwrap())));
                }
            }
        }
        pages.sort();
        pages
    };
    let english = ids_of("en");
    let mut counts = Vec::new();
    for lang in ["en", "fr", "es", "ar", "zh", "ru"] {
        let pages = ids_of(lang);
        assert_eq!(pages, english, "{lang} has the same pages with the same block ids as en");
        let count: usize = pages.iter().map(|(_, ids)| ids.len()).sum();
        eprintln!("{lang}: {count} blocks");
        counts.push((lang, count));
    }
    assert!(counts[0].1 > 0, "the bundled site has blocks");
    assert!(counts.iter().all(|&(_, count)| count == counts[0].1), "block counts differ: {counts:?}");
}
