//! `imrf-site serve`: builds the site into memory, serves it over HTTP on a loopback
//! address, watches the sources and rebuilds on every change, and tells open pages to
//! reload (or to swap their stylesheet) through Server-Sent Events. A failed rebuild
//! keeps the last good site online and shows the error in the terminal and, as an
//! overlay, in the browser. Never writes to disk: the output lives in memory only.
//!
//! Threads: the HTTP server's workers answer requests from the current `Snapshot`; the
//! watcher turns file events into batches; the main loop here rebuilds on each batch,
//! swaps the snapshot and broadcasts the event. Ctrl-C ends the main loop, which stops
//! the server.

mod http;
mod live;
mod watch;

use std::cell::Cell;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use crate::build::{BuildOptions, Rebuilder, SharedFile, WatchedSite};
use crate::diagnostic::Warning;
use crate::error::Error;

use http::Snapshot;
use live::{Live, LiveEvent};
use watch::{Batch, Message};

/// What `serve` needs from the command line.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub root: PathBuf,
    pub bind: IpAddr,
    /// 0 asks the system for a free port; the real one is printed.
    pub port: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot start the HTTP server on {addr}: {message}")]
    Server { addr: SocketAddr, message: String },
    #[error("{path}: cannot watch for changes: {source}", path = .path.display())]
    Watch { path: PathBuf, source: notify::Error },
    #[error("cannot install the Ctrl-C handler: {0}")]
    Signal(#[from] ctrlc::Error),
}

/// Serves the site at `options.root` until Ctrl-C.
pub fn serve(options: &ServeOptions) -> Result<(), ServeError> {
    // Listen first: a port in use is reported before a long first build, not after.
    let addr = SocketAddr::new(options.bind, options.port);
    let listener = TcpListener::bind(addr).map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener.local_addr().map_err(|source| ServeError::Bind { addr, source })?;
    let build_options = BuildOptions::new(&options.root);
    let mut rebuilder = Rebuilder::new(build_options);
    let live = Arc::new(Live::default());

    // Watch before the first build: a file saved while it runs is rebuilt after it.
    let (sender, receiver) = mpsc::channel();
    let stop = sender.clone();
    let pressed = AtomicBool::new(false);
    ctrlc::set_handler(move || {
        if pressed.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C while a long rebuild runs: stop at once, nothing is on disk.
            std::process::exit(130);
        }
        // The main loop may already be gone: nothing to do then.
        let _ = stop.send(Message::Stop);
    })?;
    let mut watcher = watch::Watcher::start(&options.root, sender)?;

    let started = Instant::now();
    let mut reported = Vec::new();
    // Changes since the last good build: after a failed build, fixing a stylesheet must
    // still reload pages whose text changed meanwhile (or that never built).
    let mut unpublished = Batch::default();
    let snapshot = match rebuilder.rebuild(&[], true) {
        Ok(site) => {
            report_success(&site, &rebuilder, started, &mut reported);
            Arc::new(Snapshot::of_files(site.files.iter(), site.files.len(), &site.site.base_url.path, 1))
        }
        Err(error) => {
            report_error(&error);
            live.set_error(Some(error.to_string()));
            unpublished.everything = true;
            Arc::new(Snapshot::empty())
        }
    };

    if !options.bind.is_loopback() {
        eprintln!(
            "warning: serving on {}, which other machines can reach; the preview is meant for this machine only",
            options.bind
        );
    }
    let server = http::Server::start(listener, local, snapshot, Arc::clone(&live))
        .map_err(|message| ServeError::Server { addr: local, message })?;
    println!("Serving {} at {}", options.root.display(), server.url());
    println!("Watching site/, themes/ and i18n/ for changes; press Ctrl-C to stop");

    while let Some(batch) = watch::next_batch(&receiver, &|| live.ping()) {
        if let Err(error) = watcher.follow_new_sources() {
            // The folders already watched still are: keep serving.
            eprintln!("warning: {error}");
        }
        unpublished.paths.extend(batch.paths.iter().cloned());
        unpublished.everything |= batch.everything;
        if rebuild(&mut rebuilder, &batch, &unpublished, &server, &live, &mut reported) {
            unpublished = Batch::default();
        }
    }
    drop(watcher);
    server.stop();
    println!("Stopped");
    Ok(())
}

