//! Shared helpers for the integration tests: a temporary copy of a site, a way to run
//! the `imrf-site` binary on it, and readers for its output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the bundled site lives here).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A site copied into a temporary folder, removed when dropped.
pub struct SiteTest {
    pub dir: tempfile::TempDir,
}

/// The result of running the binary.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn success(&self) -> bool {
        self.output.status.success()
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    /// The errors and warnings on stderr, one line each, as `warning: path:line:column:
    /// message`: the human format's ` --> path:line:column` line is folded back into its
    /// message and the quoted source lines with their caret are left out, so a test can
    /// compare whole messages without the snippet (errors.rs checks the snippets).
    pub fn messages(&self) -> Vec<String> {
        let mut messages: Vec<String> = Vec::new();
        for line in self.stderr().lines() {
            let trimmed = line.trim_start();
            if let Some(location) = trimmed.strip_prefix("--> ") {
                let last = messages.last_mut().expect("a location follows its message");
                let (severity, message) = last.split_once(": ").expect("a message starts with its severity");
                *last = format!("{severity}: {location}: {message}");
            } else if !is_snippet_line(trimmed) {
                messages.push(line.to_string());
            }
        }
        messages
    }
    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> String {
        assert!(self.success(), "expected success, got:\nstdout: {}\nstderr: {}", self.stdout(), self.stderr());
        self.stdout()
    }
    /// Asserts failure and returns stderr.
    #[track_caller]
    pub fn err(&self) -> String {
        assert!(!self.success(), "expected failure, got success:\nstdout: {}", self.stdout());
        self.stderr()
    }
}

/// A line of a quoted source: `|`, `7 | text` or the caret under it.
fn is_snippet_line(trimmed: &str) -> bool {
    let after_number = trimmed.trim_start_matches(|c: char| c.is_ascii_digit()).trim_start();
    after_number.starts_with('|')
}

impl SiteTest {
    /// A copy of `tests/fixtures/<case>/` over the bundled theme and i18n/: a file the
    /// fixture has replaces the bundled one (a glossary, say), the others stay.
    pub fn fixture(case: &str) -> Self {
        let test = Self::empty();
        for shared in ["themes", "i18n"] {
            copy_dir(&repo_root().join(shared), &test.root().join(shared));
        }
        copy_dir(&repo_root().join("tests/fixtures").join(case), test.root());
        test
    }

    /// A copy of the bundled site (site/, themes/, i18n/).
    pub fn bundled() -> Self {
        let test = Self::empty();
        for part in ["site", "themes", "i18n"] {
            copy_dir(&repo_root().join(part), &test.root().join(part));
        }
        test
    }

    fn empty() -> Self {
        Self { dir: tempfile::tempdir().expect("temporary folder") }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn public(&self) -> PathBuf {
        self.root().join("public")
    }

    /// Runs `imrf-site <args> --root <this site>`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_imrf-site"));
        command.args(args).arg("--root").arg(self.root());
        Run { output: command.output().expect("run imrf-site") }
    }

    pub fn build(&self) -> Run {
        self.run(&["build"])
    }

    /// A file of the built site as text.
    #[track_caller]
    pub fn read(&self, path: &str) -> String {
        let full = self.public().join(path);
        std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
    }

    /// Writes (or overwrites) a file of the site's sources.
    pub fn write(&self, path: &str, text: impl AsRef<[u8]>) {
        let full = self.root().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    /// A source file's text (a path under the site root).
    pub fn source(&self, path: &str) -> String {
        std::fs::read_to_string(self.root().join(path)).unwrap()
    }

    /// Replaces the first `from` (which must be there) with `to` in a source file.
    #[track_caller]
    pub fn edit(&self, path: &str, from: &str, to: &str) {
        let text = self.source(path);
        assert!(text.contains(from), "{path} lacks {from:?}");
        self.write(path, text.replacen(from, to, 1));
    }

    pub fn remove(&self, path: &str) {
        let full = self.root().join(path);
        if full.is_dir() {
            std::fs::remove_dir_all(full).unwrap();
        } else {
            std::fs::remove_file(full).unwrap();
        }
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every file below `dir` with its bytes, sorted by path: for comparing two builds.
pub fn snapshot_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                files.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// A small deterministic generator (xorshift), so a failing sequence can be replayed
/// from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// `X` and `Y` of the first `X of Y <noun>` in `line` (a build's `Reused ...` line).
pub fn counted(line: &str, noun: &str) -> Option<(usize, usize)> {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.windows(4).find_map(|w| match w {
        [x, "of", y, found] if found.trim_end_matches(',') == noun => Some((x.parse().ok()?, y.parse().ok()?)),
        _ => None,
    })
}
