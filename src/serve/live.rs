//! Live reload: the open pages' Server-Sent Events connections, and what to tell them.
//! A page learns the build it was served from (`data-build` on the injected script)
//! and sends it back when it connects, so a rebuild that happens between loading the
//! page and connecting is not missed. The current build error, if any, is sent to every
//! new connection, so a page opened while the site is broken shows the overlay too.

use std::io::Write;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The script every HTML page gets in serve mode (never in `build` output).
pub const CLIENT_SCRIPT: &str = include_str!("live-reload.js");

/// What open pages are told after a rebuild.
#[derive(Debug, Clone, Copy)]
pub enum LiveEvent {
    /// The site changed: reload, keeping the scroll position.
    Reload { generation: u64 },
    /// Only stylesheets changed: swap them without reloading.
    Css { generation: u64 },
    /// The rebuild failed: show the current error as an overlay.
    Error,
}

/// A page's live-reload stream: what is written is sent to it. A write fails once the
/// page has gone away or stopped reading.
type Client = Box<dyn Write + Send>;

#[derive(Default)]
pub struct Live {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    clients: Vec<Client>,
    error: Option<String>,
}

impl Live {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves a plain list behind: still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn set_error(&self, error: Option<String>) {
        self.lock().error = error;
    }

    /// Takes over a page's live-reload stream. Tells it at once about a build it has
    /// not seen (`seen` is the build its page came from) and about the current error.
    pub fn connect(&self, mut client: Client, seen: Option<u64>, current: u64) {
        let mut state = self.lock();
        let mut greeting = String::from("retry: 500\n\n");
        if let Some(error) = &state.error {
            greeting.push_str(&error_event(error));
        } else if seen.is_some_and(|seen| seen != current) {
            greeting.push_str(&format!("event: reload\ndata: {current}\n\n"));
        }
        if send(&mut client, &greeting) {
            state.clients.push(client);
        }
    }

    pub fn broadcast(&self, event: LiveEvent) {
        let mut state = self.lock();
        let message = match event {
            LiveEvent::Reload { generation } => format!("event: reload\ndata: {generation}\n\n"),
            LiveEvent::Css { generation } => format!("event: css\ndata: {generation}\n\n"),
            LiveEvent::Error => match &state.error {
                Some(error) => error_event(error),
                None => return,
            },
        };
        // Pages that were closed fail to receive: forget them.
        state.clients.retain_mut(|client| send(client, &message));
    }

    /// A comment line that keeps idle connections open through proxies and reveals
    /// closed ones.
    pub fn ping(&self) {
        self.lock().clients.retain_mut(|client| send(client, ": ping\n\n"));
    }
}

/// An SSE event carrying a multi-line message: one `data:` line per line.
fn error_event(error: &str) -> String {
    let mut event = String::from("event: build-error\n");
    for line in error.lines() {
        event.push_str("data: ");
        event.push_str(line);
        event.push('\n');
    }
    event.push('\n');
    event
}

fn send(client: &mut Client, message: &str) -> bool {
    client.write_all(message.as_bytes()).and_then(|()| client.flush()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_line_errors_become_one_event() {
        assert_eq!(error_event("a.md:1:2: bad\nsecond"), "event: build-error\ndata: a.md:1:2: bad\ndata: second\n\n");
    }
}
