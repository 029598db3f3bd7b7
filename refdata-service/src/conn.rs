//! Per-connection timers hyper does not have: an idle keep-alive timeout distinct from the
//! header-read timeout; and size limits on a request head answered with a problem.
//!
//! hyper's own header-read timer starts whenever a connection waits for a request head, so it
//! bounds the idle time between requests and the time to send a head as one sum. [`Timed`]
//! watches the bytes instead: a connection is *idle* from its opening or its last write (the
//! previous response) until a byte arrives, then *reading a head* until the blank line that
//! ends it, then *in a request* until the server writes again. Idle and reading a head each
//! have their own limit; a request being rendered has none (the request timeout bounds it).
//!
//! hyper refuses a request target of 64 KiB or more (`414`), a head larger than its read
//! buffer or with more than 100 header fields (`431`) with an empty body. [`Timed`] counts the
//! head's bytes as they arrive and refuses such a request first, before hyper has seen all of
//! it: it answers a `414` or `431` `application/problem+json` itself, closes its sending side,
//! discards what the client still sends (so that closing does not reset the connection before
//! the client has read the answer) and then ends the connection. Heads within the limits go to
//! hyper untouched; targets between 8 KiB and [`MAX_REQUEST_LINE`] get the router's own `414`
//! problem.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Longest request line (method, target and version) read; a longer one is answered `414`.
/// Below hyper's own limit on the target (64 KiB), which answers without a body.
pub const MAX_REQUEST_LINE: usize = 16 * 1024;

/// Largest request head (request line and header fields) read; a larger one is answered `431`.
/// Below hyper's read buffer (about 400 KiB), which answers without a body.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Most header fields in one request; more are answered `431` (hyper's own limit, 100, answers
/// without a body).
pub const MAX_HEADER_FIELDS: usize = 100;

/// How hyper answers a request it refuses itself, before any service sees it: a status line,
/// `connection: close` and an empty body. The service never answers an error without a body.
const PARSER_REFUSALS: [(&[u8], Oversized); 3] = [
    (
        b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n",
        Oversized::Malformed,
    ),
    (
        b"HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n",
        Oversized::RequestLine,
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n",
        Oversized::Head,
    ),
];

/// Most bytes discarded after a refusal before the connection is closed anyway.
const MAX_DISCARD: usize = 1024 * 1024;

/// Why a request head is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oversized {
    /// The request line is longer than [`MAX_REQUEST_LINE`]: `414`.
    RequestLine,
    /// The head is larger than [`MAX_HEAD_BYTES`] or has more than [`MAX_HEADER_FIELDS`]
    /// fields: `431`.
    Head,
    /// hyper could not parse the request (method, target characters, version, header
    /// syntax): `400`.
    Malformed,
}

impl Oversized {
    /// The whole HTTP/1.1 answer: status line, headers and problem body.
    pub fn response(self) -> Vec<u8> {
        let (status, reason, slug, title, detail) = match self {
            Oversized::RequestLine => (
                414,
                "URI Too Long",
                "uri-too-long",
                "Request target too long",
                format!(
                    "the request line is longer than {MAX_REQUEST_LINE} bytes; at most {} \
                     bytes of path and query are read",
                    crate::app::problem::MAX_URI_BYTES
                ),
            ),
            Oversized::Head | Oversized::Malformed => (
                431,
                "Request Header Fields Too Large",
                "headers-too-large",
                "Request header fields too large",
                format!(
                    "the request head is larger than {MAX_HEAD_BYTES} bytes or has more than \
                     {MAX_HEADER_FIELDS} header fields"
                ),
            ),
        };
        let (status, reason, slug, title, detail) = match self {
            Oversized::Malformed => (
                400,
                "Bad Request",
                "malformed-request",
                "Malformed HTTP request",
                "the request is not valid HTTP/1.1: its method, target (unencoded spaces, \
                 quotes, angle brackets or control characters), version or a header line \
                 could not be parsed"
                    .to_owned(),
            ),
            _ => (status, reason, slug, title, detail),
        };
        let body = serde_json::json!({
            "type": format!("urn:refdata:problem:{slug}"),
            "title": title,
            "status": status,
            "detail": detail,
        })
        .to_string();
        format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: {}\r\nconnection: close\r\n\
             content-length: {}\r\n\r\n{body}",
            crate::app::problem::CONTENT_TYPE,
            body.len()
        )
        .into_bytes()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Waiting for the first byte of a request.
    Idle,
    /// Inside a request head; `newline` counts the line-ending bytes just seen (`\n` = 1,
    /// `\n\r` = 2), so a blank line is found across reads.
    Head { newline: u8 },
    /// The head went over a limit: the answer is being written (`written` bytes so far).
    Refusing { response: Vec<u8>, written: usize },
    /// The answer is sent: what the client still sends is read and thrown away.
    Discarding { left: usize },
    /// The head is complete; the server has not answered yet.
    Request,
    /// HTTP/2 (prior knowledge): frames, not heads; its own keep-alive pings apply.
    Off,
}

