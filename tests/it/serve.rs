//! `imrf-site serve`: the real binary on an ephemeral loopback port, driven by editing
//! the files of a temporary site and reading what it serves over plain HTTP.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use imrf_site::build::{self, BuildOptions, Rebuilder, SharedFile};
use imrf_site::output::OutputFile;

use crate::browser_support::Browser;
use crate::support::{Rng, SiteTest, snapshot_tree};

/// A bound on every wait, not a speed requirement.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running `imrf-site serve`, stopped when dropped (also used by `hardening_serve`).
pub(crate) struct Serving {
    pub(crate) child: Child,
    /// `127.0.0.1:port`
    pub(crate) host: String,
    /// Everything it printed, stdout and stderr interleaved by line.
    log: Arc<Mutex<String>>,
    pub(crate) site: SiteTest,
}

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    }
}

impl Serving {
    pub(crate) fn start(site: SiteTest) -> Self {
        let mut serving = Self::spawn(site);
        serving.wait_until_serving();
        serving
    }

    /// Starts the server without waiting for its first build.
    fn spawn(site: SiteTest) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_imrf-site"))
            .args(["serve", "--port", "0", "--root"])
            .arg(site.root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start imrf-site serve");
        let log = Arc::new(Mutex::new(String::new()));
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for stream in [Box::new(stdout) as Box<dyn Read + Send>, Box::new(stderr)] {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        Self { child, host: String::new(), log, site }
    }

    /// Waits for the URL it prints after its first build.
    fn wait_until_serving(&mut self) {
        self.wait_for("the URL it serves at", Self::is_serving);
        let log = self.log();
        let url = log.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_string();
        self.host = url.trim_start_matches("http://").trim_end_matches('/').to_string();
        assert!(self.host.starts_with("127.0.0.1:") && !self.host.ends_with(":0"), "{url}");
    }

    fn is_serving(&self) -> bool {
        self.log().contains("Serving ")
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.host)
    }

