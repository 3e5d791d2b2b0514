//! The text processing shared by the search index and the browser's query code: how a
//! text becomes search terms in one language. `themes/default/js/search.js` implements
//! the same steps (and `stem-<algorithm>.js` the same stemmers, translated from the
//! rust-stemmers sources), and `tests/it/search.rs` runs both over word lists to prove
//! that they agree. Change one side only together with the other.
//!
//! The steps, in order:
//! 1. NFKC normalization (full-width forms, ligatures, composed accents), then lowercase.
//! 2. Folding, per language: Latin diacritics are dropped (and `œ`, `æ` spelled out) for
//!    English, French and Spanish, whose readers often type without accents; Russian
//!    `ё` becomes `е`; Arabic text loses tatweel and harakat, and alef forms, ta marbuta
//!    and alef maksura are unified (in every language: the rules touch only Arabic letters).
//! 3. Splitting into runs of letters, marks and digits; a run is split again where Han
//!    characters start or stop.
//! 4. Han runs, which have no spaces between words, become overlapping character bigrams
//!    (a lone character stays a unigram). Other runs of two or more characters are words,
//!    stemmed with the language's Snowball stemmer where there is one. Single letters are
//!    dropped: they are articles and elisions (`l'`, `a`, `y`) that match everything.

use std::borrow::Cow;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::{decompose_canonical, is_combining_mark};
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// One search term found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What the index is keyed by: the stem, or the bigram.
    pub term: String,
    /// The normalized word before stemming (equal to `term` for bigrams and unstemmed words).
    pub word: String,
    /// A Han bigram or unigram rather than a word.
    pub han: bool,
}

/// A language's text processing.
pub struct TextProcessor {
    fold_latin: bool,
    fold_yo: bool,
    stemmer: Option<(Stemmer, &'static str)>,
    /// What `normalize_whole` makes of each Latin letter from U+00C0 to U+024F, alone.
    latin: Vec<String>,
}

impl std::fmt::Debug for TextProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextProcessor")
            .field("fold_latin", &self.fold_latin)
            .field("fold_yo", &self.fold_yo)
            .field("stemmer", &self.stemmer_name())
            .finish()
    }
}

impl TextProcessor {
    /// The processing for a language, by its primary subtag (`en`, `fr`, `zh`...).
    pub fn for_language(primary: &str) -> Self {
        let stemmer = match primary {
            "en" => Some((Algorithm::English, "english")),
            "fr" => Some((Algorithm::French, "french")),
            "es" => Some((Algorithm::Spanish, "spanish")),
            "ru" => Some((Algorithm::Russian, "russian")),
            "ar" => Some((Algorithm::Arabic, "arabic")),
            _ => None,
        };
        let mut processor = Self {
            fold_latin: matches!(primary, "en" | "fr" | "es"),
            fold_yo: primary == "ru",
            stemmer: stemmer.map(|(algorithm, name)| (Stemmer::create(algorithm), name)),
            latin: Vec::new(),
        };
        processor.latin = LATIN.map(|c| processor.normalize_whole(&c.to_string())).collect();
        processor
    }

