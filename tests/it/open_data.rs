//! The note as open data: each language's `/<lang>/note.json` follows the JSON Schema
//! published beside it (`/note.schema.json`, checked by the jsonschema crate), and says
//! what the pages say: the same block and question ids in the same order, footnotes with
//! the addresses the pages link to. A site that does not ask for it publishes none.

use serde_json::Value;

use crate::support::SiteTest;

/// The `id="p-..."` and `id="q-..."` values of an HTML page, in order.
fn ids(html: &str, prefix: &str) -> Vec<String> {
    let marker = format!("id=\"{prefix}");
    html.split(marker.as_str()).skip(1).map(|rest| format!("{prefix}{}", &rest[..rest.find('"').unwrap()])).collect()
}

#[test]
fn every_language_publishes_the_note_as_data_that_follows_its_schema() {
    let site = SiteTest::bundled();
    site.build().ok();
    let schema: Value = serde_json::from_str(&site.read("note.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();

    for code in ["en", "ar", "es", "fr", "ru", "zh"] {
        let note: Value = serde_json::from_str(&site.read(&format!("{code}/note.json"))).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&note).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{code}/note.json does not follow the schema:\n{}", errors.join("\n"));
        assert_eq!(note["language"], code);
        assert_eq!(note["$schema"], "https://example.org/note.schema.json");
        let pages = note["pages"].as_array().unwrap();
        assert_eq!(pages.len(), 7, "{code}: the home and six objectives");
        assert_eq!(pages[0]["kind"], "home");
        let numbers: Vec<u64> = pages[1..].iter().map(|p| p["objective"]["number"].as_u64().unwrap()).collect();
        assert_eq!(numbers, [14, 15, 16, 19, 20, 22], "{code}: objectives in their order");
        let expected_translation = if code == "en" { "original" } else { "current" };
        for page in pages {
            assert_eq!(page["translation"], expected_translation, "{code}: {}", page["url"]);
            let path = page["url"].as_str().unwrap().trim_start_matches("https://example.org/");
            let html = site.read(&format!("{path}index.html"));
            let listed = |field: &str, key: &str| -> Vec<String> {
                page[field].as_array().unwrap().iter().map(|item| item[key].as_str().unwrap().to_string()).collect()
            };
            assert_eq!(listed("blocks", "id"), ids(&html, "p-"), "{path}: the page's blocks");
            let questions: Vec<String> = ids(&html, "q-").into_iter().filter(|id| !id.starts_with("q-group")).collect();
            assert_eq!(listed("questions", "id"), questions, "{path}: the page's questions");
            for footnote in page["footnotes"].as_array().unwrap() {
                for url in footnote["urls"].as_array().unwrap() {
                    let url = url.as_str().unwrap();
                    assert!(html.contains(&format!("href=\"{url}\"")), "{path}: the page does not link {url}");
                }
            }
        }
    }
    let french: Value = serde_json::from_str(&site.read("fr/note.json")).unwrap();
    let urls: Vec<&Value> =
        french["pages"].as_array().unwrap().iter().flat_map(|p| p["footnotes"].as_array().unwrap()).collect();
    assert_eq!(urls.len(), 3, "the note's three footnotes");

    // The validator does reject what the schema does not allow.
    let mut broken = french.clone();
    broken["pages"][1]["blocks"][0]["id"] = Value::from("paragraph one");
    assert!(!validator.is_valid(&broken), "a block id out of the pattern passes the schema");

    let without = SiteTest::fixture("basic");
    without.build().ok();
    assert!(!without.public().join("en/note.json").exists() && !without.public().join("note.schema.json").exists());
}