    /// Sends `request` as written and reads the whole reply.
    fn raw(&self, request: &str) -> Reply {
        let mut stream = TcpStream::connect(&self.host).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).unwrap();
        let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete reply");
        let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status");
        Reply { status, head, body: bytes[split + 4..].to_vec() }
    }

    fn get_as(&self, path: &str, host: &str) -> Reply {
        self.raw(&format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"))
    }

    fn get(&self, path: &str) -> Reply {
        self.get_as(path, &self.host)
    }

    #[track_caller]
    fn wait_for(&self, what: &str, done: impl Fn(&Self) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(started.elapsed() < PATIENCE, "timed out waiting for {what}; the server printed:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    #[track_caller]
    fn wait_for_page(&self, path: &str, what: &str, done: impl Fn(&Reply) -> bool) {
        self.wait_for(what, |s| done(&s.get(path)));
    }

    /// The build the pages served now come from.
    fn build(&self) -> u64 {
        let page = self.get("/en/").text();
        page.split("data-build=\"").nth(1).unwrap().split('"').next().unwrap().parse().unwrap()
    }

    /// Opens the live-reload stream as a page of build `build` would.
    fn events(&self, build: u64) -> EventStream {
        let mut stream = TcpStream::connect(&self.host).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let request = format!("GET /__imrf-site/events?build={build} HTTP/1.1\r\nHost: {}\r\n\r\n", self.host);
        stream.write_all(request.as_bytes()).unwrap();
        EventStream { reader: BufReader::new(stream) }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct EventStream {
    reader: BufReader<TcpStream>,
}

impl EventStream {
    /// The next event of type `name` and its data, skipping others.
    #[track_caller]
    fn next(&mut self, name: &str) -> String {
        let mut event = String::new();
        let mut data = Vec::new();
        // Pings keep the stream busy: the read timeout alone would never end the wait.
        let started = Instant::now();
        loop {
            assert!(started.elapsed() < PATIENCE, "no `{name}` event");
            let mut line = String::new();
            let read = self.reader.read_line(&mut line).expect("an event before the timeout");
            assert!(read > 0, "the event stream closed before a `{name}` event");
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if event == name {
                    return data.join("\n");
                }
                event.clear();
                data.clear();
            } else if let Some(value) = line.strip_prefix("event: ") {
                event = value.to_string();
            } else if let Some(value) = line.strip_prefix("data: ") {
                data.push(value.to_string());
            }
        }
    }
}

/// The page as the build writes it: without the live-reload script serve adds.
fn without_live_script(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let Some(start) = text.find("<script src=\"/__imrf-site/live-reload.js\"") else { return body.to_vec() };
    let end = start + text[start..].find("</script>\n").expect("closed script") + "</script>\n".len();
    [&body[..start], &body[end..]].concat()
}

/// The URL path serving the output file `path`.
fn served_path(path: &str) -> String {
    match path.strip_suffix("index.html") {
        Some(dir) => format!("/{dir}"),
        None => format!("/{path}"),
    }
}

fn page(title: &str, body: &str) -> String {
    format!("+++\ntitle = \"{title}\"\n+++\n\n{body}\n")
}

/// Writes through a temporary file renamed over the target, as editors save.
fn atomic_write(site: &SiteTest, path: &str, text: &str) {
    let target = site.root().join(path);
    let temporary = target.with_file_name(format!(".{}.swp", target.file_name().unwrap().to_string_lossy()));
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, &target).unwrap();
}

#[test]
fn serves_the_site_and_follows_edits_creations_renames_and_deletions() {
    let serving = Serving::start(SiteTest::fixture("serve"));
    let site = &serving.site;

    let home = serving.get("/en/");
    assert_eq!(home.status, 200);
    assert_eq!(home.header("Content-Type").as_deref(), Some("text/html; charset=utf-8"));
    assert!(home.text().contains("/__imrf-site/live-reload.js"), "serve mode injects the live-reload script");
    assert_eq!(serving.get("/en").status, 301, "a folder without its slash redirects");
    let missing = serving.get("/en/no-such-page/");
    assert_eq!(missing.status, 404);
    let not_found = serving.get("/404.html");
    assert_eq!(
        without_live_script(&missing.body),
        without_live_script(&not_found.body),
        "misses get the site's 404 page"
    );
    let robots = serving.get("/robots.txt");
    assert_eq!((robots.status, robots.header("Content-Type").as_deref()), (200, Some("text/plain; charset=utf-8")));
    let stylesheet =
        home.text().split("rel=\"stylesheet\" href=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    assert_eq!(serving.get(&stylesheet).header("Content-Type").as_deref(), Some("text/css; charset=utf-8"));
    assert!(!site.public().exists(), "serve writes nothing to disk");

    // An edit, saved in place, re-renders that page only (and the fallback pages showing it).
    let notes = std::fs::read_to_string(site.root().join("site/content/en/notes.md")).unwrap();
    site.write("site/content/en/notes.md", format!("{notes}\nEdited notes.\n"));
    serving.wait_for_page("/en/notes/", "the edited page", |r| r.text().contains("Edited notes."));
    serving.wait_for("the rebuild report", |s| s.log().lines().filter(|l| l.starts_with("Built ")).count() >= 2);
    let report = serving.log().lines().filter(|l| l.starts_with("Built ")).nth(1).unwrap().to_string();
    assert!(report.contains("(1 of 6 pages rendered)"), "{report}");

    // An atomic save: a temporary file renamed over the page.
    atomic_write(site, "site/content/en/notes.md", &page("Notes", "Saved atomically."));
    serving.wait_for_page("/en/notes/", "the atomically saved page", |r| r.text().contains("Saved atomically."));

    // A new page, in a new folder.
    site.write("site/content/en/annex/extra.md", page("Extra", "A new page links to [notes](/en/notes/)."));
    serving.wait_for_page("/en/annex/extra/", "the new page", |r| r.status == 200);

    // A rename: the old URL disappears, the new one appears, and links to the old one are reported.
    site.write("site/content/en/notes.md", page("Notes", "See [the extra page](/en/annex/extra/)."));
    serving.wait_for_page("/en/notes/", "the link to the extra page", |r| r.text().contains("/en/annex/extra/"));
    std::fs::rename(
        site.root().join("site/content/en/annex/extra.md"),
        site.root().join("site/content/en/annex/moved.md"),
    )
    .unwrap();
    serving.wait_for_page("/en/annex/moved/", "the renamed page", |r| r.status == 200);
    assert_eq!(serving.get("/en/annex/extra/").status, 404, "the page under its old name is gone");
    serving.wait_for("the broken link reported", |s| s.log().contains("link to /en/annex/extra/ points to no page"));

    // A deletion.
    site.remove("site/content/en/annex/moved.md");
    serving.wait_for_page("/en/annex/moved/", "the deleted page to disappear", |r| r.status == 404);

    // A new language appears live (its UI strings are already in i18n/).
    site.write("site/content/es/_index.md", "+++\ntitle = \"Inicio\"\nkind = \"home\"\n+++\n\nHola.\n");
    serving.wait_for_page("/es/", "the new language", |r| r.status == 200 && r.text().contains("Hola."));
}

#[test]
fn a_broken_template_keeps_the_last_good_site_and_recovers() {
    let serving = Serving::start(SiteTest::fixture("serve"));
    let site = &serving.site;
    let before = serving.get("/en/notes/");
    assert_eq!(before.status, 200);
    let build = serving.build();
    let mut events = serving.events(build);

    let template = "themes/default/templates/page.html";
    let good = std::fs::read_to_string(site.root().join(template)).unwrap();
    site.write(template, format!("{good}\n{{% if %}}\n"));
    let error = events.next("build-error");
    assert!(error.contains("page.html:"), "the error names the template and line: {error}");
    serving.wait_for("the error in the terminal", |s| s.log().contains("error: ") && s.log().contains("page.html:"));
    let during = serving.get("/en/notes/");
    assert_eq!((during.status, without_live_script(&during.body)), (200, without_live_script(&before.body)));

    // A page opened while the site is broken learns the error when it connects.
    assert!(serving.events(build).next("build-error").contains("page.html:"));

    site.write(template, good.replace("</article>", "<p>Recovered</p></article>"));
    let reload = events.next("reload");
    assert!(reload.parse::<u64>().unwrap() > build, "{reload}");
    serving.wait_for_page("/en/notes/", "the fixed template", |r| r.text().contains("Recovered"));

    // Broken front matter, i18n and stylesheet are survived the same way.
    // Fixing a stylesheet only swaps stylesheets.
    for (path, broken, fixed_event) in [
        ("site/content/en/notes.md", "+++\ntitle = \"Unclosed\n+++\n", "reload"),
        ("i18n/en.toml", "[language\n", "reload"),
        ("themes/default/css/main.css", "@import \"_missing.css\";\n", "css"),
    ] {
        let good = std::fs::read_to_string(site.root().join(path)).unwrap();
        site.write(path, broken);
        let error = events.next("build-error");
        let file = path.rsplit('/').next().unwrap();
        assert!(error.contains(file), "the error names {file}: {error}");
        assert_eq!(serving.get("/en/notes/").status, 200);
        site.write(path, good);
        events.next(fixed_event);
    }
}

/// The watcher starts before the first build: a page saved again and again while the
/// server starts, until it prints its URL, is served as last saved, and so is a page
/// saved right after.
#[test]
fn edits_saved_during_the_first_build_are_picked_up() {
    let mut serving = Serving::spawn(SiteTest::fixture("serve"));
    let notes = "site/content/en/notes.md";
    let mut saves = 0;
    let started = Instant::now();
    while !serving.is_serving() {
        assert!(started.elapsed() < PATIENCE, "no URL; the server printed:\n{}", serving.log());
        saves += 1;
        atomic_write(&serving.site, notes, &page("Notes", &format!("Saved while starting, {saves} times.")));
        std::thread::sleep(Duration::from_millis(5));
    }
    serving.wait_until_serving();
    let last = format!("Saved while starting, {saves} times.");
    serving.wait_for_page("/en/notes/", "the page as last saved during the first build", |r| r.text().contains(&last));
    append(&serving.site, "site/content/en/_index.md", "\nSaved just after starting.\n");
    serving.wait_for_page("/en/", "the page saved just after starting", |r| r.text().contains("just after starting"));
}

#[test]
fn refuses_paths_outside_the_site_and_foreign_hosts() {
    let serving = Serving::start(SiteTest::fixture("serve"));
    let site = &serving.site;
    site.write("secret.txt", "TOP SECRET");
    serving.wait_for_page("/en/", "the site", |r| r.status == 200);
    for path in [
        "/../secret.txt",
        "/en/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/%252e%252e/secret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/en/..%2f..%2fsecret.txt",
        "/../site/config.toml",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let reply = serving.get(path);
        assert!(matches!(reply.status, 400 | 404), "{path}: {}", reply.status);
        assert!(!reply.text().contains("TOP SECRET") && !reply.text().contains("default_language"), "{path}");
    }
    for host in ["evil.example", "evil.example:80", "attacker.test:1111", "127.0.0.1:1"] {
        assert_eq!(serving.get_as("/en/", host).status, 403, "Host: {host}");
    }
    let no_host = serving.raw("GET /en/ HTTP/1.0\r\n\r\n");
    assert_eq!(no_host.status, 403);
    let port = serving.host.rsplit(':').next().unwrap();
    assert_eq!(serving.get_as("/en/", &format!("localhost:{port}")).status, 200);
    let foreign_origin = serving.raw(&format!(
        "GET /__imrf-site/events HTTP/1.1\r\nHost: {}\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n",
        serving.host
    ));
    assert_eq!(foreign_origin.status, 403);
    let post = serving.raw(&format!(
        "POST /en/ HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        serving.host
    ));
    assert_eq!(post.status, 405);
}

#[test]
fn a_port_in_use_is_reported_before_building() {
    let serving = Serving::start(SiteTest::fixture("serve"));
    let port = serving.host.rsplit(':').next().unwrap();
    let second = serving.site.run(&["serve", "--port", port]);
    let stderr = second.err();
    assert!(stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")), "{stderr}");
    assert!(!second.stdout().contains("Built "), "it stopped before building: {}", second.stdout());
}

#[test]
fn ctrl_c_stops_the_server_cleanly() {
    let mut serving = Serving::start(SiteTest::fixture("serve"));
    let pid = serving.child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = serving.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < PATIENCE, "still running after Ctrl-C");
        std::thread::sleep(Duration::from_millis(25));
    };
    assert!(status.success(), "{status}");
    serving.wait_for("the goodbye", |s| s.log().contains("Stopped"));
}

#[test]
fn pages_edited_alone_are_handed_over_before_the_pages_that_list_them_all() {
    let site = SiteTest::bundled();
    let mut rebuilder = Rebuilder::new(BuildOptions::new(site.root()));
    let first = owned(&rebuilder.rebuild(&[], true).unwrap().files);
    let file = |files: &[OutputFile], path: &str| files.iter().find(|f| f.path == path).unwrap().bytes.to_vec();
    let rebuild = |rebuilder: &mut Rebuilder, paths: &[&str]| {
        let mut early: Vec<OutputFile> = Vec::new();
        let changed: Vec<PathBuf> = paths.iter().map(|path| site.root().join(path)).collect();
        let watched =
            rebuilder.rebuild_with_early_pages(&changed, false, &mut |pages| early.extend(owned(pages))).unwrap();
        (early, owned(&watched.files))
    };

    // A footnote of a translation edited (an edit of the original would change the
    // state of its translations, part of the site's outline): the references page
    // lists it, and is made after the page and its language's search index.
    let page = "site/content/fr/objective-14.md";
    site.edit(page, "[^asean-consular]: <https://asean.org/", "[^asean-consular]: Edited note. <https://asean.org/");
    let (early, rebuilt) = rebuild(&mut rebuilder, &[page]);
    let early_paths: Vec<&str> = early.iter().map(|f| f.path.as_str()).collect();
    assert!(early_paths.contains(&"fr/objective-14/index.html"), "{early_paths:?}");
    assert!(early_paths.iter().all(|path| !path.contains("references")), "{early_paths:?}");
    // The search index the page changed follows it, before the references page too.
    assert!(early_paths.contains(&"fr/search/index.json"), "{early_paths:?}");
    assert!(early_paths.iter().all(|path| !path.starts_with("en/search/")), "an unchanged index: {early_paths:?}");
    for handed in &early {
        assert_eq!(handed.bytes, file(&rebuilt, &handed.path), "{}: handed over as finally built", handed.path);
    }
    assert!(String::from_utf8(file(&rebuilt, "fr/objective-14/index.html")).unwrap().contains("Edited note."));
    let references = "fr/references/index.html";
    assert_ne!(file(&first, references), file(&rebuilt, references), "the references page is made again");
    assert!(String::from_utf8(file(&rebuilt, references)).unwrap().contains("Edited note."));

    // Anything but pages changed: nothing is handed over before the whole is made.
    let stylesheet = "themes/default/css/main.css";
    append(&site, stylesheet, "\nbody { outline: 1px solid #010203; }\n");
    site.edit(page, "Edited note.", "Edited again.");
    assert!(rebuild(&mut rebuilder, &[page, stylesheet]).0.is_empty(), "a stylesheet changed too");
    let new_page = "site/content/fr/nouvelle.md";
    site.write(new_page, "+++\ntitle = \"Nouvelle\"\n+++\n\nTexte.\n");
    site.edit(page, "Edited again.", "Edited once more.");
    assert!(rebuild(&mut rebuilder, &[page, new_page]).0.is_empty(), "a page added: every page's menu may change");
}

/// Appends `text` to the site's file at `path`.
fn append(site: &SiteTest, path: &str, text: &str) {
    let old = std::fs::read_to_string(site.root().join(path)).unwrap();
    site.write(path, format!("{old}{text}"));
}

/// Watch mode's files as a clean build gives them.
fn owned(files: &[SharedFile]) -> Vec<OutputFile> {
    files.iter().map(|f| OutputFile::new(f.path.to_string(), f.bytes.clone())).collect()
}

/// The paths of the files that differ between two builds, or that only one has.
fn differing_files(left: &[OutputFile], right: &[OutputFile]) -> Vec<String> {
    let mut paths: Vec<&str> = left.iter().chain(right).map(|f| f.path.as_str()).collect();
    paths.sort_unstable();
    paths.dedup();
    let find = |files: &[OutputFile], path: &str| files.iter().find(|f| f.path == path).map(|f| f.bytes.clone());
    paths.into_iter().filter(|path| find(left, path) != find(right, path)).map(str::to_string).collect()
}

/// Watch mode's rebuilds on the bundled site: editing a stylesheet (or a partial), a
/// script, a stemmer or a static file renders no page (the pages it reuses get the new
/// asset URLs, also when a static `main.css` comes and goes and the URL changes length),
/// a template edit renders them all, and each result equals a clean build.
#[test]
fn asset_edits_render_no_page_and_equal_a_clean_build() {
    enum Edit {
        Append(&'static str),
        Create(&'static str),
        Remove,
    }
    let site = SiteTest::bundled();
    let options = BuildOptions::new(site.root());
    let mut rebuilder = Rebuilder::new(options.clone());
    let first = rebuilder.rebuild(&[], true).unwrap();
    let pages = first.site.pages.len();
    assert_eq!(rebuilder.rendered_pages(), pages);
    let home = |files: &[OutputFile]| files.iter().find(|f| f.path == "en/index.html").unwrap().bytes.clone();
    let mut previous_home = home(&owned(&first.files));
    for (path, edit, rendered) in [
        ("themes/default/css/main.css", Edit::Append("\nbody { outline: 1px solid #010203; }\n"), 0),
        ("themes/default/css/_tokens.css", Edit::Append("\n:root { --edited: 1px; }\n"), 0),
        ("themes/default/js/site.js", Edit::Append("\n// edited\n"), 0),
        ("themes/default/js/stem-french.js", Edit::Append("\n// edited\n"), 0),
        ("themes/default/static/favicon.svg", Edit::Append("\n<!-- edited -->\n"), 0),
        ("themes/default/static/main.css", Edit::Create("body { color: #010203; }\n"), 0),
        ("themes/default/static/main.css", Edit::Remove, 0),
        ("themes/default/templates/base.html", Edit::Append("<!-- edited -->\n"), pages),
    ] {
        match edit {
            Edit::Append(text) => append(&site, path, text),
            Edit::Create(text) => site.write(path, text),
            Edit::Remove => site.remove(path),
        }
        let rebuilt = owned(&rebuilder.rebuild(&[site.root().join(path)], false).unwrap().files);
        assert_eq!(rebuilder.rendered_pages(), rendered, "pages rendered after an edit of {path}");
        let clean = build::render(&options).unwrap();
        assert_eq!(differing_files(&rebuilt, &clean.files), Vec::<String>::new(), "after an edit of {path}");
        let home = home(&rebuilt);
        if path.ends_with("main.css") || path.ends_with("site.js") {
            assert_ne!(home, previous_home, "the home page names the new {path}");
        }
        previous_home = home;
    }
}

/// Through the server: a stylesheet edit renders no page, swaps the stylesheet in open
/// pages, and the served site equals a clean build; so after a script edit; a template
/// edit renders every page, a page edit that page. Each build sends one event: its
/// second phase (search index, link check) keeps the generation the event announced.
#[test]
fn a_stylesheet_edit_renders_no_page_and_serves_a_clean_build() {
    let serving = Serving::start(SiteTest::fixture("serve"));
    let site = &serving.site;
    let mut events = serving.events(serving.build());
    events.next("");
    let reports =
        |s: &Serving| s.log().lines().filter(|l| l.starts_with("Built ")).map(str::to_string).collect::<Vec<_>>();
    for (path, text, rendered, event) in [
        ("themes/default/css/main.css", "\nbody { outline: 1px solid #010203; }\n", 0, "css"),
        ("themes/default/js/site.js", "\n// edited\n", 0, "reload"),
        ("themes/default/templates/page.html", "\n", 6, "reload"),
        ("site/content/en/notes.md", "\nA word to search for: quokka.\n", 1, "reload"),
    ] {
        let before = reports(&serving).len();
        append(site, path, text);
        serving.wait_for("the rebuild report", |s| reports(s).len() > before);
        let report = reports(&serving)[before].clone();
        assert!(report.contains(&format!("({rendered} of 6 pages rendered)")), "after an edit of {path}: {report}");
        let generation: u64 = events.next(event).parse().unwrap();
        assert_serves_a_clean_build(&serving, &|| format!("after an edit of {path}\nserver:\n{}", serving.log()));
        assert_eq!(serving.build(), generation, "after an edit of {path}");
    }
}

/// Edits a theme file whose published name is content-hashed (the stylesheet, a partial
/// it imports, a script); returns its path.
fn edit_asset(site: &SiteTest, rng: &mut Rng, step: usize) -> &'static str {
    let (path, text) = match rng.below(3) {
        0 => ("themes/default/css/main.css", format!("\n.step-{step} {{ color: #{:06x}; }}\n", rng.below(0xffffff))),
        1 => ("themes/default/css/_tokens.css", format!("\n:root {{ --step-{step}: {}px; }}\n", rng.below(100))),
        _ => ("themes/default/js/site.js", format!("\n// step {step}\n")),
    };
    append(site, path, &text);
    path
}

#[test]
fn after_random_edits_the_served_site_equals_a_clean_build() {
    let seed = std::env::var("IMRF_SERVE_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234_u64);
    let mut rng = Rng(seed);
    let serving = Serving::start(SiteTest::fixture("serve"));
    let site = &serving.site;
    let mut created: Vec<String> = Vec::new();
    let mut gone: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    for step in 0..40 {
        let pages: Vec<String> = ["en/notes.md", "en/objective-14.md", "fr/notes.md", "en/_index.md"]
            .iter()
            .map(|p| p.to_string())
            .chain(created.iter().cloned())
            .collect();
        let target = pages[rng.below(pages.len())].clone();
        let content = format!("site/content/{target}");
        let operation = rng.below(11);
        match operation {
            0 => {
                let text = std::fs::read_to_string(site.root().join(&content)).unwrap();
                // With a footnote: the language's references page lists it.
                site.write(
                    &content,
                    format!("{text}\nParagraph {step} links to [notes](/en/notes/).[^s{step}]\n\n[^s{step}]: Source {step}.\n"),
                );
            }
            1 => {
                let text = std::fs::read_to_string(site.root().join(&content)).unwrap();
                let retitled: String = text
                    .lines()
                    .map(
                        |l| if l.starts_with("title = ") { format!("title = \"Title {step}\"") } else { l.to_string() },
                    )
                    .collect::<Vec<_>>()
                    .join("\n");
                atomic_write(site, &content, &format!("{retitled}\n"));
            }
            2 => {
                let lang = ["en", "fr"][rng.below(2)];
                let name = format!("{lang}/extra-{step}.md");
                site.write(&format!("site/content/{name}"), page(&format!("Extra {step}"), "An extra page."));
                created.push(name);
            }
            3 if !created.is_empty() => {
                let name = created.remove(rng.below(created.len()));
                site.remove(&format!("site/content/{name}"));
                gone.push(name);
            }
            4 if !created.is_empty() => {
                let index = rng.below(created.len());
                let old = created[index].clone();
                let new = old.replace(".md", &format!("-r{step}.md"));
                std::fs::rename(
                    site.root().join(format!("site/content/{old}")),
                    site.root().join(format!("site/content/{new}")),
                )
                .unwrap();
                created[index] = new;
                gone.push(old);
            }
            5 => {
                let asset = edit_asset(site, &mut rng, step);
                steps.push(format!("{step}: edit of {asset}"));
            }
            6 => {
                let path = "i18n/fr.toml";
                let text = std::fs::read_to_string(site.root().join(path)).unwrap();
                let renamed: String =
                    text.lines()
                        .map(|l| {
                            if l.starts_with("name = ") {
                                format!("name = \"Français {step}\"")
                            } else {
                                l.to_string()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("\n");
                atomic_write(site, path, &format!("{renamed}\n"));
            }
            7 => {
                let template = "themes/default/templates/page.html";
                let text = std::fs::read_to_string(site.root().join(template)).unwrap();
                site.write(template, text.replace("</article>", &format!("<p class=\"step-{step}\"></p></article>")));
            }
            8 => {
                // A page in a new folder.
                let name = format!("en/folder-{step}/page.md");
                site.write(&format!("site/content/{name}"), page(&format!("Nested {step}"), "A nested page."));
                created.push(name);
            }
            9 if created.iter().any(|name| name.matches('/').count() == 2) => {
                // A folder renamed with the page inside.
                let index = created.iter().position(|name| name.matches('/').count() == 2).unwrap();
                let old = created[index].clone();
                let folder = old.rsplit_once('/').unwrap().0.to_string();
                let renamed = format!("{folder}-r{step}");
                std::fs::rename(
                    site.root().join(format!("site/content/{folder}")),
                    site.root().join(format!("site/content/{renamed}")),
                )
                .unwrap();
                created[index] = old.replacen(&folder, &renamed, 1);
                gone.push(old);
            }
            _ => {
                // Break the page, then put it back: the server must recover.
                let text = std::fs::read_to_string(site.root().join(&content)).unwrap();
                site.write(&content, "+++\ntitle = \"broken\n+++\n");
                std::thread::sleep(Duration::from_millis(rng.below(100) as u64));
                site.write(&content, text);
            }
        }
        steps.push(format!("{step}: operation {operation} on {target}"));
        std::thread::sleep(Duration::from_millis(rng.below(120) as u64));
    }

    // Body and asset edits last, each in its own rebuild: the pages a body edit touches
    // are the only ones re-rendered, and an asset edit re-renders none, which is where a
    // memo that missed an input would leave a stale page.
    for (tail, asset) in [true, false, true, false, false].into_iter().enumerate() {
        let builds = serving.log().matches("Built ").count();
        if asset {
            let path = edit_asset(site, &mut rng, 100 + tail);
            steps.push(format!("tail {tail}: edit of {path}"));
        } else {
            let pages: Vec<String> = ["en/notes.md", "en/objective-14.md", "fr/notes.md"]
                .iter()
                .map(|p| p.to_string())
                .chain(created.iter().cloned())
                .collect();
            let content = format!("site/content/{}", pages[rng.below(pages.len())]);
            append(
                site,
                &content,
                &format!("\nClosing paragraph {tail}.[^t{tail}]\n\n[^t{tail}]: Closing source {tail}.\n"),
            );
            steps.push(format!("tail {tail}: body edit of {content}"));
        }
        serving.wait_for("the rebuild", |s| s.log().matches("Built ").count() > builds || s.log().contains("error: "));
    }

    assert_serves_a_clean_build(&serving, &|| {
        format!("seed {seed}: steps:\n{}\nserver:\n{}", steps.join("\n"), serving.log())
    });
    for name in gone.iter().filter(|name| !created.contains(name)) {
        let url = format!("/{}/", name.trim_end_matches(".md"));
        assert_eq!(serving.get(&url).status, 404, "seed {seed}: {url} was removed but is still served");
    }
}

/// Waits until the server serves exactly what a clean build of its site's files writes;
/// `context` explains a failure.
#[track_caller]
fn assert_serves_a_clean_build(serving: &Serving, context: &dyn Fn() -> String) {
    let output = tempfile::tempdir().unwrap();
    let out = output.path().join("public");
    let build = serving.site.run(&["build", "--output", out.to_str().unwrap()]);
    build.ok();
    let expected: Vec<(String, Vec<u8>)> =
        snapshot_tree(&out).into_iter().filter(|(path, _)| path != ".imrf-site-manifest").collect();
    let differing = |s: &Serving| -> Vec<String> {
        expected
            .iter()
            .filter_map(|(path, bytes)| {
                let reply = s.get(&served_path(path));
                let served = without_live_script(&reply.body);
                (reply.status != 200 || served != *bytes).then(|| {
                    format!("{path} (status {}, {} bytes, expected {})", reply.status, served.len(), bytes.len())
                })
            })
            .collect()
    };
    let started = Instant::now();
    loop {
        let different = differing(serving);
        if different.is_empty() {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "served files differ from a clean build: {different:?}\n{}", context());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_open_page_follows_an_edit_in_place_and_reloads_for_a_new_script() {
    let test = "an_open_page_follows_an_edit_in_place_and_reloads_for_a_new_script";
    let Some(browser) = Browser::start(test) else { return };
    let site = SiteTest::fixture("serve");
    let long: String = (1..=80).map(|n| format!("Paragraph {n} of a long page.\n\n")).collect();
    site.write("site/content/en/notes.md", page("Notes", &long));
    let serving = Serving::start(site);
    let site = &serving.site;
    browser.goto(&serving.url("/en/notes/"));
    browser.wait_for("document.readyState === 'complete'", "the page");
    browser.execute("window.scrollTo({ top: 600, behavior: 'instant' }); window.beforeEdit = true;", &[]);
    browser.wait_for("window.scrollY === 600", "the scroll");
    // A reader halfway through typing a search keeps it: the header did not change.
    browser.execute(
        "const box = document.getElementById('site-search'); box.value = 'parag'; box.focus({ preventScroll: true });",
        &[],
    );

    // The text changes in place: no reload, the scroll position, focus and query kept.
    site.write("site/content/en/notes.md", page("Notes, edited", &long.replace("Paragraph 7 ", "Paragraph seven ")));
    browser.wait_for("document.title.startsWith('Notes, edited')", "the edit");
    browser.wait_for("document.querySelector('main').textContent.includes('Paragraph seven of')", "the new text");
    assert_eq!(browser.execute("return window.beforeEdit === true", &[]), serde_json::Value::Bool(true), "reloaded");
    let updates = "return Number(document.documentElement.getAttribute('data-live-updates')) >= 1";
    assert_eq!(browser.execute(updates, &[]), serde_json::Value::Bool(true));
    assert_eq!(browser.execute("return Math.abs(window.scrollY - 600) < 5", &[]), serde_json::Value::Bool(true));
    assert_eq!(
        browser.execute("return document.activeElement.id + ':' + document.activeElement.value", &[]),
        "site-search:parag"
    );
    // The theme's script enhanced the new text too (a permalink on each block).
    browser.wait_for("document.querySelector('main [id^=\"p-\"] > .permalink') !== null", "the permalinks");

    // A changed script cannot be swapped in: the page reloads, keeping its scroll.
    let script = "themes/default/js/site.js";
    let text = std::fs::read_to_string(site.root().join(script)).unwrap();
    site.write(script, format!("{text}\nwindow.siteScriptEdited = true;\n"));
    browser.wait_for("window.siteScriptEdited === true && window.beforeEdit === undefined", "the reload");
    browser.wait_for("Math.abs(window.scrollY - 600) < 5", "the scroll position kept");

    // A stylesheet edit swaps the stylesheet without reloading.
    browser.execute("window.beforeCssSwap = true;", &[]);
    let css = "themes/default/css/main.css";
    let text = std::fs::read_to_string(site.root().join(css)).unwrap();
    site.write(css, format!("{text}\nbody {{ outline: 3px solid rgb(1, 2, 3); }}\n"));
    browser.wait_for("getComputedStyle(document.body).outlineColor === 'rgb(1, 2, 3)'", "the new stylesheet");
    assert_eq!(browser.execute("return window.beforeCssSwap === true", &[]), serde_json::Value::Bool(true));

    // A broken template shows an overlay, with the error as text; fixing it clears it.
    let template = "themes/default/templates/page.html";
    let good = std::fs::read_to_string(site.root().join(template)).unwrap();
    site.write(template, format!("{good}\n{{% if <b>broken</b> %}}\n"));
    browser.wait_for("document.getElementById('imrf-site-build-error') !== null", "the error overlay");
    let overlay = browser.find("#imrf-site-build-error");
    assert!(overlay.text().contains("page.html"), "{}", overlay.text());
    assert!(browser.try_find("#imrf-site-build-error b").is_none(), "the error is shown as text, not HTML");
    site.write(template, good);
    browser.wait_for("document.getElementById('imrf-site-build-error') === null", "the overlay to clear");
}