/// Rebuilds after a batch of changes and publishes the result; true when it built.
/// Published in two phases: the pages first, with the reload event (the search index
/// and offline workers of the last build are served with them for the moment), then,
/// without an event, the whole site once its search index is made; its links and
/// glossaries are checked after that, for the report. When only pages changed, the
/// pages rendered again are published (with the event), then the search indexes they
/// changed, before the generated pages that list many pages are made (`EarlyPages`);
/// should the rest fail, the last good site is served again.
fn rebuild(
    rebuilder: &mut Rebuilder,
    batch: &Batch,
    unpublished: &Batch,
    server: &http::Server,
    live: &Live,
    reported: &mut Vec<Warning>,
) -> bool {
    let started = Instant::now();
    let last = server.snapshot();
    let generation = last.generation + 1;
    let announced = Cell::new(false);
    // Called with the pages, then with the search indexes they changed: each time, the
    // site served so far with these files in place.
    let mut early = |files: &[SharedFile]| {
        server.publish(Snapshot::with_pages(&server.snapshot(), files, generation));
        if !announced.replace(true) {
            live.set_error(None);
            live.broadcast(LiveEvent::Reload { generation });
        }
    };
    match rebuilder.render_pages(&batch.paths, batch.everything, &mut early) {
        Ok(pages) => {
            let base_path = pages.site.base_url.path.clone();
            let served = pages.files.iter().chain(rebuilder.last_finished_files());
            server.publish(Snapshot::of_files(served, last.len(), &base_path, generation));
            live.set_error(None);
            let only_css = !unpublished.everything && unpublished.paths.iter().all(|p| is_stylesheet(p));
            if !announced.get() {
                live.broadcast(if only_css { LiveEvent::Css { generation } } else { LiveEvent::Reload { generation } });
            }
            let complete = rebuilder.complete(pages);
            server.publish(Snapshot::of_files(complete.files.iter(), complete.files.len(), &base_path, generation));
            report_success(&complete.check(), rebuilder, started, reported);
            true
        }
        Err(error) => {
            if announced.get() {
                // The last good site again, published before.
                server.publish(last);
            }
            report_error(&error);
            eprintln!("Still serving the last good site; fix the file and save it again");
            live.set_error(Some(error.to_string()));
            live.broadcast(LiveEvent::Error);
            false
        }
    }
}

fn is_stylesheet(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "css")
}

/// Prints the build time and the warnings that are new since the last report, so that
/// a site with many known warnings does not flood the terminal on every save. A link
/// to a page that was just deleted or renamed is such a new warning.
fn report_success(site: &WatchedSite, rebuilder: &Rebuilder, started: Instant, reported: &mut Vec<Warning>) {
    let rendered_pages = rebuilder.rendered_pages();
    let pdfs = match (rebuilder.typeset_pdfs(), rebuilder.rendered_again()) {
        (0, _) => String::new(),
        (typeset, 0) => format!(", {typeset} PDFs typeset"),
        (typeset, again) => format!(", {typeset} PDFs typeset and {again} pages rendered again for their sizes"),
    };
    let mut warnings = site.warnings.clone();
    warnings.extend(site.link_problems.iter().map(|message| Warning { message: message.clone() }));
    warnings.sort();
    for warning in warnings.iter().filter(|w| reported.binary_search(w).is_err()) {
        eprintln!("{warning}");
    }
    let known = if warnings.is_empty() { String::new() } else { format!(", {} warnings", warnings.len()) };
    println!(
        "Built {} files ({rendered_pages} of {} pages rendered{pdfs}) in {} ms{known}",
        site.files.len(),
        site.site.pages.len(),
        started.elapsed().as_millis()
    );
    *reported = warnings;
}

fn report_error(error: &Error) {
    eprintln!("error: {error}");
}
