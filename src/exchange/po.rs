//! GNU gettext PO files (Poedit, Weblate, OmegaT, ...) for one `Catalog`: `write` makes
//! the file a translator receives, `parse` reads it back with the line and column of any
//! problem. Each unit is one entry whose `msgctxt` is the unit's id. This module knows the
//! PO syntax only; which units a page has and what the tags mean is decided by whoever
//! makes the catalog. Hand-written because the PO crates do not report line numbers.

use std::collections::HashMap;
use std::path::Path;

use crate::diagnostic::Location;
use crate::exchange::catalog::{Catalog, CatalogUnit, Tag, UnitState};
use crate::exchange::format::{FormatError, parse_tag_note, tag_note};

/// The header field that tells an import which page (or `i18n`) the file translates.
const ORIGINAL_FIELD: &str = "X-Imrf-Original";
const SOURCE_LANGUAGE_FIELD: &str = "X-Source-Language";
const LANGUAGE_FIELD: &str = "Language";

/// The PO file for `catalog`: the same catalog always gives the same bytes.
pub fn write(catalog: &Catalog) -> String {
    let mut out = String::new();
    write_string(&mut out, "", "msgid", "");
    write_string(&mut out, "", "msgstr", &header_text(catalog));
    for unit in &catalog.units {
        out.push('\n');
        write_unit(&mut out, unit);
    }
    out
}

/// The header, in gettext's order. The translator fields are left empty for the
/// translator's tool to fill in (msgfmt -c warns about missing ones, not empty ones).
fn header_text(catalog: &Catalog) -> String {
    [
        ("Project-Id-Version", "imrf-site"),
        ("PO-Revision-Date", ""),
        ("Last-Translator", ""),
        ("Language-Team", ""),
        (LANGUAGE_FIELD, &catalog.target_lang),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
        (SOURCE_LANGUAGE_FIELD, &catalog.source_lang),
        (ORIGINAL_FIELD, &catalog.original),
    ]
    .iter()
    .map(|(field, value)| format!("{field}: {value}\n"))
    .collect()
}

fn write_unit(out: &mut String, unit: &CatalogUnit) {
    // A note of several lines becomes several notes: a `#.` comment is one line.
    let tag_notes = unit.tags.iter().map(tag_note);
    for line in unit.notes.iter().flat_map(|note| note.lines().map(str::to_string)).chain(tag_notes) {
        out.push_str(&if line.is_empty() { "#.\n".to_string() } else { format!("#. {line}\n") });
    }
    if unit.state == UnitState::Outdated {
        out.push_str("#, fuzzy\n");
    }
    if let Some(previous) = &unit.previous_source {
        write_string(out, "#| ", "msgctxt", &unit.id);
        write_string(out, "#| ", "msgid", previous);
    }
    write_string(out, "", "msgctxt", &unit.id);
    write_string(out, "", "msgid", &unit.source);
    write_string(out, "", "msgstr", &unit.target);
}

/// `keyword "value"`, or, as gettext writes a value with line breaks inside it,
/// `keyword ""` followed by one quoted line per line of the value.
fn write_string(out: &mut String, prefix: &str, keyword: &str, value: &str) {
    let breaks_inside = value.trim_end_matches('\n').contains('\n');
    if !breaks_inside {
        out.push_str(&format!("{prefix}{keyword} \"{}\"\n", escape(value)));
        return;
    }
    out.push_str(&format!("{prefix}{keyword} \"\"\n"));
    for line in value.split_inclusive('\n') {
        out.push_str(&format!("{prefix}\"{}\"\n", escape(line)));
    }
}

fn escape(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            '\r' => escaped.push_str("\\r"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Reads a PO file that imrf-site wrote and a translator filled in.
pub fn parse(path: &Path, text: &str) -> Result<Catalog, FormatError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = EntryReader::default();
    for (index, line) in text.split('\n').enumerate() {
        let line = Line { path, number: index + 1, text: line.strip_suffix('\r').unwrap_or(line) };
        reader.read_line(&line)?;
    }
    reader.end_entry(path)?;
    catalog_from(path, reader.header, reader.units)
}

/// One line of the file, to locate what is wrong in it.
struct Line<'a> {
    path: &'a Path,
    number: usize,
    text: &'a str,
}

