//! Loads `i18n/<code>.toml` (a language's native name, text direction and UI strings)
//! and answers string and plural look-ups with fallback to the default language.
//! The default language's file defines which keys exist; another file with a key the
//! default lacks is an error (a typo would otherwise silently show English).

mod placeholders;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};
use serde::Deserialize;

use crate::diagnostic::toml_problem;
use crate::diagnostic::{Location, Warning};
use crate::types::LangCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ltr,
    Rtl,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Ltr => "ltr",
            Direction::Rtl => "rtl",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LanguageSection {
    name: String,
    dir: Direction,
    #[serde(default)]
    numbers: NumberFormat,
    dates: Option<DateFormat>,
}

/// How a language writes numbers: its digits and how it groups thousands (CLDR).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberFormat {
    /// The ten digits, zero first: "0123456789", or "٠١٢٣٤٥٦٧٨٩" for Arabic-Indic.
    #[serde(default = "ascii_digits", deserialize_with = "ten_digits")]
    pub digits: Vec<char>,
    /// Between groups of three digits: "," in English, a narrow no-break space in French.
    #[serde(default = "comma")]
    pub group_separator: String,
    /// Group only numbers with at least this many digits before the first separator
    /// position would apply: 1 groups 1,000; 2 (Spanish, Polish) writes 1000 but 10 000.
    #[serde(default = "one")]
    pub min_grouping_digits: u8,
}

fn ascii_digits() -> Vec<char> {
    ('0'..='9').collect()
}
fn comma() -> String {
    ",".to_string()
}
fn one() -> u8 {
    1
}

fn ten_digits<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<char>, D::Error> {
    let text = String::deserialize(deserializer)?;
    let digits: Vec<char> = text.chars().collect();
    if digits.len() == 10 {
        Ok(digits)
    } else {
        Err(serde::de::Error::custom(format!(
            "`digits` must list exactly ten digits, zero first; got {}",
            digits.len()
        )))
    }
}

impl Default for NumberFormat {
    fn default() -> Self {
        Self { digits: ascii_digits(), group_separator: comma(), min_grouping_digits: one() }
    }
}

impl NumberFormat {
    /// The number in the language's digits, never grouped (years).
    pub fn digits_only(&self, number: u64) -> String {
        number.to_string().chars().map(|c| self.digits[c as usize - '0' as usize]).collect()
    }

    pub fn format(&self, number: u64) -> String {
        let plain: Vec<char> = self.digits_only(number).chars().collect();
        let groups_apply = plain.len() >= 4 + usize::from(self.min_grouping_digits.saturating_sub(1));
        let mut out = String::new();
        for (index, digit) in plain.iter().enumerate() {
            let remaining = plain.len() - index;
            if groups_apply && index > 0 && remaining % 3 == 0 {
                out.push_str(&self.group_separator);
            }
            out.push(*digit);
        }
        out
    }
}

/// How a language writes a date: month names as used in dates, and the pattern.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateFormat {
    /// Twelve month names, January first, in the form a date uses (Russian: genitive).
    pub months: Vec<String>,
    /// With `{day}`, `{month}` (the name), `{month_number}` and `{year}`: "{day} {month} {year}".
    pub pattern: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct I18nFile {
    language: LanguageSection,
    #[serde(default)]
    strings: BTreeMap<String, String>,
    #[serde(default)]
    plurals: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("{path}: cannot read: {source}", path = .path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
    #[error("{path}: unknown {what} {keys} (not in the default language's file {default}); check the spelling", path = .path.display(), default = .default.display(), keys = .keys.join(", "))]
    UnknownKeys { path: PathBuf, what: &'static str, keys: Vec<String>, default: PathBuf },
    #[error("{path}: plural `{key}` has no form `{category}`, which {lang} needs (CLDR plural rules); forms given: {given}", path = .path.display())]
    MissingPluralForm { path: PathBuf, key: String, category: String, lang: LangCode, given: String },
    #[error("{path}: {lang} has no CLDR plural rules; the language code may be wrong", path = .path.display())]
    NoPluralRules { path: PathBuf, lang: LangCode },
    #[error("{path}: the default language needs its UI strings file", path = .path.display())]
    MissingDefault { path: PathBuf },
}

/// One language's UI: its name and direction, and its strings with the default
/// language's strings already filled in where a key is missing.
#[derive(Debug, Clone)]
pub struct Language {
    pub code: LangCode,
    pub name: String,
    pub dir: Direction,
    pub numbers: NumberFormat,
    dates: Option<DateFormat>,
    strings: BTreeMap<String, String>,
    plurals: BTreeMap<String, BTreeMap<String, String>>,
    /// Plural forms taken from the default language (its categories differ), by key.
    fallback_plurals: BTreeMap<String, BTreeMap<String, String>>,
    default_code: LangCode,
}

/// The plural category CLDR assigns to `count` in `lang` ("one", "few", ...).
pub fn plural_category(lang: &LangCode, count: u64) -> &'static str {
    let category = rules_for(lang).and_then(|rules| rules.select(count).ok()).unwrap_or(PluralCategory::OTHER);
    category_name(category)
}

fn rules_for(lang: &LangCode) -> Option<PluralRules> {
    let parsed = lang.as_str().parse::<unic_langid::LanguageIdentifier>().ok()?;
    PluralRules::create(parsed.clone(), PluralRuleType::CARDINAL)
        .or_else(|_| {
            let primary = lang.primary().parse::<unic_langid::LanguageIdentifier>().map_err(|_| "")?;
            PluralRules::create(primary, PluralRuleType::CARDINAL)
        })
        .ok()
}

const CLDR_CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

fn category_name(category: PluralCategory) -> &'static str {
    match category {
        PluralCategory::ZERO => "zero",
        PluralCategory::ONE => "one",
        PluralCategory::TWO => "two",
        PluralCategory::FEW => "few",
        PluralCategory::MANY => "many",
        PluralCategory::OTHER => "other",
    }
}

