//! The XLIFF writer and reader, and xmllint with the OASIS schema on what the writer makes.

use super::*;
use crate::exchange::format::testing::{available, sample_catalog, tool_available, without_lines};

/// Where Debian's php-symfony-translation puts the OASIS XLIFF 1.2 schema (the strict
/// one in Debian 12; newer Symfony ships the transitional one) and the schema of the
/// `xml:` attributes it imports.
const SCHEMAS: &str = "/usr/share/php/Symfony/Component/Translation/Resources/schemas";
const XLIFF_SCHEMAS: [&str; 2] = ["xliff-core-1.2-strict.xsd", "xliff-core-1.2-transitional.xsd"];

/// A file whose units start at line 5.
fn document(units: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xliff version=\"1.2\" xmlns=\"{NAMESPACE}\">\n<file original=\"objective-14.md\" source-language=\"en\" target-language=\"fr\" datatype=\"plaintext\">\n<body>\n{units}\n</body>\n</file>\n</xliff>\n"
    )
}

fn units(text: &str) -> Vec<CatalogUnit> {
    parse(Path::new("fr.xlf"), text).unwrap().units
}

#[test]
fn write_then_parse_gives_the_same_catalog() {
    let catalog = sample_catalog();
    let written = write(&catalog);
    assert_eq!(written, write(&catalog), "the output is deterministic");
    let read = parse(Path::new("fr.xlf"), &written).unwrap();
    assert_eq!(without_lines(read), catalog);
}

#[test]
fn writes_tags_as_inline_elements_and_escapes_the_rest() {
    let written = write(&sample_catalog());
    for expected in [
        "<file original=\"objective-14.md\" source-language=\"en\" target-language=\"fr\" datatype=\"plaintext\">",
        "<trans-unit id=\"p-14-1\" resname=\"p-14-1\" xml:space=\"preserve\">\n        <source>See <g id=\"1\">the \"report\"</g><x id=\"2\"/> &amp; more.</source>\n        <target state=\"translated\">Voir <g id=\"1\">le « rapport »</g><x id=\"2\"/> &amp; plus.</target>\n        <note>Objective 14, paragraph 1</note>",
        "<note from=\"imrf-site-tags\">&lt;g1&gt;…&lt;/g1&gt;: link to https://example.org/?a=1&amp;b=\"2\"\n&lt;x2/&gt;: footnote [^asean-consular]</note>",
        "<target state=\"needs-review-translation\"></target>\n        <alt-trans origin=\"previous-version\"><source>What did change?</source><target></target></alt-trans>",
        "<source>Not translated yet, a &lt; b &gt; c</source>\n      </trans-unit>",
        "<source>A &lt;g3&gt;tag that is not closed, &lt;g4&gt;&lt;/g5&gt; &lt;x&gt; &lt;/g3</source>",
    ] {
        assert!(written.contains(expected), "missing {expected:?} in\n{written}");
    }
}

#[test]
fn xmllint_validates_the_written_file_against_the_xliff_schema() {
    let schemas = Path::new(SCHEMAS);
    let xliff_schema = XLIFF_SCHEMAS.iter().map(|name| schemas.join(name)).find(|path| path.is_file());
    let found = xliff_schema.is_some() && schemas.join("xml.xsd").is_file();
    if !tool_available("xmllint") || !available("the XLIFF 1.2 schema (php-symfony-translation)", found) {
        return;
    }
    // The schema imports xml.xsd from w3.org; the copy beside it is used instead.
    let dir = tempfile::tempdir().unwrap();
    let schema = std::fs::read_to_string(xliff_schema.unwrap()).unwrap();
    let schema = schema.replace("schemaLocation=\"http://www.w3.org/2001/xml.xsd\"", "schemaLocation=\"xml.xsd\"");
    std::fs::write(dir.path().join("xliff.xsd"), schema).unwrap();
    std::fs::copy(schemas.join("xml.xsd"), dir.path().join("xml.xsd")).unwrap();
    let file = dir.path().join("fr.xlf");
    std::fs::write(&file, write(&sample_catalog())).unwrap();
    let output = std::process::Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(dir.path().join("xliff.xsd"))
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && stderr.trim_end().ends_with("validates"), "xmllint: {stderr}");
}