impl Line<'_> {
    fn error(&self, byte: usize, message: impl Into<String>) -> FormatError {
        let column = self.text[..byte].chars().count() + 1;
        FormatError::new(Location::at(self.path, self.number, column), message)
    }
}

/// A string read from the file and the line its keyword is on.
struct Field {
    value: String,
    line: usize,
}

/// An entry as it is being read.
#[derive(Default)]
struct Entry {
    /// The line where the entry starts (its first comment or keyword).
    start: usize,
    /// The `#.` lines: notes and tag notes.
    extracted: Vec<String>,
    fuzzy: bool,
    previous_msgid: Option<String>,
    msgctxt: Option<Field>,
    msgid: Option<Field>,
    msgstr: Option<Field>,
}

impl Entry {
    fn is_started(&self) -> bool {
        self.start != 0
    }

    fn has_keyword(&self) -> bool {
        self.msgctxt.is_some() || self.msgid.is_some()
    }
}

/// What a line in quotes adds to: the string of the keyword above it.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Msgctxt,
    Msgid,
    Msgstr,
    /// `#| msgid`, the original the fuzzy translation was made from.
    PreviousMsgid,
    /// `#| msgctxt` and `#| msgid_plural`: read for their syntax, not kept.
    PreviousOther,
}

/// Reads the file line by line into the header and the units, checking the syntax as
/// it goes.
#[derive(Default)]
struct EntryReader {
    /// The header's text and the line of its msgid.
    header: Option<(String, usize)>,
    units: Vec<CatalogUnit>,
    /// The line of each unit's msgctxt, by id, to find an id used twice.
    unit_lines: HashMap<String, usize>,
    current: Entry,
    continues: Option<Slot>,
}

impl EntryReader {
    fn read_line(&mut self, line: &Line) -> Result<(), FormatError> {
        let content = line.text.trim_start();
        let start = line.text.len() - content.len();
        if content.is_empty() {
            return self.end_entry(line.path);
        }
        let comment = content.strip_prefix('#');
        if comment.is_some() && self.current.msgstr.is_some() {
            // A comment after a msgstr begins the next entry, even without a blank line.
            self.end_entry(line.path)?;
        }
        if !self.current.is_started() {
            self.current.start = line.number;
        }
        match comment {
            Some(comment) => self.read_comment(line, start, comment),
            None if content.starts_with('"') => self.read_continuation(line, start, false),
            None => self.read_keyword(line, start),
        }
    }

    fn read_comment(&mut self, line: &Line, start: usize, comment: &str) -> Result<(), FormatError> {
        if comment.starts_with('~') {
            // An obsolete entry: the comments above it were its own.
            return self.end_entry(line.path);
        }
        if comment.starts_with('|') {
            return self.read_previous(line, start + 2);
        }
        if let Some(flags) = comment.strip_prefix(',') {
            self.current.fuzzy |= flags.split(',').any(|flag| flag.trim() == "fuzzy");
        } else if let Some(note) = comment.strip_prefix('.') {
            self.current.extracted.push(note.strip_prefix(' ').unwrap_or(note).to_string());
        }
        // Other comments (the translator's own, references) are not part of the catalog.
        Ok(())
    }

    fn read_keyword(&mut self, line: &Line, start: usize) -> Result<(), FormatError> {
        let (keyword, after) = split_keyword(line.text, start);
        let slot = match keyword {
            "msgctxt" => Slot::Msgctxt,
            "msgid" => Slot::Msgid,
            "msgstr" => Slot::Msgstr,
            "msgid_plural" => return Err(plural_error(line, start)),
            _ if keyword.starts_with("msgstr[") => return Err(plural_error(line, start)),
            _ => return Err(unknown_keyword(line, start, keyword)),
        };
        if slot != Slot::Msgstr && self.current.msgstr.is_some() {
            self.end_entry(line.path)?;
            self.current.start = line.number;
        }
        self.check_order(slot, line, start)?;
        let field = Some(Field { value: quoted(line, after)?, line: line.number });
        match slot {
            Slot::Msgctxt => self.current.msgctxt = field,
            Slot::Msgid => self.current.msgid = field,
            _ => self.current.msgstr = field,
        }
        self.continues = Some(slot);
        Ok(())
    }

