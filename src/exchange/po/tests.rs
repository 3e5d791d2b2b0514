//! The PO writer and reader, and msgfmt on what the writer makes.

use super::*;
use crate::exchange::format::testing::{sample_catalog, tool_available, without_lines};

/// A header on lines 1 to 5 and a blank line 6: entries start at line 7.
const HEADER: &str = "msgid \"\"\nmsgstr \"\"\n\"Language: fr\\n\"\n\"X-Source-Language: en\\n\"\n\"X-Imrf-Original: objective-14.md\\n\"\n\n";

#[test]
fn write_then_parse_gives_the_same_catalog() {
    let catalog = sample_catalog();
    let written = write(&catalog);
    assert_eq!(written, write(&catalog), "the output is deterministic");
    let read = parse(Path::new("fr.po"), &written).unwrap();
    assert_eq!(without_lines(read), catalog);
}

#[test]
fn units_remember_the_line_of_their_msgctxt() {
    let read = parse(
        Path::new("fr.po"),
        &format!(
            "{HEADER}#. a note\nmsgctxt \"a\"\nmsgid \"A\"\nmsgstr \"\"\n\nmsgctxt \"b\"\nmsgid \"B\"\nmsgstr \"\"\n"
        ),
    )
    .unwrap();
    assert_eq!(read.units.iter().map(|u| u.line).collect::<Vec<_>>(), [8, 12]);
}

#[test]
fn writes_entries_as_gettext_does() {
    let written = write(&sample_catalog());
    assert!(written.starts_with("msgid \"\"\nmsgstr \"\"\n\"Project-Id-Version: imrf-site\\n\"\n"), "{written}");
    for expected in [
        "\"Language: fr\\n\"\n",
        "\"X-Source-Language: en\\n\"\n",
        "\"X-Imrf-Original: objective-14.md\\n\"\n",
        "#. Objective 14, paragraph 1\n#. A second note\n#. <g1>…</g1>: link to https://example.org/?a=1&b=\"2\"\n#. <x2/>: footnote [^asean-consular]\nmsgctxt \"p-14-1\"\nmsgid \"See <g1>the \\\"report\\\"</g1><x2/> & more.\"\n",
        "#, fuzzy\n#| msgctxt \"p-14-2\"\n#| msgid \"\"\n#| \"Line one\\n\"\n#| \"old line two\"\nmsgctxt \"p-14-2\"\nmsgid \"\"\n\"Line one\\n\"\n\"line two\\n\"\n\"\\tindented\"\n",
        "msgid \"C:\\\\temp\\\\new \\\\n is not a newline\"\n",
        "msgctxt \"fn:asean-consular\"\nmsgid \"Not translated yet, a < b > c\"\nmsgstr \"\"\n",
    ] {
        assert!(written.contains(expected), "missing {expected:?} in\n{written}");
    }
}

#[test]
fn msgfmt_accepts_the_written_file() {
    if !tool_available("msgfmt") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fr.po");
    std::fs::write(&file, write(&sample_catalog())).unwrap();
    let output = std::process::Command::new("msgfmt")
        .args(["--check-format", "-c", "-o", "/dev/null"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && stderr.is_empty(), "msgfmt: {stderr}");
}

#[test]
fn reads_what_translation_tools_write() {
    let text = format!(
        "{HEADER}# translator's comment\r\n#: objective-14.md\r\n#, fuzzy, no-c-format\r\nmsgctxt \"a\"\r\nmsgid \"A\"\r\nmsgstr \"\"\r\n\"x\"\r\nmsgctxt \"b\"\r\nmsgid \"B\"\r\nmsgstr \"y\"\r\n#~ msgctxt \"gone\"\r\n#~ msgid \"Gone\"\r\n#~ msgstr \"Parti\"\r\n"
    );
    let read = parse(Path::new("fr.po"), &text).unwrap();
    let units: Vec<_> = read.units.iter().map(|u| (u.id.as_str(), u.target.as_str(), u.state)).collect();
    assert_eq!(units, [("a", "x", UnitState::Outdated), ("b", "y", UnitState::Translated)]);
    assert!(read.units[0].notes.is_empty());
}

/// Each mistake a translator or a tool can make, with where it is reported.
#[test]
fn errors_name_the_line_and_column() {
    let cases = [
        (
            "msgctxt \"a\"\nmsgid \"A\nmsgstr \"\"\n",
            "fr.po:8:7: unterminated string: the quote opened here is not closed on this line (a string goes on to the next line only in a new pair of quotes)",
        ),
        (
            "msgctxt \"a\"\nmsgid \"A\"\n  msgtsr \"B\"\n",
            "fr.po:9:3: unknown keyword \"msgtsr\": a PO entry has msgctxt, msgid, msgstr and lines in quotes, nothing else",
        ),
        (
            "msgctxt \"a\"\nmsgid \"A\"\nmsgstr \"été \\q\"\n",
            "fr.po:9:13: \\q is not a valid escape: write \\\\ for a backslash, \\\" for a quote, \\n for a line break",
        ),
        (
            "msgctxt \"a\"\nmsgid \"A\"\nmsgstr \"B\" \"C\"\n",
            "fr.po:9:12: text after the closing quote: write a quote inside a string as \\\"",
        ),
        (
            "msgid \"A\"\nmsgstr \"B\"\n",
            "fr.po:7:1: every entry needs the msgctxt imrf-site wrote: it names the paragraph",
        ),
        (
            "msgctxt \"a\"\nmsgid \"one\"\nmsgid_plural \"many\"\nmsgstr[0] \"un\"\n",
            "fr.po:9:1: plural forms (msgid_plural, msgstr[0]) are not supported: the texts imrf-site exports have none",
        ),
        (
            "msgctxt \"a\"\nmsgid \"A\"\nmsgstr \"\"\n\nmsgctxt \"a\"\nmsgid \"A again\"\nmsgstr \"\"\n",
            "fr.po:11:1: msgctxt \"a\" appears twice (first at line 7): it names one paragraph, so keep one of the two entries",
        ),
        (
            "#. note\nmsgctxt \"a\"\nmsgid \"A\"\n\nmsgctxt \"b\"\n",
            "fr.po:7:1: the entry that starts at line 7 is not complete: it needs a msgid and a msgstr (msgstr \"\" if not translated yet)",
        ),
        (
            "msgctxt \"a\"\nmsgstr \"B\"\n",
            "fr.po:8:1: this msgstr has no msgid above it: each translation follows its original",
        ),
        (
            "\"stray\"\n",
            "fr.po:7:1: this line in quotes continues nothing: it must follow a msgctxt, msgid or msgstr line",
        ),
        (
            "msgid \"\"\nmsgstr \"\"\n",
            "fr.po:7:1: a second header (an entry with an empty msgid and no msgctxt): a PO file has one, at the top",
        ),
    ];
    for (body, expected) in cases {
        let result = parse(Path::new("fr.po"), &format!("{HEADER}{body}"));
        assert_eq!(result.map(|_| ()).unwrap_err().to_string(), expected, "{body}");
    }
}

#[test]
fn a_file_not_exported_by_imrf_site_is_refused() {
    let text = "msgid \"\"\nmsgstr \"Language: fr\\n\"\n\nmsgctxt \"a\"\nmsgid \"A\"\nmsgstr \"\"\n";
    assert_eq!(
        parse(Path::new("fr.po"), text).unwrap_err().to_string(),
        "fr.po:1:1: this PO file was not exported by imrf-site (no X-Imrf-Original header): export the page with imrf-site and translate that file"
    );
}