    /// The Snowball algorithm's name (`english`), which names the client's stemmer file.
    pub fn stemmer_name(&self) -> Option<&'static str> {
        self.stemmer.as_ref().map(|(_, name)| *name)
    }

    /// Whether Latin diacritics are folded: the client needs to know to do the same.
    pub fn folds_latin(&self) -> bool {
        self.fold_latin
    }

    /// Whether Russian `ё` is read as `е`.
    pub fn folds_yo(&self) -> bool {
        self.fold_yo
    }

    /// Steps 1 and 2: the text normalized and folded.
    pub fn normalize(&self, text: &str) -> String {
        self.normalize_by_character(text).unwrap_or_else(|| self.normalize_whole(text))
    }

    /// `normalize_whole` in one pass, for text whose every character normalizes on its
    /// own, to what it would in context: ASCII, CJK ideographs and the punctuation
    /// Chinese text uses, fullwidth ASCII, precomposed Latin letters (none of them
    /// composes with a neighbour or changes case by its place). Most of a site's text is
    /// that; `None` for the rest.
    fn normalize_by_character(&self, text: &str) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                _ if c.is_ascii() => out.push(c.to_ascii_lowercase()),
                '\u{3400}'..='\u{4DBF}'
                | '\u{4E00}'..='\u{9FFF}'
                | '\u{3001}'
                | '\u{3002}'
                | '\u{3008}'..='\u{3011}' => out.push(c),
                // Fullwidth ASCII: NFKC gives the ASCII character 0xFEE0 below.
                '\u{FF01}'..='\u{FF5E}' => {
                    out.push(char::from_u32(u32::from(c) - 0xFEE0)?.to_ascii_lowercase());
                }
                _ if LATIN.contains(&c) => out.push_str(&self.latin[(u32::from(c) - 0xC0) as usize]),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Steps 1 and 2 for any text: NFKC, lower case, the language's foldings.
    fn normalize_whole(&self, text: &str) -> String {
        // Most text is NFKC already: the quick check skips the decomposition then.
        let composed: Cow<str> = match is_nfkc_quick(text.chars()) {
            IsNormalized::Yes => Cow::Borrowed(text),
            _ => Cow::Owned(text.nfkc().collect()),
        };
        let lowered = composed.to_lowercase();
        let mut folded = String::with_capacity(lowered.len());
        for c in lowered.chars() {
            match c {
                // Tatweel and harakat (with the superscript alef) carry no meaning for search.
                '\u{0640}' | '\u{064B}'..='\u{065F}' | '\u{0670}' => {}
                '\u{0622}' | '\u{0623}' | '\u{0625}' | '\u{0671}' => folded.push('\u{0627}'),
                '\u{0629}' => folded.push('\u{0647}'),
                '\u{0649}' => folded.push('\u{064A}'),
                'ё' if self.fold_yo => folded.push('е'),
                'œ' if self.fold_latin => folded.push_str("oe"),
                'æ' if self.fold_latin => folded.push_str("ae"),
                _ => folded.push(c),
            }
        }
        // ASCII has no marks or ligatures to strip, so only other text takes this pass.
        if self.fold_latin && !folded.is_ascii() { strip_latin_marks(&folded) } else { folded }
    }

    /// Steps 1 to 4 short of stemming: calls `visit` with each word of the text
    /// (normalized, unstemmed) or Han gram (flagged `true`), in order. Words borrow a
    /// buffer, so a caller that keeps one copies it.
    pub(super) fn for_each_word(&self, text: &str, mut visit: impl FnMut(&str, bool)) {
        if text.is_ascii() {
            // ASCII is its own NFKC and has nothing to fold but case: the common case
            // goes without the normalized copy.
            for_each_ascii_word(text, |word| visit(word, false));
            return;
        }
        let normalized = self.normalize(text);
        if normalized.is_ascii() {
            // Folding often leaves ASCII (French without its accents).
            for_each_ascii_word(&normalized, |word| visit(word, false));
            return;
        }
        for run in runs(&normalized) {
            if run.han {
                for_each_han_gram(run.text, &mut visit);
            } else if run.text.chars().nth(1).is_some() {
                visit(run.text, false);
            }
        }
    }

    /// The search terms of a text, in order.
    pub fn tokens(&self, text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        self.for_each_word(text, |word, han| {
            let term = if han { word.to_string() } else { self.stem(word).into_owned() };
            tokens.push(Token { term, word: word.to_string(), han });
        });
        tokens
    }

    /// A normalized word's stem (the word itself without a stemmer).
    pub(super) fn stem<'w>(&self, word: &'w str) -> Cow<'w, str> {
        match &self.stemmer {
            Some((stemmer, _)) => stemmer.stem(word),
            None => Cow::Borrowed(word),
        }
    }
}

/// Latin diacritics dropped: NFD, the marks U+0300 to U+036F removed, NFC; then the
/// ligatures once more, since stripping can uncover one (`ǣ` is `æ` and a macron).
fn strip_latin_marks(text: &str) -> String {
    strip_precomposed(text).unwrap_or_else(|| {
        let stripped: String = text.nfd().filter(|&c| !is_stripped_mark(c)).nfc().collect();
        stripped.replace('æ', "ae").replace('œ', "oe")
    })
}

