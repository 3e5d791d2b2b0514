//! Watches `site/`, `themes/` and `i18n/` (notify) and groups the events of one save
//! into one batch. Editors save in bursts (write a temporary file, rename it over the
//! original, touch a backup), so a batch ends only after a short quiet period. Every
//! path that an event names is reported, whatever the kind of event: the rebuild
//! decides what a path means, so atomic saves, new folders, deletions and renames need
//! no special handling here.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use super::ServeError;

/// The folders a site is made of.
const SOURCES: [&str; 3] = ["site", "themes", "i18n"];
/// How long the files must stay still before a rebuild starts.
const QUIET: Duration = Duration::from_millis(15);
/// A burst that never goes quiet (a long copy) still rebuilds this often.
const LONGEST_WAIT: Duration = Duration::from_millis(300);
/// How often idle live-reload connections are checked.
pub const PING_EVERY: Duration = Duration::from_secs(20);

pub enum Message {
    /// These paths changed (created, written, removed or renamed, either side).
    Changed(Vec<PathBuf>),
    /// The file system changed in ways the watcher could not follow: rebuild everything.
    Rescan,
    /// Ctrl-C: stop serving.
    Stop,
}

/// What changed since the last rebuild.
#[derive(Debug, Default)]
pub struct Batch {
    /// Changed paths, sorted, each once. Empty with `everything` set after a rescan.
    pub paths: Vec<PathBuf>,
    pub everything: bool,
}

pub struct Watcher {
    inner: notify::RecommendedWatcher,
    sources: Vec<PathBuf>,
    /// The source folders watched so far; one created later is added by `follow_new_sources`.
    watched: Vec<PathBuf>,
}

impl Watcher {
    pub fn start(root: &Path, sender: Sender<Message>) -> Result<Self, ServeError> {
        let sources: Vec<PathBuf> = SOURCES.iter().map(|name| root.join(name)).collect();
        let for_events = sources.clone();
        let mut inner = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let message = match event {
                Ok(event) if event.need_rescan() => Message::Rescan,
                // Reading a file changes nothing, and the build itself reads every file.
                Ok(notify::Event { kind: notify::EventKind::Access(_), .. }) => return,
                Ok(event) => {
                    let paths: Vec<PathBuf> =
                        event.paths.into_iter().filter(|p| for_events.iter().any(|s| p.starts_with(s))).collect();
                    if paths.is_empty() {
                        return;
                    }
                    Message::Changed(paths)
                }
                Err(_) => Message::Rescan,
            };
            // The receiver is gone only when serving has stopped.
            let _ = sender.send(message);
        })
        .map_err(|source| ServeError::Watch { path: root.to_path_buf(), source })?;
        // The root itself, not recursively: to notice a source folder created later.
        inner
            .watch(root, RecursiveMode::NonRecursive)
            .map_err(|source| ServeError::Watch { path: root.to_path_buf(), source })?;
        let mut watcher = Self { inner, sources, watched: Vec::new() };
        watcher.follow_new_sources()?;
        Ok(watcher)
    }

    /// Watches the source folders that exist and are not watched yet.
    pub fn follow_new_sources(&mut self) -> Result<(), ServeError> {
        for source in &self.sources {
            if source.is_dir() && !self.watched.contains(source) {
                self.inner
                    .watch(source, RecursiveMode::Recursive)
                    .map_err(|error| ServeError::Watch { path: source.clone(), source: error })?;
                self.watched.push(source.clone());
            }
        }
        Ok(())
    }
}

/// Waits for the next batch of changes; `None` when it is time to stop. `on_idle` runs
/// every `PING_EVERY` while nothing changes.
pub fn next_batch(receiver: &Receiver<Message>, on_idle: &dyn Fn()) -> Option<Batch> {
    let mut batch = Batch::default();
    loop {
        match receiver.recv_timeout(PING_EVERY) {
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => on_idle(),
            Ok(message) => {
                add(&mut batch, message);
                break;
            }
        }
    }
    let started = Instant::now();
    loop {
        let left = LONGEST_WAIT.saturating_sub(started.elapsed());
        match receiver.recv_timeout(QUIET.min(left)) {
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => return None,
            Ok(message) => add(&mut batch, message),
            Err(RecvTimeoutError::Timeout) => break,
        }
        if left.is_zero() {
            break;
        }
    }
    batch.paths.sort();
    batch.paths.dedup();
    Some(batch)
}

fn add(batch: &mut Batch, message: Message) {
    match message {
        Message::Changed(paths) => batch.paths.extend(paths),
        Message::Rescan => batch.everything = true,
        Message::Stop => {}
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn a_burst_of_events_is_one_batch() {
        let (sender, receiver) = mpsc::channel();
        for name in ["b.md", "a.md.tmp", "a.md", "b.md"] {
            sender.send(Message::Changed(vec![PathBuf::from(name)])).unwrap();
        }
        let batch = next_batch(&receiver, &|| {}).unwrap();
        assert_eq!(batch.paths, [PathBuf::from("a.md"), PathBuf::from("a.md.tmp"), PathBuf::from("b.md")]);
        assert!(!batch.everything);
        sender.send(Message::Stop).unwrap();
        assert!(next_batch(&receiver, &|| {}).is_none());
    }
}
