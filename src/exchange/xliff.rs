//! XLIFF 1.2 files (OmegaT, Trados, memoQ, Okapi, Weblate) for one `Catalog`: `write`
//! makes the file a translator receives, `parse` reads it back (with quick-xml) with the
//! line and column of any problem. The catalog's tags become XLIFF's inline elements,
//! which CAT tools protect: `<g1>…</g1>` is `<g id="1">…</g>`, `<x2/>` is `<x id="2"/>`.
//! This module knows the XLIFF syntax only; what the units and tags are is decided by
//! whoever makes the catalog.

use std::path::Path;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, escape::resolve_xml_entity};

use crate::diagnostic::Location;
use crate::exchange::catalog::{Catalog, CatalogUnit, UnitState};
use crate::exchange::format::{FormatError, parse_tag_note, tag_note};

const NAMESPACE: &str = "urn:oasis:names:tc:xliff:document:1.2";
/// The `from` of the note that lists what each tag stands for.
const TAGS_NOTE: &str = "imrf-site-tags";
/// The `origin` of the `<alt-trans>` that holds an outdated unit's previous original and
/// the translation made from it (CAT tools show it as a fuzzy match).
const PREVIOUS_ORIGIN: &str = "previous-version";

/// The XLIFF file for `catalog`: the same catalog always gives the same bytes.
pub fn write(catalog: &Catalog) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!("<xliff version=\"1.2\" xmlns=\"{NAMESPACE}\">\n"));
    out.push_str(&format!(
        "  <file original=\"{}\" source-language=\"{}\" target-language=\"{}\" datatype=\"plaintext\">\n",
        escape_attribute(&catalog.original),
        escape_attribute(&catalog.source_lang),
        escape_attribute(&catalog.target_lang),
    ));
    out.push_str("    <body>\n");
    for unit in &catalog.units {
        write_unit(&mut out, unit);
    }
    out.push_str("    </body>\n  </file>\n</xliff>\n");
    out
}

fn write_unit(out: &mut String, unit: &CatalogUnit) {
    let id = escape_attribute(&unit.id);
    // `preserve`: a unit's line breaks are part of the text, not layout.
    out.push_str(&format!("      <trans-unit id=\"{id}\" resname=\"{id}\" xml:space=\"preserve\">\n"));
    out.push_str(&format!("        <source>{}</source>\n", inline(&unit.source)));
    // A unit not translated yet has no <target>: the CAT tool adds one.
    if unit.state != UnitState::New || !unit.target.is_empty() {
        let state = state_name(unit.state);
        out.push_str(&format!("        <target state=\"{state}\">{}</target>\n", inline(&unit.target)));
    }
    for note in &unit.notes {
        out.push_str(&format!("        <note>{}</note>\n", escape_text(note)));
    }
    if !unit.tags.is_empty() {
        let lines: Vec<String> = unit.tags.iter().map(tag_note).collect();
        out.push_str(&format!("        <note from=\"{TAGS_NOTE}\">{}</note>\n", escape_text(&lines.join("\n"))));
    }
    if let Some(previous) = &unit.previous_source {
        out.push_str(&format!(
            "        <alt-trans origin=\"{PREVIOUS_ORIGIN}\"><source>{}</source><target>{}</target></alt-trans>\n",
            inline(previous),
            inline(&unit.target),
        ));
    }
    out.push_str("      </trans-unit>\n");
}

fn state_name(state: UnitState) -> &'static str {
    match state {
        UnitState::New => "new",
        UnitState::Translated => "translated",
        UnitState::Outdated => "needs-review-translation",
    }
}

/// A catalog text as XLIFF content: its tags as `<g>` and `<x>` elements, the rest
/// escaped. A tag without its partner (a translator's slip) stays text, so that the
/// file is well-formed whatever the text; it reads back as the same text.
fn inline(text: &str) -> String {
    let tokens = tokenize(text);
    let paired = paired_tags(&tokens);
    let mut out = String::with_capacity(text.len());
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::Open if paired[index] => out.push_str(&format!("<g id=\"{}\">", token.id)),
            TokenKind::Close if paired[index] => out.push_str("</g>"),
            TokenKind::Standalone => out.push_str(&format!("<x id=\"{}\"/>", token.id)),
            _ => out.push_str(&escape_text(token.raw)),
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum TokenKind {
    Text,
    Open,
    Close,
    Standalone,
}

struct Token<'a> {
    kind: TokenKind,
    /// The tag's number (`1` of `<g1>`); empty for text.
    id: &'a str,
    raw: &'a str,
}