fn is_stripped_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// `strip_latin_marks` for the text nearly all French and Spanish is made of: ASCII,
/// precomposed Latin letters (U+00A0 to U+024F) and general punctuation, with no
/// separate combining mark. There, each letter decomposes to a base and marks of the
/// stripped range, and the bases left compose with nothing, so the whole-text NFD,
/// filter and NFC come down to a letter-by-letter mapping. `None` for any other text.
fn strip_precomposed(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            _ if c.is_ascii() => out.push(c),
            '\u{00A0}'..='\u{024F}' => {
                let mut simple = true;
                decompose_canonical(c, |part| match part {
                    _ if is_stripped_mark(part) => {}
                    _ if is_combining_mark(part) => simple = false,
                    'æ' => out.push_str("ae"),
                    'œ' => out.push_str("oe"),
                    _ => out.push(part),
                });
                if !simple {
                    return None;
                }
            }
            '\u{2000}'..='\u{206F}' => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// The Latin letters `TextProcessor::latin` holds, by code point from U+00C0.
const LATIN: std::ops::RangeInclusive<char> = '\u{00C0}'..='\u{024F}';

/// A stretch of normalized text made of word characters, all Han or none.
struct Run<'t> {
    han: bool,
    text: &'t str,
}

/// Characters of Han script (CJK ideographs, with the extensions and compatibility forms).
fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}')
}

/// Letters, marks and digits: what words are made of (JavaScript: `[\p{Alphabetic}\p{N}\p{M}]`).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c)
}

/// Calls `visit` with each word of ASCII text, lower case: runs of letters and digits,
/// single characters dropped. The text is read byte by byte, and a word is copied only
/// to lower its case.
fn for_each_ascii_word(text: &str, mut visit: impl FnMut(&str)) {
    let mut lowered = String::new();
    let mut start = 0;
    let mut upper = false;
    // A space after the end closes the last word.
    for (at, byte) in text.bytes().chain([b' ']).enumerate() {
        if byte.is_ascii_alphanumeric() {
            upper |= byte.is_ascii_uppercase();
            continue;
        }
        if at - start > 1 {
            let word = &text[start..at];
            if upper {
                lowered.clear();
                lowered.push_str(word);
                lowered.make_ascii_lowercase();
                visit(&lowered);
            } else {
                visit(word);
            }
        }
        start = at + 1;
        upper = false;
    }
}

fn runs(text: &str) -> Vec<Run<'_>> {
    let mut runs = Vec::new();
    // The current run: where it starts, and whether it is Han.
    let mut current: Option<(usize, bool)> = None;
    for (at, c) in text.char_indices() {
        let kind = match c {
            _ if c.is_ascii() => c.is_ascii_alphanumeric().then_some(false),
            // The common Han block, every character of it a letter: without the slower
            // lookups of the other two tests.
            '\u{4E00}'..='\u{9FFF}' => Some(true),
            _ => is_word_char(c).then(|| is_han(c)),
        };
        match (current, kind) {
            (Some((_, han)), Some(next)) if han == next => {}
            _ => {
                if let Some((start, han)) = current {
                    runs.push(Run { han, text: &text[start..at] });
                }
                current = kind.map(|han| (at, han));
            }
        }
    }
    if let Some((start, han)) = current {
        runs.push(Run { han, text: &text[start..] });
    }
    runs
}