    /// An entry is `msgctxt`, `msgid`, `msgstr`, in that order, each once.
    fn check_order(&self, slot: Slot, line: &Line, start: usize) -> Result<(), FormatError> {
        let entry = &self.current;
        let message = match slot {
            Slot::Msgctxt if entry.has_keyword() => incomplete_entry(entry.start),
            Slot::Msgid if entry.msgid.is_some() => incomplete_entry(entry.start),
            Slot::Msgstr if entry.msgid.is_none() => {
                "this msgstr has no msgid above it: each translation follows its original".to_string()
            }
            Slot::Msgstr if entry.msgstr.is_some() => {
                "a second msgstr in the same entry: an entry has one translation".to_string()
            }
            _ => return Ok(()),
        };
        Err(line.error(start, message))
    }

    /// `#| msgctxt "..."`, `#| msgid "..."` or `#| "..."`: the previous original.
    fn read_previous(&mut self, line: &Line, after_marker: usize) -> Result<(), FormatError> {
        let rest = &line.text[after_marker..];
        let start = after_marker + (rest.len() - rest.trim_start().len());
        if line.text[start..].starts_with('"') {
            return self.read_continuation(line, start, true);
        }
        let (keyword, after) = split_keyword(line.text, start);
        let slot = match keyword {
            "msgid" => Slot::PreviousMsgid,
            "msgctxt" | "msgid_plural" => Slot::PreviousOther,
            _ => return Err(unknown_keyword(line, start, keyword)),
        };
        let value = quoted(line, after)?;
        if slot == Slot::PreviousMsgid {
            self.current.previous_msgid = Some(value);
        }
        self.continues = Some(slot);
        Ok(())
    }

    /// A line in quotes, which adds to the string above it (`#| "..."` to a `#|` one).
    fn read_continuation(&mut self, line: &Line, start: usize, previous: bool) -> Result<(), FormatError> {
        let value = quoted(line, start)?;
        let entry = &mut self.current;
        let target = match self.continues {
            Some(Slot::Msgctxt) if !previous => entry.msgctxt.as_mut().map(|f| &mut f.value),
            Some(Slot::Msgid) if !previous => entry.msgid.as_mut().map(|f| &mut f.value),
            Some(Slot::Msgstr) if !previous => entry.msgstr.as_mut().map(|f| &mut f.value),
            Some(Slot::PreviousMsgid) if previous => entry.previous_msgid.as_mut(),
            Some(Slot::PreviousOther) if previous => return Ok(()),
            _ => {
                let message = "this line in quotes continues nothing: it must follow a msgctxt, msgid or msgstr line";
                return Err(line.error(start, message));
            }
        };
        if let Some(target) = target {
            target.push_str(&value);
        }
        Ok(())
    }

    fn end_entry(&mut self, path: &Path) -> Result<(), FormatError> {
        self.continues = None;
        let entry = std::mem::take(&mut self.current);
        let (Some(msgid), Some(msgstr)) = (entry.msgid, entry.msgstr) else {
            if entry.msgctxt.is_none() {
                return Ok(()); // only comments
            }
            return Err(FormatError::new(Location::at(path, entry.start, 1), incomplete_entry(entry.start)));
        };
        let Some(msgctxt) = entry.msgctxt else { return self.read_header(path, msgid, msgstr) };
        if let Some(first) = self.unit_lines.insert(msgctxt.value.clone(), msgctxt.line) {
            let message = format!(
                "msgctxt \"{}\" appears twice (first at line {first}): it names one paragraph, so keep one of the two entries",
                msgctxt.value
            );
            return Err(FormatError::new(Location::at(path, msgctxt.line, 1), message));
        }
        let state = if entry.fuzzy {
            UnitState::Outdated
        } else if msgstr.value.is_empty() {
            UnitState::New
        } else {
            UnitState::Translated
        };
        let (notes, tags) = split_extracted(entry.extracted);
        self.units.push(CatalogUnit {
            id: msgctxt.value,
            source: msgid.value,
            target: msgstr.value,
            state,
            previous_source: entry.previous_msgid,
            notes,
            tags,
            line: msgctxt.line,
        });
        Ok(())
    }

    /// The entry without msgctxt: only the header (empty msgid) may have none.
    fn read_header(&mut self, path: &Path, msgid: Field, msgstr: Field) -> Result<(), FormatError> {
        let message = if !msgid.value.is_empty() {
            "every entry needs the msgctxt imrf-site wrote: it names the paragraph"
        } else if self.header.is_some() {
            "a second header (an entry with an empty msgid and no msgctxt): a PO file has one, at the top"
        } else {
            self.header = Some((msgstr.value, msgid.line));
            return Ok(());
        };
        Err(FormatError::new(Location::at(path, msgid.line, 1), message))
    }
}

