use super::*;

fn precache(base_path: &str) -> Precache {
    Precache::new(
        base_path,
        ["en", "fr"],
        ["/assets/main.1.css", "/assets/site.2.js", "/assets/stem-french.3.js", "/favicon.svg", "/bg.png"],
    )
}

fn files(base: &str) -> Vec<OutputFile> {
    vec![
        OutputFile::new(
            "en/index.html",
            format!("<link href=\"{base}assets/main.1.css\"><script src=\"{base}assets/site.2.js\">"),
        ),
        OutputFile::new("en/objective-14/index.html", format!("<link rel=\"icon\" href=\"{base}favicon.svg\">")),
        OutputFile::new("en/search/manifest.json", "{}"),
        OutputFile::new("fr/index.html", format!("<link href=\"{base}assets/main.1.css\">")),
        OutputFile::new("fr/search/manifest.json", format!("{{\"stemmer\":\"{base}assets/stem-french.3.js\"}}")),
        OutputFile::new("assets/main.1.css", format!("body{{background:url({base}bg.png)}}")),
        OutputFile::new("assets/site.2.js", "1"),
        OutputFile::new("assets/stem-french.3.js", "2"),
        OutputFile::new("favicon.svg", "<svg/>"),
        OutputFile::new("bg.png", "png"),
        OutputFile::new("index.html", "the language picker"),
        OutputFile::new("sitemap.xml", "<urlset/>"),
    ]
}

fn record(precache: &Precache, files: &[OutputFile]) {
    precache.record(files.par_iter().map(|f| (f.path.as_str(), &*f.bytes)));
}

/// The URLs and version a worker holds, read back from its script.
fn listed(worker: &OutputFile) -> (String, Vec<String>) {
    let script = String::from_utf8(worker.bytes.to_vec()).unwrap();
    let version = script.split("var VERSION = \"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let list = script.split("var FILES = ").nth(1).unwrap().split(";\n").next().unwrap();
    (version, serde_json::from_str(list).unwrap())
}

#[test]
fn a_language_keeps_its_own_files_and_the_assets_they_name() {
    let precache = precache("/");
    record(&precache, &files("/"));
    let workers = precache.service_workers();
    let paths: Vec<&str> = workers.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(paths, ["en/sw.js", "fr/sw.js"]);
    let (_, en) = listed(&workers[0]);
    // The stylesheet's image is kept because the stylesheet names it; French's stemmer
    // and the files outside the language folders are not English's.
    assert_eq!(
        en,
        [
            "/assets/main.1.css",
            "/assets/site.2.js",
            "/bg.png",
            "/en/",
            "/en/objective-14/",
            "/en/search/manifest.json",
            "/favicon.svg"
        ]
    );
    let (_, fr) = listed(&workers[1]);
    assert_eq!(fr, ["/assets/main.1.css", "/assets/stem-french.3.js", "/bg.png", "/fr/", "/fr/search/manifest.json"]);
    assert!(workers[0].bytes.ends_with(WORKER.as_bytes()));
}

#[test]
fn urls_start_with_the_base_path() {
    let precache = precache("/imrf/");
    record(&precache, &files("/imrf/"));
    let (_, en) = listed(&precache.service_workers()[0]);
    assert!(en.contains(&"/imrf/en/objective-14/".to_string()), "{en:?}");
    assert!(en.contains(&"/imrf/assets/site.2.js".to_string()), "{en:?}");
    assert!(en.iter().all(|url| url.starts_with("/imrf/")), "{en:?}");
}

#[test]
fn the_version_changes_with_any_listed_file_and_only_with_those() {
    let version_of = |files: &[OutputFile], language: usize| {
        let precache = precache("/");
        record(&precache, files);
        listed(&precache.service_workers()[language]).0
    };
    let original = files("/");
    let (en, fr) = (version_of(&original, 0), version_of(&original, 1));
    assert_ne!(en, fr);
    let edited = |path: &str| {
        let mut changed = original.clone();
        let file = changed.iter_mut().find(|f| f.path == path).unwrap();
        file.bytes = [&file.bytes[..], b" "].concat().into();
        changed
    };
    assert_ne!(version_of(&edited("en/objective-14/index.html"), 0), en, "a page of the language");
    assert_ne!(version_of(&edited("assets/site.2.js"), 0), en, "a script its pages load");
    assert_ne!(version_of(&edited("bg.png"), 0), en, "an image its stylesheet uses");
    assert_eq!(version_of(&edited("fr/index.html"), 0), en, "another language's page");
    assert_eq!(version_of(&edited("assets/stem-french.3.js"), 0), en, "an asset its pages do not use");
    assert_eq!(version_of(&edited("sitemap.xml"), 0), en, "a file outside the language folders");
    let mut added = original.clone();
    added.push(OutputFile::new("en/note.pdf", "%PDF"));
    assert_ne!(version_of(&added, 0), en, "a new file in the language folder");
}

#[test]
fn the_workers_do_not_depend_on_the_order_files_are_recorded_in() {
    let in_order = precache("/");
    record(&in_order, &files("/"));
    let reversed = precache("/");
    let mut backwards = files("/");
    backwards.reverse();
    for file in &backwards {
        record(&reversed, std::slice::from_ref(file));
    }
    assert_eq!(in_order.service_workers(), reversed.service_workers());
}

#[test]
fn a_worker_does_not_list_itself() {
    let precache = precache("/");
    let mut with_workers = files("/");
    with_workers.push(OutputFile::new("en/sw.js", "an older worker"));
    record(&precache, &with_workers);
    let (_, en) = listed(&precache.service_workers()[0]);
    assert!(!en.iter().any(|url| url.ends_with("sw.js")), "{en:?}");
}
