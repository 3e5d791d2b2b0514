use super::*;

/// A whole site written in one batch.
fn write_site(output: &Path, root: &Path, files: &[OutputFile]) -> Result<(), OutputError> {
    let staging = Staging::begin(output, root)?;
    staging.write(files)?;
    staging.finish().map(drop)
}

#[test]
fn replaces_its_own_output_and_refuses_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("site")).unwrap();
    let out = root.join("public");
    write_site(&out, &root, &[OutputFile::new("a/index.html", "one")]).unwrap();
    write_site(&out, &root, &[OutputFile::new("b.html", "two")]).unwrap();
    assert!(!out.join("a/index.html").exists());
    assert_eq!(std::fs::read_to_string(out.join("b.html")).unwrap(), "two");

    std::fs::write(out.join("CNAME"), "example.org").unwrap();
    let error = write_site(&out, &root, &[OutputFile::new("c.html", "three")]).unwrap_err();
    assert!(error.to_string().contains("CNAME"), "{error}");
    assert_eq!(std::fs::read_to_string(out.join("b.html")).unwrap(), "two");
    assert!(out.join("CNAME").exists());
}

fn site_in(dir: &Path) -> (PathBuf, PathBuf) {
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("site")).unwrap();
    let out = root.join("public");
    write_site(&out, &root, &[OutputFile::new("a/index.html", "one")]).unwrap();
    (root, out)
}

#[test]
fn a_build_written_in_batches_replaces_the_site_only_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = site_in(dir.path());
    let staging_dir = sibling(&out, "imrf-site-staging");

    let staging = Staging::begin(&out, &root).unwrap();
    staging.write(&[OutputFile::new("en/a/index.html", "a")]).unwrap();
    staging.write(&[OutputFile::new("en/b/index.html", "b"), OutputFile::new("en/search/s/0.json", "{}")]).unwrap();
    let error = staging.write(&[OutputFile::new("en/a/index.html", "again")]).unwrap_err();
    assert!(matches!(error, OutputError::DuplicatePath(ref path) if path == "en/a/index.html"), "{error}");
    // Given up (a failed build): the previous site stays, the staging folder goes.
    drop(staging);
    assert_eq!(std::fs::read_to_string(out.join("a/index.html")).unwrap(), "one");
    assert!(!staging_dir.exists());

    let staging = Staging::begin(&out, &root).unwrap();
    staging.write(&[OutputFile::new("en/a/index.html", "a")]).unwrap();
    staging.write(&[OutputFile::new("en/b/index.html", "b")]).unwrap();
    staging.finish().unwrap();
    assert!(!out.join("a/index.html").exists());
    assert_eq!(std::fs::read_to_string(out.join("en/b/index.html")).unwrap(), "b");
    let manifest = read_manifest(&out).unwrap().unwrap();
    assert_eq!(manifest.into_iter().collect::<Vec<_>>(), ["en/a/index.html", "en/b/index.html"]);
    assert!(!staging_dir.exists());
}

#[test]
fn batches_written_at_once_share_new_folders() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = site_in(dir.path());
    let staging = Staging::begin(&out, &root).unwrap();
    // Both batches of a pair need the same new folders: neither may count on a folder
    // the other has claimed but not made yet.
    for n in 0..200 {
        let (pages, index) = rayon::join(
            || staging.write(&[OutputFile::new(format!("{n}/search/index.html"), "page")]),
            || staging.write(&[OutputFile::new(format!("{n}/search/d/0.json"), "[]")]),
        );
        pages.unwrap();
        index.unwrap();
    }
    staging.finish().unwrap();
    assert_eq!(std::fs::read_to_string(out.join("199/search/d/0.json")).unwrap(), "[]");
}

#[test]
fn leftovers_of_a_build_killed_at_any_step_are_cleared_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = site_in(dir.path());
    let staging = sibling(&out, "imrf-site-staging");
    let old = sibling(&out, "imrf-site-old");
    let next = [OutputFile::new("b.html", "two")];
    type Leave = fn(&Path);
    let states: [(&str, Leave); 4] = [
        ("killed while writing the staging directory", |s| {
            std::fs::create_dir_all(s.join("x")).unwrap();
            std::fs::write(s.join(STAGING_MARKER), "").unwrap();
            std::fs::write(s.join("x/half.html"), "<p").unwrap();
        }),
        ("killed after finishing staging, before the swap", |s| {
            std::fs::create_dir_all(s).unwrap();
            std::fs::write(s.join(MANIFEST), "b.html\n").unwrap();
            std::fs::write(s.join("b.html"), "two").unwrap();
        }),
        ("killed while removing the previous site after the swap", |s| {
            std::fs::create_dir_all(s).unwrap();
            std::fs::write(s.join(MANIFEST), "a/index.html\n").unwrap();
        }),
        ("killed right after creating the staging directory", |s| std::fs::create_dir_all(s).unwrap()),
    ];
    for (what, leave) in states {
        leave(&staging);
        write_site(&out, &root, &next).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(std::fs::read_to_string(out.join("b.html")).unwrap(), "two", "{what}");
        assert!(!staging.exists(), "{what}");
        write_site(&out, &root, &[OutputFile::new("a/index.html", "one")]).unwrap();
    }

    // Killed between moving the previous site aside and moving the new one in (only
    // where directories cannot be exchanged): the next build puts it back first.
    std::fs::rename(&out, &old).unwrap();
    write_site(&out, &root, &next).unwrap();
    assert_eq!(std::fs::read_to_string(out.join("b.html")).unwrap(), "two");
    assert!(!old.exists() && !staging.exists());

    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(staging.join("mine.txt"), "not the tool's").unwrap();
    let error = write_site(&out, &root, &next).unwrap_err();
    assert!(error.to_string().contains("did not create"), "{error}");
    assert!(staging.join("mine.txt").exists(), "a folder the tool did not make is never deleted");
}

#[test]
fn refuses_source_folders_and_foreign_directories() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("site")).unwrap();
    assert!(check_output_place(&root, &root).is_err());
    assert!(check_output_place(dir.path(), &root).is_err());
    assert!(check_output_place(&root.join("site/out"), &root).is_err());
    let foreign = dir.path().join("docs");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    assert!(check_output_place(&foreign, &root).is_ok());
    let error = check_output_files(&foreign, None).unwrap_err();
    assert!(error.to_string().contains("not written by imrf-site"), "{error}");
}