/// A connection closed with `TimedOut` when idle longer than `idle` or when a request head
/// takes longer than `head` from its first byte.
#[derive(Debug)]
pub struct Timed<IO> {
    io: IO,
    idle: Duration,
    head: Duration,
    phase: Phase,
    deadline: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
    first_read: bool,
    /// Bytes of the current head, of its current line, and its complete lines so far.
    head_bytes: usize,
    line_bytes: usize,
    lines: usize,
    /// Whether the current line's bytes so far end with `\r`.
    line_ends_cr: bool,
    /// hyper's own empty refusal being replaced by a problem: the answer and how much of it
    /// is written.
    replacing: Option<(Vec<u8>, usize)>,
    /// Whether the bytes read since the connection went idle begin like a request line
    /// (`METHOD `), so that the size limits apply; `None` until that is known. Bytes that do
    /// not are the rest of a body the server answered early; hyper deals with them.
    request_line: Option<bool>,
}

impl<IO> Timed<IO> {
    pub fn new(io: IO, idle: Duration, head: Duration) -> Self {
        Self {
            io,
            idle,
            head,
            phase: Phase::Idle,
            deadline: Some(Instant::now() + idle),
            timer: None,
            first_read: true,
            head_bytes: 0,
            line_bytes: 0,
            lines: 0,
            line_ends_cr: false,
            request_line: None,
            replacing: None,
        }
    }

    /// Follows the bytes of a request head; `Some` when it goes over a limit.
    fn received(&mut self, bytes: &[u8]) -> Option<Oversized> {
        if std::mem::take(&mut self.first_read) && bytes.starts_with(b"PRI * HTTP/2") {
            self.phase = Phase::Off;
            self.deadline = None;
            return None;
        }
        let mut newline = match self.phase {
            Phase::Idle => {
                self.deadline = Some(Instant::now() + self.head);
                self.head_bytes = 0;
                self.line_bytes = 0;
                self.lines = 0;
                self.line_ends_cr = false;
                self.request_line = None;
                0
            }
            Phase::Head { newline } => newline,
            _ => return None,
        };
        // Line by line rather than byte by byte: this runs for every request.
        let mut rest = bytes;
        loop {
            let end = rest.iter().position(|&b| b == b'\n');
            let segment = &rest[..end.unwrap_or(rest.len())];
            if !segment.is_empty() {
                if self.request_line.is_none() {
                    self.request_line = self.begins_like_a_request_line(segment);
                }
                newline = if newline == 1 && segment == b"\r" {
                    2
                } else {
                    0
                };
                self.line_bytes += segment.len();
                self.head_bytes += segment.len();
                self.line_ends_cr = segment.ends_with(b"\r");
            }
            let checked = self.request_line == Some(true);
            if checked && self.lines == 0 && self.line_bytes > MAX_REQUEST_LINE {
                return Some(Oversized::RequestLine);
            }
            let Some(end) = end else {
                break;
            };
            if matches!(newline, 1 | 2) {
                self.phase = Phase::Request;
                self.deadline = None;
                return None;
            }
            newline = 1;
            self.head_bytes += 1;
            // Empty lines before the request line are skipped, as hyper does.
            if self.line_bytes > usize::from(self.line_ends_cr) || self.lines > 0 {
                self.lines += 1;
            }
            self.line_bytes = 0;
            self.line_ends_cr = false;
            if checked && (self.head_bytes > MAX_HEAD_BYTES || self.lines > MAX_HEADER_FIELDS + 1) {
                return Some(Oversized::Head);
            }
            rest = &rest[end + 1..];
        }
        if self.request_line == Some(true) && self.head_bytes > MAX_HEAD_BYTES {
            return Some(Oversized::Head);
        }
        self.phase = Phase::Head { newline };
        None
    }

