//! The catalog of one file of the site for one language: a page's units (front-matter
//! values, questions, blocks, footnotes) or the UI strings, each with the original's
//! text, the translation's, and its state, read from the site as the build loads it.
//! Shared by export (which writes catalogs) and import (which checks a catalog that
//! comes back against the one of today).

use std::collections::BTreeMap;

use crate::blocks::{Unit, UnitKind};
use crate::content::SourcePage;
use crate::exchange::catalog::{Catalog, CatalogUnit, UnitState};
use crate::exchange::inline::{self, Markup};
use crate::site::{Site, Translation};
use crate::stamps::{self, UnitChange};
use crate::types::LangCode;

/// The `original` of the catalog of UI strings.
pub const UI_ORIGINAL: &str = "i18n";

/// A catalog, with what import needs to turn its tags back into Markdown.
pub struct PageCatalog {
    pub catalog: Catalog,
    /// By unit id: the original's markup for each tag.
    pub markup: BTreeMap<String, Vec<Markup>>,
    /// By unit id: where the translation's unit is (absent: no translation of it).
    pub translated: BTreeMap<String, Unit>,
}

/// The catalog of page `key` for `lang`. `None` when the default language has no such
/// page.
pub fn page_catalog(site: &Site, lang: &LangCode, key: &str) -> Result<Option<PageCatalog>, stamps::StampError> {
    let Some(original) = site.original(key) else {
        return Ok(None);
    };
    let page = site.pages_in(lang).find(|p| p.key == key);
    let translation = page
        .filter(|p| matches!(p.translation, Translation::Current | Translation::Outdated | Translation::Unstamped))
        .map(|p| site.source(p));
    let original_units = crate::blocks::page_units(original);
    let translated = translation.map(aligned_units).unwrap_or_default();
    let translated = if aligns(&original_units, &translated) { translated } else { keyed_only(translated) };
    let outdated = match (translation, page.map(|p| p.translation)) {
        (Some(translation), Some(Translation::Outdated)) => outdated_units(translation, &original_units)?,
        _ => BTreeMap::new(),
    };
    let mut units = Vec::new();
    let mut markup = BTreeMap::new();
    for unit in &original_units {
        let tagged = inline::tag_source(&unit.text);
        let target = translated.get(&unit.id).map(|t| inline::tag_translation(&t.text, &tagged.markup));
        let previous = outdated.get(&unit.id);
        let state = match (&target, previous) {
            (None, _) => UnitState::New,
            (Some(_), Some(_)) => UnitState::Outdated,
            (Some(_), None) => UnitState::Translated,
        };
        units.push(CatalogUnit {
            id: unit.id.clone(),
            source: tagged.text,
            target: target.unwrap_or_default(),
            state,
            previous_source: previous.cloned().flatten().map(|old| inline::tag_source(&old).text),
            notes: vec![format!("{} ({}:{})", describe(unit), site.content_path(&original.path), unit.line)],
            tags: tagged.markup.iter().map(|m| m.tag.clone()).collect(),
            line: 0,
        });
        markup.insert(unit.id.clone(), tagged.markup);
    }
    let catalog = Catalog {
        source_lang: site.default_language.to_string(),
        target_lang: lang.to_string(),
        original: key.to_string(),
        units,
    };
    Ok(Some(PageCatalog { catalog, markup, translated }))
}

fn aligned_units(translation: &SourcePage) -> BTreeMap<String, Unit> {
    crate::blocks::page_units(translation).into_iter().map(|unit| (unit.id.clone(), unit)).collect()
}

/// Whether a translation's blocks are its original's, kind by kind: only then does a
/// block id name the same paragraph in both. A page not translated yet has none.
fn aligns(original: &[Unit], translated: &BTreeMap<String, Unit>) -> bool {
    let is_block = |unit: &Unit| matches!(unit.kind, UnitKind::Block(_));
    let blocks: Vec<&Unit> = original.iter().filter(|unit| is_block(unit)).collect();
    translated.is_empty()
        || (blocks.len() == translated.values().filter(|unit| is_block(unit)).count()
            && blocks.iter().all(|unit| translated.get(&unit.id).is_some_and(|t| t.kind == unit.kind)))
}

