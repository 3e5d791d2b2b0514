//! Hardening: input that must be accepted however odd (a byte-order mark, CRLF line
//! endings, a 50 MB page, nesting 120,000 deep), faults (builds killed with SIGKILL at
//! random moments, files vanishing while a build reads them) and reproducibility (any
//! thread count, any file-system order). Input that must be refused is in errors.rs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{SiteTest, snapshot_tree};

type Tree = Vec<(String, Vec<u8>)>;

/// `imrf-site <args> --root <root>`, with its output captured.
fn imrf(root: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imrf-site"));
    command.args(args).arg("--root").arg(root);
    command
}

/// A small deterministic random number generator (xorshift64*), so that every run
/// injects the same faults.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// Every Markdown and TOML source of a site, for rewriting them all.
fn text_sources(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.join("site"), root.join("i18n")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "md" || e == "toml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

#[test]
fn byte_order_marks_and_crlf_line_endings_build_the_same_site_as_lf() {
    let lf = SiteTest::fixture("basic");
    lf.build().ok();
    let expected = snapshot_tree(&lf.public());

    for (name, rewrite) in [
        ("CRLF", (|text: &str| text.replace('\n', "\r\n")) as fn(&str) -> String),
        ("BOM", |text: &str| format!("\u{feff}{text}")),
        ("BOM and CRLF", |text: &str| format!("\u{feff}{}", text.replace('\n', "\r\n"))),
    ] {
        let site = SiteTest::fixture("basic");
        let sources = text_sources(site.root());
        assert!(sources.len() > 10, "{sources:?}");
        for path in sources {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, rewrite(&text)).unwrap();
        }
        site.build().ok();
        let got = snapshot_tree(&site.public());
        assert_eq!(got.len(), expected.len(), "{name}");
        for ((path, bytes), (_, expected_bytes)) in got.iter().zip(&expected) {
            assert!(bytes == expected_bytes, "{name}: {path} differs from the LF build");
        }
    }
}