/// Splits a catalog text into text and the tags `<gN>`, `</gN>`, `<xN/>`.
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut text_start = 0;
    let mut at = 0;
    while let Some(found) = text[at..].find('<') {
        let start = at + found;
        match tag_at(&text[start..]) {
            Some(tag) => {
                if text_start < start {
                    tokens.push(Token { kind: TokenKind::Text, id: "", raw: &text[text_start..start] });
                }
                at = start + tag.raw.len();
                text_start = at;
                tokens.push(tag);
            }
            None => at = start + 1,
        }
    }
    if text_start < text.len() {
        tokens.push(Token { kind: TokenKind::Text, id: "", raw: &text[text_start..] });
    }
    tokens
}

/// The tag `text` starts with, if it starts with one.
fn tag_at(text: &str) -> Option<Token<'_>> {
    let (kind, prefix, suffix) =
        [(TokenKind::Close, "</g", ">"), (TokenKind::Open, "<g", ">"), (TokenKind::Standalone, "<x", "/>")]
            .into_iter()
            .find(|(_, prefix, _)| text.starts_with(prefix))?;
    let digits = text[prefix.len()..].bytes().take_while(u8::is_ascii_digit).count();
    let id_end = prefix.len() + digits;
    (digits > 0 && text[id_end..].starts_with(suffix)).then(|| Token {
        kind,
        id: &text[prefix.len()..id_end],
        raw: &text[..id_end + suffix.len()],
    })
}

/// Which tokens are an opening tag and its closing tag, properly nested.
fn paired_tags(tokens: &[Token]) -> Vec<bool> {
    let mut paired = vec![false; tokens.len()];
    let mut open: Vec<usize> = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::Open => open.push(index),
            TokenKind::Close => {
                if let Some(&opening) = open.last().filter(|&&opening| tokens[opening].id == token.id) {
                    paired[opening] = true;
                    paired[index] = true;
                    open.pop();
                }
            }
            TokenKind::Text | TokenKind::Standalone => {}
        }
    }
    paired
}

fn escape_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            // A raw carriage return would be read back as a line feed.
            '\r' => escaped.push_str("&#13;"),
            c => escaped.push(c),
        }
    }
    escaped
}

fn escape_attribute(value: &str) -> String {
    escape_text(value).replace('"', "&quot;").replace('\n', "&#10;").replace('\t', "&#9;")
}

/// Reads an XLIFF 1.2 file that imrf-site wrote and a translator's tool filled in.
pub fn parse(path: &Path, text: &str) -> Result<Catalog, FormatError> {
    Parser { path, text, reader: Reader::from_str(text), event_start: 0 }.document()
}

struct Parser<'a> {
    path: &'a Path,
    text: &'a str,
    reader: Reader<&'a [u8]>,
    /// The byte where the last event read starts, for errors about it.
    event_start: u64,
}

impl<'a> Parser<'a> {
    fn location_at(&self, offset: u64) -> Location {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        Location::of_offset(self.path, self.text, offset, 1)
    }

    fn error_at(&self, offset: u64, message: impl Into<String>) -> FormatError {
        FormatError::new(self.location_at(offset), message)
    }

    fn error(&self, message: impl Into<String>) -> FormatError {
        self.error_at(self.event_start, message)
    }