/// A misaligned translation's units that do not depend on position: its blocks are
/// exported as untranslated (the build's warning says which block differs).
fn keyed_only(translated: BTreeMap<String, Unit>) -> BTreeMap<String, Unit> {
    translated.into_iter().filter(|(_, unit)| !matches!(unit.kind, UnitKind::Block(_))).collect()
}

/// The units of an outdated translation whose original changed since its stamp, with the
/// original's text it was made from (`None`: unknown, as for a unit the stamp lacks).
fn outdated_units(
    translation: &SourcePage,
    original: &[Unit],
) -> Result<BTreeMap<String, Option<String>>, stamps::StampError> {
    let Some(stamp) = stamps::read(&translation.path)? else {
        // Stamped before blocks were tracked: every unit is to be reviewed.
        return Ok(original.iter().map(|unit| (unit.id.clone(), None)).collect());
    };
    let mut outdated = BTreeMap::new();
    for change in stamps::compare(&stamp.units, original) {
        match change {
            UnitChange::Changed { id, old, .. } => {
                outdated.insert(id, Some(old));
            }
            UnitChange::Added { id, .. } => {
                outdated.insert(id, None);
            }
            UnitChange::Removed { .. } | UnitChange::Renumbered { .. } => {}
        }
    }
    Ok(outdated)
}

fn describe(unit: &Unit) -> String {
    match unit.kind {
        UnitKind::Field => format!("front matter: {}", unit.id),
        UnitKind::Question => format!("guiding question {}", unit.id),
        UnitKind::Block(kind) => format!("{} {}", kind.name(), unit.id),
        UnitKind::Footnote => format!("footnote [^{}]", unit.id.trim_start_matches("fn:")),
    }
}

/// The catalog of the UI strings of `lang`: every string of the default language's file.
/// Plural tables are not exchanged: their forms differ per language (Arabic has six),
/// and a CAT tool's one-to-one units cannot hold them.
pub fn ui_catalog(site: &Site, lang: &LangCode) -> Option<Catalog> {
    let original = site.language(&site.default_language)?;
    let translation = site.language(lang)?;
    let own = crate::i18n::own_strings(&site.paths.i18n(), lang).ok().flatten().unwrap_or_default();
    let units = original
        .strings()
        .iter()
        .map(|(key, text)| {
            let target = own.get(key).cloned().filter(|_| translation.code != original.code).unwrap_or_default();
            CatalogUnit {
                id: format!("ui:{key}"),
                source: text.clone(),
                state: if target.is_empty() { UnitState::New } else { UnitState::Translated },
                target,
                previous_source: None,
                notes: vec![format!(
                    "UI string `{key}` (i18n/{}.toml); keep words in braces, such as {{number}}, as they are",
                    site.default_language
                )],
                tags: Vec::new(),
                line: 0,
            }
        })
        .collect();
    Some(Catalog {
        source_lang: site.default_language.to_string(),
        target_lang: lang.to_string(),
        original: UI_ORIGINAL.to_string(),
        units,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_id(units: Vec<Unit>) -> BTreeMap<String, Unit> {
        units.into_iter().map(|unit| (unit.id.clone(), unit)).collect()
    }

    #[test]
    fn alignment_holds_past_nine_blocks_whatever_the_order_of_ids() {
        let body: String = (1..=12).map(|n| format!("Paragraph {n}.\n\n")).collect();
        let original = crate::blocks::body_units(&body, "p-1", 1);
        let translated = by_id(crate::blocks::body_units(&body.replace("Paragraph", "Paragraphe"), "p-1", 1));
        assert!(aligns(&original, &translated));
        let with_list = body.replacen("Paragraph 11.", "- Paragraphe 11.", 1);
        assert!(!aligns(&original, &by_id(crate::blocks::body_units(&with_list, "p-1", 1))));
        let shorter = body.replacen("Paragraph 12.", "", 1);
        assert!(!aligns(&original, &by_id(crate::blocks::body_units(&shorter, "p-1", 1))));
    }
}
