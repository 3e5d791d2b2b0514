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
        expect: &["site/content/en/about.md:3:1", "unknown key `colour`"],
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
    Case {
        name: "empty page",
        breaks: |s| s.write(ABOUT, ""),
        expect: &["site/content/en/about.md:1:1", "front matter between two `+++` lines"],
    },
    Case {
        name: "front matter closed by `++` only",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\n++\nText\n"),
        expect: &["site/content/en/about.md:1:1", "front matter"],
    },
    Case {
        name: "table where a string belongs",
        breaks: |s| s.write(ABOUT, "+++\ntitle = { en = \"About\" }\n+++\nText\n"),
        expect: &["site/content/en/about.md:2:9", "invalid type", "expected a string"],
    },
    Case {
        name: "string where a boolean belongs",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\ndraft = \"no\"\n+++\nText\n"),
        expect: &["site/content/en/about.md:3:9", "invalid type", "expected a boolean"],
    },
    Case {
        name: "a slug key (pages take their URL from the file name)",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\nslug = \"../../etc\"\n+++\nText\n"),
        expect: &["site/content/en/about.md:3:1", "unknown key `slug`"],
    },
    Case {
        name: "front matter nested beyond the TOML parser's limit",
        breaks: |s| {
            let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
            s.write(ABOUT, format!("+++\ntitle = \"About\"\nweight = {deep}\n+++\nText\n"));
        },
        expect: &["cannot recurse further", "site/content/en/about.md:3:"],
    },
    Case {
        name: "guiding question id used twice",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("site/content/en/first.md")).unwrap();
            s.write("site/content/en/first.md", text.replace("id = \"q-2-2\"", "id = \"q-2-1\""));
        },
        expect: &["site/content/en/first.md", "`q-2-1` is used twice"],
    },
    Case {
        name: "guiding question id of another objective",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("site/content/en/first.md")).unwrap();
            s.write("site/content/en/first.md", text.replace("id = \"q-2-2\"", "id = \"q-3-2\""));
        },
        expect: &["site/content/en/first.md", "`q-3-2` should look like `q-2-1`"],
    },
    Case {
        name: "objective without a short label",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\nkind = \"objective\"\nobjective = 7\n+++\n"),
        expect: &["site/content/en/about.md", "short_label"],
    },
    Case {
        name: "home kind outside _index.md",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\nkind = \"home\"\n+++\n"),
        expect: &["site/content/en/about.md", "only `_index.md` can be a language's home page"],
    },
    Case {
        name: "footnote defined twice",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\n+++\nA[^a].\n\n[^a]: One.\n\n[^a]: Two.\n"),
        expect: &["site/content/en/about.md:8:1", "`[^a]` is defined twice"],
    },
    Case {
        name: "a page where the generator publishes its own",
        breaks: |s| s.write("site/content/en/references.md", "+++\ntitle = \"Refs\"\n+++\n"),
        expect: &["site/content/en/references.md", "/en/references/ is a page the generator makes itself"],
    },
    Case {
        name: "a stamped translation with no original",
        breaks: |s| {
            s.write("site/content/fr/lost.md", "+++\ntitle = \"Perdu\"\nsource_hash = \"0123456789abcdef\"\n+++\n")
        },
        expect: &["site/content/fr/lost.md", "stamped with source_hash", "no page `lost.md`"],
    },
    Case {
        name: "language folder in the wrong case",
        breaks: |s| std::fs::rename(s.root().join("site/content/fr"), s.root().join("site/content/FR")).unwrap(),
        expect: &["site/content/FR", "should be spelled `fr`"],
    },
    Case {
        name: "language folder with an underscore",
        breaks: |s| s.write("site/content/en_US/page.md", "+++\ntitle = \"x\"\n+++\n"),
        expect: &["site/content/en_US", "not a language code"],
    },
    Case {
        name: "default language without a folder",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("site/config.toml")).unwrap();
            s.write("site/config.toml", text.replace("default_language = \"en\"", "default_language = \"de\""));
        },
        expect: &["site/config.toml", "default_language is `de`", "no folder"],
    },
    Case {
        name: "unknown config key",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("site/config.toml")).unwrap();
            s.write("site/config.toml", format!("{text}colour = \"blue\"\n"));
        },
        expect: &["site/config.toml:5:1", "unknown key `colour`"],
    },
    Case {
        name: "base_url that is not an absolute URL",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("site/config.toml")).unwrap();
            s.write("site/config.toml", text.replace("https://example.org/", "example.org"));
        },
        expect: &["site/config.toml", "base_url `example.org` must be an absolute http(s) URL"],
    },
    Case {
        name: "theme that does not exist",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("site/config.toml")).unwrap();
            s.write("site/config.toml", text.replace("theme = \"default\"", "theme = \"plain\""));
        },
        expect: &["themes/plain/templates: cannot read: No such file or directory (os error 2)\n"],
    },
    Case {
        name: "theme given as a path out of the site",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("site/config.toml")).unwrap();
            s.write("site/config.toml", text.replace("theme = \"default\"", "theme = \"../../elsewhere\""));
        },
        expect: &[
            "site/config.toml:4:9",
            "theme `../../elsewhere` must be the name of a folder in themes/, not a path",
        ],
    },
    Case {
        name: "theme given as an absolute path",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("site/config.toml")).unwrap();
            s.write("site/config.toml", text.replace("theme = \"default\"", "theme = \"/usr/share\""));
        },
        expect: &["site/config.toml:4:9", "theme `/usr/share` must be the name of a folder"],
    },
    Case {
        name: "no UI strings for the default language",
        breaks: |s| s.remove("i18n/en.toml"),
        expect: &["i18n/en.toml", "the default language needs its UI strings file"],
    },
    Case {
        name: "i18n file with an unknown section",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("i18n/fr.toml")).unwrap();
            s.write("i18n/fr.toml", format!("{text}\n[colours]\nred = \"rouge\"\n"));
        },
        expect: &["i18n/fr.toml:", "unknown key `colours`"],
    },
    Case {
        name: "i18n plural with a form that is no CLDR category",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("i18n/fr.toml")).unwrap();
            s.write("i18n/fr.toml", text.replacen("other = ", "several = \"x\"\nother = ", 1));
        },
        expect: &["i18n/fr.toml", "`several`", "not a CLDR plural category"],
    },
    Case {
        name: "i18n plural missing a form the language needs",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("i18n/fr.toml")).unwrap();
            let start = text.find("one = ").unwrap();
            let end = start + text[start..].find('\n').unwrap() + 1;
            s.write("i18n/fr.toml", format!("{}{}", &text[..start], &text[end..]));
        },
        expect: &["i18n/fr.toml", "has no form `one`, which fr needs"],
    },
    Case {
        name: "i18n file that is not UTF-8",
        breaks: |s| s.write("i18n/fr.toml", b"[language]\nname = \"Fran\xe7ais\"\ndir = \"ltr\"\n".as_slice()),
        expect: &["i18n/fr.toml", "not valid UTF-8"],
    },
    Case {
        name: "CSS import of a missing file",
        breaks: |s| s.write("themes/default/css/main.css", "@import \"_missing.css\";\n"),
        expect: &["themes/default/css/main.css:1:", "No such file"],
    },
    Case {
        name: "template that includes itself",
        breaks: |s| s.write("themes/default/templates/page.html", "{% include \"page.html\" %}\n"),
        expect: &["(while making the page /en/about/)", "themes/default/templates/page.html:1:1"],
    },
    Case {
        name: "template nested beyond minijinja's limit",
        breaks: |s| {
            let deep = format!("{}x{}", "{% if true %}".repeat(3_000), "{% endif %}".repeat(3_000));
            s.write("themes/default/templates/page.html", deep);
        },
        expect: &["recursion", "themes/default/templates/page.html:1"],
    },
    Case {
        name: "raw HTML nested too deep to sanitize",
        breaks: |s| {
            let deep = format!("{}x{}", "<div>".repeat(100_000), "</div>".repeat(100_000));
            s.write(ABOUT, format!("+++\ntitle = \"About\"\n+++\n\nText.\n\n{deep}\n"));
        },
        expect: &["raw HTML nested more than 512 elements deep", "site/content/en/about.md:7:2561"],
    },
    Case {
        name: "unsafe_html that is not a boolean",
        breaks: |s| {
            let text = std::fs::read_to_string(s.root().join("site/config.toml")).unwrap();
            s.write("site/config.toml", format!("{text}unsafe_html = \"yes\"\n"));
        },
        expect: &["site/config.toml:5:15", "invalid type", "expected a boolean"],
    },
    // The file system: what a build must read carefully. Tests run as root, so a file
    // with mode 000 would still be readable; these are the honest unreadable cases.
    Case {
        name: "a FIFO where a page should be (reading it would block forever)",
        breaks: |s| mkfifo(&s.root().join("site/content/en/pipe.md")),
        expect: &["site/content/en/pipe.md: cannot read: it is a FIFO (named pipe), not a regular file"],
    },
    Case {
        name: "a FIFO in the theme's static files",
        breaks: |s| mkfifo(&s.root().join("themes/default/static/pipe.txt")),
        expect: &[
            "themes/default/static/pipe.txt: cannot read: it is a FIFO (named pipe), not a regular file; imrf-site reads only regular files\n",
        ],
    },
    Case {
        name: "a FIFO as the configuration",
        breaks: |s| {
            s.remove("site/config.toml");
            mkfifo(&s.root().join("site/config.toml"));
        },
        expect: &["site/config.toml: cannot read the site configuration: it is a FIFO"],
    },
    Case {
        name: "a dangling symbolic link",
        breaks: |s| symlink("gone.md", &s.root().join("site/content/en/link.md")),
        expect: &["site/content/en/link.md: cannot read: it is a symbolic link to gone.md, which does not exist"],
    },
    Case {
        name: "a symbolic link to itself",
        breaks: |s| symlink("self.md", &s.root().join("site/content/en/self.md")),
        expect: &["site/content/en/self.md: cannot read: it is a symbolic link loop"],
    },
    Case {
        name: "a symbolic link loop between folders",
        breaks: |s| symlink("..", &s.root().join("site/content/en/sub/up")),
        expect: &["site/content/en/sub/up: cannot read: this symbolic link leads back to", "a link loop"],
    },
    Case {
        name: "a symbolic link loop in the theme's static files",
        breaks: |s| symlink(".", &s.root().join("themes/default/static/again")),
        expect: &["themes/default/static/again: cannot read: this symbolic link leads back to", "a link loop\n"],
    },
    Case {
        name: "a symbolic link to a file outside the site",
        breaks: |s| {
            let outside = s.root().parent().unwrap().join(format!("outside-{}.md", std::process::id()));
            std::fs::write(&outside, "+++\ntitle = \"Secret\"\n+++\nSecret\n").unwrap();
            symlink(&outside, &s.root().join("site/content/en/secret.md"));
        },
        expect: &["site/content/en/secret.md: cannot read: it leads to", "outside the site root"],
    },
    Case {
        name: "a symbolic link to a folder outside the site",
        breaks: |s| symlink("/etc", &s.root().join("themes/default/static/etc")),
        expect: &["themes/default/static/etc: cannot read: it leads to /etc, outside the site root"],
    },
    Case {
        name: "a template linked from outside the theme",
        breaks: |s| {
            let outside = s.root().join("site/page.html");
            std::fs::write(&outside, "{{ page.title }}").unwrap();
            s.remove("themes/default/templates/page.html");
            symlink(&outside, &s.root().join("themes/default/templates/page.html"));
        },
        expect: &["themes/default/templates/page.html: cannot read: it leads to", "outside the site root"],
    },
    Case {
        name: "CSS nested deeper than its parser's stack allows",
        breaks: |s| s.write("themes/default/css/_base.css", "@media screen {\n".repeat(300)),
        expect: &["themes/default/css/_base.css:33:1", "nested more than 32 deep"],
    },
    Case {
        name: "CSS import from outside the theme's css/ folder",
        breaks: |s| s.write("themes/default/css/main.css", "@import \"../../../site/config.toml\";\n"),
        expect: &["themes/default/css/main.css:1:", "is not a stylesheet in the theme's css/ folder"],
    },
    Case {
        name: "citation year that is not a year",
        breaks: |s| {
            let config = std::fs::read_to_string(s.root().join("site/config.toml")).unwrap();
            s.write("site/config.toml", format!("{config}\n[citation]\nauthor = \"A\"\nyear = 22\n"));
        },
        expect: &["`year` must be a year such as 2022, not 22", "site/config.toml:8:8"],
    },
    Case {
        name: "translator: a front matter key translated",
        breaks: |s| s.edit("site/content/fr/first.md", "title = ", "titre = "),
        expect: &["unknown key `titre`: did you mean `title`?", "site/content/fr/first.md:2:1"],
    },
    Case {
        name: "translator: the closing `+++` lost",
        breaks: |s| s.edit("site/content/fr/first.md", "+++\n\nUn texte", "\nUn texte"),
        expect: &["the front matter opened here is never closed", "site/content/fr/first.md:1:1"],
    },
    Case {
        name: "translator: a guiding question id changed",
        breaks: |s| s.edit("site/content/fr/first.md", "id = \"q-2-2\"", "id = \"q-2-3\""),
        expect: &[
            "site/content/fr/first.md",
            "guiding question ids [q-2-1, q-2-3] differ from the original's [q-2-1, q-2-2]",
        ],
    },
    Case {
        name: "translator: a footnote label renamed",
        breaks: |s| s.edit("site/content/fr/first.md", "une autre[^other]", "une autre[^autre]"),
        expect: &["footnote reference `[^autre]` has no definition", "site/content/fr/first.md:17:"],
    },
];