/// The categories a language distinguishes, found by asking its rules about a spread
/// of numbers that covers every CLDR category in use.
fn categories_for(rules: &PluralRules) -> Vec<&'static str> {
    let mut seen: Vec<&'static str> = (0..=200u64)
        .chain([1000, 10_000, 100_000, 1_000_000])
        .filter_map(|n| rules.select(n).ok().map(category_name))
        .collect();
    seen.push("other");
    seen.sort_unstable();
    seen.dedup();
    seen
}

impl Language {
    pub fn strings(&self) -> &BTreeMap<String, String> {
        &self.strings
    }

    /// The string for `key`, or `None` when neither this language nor the default has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.strings.get(key).map(String::as_str)
    }

    /// The plural form of `key` for `count`, with `{count}` filled in.
    pub fn plural(&self, key: &str, count: u64) -> Option<String> {
        let (forms, lang) = match self.plurals.get(key) {
            Some(forms) => (forms, &self.code),
            None => (self.fallback_plurals.get(key)?, &self.default_code),
        };
        let category = plural_category(lang, count);
        let form = forms.get(category).or_else(|| forms.get("other"))?;
        Some(form.replace("{count}", &self.numbers.format(count)))
    }

    /// A date written the language's way (ISO 8601 when its file gives no date format).
    pub fn format_date(&self, year: u16, month: u8, day: u8) -> String {
        match &self.dates {
            Some(format) => {
                let month_name = format.months.get(usize::from(month.saturating_sub(1))).map_or("", String::as_str);
                format
                    .pattern
                    .replace("{day}", &self.numbers.format(u64::from(day)))
                    .replace("{month_number}", &self.numbers.format(u64::from(month)))
                    .replace("{month}", month_name)
                    .replace("{year}", &self.numbers.digits_only(u64::from(year)))
            }
            None => format!("{year:04}-{month:02}-{day:02}"),
        }
    }

    /// Every plural table, for the search client, which picks forms with `Intl.PluralRules`.
    pub fn plural_tables(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        let mut tables = self.fallback_plurals.clone();
        tables.extend(self.plurals.clone());
        tables
    }
}

/// All languages' UI strings, loaded from `i18n/`.
pub struct I18nSet {
    pub languages: BTreeMap<LangCode, Language>,
    pub warnings: Vec<Warning>,
}

