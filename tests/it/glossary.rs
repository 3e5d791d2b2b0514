//! Glossaries: a page that uses a wording its language's glossary avoids, or a
//! translated objective page without its official title, is warned about with the file,
//! line and column; a new language starts from the glossary's entries.

use crate::support::{Run, SiteTest};

/// The warnings that name a glossary and, if given, the file they are about.
fn glossary_warnings(run: &Run, about: &str) -> Vec<String> {
    run.messages().into_iter().filter(|line| line.contains("glossary") && line.contains(about)).collect()
}

#[test]
fn avoided_terms_and_unofficial_titles_are_warned_about_where_they_are() {
    let site = SiteTest::fixture("glossary");
    let run = site.run(&["check"]);
    run.ok();
    let page = site.root().join("site/content/fr/objective-15.md").display().to_string();
    let glossary = site.root().join("i18n/fr.glossary.toml").display().to_string();
    assert_eq!(
        glossary_warnings(&run, "fr/objective-15.md"),
        [
            format!(
                "warning: {page}:9:20: \"IMRF\" is not the official wording; write \"Forum d’examen des migrations internationales\" ({glossary} `terms.forum`, from A/RES/73/195, paragraphe 49 b))"
            ),
            format!(
                "warning: {page}:9:52: \"GCM\" is not the official wording; write \"Pacte mondial pour des migrations sûres, ordonnées et régulières\" ({glossary} `terms.compact`, from A/RES/73/195)"
            ),
            format!(
                "warning: {page}:2:1: the title is not objective 15's official title; write \"Assurer l’accès des migrants aux services de base\" ({glossary} `objectives.15`, from A/RES/73/195, objectif 15)"
            ),
        ],
        "{}",
        run.stderr()
    );
    // The English page keeps the note's own title and may write the acronyms.
    assert!(!run.stderr().contains("en/objective-15.md"), "{}", run.stderr());

    site.edit(
        "site/content/fr/objective-15.md",
        "Fournir l’accès aux services de base à tous les migrants",
        "Assurer l'accès des migrants aux services de base",
    );
    site.edit("site/content/fr/objective-15.md", " (IMRF)", "");
    site.edit("site/content/fr/objective-15.md", " (GCM)", "");
    let run = site.run(&["check"]);
    assert_eq!(
        glossary_warnings(&run, "fr/objective-15.md"),
        Vec::<String>::new(),
        "typography aside, the title is the official one"
    );
}

#[test]
fn a_glossary_that_lacks_entries_is_warned_about() {
    let site = SiteTest::fixture("glossary");
    site.edit("i18n/fr.glossary.toml", "[objectives.15]", "[objectives.16]");
    let run = site.build();
    run.ok();
    let glossary = site.root().join("i18n/fr.glossary.toml").display().to_string();
    let english = site.root().join("i18n/en.glossary.toml").display().to_string();
    assert!(
        run.stderr().contains(&format!(
            "warning: {glossary}: no entry for objectives.15 (listed in {english}); add each with its official wording and its source"
        )),
        "{}",
        run.stderr()
    );
}

#[test]
fn a_broken_glossary_stops_the_build_with_its_line() {
    let site = SiteTest::fixture("glossary");
    site.edit("i18n/fr.glossary.toml", "avoid = [\"GCM\"]", "eviter = [\"GCM\"]");
    let run = site.build();
    run.err();
    let glossary = site.root().join("i18n/fr.glossary.toml").display().to_string();
    assert_eq!(
        run.messages(),
        [format!(
            "error: {glossary}:8:1: unknown key `eviter`: the keys allowed here are `official`, `avoid`, `source`"
        )]
    );
}

#[test]
fn a_new_language_gets_the_glossarys_entries_to_fill_in() {
    let site = SiteTest::fixture("glossary");
    let out = site.run(&["new-language", "de"]).ok();
    assert!(out.contains("i18n/de.glossary.toml"), "{out}");
    let scaffold = site.source("i18n/de.glossary.toml");
    for entry in [
        "[terms.forum]\n# International Migration Review Forum\nofficial = \"\"",
        "[terms.compact]",
        "[objectives.15]\n# Provide access to basic services for migrants\ntitle = \"\"",
    ] {
        assert!(scaffold.contains(entry), "{entry} in {scaffold}");
    }
    let run = site.build();
    let glossary = site.root().join("i18n/de.glossary.toml").display().to_string();
    assert!(
        run.stderr().contains(&format!(
            "warning: {glossary}: 3 entries without an official wording or a source yet, not checked: terms.compact, terms.forum, objectives.15"
        )),
        "{}",
        run.stderr()
    );
}

#[test]
fn the_bundled_translations_use_their_glossaries_official_terms() {
    let site = SiteTest::bundled();
    let run = site.run(&["check"]);
    run.ok();
    assert_eq!(glossary_warnings(&run, ""), Vec::<String>::new(), "{}", run.stderr());
    for code in ["ar", "es", "fr", "ru", "zh"] {
        assert!(site.root().join(format!("i18n/{code}.glossary.toml")).exists(), "{code} has a glossary");
    }
}