fn mkfifo(path: &std::path::Path) {
    let status = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

fn symlink(target: impl AsRef<std::path::Path>, link: &std::path::Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// The whole message, snippet included, where a translator or publisher reads it most:
/// what is wrong in their words, where, and the line itself with a caret.
const MESSAGES: &[(&str, &str)] = &[
    (
        "unknown front matter key",
        "error: unknown key `colour`: the keys allowed here are `title`, `kind`, `objective`, `short_label`, `weight`, `description`, `date`, `draft`, `questions`, `source_hash`\n --> site/content/en/about.md:3:1\n  |\n3 | colour = \"red\"\n  | ^\n",
    ),
    (
        "wrong front matter type",
        "error: `weight` must be a whole number, like `weight = 3` (found string \"heavy\")\n --> site/content/en/about.md:3:10\n  |\n3 | weight = \"heavy\"\n  |          ^\n",
    ),
    (
        "unclosed front matter",
        "error: the front matter opened here is never closed: add a line `+++` after its last key\n --> site/content/en/about.md:1:1\n  |\n1 | +++\n  | ^\n",
    ),
    (
        "invalid UTF-8",
        "error: the file is not valid UTF-8 (save it as UTF-8)\n --> site/content/en/about.md:4:4\n  |\n4 | Caf�\n  |    ^\n",
    ),
    (
        "footnote reference without definition",
        "error: footnote reference `[^nowhere]` has no definition (add a line `[^nowhere]: ...`)\n --> site/content/en/about.md:7:9\n  |\n7 | See this[^nowhere].\n  |         ^\n",
    ),
    (
        "missing config key",
        "error: site/config.toml: `theme` is missing: it is required here, so add a line `theme = ...`\n",
    ),
    (
        "i18n file with bad TOML",
        "error: this text in double quotes has no closing `\"` on its line\n --> i18n/fr.toml:2:17\n  |\n2 | name = \"Français\n  |                 ^\n",
    ),
    (
        "template syntax error",
        "error: syntax error: unexpected end of block\n --> themes/default/templates/page.html:3:1\n  |\n3 | {% if %}\n  | ^\n",
    ),
    (
        "undefined template variable",
        "error: undefined value (while making the page /en/about/)\n --> themes/default/templates/page.html:3:1\n  |\n3 | <p>{{ page.subtitle }}</p>\n  | ^\nerror: undefined value (while making the page /fr/about/)\n --> themes/default/templates/page.html:3:1\n  |\n3 | <p>{{ page.subtitle }}</p>\n  | ^\n",
    ),
    ("CSS syntax error", "error: Invalid empty selector\n --> themes/default/css/_base.css:3:1\n  |\n3 | }\n  | ^\n"),
    (
        "objective number out of range",
        "error: objective 30 does not exist: GCM objectives are numbered 1 to 23\n --> site/content/en/again.md:4:13\n  |\n4 | objective = 30\n  |             ^\n",
    ),
    (
        "front matter closed by `++` only",
        "error: the front matter opened here is never closed: add a line `+++` after its last key\n --> site/content/en/about.md:1:1\n  |\n1 | +++\n  | ^\n",
    ),
    (
        "table where a string belongs",
        "error: `title` must be text in double quotes, like `title = \"...\"` (found map)\n --> site/content/en/about.md:2:9\n  |\n2 | title = { en = \"About\" }\n  |         ^\n",
    ),
    (
        "string where a boolean belongs",
        "error: `draft` must be `true` or `false`, like `draft = true` (found string \"no\")\n --> site/content/en/about.md:3:9\n  |\n3 | draft = \"no\"\n  |         ^\n",
    ),
    (
        "a slug key (pages take their URL from the file name)",
        "error: unknown key `slug`: the keys allowed here are `title`, `kind`, `objective`, `short_label`, `weight`, `description`, `date`, `draft`, `questions`, `source_hash`\n --> site/content/en/about.md:3:1\n  |\n3 | slug = \"../../etc\"\n  | ^\n",
    ),
    (
        "footnote defined twice",
        "error: footnote `[^a]` is defined twice\n --> site/content/en/about.md:8:1\n  |\n8 | [^a]: Two.\n  | ^\n",
    ),
    (
        "unknown config key",
        "error: unknown key `colour`: the keys allowed here are `title`, `base_url`, `default_language`, `theme`, `unsafe_html`, `open_data`, `offline`, `citation`, `pdf`\n --> site/config.toml:5:1\n  |\n5 | colour = \"blue\"\n  | ^\n",
    ),
    (
        "theme given as a path out of the site",
        "error: theme `../../elsewhere` must be the name of a folder in themes/, not a path\n --> site/config.toml:4:9\n  |\n4 | theme = \"../../elsewhere\"\n  |         ^\n",
    ),
    (
        "theme given as an absolute path",
        "error: theme `/usr/share` must be the name of a folder in themes/, not a path\n --> site/config.toml:4:9\n  |\n4 | theme = \"/usr/share\"\n  |         ^\n",
    ),
    (
        "i18n file with an unknown section",
        "error: unknown key `colours`: the keys allowed here are `language`, `strings`, `plurals`\n  --> i18n/fr.toml:95:2\n   |\n95 | [colours]\n   |  ^\n",
    ),
    (
        "CSS import of a missing file",
        "error: No such file or directory (os error 2)\n --> themes/default/css/main.css:1:1\n  |\n1 | @import \"_missing.css\";\n  | ^\n",
    ),
    (
        "unsafe_html that is not a boolean",
        "error: `unsafe_html` must be `true` or `false`, like `unsafe_html = true` (found string \"yes\")\n --> site/config.toml:5:15\n  |\n5 | unsafe_html = \"yes\"\n  |               ^\n",
    ),
    (
        "CSS nested deeper than its parser's stack allows",
        "error: blocks, parentheses or brackets nested more than 32 deep; flatten the stylesheet\n  --> themes/default/css/_base.css:33:15\n   |\n33 | @media screen {\n   |               ^\n",
    ),
    (
        "CSS import from outside the theme's css/ folder",
        "error: themes/default/css/../../../site/config.toml is not a stylesheet in the theme's css/ folder\n --> themes/default/css/main.css:1:1\n  |\n1 | @import \"../../../site/config.toml\";\n  | ^\n",
    ),
    (
        "translator: a front matter key translated",
        "error: unknown key `titre`: did you mean `title`?\n --> site/content/fr/first.md:2:1\n  |\n2 | titre = \"Le premier objectif\"\n  | ^\n",
    ),
    (
        "translator: the closing `+++` lost",
        "error: the front matter opened here is never closed: add a line `+++` after its last key\n --> site/content/fr/first.md:1:1\n  |\n1 | +++\n  | ^\n",
    ),
    (
        "translator: a guiding question id changed",
        "error: site/content/fr/first.md: guiding question ids [q-2-1, q-2-3] differ from the original's [q-2-1, q-2-2] in site/content/en/first.md; keep the original's ids\n",
    ),
    (
        "translator: a footnote label renamed",
        "error: footnote reference `[^autre]` has no definition (add a line `[^autre]: ...`)\n  --> site/content/fr/first.md:17:48\n   |\n17 | Un texte qui cite une source[^src] et une autre[^autre], puis la première[^src].\n   |                                                ^\n",
    ),
];

fn expect_in_order(case: &Case, message: &str) {
    let mut from = 0;
    for fragment in case.expect {
        match message[from..].find(fragment) {
            Some(at) => from += at + fragment.len(),
            None => panic!("{}: expected `{fragment}` in:\n{message}", case.name),
        }
    }
}

#[test]
fn every_whole_message_belongs_to_a_case() {
    for (name, _) in MESSAGES {
        assert!(CASES.iter().any(|case| case.name == *name), "no case named {name}");
    }
    assert!(MESSAGES.len() >= 20);
}

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
        match MESSAGES.iter().find(|(name, _)| *name == case.name) {
            Some((_, exact)) => assert_eq!(message, *exact, "{}", case.name),
            None => expect_in_order(case, &message),
        }
        assert_eq!(run.output.status.code(), Some(1), "{}", case.name);
        assert!(before == snapshot_tree(&site.public()), "{}: the previous output changed", case.name);
    }
}