fn incomplete_entry(entry_start: usize) -> String {
    format!(
        "the entry that starts at line {entry_start} is not complete: it needs a msgid and a msgstr (msgstr \"\" if not translated yet)"
    )
}

fn plural_error(line: &Line, start: usize) -> FormatError {
    line.error(start, "plural forms (msgid_plural, msgstr[0]) are not supported: the texts imrf-site exports have none")
}

fn unknown_keyword(line: &Line, start: usize, keyword: &str) -> FormatError {
    line.error(
        start,
        format!(
            "unknown keyword \"{keyword}\": a PO entry has msgctxt, msgid, msgstr and lines in quotes, nothing else"
        ),
    )
}

/// The keyword at byte `start` and the byte after it.
fn split_keyword(text: &str, start: usize) -> (&str, usize) {
    let rest = &text[start..];
    let len = rest.find(|c: char| c.is_whitespace() || c == '"').unwrap_or(rest.len());
    (&rest[..len], start + len)
}

/// The string in quotes at or after byte `from` of the line, unescaped.
fn quoted(line: &Line, from: usize) -> Result<String, FormatError> {
    let rest = &line.text[from..];
    let open = from + (rest.len() - rest.trim_start().len());
    if !line.text[open..].starts_with('"') {
        return Err(line.error(open, "a string in double quotes (\"...\") should be here"));
    }
    let mut value = String::new();
    let mut chars = line.text[open + 1..].char_indices().map(|(i, c)| (open + 1 + i, c));
    while let Some((byte, c)) = chars.next() {
        match c {
            '"' => return after_closing_quote(line, byte + 1).map(|()| value),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, '"')) => value.push('"'),
                Some((_, other)) => {
                    let message = format!(
                        "\\{other} is not a valid escape: write \\\\ for a backslash, \\\" for a quote, \\n for a line break"
                    );
                    return Err(line.error(byte, message));
                }
                None => break,
            },
            c => value.push(c),
        }
    }
    Err(line.error(
        open,
        "unterminated string: the quote opened here is not closed on this line (a string goes on to the next line only in a new pair of quotes)",
    ))
}

fn after_closing_quote(line: &Line, byte: usize) -> Result<(), FormatError> {
    let rest = &line.text[byte..];
    let trimmed = rest.trim_start();
    if trimmed.is_empty() {
        return Ok(());
    }
    let at = byte + (rest.len() - trimmed.len());
    Err(line.error(at, "text after the closing quote: write a quote inside a string as \\\""))
}

/// The catalog: the header's fields and the units read.
fn catalog_from(path: &Path, header: Option<(String, usize)>, units: Vec<CatalogUnit>) -> Result<Catalog, FormatError> {
    let (header, location) = match header {
        Some((header, line)) => (header, Location::at(path, line, 1)),
        None => (String::new(), Location::file(path)),
    };
    let field = |name: &str, message: &str| {
        header_field(&header, name).ok_or_else(|| FormatError::new(location.clone(), message))
    };
    Ok(Catalog {
        original: field(
            ORIGINAL_FIELD,
            "this PO file was not exported by imrf-site (no X-Imrf-Original header): export the page with imrf-site and translate that file",
        )?,
        source_lang: field(
            SOURCE_LANGUAGE_FIELD,
            "the header has no X-Source-Language field: export the page again with imrf-site",
        )?,
        target_lang: field(
            LANGUAGE_FIELD,
            "the header has no Language field: set the translation's language in your tool (Poedit: Translation > Properties)",
        )?,
        units,
    })
}

/// The `#.` lines that describe a tag become tags; the others are notes.
fn split_extracted(lines: Vec<String>) -> (Vec<String>, Vec<Tag>) {
    let mut notes = Vec::new();
    let mut tags = Vec::new();
    for line in lines {
        match parse_tag_note(&line) {
            Some(tag) => tags.push(tag),
            None => notes.push(line),
        }
    }
    (notes, tags)
}

fn header_field(header: &str, name: &str) -> Option<String> {
    header.lines().find_map(|line| {
        let (field, value) = line.split_once(':')?;
        (field.trim() == name).then(|| value.trim().to_string())
    })
}

#[cfg(test)]
mod tests;