/// Loads the UI strings of each language in `codes` from `i18n_dir`, filling gaps from
/// the default language. A language without a file gets the default's strings, its
/// code as its name, and a warning.
pub fn load(i18n_dir: &Path, codes: &[LangCode], default: &LangCode) -> Result<I18nSet, I18nError> {
    let default_path = i18n_dir.join(format!("{default}.toml"));
    if !default_path.exists() {
        return Err(I18nError::MissingDefault { path: default_path });
    }
    let default_file = read_file(&default_path)?;
    check_plural_forms(&default_path, default, &default_file)?;
    let mut languages = BTreeMap::new();
    let mut warnings = Vec::new();
    for code in codes {
        let path = i18n_dir.join(format!("{code}.toml"));
        let language = if code == default {
            complete(code, default, default_file.clone(), &default_file)
        } else if path.exists() {
            let (file, text) = read_file_and_text(&path)?;
            check_known_keys(&path, &file, &default_file, &default_path)?;
            check_plural_forms(&path, code, &file)?;
            warnings.extend(placeholders::mismatches(&path, &text, &file.strings, &default_file.strings));
            let missing = missing_keys(&file, &default_file);
            if !missing.is_empty() {
                warnings.push(Warning {
                    message: format!(
                        "{}: {} UI string(s) missing, shown in {default} instead: {}",
                        path.display(),
                        missing.len(),
                        missing.join(", ")
                    ),
                });
            }
            complete(code, default, file, &default_file)
        } else {
            warnings.push(Warning {
                message: format!(
                    "{}: no UI strings for {code}; the interface is shown in {default} (run `imrf-site new-language {code}` to create the file)",
                    path.display()
                ),
            });
            let mut language = complete(code, default, default_file.clone(), &default_file);
            language.name = code.to_string();
            language.plurals.clear();
            language.fallback_plurals = default_file.plurals.clone();
            language
        };
        languages.insert(code.clone(), language);
    }
    Ok(I18nSet { languages, warnings })
}

fn read_file(path: &Path) -> Result<I18nFile, I18nError> {
    read_file_and_text(path).map(|(file, _)| file)
}

/// The file parsed, and its text (for checks that place what they find on a line).
fn read_file_and_text(path: &Path) -> Result<(I18nFile, String), I18nError> {
    let bytes = crate::files::read(path).map_err(|source| I18nError::Read { path: path.to_path_buf(), source })?;
    let text = String::from_utf8(bytes).map_err(|_| I18nError::Invalid {
        location: Location::file(path),
        message: "the file is not valid UTF-8".to_string(),
    })?;
    let file = toml::from_str(&text).map_err(|error| {
        let (location, message) = toml_problem(path, &text, &error, 1);
        I18nError::Invalid { location, message }
    })?;
    Ok((file, text))
}

fn check_known_keys(path: &Path, file: &I18nFile, default: &I18nFile, default_path: &Path) -> Result<(), I18nError> {
    let unknown_strings: Vec<String> =
        file.strings.keys().filter(|k| !default.strings.contains_key(*k)).cloned().collect();
    if !unknown_strings.is_empty() {
        return Err(I18nError::UnknownKeys {
            path: path.to_path_buf(),
            what: "string(s)",
            keys: unknown_strings,
            default: default_path.to_path_buf(),
        });
    }
    let unknown_plurals: Vec<String> =
        file.plurals.keys().filter(|k| !default.plurals.contains_key(*k)).cloned().collect();
    if !unknown_plurals.is_empty() {
        return Err(I18nError::UnknownKeys {
            path: path.to_path_buf(),
            what: "plural(s)",
            keys: unknown_plurals,
            default: default_path.to_path_buf(),
        });
    }
    Ok(())
}

/// Every plural table must give each category the language uses (and no other), since
/// a missing form would show the wrong grammar.
fn check_plural_forms(path: &Path, code: &LangCode, file: &I18nFile) -> Result<(), I18nError> {
    if file.plurals.is_empty() {
        return Ok(());
    }
    let rules =
        rules_for(code).ok_or_else(|| I18nError::NoPluralRules { path: path.to_path_buf(), lang: code.clone() })?;
    let needed = categories_for(&rules);
    for (key, forms) in &file.plurals {
        let given = forms.keys().cloned().collect::<Vec<_>>().join(", ");
        if let Some(category) = needed.iter().find(|c| !forms.contains_key(**c)) {
            return Err(I18nError::MissingPluralForm {
                path: path.to_path_buf(),
                key: key.clone(),
                category: (*category).to_string(),
                lang: code.clone(),
                given,
            });
        }
        // A form the rules do not use is harmless (CLDR versions differ, e.g. `many` for
        // French millions), but a name that is no CLDR category at all is a typo.
        if let Some(extra) = forms.keys().find(|c| !CLDR_CATEGORIES.contains(&c.as_str())) {
            return Err(I18nError::Invalid {
                location: Location::file(path),
                message: format!(
                    "plural `{key}` has a form `{extra}`, which is not a CLDR plural category ({}); {code} uses {}",
                    CLDR_CATEGORIES.join(", "),
                    needed.join(", ")
                ),
            });
        }
    }
    Ok(())
}