#[test]
fn reads_what_cat_tools_write() {
    let text = document(concat!(
        "<group id=\"g\"><trans-unit id=\"a\"><source>A <g id=\"1\"/> &#233;<![CDATA[ <raw> ]]></source>",
        "<seg-source><mrk mtype=\"seg\" mid=\"1\">A</mrk></seg-source>",
        "<target><mrk mtype=\"seg\" mid=\"1\">Ä <x id=\"2\"></x></mrk><!-- checked --></target>",
        "<alt-trans origin=\"machine translation\"><source>not this</source><target>x</target></alt-trans>",
        "</trans-unit></group>\n",
        "<trans-unit id=\"b\"><source>B</source><target state=\"new\">B copied from the original</target></trans-unit>\n",
        "<trans-unit id=\"c\"><source>C</source><target state=\"final\">Cé</target><context-group/></trans-unit>",
    ));
    let read: Vec<_> =
        units(&text).into_iter().map(|u| (u.id, u.source, u.target, u.state, u.previous_source, u.line)).collect();
    assert_eq!(
        read,
        [
            ("a".into(), "A <g1></g1> é <raw> ".into(), "Ä <x2/>".into(), UnitState::Translated, None, 5),
            ("b".into(), "B".into(), String::new(), UnitState::New, None, 6),
            ("c".into(), "C".into(), "Cé".into(), UnitState::Translated, None, 7),
        ]
    );
}

/// Each mistake a translator or a tool can make, with where it is reported.
#[test]
fn errors_name_the_line_and_column() {
    let unit = |source: &str| document(&format!("<trans-unit id=\"a\">\n<source>{source}</source>\n</trans-unit>"));
    let cases = [
        (
            unit("A <bpt id=\"1\">[</bpt>b"),
            "fr.xlf:6:11: <bpt> is not a tag imrf-site wrote: keep the tags <g> and <x> of the original as they are, and add no other markup",
        ),
        (
            unit("A <g id=\"x\">b</g>"),
            "fr.xlf:6:11: this <g> tag has the id \"x\", not one imrf-site wrote: keep the original's tags as they are",
        ),
        (
            unit("A &nbsp;b"),
            "fr.xlf:6:11: &nbsp; is not a character XML knows: write the character itself, or &amp; for &",
        ),
        (
            unit("A <g id=\"1\">b</source>"),
            "fr.xlf:6:22: this is not well-formed XML (ill-formed document: expected `</g>`, but `</source>` was found)",
        ),
        (
            document(
                "<trans-unit id=\"a\"><source>A</source></trans-unit>\n<trans-unit id=\"a\"><source>B</source></trans-unit>",
            ),
            "fr.xlf:6:1: the trans-unit id \"a\" appears twice (first at line 5): it names one paragraph, so keep one of the two",
        ),
        (
            document("<trans-unit resname=\"a\"><source>A</source></trans-unit>"),
            "fr.xlf:5:1: <trans-unit> has no id attribute: imrf-site needs the id it wrote to know which paragraph this is",
        ),
        (
            document("<trans-unit id=\"a\"><target>A</target></trans-unit>"),
            "fr.xlf:5:1: the trans-unit \"a\" has no <source>",
        ),
        (
            document("").replace(" original=\"objective-14.md\"", ""),
            "fr.xlf:3:1: <file> has no original attribute: imrf-site needs it to know which page this file translates",
        ),
        (
            document("").replace("version=\"1.2\"", "version=\"2.0\""),
            "fr.xlf:2:1: this is XLIFF \"2.0\"; imrf-site reads XLIFF 1.2: save or export it from your tool as XLIFF 1.2",
        ),
        ("<html>\n</html>".to_string(), "fr.xlf:1:1: this is not an XLIFF file: it starts with <html>, not <xliff>"),
        (
            document("").replace(NAMESPACE, "urn:oasis:names:tc:xliff:document:2.0"),
            "fr.xlf:2:1: <xliff> lacks the XLIFF 1.2 namespace: xmlns=\"urn:oasis:names:tc:xliff:document:1.2\"",
        ),
        (
            document("<trans-unit id=\"a\"><source>A</source>").replace("</body>\n</file>\n</xliff>\n", ""),
            "fr.xlf:6:1: the file ends too early: it was cut off, or an element is not closed",
        ),
        (
            document("")
                .replace("</file>", "</file><file original=\"b\" source-language=\"en\" target-language=\"fr\">"),
            "fr.xlf:7:8: a second <file>: imrf-site exports one page per XLIFF file",
        ),
    ];
    for (text, expected) in cases {
        let result = parse(Path::new("fr.xlf"), &text);
        assert_eq!(result.map(|_| ()).unwrap_err().to_string(), expected, "{text}");
    }
}