    /// Whether a line's first bytes (`segment`, from `line_bytes` on) are those of a request
    /// line, `METHOD SP`; `None` while only upper-case letters (or a leading `\r`) were seen.
    fn begins_like_a_request_line(&self, segment: &[u8]) -> Option<bool> {
        for (i, &byte) in segment.iter().enumerate() {
            let at = self.line_bytes + i;
            match byte {
                b'A'..=b'Z' => {}
                b'\r' if at == 0 => {}
                b' ' if at > 0 => return Some(true),
                _ => return Some(false),
            }
        }
        None
    }

    /// The server wrote `bytes`: its answer has begun, unless they are an interim
    /// `100 Continue`, after which the request's body follows.
    fn sent(&mut self, bytes: &[u8]) {
        if self.phase == Phase::Request && bytes.starts_with(b"HTTP/1.1 100 ") {
            return;
        }
        if matches!(
            self.phase,
            Phase::Head { .. } | Phase::Request | Phase::Idle
        ) {
            self.phase = Phase::Idle;
            self.deadline = Some(Instant::now() + self.idle);
        }
    }

    /// Polls the current deadline; `true` once it has passed. The timer is only moved
    /// earlier: one set for an earlier deadline fires, finds the deadline moved on and is set
    /// again, so a busy keep-alive connection re-arms it about once per idle period rather
    /// than once per request.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.deadline else {
            return false;
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() > deadline {
            timer.as_mut().reset(deadline);
        }
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            if timer.deadline() >= deadline {
                return true;
            }
            timer.as_mut().reset(deadline);
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Timed<IO> {
    /// Writes the refusal, closes the sending side, then discards what the client still sends
    /// until it closes, [`MAX_DISCARD`] bytes or the head timeout; then the connection ends with
    /// an error, so hyper writes nothing of its own.
    fn poll_refuse(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let refused = || io::Error::new(io::ErrorKind::InvalidData, "request head too large");
        loop {
            match &mut self.phase {
                Phase::Refusing { response, written } => {
                    if *written < response.len() {
                        match Pin::new(&mut self.io).poll_write(cx, &response[*written..]) {
                            Poll::Ready(Ok(0)) => return Poll::Ready(Err(refused())),
                            Poll::Ready(Ok(n)) => {
                                *written += n;
                                continue;
                            }
                            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                            Poll::Pending => {}
                        }
                    } else if Pin::new(&mut self.io).poll_shutdown(cx).is_ready() {
                        self.phase = Phase::Discarding { left: MAX_DISCARD };
                        continue;
                    }
                }
                Phase::Discarding { left } => {
                    let mut scratch = [0u8; 8192];
                    let mut discard = ReadBuf::new(&mut scratch);
                    match Pin::new(&mut self.io).poll_read(cx, &mut discard) {
                        Poll::Ready(Ok(())) => {
                            let n = discard.filled().len();
                            if n == 0 || n >= *left {
                                return Poll::Ready(Err(refused()));
                            }
                            *left -= n;
                            continue;
                        }
                        Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                        Poll::Pending => {}
                    }
                }
                _ => return Poll::Ready(Err(refused())),
            }
            // Waiting for the socket: bounded by the head timeout set at the refusal.
            if self.expired(cx) {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "refused request not closed by the client",
                )));
            }
            return Poll::Pending;
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncRead for Timed<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if matches!(
            this.phase,
            Phase::Refusing { .. } | Phase::Discarding { .. }
        ) {
            return this.poll_refuse(cx);
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    if let Some(oversized) = this.received(&buf.filled()[before..]) {
                        // hyper never sees the bytes that went over the limit.
                        buf.set_filled(before);
                        this.phase = Phase::Refusing {
                            response: oversized.response(),
                            written: 0,
                        };
                        this.deadline = Some(Instant::now() + this.head);
                        return this.poll_refuse(cx);
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                if this.expired(cx) {
                    let what = match this.phase {
                        Phase::Idle => "idle connection",
                        _ => "request head not complete",
                    };
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

impl<IO: AsyncWrite + Unpin> Timed<IO> {
    /// Writes the problem that replaces hyper's empty refusal starting with `first`, if it is
    /// one (or one is under way); `None` for any other answer. hyper is told its `len` bytes
    /// were written once the whole problem is.
    fn poll_replace(
        &mut self,
        cx: &mut Context<'_>,
        first: &[u8],
        len: usize,
    ) -> Option<Poll<io::Result<usize>>> {
        if self.replacing.is_none() {
            let (_, refusal) = PARSER_REFUSALS
                .iter()
                .find(|(head, _)| first.starts_with(head))?;
            self.replacing = Some((refusal.response(), 0));
        }
        let (response, written) = self.replacing.as_mut()?;
        while *written < response.len() {
            match Pin::new(&mut self.io).poll_write(cx, &response[*written..]) {
                Poll::Ready(Ok(0)) => {
                    return Some(Poll::Ready(Err(io::ErrorKind::WriteZero.into())))
                }
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(error)) => return Some(Poll::Ready(Err(error))),
                Poll::Pending => return Some(Poll::Pending),
            }
        }
        // Sent; anything hyper writes after its refusal (nothing: the body is empty) is dropped.
        self.sent(b"");
        Some(Poll::Ready(Ok(len)))
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Timed<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(replaced) = self.poll_replace(cx, buf, buf.len()) {
            return replaced;
        }
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.sent(buf);
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        let len = bufs.iter().map(|b| b.len()).sum();
        if let Some(replaced) = self.poll_replace(cx, first, len) {
            return replaced;
        }
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.sent(first);
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed() -> Timed<()> {
        Timed::new((), Duration::from_secs(60), Duration::from_secs(10))
    }

    #[tokio::test]
    async fn a_blank_line_ends_the_head_across_reads_and_line_endings() {
        let mut conn = timed();
        conn.received(b"GET / HTTP/1.1\r\nHost: x\r");
        assert!(matches!(conn.phase, Phase::Head { .. }));
        conn.received(b"\n\r");
        assert!(matches!(conn.phase, Phase::Head { .. }));
        conn.received(b"\n");
        assert_eq!(conn.phase, Phase::Request);
        assert_eq!(conn.deadline, None);
        conn.sent(b"HTTP/1.1 200 OK\r\n");
        assert_eq!(conn.phase, Phase::Idle);

        conn.received(b"GET / HTTP/1.1\nHost: x\n\n");
        assert_eq!(conn.phase, Phase::Request);
    }

    #[tokio::test]
    async fn heads_over_the_limits_are_found_as_they_arrive() {
        let mut conn = timed();
        assert_eq!(conn.received(b"GET /"), None);
        let target = vec![b'a'; MAX_REQUEST_LINE];
        assert_eq!(conn.received(&target), Some(Oversized::RequestLine));

        let mut conn = timed();
        let target = vec![b'a'; MAX_REQUEST_LINE - 20];
        assert_eq!(conn.received(b"GET /"), None);
        assert_eq!(conn.received(&target), None);
        assert_eq!(conn.received(b" HTTP/1.1\r\nHost: x\r\n\r\n"), None);
        assert_eq!(conn.phase, Phase::Request);

        let mut conn = timed();
        assert_eq!(conn.received(b"GET / HTTP/1.1\r\n"), None);
        let field = format!("x-big: {}\r\n", "b".repeat(1000));
        let mut refused = None;
        for _ in 0..(MAX_HEAD_BYTES / field.len() + 1) {
            refused = refused.or(conn.received(field.as_bytes()));
        }
        assert_eq!(refused, Some(Oversized::Head));

        let mut conn = timed();
        assert_eq!(conn.received(b"GET / HTTP/1.1\r\n"), None);
        for i in 0..MAX_HEADER_FIELDS {
            assert_eq!(conn.received(format!("x-{i}: 1\r\n").as_bytes()), None);
        }
        assert_eq!(conn.received(b"x-one-more: 1\r\n"), Some(Oversized::Head));

        // A keep-alive connection starts counting again with each request.
        let mut conn = timed();
        for _ in 0..10 {
            assert_eq!(conn.received(b"GET / HTTP/1.1\r\n"), None);
            for i in 0..MAX_HEADER_FIELDS {
                assert_eq!(conn.received(format!("x-{i}: 1\r\n").as_bytes()), None);
            }
            assert_eq!(conn.received(b"\r\n"), None);
            conn.sent(b"HTTP/1.1 200 OK\r\n");
        }
    }

    #[tokio::test]
    async fn bodies_are_not_heads() {
        // The body that follows a `100 Continue` belongs to the request.
        let mut conn = timed();
        assert_eq!(
            conn.received(
                b"POST /v1/admin/exchange-rates HTTP/1.1\r\nExpect: 100-continue\r\n\r\n"
            ),
            None
        );
        conn.sent(b"HTTP/1.1 100 Continue\r\n\r\n");
        assert_eq!(conn.phase, Phase::Request);
        assert_eq!(conn.received(&vec![b'x'; 4 * MAX_HEAD_BYTES]), None);

        // Bytes after an early answer that do not begin like a request line are left to hyper.
        for body in [
            &b"{\"reason\": \""[..],
            b"<?xml version",
            b"Date,USD,JPY",
            b"ab",
        ] {
            let mut conn = timed();
            assert_eq!(conn.received(b"POST / HTTP/1.1\r\n\r\n"), None);
            conn.sent(b"HTTP/1.1 413 Payload Too Large\r\n");
            assert_eq!(conn.received(body), None);
            assert_eq!(conn.received(&vec![b'x'; 2 * MAX_HEAD_BYTES]), None);
        }
        // ... while one that does is held to the limits, leading blank lines skipped.
        let mut conn = timed();
        assert_eq!(conn.received(b"\r\nGET /"), None);
        assert_eq!(
            conn.received(&vec![b'a'; MAX_REQUEST_LINE]),
            Some(Oversized::RequestLine)
        );
    }

    #[test]
    fn refusals_are_problem_documents() {
        for (oversized, status) in [
            (Oversized::RequestLine, "414"),
            (Oversized::Head, "431"),
            (Oversized::Malformed, "400"),
        ] {
            let response = String::from_utf8(oversized.response()).unwrap();
            let (head, body) = response.split_once("\r\n\r\n").unwrap();
            assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
            assert!(head.contains("content-type: application/problem+json"));
            assert!(head.contains(&format!("content-length: {}", body.len())));
            let problem: serde_json::Value = serde_json::from_str(body).unwrap();
            assert_eq!(problem["status"].to_string(), status);
        }
    }

    #[tokio::test]
    async fn http2_connections_are_left_alone() {
        let mut conn = timed();
        conn.received(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assert_eq!(conn.phase, Phase::Off);
        conn.sent(b"HTTP/1.1 200 OK\r\n");
        conn.received(b"\x00\x00\x00\x04");
        assert_eq!(conn.phase, Phase::Off);
        assert_eq!(conn.deadline, None);
    }
}
