//! Per-connection timers hyper does not have: an idle keep-alive timeout distinct from the
//! header-read timeout.
//!
//! hyper's own header-read timer starts whenever a connection waits for a request head, so it
//! bounds the idle time between requests and the time to send a head as one sum. [`Timed`]
//! watches the bytes instead: a connection is *idle* from its opening or its last write (the
//! previous response) until a byte arrives, then *reading a head* until the blank line that
//! ends it, then *in a request* until the server writes again. Idle and reading a head each
//! have their own limit; a request being rendered has none (the request timeout bounds it).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the first byte of a request.
    Idle,
    /// Inside a request head; `newline` counts the line-ending bytes just seen (`\n` = 1,
    /// `\n\r` = 2), so a blank line is found across reads.
    Head { newline: u8 },
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
        }
    }

    fn received(&mut self, bytes: &[u8]) {
        if std::mem::take(&mut self.first_read) && bytes.starts_with(b"PRI * HTTP/2") {
            self.phase = Phase::Off;
            self.deadline = None;
            return;
        }
        let mut newline = match self.phase {
            Phase::Idle => {
                self.deadline = Some(Instant::now() + self.head);
                0
            }
            Phase::Head { newline } => newline,
            Phase::Request | Phase::Off => return,
        };
        for &byte in bytes {
            newline = match (byte, newline) {
                (b'\n', 1 | 2) => {
                    self.phase = Phase::Request;
                    self.deadline = None;
                    return;
                }
                (b'\n', _) => 1,
                (b'\r', 1) => 2,
                _ => 0,
            };
        }
        self.phase = Phase::Head { newline };
    }

    fn sent(&mut self) {
        if self.phase != Phase::Off {
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

impl<IO: AsyncRead + Unpin> AsyncRead for Timed<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.received(&buf.filled()[before..]);
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

impl<IO: AsyncWrite + Unpin> AsyncWrite for Timed<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.sent();
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.sent();
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
        conn.sent();
        assert_eq!(conn.phase, Phase::Idle);

        conn.received(b"GET / HTTP/1.1\nHost: x\n\n");
        assert_eq!(conn.phase, Phase::Request);
    }

    #[tokio::test]
    async fn http2_connections_are_left_alone() {
        let mut conn = timed();
        conn.received(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assert_eq!(conn.phase, Phase::Off);
        conn.sent();
        conn.received(b"\x00\x00\x00\x04");
        assert_eq!(conn.phase, Phase::Off);
        assert_eq!(conn.deadline, None);
    }
}
