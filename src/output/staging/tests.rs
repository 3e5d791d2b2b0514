use super::*;

#[test]
fn paths_from_a_manifest_or_the_cache_stay_inside_the_folder() {
    for inside in ["a", "en/index.html", "en/search/s/0.json", ".imrf-site-manifest"] {
        assert!(stays_inside(inside), "{inside}");
    }
    for outside in ["", "/etc/passwd", "../x", "en/../../x", "en//x", "./x", "en/."] {
        assert!(!stays_inside(outside), "{outside}");
    }
}

#[test]
fn removing_pages_removes_the_folders_they_leave_empty_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let owned: BTreeSet<String> =
        ["en/guide/a/index.html", "en/guide/b/index.html", "en/kept/index.html", "../outside.txt"]
            .map(String::from)
            .into();
    for path in owned.iter().filter(|p| stays_inside(p)) {
        std::fs::create_dir_all(dir.path().join(path).parent().unwrap()).unwrap();
        std::fs::write(dir.path().join(path), "page").unwrap();
    }
    let outside = dir.path().join("..").join(format!("outside-{}.txt", std::process::id()));
    std::fs::write(&outside, "someone's").unwrap();
    let owned: BTreeSet<String> = owned
        .into_iter()
        .map(|p| if p.starts_with("..") { format!("../outside-{}.txt", std::process::id()) } else { p })
        .collect();
    let written: BTreeSet<String> = ["en/kept/index.html".to_string()].into();
    remove_unwritten(dir.path(), &owned, &written).unwrap();
    assert!(!dir.path().join("en/guide").exists(), "two pages gone, their folders too");
    assert!(dir.path().join("en/kept/index.html").exists());
    assert!(outside.exists(), "a path leading outside is never removed");
    std::fs::remove_file(outside).unwrap();
}

#[test]
fn a_new_file_replaces_a_folder_or_a_linked_file_without_writing_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared.html");
    std::fs::write(&shared, "published").unwrap();
    let link = dir.path().join("link.html");
    std::fs::hard_link(&shared, &link).unwrap();
    write_new(&link, b"new").unwrap();
    assert_eq!(std::fs::read_to_string(&shared).unwrap(), "published", "the linked file is left as it was");
    assert_eq!(std::fs::read_to_string(&link).unwrap(), "new");
    std::fs::create_dir_all(dir.path().join("was-a-folder/inside")).unwrap();
    write_new(&dir.path().join("was-a-folder"), b"file").unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join("was-a-folder")).unwrap(), "file");
}

/// A build with the cache, beginning a minute from now so that every folder's stamp is
/// trusted: `files` written, `reused` (path, content) taken from the directories.
fn build_at_a_later_time(
    out: &Path,
    root: &Path,
    known: Outputs,
    files: &[(&str, &str)],
    reused: &[(&str, &str)],
) -> Outputs {
    let later = SystemTime::now() + std::time::Duration::from_secs(60);
    let given = known.published.clone();
    let staging = Staging::begin_at(out, root, later, || Some(known)).unwrap();
    let wanted: Vec<(&str, u128)> = reused.iter().map(|(path, text)| (*path, content_hash(text.as_bytes()))).collect();
    assert!(staging.reuse(&wanted).unwrap().iter().all(|found| *found));
    staging
        .write(&files.iter().map(|(path, text)| OutputFile::new(*path, text.to_string())).collect::<Vec<_>>())
        .unwrap();
    let finished = staging.finish().unwrap();
    let outputs = finished.outputs.unwrap();
    // The output the build began with is kept, with the records it was given, when it
    // was given any: the cache then saves them as it read them.
    assert_eq!(finished.kept_as_given, !given.is_empty());
    if finished.kept_as_given {
        assert_eq!(outputs.previous, given);
    }
    outputs
}

/// A site's root folder (with its `site/`) in a temporary folder, and its output's path.
fn a_site_root() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("site")).unwrap();
    let out = root.join("public");
    (dir, root, out)
}

#[test]
fn each_folder_keeps_the_stamp_it_was_found_with_until_the_build_changes_its_names() {
    let (_dir, root, out) = a_site_root();
    let first = [
        ("index.html", "home"),
        ("kept/index.html", "kept"),
        ("kept/deep/index.html", "deep"),
        ("edited/index.html", "old"),
        ("linked/index.html", "one"),
        ("gone/index.html", "gone"),
        ("thinned/a.html", "a"),
        ("thinned/b.html", "b"),
    ];
    let outputs = build_at_a_later_time(&out, &root, Outputs::default(), &first, &[]);
    let mut second = first;
    second[4] = ("linked/index.html", "two");
    let outputs = build_at_a_later_time(&out, &root, outputs, &second, &[]);
    // The third starts from the first's output, kept beside the second's.
    let third = [
        ("index.html", "home"),
        ("kept/index.html", "kept"),
        ("kept/deep/index.html", "deep"),
        ("edited/index.html", "new"),
        ("thinned/a.html", "a"),
        ("new/index.html", "new"),
        ("kept/added/index.html", "added"),
    ];
    let outputs = build_at_a_later_time(&out, &root, outputs, &third, &[("linked/index.html", "two")]);
    let mut folders: Vec<&str> = outputs.published_folders.keys().map(String::as_str).collect();
    folders.sort_unstable();
    assert_eq!(folders, ["", "edited", "kept", "kept/added", "kept/deep", "linked", "new", "thinned"]);
    for (folder, stamp) in &outputs.published_folders {
        let now = crate::files::Stamp::of(&std::fs::symlink_metadata(out.join(folder)).unwrap());
        assert_eq!(*stamp, Some(now), "{folder:?}");
    }
}

#[test]
fn a_file_that_becomes_a_folder_and_back_is_published_with_the_cache_on() {
    let (_dir, root, out) = a_site_root();
    let as_file = [("index.html", "home"), ("p", "a file")];
    let as_folder = [("index.html", "home"), ("p/x", "in a folder")];
    let mut outputs = Outputs::default();
    // Each build from the third on starts from the output before last: a file where
    // this one makes a folder, then a folder where it writes a file.
    for (n, files) in [as_file, as_file, as_folder, as_folder, as_file].iter().enumerate() {
        outputs = build_at_a_later_time(&out, &root, outputs, files, &[]);
        for (path, text) in files {
            assert_eq!(std::fs::read_to_string(out.join(path)).unwrap(), *text, "build {n}");
        }
    }
}