/// Overlapping bigrams of a Han run; a lone character is its own gram.
fn for_each_han_gram(run: &str, visit: &mut impl FnMut(&str, bool)) {
    // Where each character starts, then the run's end: a bigram runs from one start to
    // the start two further on.
    let mut bounds = run.char_indices().map(|(at, _)| at).chain([run.len()]);
    let (Some(mut first), Some(mut second)) = (bounds.next(), bounds.next()) else { return };
    let mut lone = true;
    for third in bounds {
        visit(&run[first..third], true);
        (first, second, lone) = (second, third, false);
    }
    if lone {
        visit(run, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters from each class `normalize_by_character` takes, and some it does not
    /// (a combining acute, a final-sigma case, Arabic, a Hangul syllable, an ideographic
    /// space), so that mixed text takes either path.
    const MIXED: &[char] = &[
        'a', 'Z', ' ', '1', ',', 'é', 'É', 'ç', 'œ', 'Æ', 'ß', 'İ', 'ǅ', 'ø', 'ſ', '中', '文', '㐀', '。', '，', '「',
        'Ａ', 'ｚ', '\u{0301}', 'Σ', 'ς', 'ب', 'أ', '한', '\u{3000}', 'ё', 'Ё',
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]
        #[test]
        fn character_by_character_equals_the_whole_text(
            picks in proptest::collection::vec(0..MIXED.len(), 0..24),
            lang in proptest::sample::select(vec!["en", "fr", "ru", "ar", "zh"]),
        ) {
            let text: String = picks.iter().map(|&i| MIXED[i]).collect();
            let processor = TextProcessor::for_language(lang);
            if let Some(fast) = processor.normalize_by_character(&text) {
                proptest::prop_assert_eq!(fast, processor.normalize_whole(&text), "{:?}", text);
            }
        }
    }

    #[test]
    fn the_common_han_block_is_all_word_characters() {
        assert!(('\u{4E00}'..='\u{9FFF}').all(|c| is_word_char(c) && is_han(c)), "`runs` takes this for granted");
    }

    #[test]
    fn each_character_of_the_one_pass_classes_normalizes_as_in_the_whole_text() {
        let classes = [
            '\u{0}'..='\u{7F}',
            '\u{C0}'..='\u{24F}',
            '\u{3000}'..='\u{3020}',
            '\u{4E00}'..='\u{4E20}',
            '\u{FF00}'..='\u{FF60}',
        ];
        for lang in ["en", "fr", "es", "ru", "ar", "zh"] {
            let processor = TextProcessor::for_language(lang);
            for c in classes.iter().cloned().flatten() {
                for text in [c.to_string(), format!("x{c}y"), format!("{c}{c}")] {
                    if let Some(fast) = processor.normalize_by_character(&text) {
                        assert_eq!(fast, processor.normalize_whole(&text), "{lang} {:?}", c);
                    }
                }
            }
            assert!(processor.normalize_by_character("Migration 中文，É").is_some(), "the common text takes one pass");
            assert!(processor.normalize_by_character("e\u{0301}").is_none(), "a combining mark needs its neighbour");
        }
    }

    fn terms(lang: &str, text: &str) -> Vec<String> {
        TextProcessor::for_language(lang).tokens(text).into_iter().map(|t| t.term).collect()
    }

    #[test]
    fn english_is_stemmed_and_case_folded() {
        assert_eq!(
            terms("en", "Remittances REMITTANCE remittance-receiving"),
            ["remitt", "remitt", "remitt", "receiv"]
        );
        assert_eq!(terms("en", "Consular protection"), ["consular", "protect"]);
    }

    #[test]
    fn french_and_spanish_fold_diacritics_before_stemming() {
        // With and without accents, a reader's word meets the same stem.
        assert_eq!(terms("fr", "coopération"), terms("fr", "cooperation"));
        assert_eq!(terms("fr", "Envois de fonds"), ["envois", "de", "fond"]);
        assert_eq!(terms("fr", "l’inclusion financière"), ["inclus", "financier"]);
        assert_eq!(terms("es", "protección"), terms("es", "proteccion"));
        assert_eq!(terms("es", "Remesas más rápidas"), ["remes", "mas", "rap"]);
        assert_eq!(terms("fr", "œuvre"), terms("fr", "oeuvre"));
    }

    #[test]
    fn russian_keeps_its_letters_and_reads_yo_as_ye() {
        assert_eq!(terms("ru", "Денежные переводы"), ["денежн", "перевод"]);
        assert_eq!(terms("ru", "ещё"), terms("ru", "еще"));
        // й is not a Latin letter with a breve: it must survive.
        assert_eq!(terms("ru", "мой"), ["мо"]);
    }

    #[test]
    fn unicode_normalization_joins_composed_and_decomposed_forms() {
        assert_eq!(terms("en", "cafe\u{0301}"), terms("en", "caf\u{00e9}"));
        // Full-width Latin letters are ordinary letters after NFKC.
        assert_eq!(terms("en", "ＲＥＭＩＴＴＡＮＣＥＳ"), ["remitt"]);
        // Without folding (Russian index), the accent is kept, composed.
        assert_eq!(TextProcessor::for_language("ru").normalize("cafe\u{0301}"), "caf\u{00e9}");
    }

    #[test]
    fn arabic_is_normalized_then_stemmed() {
        let arabic = TextProcessor::for_language("ar");
        // Harakat and tatweel go; hamza alef forms become bare alef; ta marbuta becomes ha.
        assert_eq!(arabic.normalize("التَّحْوِيلَات"), "التحويلات");
        assert_eq!(arabic.normalize("تـحـويـلات"), "تحويلات");
        assert_eq!(arabic.normalize("أإآٱ"), "اااا");
        assert_eq!(arabic.normalize("المالية"), "الماليه");
        assert_eq!(arabic.normalize("مستوى"), "مستوي");
        assert_eq!(terms("ar", "التحويلات"), terms("ar", "التَّحْوِيلَات"));
        assert_eq!(terms("ar", "التحويلات المالية"), ["تحويل", "ماليه"]);
    }

    #[test]
    fn chinese_is_split_into_bigrams() {
        assert_eq!(terms("zh", "汇款转账"), ["汇款", "款转", "转账"]);
        assert_eq!(terms("zh", "促进汇款，推动"), ["促进", "进汇", "汇款", "推动"]);
        assert_eq!(terms("zh", "汇"), ["汇"]);
        // Latin words inside Chinese text stay words; digits beside Han split from it.
        assert_eq!(terms("zh", "COVID-19疫情"), ["covid", "19", "疫情"]);
    }

    #[test]
    fn single_letters_are_dropped() {
        assert_eq!(terms("es", "y a o migrantes"), ["migrant"]);
        assert_eq!(terms("fr", "d’origine"), ["origin"]);
    }

    /// The whole-text NFD, filter and NFC that `strip_precomposed` shortcuts.
    fn strip_slowly(text: &str) -> String {
        let stripped: String = text.nfd().filter(|&c| !is_stripped_mark(c)).nfc().collect();
        stripped.replace('æ', "ae").replace('œ', "oe")
    }

    #[test]
    fn the_precomposed_shortcut_strips_as_the_whole_text_pass_does() {
        let fast_range = ('\u{00A0}'..='\u{024F}').chain('\u{2000}'..='\u{206F}');
        let chars: Vec<char> = fast_range.filter(|&c| is_nfkc_quick([c].into_iter()) == IsNormalized::Yes).collect();
        let mut taken = 0;
        for (i, &c) in chars.iter().enumerate() {
            // Each character alone, beside ASCII and beside its neighbours in the range.
            let next = chars[(i + 1) % chars.len()];
            for text in [c.to_string(), format!("a{c}e"), format!("{c}{next}"), format!("{next}{c}x")] {
                if let Some(fast) = strip_precomposed(&text) {
                    assert_eq!(fast, strip_slowly(&text), "{text:?}");
                    taken += 1;
                }
            }
        }
        assert!(taken > 1000, "the shortcut took only {taken} texts");
        // A separate mark sends the text to the whole-text pass.
        assert_eq!(strip_precomposed("cafe\u{0301}"), None);
        assert_eq!(strip_latin_marks("cafe\u{0301} ǣ"), "cafe ae");
    }

    #[test]
    fn words_keep_their_unstemmed_form() {
        let tokens = TextProcessor::for_language("en").tokens("Migrations");
        assert_eq!(tokens, [Token { term: "migrat".into(), word: "migrations".into(), han: false }]);
    }
}