    fn next(&mut self) -> Result<Event<'a>, FormatError> {
        self.event_start = self.reader.buffer_position();
        self.reader.read_event().map_err(|error| {
            self.error_at(self.reader.error_position(), format!("this is not well-formed XML ({error})"))
        })
    }

    /// Skips an element the catalog has no use for (a tool's header, a context group).
    fn skip(&mut self, element: &BytesStart) -> Result<(), FormatError> {
        self.reader.read_to_end(element.name()).map(|_| ()).map_err(|error| {
            self.error_at(self.reader.error_position(), format!("this is not well-formed XML ({error})"))
        })
    }

    fn cut_off(&self) -> FormatError {
        self.error("the file ends too early: it was cut off, or an element is not closed")
    }

    fn attribute(&self, element: &BytesStart, name: &str) -> Result<Option<String>, FormatError> {
        let bad = |error: &dyn std::fmt::Display| self.error(format!("a bad attribute ({error})"));
        let Some(attribute) = element.try_get_attribute(name).map_err(|e| bad(&e))? else { return Ok(None) };
        let value = attribute.normalized_value(XmlVersion::Implicit1_0).map_err(|e| bad(&e))?;
        Ok(Some(value.into_owned()))
    }

    fn required(&self, element: &BytesStart, name: &str, why: &str) -> Result<String, FormatError> {
        let element_name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
        self.attribute(element, name)?
            .ok_or_else(|| self.error(format!("<{element_name}> has no {name} attribute: {why}")))
    }

    fn document(mut self) -> Result<Catalog, FormatError> {
        loop {
            match self.next()? {
                Event::Start(root) if root.name().as_ref() == b"xliff" => {
                    self.check_root(&root)?;
                    return self.xliff();
                }
                Event::Start(root) | Event::Empty(root) => {
                    let name = String::from_utf8_lossy(root.name().as_ref()).into_owned();
                    return Err(self.error(format!("this is not an XLIFF file: it starts with <{name}>, not <xliff>")));
                }
                Event::Eof => return Err(self.error("this file has no <xliff> element: it is not an XLIFF file")),
                _ => {} // the XML declaration, comments, white space
            }
        }
    }

    fn check_root(&self, root: &BytesStart) -> Result<(), FormatError> {
        let version = self.attribute(root, "version")?.unwrap_or_default();
        if version != "1.2" {
            let message = format!(
                "this is XLIFF \"{version}\"; imrf-site reads XLIFF 1.2: save or export it from your tool as XLIFF 1.2"
            );
            return Err(self.error(message));
        }
        if self.attribute(root, "xmlns")?.as_deref() != Some(NAMESPACE) {
            return Err(self.error(format!("<xliff> lacks the XLIFF 1.2 namespace: xmlns=\"{NAMESPACE}\"")));
        }
        Ok(())
    }

    fn xliff(&mut self) -> Result<Catalog, FormatError> {
        let mut catalog = None;
        loop {
            match self.next()? {
                Event::Start(file) if file.name().as_ref() == b"file" => {
                    if catalog.is_some() {
                        return Err(self.error("a second <file>: imrf-site exports one page per XLIFF file"));
                    }
                    catalog = Some(self.file(&file)?);
                }
                Event::Start(other) => self.skip(&other)?,
                Event::End(_) => break,
                Event::Eof => return Err(self.cut_off()),
                _ => {}
            }
        }
        catalog.ok_or_else(|| self.error("this XLIFF file has no <file> element"))
    }

    fn file(&mut self, file: &BytesStart) -> Result<Catalog, FormatError> {
        let original = self.required(file, "original", "imrf-site needs it to know which page this file translates")?;
        let source_lang = self.required(file, "source-language", "export the page again with imrf-site")?;
        let target_lang = self.required(file, "target-language", "set the translation's language in your tool")?;
        let mut units = Vec::new();
        loop {
            match self.next()? {
                Event::Start(body) if body.name().as_ref() == b"body" => self.units(&mut units)?,
                Event::Start(other) => self.skip(&other)?,
                Event::End(_) => break,
                Event::Eof => return Err(self.cut_off()),
                _ => {}
            }
        }
        Ok(Catalog { source_lang, target_lang, original, units })
    }

    /// The units of a `<body>`, or of a `<group>` a tool put around some of them.
    fn units(&mut self, units: &mut Vec<CatalogUnit>) -> Result<(), FormatError> {
        loop {
            match self.next()? {
                Event::Start(unit) if unit.name().as_ref() == b"trans-unit" => {
                    let start = self.event_start;
                    let unit = self.unit(&unit, start)?;
                    if let Some(first) = units.iter().find(|u| u.id == unit.id) {
                        let message = format!(
                            "the trans-unit id \"{}\" appears twice (first at line {}): it names one paragraph, so keep one of the two",
                            unit.id, first.line
                        );
                        return Err(self.error_at(start, message));
                    }
                    units.push(unit);
                }
                Event::Start(group) if group.name().as_ref() == b"group" => self.units(units)?,
                Event::Start(other) => self.skip(&other)?,
                Event::End(_) => return Ok(()),
                Event::Eof => return Err(self.cut_off()),
                _ => {}
            }
        }
    }

    /// The `<trans-unit>` that starts at byte `start`.
    fn unit(&mut self, element: &BytesStart, start: u64) -> Result<CatalogUnit, FormatError> {
        let id = self.required(element, "id", "imrf-site needs the id it wrote to know which paragraph this is")?;
        let (mut source, mut target, mut state) = (None, String::new(), None);
        let (mut notes, mut tags, mut previous_source) = (Vec::new(), Vec::new(), None);
        loop {
            match self.next()? {
                Event::Start(child) => match child.name().as_ref() {
                    b"source" => source = Some(self.inline()?),
                    b"target" => {
                        state = self.attribute(&child, "state")?;
                        target = self.inline()?;
                    }
                    b"note" if self.attribute(&child, "from")?.as_deref() == Some(TAGS_NOTE) => {
                        tags.extend(self.inline()?.lines().filter_map(parse_tag_note));
                    }
                    b"note" => notes.push(self.inline()?),
                    b"alt-trans" if self.attribute(&child, "origin")?.as_deref() == Some(PREVIOUS_ORIGIN) => {
                        previous_source = self.alt_trans_source()?;
                    }
                    _ => self.skip(&child)?,
                },
                Event::Empty(child) => match child.name().as_ref() {
                    b"source" => source = Some(String::new()),
                    b"target" => state = self.attribute(&child, "state")?,
                    _ => {}
                },
                Event::End(_) => break,
                Event::Eof => return Err(self.cut_off()),
                _ => {}
            }
        }
        let Some(source) = source else {
            return Err(self.error_at(start, format!("the trans-unit \"{id}\" has no <source>")));
        };
        let state = unit_state(state.as_deref(), &target);
        if state == UnitState::New {
            target.clear();
        }
        let line = self.location_at(start).line.unwrap_or(0);
        Ok(CatalogUnit { id, source, target, state, previous_source, notes, tags, line })
    }

    /// The `<source>` of an `<alt-trans>`.
    fn alt_trans_source(&mut self) -> Result<Option<String>, FormatError> {
        let mut source = None;
        loop {
            match self.next()? {
                Event::Start(child) if child.name().as_ref() == b"source" => source = Some(self.inline()?),
                Event::Start(child) => self.skip(&child)?,
                Event::Empty(child) if child.name().as_ref() == b"source" => source = Some(String::new()),
                Event::End(_) => return Ok(source),
                Event::Eof => return Err(self.cut_off()),
                _ => {}
            }
        }
    }

    /// The text of an element up to its end, `<g>` and `<x>` back in the catalog's
    /// `<g1>…</g1>` and `<x2/>` form.
    fn inline(&mut self) -> Result<String, FormatError> {
        let mut text = String::new();
        loop {
            match self.next()? {
                Event::Text(content) => text.push_str(&content.xml10_content().map_err(|e| self.not_utf8(&e))?),
                Event::CData(content) => text.push_str(&content.xml10_content().map_err(|e| self.not_utf8(&e))?),
                Event::GeneralRef(reference) => text.push_str(&self.resolve(&reference)?),
                Event::Start(element) => match element.name().as_ref() {
                    b"g" => {
                        let id = self.tag_id(&element)?;
                        let inner = self.inline()?;
                        text.push_str(&format!("<g{id}>{inner}</g{id}>"));
                    }
                    b"x" => {
                        text.push_str(&format!("<x{}/>", self.tag_id(&element)?));
                        self.skip(&element)?;
                    }
                    // A tool's segment marker: its text is the unit's text.
                    b"mrk" => text.push_str(&self.inline()?),
                    _ => return Err(self.unknown_inline(&element)),
                },
                Event::Empty(element) => match element.name().as_ref() {
                    b"g" => text.push_str(&format!("<g{0}></g{0}>", self.tag_id(&element)?)),
                    b"x" => text.push_str(&format!("<x{}/>", self.tag_id(&element)?)),
                    b"mrk" => {}
                    _ => return Err(self.unknown_inline(&element)),
                },
                Event::End(_) => return Ok(text),
                Event::Eof => return Err(self.cut_off()),
                Event::Comment(_) | Event::PI(_) | Event::Decl(_) | Event::DocType(_) => {}
            }
        }
    }

    fn tag_id(&self, element: &BytesStart) -> Result<String, FormatError> {
        let id = self.attribute(element, "id")?.unwrap_or_default();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
            let message = format!(
                "this <{name}> tag has the id \"{id}\", not one imrf-site wrote: keep the original's tags as they are"
            );
            return Err(self.error(message));
        }
        Ok(id)
    }

    fn unknown_inline(&self, element: &BytesStart) -> FormatError {
        let name = String::from_utf8_lossy(element.name().as_ref()).into_owned();
        self.error(format!(
            "<{name}> is not a tag imrf-site wrote: keep the tags <g> and <x> of the original as they are, and add no other markup"
        ))
    }

    fn not_utf8(&self, error: &dyn std::fmt::Display) -> FormatError {
        self.error(format!("this text is not valid UTF-8 ({error}): save the file as UTF-8"))
    }

    /// `&amp;`, `&#233;` and the other references XML itself defines.
    fn resolve(&self, reference: &BytesRef) -> Result<String, FormatError> {
        let name = reference.decode().map_err(|e| self.not_utf8(&e))?;
        let resolved = match reference.resolve_char_ref() {
            Ok(Some(c)) => Some(c.to_string()),
            Ok(None) => resolve_xml_entity(&name).map(str::to_string),
            Err(_) => None,
        };
        resolved.ok_or_else(|| {
            self.error(format!("&{name}; is not a character XML knows: write the character itself, or &amp; for &"))
        })
    }
}

/// The catalog's state for a target's XLIFF `state`. Without one, a target with text is
/// a translation; `new` and `needs-translation` say the text is not one (a tool may have
/// copied the original into it), so it is dropped.
fn unit_state(state: Option<&str>, target: &str) -> UnitState {
    match state {
        Some(state) if state.starts_with("needs-review") => UnitState::Outdated,
        Some("new" | "needs-translation") => UnitState::New,
        _ if target.is_empty() => UnitState::New,
        _ => UnitState::Translated,
    }
}

#[cfg(test)]
mod tests;
