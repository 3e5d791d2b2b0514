//! Block stamps: the record, kept beside a translation (`objective-14.md` ->
//! `objective-14.stamp.toml`), of the original's text each of its units follows, as it
//! was when `imrf-site status --stamp` last ran. `status` compares that record with the
//! original of today to say which units changed, which are new and which are gone,
//! with the old and the new text. The page's `source_hash` (in its front matter) is
//! what the build reads; this file is only read by `status` and the exchange.
//!
//! Owns the file format and the comparison; knows nothing of the terminal.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::blocks::{Unit, UnitKind, normalized};

/// What a translation follows, unit by unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stamp {
    /// The original's file, from the content folder (`en/objective-14.md`).
    pub original: String,
    #[serde(rename = "unit", default)]
    pub units: Vec<StampedUnit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StampedUnit {
    pub id: String,
    /// The original's text as written then.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StampError {
    #[error("{path}: cannot read: {source}", path = .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "{path}: this block stamp cannot be read ({message}); it is written by `imrf-site status --stamp`: delete it and stamp the page again",
        path = .path.display()
    )]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: cannot write: {source}", path = .path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

/// Where the stamp of the translation at `page` is kept.
pub fn stamp_path(page: &Path) -> PathBuf {
    page.with_extension("stamp.toml")
}

/// The stamp of the translation at `page`, if it has one.
pub fn read(page: &Path) -> Result<Option<Stamp>, StampError> {
    let path = stamp_path(page);
    let text = match crate::files::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StampError::Read { path, source }),
    };
    toml::from_str(&text)
        .map(Some)
        .map_err(|error| StampError::Invalid { path, message: error.message().trim().to_string() })
}

/// The stamp's file text for the original's `units`.
pub fn render(original: &str, units: &[Unit]) -> Result<String, toml::ser::Error> {
    let stamp = Stamp {
        original: original.to_string(),
        units: units.iter().map(|unit| StampedUnit { id: unit.id.clone(), text: unit.text.clone() }).collect(),
    };
    let body = toml::to_string(&stamp)?;
    Ok(format!(
        "# The {original} text that this translation follows, unit by unit, as it was when\n\
         # `imrf-site status --stamp` last ran: `imrf-site status` compares it with the\n\
         # original to say which paragraphs changed. Written by imrf-site; do not edit.\n\n{body}"
    ))
}

/// Writes the stamp for `page` if it differs from what is there; says whether it did.
pub fn write(page: &Path, text: &str) -> Result<bool, StampError> {
    let path = stamp_path(page);
    if std::fs::read_to_string(&path).is_ok_and(|existing| existing == text) {
        return Ok(false);
    }
    std::fs::write(&path, text).map_err(|source| StampError::Write { path, source })?;
    Ok(true)
}

/// How one unit of the original changed since the translation was stamped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum UnitChange {
    /// The unit's text changed: the translation of `old` is to be brought up to `new`.
    Changed { id: String, old: String, new: String, line: usize },
    /// A unit the translation does not have yet.
    Added { id: String, new: String, line: usize },
    /// A unit the original no longer has: its translation is to be removed.
    Removed { id: String, old: String },
    /// A block whose text is unchanged but whose position, and so id and anchor, moved
    /// because blocks were added or removed before it.
    Renumbered { from: String, to: String },
}

/// What changed in the original (`current`, its units of today) since `stamped`.
/// Front-matter values, questions and footnotes are matched by their ids; blocks, whose
/// ids are their positions, by their text (a diff of the two lists), so that a block
/// inserted in the middle is one new block rather than every later block changed.
/// Whitespace and typography do not count (`blocks::normalized`).
pub fn compare(stamped: &[StampedUnit], current: &[Unit]) -> Vec<UnitChange> {
    let is_block = |unit: &Unit| matches!(unit.kind, UnitKind::Block(_));
    let (blocks, keyed): (Vec<&Unit>, Vec<&Unit>) = current.iter().partition(|unit| is_block(unit));
    let (old_blocks, old_keyed): (Vec<&StampedUnit>, Vec<&StampedUnit>) =
        stamped.iter().partition(|unit| crate::blocks::is_block_id(&unit.id));
    let mut changes = compare_keyed(&old_keyed, &keyed);
    changes.extend(compare_blocks(&old_blocks, &blocks));
    changes
}