fn missing_keys(file: &I18nFile, default: &I18nFile) -> Vec<String> {
    let strings = default.strings.keys().filter(|k| !file.strings.contains_key(*k));
    let plurals = default.plurals.keys().filter(|k| !file.plurals.contains_key(*k)).map(|k| format!("plurals.{k}"));
    strings.cloned().chain(plurals).collect()
}

fn complete(code: &LangCode, default_code: &LangCode, file: I18nFile, default: &I18nFile) -> Language {
    let mut strings = default.strings.clone();
    strings.extend(file.strings);
    let fallback_plurals = default
        .plurals
        .iter()
        .filter(|(k, _)| !file.plurals.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Language {
        code: code.clone(),
        name: file.language.name,
        dir: file.language.dir,
        numbers: file.language.numbers,
        dates: file.language.dates,
        strings,
        plurals: file.plurals,
        fallback_plurals,
        default_code: default_code.clone(),
    }
}

/// The CLDR plural categories `lang` uses, for scaffolding a new language's file.
pub fn categories_of(lang: &LangCode) -> Vec<&'static str> {
    rules_for(lang).map(|rules| categories_for(&rules)).unwrap_or_else(|| vec!["one", "other"])
}

/// Every key a translator must provide, for `new-language` and `status`.
pub fn required_keys(i18n_dir: &Path, default: &LangCode) -> Result<(Vec<String>, Vec<String>), I18nError> {
    let file = read_file(&i18n_dir.join(format!("{default}.toml")))?;
    Ok((file.strings.into_keys().collect(), file.plurals.into_keys().collect()))
}

/// The keys `code`'s file lacks, or `None` when it has no file at all.
pub fn missing_for(i18n_dir: &Path, code: &LangCode, default: &LangCode) -> Result<Option<Vec<String>>, I18nError> {
    let path = i18n_dir.join(format!("{code}.toml"));
    if !path.exists() {
        return Ok(None);
    }
    let file = read_file(&path)?;
    let default_file = read_file(&i18n_dir.join(format!("{default}.toml")))?;
    Ok(Some(missing_keys(&file, &default_file)))
}

/// The UI strings `i18n/<code>.toml` itself gives (none of the default language's that
/// stand in for missing ones); `None` when there is no such file.
pub fn own_strings(i18n_dir: &Path, code: &LangCode) -> Result<Option<BTreeMap<String, String>>, I18nError> {
    let path = i18n_dir.join(format!("{code}.toml"));
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(read_file(&path)?.strings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(tag: &str) -> LangCode {
        LangCode::parse(tag).unwrap()
    }

    #[test]
    fn cldr_plural_categories() {
        let ar = code("ar");
        let got: Vec<_> = [0, 1, 2, 3, 11, 100].iter().map(|n| plural_category(&ar, *n)).collect();
        assert_eq!(got, ["zero", "one", "two", "few", "many", "other"]);
        let ru = code("ru");
        let got: Vec<_> = [1, 2, 5, 21, 22, 25].iter().map(|n| plural_category(&ru, *n)).collect();
        assert_eq!(got, ["one", "few", "many", "one", "few", "many"]);
        assert_eq!(plural_category(&code("zh"), 1), "other");
        assert_eq!(plural_category(&code("pt-BR"), 0), "one");
    }

    #[test]
    fn numbers_use_the_language_digits_and_grouping() {
        let english = NumberFormat::default();
        assert_eq!(english.format(7), "7");
        assert_eq!(english.format(1234), "1,234");
        assert_eq!(english.format(1_234_567), "1,234,567");
        let spanish = NumberFormat { group_separator: ".".into(), min_grouping_digits: 2, ..NumberFormat::default() };
        assert_eq!(spanish.format(1234), "1234");
        assert_eq!(spanish.format(12345), "12.345");
        let arabic = NumberFormat {
            digits: "٠١٢٣٤٥٦٧٨٩".chars().collect(),
            group_separator: "٬".into(),
            min_grouping_digits: 1,
        };
        assert_eq!(arabic.format(2022), "٢٬٠٢٢");
        assert_eq!(arabic.digits_only(2022), "٢٠٢٢");
    }

    #[test]
    fn categories_in_use_per_language() {
        let names = |tag: &str| categories_for(&rules_for(&code(tag)).unwrap());
        assert_eq!(names("en"), ["one", "other"]);
        assert_eq!(names("ar"), ["few", "many", "one", "other", "two", "zero"]);
        assert_eq!(names("ru"), ["few", "many", "one", "other"]);
        assert_eq!(names("zh"), ["other"]);
    }
}
