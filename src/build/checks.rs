//! The alignment and glossary checks of `build`, with the build cache: each check of
//! one file (a source against its glossary, a translation against its original) is
//! kept by the key of all it reads, so the next build checks only the files that
//! changed. The warnings come in the order the whole checks give them
//! (`alignment::warnings`, then `terminology::warnings`).

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::keys::{Key, hash_debug, hash_parts};
use super::recalled::Recalled;
use super::remembered::CacheKeys;
use crate::diagnostic::Warning;
use crate::render::RenderedSources;
use crate::site::Site;
use crate::terminology::GlossaryCheck;

/// Each file check's warnings (their messages), by the key of what it read.
pub(super) type Checked = FxHashMap<Key, Vec<String>>;

/// The alignment and glossary warnings of the site. With the build cache (`memo`),
/// each file's are the last build's when its key is there, and this build's are
/// returned for the next.
pub(super) fn warnings(
    site: &Site,
    sources: &RenderedSources,
    memo: Option<(&CacheKeys, &Recalled)>,
) -> (Vec<Warning>, Checked) {
    let Some((keys, recalled)) = memo else {
        let mut warnings = crate::alignment::warnings(site, sources);
        warnings.extend(crate::terminology::warnings(site));
        return (warnings, Checked::default());
    };
    let markdown = |source: usize| &keys.markdown(source)[..];
    let kept_or = |key: Key, check: &(dyn Fn() -> Vec<Warning> + Sync)| {
        let kept = recalled.checked(&key);
        let messages = kept.unwrap_or_else(|| check().into_iter().map(|warning| warning.message).collect());
        (key, messages)
    };
    let alignment: Vec<(Key, Vec<String>)> = crate::alignment::pairs(site)
        .into_par_iter()
        .map(|(translation, original)| {
            let key = hash_parts(&[b"alignment", markdown(translation), markdown(original)]);
            kept_or(key, &|| crate::alignment::compare(site, sources, translation, original).into_iter().collect())
        })
        .collect();
    let glossary = GlossaryCheck::new(site);
    let glossaries: FxHashMap<_, Key> =
        site.glossaries.iter().map(|(code, glossary)| (code, hash_debug(glossary))).collect();
    let terms: Vec<(Key, Vec<String>)> = (0..site.sources.len())
        .into_par_iter()
        .map(|n| {
            let source = &site.sources[n];
            // The Markdown's key covers the path, the front matter as read, the body
            // and the default language; the check also reads the front matter as
            // written, which the hash of the text as written covers without reading a
            // file the cache knew. Invariant: the checks run before any text is
            // released (`Site::release_source_text`), so every source has the hash.
            let language = glossaries.get(&source.lang).map_or(&[][..], |key| &key[..]);
            let written = source.written_hash().unwrap_or_default();
            let key = hash_parts(&[b"glossary", markdown(n), &written, language]);
            kept_or(key, &|| glossary.of_source(n))
        })
        .collect();
    let mut warnings: Vec<Warning> = alignment
        .iter()
        .chain(&terms)
        .flat_map(|(_, messages)| messages.iter().map(|message| Warning { message: message.clone() }))
        .collect();
    warnings.extend(glossary.of_ui_strings());
    (warnings, alignment.into_iter().chain(terms).collect())
}
