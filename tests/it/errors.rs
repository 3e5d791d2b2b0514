//! Bad input: each case breaks one thing in a fixture site that built before, and checks
//! the exit code, that the message names the file (and line:column where the parser
//! knows it), and that the previous output is exactly as it was.

use crate::support::{SiteTest, snapshot_tree};

struct Case {
    name: &'static str,
    /// Breaks the site.
    breaks: fn(&SiteTest),
    /// Fragments the error message must contain, in order.
    expect: &'static [&'static str],
}

const ABOUT: &str = "site/content/en/about.md";

const CASES: &[Case] = &[
    Case {
        name: "unknown front matter key",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\ncolour = \"red\"\n+++\nText\n"),
        expect: &["site/content/en/about.md:3:1", "unknown field `colour`"],
    },
    Case {
        name: "wrong front matter type",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\nweight = \"heavy\"\n+++\nText\n"),
        expect: &["site/content/en/about.md:3:10", "invalid type"],
    },
    Case {
        name: "unclosed front matter",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\nText\n"),
        expect: &["site/content/en/about.md:1:1", "front matter"],
    },
    Case {
        name: "invalid UTF-8",
        breaks: |s| s.write(ABOUT, b"+++\ntitle = \"About\"\n+++\nCaf\xe9\n".as_slice()),
        expect: &["site/content/en/about.md:4:4", "not valid UTF-8"],
    },
    Case {
        name: "footnote reference without definition",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\n+++\n\nFirst line.\n\nSee this[^nowhere].\n"),
        expect: &["site/content/en/about.md:7:9", "[^nowhere]", "no definition"],
    },
    Case {
        name: "two pages with the same URL",
        breaks: |s| {
            s.write(
                "site/content/en/again.md",
                "+++\ntitle = \"Again\"\nkind = \"objective\"\nobjective = 5\nshort_label = \"x\"\n+++\n",
            )
        },
        expect: &["site/content/en/again.md", "site/content/en/second.md", "/en/objective-5/"],
    },
    Case {
        name: "missing config key",
        breaks: |s| {
            s.write(
                "site/config.toml",
                "title = \"T\"\nbase_url = \"https://example.org/\"\ndefault_language = \"en\"\n",
            )
        },
        expect: &["site/config.toml", "missing field `theme`"],
    },
    Case {
        name: "malformed language folder",
        breaks: |s| s.write("site/content/english/page.md", "+++\ntitle = \"x\"\n+++\n"),
        expect: &["site/content/english", "not a language code"],
    },
    Case {
        name: "i18n file with an unknown key",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("i18n/fr.toml")).unwrap();
            s.write("i18n/fr.toml", text.replace("[strings]\n", "[strings]\nsearch_buton = \"Chercher\"\n"));
        },
        expect: &["i18n/fr.toml", "search_buton"],
    },
    Case {
        name: "i18n file with bad TOML",
        breaks: |s| s.write("i18n/fr.toml", "[language]\nname = \"Français\ndir = \"ltr\"\n"),
        expect: &["i18n/fr.toml:2:"],
    },
    Case {
        name: "missing template",
        breaks: |s| s.remove("themes/default/templates/objective.html"),
        expect: &["themes/default/templates/objective.html", "no template"],
    },
    Case {
        name: "template syntax error",
        breaks: |s| {
            s.write(
                "themes/default/templates/page.html",
                "{% extends \"base.html\" %}\n{% block main %}\n{% if %}\n{% endblock %}\n",
            )
        },
        expect: &["themes/default/templates/page.html:3", "syntax error"],
    },
    Case {
        name: "undefined template variable",
        breaks: |s| {
            s.write(
                "themes/default/templates/page.html",
                "{% extends \"base.html\" %}\n{% block main %}\n<p>{{ page.subtitle }}</p>\n{% endblock %}\n",
            )
        },
        expect: &["/en/about/", "themes/default/templates/page.html:3", "undefined"],
    },
    Case {
        name: "CSS syntax error",
        breaks: |s| s.write("themes/default/css/_base.css", "body { color: red;\n}\n}\n@media screen and {\n"),
        expect: &["themes/default/css/_base.css:"],
    },
    Case {
        name: "objective number out of range",
        breaks: |s| {
            s.write(
                "site/content/en/again.md",
                "+++\ntitle = \"Again\"\nkind = \"objective\"\nobjective = 30\nshort_label = \"x\"\n+++\n",
            )
        },
        expect: &["site/content/en/again.md:4:13", "numbered 1 to 23"],
    },
];

#[test]
fn bad_input_fails_with_a_located_message_and_keeps_the_previous_output() {
    for case in CASES {
        let site = SiteTest::fixture("basic");
        site.build().ok();
        let before = snapshot_tree(&site.public());
        (case.breaks)(&site);
        let run = site.build();
        let message = run.err();
        let message = message.replace(&format!("{}/", site.root().display()), "");
        let mut from = 0;
        for fragment in case.expect {
            match message[from..].find(fragment) {
                Some(at) => from += at + fragment.len(),
                None => panic!("{}: expected `{fragment}` in:\n{message}", case.name),
            }
        }
        assert_eq!(run.output.status.code(), Some(1), "{}", case.name);
        assert!(before == snapshot_tree(&site.public()), "{}: the previous output changed", case.name);
    }
}

#[test]
fn output_folders_that_hold_other_things_are_refused() {
    let site = SiteTest::fixture("basic");
    let root = site.root().display().to_string();
    let parent = site.root().parent().unwrap().display().to_string();
    let site_dir = site.root().join("site").display().to_string();
    for output in [root.as_str(), parent.as_str(), site_dir.as_str()] {
        let message = site.run(&["build", "--output", output]).err();
        assert!(message.contains("refusing to write the site here"), "{output}: {message}");
    }
    assert!(site.root().join("site/config.toml").exists());

    site.build().ok();
    site.write("public/CNAME", "review.example.org");
    let message = site.build().err();
    assert!(message.contains("CNAME") && message.contains("did not write"), "{message}");
    assert!(site.public().join("CNAME").exists(), "a file the tool did not write is never deleted");
    assert!(site.public().join("en/index.html").exists());
}
