//! Languages and the translator's workflow: fallback pages for missing translations,
//! language alternates, plural rules, outdated detection, `status`, `new-language`, and
//! adding a language by adding a folder.

use crate::support::SiteTest;

#[test]
fn a_missing_translation_shows_the_original_marked_as_such() {
    let site = SiteTest::fixture("basic");
    let run = site.build();
    run.ok();
    assert!(
        run.stderr().contains("fr: 2 page(s) not translated yet, shown in en: about.md, second.md"),
        "{}",
        run.stderr()
    );

    let fallback = site.read("fr/objective-5/index.html");
    assert!(fallback.contains(r#"<html lang="fr" dir="ltr">"#));
    assert!(
        fallback.contains("<p class=\"notice\" role=\"note\">Cette page n’a pas encore été traduite\u{202f}; elle est donc affichée en anglais.</p>"),
        "notice in the reader's language"
    );
    assert!(
        fallback.contains(r#"<h1 lang="en" dir="ltr">The second objective</h1>"#),
        "fallback content carries its own lang"
    );
    assert!(fallback.contains(r#"<div lang="en" dir="ltr">"#));
    assert!(fallback.contains("Text citing the same source again"));
    assert!(fallback.contains("Ceci est une traduction non officielle."), "marked as an unofficial translation");

    let translated = site.read("fr/objective-2/index.html");
    assert!(!translated.contains(r#"class="notice""#));
    assert!(translated.contains("<h1>Le premier objectif</h1>"));
    assert!(
        !site.read("en/objective-2/index.html").contains("unofficial"),
        "the original is not marked as a translation"
    );
}

#[test]
fn every_page_links_its_alternates_and_the_sitemap_lists_them() {
    let site = SiteTest::fixture("basic");
    site.build().ok();
    let page = site.read("fr/objective-2/index.html");
    for expected in [
        r#"<link rel="alternate" hreflang="en" href="https://example.org/en/objective-2/">"#,
        r#"<link rel="alternate" hreflang="x-default" href="https://example.org/en/objective-2/">"#,
        r#"<link rel="alternate" hreflang="fr" href="https://example.org/fr/objective-2/">"#,
        r#"<a href="/en/objective-2/" lang="en" hreflang="en">English</a>"#,
        r#"<a href="/fr/objective-2/" lang="fr" hreflang="fr" aria-current="true">Français</a>"#,
    ] {
        assert!(page.contains(expected), "missing {expected}");
    }
    let questions = site.read("fr/guiding-questions/index.html");
    assert!(
        questions.contains(r#"<a href="/en/guiding-questions/" lang="en" hreflang="en">"#),
        "generated pages switch to the same page"
    );
    let sitemap = site.read("sitemap.xml");
    assert!(sitemap.contains(
        "<loc>https://example.org/fr/objective-5/</loc>\n    <xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"https://example.org/en/objective-5/\"/>\n    <xhtml:link rel=\"alternate\" hreflang=\"fr\" href=\"https://example.org/fr/objective-5/\"/>"
    ));
}

/// The language homes and the picker at `/` are one cluster: the picker is the homes'
/// x-default and lists each of them; a cluster that is not reciprocal is an error for
/// `check` (and a warning for `build`), naming the page and the alternate.
#[test]
fn the_home_pages_and_the_language_picker_list_each_other() {
    let site = SiteTest::fixture("basic");
    site.build().ok();
    for home in ["en/index.html", "fr/index.html"] {
        assert!(
            site.read(home).contains(r#"<link rel="alternate" hreflang="x-default" href="https://example.org/">"#),
            "{home} names the picker as its x-default"
        );
    }
    let picker = site.read("index.html");
    for expected in [
        r#"<link rel="alternate" hreflang="fr" href="https://example.org/fr/">"#,
        r#"<link rel="alternate" hreflang="x-default" href="https://example.org/">"#,
    ] {
        assert!(picker.contains(expected), "the picker lacks {expected}");
    }
    site.run(&["check"]).ok();
    // The sitemap says the same: the picker is listed, and is the homes' x-default.
    let sitemap = site.read("sitemap.xml");
    for expected in [
        "<loc>https://example.org/</loc>\n    <xhtml:link rel=\"alternate\" hreflang=\"en\" href=\"https://example.org/en/\"/>",
        "<xhtml:link rel=\"alternate\" hreflang=\"fr\" href=\"https://example.org/fr/\"/>\n    <xhtml:link rel=\"alternate\" hreflang=\"x-default\" href=\"https://example.org/\"/>",
        "hreflang=\"x-default\" href=\"https://example.org/en/objective-2/\"/>",
    ] {
        assert!(sitemap.contains(expected), "the sitemap lacks {expected}:\n{sitemap}");
    }

    // Under a base path, the cluster holds the same way.
    let nested = SiteTest::fixture("basic");
    let run = nested.run(&["build", "--base-url", "https://example.org/imrf/"]);
    run.ok();
    assert!(!run.stderr().contains("hreflang"), "{}", run.stderr());
    assert!(
        nested
            .read("fr/index.html")
            .contains(r#"<link rel="alternate" hreflang="x-default" href="https://example.org/imrf/">"#)
    );
    assert!(
        nested
            .read("index.html")
            .contains(r#"<link rel="alternate" hreflang="fr" href="https://example.org/imrf/fr/">"#)
    );

    // A theme whose home pages forget the picker.
    site.edit(
        "themes/default/templates/base.html",
        r#"{% if page.url == home_url %}<link rel="alternate" hreflang="x-default" href="{{ origin ~ url('/') }}">"#,
        "{% if false %}",
    );
    let not_listed_back = |code: &str| {
        format!(
            "index.html: lists https://example.org/{code}/ as its hreflang=\"{code}\" alternate, but that page does not \
             list it back (search engines ignore alternates that are not reciprocal)"
        )
    };
    let run = site.run(&["check"]);
    run.err();
    assert_eq!(
        run.messages().into_iter().filter(|m| m.contains("hreflang")).collect::<Vec<_>>(),
        [format!("error: {}", not_listed_back("en")), format!("error: {}", not_listed_back("fr"))]
    );
    assert!(run.stderr().contains("2 broken link(s) or language alternate(s)"), "{}", run.stderr());
    let build = site.build();
    build.ok();
    assert!(build.messages().contains(&format!("warning: {}", not_listed_back("fr"))), "{}", build.stderr());

    // An alternate that leads nowhere is named by the source of the page that lists it.
    site.edit(
        "themes/default/templates/base.html",
        "{% block structured_data %}",
        "{% if page.kind == 'objective' %}<link rel=\"alternate\" hreflang=\"de\" href=\"{{ origin }}/de/\">{% endif %}{% block structured_data %}",
    );
    let run = site.run(&["check"]);
    run.err();
    let source = site.root().join("site/content/fr/first.md").display().to_string();
    assert!(
        run.messages().contains(&format!(
            "error: {source} (published as fr/objective-2/index.html): its hreflang=\"de\" alternate \
             https://example.org/de/ is not a page of the site"
        )),
        "{}",
        run.stderr()
    );
}

#[test]
fn guiding_question_anchors_and_plural_forms_follow_each_language() {
    let site = SiteTest::bundled();
    site.build().ok();
    for lang in ["en", "fr", "es", "ar", "zh", "ru"] {
        let page = site.read(&format!("{lang}/objective-15/index.html"));
        for id in ["q-15-1", "q-15-2", "q-15-3", "q-15-4"] {
            assert!(page.contains(&format!(r#"<li id="{id}">"#)), "{lang} lacks {id}");
        }
    }
    let arabic = site.read("ar/index.html");
    assert!(arabic.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(arabic.contains("4 أسئلة توجيهية"), "Arabic 'few' form for 4");
    assert!(arabic.contains("سؤال توجيهي واحد"), "Arabic 'one' form");
    assert!(arabic.contains("سؤالان توجيهيان"), "Arabic 'two' form");
    let russian = site.read("ru/index.html");
    assert!(russian.contains("4 руководящих вопроса") && russian.contains("1 руководящий вопрос"));
    assert!(site.read("zh/objective-20/index.html").contains("汇款"));
}

#[test]
fn an_edited_original_makes_its_stamped_translation_outdated() {
    let site = SiteTest::fixture("basic");
    let stamped = site.run(&["status", "--stamp", "fr"]).ok();
    assert!(stamped.starts_with("Stamped 4 file(s)"), "two pages and their block records: {stamped}");
    assert!(site.root().join("site/content/fr/first.stamp.toml").is_file());
    assert!(
        std::fs::read_to_string(site.root().join("site/content/fr/first.md"))
            .unwrap()
            .starts_with("+++\nsource_hash = \"")
    );
    let status = site.run(&["status", "--format", "json"]).ok();
    let report: serde_json::Value = serde_json::from_str(&status).unwrap();
    let fr = report.as_array().unwrap().iter().find(|l| l["code"] == "fr").unwrap();
    assert_eq!(fr["translated"], serde_json::json!(["_index.md", "first.md"]));
    assert_eq!(fr["missing"], serde_json::json!(["about.md", "second.md"]));
    assert_eq!(fr["outdated"], serde_json::json!([]));

    let original = std::fs::read_to_string(site.root().join("site/content/en/first.md")).unwrap();
    site.write("site/content/en/first.md", original.replace("More text.", "More text, revised."));
    let run = site.build();
    run.ok();
    assert!(run.stderr().contains("first.md: outdated translation"), "{}", run.stderr());
    assert!(site.read("fr/objective-2/index.html").contains(r#"<p class="notice" role="note">"#));
    let status = site.run(&["status"]).ok();
    assert!(status.contains("fr outdated: first.md"), "{status}");
    assert!(
        status.contains("p-2-3 (") && status.contains("More [-text.-]{+text, revised.+}"),
        "the changed block, word by word: {status}"
    );
    let strict = site.run(&["status", "--strict"]);
    assert!(strict.err().contains("incomplete or outdated"));

    site.run(&["status", "--stamp", "fr/first.md"]).ok();
    assert!(site.run(&["status"]).ok().lines().all(|l| !l.contains("outdated:")));
}

#[test]
fn new_language_scaffolds_without_copying_the_original() {
    let site = SiteTest::fixture("basic");
    let out = site.run(&["new-language", "pt-br"]).ok();
    assert!(out.contains("i18n/pt-BR.toml"), "{out}");
    let strings = std::fs::read_to_string(site.root().join("i18n/pt-BR.toml")).unwrap();
    assert!(strings.contains("# skip_to_content = \"Skip to main content\""), "keys listed, commented out");
    assert!(strings.contains("name = \"pt-BR\"") && strings.contains("dir = \"ltr\""));
    assert!(site.root().join("site/content/pt-BR/TRANSLATING.txt").exists());
    let again = site.run(&["new-language", "pt-BR"]).err();
    assert!(again.contains("already exists"), "{again}");
    assert!(site.run(&["new-language", "portuguese"]).err().contains("not a language code"));
    assert!(site.run(&["new-language", "en"]).err().contains("already exists"));

    let run = site.build();
    run.ok();
    assert!(run.stderr().contains("pt-BR: 4 page(s) not translated yet"), "{}", run.stderr());
    let page = site.read("pt-BR/objective-2/index.html");
    assert!(page.contains(r#"<html lang="pt-BR" dir="ltr">"#));
    assert!(page.contains(r#"lang="en""#), "untranslated text is marked as English");
    let status = site.run(&["status", "--format", "json"]).ok();
    assert!(status.contains("\"code\": \"pt-BR\""));
}

#[test]
fn a_language_is_added_by_adding_a_folder() {
    let site = SiteTest::bundled();
    site.write(
        "site/content/sw/_index.md",
        "+++\ntitle = \"Maelezo ya msingi ya meza ya duara ya tatu ya IMRF\"\nkind = \"home\"\n+++\n\nMaelezo haya yametokana na mashauriano.\n",
    );
    let run = site.build();
    run.ok();
    assert!(run.stdout().contains("in 7 languages"), "{}", run.stdout());
    assert!(run.stderr().contains("i18n/sw.toml: no UI strings for sw"), "{}", run.stderr());
    assert!(site.read("sw/index.html").contains("Maelezo haya yametokana na mashauriano."));
    assert!(site.read("sw/objective-20/index.html").contains(r#"<html lang="sw" dir="ltr">"#));
    assert!(site.read("en/objective-20/index.html").contains(r#"hreflang="sw""#), "every language links the new one");
    assert!(site.read("index.html").contains(r#"data-language="sw""#));
}

#[test]
fn orphan_pages_warn_and_stamps_without_an_original_fail() {
    let site = SiteTest::fixture("basic");
    site.write("site/content/fr/seulement.md", "+++\ntitle = \"Seulement en français\"\n+++\n\nTexte.\n");
    let run = site.build();
    run.ok();
    assert!(
        run.stderr().contains("seulement.md: orphan page: en has no page `seulement.md`; it is published in fr only"),
        "{}",
        run.stderr()
    );
    let orphan = site.read("fr/seulement/index.html");
    assert!(orphan.contains("Seulement en français"));
    assert!(!site.public().join("en/seulement").exists());
    // It names no alternate it does not have (English's home is not its English version),
    // so check finds its cluster sound; the switcher still leads to the English home.
    assert!(!orphan.contains(r#"<link rel="alternate" hreflang="en""#), "an orphan lists no English alternate");
    assert!(orphan.contains(r#"<a href="/en/" lang="en" hreflang="en">"#));
    site.run(&["check"]).ok();

    site.write(
        "site/content/fr/seulement.md",
        "+++\nsource_hash = \"0123456789abcdef\"\ntitle = \"Seulement\"\n+++\n\nTexte.\n",
    );
    let message = site.build().err();
    assert!(
        message
            .contains("seulement.md: this translation is stamped with source_hash, but en has no page `seulement.md`"),
        "{message}"
    );
}

/// A translator who translates a placeholder's name (`{auteur}`) or drops one is told
/// where, and the build goes on (the string is published as written).
#[test]
fn a_ui_string_that_changes_its_placeholders_is_warned_about() {
    let site = SiteTest::fixture("basic");
    site.edit("i18n/fr.toml", "citation_text = \"{author}.", "citation_text = \"{auteur}.");
    let run = site.build();
    run.ok();
    let fr = site.root().join("i18n/fr.toml").display().to_string();
    let line = site.source("i18n/fr.toml").lines().position(|l| l.starts_with("citation_text =")).unwrap() + 1;
    assert!(
        run.messages().contains(&format!(
            "warning: {fr}:{line}:18: UI string `citation_text`: {{auteur}} would be published as written (the original \
             has no such placeholder), and {{author}} of the original is missing; keep the original's placeholders as they \
             are: {{author}}, {{year}}, {{title}}, {{container}}, {{url}}"
        )),
        "{}",
        run.stderr()
    );
}

#[test]
fn dates_are_written_the_page_language_way() {
    let site = SiteTest::fixture("basic");
    site.build().ok();
    assert!(site.read("en/about/index.html").contains(r#"<time datetime="2022-05-17">17 May 2022</time>"#));
    assert!(site.read("fr/about/index.html").contains(r#"<time datetime="2022-05-17">17 mai 2022</time>"#));
}

#[test]
fn translations_keep_the_question_anchors_and_missing_strings_fall_back() {
    let site = SiteTest::fixture("basic");
    let first = std::fs::read_to_string(site.root().join("site/content/fr/first.md")).unwrap();
    site.write("site/content/fr/first.md", first.replace("id = \"q-2-2\"", "id = \"q-2-3\""));
    let message = site.build().err();
    assert!(
        message.contains(
            "site/content/fr/first.md: guiding question ids [q-2-1, q-2-3] differ from the original's [q-2-1, q-2-2]"
        ),
        "{message}"
    );
    site.write("site/content/fr/first.md", first);

    let strings = std::fs::read_to_string(site.root().join("i18n/fr.toml")).unwrap();
    let without: String = strings
        .lines()
        .filter(|l| !l.starts_with("search_label") && !l.starts_with("home ="))
        .map(|l| format!("{l}\n"))
        .collect();
    site.write("i18n/fr.toml", without);
    let run = site.build();
    run.ok();
    let stderr = run.stderr();
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("i18n/fr.toml")).collect();
    assert_eq!(warnings.len(), 1, "one warning for the file: {warnings:?}");
    assert!(warnings[0].contains("2 UI string(s) missing, shown in en instead: home, search_label"), "{}", warnings[0]);
    assert!(site.read("fr/index.html").contains(">Search the review</label>"));
}