/// Links and images that lead nowhere: `build` still publishes (one broken link should
/// not hold back a whole site) and warns; `check` fails.
const BROKEN: &[Case] = &[
    Case {
        name: "link to a missing page",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\n+++\nSee [the plan](/en/plan/).\n"),
        expect: &["site/content/en/about.md (published as en/about/index.html): link to /en/plan/ points to no page"],
    },
    Case {
        name: "relative link to a missing page",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\n+++\nSee [the plan](../plan/).\n"),
        expect: &["site/content/en/about.md (published as en/about/index.html): link to ../plan/ points to no page"],
    },
    Case {
        name: "link to a missing anchor",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\n+++\nSee [question 9](/en/objective-2/#q-2-9).\n"),
        expect: &["site/content/en/about.md", "link to /en/objective-2/#q-2-9 points to a missing anchor"],
    },
    Case {
        name: "missing image",
        breaks: |s| s.write(ABOUT, "+++\ntitle = \"About\"\n+++\n![A map](/images/map.png)\n"),
        expect: &["site/content/en/about.md", "link to /images/map.png points to no file (an image or script)"],
    },
];

#[test]
fn broken_links_and_images_are_warnings_for_build_and_errors_for_check() {
    for case in BROKEN {
        let site = SiteTest::fixture("basic");
        site.build().ok();
        (case.breaks)(&site);
        let before = snapshot_tree(&site.public());
        let check = site.run(&["check"]);
        let message = check.err().replace(&format!("{}/", site.root().display()), "");
        for fragment in case.expect {
            assert!(message.contains(fragment), "{}: check: expected `{fragment}` in:\n{message}", case.name);
        }
        assert_eq!(check.output.status.code(), Some(1), "{}", case.name);
        assert!(before == snapshot_tree(&site.public()), "{}: check wrote to the output", case.name);

        let build = site.build();
        build.ok();
        let warnings = build.stderr().replace(&format!("{}/", site.root().display()), "");
        for fragment in case.expect {
            assert!(
                warnings.contains(&format!("warning: {fragment}")) || warnings.contains(fragment),
                "{}: build: expected `{fragment}` in:\n{warnings}",
                case.name
            );
        }
        assert!(site.public().join("en/about/index.html").exists());
    }
}

#[test]
fn output_folders_that_hold_other_things_are_refused() {
    let site = SiteTest::fixture("basic");
    let root = site.root().display().to_string();
    let parent = site.root().parent().unwrap().display().to_string();
    let site_dir = site.root().join("site").display().to_string();
    let themes = site.root().join("themes").display().to_string();
    let i18n = site.root().join("i18n/out").display().to_string();
    let dotted = site.root().join("site/..").display().to_string();
    let link = site.root().parent().unwrap().join(format!("link-to-root-{}", std::process::id()));
    std::os::unix::fs::symlink(site.root(), &link).unwrap();
    let link = link.display().to_string();
    let file = site.root().join("site/config.toml").display().to_string();
    std::fs::write(site.root().join("notes.txt"), "mine").unwrap();
    let plain_file = site.root().join("notes.txt").display().to_string();
    for output in
        [root.as_str(), parent.as_str(), site_dir.as_str(), &themes, &i18n, &dotted, &link, "/", &file, &plain_file]
    {
        let before = snapshot_tree(site.root());
        let run = site.run(&["build", "--output", output]);
        let message = run.err();
        assert!(message.contains("refusing to write the site here"), "{output}: {message}");
        assert_eq!(run.output.status.code(), Some(1));
        assert!(before == snapshot_tree(site.root()), "{output}: the site's folder changed");
    }
    std::fs::remove_file(&link).unwrap();
    assert!(site.root().join("site/config.toml").exists());

    site.build().ok();
    site.write("public/CNAME", "review.example.org");
    let message = site.build().err();
    assert!(message.contains("CNAME") && message.contains("did not write"), "{message}");
    assert!(site.public().join("CNAME").exists(), "a file the tool did not write is never deleted");
    assert!(site.public().join("en/index.html").exists());
}

#[test]
fn a_build_reports_every_bad_page_at_once() {
    let site = SiteTest::fixture("basic");
    break_two_pages(&site);
    let message = site.build().err().replace(&format!("{}/", site.root().display()), "");
    assert!(
        message.contains("unknown key `titre`: did you mean `title`?\n --> site/content/fr/first.md:2:1"),
        "{message}"
    );
    assert!(message.contains("`weight` must be a whole number, like `weight = 3` (found string \"heavy\")\n --> site/content/en/about.md:3:10"), "{message}");
    assert_eq!(message.matches("error: ").count(), 2, "{message}");
}

fn break_two_pages(site: &SiteTest) {
    site.edit("site/content/fr/first.md", "title = ", "titre = ");
    site.write(ABOUT, "+++\ntitle = \"About\"\nweight = \"heavy\"\n+++\nText\n");
}

#[test]
fn json_messages_give_editors_the_file_line_and_column() {
    let site = SiteTest::fixture("basic");
    break_two_pages(&site);
    let run = site.run(&["build", "--message-format", "json"]);
    assert_eq!(run.output.status.code(), Some(1));
    let records: Vec<serde_json::Value> =
        run.stderr().lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect();
    let about = site.root().join(ABOUT).display().to_string();
    assert!(
        records.contains(&serde_json::json!({
            "severity": "error",
            "message": "`weight` must be a whole number, like `weight = 3` (found string \"heavy\")",
            "file": about,
            "line": 3,
            "column": 10
        })),
        "{records:?}"
    );
    assert_eq!(records.len(), 2, "{records:?}");

    // Warnings too: a page French lacks, and a broken link, in a build that succeeds.
    let site = SiteTest::fixture("basic");
    site.write(ABOUT, "+++\ntitle = \"About\"\n+++\nSee [the plan](/en/plan/).\n");
    let run = site.run(&["build", "--message-format", "json"]);
    run.ok();
    let records: Vec<serde_json::Value> =
        run.stderr().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(!records.is_empty());
    assert!(records.iter().all(|r| r["severity"] == "warning"), "{records:?}");
    assert!(
        records.iter().any(|r| r["message"].as_str().unwrap().contains("link to /en/plan/ points to no page")),
        "{records:?}"
    );
}