#[test]
fn a_50_mb_page_builds_in_bounded_memory() {
    let site = SiteTest::fixture("basic");
    // One language, so the page is rendered and indexed once, not again as a fallback.
    site.remove("site/content/fr");
    let paragraph = "Migrants have access to basic services, consular protection and the portability of \
                     social security entitlements, as the [Compact](https://example.org/gcm) asks.\n\n";
    let mut page = String::from("+++\ntitle = \"About\"\n+++\n\n");
    let mut n = 0;
    while page.len() < 50 * 1024 * 1024 {
        n += 1;
        match n % 40 {
            0 => page.push_str(&format!("## Section {n}\n\n")),
            7 => page.push_str("- one *item*\n- two `items`\n  - nested\n\n"),
            _ => page.push_str(paragraph),
        }
    }
    page.push_str("The last paragraph.\n");
    site.write("site/content/en/about.md", &page);

    // The address space is capped at 30 times the page's size: running out aborts the
    // build, so a copy too many (or a quadratic step) fails this test. jemalloc is told
    // to unmap what it frees rather than keep the address space for later, so that the
    // cap measures the memory in use.
    let limit_kib = 30 * 50 * 1024;
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {limit_kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_imrf-site"))
        .args(["build", "--root"])
        .arg(site.root())
        .env("RAYON_NUM_THREADS", "2")
        .env("_RJEM_MALLOC_CONF", "retain:false")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let html = std::fs::read(site.public().join("en/about/index.html")).unwrap();
    assert!(html.len() > page.len(), "{} bytes", html.len());
    let tail = String::from_utf8_lossy(&html[html.len() - 100_000..]).into_owned();
    assert!(tail.contains(">The last paragraph.</p>"), "the page is complete");
}

#[test]
fn nesting_120000_deep_builds_without_overflowing_the_stack() {
    let site = SiteTest::fixture("basic");
    let depth = 120_000;
    let lists = "- ".repeat(depth);
    let quotes = "> ".repeat(depth);
    let mixed = "> - ".repeat(depth / 2);
    let brackets = "[".repeat(depth);
    let emphasis = "*a ".repeat(depth / 10);
    site.write(
        "site/content/en/about.md",
        format!(
            "+++\ntitle = \"About\"\n+++\n\n{lists}list\n\n{quotes}quote\n\n{mixed}mixed\n\n{brackets}\n\n{emphasis}\n"
        ),
    );
    site.build().ok();
    let html = site.read("en/about/index.html");
    assert!(html.matches("<blockquote").count() >= depth + depth / 2, "every quote level is kept");
    assert!(html.matches("<ul>").count() >= depth + depth / 2, "every list level is kept");
}

/// Builds killed with SIGKILL at seeded random moments: after each kill the output is
/// either the previous site, untouched, or the complete new one; and the next build
/// succeeds and leaves nothing behind. A build that finishes before its kill lands
/// halves the range the next delay is drawn from, so ten kills always land.
#[test]
fn builds_killed_at_random_moments_lose_nothing() {
    use std::os::unix::process::ExitStatusExt;

    let site = SiteTest::bundled();
    let started = Instant::now();
    site.build().ok();
    let mut upper = started.elapsed().as_micros() as u64 * 5 / 4;
    let mut previous = snapshot_tree(&site.public());
    let mut rng = Rng(0x1a2b_3c4d_5e6f_7788);
    let page = site.root().join("site/content/en/objective-14.md");
    let original = std::fs::read_to_string(&page).unwrap();
    let (mut killed, mut attempts) = (0, 0);
    while killed < 10 {
        attempts += 1;
        assert!(attempts <= 40, "only {killed} kills landed in 40 attempts");
        // Change the sources so that the new site differs from the one in place.
        std::fs::write(&page, format!("{original}\nRevision {attempts}.\n")).unwrap();

        let mut child = imrf(site.root(), &["build"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let delay = rng.below(upper);
        std::thread::sleep(Duration::from_micros(delay));
        child.kill().unwrap();
        let status = child.wait().unwrap();
        if status.signal() == Some(9) {
            killed += 1;
        } else {
            assert!(status.success(), "attempt {attempts}: the build failed on its own");
            upper = (upper / 2).max(1);
        }
        let after_kill = snapshot_tree(&site.public());

        site.build().ok();
        let complete = snapshot_tree(&site.public());
        assert!(
            after_kill == previous || after_kill == complete,
            "attempt {attempts}: killed after {delay} µs, the output is neither the previous site nor the new one"
        );
        assert_ne!(previous, complete, "attempt {attempts}: the sources changed, so must the site");
        previous = complete;
        let leftovers: Vec<_> = std::fs::read_dir(site.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            // The build cache and the output it keeps for the next build are not leftovers.
            .filter(|name| {
                name.contains("imrf-site") && name != ".imrf-site-cache" && name != ".public.imrf-site-previous"
            })
            .collect();
        assert!(leftovers.is_empty(), "attempt {attempts}: {leftovers:?} left behind");
    }
    eprintln!("faults injected: {killed} builds killed with SIGKILL ({attempts} attempts)");
}

/// A page that appears and disappears while builds run: each build either succeeds
/// with one of the two complete sites or fails naming the file, leaving the previous
/// output as it was.
#[test]
fn a_file_vanishing_mid_build_fails_cleanly_or_not_at_all() {
    let site = SiteTest::fixture("basic");
    let page = site.root().join("site/content/en/flicker.md");
    let text = "+++\ntitle = \"Flicker\"\n+++\n\nNow you see me.\n";
    let mut complete: Vec<Tree> = Vec::new();
    for present in [false, true] {
        if present {
            std::fs::write(&page, text).unwrap();
        }
        site.build().ok();
        complete.push(snapshot_tree(&site.public()));
    }

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flicker = {
        let (stop, page) = (stop.clone(), page.clone());
        let staged = page.with_file_name(".flicker.md");
        std::thread::spawn(move || {
            let mut toggles = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && toggles < 1_000_000 {
                if page.exists() {
                    std::fs::remove_file(&page).unwrap();
                } else {
                    std::fs::write(&staged, text).unwrap();
                    std::fs::rename(&staged, &page).unwrap();
                }
                toggles += 1;
                std::thread::sleep(Duration::from_micros(100));
            }
        })
    };
    let mut failures = 0;
    for _ in 0..12 {
        let before = snapshot_tree(&site.public());
        let run = site.build();
        let after = snapshot_tree(&site.public());
        if run.success() {
            assert!(complete.contains(&after), "a build that succeeded left an incomplete site");
        } else {
            failures += 1;
            let message = run.stderr();
            assert!(message.contains("site/content/en/flicker.md"), "{message}");
            assert!(message.contains("No such file or directory"), "{message}");
            assert_eq!(run.output.status.code(), Some(1), "{message}");
            assert!(before == after, "a failed build changed the output");
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    flicker.join().unwrap();
    eprintln!("faults injected: {failures} of 12 builds saw a file vanish");
}

/// Copies the files of `from` into `to`, creating them in the order `order` gives.
fn copy_in_order(from: &Path, to: &Path, order: impl Fn(&mut Vec<PathBuf>)) {
    let mut files = Vec::new();
    let mut pending = vec![from.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { pending.push(path) } else { files.push(path) }
        }
    }
    files.sort();
    order(&mut files);
    for file in files {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

fn listing(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

#[test]
fn builds_are_byte_identical_whatever_the_thread_count_or_file_order() {
    let site = SiteTest::bundled();
    let outputs_dir = tempfile::tempdir().unwrap();
    let mut outputs: Vec<(String, Tree)> = Vec::new();
    for threads in ["1", "2", "7"] {
        let output = outputs_dir.path().join(format!("out-{threads}"));
        let run = imrf(site.root(), &["build", "--output", &output.to_string_lossy()])
            .env("RAYON_NUM_THREADS", threads)
            .output()
            .unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        outputs.push((format!("{threads} thread(s)"), snapshot_tree(&output)));
    }

    // tmpfs lists a folder's entries in reverse order of creation, so two copies made in
    // opposite orders are read in opposite orders; elsewhere the test still compares.
    let shm = Path::new("/dev/shm");
    let make = || if shm.is_dir() { tempfile::tempdir_in(shm).unwrap() } else { tempfile::tempdir().unwrap() };
    let (forward, backward) = (make(), make());
    copy_in_order(site.root(), forward.path(), |_| {});
    copy_in_order(site.root(), backward.path(), |files| files.reverse());
    let content = |dir: &Path| listing(&dir.join("site/content/en"));
    if shm.is_dir() {
        assert_ne!(content(forward.path()), content(backward.path()), "the two copies list files in different orders");
    }
    for (name, dir) in [("files created in order", &forward), ("files created in reverse", &backward)] {
        let output = dir.path().join("public");
        let run = imrf(dir.path(), &["build"]).output().unwrap();
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        outputs.push((name.to_string(), snapshot_tree(&output)));
    }
    let (first_name, first) = &outputs[0];
    for (name, tree) in &outputs[1..] {
        let paths = |t: &Tree| t.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
        assert_eq!(paths(first), paths(tree), "{name} vs {first_name}");
        for ((path, a), (_, b)) in first.iter().zip(tree) {
            assert!(a == b, "{path}: {name} differs from {first_name}");
        }
    }
}

/// A translator's page with raw HTML that would run scripts: by default the build
/// publishes it without them and says what it removed, and where; a site that sets
/// `unsafe_html = true` publishes raw HTML as written.
#[test]
fn scripts_event_handlers_and_javascript_links_are_sanitized_by_default() {
    let page = "+++\ntitle = \"À propos\"\n+++\n\nUn texte <abbr title=\"Pacte mondial\">PMM</abbr>.\n\n\
                <script>steal(document.cookie)</script>\n\n\
                <p onclick=\"steal()\">Cliquez</p>\n\n\
                Voir [ce lien](javascript:steal()) et <a href=\"javascript:steal()\">celui-ci</a>.\n";
    let site = SiteTest::fixture("basic");
    site.write("site/content/fr/about.md", page);
    let run = site.build();
    let stdout = run.ok();
    assert!(stdout.starts_with("Built"), "{stdout}");
    let html = site.read("fr/about/index.html");
    let main = &html[html.find("<main").unwrap()..html.find("</main>").unwrap()];
    for bad in ["<script>steal", "onclick", "javascript:"] {
        assert!(!main.contains(bad), "`{bad}` was published:\n{main}");
    }
    assert!(main.contains("<abbr title=\"Pacte mondial\">PMM</abbr>"), "allowed markup is kept:\n{main}");
    assert!(main.contains("<p>Cliquez</p>") && main.contains("celui-ci"), "the text is kept:\n{main}");
    let warnings = run.messages().join("\n").replace(&format!("{}/", site.root().display()), "");
    for expected in [
        "warning: site/content/fr/about.md:7:1: a <script> element was removed by the HTML sanitizer",
        "warning: site/content/fr/about.md:9:1: an event handler attribute (on...=) was removed",
        "warning: site/content/fr/about.md:11:6: a link whose scheme is not http, https, mailto or tel",
        "warning: site/content/fr/about.md:11:39: a URL whose scheme is not http, https, mailto or tel",
    ] {
        assert!(warnings.contains(expected), "expected `{expected}` in:\n{warnings}");
    }

    let config = std::fs::read_to_string(site.root().join("site/config.toml")).unwrap();
    site.write("site/config.toml", format!("{config}unsafe_html = true\n"));
    let run = site.build();
    run.ok();
    assert!(!run.stderr().contains("sanitizer"), "{}", run.stderr());
    let html = site.read("fr/about/index.html");
    for kept in ["<script>steal(document.cookie)</script>", "onclick=\"steal()\"", "href=\"javascript:steal()\""] {
        assert!(html.contains(kept), "`{kept}` should be published as written with unsafe_html = true");
    }
}

/// `new-language` reads the default language's strings and writes new files: it must
/// neither hang on a FIFO nor write through a symbolic link to somewhere else.
#[test]
fn new_language_neither_hangs_nor_writes_through_links() {
    let site = SiteTest::fixture("basic");
    let strings = site.root().join("i18n/en.toml");
    std::fs::remove_file(&strings).unwrap();
    let status = Command::new("mkfifo").arg(&strings).status().unwrap();
    assert!(status.success());
    let run = site.run(&["new-language", "sw"]);
    let message = run.err();
    assert!(message.contains("i18n/en.toml: cannot read: it is a FIFO"), "{message}");

    let site = SiteTest::fixture("basic");
    let elsewhere = site.root().parent().unwrap().join(format!("planted-{}.toml", std::process::id()));
    std::os::unix::fs::symlink(&elsewhere, site.root().join("i18n/sw.toml")).unwrap();
    let message = site.run(&["new-language", "sw"]).err();
    assert!(message.contains("i18n/sw.toml"), "{message}");
    assert!(!elsewhere.exists(), "new-language wrote through a dangling symbolic link");
}

/// Front matter reaches pages through the templates, which escape it, and through the
/// Markdown of guiding questions, which is sanitized: neither can publish a script.
#[test]
fn front_matter_cannot_publish_scripts() {
    let site = SiteTest::fixture("basic");
    site.write(
        "site/content/fr/first.md",
        "+++\ntitle = \"Titre <script>alert(1)</script>\"\ndescription = \"\\\"><script>alert(2)</script>\"\n\
         kind = \"objective\"\nobjective = 2\nshort_label = \"<img src=x onerror=alert(3)>\"\nweight = 1\n\n\
         [[questions]]\nid = \"q-2-1\"\ntext = \"Question <a href=\\\"javascript:alert(4)\\\" onclick=\\\"alert(5)\\\">ici</a> ?\"\n\n[[questions]]\nid = \"q-2-2\"\ntext = \"<script>alert(1)</script>\"\n+++\n\nTexte.\n",
    );
    site.build().ok();
    for page in ["fr/objective-2/index.html", "fr/index.html", "fr/guiding-questions/index.html"] {
        let html = site.read(page);
        for (name, value) in crate::hardening_fuzz::attributes(&html) {
            assert!(!name.starts_with("on"), "{page}: event handler {name}={value}");
            assert!(!value.trim_start().to_ascii_lowercase().starts_with("javascript:"), "{page}: {name}={value}");
        }
        for (at, _) in html.match_indices("<script") {
            let tag = &html[at..at + html[at..].find('>').unwrap()];
            let body = &html[at + tag.len()..at + html[at..].find("</script>").unwrap()];
            if tag.contains("application/ld+json") {
                assert!(!body.contains('<'), "{page}: markup inside JSON-LD: {body}");
            } else {
                assert!(!body.contains("alert("), "{page}: a script runs translated text: {tag}{body}");
            }
        }
    }
}
