//! What hyper sends for an answer: the response with its headers, and its body, either
//! known in full or a live-reload stream that `Live` feeds through an `EventSink`. A
//! page that leaves `EVENT_BACKLOG` messages unread is dropped, so no page can make the
//! server hold more. Decides nothing about which answer a request gets: that is `route`.

use std::convert::Infallible;
use std::io::{self, Write};
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::body::{Body, Bytes, Frame, SizeHint};
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Response, StatusCode};
use tokio::sync::mpsc;

use crate::serve::live::Live;

/// Live-reload messages waiting for a page that does not read them; past this the page
/// is dropped (its `EventSource` reconnects once it reads again).
const EVENT_BACKLOG: usize = 32;

/// A live-reload stream for a page that last saw build `seen` (when it said), while
/// build `current` is served; `live` sends it every event from now on.
pub(super) fn events(live: &Live, seen: Option<u64>, current: u64) -> Response<Reply> {
    let (sender, receiver) = mpsc::channel(EVENT_BACKLOG);
    // The greeting waits in the channel until hyper sends the headers.
    live.connect(Box::new(EventSink(sender)), seen, current);
    let mut response = Response::new(Reply::Events(receiver));
    set_headers(
        &mut response,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            // One stream per connection, as the page's EventSource expects.
            (header::CONNECTION, HeaderValue::from_static("close")),
        ],
    );
    response
}

/// A whole body, never cached, its type never sniffed; a redirect when `location` is set.
pub(super) fn full(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    location: Option<HeaderValue>,
) -> Response<Reply> {
    let mut response = Response::new(Reply::Full(Some(body)));
    *response.status_mut() = status;
    set_headers(
        &mut response,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
    );
    if let Some(location) = location {
        set_headers(&mut response, [(header::LOCATION, location)]);
    }
    response
}

fn set_headers<const N: usize>(response: &mut Response<Reply>, headers: [(HeaderName, HeaderValue); N]) {
    for (name, value) in headers {
        response.headers_mut().insert(name, value);
    }
}

/// An answer's body: known in full, or a live-reload stream that `Live` feeds.
pub(super) enum Reply {
    Full(Option<Bytes>),
    Events(mpsc::Receiver<Bytes>),
}

impl Body for Reply {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Reply::Full(bytes) => Poll::Ready(bytes.take().map(|bytes| Ok(Frame::data(bytes)))),
            // Ends when `Live` drops the page (it stopped reading) or the server stops.
            Reply::Events(receiver) => receiver.poll_recv(cx).map(|message| message.map(|m| Ok(Frame::data(m)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Reply::Full(None))
    }

    /// Exact for a full body, so it is sent with its length rather than in chunks.
    fn size_hint(&self) -> SizeHint {
        match self {
            Reply::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Reply::Events(_) => SizeHint::default(),
        }
    }
}

/// The write end of a live-reload stream, as `Live` keeps it: each message becomes one
/// chunk of the answer. Writing fails when the page went away or has `EVENT_BACKLOG`
/// messages unread, and `Live` then forgets it.
struct EventSink(mpsc::Sender<Bytes>);

impl Write for EventSink {
    fn write(&mut self, message: &[u8]) -> io::Result<usize> {
        match self.0.try_send(Bytes::copy_from_slice(message)) {
            Ok(()) => Ok(message.len()),
            Err(_) => Err(io::Error::new(io::ErrorKind::BrokenPipe, "the page stopped listening")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_that_does_not_read_its_events_is_dropped() {
        let (sender, mut receiver) = mpsc::channel(EVENT_BACKLOG);
        let mut sink = EventSink(sender);
        for _ in 0..EVENT_BACKLOG {
            sink.write_all(b": ping\n\n").unwrap();
        }
        assert!(sink.write_all(b": ping\n\n").is_err(), "a backlog past EVENT_BACKLOG was kept");
        assert_eq!(receiver.try_recv().ok(), Some(Bytes::from_static(b": ping\n\n")));
        drop(receiver);
        assert!(sink.write_all(b": ping\n\n").is_err(), "a closed stream accepted a message");
    }
}