fn compare_keyed(stamped: &[&StampedUnit], current: &[&Unit]) -> Vec<UnitChange> {
    let mut changes = Vec::new();
    for unit in current {
        match stamped.iter().find(|old| old.id == unit.id) {
            Some(old) if normalized(&old.text) == normalized(&unit.text) => {}
            Some(old) => changes.push(UnitChange::Changed {
                id: unit.id.clone(),
                old: old.text.clone(),
                new: unit.text.clone(),
                line: unit.line,
            }),
            None => changes.push(UnitChange::Added { id: unit.id.clone(), new: unit.text.clone(), line: unit.line }),
        }
    }
    for old in stamped.iter().filter(|old| !current.iter().any(|unit| unit.id == old.id)) {
        changes.push(UnitChange::Removed { id: old.id.clone(), old: old.text.clone() });
    }
    changes
}

fn compare_blocks(stamped: &[&StampedUnit], current: &[&Unit]) -> Vec<UnitChange> {
    let old: Vec<String> = stamped.iter().map(|unit| normalized(&unit.text)).collect();
    let new: Vec<String> = current.iter().map(|unit| normalized(&unit.text)).collect();
    let mut changes = Vec::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old, &new) {
        let (old_range, new_range) = (op.old_range(), op.new_range());
        if let similar::DiffTag::Equal = op.tag() {
            for (o, n) in old_range.zip(new_range) {
                if stamped[o].id != current[n].id {
                    changes.push(UnitChange::Renumbered { from: stamped[o].id.clone(), to: current[n].id.clone() });
                }
            }
            continue;
        }
        let paired = old_range.len().min(new_range.len());
        for (o, n) in old_range.clone().zip(new_range.clone()) {
            changes.push(UnitChange::Changed {
                id: current[n].id.clone(),
                old: stamped[o].text.clone(),
                new: current[n].text.clone(),
                line: current[n].line,
            });
        }
        for n in new_range.skip(paired) {
            changes.push(UnitChange::Added {
                id: current[n].id.clone(),
                new: current[n].text.clone(),
                line: current[n].line,
            });
        }
        for o in old_range.skip(paired) {
            changes.push(UnitChange::Removed { id: stamped[o].id.clone(), old: stamped[o].text.clone() });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn units(body: &str) -> Vec<Unit> {
        crate::blocks::body_units(body, "p-14", 1)
    }

    fn stamped(body: &str) -> Vec<StampedUnit> {
        units(body).into_iter().map(|u| StampedUnit { id: u.id, text: u.text }).collect()
    }

    #[test]
    fn one_edited_paragraph_is_the_only_change() {
        let before = stamped("One.\n\nTwo.\n\nThree.\n");
        let changes = compare(&before, &units("One.\n\nTwo, edited.\n\nThree.\n"));
        assert_eq!(
            changes,
            [UnitChange::Changed { id: "p-14-2".into(), old: "Two.".into(), new: "Two, edited.".into(), line: 3 }]
        );
    }

    #[test]
    fn rewrapping_and_curly_quotes_change_nothing() {
        let before = stamped("A \"quoted\" word in a\nlong paragraph.\n");
        assert_eq!(compare(&before, &units("A \u{201c}quoted\u{201d} word\nin a long paragraph.\n")), []);
    }

    #[test]
    fn an_inserted_block_is_new_and_the_blocks_after_it_are_renumbered() {
        let before = stamped("One.\n\nTwo.\n\nThree.\n");
        let changes = compare(&before, &units("One.\n\nNew.\n\nTwo.\n\nThree.\n"));
        assert_eq!(
            changes,
            [
                UnitChange::Added { id: "p-14-2".into(), new: "New.".into(), line: 3 },
                UnitChange::Renumbered { from: "p-14-2".into(), to: "p-14-3".into() },
                UnitChange::Renumbered { from: "p-14-3".into(), to: "p-14-4".into() },
            ]
        );
        let changes = compare(&before, &units("One.\n\nThree.\n"));
        assert_eq!(changes[0], UnitChange::Removed { id: "p-14-2".into(), old: "Two.".into() });
    }

    #[test]
    fn footnotes_are_matched_by_label() {
        let before = stamped("Text[^a].\n\n[^a]: Old source.\n");
        let changes = compare(&before, &units("Text[^a].\n\n[^a]: New source.\n"));
        assert!(matches!(&changes[..], [UnitChange::Changed { id, .. }] if id == "fn:a"), "{changes:?}");
    }

    #[test]
    fn the_stamp_file_reads_back() {
        let text = render("en/a.md", &units("One \"two\".\n\n[^a]: Note.\n")).unwrap();
        let stamp: Stamp = toml::from_str(&text).unwrap();
        assert_eq!(stamp.original, "en/a.md");
        assert_eq!(stamp.units.len(), 2);
        assert_eq!(stamp.units[0].text, "One \"two\".");
    }
}
